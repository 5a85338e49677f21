#include "server/storage/db_pool.h"

#include "server/storage/sql.h"

#include <QDeadlineTimer>
#include <QLoggingCategory>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>

#include <atomic>

namespace taskmaster::server {

Q_LOGGING_CATEGORY(lcDb, "tm.db")

namespace {
// Qt Sql connection names are global to the process: each pool gets its own prefix.
std::atomic<int> g_poolSerial = 0;

qint64 monotonicMs()
{
    return QDeadlineTimer::current().deadline();
}
} // namespace

DbPool::DbPool(DbPoolOptions options)
    : m_options(std::move(options)), m_serial(++g_poolSerial), m_breaker(m_options.breaker)
{
    m_options.minThreads = std::max(1, m_options.minThreads);
    m_options.maxThreads = std::max(m_options.minThreads, m_options.maxThreads);
    std::lock_guard lock(m_mutex);
    for (int i = 0; i < m_options.minThreads; ++i)
        startWorkerLocked();
}

DbPool::~DbPool()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    for (auto &t : m_threads)
        t->wait();
    // A worker's last use of the pool is under m_mutex: taking it once more lets ThreadSanitizer
    // see that use happen before the pool's memory is freed (QThread::wait() synchronises inside
    // Qt, where it cannot look; scripts/sanitize.sh).
    std::lock_guard lock(m_mutex);
}

void DbPool::enqueue(Job job)
{
    {
        std::lock_guard lock(m_mutex);
        m_jobs.push_back(std::move(job));
        const int idle = m_alive - m_busy;
        if (idle < int(m_jobs.size()) && m_alive < m_options.maxThreads)
            startWorkerLocked();
    }
    m_wake.notify_one();
}

void DbPool::startWorkerLocked()
{
    const int id = m_nextWorkerId++;
    ++m_alive;
    // Reap threads that have exited before adding a new one.
    std::erase_if(m_threads, [](const std::unique_ptr<QThread> &t) { return t->isFinished(); });
    std::unique_ptr<QThread> t(QThread::create([this, id] { workerLoop(id); }));
    t->setObjectName(QStringLiteral("tm-db-%1-%2").arg(m_serial).arg(id));
    t->start();
    m_threads.push_back(std::move(t));
}

QSqlDatabase DbPool::openConnection(const QString &name) const
{
    if (m_options.backend == DbPoolOptions::Backend::Sqlite) {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(m_options.sqlitePath);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(m_options.statementTimeout.count()));
        return db;
    }
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
    const DatabaseUrl &u = m_options.postgres;
    db.setHostName(u.host);
    db.setPort(u.port);
    db.setUserName(u.user);
    db.setPassword(u.password);
    db.setDatabaseName(u.database);
    QString opts = u.options;
    if (!opts.isEmpty())
        opts += QLatin1Char(';');
    opts += QStringLiteral("connect_timeout=5");
    db.setConnectOptions(opts);
    return db;
}

void DbPool::ensureOpen(QSqlDatabase &db) const
{
    if (db.isOpen())
        return;
    if (!db.open()) {
        qCWarning(lcDb) << "cannot open database connection" << db.connectionName() << db.lastError().text();
        return;
    }
    QSqlQuery q(db);
    if (m_options.backend == DbPoolOptions::Backend::Sqlite) {
        q.exec(QStringLiteral("PRAGMA journal_mode=WAL"));
        q.exec(QStringLiteral("PRAGMA synchronous=NORMAL"));
        q.exec(QStringLiteral("PRAGMA foreign_keys=ON"));
    } else {
        q.exec(QStringLiteral("SET statement_timeout = %1").arg(m_options.statementTimeout.count()));
    }
}

qint64 DbPool::refusedFor()
{
    std::lock_guard lock(m_breakerMutex);
    const qint64 now = monotonicMs();
    if (m_breaker.allow(now))
        return -1;
    return m_breaker.retryAfterMs(now);
}

