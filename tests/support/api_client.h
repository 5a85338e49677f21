// ApiClient: a synchronous REST client for tests, over QNetworkAccessManager against a real
// server. Each call waits for the reply with a deadline (no sleeps). Thread: the test's thread.
#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QNetworkAccessManager>
#include <QUrl>

#include <utility>

namespace taskmaster::test {

struct ApiReply {
    int status = 0; // 0: no HTTP reply (connection failed or timed out)
    QByteArray body;
    QList<std::pair<QByteArray, QByteArray>> headers;

    [[nodiscard]] QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    [[nodiscard]] QJsonArray items() const { return json().value(QLatin1String("items")).toArray(); }
    [[nodiscard]] QByteArray header(const QByteArray &name) const;
    // The body's "id" (a created resource), 0 when absent.
    [[nodiscard]] qint64 id() const { return json().value(QLatin1String("id")).toInteger(); }
    // The docs/protocol.md error body's code and field ("" when absent).
    [[nodiscard]] QString errorCode() const;
    [[nodiscard]] QString errorField() const;
};

// A registered user: its id and session token.
struct Account {
    qint64 id = 0;
    QByteArray token;
};

// prefix + 12 random hex digits: usernames and names that no other test run uses.
[[nodiscard]] QString uniqueName(const char *prefix);

struct RequestOptions {
    QByteArray token;
    QByteArray contentType = "application/json";
    QList<std::pair<QByteArray, QByteArray>> headers = {};
};

class ApiClient {
public:
    explicit ApiClient(QUrl base) : m_base(std::move(base)) { }

    // method: "GET", "POST", ...; path with query ("/api/v1/rooms?limit=5").
    ApiReply send(const QByteArray &method, const QString &path, const QByteArray &body = {},
                  const RequestOptions &options = {});
    ApiReply get(const QString &path, const QByteArray &token) { return send("GET", path, {}, RequestOptions {token}); }
    // GET /metrics: the Prometheus text (tests/support/metrics_text.h reads it); empty on failure.
    QByteArray metrics() { return get(QStringLiteral("/metrics"), {}).body; }
    ApiReply post(const QString &path, const QJsonObject &body, const QByteArray &token = {})
    {
        return send("POST", path, QJsonDocument(body).toJson(QJsonDocument::Compact), RequestOptions {token});
    }
    ApiReply patch(const QString &path, const QJsonObject &body, const QByteArray &token)
    {
        return send("PATCH", path, QJsonDocument(body).toJson(QJsonDocument::Compact), RequestOptions {token});
    }
    ApiReply del(const QString &path, const QByteArray &token)
    {
        return send("DELETE", path, {}, RequestOptions {token});
    }

    // Registers a user and returns {id, token}; aborts the test run when that fails.
    std::pair<qint64, QByteArray> registerUser(const QString &username,
                                               const QString &password = QStringLiteral("password123"));
    // Registers a user named uniqueName(prefix).
    Account signUp(const char *prefix = "u");
    // A room of owner with members, named uniqueName("room"); its id (0, with a warning, on failure).
    qint64 createRoom(const Account &owner, const QList<Account> &members);

private:
    QUrl m_base;
    QNetworkAccessManager m_nam;
};

} // namespace taskmaster::test
