#include "server/http/http_front.h"

#include "server/http/api.h"
#include "server/http/api_router.h"
#include "server/metrics/metrics.h"
#include "server/ws/hub.h"
#include "shared/codec/rest_json.h"

namespace taskmaster::server {

HttpFront::HttpFront(const Config &config, ApiRouter *api, Hub *hub, MetricsRegistry *metrics, QObject *parent)
    : QObject(parent), m_config(config)
{
    addRoutes(api, hub, metrics);
}

void HttpFront::addRoutes(ApiRouter *api, Hub *hub, MetricsRegistry *metrics)
{
    if (metrics) {
        m_server.route(QStringLiteral("/metrics"), QHttpServerRequest::Method::Get,
                       [metrics] { return QHttpServerResponse(MetricsRegistry::contentType(), metrics->render()); });
    }
    if (hub) {
        // QtHttpServer 6.4 upgrades only requests a route matches (PITFALLS.md); the socket then
        // arrives through newWebSocketConnection.
        m_server.route(QStringLiteral("/ws"), [](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
            if (request.value("Upgrade").compare("websocket", Qt::CaseInsensitive) == 0)
                return; // the upgrade proceeds
            errorResponse(Error::badRequest(QStringLiteral("/ws expects a WebSocket upgrade")))
                .write(std::move(responder));
        });
        connect(&m_server, &QAbstractHttpServer::newWebSocketConnection, hub, [this, hub] {
            while (m_server.hasPendingWebSocketConnections())
                hub->accept(m_server.nextPendingWebSocketConnection());
        });
    }
    m_server.route(QStringLiteral("/health"), QHttpServerRequest::Method::Get, [] {
        return QHttpServerResponse(QByteArrayLiteral("application/json"),
                                   toJson(HealthBody {QStringLiteral("ok"), {}}));
    });
    if (api)
        api->install(m_server);
    m_server.setMissingHandler([](const QHttpServerRequest &, QHttpServerResponder &&responder) {
        errorResponse(Error {ErrorCode::NotFound, QStringLiteral("no such resource"), {}}).write(std::move(responder));
    });
}

quint16 HttpFront::listen()
{
    return m_server.listen(m_config.listenHost, m_config.listenPort);
}

} // namespace taskmaster::server
