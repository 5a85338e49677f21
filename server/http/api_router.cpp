#include "server/http/api_router.h"

#include "server/auth/credentials.h"
#include "server/storage/user_store.h"

#include <QPointer>
#include <QTcpSocket>

namespace taskmaster::server {

ApiRouter::ApiRouter(Services services, QObject *parent) : QObject(parent), m_services(std::move(services))
{
    if (!m_services.nowMs)
        m_services.nowMs = [] { return QDateTime::currentMSecsSinceEpoch(); };
}

void ApiRouter::add(QHttpServerRequest::Method method, const QString &pattern, ApiHandler handler)
{
    m_routes.append(Route {method, pattern.split(QLatin1Char('/'), Qt::SkipEmptyParts), std::move(handler)});
}

void ApiRouter::install(QHttpServer &server)
{
    // Up to four segments below /api/v1; the table decides what they mean. Handlers answer
    // through the responder (Qt 6.4's QFuture<QHttpServerResponse> route path crashes when the
    // future comes from a continuation, so it is not used).
    const auto any = QHttpServerRequest::Method::AnyKnown;
    server.route(QStringLiteral("/api/v1/<arg>"), any,
                 [this](const QString &, const QHttpServerRequest &r, QHttpServerResponder &&out) {
                     dispatch(Call::from(r), std::move(out));
                 });
    server.route(QStringLiteral("/api/v1/<arg>/<arg>"), any,
                 [this](const QString &, const QString &, const QHttpServerRequest &r, QHttpServerResponder &&out) {
                     dispatch(Call::from(r), std::move(out));
                 });
    server.route(QStringLiteral("/api/v1/<arg>/<arg>/<arg>"), any,
                 [this](const QString &, const QString &, const QString &, const QHttpServerRequest &r,
                        QHttpServerResponder &&out) { dispatch(Call::from(r), std::move(out)); });
    server.route(QStringLiteral("/api/v1/<arg>/<arg>/<arg>/<arg>"), any,
                 [this](const QString &, const QString &, const QString &, const QString &, const QHttpServerRequest &r,
                        QHttpServerResponder &&out) { dispatch(Call::from(r), std::move(out)); });
}

ApiFuture ApiRouter::ready(Result<ApiResponse> result)
{
    return QtFuture::makeReadyFuture(std::move(result));
}

ApiFuture ApiRouter::authenticated(const Call &call,
                                   std::function<Result<ApiResponse>(QSqlDatabase &, const User &)> fn) const
{
    if (call.bearerToken.isEmpty())
        return ready(Error {ErrorCode::Unauthorized, QStringLiteral("missing bearer token"), {}});
    const QByteArray digest = Credentials::tokenDigest(QString::fromLatin1(call.bearerToken));
    const qint64 now = m_services.nowMs();
    const qint64 ttl = m_services.sessionTtlMs;
    return m_services.db->run([digest, now, ttl, fn = std::move(fn)](QSqlDatabase &db) -> Result<ApiResponse> {
        if (!db.isOpen())
            return Error {ErrorCode::Unavailable, QStringLiteral("database unavailable"), {}};
        auto user = store::sessionUser(db, digest, now, ttl);
        if (!user)
            return user.error();
        if (!user->has_value())
            return Error {ErrorCode::Unauthorized, QStringLiteral("unknown or expired token"), {}};
        return fn(db, **user);
    });
}

void ApiRouter::dispatch(const Call &call, QHttpServerResponder &&responder)
{
    const QStringList segments = call.path.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    bool pathKnown = false;
    for (const Route &route : m_routes) {
        if (route.segments.size() != segments.size())
            continue;
        QList<qint64> ids;
        bool match = true;
        for (qsizetype i = 0; i < segments.size() && match; ++i) {
            if (route.segments[i] == QLatin1String("{id}")) {
                const auto id = parseId(segments[i]);
                match = id.has_value();
                if (id)
                    ids.append(*id);
            } else {
                match = route.segments[i] == segments[i];
            }
        }
        if (!match)
            continue;
        pathKnown = true;
        if (route.method != call.method)
            continue;
        auto out = std::make_shared<QHttpServerResponder>(std::move(responder));
        QPointer<QTcpSocket> socket = out->socket();
        route.handler(call, ids).then(this, [out, socket, call](const Result<ApiResponse> &result) {
            if (socket && socket->state() == QAbstractSocket::ConnectedState)
                toHttp(result, call).write(std::move(*out));
        });
        return;
    }
    const Error e = pathKnown
        ? Error {ErrorCode::MethodNotAllowed, QStringLiteral("method not allowed on this path"), {}}
        : Error {ErrorCode::NotFound, QStringLiteral("no such resource"), {}};
    errorResponse(e).write(std::move(responder));
}

} // namespace taskmaster::server
