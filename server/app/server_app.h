// ServerApp: builds and owns the subsystems of one taskmaster-server process in start order
// (metrics, storage and its migrations, hashing pool, real-time hub, cluster bus and the Redis
// command connection, cache, sessions, rate limits, REST routes, HTTP front) and stops them in
// reverse.
// Thread: network (main) thread.
#pragma once

#include "server/config/config.h"
#include "shared/codec/rest_json.h"
#include "shared/core/error.h"

#include <QObject>
#include <QTimer>

#include <memory>

namespace taskmaster::server {

class AttachmentService;
class Cache;
class Credentials;
class RateLimiter;
class ReadRouting;
class RedisConnection;
class RestApi;
class Sessions;
class DbPool;
class HttpFront;
class Hub;
class ClusterBus;
class MetricsRegistry;

class ServerApp final : public QObject {
    Q_OBJECT
public:
    explicit ServerApp(Config config, QObject *parent = nullptr);
    ~ServerApp() override;

    // Opens the database, migrates it, starts listening. Returns the bound port.
    [[nodiscard]] Result<quint16> start();
    // Graceful stop: readiness turns 503, the listening socket closes, every WebSocket gets
    // `reconnect` and is closed with 1001, in-flight requests and writes finish; `done` is called
    // when nothing is left or after --drain-timeout-ms. Calling it again does nothing.
    void drain(std::function<void()> done);
    // /health/ready's body: status "ok", "degraded" (Redis down, still serving), "draining" or
    // "unavailable" (database unreachable), with one check per part.
    [[nodiscard]] HealthBody readiness() const;

private:
    // Puts the latest pages of the most active rooms and the most active projects and their task
    // lists in the cache (docs/architecture.md: cache warming at start).
    void warmCache();

    Config m_config;
    std::unique_ptr<MetricsRegistry> m_metrics;
    std::unique_ptr<ClusterBus> m_bus; // the hub's relay: outlives it
    std::unique_ptr<Hub> m_hub; // outlives the pool: jobs finishing at shutdown still report to it
    std::unique_ptr<DbPool> m_db;
    std::unique_ptr<Credentials> m_credentials;
    std::unique_ptr<ReadRouting> m_reads; // owns the replica's pool
    std::unique_ptr<Cache> m_cache;
    std::unique_ptr<Sessions> m_sessions;
    std::unique_ptr<RateLimiter> m_limiter;
    std::unique_ptr<RestApi> m_api;
    std::unique_ptr<AttachmentService> m_attachments;
    // Cache, sessions and rate limits in cluster mode; destroyed first so that the callbacks it
    // fails at shutdown still find everything they call.
    std::unique_ptr<RedisConnection> m_redis;
    std::unique_ptr<HttpFront> m_http;
    // SELECT 1 every second through the pool's breaker: it opens the breaker of an idle server
    // whose database went away, and is its half-open probe while it is open. Readiness reads the
    // breaker.
    QTimer m_dbProbe;
    bool m_probeInFlight = false;
    bool m_draining = false;
};

} // namespace taskmaster::server
