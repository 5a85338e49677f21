#include "server/http/http_front.h"

#include "server/http/api.h"
#include "server/http/api_router.h"
#include "shared/codec/rest_json.h"

namespace taskmaster::server {

HttpFront::HttpFront(const Config &config, ApiRouter *api, QObject *parent) : QObject(parent), m_config(config)
{
    addRoutes(api);
}

void HttpFront::addRoutes(ApiRouter *api)
{
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
