#include "server/http/api_router.h"

#include "server/auth/credentials.h"
#include "server/auth/sessions.h"
#include "server/cache/cache.h"
#include "server/storage/read_routing.h"
#include "server/storage/user_store.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QPromise>
#include <QTcpSocket>

#include <memory>

namespace taskmaster::server {

namespace {

using Promise = std::shared_ptr<QPromise<Result<ApiResponse>>>;

Promise newPromise()
{
    auto p = std::make_shared<QPromise<Result<ApiResponse>>>();
    p->start();
    return p;
}

void settle(const Promise &p, Result<ApiResponse> result)
{
    p->addResult(std::move(result));
    p->finish();
}

Error unavailable()
{
    return DbPool::unavailable();
}

Error rateLimited(qint64 retryAfterMs)
{
    return Error {ErrorCode::RateLimited, QStringLiteral("too many requests: slow down"), {}, retryAfterMs};
}

QHostAddress plain(const QHostAddress &a)
{
    bool v4 = false;
    const quint32 ip = a.toIPv4Address(&v4);
    return v4 ? QHostAddress(ip) : a;
}

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

ApiRouter::ApiRouter(Services services, QObject *parent) : QObject(parent), m_services(std::move(services))
{
    if (!m_services.nowMs)
        m_services.nowMs = [] { return QDateTime::currentMSecsSinceEpoch(); };
    if (m_services.metrics) {
        m_durations = &m_services.metrics->histogramFamily(
            "http_request_duration_seconds", "REST requests by method, route template and status",
            {"method", "route", "status"},
            {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5});
    }
}

void ApiRouter::add(QHttpServerRequest::Method method, const QString &pattern, ApiHandler handler)
{
    m_routes.append(Route {method, pattern.split(QLatin1Char('/'), Qt::SkipEmptyParts), pattern, std::move(handler)});
}

void ApiRouter::install(QHttpServer &server)
{
    // Up to four segments below /api/v1; the table decides what they mean. Handlers answer
    // through the responder (Qt 6.4's QFuture<QHttpServerResponse> route path crashes when the
    // future comes from a continuation, so it is not used).
    const auto any = QHttpServerRequest::Method::AnyKnown;
    server.route(QStringLiteral("/api/v1/<arg>"), any,
                 [this](const QString &, const QHttpServerRequest &r, QHttpServerResponder &&out) {
                     dispatch(Call::from(r), std::move(out));
                 });
    server.route(QStringLiteral("/api/v1/<arg>/<arg>"), any,
                 [this](const QString &, const QString &, const QHttpServerRequest &r, QHttpServerResponder &&out) {
                     dispatch(Call::from(r), std::move(out));
                 });
    server.route(QStringLiteral("/api/v1/<arg>/<arg>/<arg>"), any,
                 [this](const QString &, const QString &, const QString &, const QHttpServerRequest &r,
                        QHttpServerResponder &&out) { dispatch(Call::from(r), std::move(out)); });
    server.route(QStringLiteral("/api/v1/<arg>/<arg>/<arg>/<arg>"), any,
                 [this](const QString &, const QString &, const QString &, const QString &, const QHttpServerRequest &r,
                        QHttpServerResponder &&out) { dispatch(Call::from(r), std::move(out)); });
}

ApiFuture ApiRouter::ready(Result<ApiResponse> result)
{
    return QtFuture::makeReadyFuture(std::move(result));
}

void ApiRouter::authenticate(const Call &call, std::function<void(Result<User>)> done)
{
    if (call.bearerToken.isEmpty()) {
        done(Error {ErrorCode::Unauthorized, QStringLiteral("missing bearer token"), {}});
        return;
    }
    const QByteArray digest = Credentials::tokenDigest(QString::fromLatin1(call.bearerToken));
    QPointer<ApiRouter> self(this);
    m_services.sessions->lookup(digest, [self, done = std::move(done)](Result<std::optional<User>> found) {
        if (!self || !found) {
            done(found ? unavailable() : found.error());
            return;
        }
        if (!found->has_value()) {
            done(Error {ErrorCode::Unauthorized, QStringLiteral("unknown or expired token"), {}});
            return;
        }
        const User user = **found;
        if (!self->m_services.limiter) {
            done(user);
            return;
        }
        self->m_services.limiter->take("api", QByteArray::number(user.id), self->m_services.apiRate,
                                       [user, done](RateDecision d) {
                                           if (d.allowed)
                                               done(user);
                                           else
                                               done(rateLimited(d.retryAfterMs));
                                       });
    });
}

ApiFuture ApiRouter::authenticated(const Call &call,
                                   std::function<Result<ApiResponse>(QSqlDatabase &, const User &)> fn, ReadFrom from)
{
    Promise promise = newPromise();
    ApiFuture future = promise->future();
    const bool write = call.method != QHttpServerRequest::Method::Get;
    authenticate(call, [this, promise, fn = std::move(fn), from, write](Result<User> user) {
        if (!user) {
            settle(promise, user.error());
            return;
        }
        const User me = *user;
        // On the replica, a failure that is not the caller's (the replica behind on the schema,
        // unreachable, a conflict with recovery) is retried once on the primary.
        auto runOn = std::make_shared<std::function<void(DbPool *)>>();
        *runOn = [this, promise, fn, me, write, weak = std::weak_ptr(runOn)](DbPool *pool) {
            if (!pool) {
                settle(promise, unavailable());
                return;
            }
            const bool onReplica = pool != m_services.db;
            auto self = weak.lock(); // the caller holds it now; the continuation keeps it for a retry
            pool->query([fn, me](QSqlDatabase &db) -> Result<ApiResponse> { return fn(db, me); })
                .then(this, [this, promise, me, write, onReplica, self](const Result<ApiResponse> &r) {
                    if (!r && onReplica && self
                        && (r.error().code == ErrorCode::Internal || r.error().code == ErrorCode::Unavailable)) {
                        (*self)(m_services.db);
                        return;
                    }
                    // The caller's next reads stay on the primary for a while, on every instance.
                    if (r && write && m_services.reads) {
                        m_services.reads->wrote({me.id}, [promise, r] { settle(promise, r); });
                        return;
                    }
                    settle(promise, r);
                });
        };
        if (from == ReadFrom::Replica && m_services.reads)
            m_services.reads->poolFor(me.id, [runOn](DbPool *pool) { (*runOn)(pool); });
        else
            (*runOn)(m_services.db);
    });
    return future;
}

ApiFuture ApiRouter::cached(const Call &call, CacheKey key,
                            std::function<Result<CachedRead>(QSqlDatabase &, const User &)> fn)
{
    Promise promise = newPromise();
    ApiFuture future = promise->future();
    authenticate(call, [this, promise, key = std::move(key), fn = std::move(fn)](Result<User> user) {
        if (!user) {
            settle(promise, user.error());
            return;
        }
        const User me = *user;
        auto compute = [this, promise, key, fn, me](CacheLookup lookup) {
            m_services.db->query([fn, me](QSqlDatabase &db) -> Result<CachedRead> { return fn(db, me); })
                .then(this, [this, promise, key, lookup](const Result<CachedRead> &read) {
                    if (!read) {
                        settle(promise, read.error());
                        return;
                    }
                    ApiResponse response = read->response;
                    response.etag = true;
                    if (lookup.usable) {
                        response.etagValue = Cache::etag(key.key, lookup.tag);
                        if (response.status == 200 && m_services.cache)
                            m_services.cache->put(key.key, lookup.tag, storedValue(*read));
                    }
                    settle(promise, std::move(response));
                });
        };
        if (!m_services.cache) {
            compute({});
            return;
        }
        m_services.cache->get(key.kind, key.key, key.versions, [promise, key, me, compute](CacheLookup lookup) mutable {
            if (!lookup.value) {
                compute(std::move(lookup));
                return;
            }
            auto body = readableBody(*lookup.value, me.id);
            if (!body) {
                settle(promise, key.notFound);
                return;
            }
            ApiResponse response;
            response.body = *body;
            response.etag = true;
            response.etagValue = Cache::etag(key.key, lookup.tag);
            response.cacheStatus = "HIT";
            settle(promise, std::move(response));
        });
    });
    return future;
}

void ApiRouter::warm(CacheKey key, std::function<Result<CachedRead>(QSqlDatabase &)> fn)
{
    if (!m_services.cache)
        return;
    QPointer<ApiRouter> self(this);
    m_services.cache->get("warm", key.key, key.versions, [self, key, fn = std::move(fn)](CacheLookup lookup) {
        if (!self || !lookup.usable || lookup.value)
            return;
        self->m_services.db->query([fn](QSqlDatabase &db) -> Result<CachedRead> { return fn(db); })
            .then(self.data(), [self, key, tag = lookup.tag](const Result<CachedRead> &read) {
                if (!self || !read || read->response.status != 200 || !self->m_services.cache)
                    return;
                self->m_services.cache->put(key.key, tag, storedValue(*read));
                if (self->m_services.metrics)
                    self->m_services.metrics->counter("cache_warmed_total", "Values put in the cache by warming").inc();
            });
    });
}

bool ApiRouter::trusted(const QHostAddress &address) const
{
    for (const auto &subnet : m_services.trustedProxies) {
        if (address.isInSubnet(subnet))
            return true;
    }
    return false;
}

QHostAddress ApiRouter::clientAddress(const Call &call) const
{
    QHostAddress client = plain(call.peer);
    if (call.forwardedFor.isEmpty() || !trusted(client))
        return client;
    // Right to left: the hops our proxies added, until the first address none of them is.
    const QList<QByteArray> hops = call.forwardedFor.split(',');
    for (qsizetype i = hops.size() - 1; i >= 0; --i) {
        const QHostAddress hop(QString::fromLatin1(hops.at(i).trimmed()));
        if (hop.isNull())
            return client; // garbage from the client: the last address we could trust
        client = plain(hop);
        if (!trusted(client))
            return client;
    }
    return client;
}

ApiFuture ApiRouter::limitedByAddress(const Call &call, std::function<ApiFuture()> next)
{
    if (!m_services.limiter || !m_services.authRate.enabled())
        return next();
    Promise promise = newPromise();
    ApiFuture future = promise->future();
    const QByteArray address = clientAddress(call).toString().toLatin1();
    m_services.limiter->take("auth", address, m_services.authRate,
                             [this, promise, next = std::move(next)](RateDecision d) {
                                 if (!d.allowed) {
                                     settle(promise, rateLimited(d.retryAfterMs));
                                     return;
                                 }
                                 next().then(this, [promise](const Result<ApiResponse> &r) { settle(promise, r); });
                             });
    return future;
}

void ApiRouter::record(const Call &call, const QString &route, int status, qint64 elapsedNs)
{
    if (!m_durations)
        return;
    static const QByteArray methods[] = {"GET", "PUT", "DELETE", "POST", "HEAD", "OPTIONS", "PATCH"};
    QByteArray method = "OTHER";
    switch (call.method) {
    case QHttpServerRequest::Method::Get:
        method = methods[0];
        break;
    case QHttpServerRequest::Method::Put:
        method = methods[1];
        break;
    case QHttpServerRequest::Method::Delete:
        method = methods[2];
        break;
    case QHttpServerRequest::Method::Post:
        method = methods[3];
        break;
    case QHttpServerRequest::Method::Head:
        method = methods[4];
        break;
    case QHttpServerRequest::Method::Options:
        method = methods[5];
        break;
    case QHttpServerRequest::Method::Patch:
        method = methods[6];
        break;
    default:
        break;
    }
    const QByteArray code = QByteArray::number(status);
    m_durations->labels({QAnyStringView(method), QAnyStringView(route), QAnyStringView(code)})
        .observeDuration(std::chrono::nanoseconds(elapsedNs));
}

void ApiRouter::dispatch(const Call &call, QHttpServerResponder &&responder)
{
    QElapsedTimer started;
    started.start();
    const QStringList segments = call.path.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    bool pathKnown = false;
    for (const Route &route : m_routes) {
        if (route.segments.size() != segments.size())
            continue;
        QList<qint64> ids;
        bool match = true;
        for (qsizetype i = 0; i < segments.size() && match; ++i) {
            if (route.segments[i] == QLatin1String("{id}")) {
                const auto id = parseId(segments[i]);
                match = id.has_value();
                if (id)
                    ids.append(*id);
            } else {
                match = route.segments[i] == segments[i];
            }
        }
        if (!match)
            continue;
        pathKnown = true;
        if (route.method != call.method)
            continue;
        auto out = std::make_shared<QHttpServerResponder>(std::move(responder));
        QPointer<QTcpSocket> socket = out->socket();
        const QString pattern = route.pattern;
        route.handler(call, ids).then(
            this, [this, out, socket, call, pattern, started](const Result<ApiResponse> &result) {
                auto answer = [this, out, socket, call, pattern, started, result] {
                    record(call, pattern, result ? result->status : httpStatus(result.error().code),
                           started.nsecsElapsed());
                    if (socket && socket->state() == QAbstractSocket::ConnectedState)
                        toHttp(result, call).write(std::move(*out));
                };
                // The write is committed; its cached reads die before anyone learns it happened.
                if (result && !result->invalidate.isEmpty() && m_services.cache) {
                    QPointer<ApiRouter> self(this);
                    m_services.cache->bump(result->invalidate, [self, answer] {
                        if (self)
                            answer();
                    });
                    return;
                }
                answer();
            });
        return;
    }
    const Error e = pathKnown
        ? Error {ErrorCode::MethodNotAllowed, QStringLiteral("method not allowed on this path"), {}}
        : Error {ErrorCode::NotFound, QStringLiteral("no such resource"), {}};
    record(call, QStringLiteral("unmatched"), httpStatus(e.code), started.nsecsElapsed());
    errorResponse(e).write(std::move(responder));
}

} // namespace taskmaster::server
