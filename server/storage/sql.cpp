#include "server/storage/sql.h"

#include "server/log/json_log.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QSqlDriver>

#include <algorithm>
#include <atomic>
#include <libpq-fe.h>
#include <memory>
#include <optional>
#include <vector>

namespace taskmaster::server::sql {

Q_LOGGING_CATEGORY(lcSql, "tm.db.sql")

namespace {
std::atomic<int> g_slowQueryMs = 200;
thread_local qint64 t_queries = 0;
thread_local StatementCache *t_cache = nullptr;
std::function<void(const char *, qint64)> g_observer; // set before the workers start
} // namespace

Result<QList<qint64>> idColumn(Result<QSqlQuery> query)
{
    if (!query)
        return query.error();
    QList<qint64> ids;
    while (query->next())
        ids.append(query->value(0).toLongLong());
    return ids;
}

void setQueryObserver(std::function<void(const char *what, qint64 ns)> observer)
{
    g_observer = std::move(observer);
}

QSqlQuery *StatementCache::get(QSqlDatabase &db, const QString &text, QSqlError *error)
{
    auto it = m_queries.find(text);
    if (it != m_queries.end()) {
        it->finish(); // release the previous run's rows
        return &*it;
    }
    if (m_queries.size() >= kMaxEntries)
        m_queries.clear();
    QSqlQuery q(db);
    q.setForwardOnly(true);
    if (!q.prepare(text)) {
        *error = q.lastError();
        return nullptr;
    }
    return &*m_queries.insert(text, q);
}

void StatementCache::finishAll()
{
    for (QSqlQuery &q : m_queries)
        q.finish();
}

void setThreadStatementCache(StatementCache *cache)
{
    t_cache = cache;
}

void finishCachedStatements()
{
    if (t_cache)
        t_cache->finishAll();
}

QString joined(qsizetype n, QStringView item)
{
    QString s;
    s.reserve(n * (item.size() + 2));
    for (qsizetype i = 0; i < n; ++i) {
        if (i > 0)
            s += QLatin1String(", ");
        s += item;
    }
    return s;
}

QString pgArray(const QList<qint64> &values)
{
    QString s = QStringLiteral("{");
    for (qsizetype i = 0; i < values.size(); ++i) {
        if (i > 0)
            s += QLatin1Char(',');
        s += QString::number(values[i]);
    }
    return s + QLatin1Char('}');
}

QString inIds(QSqlDatabase &db, const QString &column)
{
    return dialectOf(db) == Dialect::Postgres ? column + QStringLiteral(" = ANY (?::bigint[])")
                                              : column + QStringLiteral(" IN (SELECT value FROM json_each(?))");
}

QVariant idsBind(QSqlDatabase &db, const QList<qint64> &ids)
{
    if (dialectOf(db) == Dialect::Postgres)
        return pgArray(ids);
    QByteArray json = "[";
    for (qsizetype i = 0; i < ids.size(); ++i)
        json += (i ? "," : "") + QByteArray::number(ids[i]);
    return QString::fromLatin1(json + ']');
}

QString pgTextArray(const QList<std::optional<QString>> &values)
{
    QString s = QStringLiteral("{");
    for (qsizetype i = 0; i < values.size(); ++i) {
        if (i > 0)
            s += QLatin1Char(',');
        if (!values[i]) {
            s += QLatin1String("NULL");
            continue;
        }
        s += QLatin1Char('"');
        for (const QChar c : *values[i]) {
            if (c == QLatin1Char('"') || c == QLatin1Char('\\'))
                s += QLatin1Char('\\');
            s += c;
        }
        s += QLatin1Char('"');
    }
    return s + QLatin1Char('}');
}

QList<int> rowChunks(qsizetype n)
{
    QList<int> chunks;
    for (int size : {256, 64, 16, 4, 1}) {
        while (n >= size) {
            chunks.append(size);
            n -= size;
        }
    }
    return chunks;
}

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
    // Worth a retry: PostgreSQL connection failures (class 08), shutdown or timeout (class 57) or a
    // lost connection without a code; SQLite BUSY (5) and LOCKED (6). Qt's SQLite driver labels
    // every failed statement a ConnectionError, so that label only counts without a code. A
    // connection that broke under a statement has no code either (libpq's own message, "server
    // closed the connection unexpectedly", "no connection to the server"; the statement error's type).
    const bool lostConnection = code.isEmpty()
        && (error.type() == QSqlError::ConnectionError
            || error.databaseText().contains(QLatin1String("connection"), Qt::CaseInsensitive));
    const bool transient = code.startsWith(QLatin1String("08")) || code.startsWith(QLatin1String("57"))
        || code == QLatin1String("5") || code == QLatin1String("6") || lostConnection;
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
    ++t_queries;
    QElapsedTimer timer;
    timer.start();
    QSqlQuery q(db);
    if (binds.isEmpty()) {
        // Unprepared: PostgreSQL cannot PREPARE some statements (LOCK, SET).
        q.setForwardOnly(true);
        if (!q.exec(text))
            return toError(q.lastError(), what);
    } else {
        QSqlError prepareError;
        QSqlQuery *cached = t_cache ? t_cache->get(db, text, &prepareError) : nullptr;
        if (cached) {
            // A copy shares the cached prepared statement (that is the point of the cache); Qt 6.2
            // deprecated the copy, not the sharing.
            QT_WARNING_PUSH
            QT_WARNING_DISABLE_DEPRECATED
            q = *cached;
            QT_WARNING_POP
        } else if (t_cache) {
            return toError(prepareError, what);
        } else {
            q.setForwardOnly(true);
            if (!q.prepare(text))
                return toError(q.lastError(), what);
        }
        for (qsizetype i = 0; i < binds.size(); ++i)
            q.bindValue(int(i), binds[i]);
        if (!q.exec())
            return toError(q.lastError(), what);
    }
    const qint64 ns = timer.nsecsElapsed();
    if (g_observer)
        g_observer(what, ns);
    const qint64 ms = ns / 1000000;
    if (ms >= g_slowQueryMs) {
        logEvent(lcSql(), QtWarningMsg, QStringLiteral("slow query"),
                 {{QStringLiteral("query"), QString::fromLatin1(what)}, {QStringLiteral("ms"), ms}});
    }
    return q;
}

