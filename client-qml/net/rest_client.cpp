#include "client-qml/net/rest_client.h"

#include <QNetworkReply>
#include <QNetworkRequest>

namespace taskmaster::client {

namespace {
constexpr int kTransferTimeoutMs = 15000;
}

RestClient::RestClient(QObject *parent) : QObject(parent) { }

RestClient::~RestClient() = default;

void RestClient::start(const QByteArray &method, const QString &path, const QByteArray &body,
                       const QList<std::pair<QByteArray, QByteArray>> &headers, QObject *context, Deliver deliver,
                       ErrorHandler onError)
{
    QNetworkRequest req(QUrl(m_serverUrl + path));
    req.setTransferTimeout(kTransferTimeoutMs);
    if (!m_token.isEmpty())
        req.setRawHeader("Authorization", "Bearer " + m_token);
    for (const auto &[name, value] : headers)
        req.setRawHeader(name, value);
    if (!body.isEmpty() || method == "POST" || method == "PATCH")
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    QNetworkReply *reply = m_nam.sendCustomRequest(req, method, body);
    const quint64 generation = m_generation;
    connect(reply, &QNetworkReply::finished, this,
            [this, reply, generation, context = QPointer<QObject>(context), deliver = std::move(deliver),
             onError = std::move(onError)] {
                reply->deleteLater();
                if (generation != m_generation || !context)
                    return; // the session (or the object) that asked has ended
                const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
                const QByteArray data = reply->readAll();
                if (status == 401 && m_established) {
                    Q_EMIT sessionExpired();
                    return;
                }
                if (status >= 200 && status < 300 && deliver(data))
                    return;
                const RestError error {status, errorText(status, data)};
                if (onError)
                    onError(error);
                else
                    report(error);
            });
}

void RestClient::sendUnanswered(const Request<NoContent> &request)
{
    QNetworkRequest req(QUrl(m_serverUrl + request.path));
    if (!m_token.isEmpty())
        req.setRawHeader("Authorization", "Bearer " + m_token);
    QNetworkReply *reply = m_nam.sendCustomRequest(req, request.method, request.body);
    connect(reply, &QNetworkReply::finished, reply, &QObject::deleteLater);
}

QString RestClient::errorText(int status, const QByteArray &body)
{
    if (status == 0)
        return tr("Cannot reach the server.");
    if (auto e = fromJson<ErrorBody>(body); e && !e->error.message.isEmpty())
        return e->error.message;
    return tr("The server answered %1.").arg(status);
}

} // namespace taskmaster::client
