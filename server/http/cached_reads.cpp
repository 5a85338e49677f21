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

} // namespace

CachedReads::CachedReads(Authenticator &authenticator, DbPool &primary, OptionalRef<Cache> cache,
                         OptionalRef<MetricsRegistry> metrics, QObject *parent)
    : QObject(parent), m_authenticator(authenticator), m_primary(primary), m_cache(cache), m_metrics(metrics)
{
    // At 0 from the start (with a cache), not only once warming found something to put.
    if (m_metrics && m_cache)
        static_cast<void>(warmedCounter());
}

Counter &CachedReads::warmedCounter()
{
    return m_metrics->counter("cache_warmed_total", "Values put in the cache by warming");
}

ApiFuture CachedReads::get(const Call &call, CacheKey key,
                           std::function<Result<CachedRead>(QSqlDatabase &, const User &)> fn)
{
    PendingAnswer answer;
    m_authenticator.authenticate(call, [this, answer, key = std::move(key), fn = std::move(fn)](Result<User> user) {
        if (!user) {
            answer.settle(user.error());
            return;
        }
        const User me = *user;
        auto compute = [this, answer, key, fn, me](CacheLookup lookup) {
            m_primary.query([fn, me](QSqlDatabase &db) -> Result<CachedRead> { return fn(db, me); })
                .then(this, [this, answer, key, lookup](const Result<CachedRead> &read) {
                    if (!read) {
                        answer.settle(read.error());
                        return;
                    }
                    ApiResponse response = read->response;
                    response.etag = true;
                    if (lookup.usable) {
                        response.etagValue = Cache::etag(key.key, lookup.tag);
                        if (response.status == 200 && m_cache)
                            m_cache->put(key.key, lookup.tag, storedValue(*read));
                    }
                    answer.settle(std::move(response));
                });
        };
        if (!m_cache) {
            compute({});
            return;
        }
        m_cache->get(key.kind, key.key, key.versions, [answer, key, me, compute](CacheLookup lookup) mutable {
            if (!lookup.value) {
                compute(std::move(lookup));
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
