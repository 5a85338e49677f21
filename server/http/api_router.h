// ApiRouter: the table of REST routes under /api/v1 (method + path pattern -> handler) and their
// dispatch. Unknown paths answer 404 and known paths with another method 405, in the error body
// of docs/protocol.md; a handler's future becomes the HTTP response on the network thread (toHttp),
// after the cache versions a write changed are bumped (so no later read anywhere sees the old
// value). Records http_request_duration_seconds{method,route,status} (route: the pattern, or
// "unmatched"). The controllers add their routes at start; what a handler runs on (caller,
// database, cache) is theirs, not the router's.
// Owns: the route table and the duration histogram. Thread: network thread.
#pragma once

#include "server/http/api.h"
#include "server/http/optional_ref.h"
#include "server/metrics/metrics.h"

#include <QHttpServer>
#include <QObject>

#include <functional>

namespace taskmaster::server {

class Cache;

using ApiHandler = std::function<ApiFuture(const Call &call, const PathIds &ids)>;

class ApiRouter final : public QObject {
    Q_OBJECT
public:
    // cache: where a write's ApiResponse::invalidate versions are bumped (absent: no cache);
    // metrics: absent in tools and tests.
    ApiRouter(OptionalRef<Cache> cache, OptionalRef<MetricsRegistry> metrics, QObject *parent = nullptr);

    // pattern: "/api/v1/rooms/{id}/messages"; every {id} is a positive integer.
    void add(QHttpServerRequest::Method method, const QString &pattern, ApiHandler handler);
    // A controller's action as the handler.
    template<typename Controller>
    void add(QHttpServerRequest::Method method, const QString &pattern, Controller *controller,
             ApiFuture (Controller::*action)(const Call &, const PathIds &))
    {
        add(method, pattern,
            [controller, action](const Call &call, const PathIds &ids) { return (controller->*action)(call, ids); });
    }
    // Registers the catch-all routes on the server.
    void install(QHttpServer &server);

    // Dispatches a request and answers through the responder once the handler's future resolves
    // (on the network thread). Nothing is written when the client has gone meanwhile.
    void dispatch(const Call &call, QHttpServerResponder &&responder);

private:
    struct Route {
        QHttpServerRequest::Method method;
        QStringList segments; // "{id}" where a number goes
        QString pattern; // the metrics' route label
        ApiHandler handler;
    };
    void record(const Call &call, const QString &route, int status, qint64 elapsedNs);

    QList<Route> m_routes;
    OptionalRef<Cache> m_cache;
    HistogramFamily *m_durations = nullptr;
};

} // namespace taskmaster::server
