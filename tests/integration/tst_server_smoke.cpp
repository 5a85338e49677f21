// The real taskmaster-server binary starts, answers GET /health, refuses bad options with a
// message naming the option, exits cleanly on SIGTERM, and completes a storm of connections
// while it is busy (its listen backlog).
#include "tests/support/server_process.h"

#include <QDeadlineTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>

#include <csignal>
#include <memory>
#include <vector>

using taskmaster::test::ServerProcess;

class TestServerSmoke final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void health();
    void badOptions_data();
    void badOptions();
    void help();
    void version();
    void connectStormWhileBusy_data();
    void connectStormWhileBusy();

private:
    static QNetworkReply *getAndWait(QNetworkAccessManager &nam, const QUrl &url);
};

QNetworkReply *TestServerSmoke::getAndWait(QNetworkAccessManager &nam, const QUrl &url)
{
    QNetworkReply *reply = nam.get(QNetworkRequest(url));
    QSignalSpy finished(reply, &QNetworkReply::finished);
    if (!reply->isFinished())
        finished.wait(10000);
    return reply;
}

void TestServerSmoke::health()
{
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorText()));
    QVERIFY(server.port() != 0);

    QNetworkAccessManager nam;
    std::unique_ptr<QNetworkReply> reply(getAndWait(nam, server.url(QStringLiteral("/health"))));
    QVERIFY(reply->isFinished());
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    const QJsonObject body = QJsonDocument::fromJson(reply->readAll()).object();
    QCOMPARE(body.value(QLatin1String("status")).toString(), QStringLiteral("ok"));

    QCOMPARE(server.stop(), 0);
}

void TestServerSmoke::badOptions_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("bad listen") << QStringList {QStringLiteral("--listen"), QStringLiteral("nowhere")} << "listen";
    QTest::newRow("bad redis") << QStringList {QStringLiteral("--redis-url"), QStringLiteral("tcp://x")} << "redis-url";
    QTest::newRow("unknown") << QStringList {QStringLiteral("--no-such-option")} << "no-such-option";
}

void TestServerSmoke::badOptions()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    QProcess p;
    p.start(ServerProcess::binary(), args);
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 2);
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(err.contains(mentions), qPrintable(err));
}

void TestServerSmoke::help()
{
    QProcess p;
    p.start(ServerProcess::binary(), {QStringLiteral("--help")});
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 0);
    const QString out = QString::fromUtf8(p.readAllStandardOutput());
    QVERIFY2(out.contains(QLatin1String("--database-url")) && out.contains(QLatin1String("TM_REDIS_URL")),
             qPrintable(out));
}

// The binary prints project(VERSION) of the top CMakeLists.txt (given to this test by CMake).
void TestServerSmoke::version()
{
    QProcess p;
    p.start(ServerProcess::binary(), {QStringLiteral("--version")});
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 0);
    QCOMPARE(p.readAllStandardOutput(), QByteArray("taskmaster-server " TM_PROJECT_VERSION "\n"));
}

// A server that is alive but busy (here: stopped with SIGSTOP, so it accepts nothing) still has
// the kernel complete TCP handshakes up to its listen backlog; a balancer's connect then succeeds
// and waits for the server instead of timing out and taking the instance out of its pool. Past
// the backlog the kernel drops the SYNs, and connects wait for retransmissions (1 s, 3 s, ...).
// 300 connections at once: with the default backlog every one completes; with 16 most wait.
void TestServerSmoke::connectStormWhileBusy_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<bool>("allComplete");
    QTest::newRow("default backlog") << QStringList {} << true;
    QTest::newRow("backlog 16") << QStringList {QStringLiteral("--listen-backlog"), QStringLiteral("16")} << false;
}

void TestServerSmoke::connectStormWhileBusy()
{
    QFETCH(QStringList, args);
    QFETCH(bool, allComplete);
    constexpr int kClients = 300;
    ServerProcess server;
    QVERIFY2(server.start(args), qPrintable(server.errorText()));
    const auto pid = pid_t(server.process().processId());
    QCOMPARE(::kill(pid, SIGSTOP), 0);
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    int connected = 0;
    for (int i = 0; i < kClients; ++i) {
        auto socket = std::make_unique<QTcpSocket>();
        connect(socket.get(), &QTcpSocket::connected, this, [&connected] { ++connected; });
        socket->connectToHost(QHostAddress(QHostAddress::LocalHost), server.port());
        sockets.push_back(std::move(socket));
    }
    // Poll until every connect completed, or for 2.5 s: long enough for the first SYN
    // retransmission, which a full backlog drops again.
    const QDeadlineTimer deadline(2500);
    while (connected < kClients && !deadline.hasExpired())
        QTest::qWait(20);
    const int completed = connected;
    QCOMPARE(::kill(pid, SIGCONT), 0);
    if (allComplete)
        QCOMPARE(completed, kClients);
    else
        QVERIFY2(completed < kClients / 2, qPrintable(QString::number(completed)));
    sockets.clear();
    // Woken up, the server still serves and stops cleanly.
    QNetworkAccessManager nam;
    std::unique_ptr<QNetworkReply> reply(getAndWait(nam, server.url(QStringLiteral("/health"))));
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QCOMPARE(server.stop(), 0);
}

QTEST_GUILESS_MAIN(TestServerSmoke)
#include "tst_server_smoke.moc"
