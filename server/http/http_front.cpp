#include "server/http/http_front.h"

#include "server/http/api.h"
#include "server/http/api_router.h"
#include "server/metrics/metrics.h"
#include "server/ws/hub.h"
#include "shared/codec/rest_json.h"

#include <QTcpServer>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace taskmaster::server {

HttpFront::HttpFront(const Config &config, ApiRouter *api, Hub *hub, MetricsRegistry *metrics, QObject *parent)
    : QObject(parent), m_config(config)
{
    addRoutes(api, hub, metrics);
}

void HttpFront::addRoutes(ApiRouter *api, Hub *hub, MetricsRegistry *metrics)
{
    m_server.route(QStringLiteral("/health/ready"), QHttpServerRequest::Method::Get, [this] {
        const HealthBody body = m_readiness ? m_readiness() : HealthBody {QStringLiteral("ok"), {}};
        const bool ready = body.status == QLatin1String("ok") || body.status == QLatin1String("degraded");
        QHttpServerResponse response(QByteArrayLiteral("application/json"), toJson(body),
                                     ready ? QHttpServerResponse::StatusCode::Ok
                                           : QHttpServerResponse::StatusCode::ServiceUnavailable);
        if (!ready)
            response.setHeader(QByteArrayLiteral("Retry-After"), QByteArrayLiteral("1"));
        return response;
    });
    if (metrics) {
        m_server.route(QStringLiteral("/metrics"), QHttpServerRequest::Method::Get,
                       [metrics] { return QHttpServerResponse(MetricsRegistry::contentType(), metrics->render()); });
    }
    if (hub) {
        // QtHttpServer 6.4 upgrades only a request that a route matches while something is connected
        // to newWebSocketConnection (otherwise it answers 404); the socket then arrives there.
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

namespace {
// A listening socket whose accepted connections have Nagle's algorithm off: small frames
// (acks, events) go out at once instead of waiting up to the peer's delayed ACK (~40 ms).
class NoDelayTcpServer final : public QTcpServer {
public:
    using QTcpServer::QTcpServer;

protected:
    void incomingConnection(qintptr descriptor) override
    {
        const int on = 1;
        ::setsockopt(int(descriptor), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        QTcpServer::incomingConnection(descriptor);
    }
};
} // namespace

quint16 HttpFront::listen()
{
    auto *tcp = new NoDelayTcpServer(this);
    tcp->setListenBacklogSize(m_config.listenBacklog);
    if (!tcp->listen(m_config.listenHost, m_config.listenPort)) {
        delete tcp;
        return 0;
    }
    m_server.bind(tcp);
    return tcp->serverPort();
}

void HttpFront::stopListening()
{
    const auto servers = m_server.servers();
    for (QTcpServer *server : servers)
        server->close();
}

} // namespace taskmaster::server
