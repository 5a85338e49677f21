// DbPool on both back ends (SQLite file, real PostgreSQL): jobs run on worker threads with their
// own connections, the pool grows to its maximum under load and shrinks back when idle, queued
// jobs finish before destruction, the statement timeout holds, an unreachable database is
// reported to the job rather than crashing, futures finish on the pool's thread (continuations
// run once), and the pool's circuit breaker: cut off from PostgreSQL (through a TcpProxy) it
// opens after its threshold, answers at once while open without running the job, lets one probe
// through after its open time and closes when the database is back.
#include "server/storage/db_pool.h"
#include "server/storage/sql.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/test_env.h"

#include <QDeadlineTimer>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <vector>

using taskmaster::test::backendRows;
using namespace taskmaster::server;
using namespace std::chrono_literals;

class TestDbPool final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void runsOnWorkers_data() { backendRows(); }
    void runsOnWorkers();
    void growsAndShrinks_data() { backendRows(); }
    void growsAndShrinks();
    void destructorDrainsQueue_data() { backendRows(); }
    void destructorDrainsQueue();
    void futuresFinishOnPoolThread_data() { backendRows(); }
    void futuresFinishOnPoolThread();
    void statementTimeout();
    void unreachable_data();
    void unreachable();
    void breakerFailsFastAndRecovers();
    void preparedStatementsAfterReconnect();
    void staleWorkersDoNotFailTheProbe();

private:
    DbPoolOptions options(const QString &backend) const;

    QTemporaryDir m_dir;
    QString m_pgUrl;
};

void TestDbPool::initTestCase()
{
    TM_REQUIRE_SERVICE(url, "TM_TEST_DATABASE_URL");
    m_pgUrl = url;
}

DbPoolOptions TestDbPool::options(const QString &backend) const
{
    DbPoolOptions o;
    if (backend == QLatin1String("sqlite")) {
        o.backend = DbPoolOptions::Backend::Sqlite;
        o.sqlitePath = m_dir.filePath(QStringLiteral("pool.sqlite"));
    } else {
        o.backend = DbPoolOptions::Backend::Postgres;
        o.postgres = *parseDatabaseUrl(m_pgUrl);
    }
    return o;
}

void TestDbPool::runsOnWorkers()
{
    QFETCH(QString, backend);
    DbPool pool(options(backend));
    auto created = pool.run([](QSqlDatabase &db) {
        QSqlQuery q(db);
        return q.exec(QStringLiteral("DROP TABLE IF EXISTS pool_probe"))
            && q.exec(QStringLiteral("CREATE TABLE pool_probe (n integer NOT NULL)"));
    });
    QVERIFY(created.result());

    QThread *const caller = QThread::currentThread();
    QList<QFuture<bool>> inserts;
    for (int i = 1; i <= 200; ++i) {
        inserts << pool.run([i, caller](QSqlDatabase &db) {
            if (QThread::currentThread() == caller || !db.isOpen())
                return false;
            QSqlQuery q(db);
            q.prepare(QStringLiteral("INSERT INTO pool_probe (n) VALUES (?)"));
            q.addBindValue(i);
            return q.exec();
        });
    }
    for (auto &f : inserts)
        QVERIFY(f.result());
    auto sum = pool.run([](QSqlDatabase &db) {
        QSqlQuery q(db);
        q.exec(QStringLiteral("SELECT count(*), sum(n) FROM pool_probe"));
        q.next();
        return std::pair(q.value(0).toLongLong(), q.value(1).toLongLong());
    });
    QCOMPARE(sum.result(), std::pair(qint64(200), qint64(200 * 201 / 2)));
    QTRY_COMPARE_WITH_TIMEOUT(pool.stats().completed, qint64(202), 5000); // counted just after the future resolves
}

void TestDbPool::growsAndShrinks()
{
    QFETCH(QString, backend);
    DbPoolOptions o = options(backend);
    o.minThreads = 1;
    o.maxThreads = 4;
    o.idleTimeout = 200ms;
    DbPool pool(o);
    QCOMPARE(pool.stats().threads, 1);

    // Four jobs that each wait until all four run at once: only a pool of four can finish them.
    std::mutex m;
    std::condition_variable cv;
    int arrived = 0;
    QList<QFuture<bool>> jobs;
    for (int i = 0; i < 4; ++i) {
        jobs << pool.run([&](QSqlDatabase &db) {
            std::unique_lock lock(m);
            ++arrived;
            cv.notify_all();
            return cv.wait_for(lock, 10s, [&] { return arrived == 4; }) && db.isOpen();
        });
    }
    for (auto &f : jobs)
        QVERIFY2(f.result(), "the four jobs did not run concurrently");
    QTRY_COMPARE_WITH_TIMEOUT(pool.stats().completed, qint64(4), 5000);
    QVERIFY(pool.stats().threads <= 4);
    // Idle workers above the minimum leave.
    QTRY_COMPARE_WITH_TIMEOUT(pool.stats().threads, 1, 10000);
    // And the pool still works afterwards.
    QVERIFY(pool.run([](QSqlDatabase &db) { return QSqlQuery(db).exec(QStringLiteral("SELECT 1")); }).result());
}