Result<QList<QByteArray>> pgBinary(QSqlDatabase &db, const char *what, const char *text, const QVariantList &params)
{
    ++t_queries;
    QElapsedTimer timer;
    timer.start();
    const QVariant handle = db.driver() ? db.driver()->handle() : QVariant();
    // QPSQL hands out its PGconn * (Qt 6.4 names the metatype after libpq's struct, "pg_conn*").
    if (!handle.isValid()
        || (qstrcmp(handle.typeName(), "pg_conn*") != 0 && qstrcmp(handle.typeName(), "PGconn*") != 0))
        return toError(QSqlError(QStringLiteral("no PostgreSQL connection"), {}, QSqlError::ConnectionError), what);
    PGconn *conn = *static_cast<PGconn *const *>(handle.constData());
    if (!conn)
        return toError(QSqlError(QStringLiteral("no PostgreSQL connection"), {}, QSqlError::ConnectionError), what);
    QList<QByteArray> values; // keeps the bytes alive while libpq reads them
    std::vector<const char *> pointers;
    std::vector<int> lengths;
    std::vector<int> formats;
    values.reserve(params.size());
    for (const QVariant &p : params) {
        const bool binary = p.typeId() == QMetaType::QByteArray;
        values.append(p.isNull() ? QByteArray() : binary ? p.toByteArray() : p.toString().toUtf8());
        pointers.push_back(p.isNull() ? nullptr : values.constLast().constData());
        lengths.push_back(int(values.constLast().size()));
        formats.push_back(binary ? 1 : 0);
    }
    std::unique_ptr<PGresult, decltype(&PQclear)> result(
        PQexecParams(conn, text, int(params.size()), nullptr, pointers.data(), lengths.data(), formats.data(), 1),
        &PQclear);
    const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        const char *state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
        return toError(
            QSqlError(QString::fromUtf8(PQerrorMessage(conn)).trimmed(), {},
                      PQstatus(conn) == CONNECTION_OK ? QSqlError::StatementError : QSqlError::ConnectionError,
                      QString::fromLatin1(state ? state : "")),
            what);
    }
    QList<QByteArray> rows;
    if (status == PGRES_TUPLES_OK && PQnfields(result.get()) > 0) {
        const int n = PQntuples(result.get());
        rows.reserve(n);
        for (int i = 0; i < n; ++i)
            rows.append(QByteArray(PQgetvalue(result.get(), i, 0), PQgetlength(result.get(), i, 0)));
    }
    const qint64 ns = timer.nsecsElapsed();
    if (g_observer)
        g_observer(what, ns);
    if (const qint64 ms = ns / 1000000; ms >= g_slowQueryMs) {
        logEvent(lcSql(), QtWarningMsg, QStringLiteral("slow query"),
                 {{QStringLiteral("query"), QString::fromLatin1(what)}, {QStringLiteral("ms"), ms}});
    }
    return rows;
}

