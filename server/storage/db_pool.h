// DbPool: the database worker threads. Each worker owns one QSqlDatabase connection (Qt Sql
// connections belong to the thread that opened them) and runs queued jobs; callers get a
// QFuture and never block. The pool keeps minThreads workers, grows to maxThreads while jobs
// wait, and lets workers above the minimum exit after idleTimeout.
// A job's result is available (QFuture::result()) as soon as the job returns, but its future
// is finished on the pool's own thread, through that thread's event loop: continuations
// (QFuture::then) are attached there, and Qt 6.4 runs a continuation twice when the future
// finishes on another thread while then() attaches it (setContinuation() runs it on a finished
// future and keeps it; the finishing thread's runContinuation() runs it again with a moved-from
// promise: SIGSEGV in QPromise::start()). Attaching and finishing on one thread cannot overlap.
// Circuit breaker (shared/core/circuit_breaker.h): every job's outcome feeds the pool's breaker (a
// connection that cannot be opened or breaks is a failure, any other outcome a success). While
// it is open, query() answers Unavailable at once (with retryAfterMs) instead of queueing, and
// workers do not try to open a connection for jobs already queued (they see it closed); after
// openFor one query() is let through as the probe.
// After any worker saw its connection break (or fail to open), every other worker checks its own
// with a trivial query before its next job and reopens it if that fails: PostgreSQL restarted, all
// of them are stale, and without the check each one failed a job in turn, the half-open breaker's
// probes included (ten stale workers, ten failed probes two seconds apart: the pool took 20 s to
// come back instead of one probe).
// Owns: the worker threads, their connections, the job queue and the breaker. Thread: created and
// destroyed on the network thread; run(), query() and breakerState() are thread-safe; jobs run on
// the workers; futures finish on the network thread; the breaker's observer runs on any of them
// (under the breaker's lock: record metrics, log, nothing that calls back into the pool).
#pragma once

#include "server/storage/database_url.h"
#include "shared/core/circuit_breaker.h"
#include "shared/core/error.h"

#include <QFuture>
#include <QObject>
#include <QPromise>
#include <QSqlDatabase>
#include <QString>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

class QThread;

namespace taskmaster::server {

namespace sql {
void finishCachedStatements(); // sql.h
}

struct DbPoolOptions {
    enum class Backend { Sqlite, Postgres };
    Backend backend = Backend::Sqlite;
    QString sqlitePath; // Sqlite: the database file
    DatabaseUrl postgres; // Postgres: where to connect
    int minThreads = 2;
    int maxThreads = 4;
    std::chrono::milliseconds idleTimeout {60000};
    std::chrono::milliseconds statementTimeout {10000}; // per statement, enforced by the server
    // Failures in a row that open it; how long it stays open: 250 ms at first, doubling after each
    // failed probe up to 2 s (PostgreSQL back after a restart is used again within a quarter second).
    CircuitBreakerOptions breaker {3, 2000, 250};
};

struct DbPoolStats {
    int threads = 0; // workers alive
    int busy = 0; // workers running a job
    int idle = 0; // workers waiting for a job
    int waiting = 0; // jobs queued, not yet started
    qint64 completed = 0; // jobs finished; counted once their result is available
};

class DbPool final {
public:
    explicit DbPool(DbPoolOptions options);
    // Runs the queued jobs, then stops and joins every worker. Futures whose finish had not
    // been delivered yet end canceled (functions given to their then() do not run).
    ~DbPool();
    DbPool(const DbPool &) = delete;
    DbPool &operator=(const DbPool &) = delete;