void TestDbPool::destructorDrainsQueue()
{
    QFETCH(QString, backend);
    std::atomic<int> done = 0;
    QList<QFuture<void>> futures;
    {
        DbPoolOptions o = options(backend);
        o.minThreads = 1;
        o.maxThreads = 1;
        DbPool pool(o);
        for (int i = 0; i < 50; ++i)
            futures << pool.run([&done](QSqlDatabase &) { ++done; });
    }
    QCOMPARE(done.load(), 50);
    for (auto &f : futures)
        QVERIFY(f.isFinished());
}

void TestDbPool::futuresFinishOnPoolThread()
{
    // Qt 6.4 runs a continuation twice when its future finishes on another thread while then()
    // attaches it; the second run dereferences a moved-from promise (the server's rare SIGSEGV
    // under load). So the result is ready at once, but the future finishes only through this
    // thread's event loop, and a continuation attached in between runs once, here.
    QFETCH(QString, backend);
    DbPoolOptions o = options(backend);
    o.minThreads = 1;
    o.maxThreads = 4;
    DbPool pool(o);
    QFuture<int> f = pool.run([](QSqlDatabase &) { return 7; });
    QCOMPARE(f.result(), 7);
    QDeadlineTimer deadline(10s);
    while (pool.stats().completed < 1 && !deadline.hasExpired())
        QThread::yieldCurrentThread(); // no event processing here: the finish must wait for it
    QCOMPARE(pool.stats().completed, qint64(1));
    QVERIFY2(!f.isFinished(), "the future finished on the worker thread");

    QObject context;
    int calls = 0;
    bool here = false;
    f.then(&context, [&](int v) {
        ++calls;
        here = v == 7 && QThread::currentThread() == context.thread();
    });
    QCOMPARE(calls, 0);
    QTRY_VERIFY(f.isFinished());
    QTRY_COMPARE(calls, 1);
    QVERIFY(here);

    // Many jobs finishing while their continuations are attached: each runs exactly once.
    constexpr int kJobs = 500;
    std::vector<int> ran(kJobs, 0);
    for (int i = 0; i < kJobs; ++i)
        pool.run([i](QSqlDatabase &) { return i; }).then(&context, [&ran](int k) { ++ran[size_t(k)]; });
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(ran.cbegin(), ran.cend(), [](int n) { return n >= 1; }), 20000);
    QCoreApplication::processEvents();
    QCOMPARE(std::count(ran.cbegin(), ran.cend(), 1), std::ptrdiff_t(kJobs));
    QCOMPARE(calls, 1);
}

void TestDbPool::statementTimeout()
{
    DbPoolOptions o = options(QStringLiteral("postgres"));
    o.minThreads = o.maxThreads = 1;
    o.statementTimeout = 200ms;
    DbPool pool(o);
    auto slow = pool.run([](QSqlDatabase &db) {
        QSqlQuery q(db);
        const bool ok = q.exec(QStringLiteral("SELECT pg_sleep(30)"));
        return std::pair(ok, q.lastError().nativeErrorCode());
    });
    const auto [ok, code] = slow.result();
    QVERIFY(!ok);
    QCOMPARE(code, QStringLiteral("57014")); // query_canceled
    // The same connection serves the next job.
    QVERIFY(pool.run([](QSqlDatabase &db) { return QSqlQuery(db).exec(QStringLiteral("SELECT 1")); }).result());
}

void TestDbPool::unreachable_data()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite in a missing folder") << QStringLiteral("sqlite");
    QTest::newRow("postgres on a closed port") << QStringLiteral("postgres");
}

