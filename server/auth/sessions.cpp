#include "server/auth/sessions.h"

#include "server/redis/redis_connection.h"
#include "server/storage/db_pool.h"
#include "server/storage/user_store.h"
#include "shared/codec/resource_json.h"
#include "shared/codec/rest_json.h"

namespace taskmaster::server {

namespace {
constexpr qint64 kRedisMaxMs = 10 * 60 * 1000;
constexpr qint64 kLocalMaxMs = 60 * 1000;
constexpr qint64 kTombstoneMs = 10 * 60 * 1000;
constexpr qsizetype kLocalMax = 200000;
const QByteArray kTombstone = QByteArrayLiteral("-");

QByteArray redisKey(const QByteArray &digest)
{
    return "tm:sess:" + digest.toHex();
}

Error unavailable()
{
    return Error {ErrorCode::Unavailable, QStringLiteral("session store unavailable"), {}};
}
} // namespace

Sessions::Sessions(DbPool *db, RedisConnection *redis, qint64 ttlMs, std::function<qint64()> nowMs, QObject *parent)
    : QObject(parent), m_db(db), m_redis(redis), m_cluster(redis != nullptr), m_ttlMs(ttlMs), m_nowMs(std::move(nowMs))
{
    if (redis) {
        connect(redis, &RedisClientBase::up, this, [this] {
            const QList<QByteArray> pending = std::exchange(m_pendingRevocations, {});
            for (const QByteArray &digest : pending)
                writeTombstone(digest);
        });
    }
}

qint64 Sessions::cacheLifetime(qint64 expiresAtMs) const
{
    // Until the expiry is due to slide (less than half the lifetime left): then the database
    // must see a lookup.
    return expiresAtMs - m_ttlMs / 2 - m_nowMs();
}

void Sessions::lookup(const QByteArray &digest, LookupDone done)
{
    const qint64 now = m_nowMs();
    if (!m_cluster) {
        auto it = m_local.find(digest);
        if (it != m_local.end()) {
            if (it->untilMs > now && it->expiresAtMs > now) {
                done(std::optional<User>(it->user));
                return;
            }
            m_local.erase(it);
        }
        fromDatabase(digest, std::move(done), false);
        return;
    }
    if (!m_redis || !m_redis->isUp()) {
        fromDatabase(digest, std::move(done), false);
        return;
    }
    QPointer<Sessions> self(this);
    m_redis->command({QByteArrayLiteral("GET"), redisKey(digest)},
                     [self, digest, done = std::move(done)](Result<RedisReply> reply) mutable {
                         if (!self) {
                             done(unavailable());
                             return;
                         }
                         if (!reply || !(reply->isString() || reply->isNil())) {
                             self->fromDatabase(digest, std::move(done), false);
                             return;
                         }
                         if (reply->isNil()) {
                             self->fromDatabase(digest, std::move(done), true);
                             return;
                         }
                         const QByteArray value = reply->toByteArray();
                         if (value == kTombstone) {
                             done(std::optional<User>());
                             return;
                         }
                         const qsizetype nl = value.indexOf('\n');
                         bool ok = false;
                         const qint64 expiresAt = nl > 0 ? value.left(nl).toLongLong(&ok) : 0;
                         auto user = ok ? fromJson<User>(value.mid(nl + 1)) : Result<User>(unavailable());
                         if (!ok || !user || expiresAt <= self->m_nowMs()) {
                             self->fromDatabase(digest, std::move(done), false); // unreadable or late: ask
                             return;
                         }
                         done(std::optional<User>(*user));
                     });
}

void Sessions::fromDatabase(const QByteArray &digest, LookupDone done, bool fillRedis)
{
    const qint64 now = m_nowMs();
    const qint64 ttl = m_ttlMs;
    m_db->query([digest, now, ttl](QSqlDatabase &db) -> Result<std::optional<store::Session>> {
            return store::session(db, digest, now, ttl);
        })
        .then(this, [this, digest, fillRedis, done = std::move(done)](const Result<std::optional<store::Session>> &s) {
            if (!s) {
                done(s.error());
                return;
            }
            if (!s->has_value()) {
                done(std::optional<User>());
                return;
            }
            const store::Session &found = **s;
            fill(digest, found.user, found.expiresAtMs, fillRedis);
            done(std::optional<User>(found.user));
        });
}

void Sessions::fill(const QByteArray &digest, const User &user, qint64 expiresAtMs, bool redis)
{
    const qint64 life = cacheLifetime(expiresAtMs);
    if (life <= 0)
        return;
    const qint64 now = m_nowMs();
    if (!m_cluster) {
        auto revoked = m_revoked.find(digest);
        if (revoked != m_revoked.end()) {
            if (*revoked > now)
                return; // a logout overtook this lookup
            m_revoked.erase(revoked);
        }
        if (m_local.size() >= kLocalMax)
            m_local.clear();
        m_local.insert(digest, Local {user, expiresAtMs, now + std::min(life, kLocalMaxMs)});
        return;
    }
    if (!redis || !m_redis || !m_redis->isUp())
        return;
    m_redis->command({QByteArrayLiteral("SET"), redisKey(digest), QByteArray::number(expiresAtMs) + '\n' + toJson(user),
                      QByteArrayLiteral("PX"), QByteArray::number(std::min(life, kRedisMaxMs)),
                      QByteArrayLiteral("NX")},
                     [](Result<RedisReply>) {});
}

void Sessions::revoke(const QByteArray &digest, std::function<void()> done)
{
    if (!m_cluster) {
        m_local.remove(digest);
        const qint64 now = m_nowMs();
        if (m_revoked.size() > kLocalMax) {
            for (auto it = m_revoked.begin(); it != m_revoked.end();)
                it = *it <= now ? m_revoked.erase(it) : std::next(it);
        }
        m_revoked.insert(digest, now + kLocalMaxMs);
        if (done)
            done();
        return;
    }
    if (!m_redis || !m_redis->isUp()) {
        m_pendingRevocations.append(digest);
        if (done)
            done();
        return;
    }
    QPointer<Sessions> self(this);
    m_redis->command({QByteArrayLiteral("SET"), redisKey(digest), kTombstone, QByteArrayLiteral("PX"),
                      QByteArray::number(kTombstoneMs)},
                     [self, digest, done = std::move(done)](Result<RedisReply> reply) {
                         if (self && !(reply && reply->isOk()))
                             self->m_pendingRevocations.append(digest);
                         if (done)
                             done();
                     });
}

void Sessions::writeTombstone(const QByteArray &digest)
{
    revoke(digest, {});
}

} // namespace taskmaster::server
