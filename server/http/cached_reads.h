// CachedReads: the cache-aside path of hot REST reads (a user, a project, a task list, a room's
// latest page). get() authenticates the caller, then asks the cache: a hit answers without the
// database (X-Cache: HIT, one Redis MGET in cluster mode), a miss computes on the primary and
// stores the 200 under the versions read before it ran. Values carry their audience (everyone,
// or the members who may read them; anyone else gets the key's notFound). The ETag comes from
// the key and the versions, so it changes with every write. warm() fills the cache at start, in
// the background: at most kWarmConcurrency lookups and reads at a time, the rest in a FIFO. An
// instance that starts into a busy cluster (a rolling restart) must not put hundreds of reads
// into the database at once, ahead of the sends of every client.
// Without a cache every read is computed (X-Cache: MISS, ETag still from the versions: none).
// Single flight: concurrent misses of one key under the same versions (the tag a lookup returned)
// are computed once. The first starts the database read; the others wait for it and share its
// value (each checked against the audience, as a hit is) or its error (X-Cache: MISS, counted in
// cache_coalesced_total). The flight ends with its answer, so a later miss computes again, and a
// write moves the versions, so a read looked up after it never joins a flight of older ones. An
// access error (404/403) depends on who asked: a waiter who is not the one who computed it
// computes its own answer. Off with coalesce = false (--cache-coalesce 0, for comparison); never
// without a usable cache (no versions to key the flight by).
// Owns: nothing (uses the authenticator, the primary pool, the optional cache and metrics).
// Thread: network thread; fn runs on a database worker.
#pragma once

#include "server/http/api.h"
#include "server/http/optional_ref.h"
#include "shared/domain/types.h"

#include <QHash>
#include <QObject>
#include <QSqlDatabase>

#include <deque>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace taskmaster::server {

class Authenticator;
class Cache;
struct CacheLookup;
class Counter;
class DbPool;
class MetricsRegistry;

// What a cached read computes: the response (200 is stored) and who may read it from the cache.
struct CachedRead {
    ApiResponse response;
    bool everyone = false; // any authenticated user
    QList<Id> audience; // else: these users only (others get notFound)
};

struct CacheKey {
    QByteArray kind; // metrics label: "user", "project", "tasks", "messages"
    QByteArray key; // the value's key (kind + ids + normalised query)
    QList<QByteArray> versions; // the versions it depends on (server/cache: versions::...)
    Error notFound; // the answer to a caller outside the audience
};

class CachedReads final : public QObject {
    Q_OBJECT
public:
    // cache: absent when --cache-mib is 0; metrics: absent in tools and tests.
    // coalesce: single flight of concurrent misses (above).
    CachedReads(Authenticator &authenticator, DbPool &primary, OptionalRef<Cache> cache,
                OptionalRef<MetricsRegistry> metrics, bool coalesce = true, QObject *parent = nullptr);

    // A hit answers without the database (X-Cache: HIT); a miss runs fn and stores its 200.
    [[nodiscard]] ApiFuture get(const Call &call, CacheKey key,
                                std::function<Result<CachedRead>(QSqlDatabase &, const User &)> fn);
    // Computes fn and stores it under key unless the cache has it (no caller, no response;
    // counted in cache_warmed_total, looked up under the metrics label "warm").
    void warm(CacheKey key, std::function<Result<CachedRead>(QSqlDatabase &)> fn);

private:
    using ReadFn = std::function<Result<CachedRead>(QSqlDatabase &, const User &)>;
    using ReadDone = std::function<void(const Result<CachedRead> &)>;
    // A computation of one key under one tag and the callers waiting for it besides its starter.
    struct Flight {
        std::vector<std::pair<User, ReadDone>> waiters;
    };
    // Runs fn for me on the primary, stores a 200 under lookup's tag and calls done with it.
    void compute(const CacheKey &key, const CacheLookup &lookup, const ReadFn &fn, const User &me, ReadDone done);
    // compute() once for every concurrent caller of key under lookup's tag (single flight).
    void computeShared(const CacheKey &key, const CacheLookup &lookup, const ReadFn &fn, const User &me, ReadDone done);
    [[nodiscard]] Counter &coalescedCounter(); // cache_coalesced_total
    static constexpr int kWarmConcurrency = 2;
    using WarmJob = std::pair<CacheKey, std::function<Result<CachedRead>(QSqlDatabase &)>>;
    // Starts queued warm jobs while fewer than kWarmConcurrency run; warmDone() ends one.
    void warmNext();
    void warmDone();
    [[nodiscard]] Counter &warmedCounter(); // cache_warmed_total
    Authenticator &m_authenticator;
    DbPool &m_primary;
    OptionalRef<Cache> m_cache;
    OptionalRef<MetricsRegistry> m_metrics;
    bool m_coalesce;
    QHash<QByteArray, std::shared_ptr<Flight>> m_flights; // key + '\n' + tag -> its flight
    std::deque<WarmJob> m_warmQueue;
    int m_warming = 0;
};

} // namespace taskmaster::server
