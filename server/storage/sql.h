// SQL helpers shared by the stores: a transaction that rolls back unless committed, query
// execution that maps driver errors to typed Errors (unique violation -> Conflict, lost
// connection -> Unavailable, anything else -> Internal, logged), and the dialect differences.
// Thread: a database worker (everything here blocks).
#pragma once

#include "shared/core/error.h"

#include <QHash>
#include <QList>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <functional>
#include <initializer_list>
#include <optional>

namespace taskmaster::server::sql {

enum class Dialect { Sqlite, Postgres };
[[nodiscard]] Dialect dialectOf(const QSqlDatabase &db);

// Maps a failed query's error. `what` names the query in logs (never user input).
[[nodiscard]] Error toError(const QSqlError &error, const char *what);
// A write that failed with this may still have committed: the connection broke (Unavailable), or
// an error no store function answers on purpose (Internal). The refusals a store gives on purpose
// (not found, forbidden, bad request, conflict) roll back.
[[nodiscard]] inline bool outcomeUnknown(const Error &e)
{
    return e.code == ErrorCode::Unavailable || e.code == ErrorCode::Internal;
}
[[nodiscard]] bool isUniqueViolation(const QSqlError &error);

// Prepares and runs `text` with positional binds (without binds it runs unprepared); on failure
// returns the mapped Error. On a DbPool worker, prepared statements are cached per connection, so
// a text is parsed (SQLite) or PREPAREd (PostgreSQL) once: do not run the same text again while
// still reading the rows of its previous run.
// Queries slower than the slow-query threshold are logged with their name and duration.
[[nodiscard]] Result<QSqlQuery> run(QSqlDatabase &db, const char *what, const QString &text,
                                    std::initializer_list<QVariant> binds = {});
// Same with a list of binds built at run time.
[[nodiscard]] Result<QSqlQuery> run(QSqlDatabase &db, const char *what, const QString &text, const QVariantList &binds);

// Prepared statements of one connection, by text. DbPool gives each worker one and installs it
// for the worker's thread; it must be cleared before its connection closes.
class StatementCache final {
public:
    // The cached query for text, prepared on first use; nullptr when preparing fails (the error
    // is in *error).
    QSqlQuery *get(QSqlDatabase &db, const QString &text, QSqlError *error);
    void clear() { m_queries.clear(); }
    // Resets every statement (releases rows, locks and SQLite read snapshots): before COMMIT or
    // ROLLBACK and after each job.
    void finishAll();
    [[nodiscard]] qsizetype size() const { return m_queries.size(); }

private:
    static constexpr qsizetype kMaxEntries = 512; // past it the cache starts again
    QHash<QString, QSqlQuery> m_queries;
};
// The calling thread's cache (nullptr: none, statements are prepared each time).
void setThreadStatementCache(StatementCache *cache);
// finishAll() on the calling thread's cache, if any.
void finishCachedStatements();

// Splits n rows into chunks of 256, 64, 16, 4 and 1 rows, so a multi-row statement has only a
// few distinct texts (each prepared once per connection) whatever the batch size.
[[nodiscard]] QList<int> rowChunks(qsizetype n);

// n copies of item joined by ", ": the placeholders of an IN list (placeholders(3): "?, ?, ?") or
// the rows of a multi-row VALUES (joined(2, u"(?, ?)"): "(?, ?), (?, ?)").
[[nodiscard]] QString joined(qsizetype n, QStringView item);
[[nodiscard]] inline QString placeholders(qsizetype n)
{
    return joined(n, u"?");
}

// PostgreSQL array literals, each bound as one parameter (`= ANY(?::bigint[])`, `unnest(?::text[])`):
// the statement's text, and so its prepared plan, stays the same whatever the number of values,
// and a batch of any size is one statement. Text elements are double-quoted with `"` and `\`
// escaped, so any text PostgreSQL can store round-trips; nullopt is NULL.
[[nodiscard]] QString pgArray(const QList<qint64> &values);
[[nodiscard]] QString pgTextArray(const QList<std::optional<QString>> &values);

// A list of ids as one bind on either back end, whatever its length: `inIds(db, "m.id")` is the
// condition (`m.id = ANY (?::bigint[])` on PostgreSQL, `m.id IN (SELECT value FROM json_each(?))`
// on SQLite) and `idsBind(db, ids)` its value.
[[nodiscard]] QString inIds(QSqlDatabase &db, const QString &column);
[[nodiscard]] QVariant idsBind(QSqlDatabase &db, const QList<qint64> &ids);

// The first column of every row of a run() as integers (ids), or run()'s error.
[[nodiscard]] Result<QList<qint64>> idColumn(Result<QSqlQuery> query);

void setSlowQueryThresholdMs(int ms);
// Called after every statement run() executed, with its name and duration (the metrics'
// database_query_duration_seconds). Set once at start, before any worker runs a query.
void setQueryObserver(std::function<void(const char *what, qint64 ns)> observer);
// Statements run() has executed on the calling thread: lets tests prove a route makes a fixed
// number of queries whatever the page size (no N+1).
[[nodiscard]] qint64 queriesOnThisThread();

// PostgreSQL only, for bytea: QPSQL writes every bound value into the text of an EXECUTE and
// reads every result as text, so a bytea travels as hex (twice its size, escaped and parsed on
// both sides: most of an attachment's CPU). pgBinary runs `text` ($1, $2, ... placeholders)
// through libpq on db's own connection: a QByteArray parameter goes in binary, any other by its
// string form (a null QVariant is NULL); results come back in binary. Returns the first column
// of every row. Errors map like run()'s; observed, counted and logged when slow like run().
[[nodiscard]] Result<QList<QByteArray>> pgBinary(QSqlDatabase &db, const char *what, const char *text,
                                                 const QVariantList &params);

// PostgreSQL only: `COPY table (columns) FROM STDIN` (text format) on db's own connection, with
// `rows` as its data: one line per row, fields separated by tabs, each written by appendCopyField()
// (\N for NULL). The fastest way to load many rows (one statement, no per-row parse or plan).
// Runs inside db's open transaction if there is one. Returns the rows copied; errors map like
// run()'s; observed and counted like run().
[[nodiscard]] Result<qint64> pgCopy(QSqlDatabase &db, const char *what, const char *copyStatement,
                                    const QByteArray &rows);
// A field of COPY's text format: backslash, tab, newline and carriage return escaped.
void appendCopyField(QByteArray &line, QStringView value);

// RAII transaction (BEGIN IMMEDIATE on SQLite, so writers queue instead of failing later).
class Transaction final {
public:
    explicit Transaction(QSqlDatabase &db);
    ~Transaction(); // rolls back unless commit() succeeded
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;

    [[nodiscard]] bool began() const { return m_began; }
    [[nodiscard]] const Error &beginError() const { return m_error; }
    [[nodiscard]] MaybeError commit();

private:
    QSqlDatabase &m_db;
    bool m_began = false;
    bool m_done = false;
    Error m_error;
};

} // namespace taskmaster::server::sql