namespace {
// The PGconn of a QPSQL connection, or null.
PGconn *pgConnection(QSqlDatabase &db)
{
    const QVariant handle = db.driver() ? db.driver()->handle() : QVariant();
    if (!handle.isValid()
        || (qstrcmp(handle.typeName(), "pg_conn*") != 0 && qstrcmp(handle.typeName(), "PGconn*") != 0))
        return nullptr;
    return *static_cast<PGconn *const *>(handle.constData());
}
} // namespace

Result<qint64> pgCopy(QSqlDatabase &db, const char *what, const char *copyStatement, const QByteArray &rows)
{
    ++t_queries;
    QElapsedTimer timer;
    timer.start();
    PGconn *conn = pgConnection(db);
    if (!conn)
        return toError(QSqlError(QStringLiteral("no PostgreSQL connection"), {}, QSqlError::ConnectionError), what);
    const auto failed = [&](const PGresult *result) {
        const char *state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
        return toError(
            QSqlError(QString::fromUtf8(PQerrorMessage(conn)).trimmed(), {},
                      PQstatus(conn) == CONNECTION_OK ? QSqlError::StatementError : QSqlError::ConnectionError,
                      QString::fromLatin1(state ? state : "")),
            what);
    };
    {
        std::unique_ptr<PGresult, decltype(&PQclear)> start(PQexec(conn, copyStatement), &PQclear);
        if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN)
            return failed(start.get());
    }
    // In pieces of at most 1 MiB: libpq buffers what it cannot send at once.
    constexpr qsizetype kPiece = 1 << 20;
    bool sent = true;
    for (qsizetype at = 0; sent && at < rows.size(); at += kPiece) {
        const qsizetype n = std::min(kPiece, rows.size() - at);
        sent = PQputCopyData(conn, rows.constData() + at, int(n)) == 1;
    }
    if (PQputCopyEnd(conn, sent ? nullptr : "copy data not sent") != 1)
        return failed(nullptr);
    qint64 copied = 0;
    std::optional<Error> error;
    while (PGresult *r = PQgetResult(conn)) {
        std::unique_ptr<PGresult, decltype(&PQclear)> result(r, &PQclear);
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            copied = QByteArray(PQcmdTuples(r)).toLongLong();
        else if (!error)
            error = failed(r);
    }
    if (error)
        return *error;
    const qint64 ns = timer.nsecsElapsed();
    if (g_observer)
        g_observer(what, ns);
    return copied;
}

void appendCopyField(QByteArray &line, QStringView value)
{
    const QByteArray utf8 = value.toUtf8();
    line.reserve(line.size() + utf8.size());
    for (const char c : utf8) {
        switch (c) {
        case '\\':
            line += "\\\\";
            break;
        case '\t':
            line += "\\t";
            break;
        case '\n':
            line += "\\n";
            break;
        case '\r':
            line += "\\r";
            break;
        default:
            line += c;
        }
    }
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
    if (m_began && !m_done) {
        finishCachedStatements();
        QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
    }
}

MaybeError Transaction::commit()
{
    if (!m_began)
        return m_error;
    finishCachedStatements();
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("COMMIT")))
        return toError(q.lastError(), "commit");
    m_done = true;
    return std::nullopt;
}

} // namespace taskmaster::server::sql
