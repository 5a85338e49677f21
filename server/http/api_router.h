// ApiRouter: the table of REST routes under /api/v1 (method + path pattern -> handler) and the
// services handlers use. It answers unknown paths 404 and known paths with another method 405,
// in PROTOCOL.md's error body, and turns every handler's future into the HTTP response on the
// network thread, after bumping the cache versions a write changed (so no later read anywhere
// sees the old value). It resolves bearer tokens (Sessions), applies the rate limits (per user on
// authenticated routes, per client address on register/login) and serves cached reads
// (cached(): X-Cache HIT/MISS, ETag from the cache versions). Records
// http_request_duration_seconds{method,route,status}. Controllers add their routes at start.
// Thread: network thread; handlers hand work to the database pool and hashing pool.
#pragma once

#include "server/http/api.h"
#include "server/metrics/metrics.h"
#include "server/ratelimit/rate_limiter.h"
#include "server/storage/db_pool.h"
#include "server/ws/event_sink.h"
#include "shared/domain/types.h"

#include <QFuture>
#include <QHttpServer>
#include <QObject>

#include <functional>

namespace taskmaster::server {

class Cache;
class Credentials;
class ReadRouting;
class Sessions;

// Where an authenticated handler's queries run.
enum class ReadFrom {
    Primary,
    Replica, // history and lists: the read replica when there is one, unless the caller wrote lately
};

struct Services {
    DbPool *db = nullptr;
    Credentials *credentials = nullptr;
    Sessions *sessions = nullptr; // token -> user (required)
    Cache *cache = nullptr; // nullptr: reads are not cached
    RateLimiter *limiter = nullptr; // nullptr: no rate limits
    RateRule apiRate; // per user, authenticated routes
    RateRule authRate; // per client address, register and login
    // Peers whose X-Forwarded-For is believed (nginx): the client address is the last hop that
    // is not one of them.
    QList<std::pair<QHostAddress, int>> trustedProxies;
    MetricsRegistry *metrics = nullptr;
    ReadRouting *reads = nullptr; // replica routing and read-your-writes marks (nullptr: primary only)
    EventSink *events = &EventSink::none(); // committed writes are reported here (any thread)
    qint64 sessionTtlMs = 30LL * 24 * 3600 * 1000; // sliding
    std::function<qint64()> nowMs; // clock, replaceable in tests
    std::function<QByteArray()> realtimeStats; // JSON object; called on the network thread
};

using ApiFuture = QFuture<Result<ApiResponse>>;

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
// ids: the numeric path segments, in order ("/rooms/{id}/members/{id}" -> {roomId, userId}).
using ApiHandler = std::function<ApiFuture(const Call &call, const QList<qint64> &ids)>;

class ApiRouter final : public QObject {
    Q_OBJECT
public:
    ApiRouter(Services services, QObject *parent = nullptr);

    // pattern: "/api/v1/rooms/{id}/messages"; every {id} is a positive integer.
    void add(QHttpServerRequest::Method method, const QString &pattern, ApiHandler handler);
    // Registers the catch-all routes on the server.
    void install(QHttpServer &server);

    [[nodiscard]] const Services &services() const { return m_services; }

    // An immediately finished future (validation failures, ...).
    [[nodiscard]] static ApiFuture ready(Result<ApiResponse> result);
    // Runs fn(db, user) on one database worker after resolving the bearer token (401 when it is
    // missing, unknown or expired): the token lookup and the work share one thread hop.
    // A successful write (not GET) marks the caller as a fresh writer before it is answered.
    [[nodiscard]] ApiFuture authenticated(const Call &call,
                                          std::function<Result<ApiResponse>(QSqlDatabase &, const User &)> fn,
                                          ReadFrom from = ReadFrom::Primary);
    // authenticated() through the cache: a hit answers without the database (X-Cache: HIT);
    // a miss runs fn and stores its 200 under the versions read before it ran.
    [[nodiscard]] ApiFuture cached(const Call &call, CacheKey key,
                                   std::function<Result<CachedRead>(QSqlDatabase &, const User &)> fn);
    // Cache warming: computes fn and stores it under key unless the cache has it (no caller,
    // no response; counted under the metrics label "warm").
    void warm(CacheKey key, std::function<Result<CachedRead>(QSqlDatabase &)> fn);
    // Resolves the bearer token and takes a token of the caller's API rate: the user, 401, 429
    // or 503. done runs on the network thread.
    void authenticate(const Call &call, std::function<void(Result<User>)> done);
    // register / login: next() runs when the client address is within --rate-auth, else 429.
    [[nodiscard]] ApiFuture limitedByAddress(const Call &call, std::function<ApiFuture()> next);
    // The client's address: the peer, or from X-Forwarded-For when the peer is a trusted proxy.
    [[nodiscard]] QHostAddress clientAddress(const Call &call) const;

    // Dispatches a request and answers through the responder once the handler's future resolves
    // (on the network thread). Nothing is written when the client has gone meanwhile.
    void dispatch(const Call &call, QHttpServerResponder &&responder);

private:
    struct Route {
        QHttpServerRequest::Method method;
        QStringList segments; // "{id}" where a number goes
        QString pattern; // the metrics' route label
        ApiHandler handler;
    };
    [[nodiscard]] bool trusted(const QHostAddress &address) const;
    void record(const Call &call, const QString &route, int status, qint64 elapsedNs);

    QList<Route> m_routes;
    Services m_services;
    HistogramFamily *m_durations = nullptr;
};

} // namespace taskmaster::server
