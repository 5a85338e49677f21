// RestApi: the REST layer of one instance, built from the services ServerApp owns. It makes the
// ApiRouter (routes, dispatch, metrics), the Authenticator (token -> user, API rate), the two
// paths handlers run their work on (AuthenticatedQueries, CachedReads) and one controller per
// resource, and hands each controller only what it uses.
// Owns: the router, the authenticator, the query paths and the controllers.
// Thread: network thread.
#pragma once

#include "server/http/optional_ref.h"
#include "server/http/trusted_proxies.h"
#include "server/ratelimit/token_bucket.h"
#include "shared/domain/types.h"

#include <QString>

#include <functional>
#include <memory>

namespace taskmaster::server {

class ApiRouter;
class AuthController;
class AuthenticatedQueries;
class Authenticator;
class Cache;
class CachedReads;
class Credentials;
class DbPool;
class EventSink;
class MetricsRegistry;
class ProjectController;
class RateLimiter;
class ReadRouting;
class RoomController;
class DirectRoomController;
class SearchController;
class Sessions;
class UserController;

// The optional parts and the settings of the REST layer. An absent part means: no cache, no rate
// limits, every read on the primary, no metrics.
struct RestApiOptions {
    OptionalRef<Cache> cache;
    OptionalRef<RateLimiter> limiter;
    OptionalRef<ReadRouting> reads; // replica routing and read-your-writes marks
    OptionalRef<MetricsRegistry> metrics;
    bool coalesceMisses = true; // single flight of concurrent cache misses (CachedReads)
    RateRule apiRate; // per user, authenticated routes
    RateRule authRate; // per client address, register and login
    QList<TrustedProxies::Subnet> trustedProxies; // whose X-Forwarded-For is believed (nginx)
    qint64 sessionTtlMs = 30LL * 24 * 3600 * 1000; // sliding
    QString instanceName; // admin stats
    std::function<QByteArray()> realtimeStats; // JSON object for admin stats; network thread
    std::function<qint64()> nowMs; // wall clock, replaceable in tests (empty: the real one)
};

class RestApi final {
public:
    // The references must outlive the RestApi. events: committed writes are reported there.
    RestApi(DbPool &db, Credentials &credentials, Sessions &sessions, EventSink &events, RestApiOptions options);
    ~RestApi();

    [[nodiscard]] ApiRouter &router() { return *m_router; }
    // Token -> user and the per-user API rate, for routes outside the router (attachments).
    [[nodiscard]] Authenticator &authenticator() { return *m_authenticator; }
    // Puts the latest pages of these rooms and these projects with their task lists in the cache.
    void warm(const QList<Id> &roomIds, const QList<Id> &projectIds);

private:
    std::unique_ptr<ApiRouter> m_router;
    std::unique_ptr<Authenticator> m_authenticator;
    std::unique_ptr<AuthenticatedQueries> m_queries;
    std::unique_ptr<CachedReads> m_cachedReads;
    std::unique_ptr<AuthController> m_auth;
    std::unique_ptr<UserController> m_users;
    std::unique_ptr<RoomController> m_rooms;
    std::unique_ptr<DirectRoomController> m_directRooms;
    std::unique_ptr<ProjectController> m_projects;
    std::unique_ptr<SearchController> m_search;
};

} // namespace taskmaster::server
