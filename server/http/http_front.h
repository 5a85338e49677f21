// HttpFront: owns the QHttpServer and the listening socket, the operational routes (/health,
// /metrics), the WebSocket upgrade on /ws (sockets go to the Hub) and the JSON 404 for unknown
// paths; the REST routes come from ApiRouter. Every accepted socket passes the front's limits
// first (FrontGuard: connection caps, head and body sizes, deadlines; docs/operations.md, "Limits").
// Thread: network (main event loop); it never blocks.
#pragma once

#include "server/config/config.h"
#include "server/http/front_guard.h"
#include "shared/codec/rest_json.h"

#include <QHttpServer>
#include <QObject>

namespace taskmaster::server {

class ApiRouter;
class Hub;
class MetricsRegistry;

class HttpFront final : public QObject {
    Q_OBJECT
public:
    // api, hub and metrics may be null (their routes are then absent).
    HttpFront(const Config &config, ApiRouter *api, Hub *hub = nullptr, MetricsRegistry *metrics = nullptr,
              QObject *parent = nullptr);

    // Listens on the configured address; returns the bound port, or 0 on failure.
    [[nodiscard]] quint16 listen();
    // Closes the listening sockets (draining): connections already open keep being served.
    void stopListening();
    // Open sockets (HTTP and WebSocket) as the front counts them.
    [[nodiscard]] int openConnections() const { return m_counts.total(); }
    // Requests `routes` picks are taken from QtHttpServer at the end of their head and handed to
    // `handler` (FrontGuard, DivertedRequest): the attachment routes, which stream their bodies.
    // Set before listen().
    void divert(bool (*routes)(QByteArrayView method, QByteArrayView path),
                std::function<void(DivertedRequest)> handler)
    {
        m_limits.framing.divert = routes;
        m_limits.onDiverted = std::move(handler);
    }
    // What /health/ready answers: 200 for "ok" and "degraded", 503 otherwise.
    void setReadiness(std::function<HealthBody()> readiness) { m_readiness = std::move(readiness); }

private:
    void addRoutes(ApiRouter *api, Hub *hub, MetricsRegistry *metrics);

    Config m_config;
    FrontLimits m_limits;
    TrustedProxies m_proxies;
    ConnectionCounts m_counts {m_limits};
    QHttpServer m_server;
    std::function<HealthBody()> m_readiness;
};

} // namespace taskmaster::server
