// The server under a Type=notify unit, without systemd: the test plays the service manager. It
// binds a unix datagram socket, gives the real server its path in NOTIFY_SOCKET (and
// WATCHDOG_USEC, as systemd does for a unit with WatchdogSec) and reads what the server sends:
// READY=1 once it serves, WATCHDOG=1 pings from its event loop, STOPPING=1 when SIGTERM starts the
// drain (server/app/systemd_notify.h, packaging/systemd/).
#include "tests/support/notify_socket.h"
#include "tests/support/server_process.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace taskmaster::test;

class TestSystemdNotify final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void readyWatchdogStopping();
    void noWatchdogWithoutWatchdogSec();
};

void TestSystemdNotify::readyWatchdogStopping()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("notify"));
    NotifySocket manager(path);
    QVERIFY(manager.bound());

    constexpr qint64 watchdogUsec = 1000000; // WatchdogSec=1s: a ping every 500 ms
    ServerProcess server;
    QVERIFY2(server.start(
                 {}, {QStringLiteral("NOTIFY_SOCKET=") + path, QStringLiteral("WATCHDOG_USEC=%1").arg(watchdogUsec)}),
             qPrintable(server.errorText()));

    // READY=1 first (no ping before it), with a STATUS line naming the port.
    const QByteArray ready = manager.next(QDeadlineTimer(10000));
    QVERIFY2(ready.split('\n').contains("READY=1"), ready.constData());
    QVERIFY2(ready.contains(QByteArray(QByteArray("STATUS=serving on 127.0.0.1:") + QByteArray::number(server.port()))),
             ready.constData());

    // Ready means serving: the first request answers, no retry.
    QNetworkAccessManager nam;
    std::unique_ptr<QNetworkReply> reply(nam.get(QNetworkRequest(server.url(QStringLiteral("/health")))));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    QVERIFY(finished.wait(10000));
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);

    // Pings at half the watchdog time, each well within it (systemd kills the service when one
    // is later than WATCHDOG_USEC).
    QElapsedTimer since;
    since.start();
    int pings = 0;
    const QDeadlineTimer pingDeadline(5000);
    while (pings < 3 && !pingDeadline.hasExpired()) {
        const QByteArray d = manager.next(pingDeadline);
        if (d.isEmpty())
            break;
        QCOMPARE(d, QByteArray("WATCHDOG=1"));
        const qint64 gap = since.restart();
        QVERIFY2(gap < watchdogUsec / 1000, qPrintable(QStringLiteral("ping %1 ms after the last").arg(gap)));
        ++pings;
    }
    QCOMPARE(pings, 3);

    // SIGTERM: STOPPING=1 when the drain starts (pings may come before it, none replaces it).
    QCOMPARE(server.stop(), 0);
    QByteArray stopping;
    for (QByteArray d = manager.next(QDeadlineTimer(0)); !d.isEmpty(); d = manager.next(QDeadlineTimer(0))) {
        if (d != "WATCHDOG=1")
            stopping = d;
    }
    QVERIFY2(stopping.split('\n').contains("STOPPING=1"), stopping.constData());
    QVERIFY2(stopping.contains("STATUS=draining"), stopping.constData());
}

// A unit without WatchdogSec (no WATCHDOG_USEC): READY=1 and STOPPING=1, never a ping.
void TestSystemdNotify::noWatchdogWithoutWatchdogSec()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("notify"));
    NotifySocket manager(path);
    QVERIFY(manager.bound());

    ServerProcess server;
    QVERIFY2(server.start({}, {QStringLiteral("NOTIFY_SOCKET=") + path}), qPrintable(server.errorText()));
    const QByteArray ready = manager.next(QDeadlineTimer(10000));
    QVERIFY2(ready.split('\n').contains("READY=1"), ready.constData());
    // Nothing more while it runs (a ping would come within a second with any watchdog).
    const QByteArray stray = manager.next(QDeadlineTimer(1200));
    QVERIFY2(stray.isEmpty(), stray.constData());
    QCOMPARE(server.stop(), 0);
    QList<QByteArray> after;
    for (QByteArray d = manager.next(QDeadlineTimer(0)); !d.isEmpty(); d = manager.next(QDeadlineTimer(0)))
        after << d;
    QCOMPARE(after.size(), 1);
    QVERIFY2(after.constFirst().startsWith("STOPPING=1\n"), after.constFirst().constData());
}

QTEST_GUILESS_MAIN(TestSystemdNotify)
#include "tst_systemd_notify.moc"
