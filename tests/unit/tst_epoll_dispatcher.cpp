// EpollEventDispatcher (server/app) installed as the main thread's dispatcher, as the server does:
// timers (single-shot, repeating, zero, stopped and restarted from their handler, not re-entered
// by a nested event loop, remaining time), socket notifiers (a megabyte both ways through a TCP
// pair, 300 connections served at once, a peer's close), posted events and wake-ups from other
// threads, and QEventLoop::exit from another thread while the loop sleeps.
#include "server/app/epoll_dispatcher.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <memory>
#include <thread>
#include <vector>

using taskmaster::server::EpollEventDispatcher;

class TestEpollDispatcher final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void installed();
    void singleShotAndRepeating();
    void zeroTimerRunsEveryIteration();
    void timerStoppedAndRestartedInHandler();
    void nestedLoopDoesNotReenterTimer();
    void remainingAndRegistered();
    void megabyteBothWays();
    void manyConnections();
    void peerCloseWakesReader();
    void postedFromAnotherThread();
    void exitFromAnotherThread();

protected:
    void timerEvent(QTimerEvent *e) override
    {
        ++m_timerEvents;
        if (m_killOnFirst)
            killTimer(e->timerId());
    }

private:
    int m_timerEvents = 0;
    bool m_killOnFirst = false;
};

void TestEpollDispatcher::installed()
{
    QVERIFY(qobject_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance()));
}

void TestEpollDispatcher::singleShotAndRepeating()
{
    QTimer once;
    once.setSingleShot(true);
    once.setInterval(30);
    QSignalSpy onceSpy(&once, &QTimer::timeout);
    QTimer repeat;
    repeat.setInterval(10);
    QSignalSpy repeatSpy(&repeat, &QTimer::timeout);
    QElapsedTimer t;
    t.start();
    once.start();
    repeat.start();
    QVERIFY(onceSpy.wait(2000));
    QVERIFY(t.elapsed() >= 29);
    QTRY_VERIFY_WITH_TIMEOUT(repeatSpy.count() >= 10, 5000);
    repeat.stop();
    const qsizetype after = repeatSpy.count();
    QTest::qWait(50); // nothing may arrive: the timer is stopped
    QCOMPARE(repeatSpy.count(), after);
    QCOMPARE(onceSpy.count(), 1);
}

void TestEpollDispatcher::zeroTimerRunsEveryIteration()
{
    int n = 0;
    QTimer zero;
    zero.setInterval(0);
    connect(&zero, &QTimer::timeout, this, [&n] { ++n; });
    zero.start();
    QTRY_VERIFY_WITH_TIMEOUT(n >= 100, 5000);
    zero.stop();
}

void TestEpollDispatcher::timerStoppedAndRestartedInHandler()
{
    m_timerEvents = 0;
    m_killOnFirst = true;
    startTimer(5);
    QTRY_COMPARE_WITH_TIMEOUT(m_timerEvents, 1, 2000);
    QTest::qWait(40);
    QCOMPARE(m_timerEvents, 1); // killed in its own handler
    m_killOnFirst = false;
    // Restarted with another interval from its handler.
    QTimer t;
    int fired = 0;
    t.setInterval(5);
    connect(&t, &QTimer::timeout, this, [&] {
        if (++fired == 1)
            t.start(15);
    });
    t.start();
    QTRY_VERIFY_WITH_TIMEOUT(fired >= 3, 3000);
    QCOMPARE(t.interval(), 15);
}

void TestEpollDispatcher::nestedLoopDoesNotReenterTimer()
{
    QTimer outer;
    outer.setInterval(5);
    int depth = 0;
    int maxDepth = 0;
    int calls = 0;
    connect(&outer, &QTimer::timeout, this, [&] {
        ++calls;
        ++depth;
        maxDepth = std::max(maxDepth, depth);
        if (calls == 1) {
            QEventLoop nested;
            QTimer::singleShot(60, &nested, &QEventLoop::quit); // longer than the outer interval
            nested.exec();
        }
        --depth;
    });
    outer.start();
    QTRY_VERIFY_WITH_TIMEOUT(calls >= 3, 3000);
    outer.stop();
    QCOMPARE(maxDepth, 1);
}

void TestEpollDispatcher::remainingAndRegistered()
{
    QTimer t;
    t.setInterval(500);
    t.start();
    const int left = t.remainingTime();
    QVERIFY2(left > 100 && left <= 500, QByteArray::number(left)); // a loaded machine may take a while here
    auto *d = QAbstractEventDispatcher::instance();
    const auto timers = d->registeredTimers(&t);
    QCOMPARE(timers.size(), 1);
    QCOMPARE(timers.constFirst().interval, 500);
    t.stop();
    QVERIFY(d->registeredTimers(&t).isEmpty());
    QCOMPARE(t.remainingTime(), -1);
}

