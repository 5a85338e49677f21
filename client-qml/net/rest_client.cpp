#include "client-qml/net/rest_client.h"

#include "client-qml/store/local_store.h"

#include <QLoggingCategory>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace taskmaster::client {

Q_LOGGING_CATEGORY(lcRest, "tm.client.rest", QtInfoMsg)

namespace {
constexpr int kTransferTimeoutMs = 15000;
// What is kept for revalidation: bodies up to this size, and at most this much in all (the
// oldest entries are not tracked: when full, the whole set is dropped and starts again).
constexpr qint64 kKeptBodyMax = 1 << 20;
constexpr qint64 kKeptTotalMax = 16 << 20;
} // namespace

void RestClient::setServerUrl(const QString &url)
{
    if (url != m_serverUrl) {
        m_serverUrl = url;
        m_kept.clear();
        m_keptBytes = 0;
    }
}

void RestClient::setToken(const QByteArray &token)
{
    if (token != m_token) {
        m_token = token;
        m_kept.clear(); // answers are the user's own (unread counts, read markers)
        m_keptBytes = 0;
    }
}

void RestClient::keep(const QString &path, const QByteArray &etag, const QByteArray &body)
{
    if (const auto it = m_kept.constFind(path); it != m_kept.cend())
        m_keptBytes -= it->body.size();
    if (etag.isEmpty() || body.size() > kKeptBodyMax) {
        m_kept.remove(path);
        return;
    }
    if (m_keptBytes + body.size() > kKeptTotalMax) {
        m_kept.clear();
        m_keptBytes = 0;
    }
    m_kept.insert(path, {etag, body});
    m_keptBytes += body.size();
}

const RestClient::Kept *RestClient::kept(const QString &path)
{
    if (const auto it = m_kept.constFind(path); it != m_kept.cend())
        return &*it;
    if (!m_store)
        return nullptr;
    auto stored = m_store->httpAnswer(path);
    if (!stored)
        return nullptr;
    keep(path, stored->etag, stored->body);
    const auto it = m_kept.constFind(path);
    return it != m_kept.cend() ? &*it : nullptr;
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
    const bool get = method == "GET";
    if (get) {
        if (const Kept *k = kept(path))
            req.setRawHeader("If-None-Match", k->etag);
    }
    if (!body.isEmpty() || method == "POST" || method == "PATCH")
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    QNetworkReply *reply = m_nam.sendCustomRequest(req, method, body);
    const quint64 generation = m_generation;
    connect(reply, &QNetworkReply::finished, this,
            [this, reply, generation, get, path, context = QPointer<QObject>(context), deliver = std::move(deliver),
             onError = std::move(onError)] {
                reply->deleteLater();
                if (generation != m_generation || !context)
                    return; // the session (or the object) that asked has ended
                int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
                QByteArray data = reply->readAll();
                if (get && status == 304) {
                    if (const Kept *k = kept(path)) {
                        data = k->body; // not modified: the kept answer
                        status = 200;
                        if (m_store)
                            m_store->touchHttpAnswer(path);
                        ++m_revalidation.notModified;
                        m_revalidation.bytesSaved += data.size();
                        qCDebug(lcRest) << "304 for" << path << ":" << data.size() << "bytes saved;"
                                        << m_revalidation.notModified << "304s," << m_revalidation.bytesSaved
                                        << "bytes saved in all";
                        Q_EMIT revalidationStatsChanged();
                    }
                } else if (get && status == 200) {
                    const QByteArray etag = reply->rawHeader("ETag");
                    keep(path, etag, data);
                    if (m_store) {
                        if (!etag.isEmpty() && data.size() <= kKeptBodyMax)
                            m_store->saveHttpAnswer(path, {etag, data});
                        else
                            m_store->removeHttpAnswer(path);
                    }
                }
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
