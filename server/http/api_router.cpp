#include "server/http/api_router.h"

#include "server/cache/cache.h"
#include "server/metrics/metrics.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QTcpSocket>

#include <memory>

namespace taskmaster::server {

namespace {
QAnyStringView methodLabel(QHttpServerRequest::Method method)
{
    using Method = QHttpServerRequest::Method;
    switch (method) {
    case Method::Get:
        return "GET";
    case Method::Put:
        return "PUT";
    case Method::Delete:
        return "DELETE";
    case Method::Post:
        return "POST";
    case Method::Head:
        return "HEAD";
    case Method::Options:
        return "OPTIONS";
    case Method::Patch:
        return "PATCH";
    default:
        return "OTHER";
    }
}
} // namespace

ApiRouter::ApiRouter(OptionalRef<Cache> cache, OptionalRef<MetricsRegistry> metrics, QObject *parent)
    : QObject(parent), m_cache(cache)
{
    if (metrics) {
        m_durations = &metrics->histogramFamily(
            "http_request_duration_seconds", "REST requests by method, route template and status",
            {"method", "route", "status"},
            {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5});
    }
}

void ApiRouter::add(QHttpServerRequest::Method method, const QString &pattern, ApiHandler handler)
{
    m_routes.append(Route {method, pattern.split(QLatin1Char('/'), Qt::SkipEmptyParts), pattern, std::move(handler)});
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

void ApiRouter::record(const Call &call, const QString &route, int status, qint64 elapsedNs)
{
    if (!m_durations)
        return;
    const QByteArray code = QByteArray::number(status);
    m_durations->labels({methodLabel(call.method), QAnyStringView(route), QAnyStringView(code)})
        .observeDuration(std::chrono::nanoseconds(elapsedNs));
}

void ApiRouter::dispatch(const Call &call, QHttpServerResponder &&responder)
{
    QElapsedTimer started;
    started.start();
    const QStringList segments = call.path.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    bool pathKnown = false;
    for (const Route &route : m_routes) {
        if (route.segments.size() != segments.size())
            continue;
        PathIds ids;
        bool match = true;
        for (qsizetype i = 0; i < segments.size() && match; ++i) {
            if (route.segments[i] == QLatin1String("{id}")) {
                // Not a positive id: 404, as an unknown path would be.
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
        const QString pattern = route.pattern;
        route.handler(call, ids).then(
            this, [this, out, socket, call, pattern, started](const Result<ApiResponse> &result) {
                auto answer = [this, out, socket, call, pattern, started, result] {
                    record(call, pattern, result ? result->status : httpStatus(result.error().code),
                           started.nsecsElapsed());
                    if (socket && socket->state() == QAbstractSocket::ConnectedState)
                        toHttp(result, call).write(std::move(*out));
                };
                // The write is committed; its cached reads die before anyone learns it happened.
                if (result && !result->invalidate.isEmpty() && m_cache) {
                    QPointer<ApiRouter> self(this);
                    m_cache->bump(result->invalidate, [self, answer] {
                        if (self)
                            answer();
                    });
                    return;
                }
                answer();
            });
        return;
    }
    const Error e = pathKnown
        ? Error {ErrorCode::MethodNotAllowed, QStringLiteral("method not allowed on this path"), {}}
        : Error {ErrorCode::NotFound, QStringLiteral("no such resource"), {}};
    record(call, QStringLiteral("unmatched"), httpStatus(e.code), started.nsecsElapsed());
    errorResponse(e).write(std::move(responder));
}

} // namespace taskmaster::server
