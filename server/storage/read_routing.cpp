#include "server/storage/read_routing.h"

#include "server/redis/redis_connection.h"
#include "server/storage/db_pool.h"

#include <QDeadlineTimer>
#include <QSqlQuery>

namespace taskmaster::server {

namespace {
QByteArray freshKey(Id userId)
{
    return "tm:ryw:" + QByteArray::number(userId);
}

qint64 monotonicMs()
{
    return QDeadlineTimer::current().deadline();
}
} // namespace

ReadRouting::ReadRouting(DbPool *primary, std::unique_ptr<DbPool> replica, RedisConnection *redis, qint64 freshMs,
                         QObject *parent)
    : QObject(parent), m_primary(primary), m_replica(std::move(replica)), m_redis(redis), m_cluster(redis != nullptr),
      m_freshMs(freshMs)
{
    if (!m_replica)
        return;
    m_probe.setInterval(1000);
    connect(&m_probe, &QTimer::timeout, this, [this] {
        if (m_probeInFlight)
            return;
        m_probeInFlight = true;
        // Through the replica pool's breaker: opens it while no read goes there, probes it while open.
        m_replica
            ->query([](QSqlDatabase &conn) -> Result<bool> {
                QSqlQuery q(conn);
                return q.exec(QStringLiteral("SELECT 1"));
            })
            .then(this, [this](const Result<bool> &) { m_probeInFlight = false; });
    });
    m_probe.start();
}

ReadRouting::~ReadRouting() = default;

bool ReadRouting::replicaUp() const
{
    return m_replica && m_replica->breakerState() == CircuitBreaker::State::Closed;
}

void ReadRouting::wrote(const QList<Id> &userIds, std::function<void()> done)
{
    if (!m_replica || userIds.isEmpty()) {
        if (done)
            done();
        return;
    }
    const qint64 until = monotonicMs() + m_freshMs;
    for (Id id : userIds)
        m_local.insert(id, until); // also in cluster mode: this instance knows at once
    if (m_local.size() > 100000) {
        const qint64 now = monotonicMs();
        for (auto it = m_local.begin(); it != m_local.end();)
            it = *it <= now ? m_local.erase(it) : std::next(it);
    }
    if (!m_cluster || !m_redis || !m_redis->isUp()) {
        if (done)
            done();
        return;
    }
    // Pipelined; done after the last reply. A failed mark leaves other instances reading the
    // replica for this user: they route to the primary while Redis is down anyway.
    for (qsizetype i = 0; i < userIds.size(); ++i) {
        const bool last = i + 1 == userIds.size();
        m_redis->command({QByteArrayLiteral("SET"), freshKey(userIds.at(i)), QByteArrayLiteral("1"),
                          QByteArrayLiteral("PX"), QByteArray::number(m_freshMs)},
                         [last, done](Result<RedisReply>) {
                             if (last && done)
                                 done();
                         });
    }
}

void ReadRouting::poolFor(Id userId, std::function<void(DbPool *)> done)
{
    auto primary = [this, &done] {
        ++m_primaryReads;
        done(m_primary);
    };
    if (!replicaUp()) {
        primary();
        return;
    }
    auto it = m_local.find(userId);
    if (it != m_local.end()) {
        if (*it > monotonicMs()) {
            primary();
            return;
        }
        m_local.erase(it);
    }
    if (!m_cluster) {
        ++m_replicaReads;
        done(m_replica.get());
        return;
    }
    if (!m_redis || !m_redis->isUp()) {
        primary(); // cannot tell whether another instance took a write of theirs
        return;
    }
    QPointer<ReadRouting> self(this);
    m_redis->command(
        {QByteArrayLiteral("EXISTS"), freshKey(userId)}, [self, done = std::move(done)](Result<RedisReply> reply) {
            if (!self) {
                done(nullptr); // shutting down: the caller answers 503
                return;
            }
            const bool replica = reply && reply->isInteger() && reply->toInteger() == 0 && self->replicaUp();
            ++(replica ? self->m_replicaReads : self->m_primaryReads);
            done(replica ? self->m_replica.get() : self->m_primary);
        });
}

} // namespace taskmaster::server
