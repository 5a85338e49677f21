// EpollEventDispatcher (server/app) installed as the main thread's dispatcher, as the server does:
// timers (single-shot, repeating, zero, stopped and restarted from their handler, not re-entered
// by a nested event loop, remaining time), socket notifiers (a megabyte both ways through a TCP
// pair, 300 connections served at once, a peer's close), posted events and wake-ups from other
// threads, and QEventLoop::exit from another thread while the loop sleeps. Issue 15: one pass
// of due timers where an earlier handler restarts a later timer, reuses its id or fires it from a
// nested loop (each must wait for its own due time); exception notifiers woken by a hang-up; more
// ready descriptors than one wait takes (512); the dispatcher installed on a worker thread.
#include "server/app/epoll_dispatcher.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QSignalSpy>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <functional>
#include <memory>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using taskmaster::server::EpollEventDispatcher;

namespace {
// Receives timer events registered straight with the dispatcher under ids the test picks (as Qt
// does when it hands a stopped timer's id to a new one), counting them per id; onTimer runs first.
class TimerTarget final : public QObject {
public:
    ~TimerTarget() override { QAbstractEventDispatcher::instance()->unregisterTimers(this); } // also after a failure
    std::function<void(int)> onTimer;
    QHash<int, int> fired;

protected:
    void timerEvent(QTimerEvent *e) override
    {
        ++fired[e->timerId()];
        if (onTimer)
            onTimer(e->timerId());
    }
};

// Waits (polling, with a deadline) until the dispatcher reports the timer due.
bool waitDue(QAbstractEventDispatcher *d, int id)
{
    QElapsedTimer t;
    t.start();
    while (d->remainingTime(id) != 0) {
        if (t.elapsed() > 5000)
            return false;
        std::this_thread::yield();
    }
    return true;
}

// One eventfd, closed with the object.
struct EventFd {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    EventFd() = default;
    EventFd(const EventFd &) = delete;
    EventFd &operator=(const EventFd &) = delete;
    ~EventFd()
    {
        if (fd >= 0)
            ::close(fd);
    }
    void signal() const
    {
        const quint64 one = 1;
        [[maybe_unused]] const ssize_t n = ::write(fd, &one, sizeof one);
    }
    void drain() const
    {
        quint64 value = 0;
        [[maybe_unused]] const ssize_t n = ::read(fd, &value, sizeof value);
    }
};
} // namespace

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
    void timerRestartedByEarlierHandlerWaits_data();
    void timerRestartedByEarlierHandlerWaits();
    void timerFiredByNestedLoopNotFiredTwice();
    void exceptionNotifierWokenByHangUp();
    void moreReadyThanOneWait_data();
    void moreReadyThanOneWait();
    void onWorkerThread();

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
    // All 300 connect at once: with Qt's backlog of 50 a busy machine overflows the accept queue,
    // the kernel drops handshakes and, after its SYN-ACK retries, forgets connections the client
    // believes open (seen: 1 run in 4 under load). The server's own backlog is 4096 likewise.
    server.setListenBacklogSize(1024);
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

void TestEpollDispatcher::timerRestartedByEarlierHandlerWaits_data()
{
    QTest::addColumn<bool>("reuseId"); // killed and its id given to a new timer, or restarted
    QTest::newRow("id reused by a new timer") << true;
    QTest::newRow("restarted with a longer interval") << false;
}

// Timers A and B are due in the same pass; A's handler stops B and starts a 10 s timer under B's
// id. The pass collected B before A ran: B must not fire now, and must be due in about 10 s.
void TestEpollDispatcher::timerRestartedByEarlierHandlerWaits()
{
    QFETCH(bool, reuseId);
    auto *d = QAbstractEventDispatcher::instance();
    constexpr int kA = 900001;
    constexpr int kB = 900002;
    TimerTarget target;
    target.onTimer = [&](int id) {
        if (id != kA)
            return;
        d->unregisterTimer(kA);
        if (reuseId)
            QVERIFY(d->unregisterTimer(kB));
        d->registerTimer(kB, 10000, Qt::PreciseTimer, &target);
    };
    d->registerTimer(kA, 0, Qt::PreciseTimer, &target);
    d->registerTimer(kB, 0, Qt::PreciseTimer, &target); // same due time, queued after A
    QVERIFY(waitDue(d, kB));
    d->processEvents(QEventLoop::AllEvents); // one pass, no wait
    QCOMPARE(target.fired.value(kA), 1);
    QCOMPARE(target.fired.value(kB), 0);
    QVERIFY2(d->remainingTime(kB) > 5000, QByteArray::number(d->remainingTime(kB)));
    d->processEvents(QEventLoop::AllEvents);
    QCOMPARE(target.fired.value(kB), 0);
    QVERIFY(d->unregisterTimers(&target));
}

// A and B are due in one pass; A's handler runs a nested pass, which fires B. The outer pass must
// not fire B a second time: B is due again only an interval later.
void TestEpollDispatcher::timerFiredByNestedLoopNotFiredTwice()
{
    auto *d = QAbstractEventDispatcher::instance();
    constexpr int kA = 900011;
    constexpr int kB = 900012;
    TimerTarget target;
    int nestedPasses = 0;
    target.onTimer = [&](int id) {
        if (id == kA && nestedPasses++ == 0)
            d->processEvents(QEventLoop::AllEvents); // A is running: only B fires here
    };
    d->registerTimer(kA, 0, Qt::PreciseTimer, &target);
    d->registerTimer(kB, 1, Qt::PreciseTimer, &target);
    QVERIFY(waitDue(d, kB));
    d->processEvents(QEventLoop::AllEvents);
    QCOMPARE(nestedPasses, 1);
    QCOMPARE(target.fired.value(kA), 1);
    QCOMPARE(target.fired.value(kB), 1);
    QVERIFY(d->unregisterTimers(&target));
}