void TestDbPool::unreachable()
{
    QFETCH(QString, backend);
    DbPoolOptions o;
    if (backend == QLatin1String("sqlite")) {
        o.backend = DbPoolOptions::Backend::Sqlite;
        o.sqlitePath = m_dir.filePath(QStringLiteral("no/such/dir/x.sqlite"));
    } else {
        o.backend = DbPoolOptions::Backend::Postgres;
        o.postgres = *parseDatabaseUrl(QStringLiteral("postgres://tm@127.0.0.1:1/taskmaster"));
    }
    o.minThreads = o.maxThreads = 1;
    DbPool pool(o);
    QVERIFY(!pool.run([](QSqlDatabase &db) { return db.isOpen(); }).result());
}

void TestDbPool::breakerFailsFastAndRecovers()
{
    using State = taskmaster::CircuitBreaker::State;
    const DatabaseUrl target = *parseDatabaseUrl(m_pgUrl);
    taskmaster::test::TcpProxy proxy(
        target.host == QLatin1String("localhost") ? QStringLiteral("127.0.0.1") : target.host, target.port);
    QVERIFY(proxy.ok());
    DbPoolOptions o = options(QStringLiteral("postgres"));
    o.postgres.port = quint16(proxy.port());
    o.minThreads = o.maxThreads = 2;
    o.breaker = {2, 300};
    QStringList transitions; // before the pool: its workers may report until it is destroyed
    std::mutex transitionsMutex;
    DbPool pool(o);
    pool.setBreakerObserver([&](State, State to) {
        std::lock_guard lock(transitionsMutex);
        transitions << QLatin1String(taskmaster::CircuitBreaker::name(to));
    });
    auto select1 = [](std::atomic<int> *ran) {
        return [ran](QSqlDatabase &db) -> taskmaster::Result<bool> {
            ++*ran;
            return QSqlQuery(db).exec(QStringLiteral("SELECT 1"));
        };
    };
    auto answered = [](const taskmaster::Result<bool> &r) { return r && *r; };
    std::atomic<int> ran = 0;
    QVERIFY(answered(pool.query(select1(&ran)).result()));
    QCOMPARE(pool.breakerState(), State::Closed);

    proxy.setLinkUp(false);
    // Broken connections and refused reconnects are failures: two in a row open the breaker.
    QDeadlineTimer deadline(10s);
    while (pool.breakerState() != State::Open && !deadline.hasExpired())
        QVERIFY(!answered(pool.query(select1(&ran)).result()));
    QCOMPARE(pool.breakerState(), State::Open);
    // Open: the answer is there when query() returns, the job never ran, Retry-After is set.
    ran = 0;
    auto refused = pool.query(select1(&ran));
    QVERIFY(refused.isResultReadyAt(0));
    const auto r = refused.result();
    QVERIFY(!r);
    QCOMPARE(r.error().code, taskmaster::ErrorCode::Unavailable);
    QVERIFY(r.error().retryAfterMs > 0 && r.error().retryAfterMs <= 300);
    QCOMPARE(ran.load(), 0);

    proxy.setLinkUp(true);
    // After the open time one query is the probe; it succeeds and closes the breaker (the worker
    // reports the outcome right after the result).
    QVERIFY(QTest::qWaitFor([&] { return answered(pool.query(select1(&ran)).result()); }, 10000));
    QTRY_COMPARE(pool.breakerState(), State::Closed);
    std::lock_guard lock(transitionsMutex);
    const QString seen = transitions.join(QLatin1Char(' '));
    QVERIFY2(seen.startsWith(QLatin1String("open half_open")) && seen.endsWith(QLatin1String("closed")),
             qPrintable(seen));
}

