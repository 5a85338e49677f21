#include "server/cache/cache.h"

#include "server/metrics/metrics.h"
#include "server/redis/redis_connection.h"

#include <QCryptographicHash>

#include <memory>

namespace taskmaster::server {

namespace versions {
QByteArray user(qint64 id)
{
    return "user:" + QByteArray::number(id);
}
QByteArray project(qint64 id)
{
    return "project:" + QByteArray::number(id);
}
QByteArray projectTasks(qint64 projectId)
{
    return "ptasks:" + QByteArray::number(projectId);
}
QByteArray room(qint64 id)
{
    return "room:" + QByteArray::number(id);
}
} // namespace versions

namespace {
constexpr qsizetype kLocalVersionsMax = 1000000;
const QByteArray kGeneration = QByteArrayLiteral("tm:cgen");

QByteArray versionKey(const QByteArray &v)
{
    return "tm:v:" + v;
}
QByteArray valueKey(const QByteArray &key)
{
    return "tm:c:" + key;
}
} // namespace

QByteArray Cache::etag(const QByteArray &key, const QByteArray &tag)
{
    QCryptographicHash h(QCryptographicHash::Sha1);
    h.addData(key);
    h.addData(QByteArrayView("\n"));
    h.addData(tag);
    return "W/\"v" + h.result().toHex().left(24) + '"';
}

namespace {
CounterFamily &counterOf(MetricsRegistry &metrics, bool hit)
{
    const char *name = hit ? "cache_hits_total" : "cache_misses_total";
    const char *help = hit ? "REST reads answered from the cache" : "REST reads computed (not in the cache)";
    return metrics.counterFamily(QLatin1StringView(name), QLatin1StringView(help), {QStringLiteral("cache")});
}
} // namespace

Cache::Cache(MetricsRegistry *metrics, QObject *parent) : QObject(parent), m_metrics(metrics)
{
    if (!m_metrics)
        return;
    // Every series at 0 from the start: hits / (hits + misses) is then defined as soon as either moves.
    for (const bool hit : {true, false}) {
        CounterFamily &family = counterOf(*m_metrics, hit);
        for (const QByteArray &kind : metricKinds())
            family.labels({QAnyStringView(kind)});
    }
}

QList<QByteArray> Cache::metricKinds()
{
    return {QByteArrayLiteral("user"), QByteArrayLiteral("project"), QByteArrayLiteral("tasks"),
            QByteArrayLiteral("messages"), QByteArrayLiteral("warm")};
}

void Cache::count(const QByteArray &kind, bool hit)
{
    ++(hit ? m_hits : m_misses);
    if (!m_metrics)
        return;
    counterOf(*m_metrics, hit).labels({QAnyStringView(kind)}).inc();
}

// --- LocalCache ----------------------------------------------------------------------------------

LocalCache::LocalCache(qint64 maxBytes, MetricsRegistry *metrics, QObject *parent)
    : Cache(metrics, parent), m_values(maxBytes)
{
}

QByteArray LocalCache::tagOf(const QList<QByteArray> &versionKeys) const
{
    QByteArray tag = QByteArray::number(m_generation);
    for (const QByteArray &v : versionKeys)
        tag += '.' + QByteArray::number(m_versions.value(v, 0));
    return tag;
}

void LocalCache::get(const QByteArray &kind, const QByteArray &key, const QList<QByteArray> &versionKeys,
                     LookupDone done)
{
    CacheLookup lookup {true, tagOf(versionKeys), std::nullopt};
    if (const Entry *e = m_values.object(key); e && e->tag == lookup.tag)
        lookup.value = e->value;
    count(kind, lookup.value.has_value());
    done(std::move(lookup));
}

void LocalCache::put(const QByteArray &key, const QByteArray &tag, const QByteArray &value)
{
    const qint64 cost = key.size() + tag.size() + value.size() + 64;
    if (cost > m_values.maxCost())
        return;
    m_values.insert(key, new Entry {tag, value}, cost);
}

void LocalCache::bump(const QList<QByteArray> &versionKeys, std::function<void()> done)
{
    if (m_versions.size() + versionKeys.size() > kLocalVersionsMax) {
        m_versions.clear(); // every tag changes with the generation: nothing stale can match
        ++m_generation;
    }
    for (const QByteArray &v : versionKeys)
        ++m_versions[v];
    if (done)
        done();
}

// --- RedisCache ----------------------------------------------------------------------------------

RedisCache::RedisCache(RedisConnection *redis, qint64 ttlMs, MetricsRegistry *metrics, QObject *parent)
    : Cache(metrics, parent), m_redis(redis), m_ttlMs(ttlMs)
{
    connect(redis, &RedisClientBase::up, this, [this] {
        if (m_dirty)
            renewGeneration();
    });
}

bool RedisCache::usable() const
{
    return m_redis && m_redis->isUp() && !m_dirty;
}

void RedisCache::get(const QByteArray &kind, const QByteArray &key, const QList<QByteArray> &versionKeys,
                     LookupDone done)
{
    if (!usable()) {
        count(kind, false);
        done({});
        return;
    }
    QList<QByteArray> args {QByteArrayLiteral("MGET"), kGeneration};
    for (const QByteArray &v : versionKeys)
        args.append(versionKey(v));
    args.append(valueKey(key));
    QPointer<RedisCache> self(this);
    m_redis->command(std::move(args), [self, kind, done = std::move(done)](Result<RedisReply> reply) {
        if (!self || !reply || !reply->isArray() || reply->size() < 2 || !self->usable()) {
            if (self)
                self->count(kind, false);
            done({});
            return;
        }
        CacheLookup lookup;
        lookup.usable = true;
        const qsizetype n = reply->size();
        for (qsizetype i = 0; i + 1 < n; ++i) {
            if (i > 0)
                lookup.tag += '.';
            lookup.tag += QByteArray::number(reply->at(i).toInteger().value_or(0));
        }
        const RedisReply &stored = reply->at(n - 1);
        if (stored.isString()) {
            const QByteArray bytes = stored.toByteArray();
            const qsizetype nl = bytes.indexOf('\n');
            if (nl > 0 && QByteArrayView(bytes).first(nl) == lookup.tag)
                lookup.value = bytes.mid(nl + 1);
        }
        self->count(kind, lookup.value.has_value());
        done(std::move(lookup));
    });
}

void RedisCache::put(const QByteArray &key, const QByteArray &tag, const QByteArray &value)
{
    if (!usable())
        return;
    m_redis->command({QByteArrayLiteral("SET"), valueKey(key), tag + '\n' + value, QByteArrayLiteral("PX"),
                      QByteArray::number(m_ttlMs)},
                     [](Result<RedisReply>) {});
}

void RedisCache::bump(const QList<QByteArray> &versionKeys, std::function<void()> done)
{
    if (versionKeys.isEmpty() || !m_redis) {
        if (done)
            done();
        return;
    }
    // Pipelined INCRs; done after the last reply (replies come in order).
    auto failed = std::make_shared<bool>(false);
    QPointer<RedisCache> self(this);
    for (qsizetype i = 0; i < versionKeys.size(); ++i) {
        const bool last = i + 1 == versionKeys.size();
        m_redis->command({QByteArrayLiteral("INCR"), versionKey(versionKeys.at(i))},
                         [self, failed, last, done](Result<RedisReply> reply) {
                             if (!reply || !reply->isInteger())
                                 *failed = true;
                             if (!last)
                                 return;
                             if (*failed && self) {
                                 // Values in Redis may now be stale: unusable until the generation moved.
                                 self->m_dirty = true;
                                 self->renewGeneration();
                             }
                             if (done)
                                 done();
                         });
    }
}

void RedisCache::renewGeneration()
{
    if (m_renewing || !m_redis || !m_redis->isUp())
        return; // retried on the next up()
    m_renewing = true;
    QPointer<RedisCache> self(this);
    m_redis->command({QByteArrayLiteral("INCR"), kGeneration}, [self](Result<RedisReply> reply) {
        if (!self)
            return;
        self->m_renewing = false;
        if (reply && reply->isInteger())
            self->m_dirty = false;
    });
}

} // namespace taskmaster::server
