#include "server/http/cached_reads.h"

#include "server/cache/cache.h"
#include "server/http/authenticator.h"
#include "server/http/pending_answer.h"
#include "server/metrics/metrics.h"
#include "server/storage/db_pool.h"

#include <QPointer>

namespace taskmaster::server {

namespace {

// Cached values are stored as "<audience>\n<body>": "*" or comma-separated user ids.
QByteArray storedValue(const CachedRead &read)
{
    QByteArray audience;
    if (read.everyone) {
        audience = "*";
    } else {
        for (Id id : read.audience) {
            if (!audience.isEmpty())
                audience += ',';
            audience += QByteArray::number(id);
        }
    }
    return audience + '\n' + read.response.body;
}

// The body of a stored value if `user` is in its audience.
std::optional<QByteArray> readableBody(const QByteArray &value, Id user)
{
    const qsizetype nl = value.indexOf('\n');
    if (nl < 0)
        return std::nullopt;
    const QByteArrayView audience = QByteArrayView(value).first(nl);
    if (audience != "*") {
        bool member = false;
        const QByteArray self = QByteArray::number(user);
        for (const QByteArray &id : audience.toByteArray().split(',')) {
            if (id == self) {
                member = true;
                break;
            }
        }
        if (!member)
            return std::nullopt;
    }
    return value.mid(nl + 1);
}

// Whether a waiter may take the error of a computation someone else started: not when it is
// about the caller (not found or forbidden for them, perhaps not for the waiter).
bool sharedError(const Error &error)
{
    return error.code != ErrorCode::NotFound && error.code != ErrorCode::Forbidden;
}

} // namespace

CachedReads::CachedReads(Authenticator &authenticator, DbPool &primary, OptionalRef<Cache> cache,
                         OptionalRef<MetricsRegistry> metrics, bool coalesce, QObject *parent)
    : QObject(parent), m_authenticator(authenticator), m_primary(primary), m_cache(cache), m_metrics(metrics),
      m_coalesce(coalesce)
{
    // At 0 from the start (with a cache), not only once warming found something to put.
    if (m_metrics && m_cache) {
        static_cast<void>(warmedCounter());
        static_cast<void>(coalescedCounter());
    }
}

Counter &CachedReads::warmedCounter()
{
    return m_metrics->counter("cache_warmed_total", "Values put in the cache by warming");
}

Counter &CachedReads::coalescedCounter()
{
    return m_metrics->counter("cache_coalesced_total",
                              "Cache misses answered by a computation another request of the same key started");
}

ApiFuture CachedReads::get(const Call &call, CacheKey key, ReadFn fn)
{
    PendingAnswer answer;
    m_authenticator.authenticate(call, [this, answer, key = std::move(key), fn = std::move(fn)](Result<User> user) {
        if (!user) {
            answer.settle(user.error());
            return;
        }
        const User me = *user;
        // The answer of a miss: the caller's own computation, or a flight's shared with it
        // (then checked against the audience like a hit).
        auto miss = [this, answer, key, fn, me](CacheLookup lookup) {
            computeShared(key, lookup, fn, me, [answer, key, lookup, me](const Result<CachedRead> &read) {
                if (!read) {
                    answer.settle(read.error());
                    return;
                }
                if (!read->everyone && !read->audience.contains(me.id)) {
                    answer.settle(key.notFound);
                    return;
                }
                ApiResponse response = read->response;
                response.etag = true;
                if (lookup.usable)
                    response.etagValue = Cache::etag(key.key, lookup.tag);
                answer.settle(std::move(response));
            });
        };
        if (!m_cache) {
            miss({});
            return;
        }
        m_cache->get(key.kind, key.key, key.versions, [answer, key, me, miss](CacheLookup lookup) mutable {
            if (!lookup.value) {
                miss(std::move(lookup));
                return;
            }
            auto body = readableBody(*lookup.value, me.id);
            if (!body) {
                answer.settle(key.notFound);
                return;
            }
            ApiResponse response;
            response.body = *body;
            response.etag = true;
            response.etagValue = Cache::etag(key.key, lookup.tag);
            response.cacheStatus = "HIT";
            answer.settle(std::move(response));
        });
    });
    return answer.future();
}

void CachedReads::compute(const CacheKey &key, const CacheLookup &lookup, const ReadFn &fn, const User &me,
                          ReadDone done)
{
    m_primary.query([fn, me](QSqlDatabase &db) -> Result<CachedRead> { return fn(db, me); })
        .then(this, [this, key, lookup, done = std::move(done)](const Result<CachedRead> &read) {
            if (read && lookup.usable && read->response.status == 200 && m_cache)
                m_cache->put(key.key, lookup.tag, storedValue(*read));
            done(read);
        });
}

void CachedReads::computeShared(const CacheKey &key, const CacheLookup &lookup, const ReadFn &fn, const User &me,
                                ReadDone done)
{
    if (!m_coalesce || !m_cache || !lookup.usable) {
        compute(key, lookup, fn, me, std::move(done));
        return;
    }
    const QByteArray flightKey = key.key + '\n' + lookup.tag;
    if (const auto it = m_flights.constFind(flightKey); it != m_flights.cend()) {
        (*it)->waiters.emplace_back(me, std::move(done));
        if (m_metrics)
            coalescedCounter().inc();
        return;
    }
    m_flights.insert(flightKey, std::make_shared<Flight>());
    compute(key, lookup, fn, me,
            [this, flightKey, key, lookup, fn, me, done = std::move(done)](const Result<CachedRead> &read) {
                const std::shared_ptr<Flight> flight = m_flights.take(flightKey);
                done(read);
                if (!flight)
                    return;
                for (auto &[waiter, waiterDone] : flight->waiters) {
                    if (!read && !sharedError(read.error()) && waiter.id != me.id)
                        compute(key, lookup, fn, waiter, std::move(waiterDone));
                    else
                        waiterDone(read);
                }
            });
}

void CachedReads::warm(CacheKey key, std::function<Result<CachedRead>(QSqlDatabase &)> fn)
{
    if (!m_cache)
        return;
    m_warmQueue.emplace_back(std::move(key), std::move(fn));
    warmNext();
}

void CachedReads::warmNext()
{
    while (m_warming < kWarmConcurrency && !m_warmQueue.empty()) {
        auto [key, fn] = std::move(m_warmQueue.front());
        m_warmQueue.pop_front();
        ++m_warming;
        QPointer<CachedReads> self(this);
        m_cache->get("warm", key.key, key.versions, [self, key, fn = std::move(fn)](CacheLookup lookup) {
            if (!self)
                return;
            if (!lookup.usable || lookup.value) {
                self->warmDone();
                return;
            }
            self->m_primary.query([fn](QSqlDatabase &db) -> Result<CachedRead> { return fn(db); })
                .then(self.data(), [self, key, tag = lookup.tag](const Result<CachedRead> &read) {
                    if (!self)
                        return;
                    if (read && read->response.status == 200 && self->m_cache) {
                        self->m_cache->put(key.key, tag, storedValue(*read));
                        if (self->m_metrics)
                            self->warmedCounter().inc();
                    }
                    self->warmDone();
                });
        });
    }
}

void CachedReads::warmDone()
{
    m_warming = std::max(0, m_warming - 1);
    warmNext();
}

} // namespace taskmaster::server