void DbPool::recordOutcome(bool dependencyFailed)
{
    std::lock_guard lock(m_breakerMutex);
    if (dependencyFailed)
        m_breaker.failed(monotonicMs());
    else
        m_breaker.succeeded();
}

CircuitBreaker::State DbPool::breakerState() const
{
    std::lock_guard lock(m_breakerMutex);
    return m_breaker.state();
}

void DbPool::setBreakerObserver(CircuitBreaker::Observer observer)
{
    std::lock_guard lock(m_breakerMutex);
    m_breaker.setObserver(std::move(observer));
}

void DbPool::workerLoop(int workerId)
{
    const QString name = QStringLiteral("tm-db-%1-%2").arg(m_serial).arg(workerId);
    {
        QSqlDatabase db = openConnection(name);
        quint64 goodAt = 0; // m_brokenEpoch when this connection was last known good
        sql::StatementCache statements;
        sql::setThreadStatementCache(&statements);
        std::unique_lock lock(m_mutex);
        for (;;) {
            const bool woke
                = m_wake.wait_for(lock, m_options.idleTimeout, [this] { return m_stopping || !m_jobs.empty(); });
            if (!woke && m_alive > m_options.minThreads)
                break; // idle above the minimum: release this connection
            if (m_jobs.empty()) {
                if (m_stopping)
                    break;
                continue;
            }
            Job job = std::move(m_jobs.front());
            m_jobs.pop_front();
            ++m_busy;
            lock.unlock();
            // Another worker's connection broke since this one was last known good: check it
            // (the driver learns a connection is gone only when it uses it).
            const quint64 epoch = m_brokenEpoch.load();
            if (goodAt < epoch && db.isOpen()) {
                if (!QSqlQuery(db).exec(QStringLiteral("SELECT 1")))
                    db.close();
            }
            goodAt = epoch;
            // A connection the server dropped between jobs (PostgreSQL restarted: the driver
            // reports it closed) takes its prepared statements with it; the next open() gets a
            // new session where they do not exist ("prepared statement ... does not exist",
            // forever, since that is no connection error). Forget them and free it first.
            if (!db.isOpen()) {
                statements.clear();
                db.close();
            }
            // While the breaker is open nobody waits for a connect attempt: the job sees the
            // connection closed (and answers Unavailable). Half-open, the probe tries.
            const bool attempt = db.isOpen() || breakerState() != CircuitBreaker::State::Open;
            if (attempt)
                ensureOpen(db);
            const bool opened = db.isOpen();
            // A successful open() leaves the error of an earlier failed one in lastError(): only
            // a connection error that appears during the job means the connection broke.
            const QSqlError before = db.lastError();
            job(db);
            statements.finishAll(); // no statement keeps rows, locks or a snapshot between jobs
            // A broken connection (server restarted, network cut) is reopened for the next job,
            // with its prepared statements forgotten: a new connection error, or the driver
            // reporting closed a connection that was open when the job began.
            bool broken = false;
            const QSqlError after = db.lastError();
            const bool newError = after.type() == QSqlError::ConnectionError
                && (before.type() != QSqlError::ConnectionError || before.text() != after.text());
            if (opened && (!db.isOpen() || newError)) {
                statements.clear();
                db.close();
                broken = true;
            }
            if ((attempt && !opened) || broken)
                ++m_brokenEpoch;
            if (attempt)
                recordOutcome(!opened || broken);
            lock.lock();
            --m_busy;
            ++m_completed;
        }
        --m_alive;
        lock.unlock();
        sql::setThreadStatementCache(nullptr);
        statements.clear();
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
}

DbPoolStats DbPool::stats() const
{
    std::lock_guard lock(m_mutex);
    return DbPoolStats {m_alive, m_busy, m_alive - m_busy, int(m_jobs.size()), m_completed};
}

} // namespace taskmaster::server
