// RestClient: the client's HTTP side (docs/protocol.md, "REST"). Sends typed requests
// (api_requests.h) with the session's bearer token and hands each 2xx answer, decoded, to the
// caller. Every other outcome (no answer, a non-2xx status, an answer that does not decode) takes
// one path: a RestError with the text to show, given to the caller's error handler when it passed
// one and reported through failed() otherwise. A 401 while a session is established is not
// handed to anyone: sessionExpired() asks the owner to end the session.
// Revalidation (docs/protocol.md section 5): the body and ETag of each GET's last 200 are kept (in
// memory, per path, for the current token, and in the account's LocalStore when one is set, so a
// restarted client revalidates too); the next GET of the path sends If-None-Match and a 304
// delivers the kept body. revalidationStats() counts those 304s and the bytes they saved (also in
// the debug log, category tm.client.rest).
// Owns: the QNetworkAccessManager, the server address and token used for requests, the kept
// GET answers in memory, and a generation that abandon() bumps so answers to an ended session are
// dropped.
// Thread: the GUI thread.
#pragma once

#include "client-qml/net/api_requests.h"
#include "shared/codec/json_reader.h"
#include "shared/codec/resource_json.h"

#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>

#include <functional>
#include <optional>
#include <type_traits>

namespace taskmaster::client {

class LocalStore;

struct RestError {
    int status = 0; // HTTP status; 0 when the server could not be reached
    QString message; // for the user: the server's error message, or a sentence of ours
};

class RestClient final : public QObject {
    Q_OBJECT

public:
    using ErrorHandler = std::function<void(const RestError &)>;

    explicit RestClient(QObject *parent = nullptr);
    ~RestClient() override;

    struct RevalidationStats {
        qint64 notModified = 0; // 304 answers
        qint64 bytesSaved = 0; // bodies of those answers not sent again
    };

    // "http://host:port" (no trailing slash).
    void setServerUrl(const QString &url);
    [[nodiscard]] QString serverUrl() const { return m_serverUrl; }
    // Sent as "Authorization: Bearer <token>" when not empty.
    void setToken(const QByteArray &token);
    [[nodiscard]] QByteArray token() const { return m_token; }
    [[nodiscard]] RevalidationStats revalidationStats() const { return m_revalidation; }
    // The account's store (not owned; nullptr: answers kept in memory only): GET answers are also
    // saved there and read from it when memory has none. Set it to nullptr before it goes, and
    // only with the token of its account set.
    void setStore(LocalStore *store) { m_store = store; }
    // Established: a 401 means the session has expired (sessionExpired()); before (a login, a
    // restore) it is an answer like any other.
    void setSessionEstablished(bool established) { m_established = established; }
    // Answers to requests sent before this call are dropped (the session that asked has ended).
    void abandon() { ++m_generation; }

    // Sends `request`; onOk(T) runs with the decoded 2xx answer, unless `context` is gone by then.
    // Failures go to onError when given, else to failed().
    template<typename T, typename OnOk>
    void send(const Request<T> &request, QObject *context, OnOk onOk, ErrorHandler onError = {})
    {
        start(
            request.method, request.path, request.body, request.headers, context,
            [onOk = std::move(onOk)](const QByteArray &body) mutable {
                std::optional<T> answer = decode<T>(body);
                if (answer)
                    onOk(std::move(*answer));
                return answer.has_value();
            },
            std::move(onError));
    }
    // Best effort, nothing is read from the answer (logout: the token is forgotten anyway).
    void sendUnanswered(const Request<NoContent> &request);
    // The default error path: failed(error.message).
    void report(const RestError &error) { Q_EMIT failed(error.message); }
    // Text for a failed request: the server's error message when it sent one.
    [[nodiscard]] static QString errorText(int status, const QByteArray &body);

Q_SIGNALS:
    void failed(const QString &message);
    void sessionExpired();
    void revalidationStatsChanged();

private:
    // Decodes the body of a 2xx answer and delivers it; false when it does not decode.
    using Deliver = std::function<bool(const QByteArray &body)>;

    template<typename T> static std::optional<T> decode(const QByteArray &body)
    {
        if constexpr (std::is_same_v<T, NoContent>) {
            return NoContent {};
        } else if constexpr (std::is_same_v<T, QVariantMap>) {
            const QJsonDocument doc = QJsonDocument::fromJson(body);
            return doc.isObject() ? std::optional<T>(doc.object().toVariantMap()) : std::nullopt;
        } else {
            auto r = fromJson<T>(body);
            return r ? std::optional<T>(std::move(*r)) : std::nullopt;
        }
    }
    void start(const QByteArray &method, const QString &path, const QByteArray &body,
               const QList<std::pair<QByteArray, QByteArray>> &headers, QObject *context, Deliver deliver,
               ErrorHandler onError);

    struct Kept {
        QByteArray etag;
        QByteArray body;
    };
    void keep(const QString &path, const QByteArray &etag, const QByteArray &body);
    // The kept answer of a path: from memory, else from the store (then kept in memory too).
    [[nodiscard]] const Kept *kept(const QString &path);

    QNetworkAccessManager m_nam;
    QHash<QString, Kept> m_kept; // GET path -> last 200's ETag and body
    qint64 m_keptBytes = 0;
    LocalStore *m_store = nullptr;
    RevalidationStats m_revalidation;
    QString m_serverUrl;
    QByteArray m_token;
    bool m_established = false;
    quint64 m_generation = 0;
};

} // namespace taskmaster::client
