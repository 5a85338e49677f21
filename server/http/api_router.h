// ApiRouter: the table of REST routes under /api/v1 (method + path pattern -> handler) and the
// services handlers use. It answers unknown paths 404 and known paths with another method 405,
// in PROTOCOL.md's error body, and turns every handler's future into the HTTP response on the
// network thread. Controllers (auth, rooms, ...) add their routes at start.
// Thread: network thread; handlers hand work to the database pool and hashing pool.
#pragma once

#include "server/http/api.h"
#include "server/storage/db_pool.h"
#include "server/ws/event_sink.h"
#include "shared/domain/types.h"

#include <QFuture>
#include <QHttpServer>
#include <QObject>

#include <functional>

namespace taskmaster::server {

class Credentials;

struct Services {
    DbPool *db = nullptr;
    Credentials *credentials = nullptr;
    EventSink *events = &EventSink::none(); // committed writes are reported here (any thread)
    qint64 sessionTtlMs = 30LL * 24 * 3600 * 1000; // sliding
    std::function<qint64()> nowMs; // clock, replaceable in tests
    std::function<QByteArray()> realtimeStats; // JSON object; called on the network thread
};

using ApiFuture = QFuture<Result<ApiResponse>>;
// ids: the numeric path segments, in order ("/rooms/{id}/members/{id}" -> {roomId, userId}).
using ApiHandler = std::function<ApiFuture(const Call &call, const QList<qint64> &ids)>;

class ApiRouter final : public QObject {
    Q_OBJECT
public:
    ApiRouter(Services services, QObject *parent = nullptr);

    // pattern: "/api/v1/rooms/{id}/messages"; every {id} is a positive integer.
    void add(QHttpServerRequest::Method method, const QString &pattern, ApiHandler handler);
    // Registers the catch-all routes on the server.
    void install(QHttpServer &server);

    [[nodiscard]] const Services &services() const { return m_services; }

    // An immediately finished future (validation failures, ...).
    [[nodiscard]] static ApiFuture ready(Result<ApiResponse> result);
    // Runs fn(db, user) on one database worker after resolving the bearer token (401 when it is
    // missing, unknown or expired): the token lookup and the work share one thread hop.
    [[nodiscard]] ApiFuture authenticated(const Call &call,
                                          std::function<Result<ApiResponse>(QSqlDatabase &, const User &)> fn) const;

    // Dispatches a request and answers through the responder once the handler's future resolves
    // (on the network thread). Nothing is written when the client has gone meanwhile.
    void dispatch(const Call &call, QHttpServerResponder &&responder);

private:
    struct Route {
        QHttpServerRequest::Method method;
        QStringList segments; // "{id}" where a number goes
        ApiHandler handler;
    };
    QList<Route> m_routes;
    Services m_services;
};

} // namespace taskmaster::server
