#include "server/http/http_front.h"

#include "server/http/api.h"
#include "server/http/api_router.h"
#include "server/metrics/metrics.h"
#include "server/ws/hub.h"
#include "shared/codec/rest_json.h"

#include <QTcpServer>
#include <QTcpSocket>

#include <algorithm>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

namespace taskmaster::server {

namespace {
// The open-files limit (main() raised it to the hard limit) less 512 descriptors for the database
// pool, Redis, logs and files, at least 64: the cap keeps accept() from failing with EMFILE.
int defaultMaxConnections()
{
    rlimit lim {};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY)
        return 100000;
    return int(std::clamp<rlim_t>(lim.rlim_cur, 576, 1000512) - 512);
}
} // namespace

HttpFront::HttpFront(const Config &config, ApiRouter *api, Hub *hub, MetricsRegistry *metrics, QObject *parent)
    : QObject(parent), m_config(config), m_proxies(config.trustedProxies)
{
    m_limits.framing.maxBodyBytes = qint64(config.httpMaxBodyKib) * 1024;
    m_limits.framing.maxHeaderBytes = qint64(config.httpMaxHeaderKib) * 1024;
    m_limits.framing.maxHeaders = config.httpMaxHeaders;
    m_limits.headTimeoutMs = config.httpHeadTimeoutMs;
    m_limits.bodyTimeoutMs = config.httpBodyTimeoutMs;
    m_limits.idleTimeoutMs = config.httpIdleTimeoutMs;
    m_limits.maxConnections = config.maxConnections > 0 ? config.maxConnections : defaultMaxConnections();
    m_limits.maxConnectionsPerAddress = config.maxConnectionsPerAddress;
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
// The listening socket. Accepted connections have Nagle's algorithm off (small frames such as
// acks and events go out at once instead of waiting up to the peer's delayed ACK, ~40 ms) and
// pass FrontGuard::admit before QtHttpServer gets them; the guard is connected to the socket's
// readyRead before QtHttpServer (which takes the socket inside addPendingConnection, from the
// pendingConnectionAvailable signal), and once more after it.
class GuardedTcpServer final : public QTcpServer {
public:
    GuardedTcpServer(const FrontLimits &limits, ConnectionCounts &counts, const TrustedProxies &proxies,
                     QObject *parent)
        : QTcpServer(parent), m_limits(limits), m_counts(counts), m_proxies(proxies)
    {
    }

protected:
    void incomingConnection(qintptr descriptor) override
    {
        const int on = 1;
        ::setsockopt(int(descriptor), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        auto *socket = new QTcpSocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            delete socket;
            return;
        }
        FrontGuard *guard = FrontGuard::admit(socket, m_limits, m_counts, m_proxies);
        if (!guard)
            return; // refused: answered 503 and closing
        addPendingConnection(socket);
        guard->watchAfterServer();
    }

private:
    const FrontLimits &m_limits;
    ConnectionCounts &m_counts;
    const TrustedProxies &m_proxies;
};
} // namespace

quint16 HttpFront::listen()
{
    auto *tcp = new GuardedTcpServer(m_limits, m_counts, m_proxies, this);
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