    // Runs fn(QSqlDatabase &) on a worker. The connection is open when fn runs unless the
    // database is unreachable; then it is closed and fn should report Unavailable.
    // QFuture::result() may block on any thread; the future finishes (and its continuations
    // start) on the pool's thread once its event loop runs, so do not waitForFinished() there.
    template<typename F> auto run(F &&fn) -> QFuture<std::invoke_result_t<F, QSqlDatabase &>>
    {
        using R = std::invoke_result_t<F, QSqlDatabase &>;
        auto promise = std::make_shared<QPromise<R>>();
        QFuture<R> future = promise->future();
        promise->start();
        enqueue([this, promise, fn = std::forward<F>(fn)](QSqlDatabase &db) mutable {
            // Cached statements are finished before the caller hears back: on SQLite an
            // unfinished statement keeps its transaction (and snapshot) open, and the caller's next
            // job may run on another connection that must see this job's writes.
            if constexpr (std::is_void_v<R>) {
                fn(db);
                sql::finishCachedStatements();
            } else {
                R result = fn(db);
                sql::finishCachedStatements();
                promise->addResult(std::move(result));
            }
            QMetaObject::invokeMethod(
                &m_home, [promise] { promise->finish(); }, Qt::QueuedConnection);
        });
        return future;
    }

    // run() for a job that returns a Result: while the database is unreachable (the worker's
    // connection is closed) fn does not run and the result is Unavailable, "database unavailable".
    // While the breaker is open fn is not even queued: the result is Unavailable at once, with
    // retryAfterMs set to the time until the breaker lets a probe through.
    template<typename F> auto query(F &&fn) -> QFuture<std::invoke_result_t<F, QSqlDatabase &>>
    {
        using R = std::invoke_result_t<F, QSqlDatabase &>;
        if (const qint64 retryAfterMs = refusedFor(); retryAfterMs >= 0) {
            auto promise = std::make_shared<QPromise<R>>();
            QFuture<R> future = promise->future();
            promise->start();
            Error e = unavailable();
            e.retryAfterMs = retryAfterMs;
            promise->addResult(R(std::move(e)));
            QMetaObject::invokeMethod(
                &m_home, [promise] { promise->finish(); }, Qt::QueuedConnection);
            return future;
        }
        return run([fn = std::forward<F>(fn)](QSqlDatabase &db) mutable -> R {
            if (!db.isOpen())
                return unavailable();
            return fn(db);
        });
    }
    [[nodiscard]] static Error unavailable()
    {
        return Error {ErrorCode::Unavailable, QStringLiteral("database unavailable"), {}};
    }

    [[nodiscard]] DbPoolStats stats() const;
    // The breaker's state now, and its observer (set before the first job; see above).
    [[nodiscard]] CircuitBreaker::State breakerState() const;
    void setBreakerObserver(CircuitBreaker::Observer observer);
    [[nodiscard]] const DbPoolOptions &options() const { return m_options; }

private:
    using Job = std::function<void(QSqlDatabase &)>;
    void enqueue(Job job);
    void startWorkerLocked();
    void workerLoop(int workerId);
    [[nodiscard]] QSqlDatabase openConnection(const QString &name) const;
    void ensureOpen(QSqlDatabase &db) const;
    // -1 when a query may go now (possibly as the breaker's probe), else its Retry-After in ms.
    [[nodiscard]] qint64 refusedFor();
    void recordOutcome(bool dependencyFailed);

    QObject m_home; // lives on the pool's thread: futures finish there (see above)
    DbPoolOptions m_options;
    const int m_serial; // names this pool's connections: "tm-db-<serial>-<worker>"
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Job> m_jobs;
    std::vector<std::unique_ptr<QThread>> m_threads;
    int m_alive = 0;
    int m_busy = 0;
    int m_nextWorkerId = 0;
    qint64 m_completed = 0;
    bool m_stopping = false;
    mutable std::mutex m_breakerMutex;
    CircuitBreaker m_breaker;
    // Counts the connection breakages any worker saw (a broken connection, a failed open): a
    // worker whose connection was last known good before the latest one checks it before its
    // next job.
    std::atomic<quint64> m_brokenEpoch {0};
};

} // namespace taskmaster::server
