// ReadRouting: which database a read runs on when a read replica is configured
// (--database-replica-url). History pages and lists go to the replica, except for a caller who
// wrote within the last --replica-fresh-ms: their reads stay on the primary, so a caller always
// reads their own writes (read-your-writes), on every instance. A write marks its author before
// it is acknowledged: "tm:ryw:<user id>" in Redis with that lifetime (every instance sees it), or
// in this process without Redis. While the replica pool's circuit breaker is not closed (reads
// failed on it, or the SELECT 1 probe every second did; the probe is also its half-open probe) or
// Redis cannot tell, reads go to the primary. Without a replica everything is primary.
// Owns: the replica's pool and its probe, the local marks. Thread: network thread.
#pragma once

#include "shared/domain/types.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <memory>

namespace taskmaster::server {

class DbPool;
class RedisConnection;

class ReadRouting final : public QObject {
    Q_OBJECT
public:
    // replica: nullptr without a replica (then nothing is routed); redis: nullptr when embedded.
    ReadRouting(DbPool *primary, std::unique_ptr<DbPool> replica, RedisConnection *redis, qint64 freshMs,
                QObject *parent = nullptr);
    ~ReadRouting() override;

    [[nodiscard]] bool hasReplica() const { return m_replica != nullptr; }
    // The replica's breaker is closed.
    [[nodiscard]] bool replicaUp() const;
    [[nodiscard]] DbPool *replica() const { return m_replica.get(); }
    // Marks these users as fresh writers; done runs when every instance will see the mark (at once
    // without a replica).
    void wrote(const QList<Id> &userIds, std::function<void()> done);
    // The pool a read by `userId` may run on: the replica, or the primary for a fresh writer
    // (nullptr only while shutting down).
    void poolFor(Id userId, std::function<void(DbPool *)> done);
    // Reads routed to each side since the start (for tests and stats).
    [[nodiscard]] qint64 replicaReads() const { return m_replicaReads; }
    [[nodiscard]] qint64 primaryReads() const { return m_primaryReads; }

private:
    DbPool *m_primary;
    std::unique_ptr<DbPool> m_replica;
    QPointer<RedisConnection> m_redis;
    bool m_cluster;
    qint64 m_freshMs;
    QHash<Id, qint64> m_local; // user -> fresh until (monotonic ms), without Redis
    QTimer m_probe;
    bool m_probeInFlight = false;
    qint64 m_replicaReads = 0;
    qint64 m_primaryReads = 0;
};

} // namespace taskmaster::server
