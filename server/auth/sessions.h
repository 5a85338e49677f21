// Sessions: bearer token -> user for every REST request, without a database round trip for a
// known token. The database's sessions table stays the truth (only the token's digest is
// stored); this caches it:
//   cluster (Redis)  "tm:sess:<digest hex>" = "<expiresAtMs>\n<User JSON>", kept until the
//                    session's expiry is due to slide (then the database slides it and the entry
//                    is filled again), at most 10 minutes. Fills use SET NX so they never
//                    overwrite a revocation: logout writes a tombstone ("-", 10 minutes) after
//                    deleting the row, valid for every instance at once. Redis down: every lookup
//                    reads the database (exact, slower); revocations that could not be written
//                    are written when Redis is back.
//   embedded         the same in a table in this process (entries live 60 s).
// Owns: the local table and the pending revocations. Thread: network thread (callbacks too).
#pragma once

#include "shared/core/error.h"
#include "shared/domain/types.h"

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QPointer>

#include <functional>
#include <optional>

namespace taskmaster::server {

class DbPool;
class RedisConnection;

class Sessions final : public QObject {
    Q_OBJECT
public:
    using LookupDone = std::function<void(Result<std::optional<User>>)>;

    // redis: nullptr in embedded mode. ttlMs: the sliding session lifetime.
    Sessions(DbPool *db, RedisConnection *redis, qint64 ttlMs, std::function<qint64()> nowMs,
             QObject *parent = nullptr);

    // The token digest's user (nullopt: unknown, expired or revoked); Unavailable when neither
    // the cache nor the database can tell.
    void lookup(const QByteArray &digest, LookupDone done);
    // After the row was deleted: no instance accepts the token from now on. done runs when that
    // holds (or the revocation waits for Redis, which is then down for every instance too).
    void revoke(const QByteArray &digest, std::function<void()> done);

private:
    struct Local {
        User user;
        qint64 expiresAtMs = 0;
        qint64 untilMs = 0; // the entry's own lifetime
    };
    void fromDatabase(const QByteArray &digest, LookupDone done, bool fillRedis);
    void fill(const QByteArray &digest, const User &user, qint64 expiresAtMs, bool redis);
    void writeTombstone(const QByteArray &digest);
    [[nodiscard]] qint64 cacheLifetime(qint64 expiresAtMs) const;

    DbPool *m_db;
    QPointer<RedisConnection> m_redis;
    bool m_cluster;
    qint64 m_ttlMs;
    std::function<qint64()> m_nowMs;
    QHash<QByteArray, Local> m_local; // embedded mode
    QHash<QByteArray, qint64> m_revoked; // embedded: digest -> until (fills racing a logout lose)
    QList<QByteArray> m_pendingRevocations; // cluster: tombstones not yet written
};

} // namespace taskmaster::server
