#include "server/http/http_front.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace taskmaster::server {

HttpFront::HttpFront(const Config &config, QObject *parent) : QObject(parent), m_config(config)
{
    addRoutes();
}

void HttpFront::addRoutes()
{
    m_server.route(QStringLiteral("/health"), QHttpServerRequest::Method::Get, [] {
        return QHttpServerResponse(QJsonObject {{QStringLiteral("status"), QStringLiteral("ok")}});
    });
}

quint16 HttpFront::listen()
{
    return m_server.listen(m_config.listenHost, m_config.listenPort);
}

} // namespace taskmaster::server
