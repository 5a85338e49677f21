#include "server/storage/sql.h"

#include "server/log/json_log.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QLoggingCategory>

#include <atomic>

namespace taskmaster::server::sql {

Q_LOGGING_CATEGORY(lcSql, "tm.db.sql")

namespace {
std::atomic<int> g_slowQueryMs = 200;
thread_local qint64 t_queries = 0;
} // namespace

qint64 queriesOnThisThread()
{
    return t_queries;
}

void setSlowQueryThresholdMs(int ms)
{
    g_slowQueryMs = ms;
}

Dialect dialectOf(const QSqlDatabase &db)
{
    return db.driverName() == QLatin1String("QPSQL") ? Dialect::Postgres : Dialect::Sqlite;
}

bool isUniqueViolation(const QSqlError &error)
{
    const QString code = error.nativeErrorCode();
    // PostgreSQL unique_violation; SQLite SQLITE_CONSTRAINT_UNIQUE and _PRIMARYKEY.
    return code == QLatin1String("23505") || code == QLatin1String("2067") || code == QLatin1String("1555");
}

Error toError(const QSqlError &error, const char *what)
{
    if (isUniqueViolation(error))
        return Error {ErrorCode::Conflict, QStringLiteral("already exists"), {}};
    const QString code = error.nativeErrorCode();
    // Connection lost, server shutting down, statement timeout, SQLite busy: worth a retry.
    const bool transient = error.type() == QSqlError::ConnectionError || code.startsWith(QLatin1String("08"))
        || code.startsWith(QLatin1String("57")) || code == QLatin1String("5") || code == QLatin1String("6");
    logEvent(lcSql(), QtWarningMsg, QStringLiteral("query failed"),
             {{QStringLiteral("query"), QString::fromLatin1(what)},
              {QStringLiteral("code"), code},
              {QStringLiteral("error"), error.text()}});
    if (transient)
        return Error {ErrorCode::Unavailable, QStringLiteral("database unavailable"), {}};
    return Error {ErrorCode::Internal, QStringLiteral("internal error"), {}};
}

Result<QSqlQuery> run(QSqlDatabase &db, const char *what, const QString &text, const QVariantList &binds)
{
    QSqlQuery q(db);
    q.setForwardOnly(true);
    ++t_queries;
    QElapsedTimer timer;
    timer.start();
    // Without binds the statement runs unprepared: PostgreSQL cannot PREPARE some (LOCK, SET).
    if (binds.isEmpty()) {
        if (!q.exec(text))
            return toError(q.lastError(), what);
    } else {
        if (!q.prepare(text))
            return toError(q.lastError(), what);
        for (const QVariant &v : binds)
            q.addBindValue(v);
        if (!q.exec())
            return toError(q.lastError(), what);
    }
    const qint64 ms = timer.elapsed();
    if (ms >= g_slowQueryMs) {
        logEvent(lcSql(), QtWarningMsg, QStringLiteral("slow query"),
                 {{QStringLiteral("query"), QString::fromLatin1(what)}, {QStringLiteral("ms"), ms}});
    }
    return q;
}

Result<QSqlQuery> run(QSqlDatabase &db, const char *what, const QString &text, std::initializer_list<QVariant> binds)
{
    return run(db, what, text, QVariantList(binds));
}

Transaction::Transaction(QSqlDatabase &db) : m_db(db)
{
    QSqlQuery q(db);
    const bool ok = dialectOf(db) == Dialect::Sqlite ? q.exec(QStringLiteral("BEGIN IMMEDIATE"))
                                                     : q.exec(QStringLiteral("BEGIN"));
    if (ok)
        m_began = true;
    else
        m_error = toError(q.lastError(), "begin");
}

Transaction::~Transaction()
{
    if (m_began && !m_done)
        QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
}

Status Transaction::commit()
{
    if (!m_began)
        return m_error;
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("COMMIT")))
        return toError(q.lastError(), "commit");
    m_done = true;
    return std::nullopt;
}

} // namespace taskmaster::server::sql
