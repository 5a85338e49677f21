// Cache: cache-aside for hot REST reads with version-key invalidation (docs/architecture.md, caching).
// Every cached value depends on a few entity versions ("room:5", "project:3", "ptasks:3"); a
// write bumps its entities' versions (one INCR each) before it is acknowledged, which makes every
// value computed from older versions a miss at once, on every instance, without finding or
// deleting a key. A value is stored with the versions it was computed under (its tag); a lookup
// reads the current versions and the value together and answers a hit only when the tags agree.
// The ETag of a cached resource is derived from its key and tag, so it changes with every write.
//   LocalCache  embedded mode: versions and values in this process (values LRU by bytes).
//   RedisCache  cluster mode: one MGET per lookup (generation, versions, value), values with a
//               TTL, versions without (use a volatile-* maxmemory-policy so Redis never evicts
//               them). A bump that fails (Redis down) marks the cache unusable until it can bump
//               the global generation, which retires every value at once.
// Hits and misses are counted in cache_hits_total / cache_misses_total{cache=<kind>}; every
// kind's two series exist from the start at 0 (metricKinds()), so a hit rate is defined (and an
// alert on it can fire) before the first hit.
// Owns: the local tables (LocalCache). Thread: network thread; callbacks run on it.
#pragma once

#include <QByteArray>
#include <QCache>
#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QRandomGenerator>

#include <functional>
#include <optional>

namespace taskmaster::server {

class MetricsRegistry;
class RedisConnection;

// The version keys of the cached entities.
namespace versions {
[[nodiscard]] QByteArray user(qint64 id);
[[nodiscard]] QByteArray project(qint64 id); // the project and its membership
[[nodiscard]] QByteArray projectTasks(qint64 projectId); // any task of the project
[[nodiscard]] QByteArray room(qint64 id); // the room's messages and membership
} // namespace versions

struct CacheLookup {
    bool usable = false; // false: the cache cannot answer now (Redis down); compute and do not put
    QByteArray tag; // the current versions; put() the computed value under it
    std::optional<QByteArray> value; // a hit: stored under the current tag
};

class Cache : public QObject {
    Q_OBJECT
public:
    using LookupDone = std::function<void(CacheLookup)>;

    // kind: the bounded label of the metrics ("user", "project", "tasks", "messages").
    virtual void get(const QByteArray &kind, const QByteArray &key, const QList<QByteArray> &versionKeys,
                     LookupDone done)
        = 0;
    // Stores value under the tag a get() returned. A write since then makes it a miss.
    virtual void put(const QByteArray &key, const QByteArray &tag, const QByteArray &value) = 0;
    // Bumps every version; done runs when the bumps are visible to every later get() anywhere
    // (or failed, in which case the cache answers unusable until it recovered).
    virtual void bump(const QList<QByteArray> &versionKeys, std::function<void()> done) = 0;
    // False while lookups would answer unusable.
    [[nodiscard]] virtual bool usable() const = 0;

    [[nodiscard]] static QByteArray etag(const QByteArray &key, const QByteArray &tag);
    // The kinds of cached reads (the label of the hit and miss counters): "user", "project",
    // "tasks", "messages", and "warm" for the lookups of cache warming.
    [[nodiscard]] static QList<QByteArray> metricKinds();
    [[nodiscard]] qint64 hits() const { return m_hits; }
    [[nodiscard]] qint64 misses() const { return m_misses; }

protected:
    Cache(MetricsRegistry *metrics, QObject *parent);
    void count(const QByteArray &kind, bool hit);

private:
    MetricsRegistry *m_metrics;
    qint64 m_hits = 0;
    qint64 m_misses = 0;
};

class LocalCache final : public Cache {
    Q_OBJECT
public:
    LocalCache(qint64 maxBytes, MetricsRegistry *metrics, QObject *parent = nullptr);

    void get(const QByteArray &kind, const QByteArray &key, const QList<QByteArray> &versionKeys,
             LookupDone done) override;
    void put(const QByteArray &key, const QByteArray &tag, const QByteArray &value) override;
    void bump(const QList<QByteArray> &versionKeys, std::function<void()> done) override;
    [[nodiscard]] bool usable() const override { return true; }
    [[nodiscard]] qint64 bytes() const { return m_values.totalCost(); }

private:
    struct Entry {
        QByteArray tag;
        QByteArray value;
    };
    [[nodiscard]] QByteArray tagOf(const QList<QByteArray> &versionKeys) const;

    QCache<QByteArray, Entry> m_values;
    QHash<QByteArray, qint64> m_versions;
    // Bumped when the version table is cleared to bound it. Starts at a random number: versions
    // start again at 0 with every run, and a client keeps ETags across server restarts (and its own:
    // the QML client's local store), so a tag of this run must not equal one of an earlier run.
    qint64 m_generation = static_cast<qint64>(QRandomGenerator::system()->generate64() >> 2);
};

class RedisCache final : public Cache {
    Q_OBJECT
public:
    RedisCache(RedisConnection *redis, qint64 ttlMs, MetricsRegistry *metrics, QObject *parent = nullptr);

    void get(const QByteArray &kind, const QByteArray &key, const QList<QByteArray> &versionKeys,
             LookupDone done) override;
    void put(const QByteArray &key, const QByteArray &tag, const QByteArray &value) override;
    void bump(const QList<QByteArray> &versionKeys, std::function<void()> done) override;
    [[nodiscard]] bool usable() const override;

private:
    void renewGeneration();

    QPointer<RedisConnection> m_redis;
    qint64 m_ttlMs;
    bool m_dirty = false; // a bump failed: values in Redis may be stale until the generation moves
    bool m_renewing = false;
};

} // namespace taskmaster::server