// The connection dropped by the server (PostgreSQL restarted: here the proxy cuts the link) and
// opened again for a later job: the statements prepared on the old one must be prepared anew.
// Before, the worker kept them, and every later run of a cached statement failed with
// "prepared statement qpsqlpstmt_N does not exist" (26000) for as long as the process lived.
void TestDbPool::preparedStatementsAfterReconnect()
{
    const DatabaseUrl target = *parseDatabaseUrl(m_pgUrl);
    taskmaster::test::TcpProxy proxy(
        target.host == QLatin1String("localhost") ? QStringLiteral("127.0.0.1") : target.host, target.port);
    QVERIFY(proxy.ok());
    DbPoolOptions o = options(QStringLiteral("postgres"));
    o.postgres.port = quint16(proxy.port());
    o.minThreads = o.maxThreads = 1; // one worker: one connection, one statement cache
    o.breaker = {100, 100}; // the breaker stays out of the way
    DbPool pool(o);
    // A statement with a bind: prepared once, then taken from the worker's cache.
    auto plusOne = [](int v) {
        return [v](QSqlDatabase &db) -> taskmaster::Result<int> {
            auto q = sql::run(db, "test.plus_one", QStringLiteral("SELECT ?::int + 1"), {v});
            if (!q)
                return q.error();
            if (!q->next())
                return taskmaster::Error {taskmaster::ErrorCode::Internal, QStringLiteral("no row"), {}};
            return q->value(0).toInt();
        };
    };
    for (int i = 0; i < 3; ++i) {
        const auto r = pool.query(plusOne(i)).result();
        QVERIFY(r);
        QCOMPARE(*r, i + 1);
    }
    proxy.setLinkUp(false);
    QVERIFY(!pool.query(plusOne(7)).result()); // the connection breaks under it
    proxy.setLinkUp(true);
    // A new connection: the cached statement works again (after at most a refused attempt or two
    // while the link comes back), and keeps working.
    QVERIFY(QTest::qWaitFor(
        [&] {
            const auto r = pool.query(plusOne(41)).result();
            return r && *r == 42;
        },
        10000));
    for (int i = 0; i < 3; ++i) {
        const auto r = pool.query(plusOne(i)).result();
        QVERIFY2(r, r ? "" : qPrintable(r.error().message));
        QCOMPARE(*r, i + 1);
    }
}

// PostgreSQL restarted (here: the proxy cuts every connection): every worker's connection is
// stale, though the driver learns it only when it uses one. Once the database is back, the
// breaker's first probe must succeed and so must every job after it. Before, each stale worker
// failed one job in turn, the probes included, and the pool took a probe interval per worker to
// come back (20 s for ten workers, during which every send failed).
void TestDbPool::staleWorkersDoNotFailTheProbe()
{
    const DatabaseUrl target = *parseDatabaseUrl(m_pgUrl);
    taskmaster::test::TcpProxy proxy(
        target.host == QLatin1String("localhost") ? QStringLiteral("127.0.0.1") : target.host, target.port);
    QVERIFY(proxy.ok());
    constexpr int kWorkers = 6;
    DbPoolOptions o = options(QStringLiteral("postgres"));
    o.postgres.port = quint16(proxy.port());
    o.minThreads = o.maxThreads = kWorkers;
    o.breaker = {2, 200};
    DbPool pool(o);
    // kWorkers jobs that wait for each other, so every worker runs one on its own connection;
    // how many answered SELECT 1.
    const auto onEveryWorker = [&pool] {
        std::atomic<int> inside = 0;
        QList<QFuture<taskmaster::Result<bool>>> all;
        for (int i = 0; i < kWorkers; ++i) {
            all << pool.query([&inside](QSqlDatabase &db) -> taskmaster::Result<bool> {
                ++inside;
                const QDeadlineTimer together(5000);
                while (inside.load() < kWorkers && !together.hasExpired())
                    QThread::msleep(1);
                return QSqlQuery(db).exec(QStringLiteral("SELECT 1"));
            });
        }
        int answered = 0;
        for (auto &f : all) {
            const auto r = f.result();
            answered += r && *r;
        }
        return answered;
    };
    QCOMPARE(onEveryWorker(), kWorkers);

    proxy.setLinkUp(false);
    auto select1 = [](std::atomic<int> *ran) {
        return [ran](QSqlDatabase &db) -> taskmaster::Result<bool> {
            ++*ran;
            return QSqlQuery(db).exec(QStringLiteral("SELECT 1"));
        };
    };
    std::atomic<int> ran = 0;
    const QDeadlineTimer opened(10s);
    while (pool.breakerState() != taskmaster::CircuitBreaker::State::Open && !opened.hasExpired())
        (void)pool.query(select1(&ran)).result();
    QCOMPARE(pool.breakerState(), taskmaster::CircuitBreaker::State::Open);
    proxy.setLinkUp(true);

    // Refused at once while open; the first job that runs is the probe, and it succeeds.
    const QDeadlineTimer probed(10s);
    bool answered = false;
    while (!answered && !probed.hasExpired()) {
        ran = 0;
        const auto r = pool.query(select1(&ran)).result();
        if (ran.load() == 0) { // refused without running
            QTest::qWait(20);
            continue;
        }
        QVERIFY2(r && *r, "the probe failed on a stale connection");
        answered = true;
    }
    QVERIFY(answered);
    QTRY_COMPARE(pool.breakerState(), taskmaster::CircuitBreaker::State::Closed);
    // Every worker answers again, none fails on a stale connection.
    QCOMPARE(onEveryWorker(), kWorkers);
}

QTEST_GUILESS_MAIN(TestDbPool)
#include "tst_db_pool.moc"