// poll() reports a hang-up to exception notifiers too; so must epoll, whose registration for an
// exception notifier alone (EPOLLPRI) still gets EPOLLHUP.
void TestEpollDispatcher::exceptionNotifierWokenByHangUp()
{
    int fds[2];
    QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), 0);
    QSocketNotifier exception(fds[0], QSocketNotifier::Exception);
    int woken = 0;
    connect(&exception, &QSocketNotifier::activated, this, [&] { ++woken; });
    auto *d = QAbstractEventDispatcher::instance();
    d->processEvents(QEventLoop::AllEvents);
    QCOMPARE(woken, 0); // nothing happened yet
    ::close(fds[1]);
    d->processEvents(QEventLoop::AllEvents); // the hang-up is ready: no wait needed
    QVERIFY(woken >= 1);
    exception.setEnabled(false);
    ::close(fds[0]);
}

void TestEpollDispatcher::moreReadyThanOneWait_data()
{
    QTest::addColumn<bool>("drain"); // the handler reads its descriptor, or leaves it ready
    QTest::newRow("handlers drain") << true;
    QTest::newRow("all stay ready") << false;
}

// 1,200 ready descriptors, more than twice what one epoll_wait takes (512): after three passes
// every notifier has been activated, also when all stay ready (none starves behind the others).
void TestEpollDispatcher::moreReadyThanOneWait()
{
    QFETCH(bool, drain);
    constexpr int kFds = 1200;
    std::vector<std::unique_ptr<EventFd>> fds;
    std::vector<std::unique_ptr<QSocketNotifier>> notifiers;
    std::vector<int> activations(kFds, 0);
    for (int i = 0; i < kFds; ++i) {
        fds.push_back(std::make_unique<EventFd>());
        QVERIFY(fds.back()->fd >= 0);
        notifiers.push_back(std::make_unique<QSocketNotifier>(fds.back()->fd, QSocketNotifier::Read));
        const EventFd *fd = fds.back().get();
        connect(notifiers.back().get(), &QSocketNotifier::activated, this, [&activations, i, fd, drain] {
            ++activations[size_t(i)];
            if (drain)
                fd->drain();
        });
        fd->signal();
    }
    auto *d = QAbstractEventDispatcher::instance();
    for (int pass = 0; pass < 3; ++pass)
        d->processEvents(QEventLoop::AllEvents);
    for (int i = 0; i < kFds; ++i) {
        QVERIFY2(activations[size_t(i)] >= 1, QByteArray::number(i));
        if (drain)
            QCOMPARE(activations[size_t(i)], 1);
    }
    notifiers.clear();
}

// The dispatcher as a worker thread's (QThread::setEventDispatcher before start()): queued calls,
// a timer, a socket notifier signalled from the main thread and quit() all run on that thread.
void TestEpollDispatcher::onWorkerThread()
{
    QThread worker;
    auto *dispatcher = new EpollEventDispatcher; // the thread owns it
    QVERIFY(dispatcher->isValid());
    worker.setEventDispatcher(dispatcher);
    worker.start();
    QObject context;
    context.moveToThread(&worker);
    EventFd fd;
    QVERIFY(fd.fd >= 0);
    std::atomic<bool> ranOnWorker {false};
    std::atomic<int> timerFired {0};
    std::atomic<int> notified {0};
    std::unique_ptr<QTimer> timer;
    std::unique_ptr<QSocketNotifier> notifier;
    QMetaObject::invokeMethod(
        &context,
        [&] {
            ranOnWorker = QThread::currentThread() == &worker && QAbstractEventDispatcher::instance() == dispatcher;
            timer = std::make_unique<QTimer>();
            timer->setInterval(5);
            QObject::connect(timer.get(), &QTimer::timeout, timer.get(), [&] { ++timerFired; });
            timer->start();
            notifier = std::make_unique<QSocketNotifier>(fd.fd, QSocketNotifier::Read);
            QObject::connect(notifier.get(), &QSocketNotifier::activated, notifier.get(), [&] {
                fd.drain();
                ++notified;
            });
        },
        Qt::BlockingQueuedConnection);
    QVERIFY(ranOnWorker);
    QVERIFY(QTest::qWaitFor([&] { return timerFired >= 3; }, 5000));
    fd.signal();
    QVERIFY(QTest::qWaitFor([&] { return notified >= 1; }, 5000));
    QMetaObject::invokeMethod(
        &context,
        [&] {
            timer.reset();
            notifier.reset();
        },
        Qt::BlockingQueuedConnection);
    QElapsedTimer t;
    t.start();
    worker.quit(); // wakes the sleeping epoll_wait
    QVERIFY(worker.wait(5000));
    QVERIFY2(t.elapsed() < 2000, QByteArray::number(t.elapsed()));
    QCOMPARE(notified.load(), 1);
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
