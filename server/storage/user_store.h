// UserStore: users and their sessions in SQL. Blocking functions that take the worker's
// connection; callers run them through DbPool. Thread: a database worker.
#pragma once

#include "shared/core/error.h"
#include "shared/domain/types.h"

#include <QByteArray>
#include <QDateTime>
#include <QSqlDatabase>

#include <optional>

namespace taskmaster::server::store {

struct Credentials {
    User user;
    QString passwordHash;
};

// Inserts a user; the first user of an empty database becomes admin (also when two register at
// the same moment). A taken username answers Conflict with field "username".
[[nodiscard]] Result<User> createUser(QSqlDatabase &db, const QString &username, const QString &displayName,
                                      const QString &passwordHash, qint64 nowMs);
[[nodiscard]] Result<std::optional<Credentials>> credentialsFor(QSqlDatabase &db, const QString &username);
[[nodiscard]] Result<std::optional<User>> userById(QSqlDatabase &db, Id id);
// Users whose username or display name starts with prefix (case-insensitive), by username.
[[nodiscard]] Result<QList<User>> searchUsers(QSqlDatabase &db, const QString &prefix, int limit);

// Sessions are stored under the token's digest, never the token.
[[nodiscard]] MaybeError createSession(QSqlDatabase &db, const QByteArray &tokenDigest, Id userId, qint64 nowMs,
                                       qint64 expiresAtMs);
// The session's user if the session exists and has not expired; the expiry slides to
// nowMs + ttlMs when less than half of it is left (so most lookups do not write).
[[nodiscard]] Result<std::optional<User>> sessionUser(QSqlDatabase &db, const QByteArray &tokenDigest, qint64 nowMs,
                                                      qint64 ttlMs);
struct Session {
    User user;
    qint64 expiresAtMs = 0; // after any slide
};
// sessionUser with the session's expiry (what the session cache stores).
[[nodiscard]] Result<std::optional<Session>> session(QSqlDatabase &db, const QByteArray &tokenDigest, qint64 nowMs,
                                                     qint64 ttlMs);
[[nodiscard]] MaybeError deleteSession(QSqlDatabase &db, const QByteArray &tokenDigest);

// Milliseconds since the epoch <-> UTC times, as the schema stores them.
[[nodiscard]] QDateTime fromMs(qint64 ms);

} // namespace taskmaster::server::store