void TestEpollDispatcher::megabyteBothWays()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost));
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QVERIFY(server.waitForNewConnection(5000) || QTest::qWaitFor([&] { return server.hasPendingConnections(); }, 5000));
    std::unique_ptr<QTcpSocket> peer(server.nextPendingConnection());
    QVERIFY(peer);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), QAbstractSocket::ConnectedState, 5000);
    QByteArray payload(1 << 20, Qt::Uninitialized);
    for (qsizetype i = 0; i < payload.size(); ++i)
        payload[i] = char(i * 31 + 7);
    QByteArray atPeer, atClient;
    connect(peer.get(), &QTcpSocket::readyRead, this, [&] {
        const QByteArray chunk = peer->readAll();
        atPeer += chunk;
        peer->write(chunk); // echo
    });
    connect(&client, &QTcpSocket::readyRead, this, [&] { atClient += client.readAll(); });
    client.write(payload);
    QTRY_COMPARE_WITH_TIMEOUT(atClient.size(), payload.size(), 20000);
    QCOMPARE(atPeer, payload);
    QCOMPARE(atClient, payload);
}

void TestEpollDispatcher::manyConnections()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost));
    std::vector<std::unique_ptr<QTcpSocket>> peers;
    connect(&server, &QTcpServer::newConnection, this, [&] {
        while (QTcpSocket *s = server.nextPendingConnection()) {
            peers.emplace_back(s);
            connect(s, &QTcpSocket::readyRead, s, [s] { s->write(s->readAll()); });
        }
    });
    constexpr int kClients = 300;
    std::vector<std::unique_ptr<QTcpSocket>> clients;
    int answered = 0;
    for (int i = 0; i < kClients; ++i) {
        auto c = std::make_unique<QTcpSocket>();
        QTcpSocket *raw = c.get();
        const QByteArray line = "hello " + QByteArray::number(i) + '\n';
        connect(raw, &QTcpSocket::connected, raw, [raw, line] { raw->write(line); });
        connect(raw, &QTcpSocket::readyRead, this, [raw, line, &answered] {
            if (raw->canReadLine() && raw->readLine() == line)
                ++answered;
        });
        raw->connectToHost(QHostAddress::LocalHost, server.serverPort());
        clients.push_back(std::move(c));
    }
    QTRY_COMPARE_WITH_TIMEOUT(answered, kClients, 20000);
}

void TestEpollDispatcher::peerCloseWakesReader()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost));
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QTRY_VERIFY_WITH_TIMEOUT(server.hasPendingConnections(), 5000);
    std::unique_ptr<QTcpSocket> peer(server.nextPendingConnection());
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), QAbstractSocket::ConnectedState, 5000);
    QSignalSpy gone(&client, &QTcpSocket::disconnected);
    peer->write("last words");
    peer->close();
    QVERIFY(gone.wait(5000));
    QCOMPARE(client.readAll(), QByteArray("last words"));
}

void TestEpollDispatcher::postedFromAnotherThread()
{
    QObject target;
    std::atomic<int> done {0};
    int ran = 0;
    QElapsedTimer t;
    t.start();
    std::thread poster([&] {
        for (int i = 0; i < 1000; ++i)
            QMetaObject::invokeMethod(
                &target, [&ran] { ++ran; }, Qt::QueuedConnection);
        done = 1;
    });
    QTRY_COMPARE_WITH_TIMEOUT(ran, 1000, 5000);
    poster.join();
    QVERIFY(done);
    // A single post while the loop sleeps with no timer wakes it at once.
    bool woke = false;
    std::thread late([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50)); // the loop is asleep by then
        QMetaObject::invokeMethod(
            &target, [&woke] { woke = true; }, Qt::QueuedConnection);
    });
    QElapsedTimer w;
    w.start();
    QTRY_VERIFY_WITH_TIMEOUT(woke, 5000);
    late.join();
    QVERIFY2(w.elapsed() < 1000, QByteArray::number(w.elapsed()));
}

void TestEpollDispatcher::exitFromAnotherThread()
{
    QEventLoop loop;
    std::thread quitter([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        loop.exit(7); // thread-safe: interrupt() + wakeUp()
    });
    QElapsedTimer t;
    t.start();
    const int code = loop.exec();
    quitter.join();
    QCOMPARE(code, 7);
    QVERIFY(t.elapsed() < 2000);
}

int main(int argc, char *argv[])
{
    if (QByteArray(taskmaster::server::installMainEventDispatcher()) != "epoll")
        return 2;
    QCoreApplication app(argc, argv);
    TestEpollDispatcher test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_epoll_dispatcher.moc"
