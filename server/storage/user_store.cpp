#include "server/storage/user_store.h"

#include "server/storage/sql.h"

namespace taskmaster::server::store {

namespace {
const QString kUserColumns = QStringLiteral("id, username, display_name, role, created_at");

User readUser(const QSqlQuery &q, int first = 0)
{
    User u;
    u.id = q.value(first).toLongLong();
    u.username = q.value(first + 1).toString();
    u.displayName = q.value(first + 2).toString();
    u.role = q.value(first + 3).toInt() == 1 ? Role::Admin : Role::Member;
    u.createdAt = fromMs(q.value(first + 4).toLongLong());
    return u;
}
} // namespace

QDateTime fromMs(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
}

Result<User> createUser(QSqlDatabase &db, const QString &username, const QString &displayName,
                        const QString &passwordHash, qint64 nowMs)
{
    sql::Transaction tx(db);
    if (!tx.began())
        return tx.beginError();
    // Only while the table is empty: lock it so two first registrations cannot both become admin
    // (SQLite's BEGIN IMMEDIATE already serialises writers).
    auto any = sql::run(db, "users.any", QStringLiteral("SELECT EXISTS (SELECT 1 FROM users)"));
    if (!any)
        return any.error();
    any->next();
    bool first = !any->value(0).toBool();
    if (first && sql::dialectOf(db) == sql::Dialect::Postgres) {
        if (auto locked = sql::run(db, "users.lock", QStringLiteral("LOCK TABLE users IN EXCLUSIVE MODE")); !locked)
            return locked.error();
        auto again = sql::run(db, "users.any", QStringLiteral("SELECT EXISTS (SELECT 1 FROM users)"));
        if (!again)
            return again.error();
        again->next();
        first = !again->value(0).toBool();
    }
    auto q = sql::run(db, "users.insert",
                      QStringLiteral("INSERT INTO users (username, display_name, password_hash, role, created_at) "
                                     "VALUES (?, ?, ?, ?, ?) RETURNING ")
                          + kUserColumns,
                      {username, displayName, passwordHash, first ? 1 : 0, nowMs});
    if (!q) {
        if (q.error().code == ErrorCode::Conflict)
            return Error {ErrorCode::Conflict, QStringLiteral("username is taken"), QStringLiteral("username")};
        return q.error();
    }
    q->next();
    User user = readUser(*q);
    q->finish();
    if (auto e = tx.commit())
        return *e;
    return user;
}

Result<std::optional<Credentials>> credentialsFor(QSqlDatabase &db, const QString &username)
{
    auto q = sql::run(db, "users.credentials",
                      QStringLiteral("SELECT ") + kUserColumns
                          + QStringLiteral(", password_hash FROM users WHERE username = ?"),
                      {username});
    if (!q)
        return q.error();
    if (!q->next())
        return std::optional<Credentials>();
    return std::optional<Credentials>(Credentials {readUser(*q), q->value(5).toString()});
}

Result<std::optional<User>> userById(QSqlDatabase &db, Id id)
{
    auto q = sql::run(db, "users.by_id",
                      QStringLiteral("SELECT ") + kUserColumns + QStringLiteral(" FROM users WHERE id = ?"), {id});
    if (!q)
        return q.error();
    if (!q->next())
        return std::optional<User>();
    return std::optional<User>(readUser(*q));
}

Result<QList<User>> searchUsers(QSqlDatabase &db, const QString &prefix, int limit)
{
    // LIKE with the metacharacters of the prefix escaped, so "a_b" matches only "a_b...".
    QString escaped = prefix.toLower();
    escaped.replace(QLatin1Char('\\'), QLatin1String("\\\\"))
        .replace(QLatin1Char('%'), QLatin1String("\\%"))
        .replace(QLatin1Char('_'), QLatin1String("\\_"));
    const QString pattern = escaped + QLatin1Char('%');
    auto q
        = sql::run(db, "users.search",
                   QStringLiteral("SELECT ") + kUserColumns
                       + QStringLiteral(" FROM users WHERE username LIKE ? ESCAPE '\\' OR lower(display_name) LIKE ? "
                                        "ESCAPE '\\' ORDER BY username LIMIT ?"),
                   {pattern, pattern, limit});
    if (!q)
        return q.error();
    QList<User> users;
    while (q->next())
        users.append(readUser(*q));
    return users;
}

MaybeError createSession(QSqlDatabase &db, const QByteArray &tokenDigest, Id userId, qint64 nowMs, qint64 expiresAtMs)
{
    auto q = sql::run(
        db, "sessions.insert",
        QStringLiteral("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)"),
        {tokenDigest, userId, nowMs, expiresAtMs});
    if (!q)
        return q.error();
    return std::nullopt;
}

Result<std::optional<Session>> session(QSqlDatabase &db, const QByteArray &tokenDigest, qint64 nowMs, qint64 ttlMs)
{
    auto q = sql::run(db, "sessions.user",
                      QStringLiteral("SELECT u.id, u.username, u.display_name, u.role, u.created_at, s.expires_at "
                                     "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?"),
                      {tokenDigest});
    if (!q)
        return q.error();
    if (!q->next())
        return std::optional<Session>();
    qint64 expiresAt = q->value(5).toLongLong();
    if (expiresAt <= nowMs)
        return std::optional<Session>();
    User user = readUser(*q);
    q->finish();
    if (expiresAt - nowMs < ttlMs / 2) {
        auto slide
            = sql::run(db, "sessions.slide", QStringLiteral("UPDATE sessions SET expires_at = ? WHERE token_hash = ?"),
                       {nowMs + ttlMs, tokenDigest});
        if (!slide)
            return slide.error();
        expiresAt = nowMs + ttlMs;
    }
    return std::optional<Session>(Session {user, expiresAt});
}

Result<std::optional<User>> sessionUser(QSqlDatabase &db, const QByteArray &tokenDigest, qint64 nowMs, qint64 ttlMs)
{
    auto s = session(db, tokenDigest, nowMs, ttlMs);
    if (!s)
        return s.error();
    if (!s->has_value())
        return std::optional<User>();
    return std::optional<User>((*s)->user);
}

MaybeError deleteSession(QSqlDatabase &db, const QByteArray &tokenDigest)
{
    auto q
        = sql::run(db, "sessions.delete", QStringLiteral("DELETE FROM sessions WHERE token_hash = ?"), {tokenDigest});
    if (!q)
        return q.error();
    return std::nullopt;
}

} // namespace taskmaster::server::store
