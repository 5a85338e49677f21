// The REST edge: what a route handler sees (Call), what it returns (Result<ApiResponse>), and the
// one function that turns either into an HTTP response (status, JSON error body of docs/protocol.md,
// Retry-After, ETag / If-None-Match -> 304). Handlers never build HTTP errors themselves.
// Thread: network thread (Call is copied out of the request there; responses are built there).
#pragma once

#include "shared/codec/json_reader.h"
#include "shared/codec/json_writer.h"
#include "shared/core/error.h"

#include <QByteArray>
#include <QFuture>
#include <QHostAddress>
#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QList>
#include <QUrlQuery>

#include <optional>
#include <utility>

namespace taskmaster::server {

// A request, copied out of QHttpServerRequest so it can travel to worker threads.
struct Call {
    QHttpServerRequest::Method method = QHttpServerRequest::Method::Get;
    QString path;
    QUrlQuery query;
    QByteArray body;
    QByteArray contentType;
    QByteArray bearerToken; // from "Authorization: Bearer ..."; empty when absent
    QByteArray ifNoneMatch;
    QByteArray ifMatch;
    QByteArray forwardedFor; // X-Forwarded-For as received (trusted only from --trusted-proxies)
    QHostAddress peer;

    [[nodiscard]] static Call from(const QHttpServerRequest &request);
    // 415 unless the body is declared application/json (charset parameter allowed).
    [[nodiscard]] MaybeError requireJson() const;
};

struct ApiResponse {
    int status = 200;
    QByteArray body; // JSON; empty for 204
    QList<std::pair<QByteArray, QByteArray>> headers;
    bool etag = false; // GET of a resource or list: add an ETag and honour If-None-Match
    QByteArray etagValue; // the ETag when etag is set; empty: a hash of the body
    QByteArray cacheStatus; // X-Cache of an etag'd response: "HIT" or (empty) "MISS"
    // Cache versions (server/cache) this write changed: bumped before the response is written.
    QList<QByteArray> invalidate;

    template<typename T> [[nodiscard]] static ApiResponse json(const T &value, int status = 200)
    {
        ApiResponse r;
        r.status = status;
        r.body = toJson(value);
        return r;
    }
    [[nodiscard]] static ApiResponse noContent()
    {
        ApiResponse r;
        r.status = 204;
        return r;
    }
    ApiResponse &&withETag() &&
    {
        etag = true;
        return std::move(*this);
    }
    ApiResponse &&invalidating(QList<QByteArray> versionKeys) &&
    {
        invalidate += std::move(versionKeys);
        return std::move(*this);
    }
};

// The numeric path segments of a route, in order ("/rooms/{id}/members/{id}" -> {roomId, userId}).
using PathIds = QList<qint64>;

// What a route handler returns: its answer once the work is done (server/http/api_router.h).
using ApiFuture = QFuture<Result<ApiResponse>>;

// An answer known at once (validation failures, ...).
[[nodiscard]] ApiFuture answerNow(Result<ApiResponse> result);

// A JSON request body: 415 unless declared application/json, then the codec's strict decoding
// (400 / 413 / 422 with the field at fault).
template<typename T> [[nodiscard]] Result<T> decodeBody(const Call &call)
{
    if (auto e = call.requireJson())
        return *e;
    return fromJson<T>(call.body);
}

// The HTTP response for a handler's result: errors get docs/protocol.md's body and status (with
// Retry-After for 429/503), successes their ETag (304 when If-None-Match matches).
[[nodiscard]] QHttpServerResponse toHttp(const Result<ApiResponse> &result, const Call &call);
// The error body alone: {"error":{"code","message","field"?}}.
[[nodiscard]] QHttpServerResponse errorResponse(const Error &error);
// A weak ETag over the body bytes.
[[nodiscard]] QByteArray etagOf(const QByteArray &body);

} // namespace taskmaster::server
