#include "server/http/api.h"

#include "shared/codec/rest_json.h"

#include <QCryptographicHash>

namespace taskmaster::server {

namespace {
const QByteArray kJson = QByteArrayLiteral("application/json");
} // namespace

Call Call::from(const QHttpServerRequest &request)
{
    Call c;
    c.method = request.method();
    c.path = request.url().path();
    c.query = request.query();
    c.body = request.body();
    c.peer = request.remoteAddress();
    const auto headers = request.headers();
    for (const auto &[name, value] : headers) {
        if (name.compare("content-type", Qt::CaseInsensitive) == 0)
            c.contentType = value.trimmed();
        else if (name.compare("authorization", Qt::CaseInsensitive) == 0) {
            const QByteArray v = value.trimmed();
            if (v.size() > 7 && v.first(7).compare("bearer ", Qt::CaseInsensitive) == 0)
                c.bearerToken = v.mid(7).trimmed();
        } else if (name.compare("x-forwarded-for", Qt::CaseInsensitive) == 0) {
            c.forwardedFor = c.forwardedFor.isEmpty() ? value.trimmed() : c.forwardedFor + ", " + value.trimmed();
        } else if (name.compare("if-none-match", Qt::CaseInsensitive) == 0)
            c.ifNoneMatch = value.trimmed();
        else if (name.compare("if-match", Qt::CaseInsensitive) == 0)
            c.ifMatch = value.trimmed();
    }
    return c;
}

MaybeError Call::requireJson() const
{
    const QByteArray type = contentType.split(';').constFirst().trimmed().toLower();
    if (type != kJson) {
        return Error {ErrorCode::UnsupportedMediaType, QStringLiteral("the body must be sent as application/json"), {}};
    }
    return std::nullopt;
}

ApiFuture answerNow(Result<ApiResponse> result)
{
    return QtFuture::makeReadyFuture(std::move(result));
}

QByteArray etagOf(const QByteArray &body)
{
    return "W/\"" + QCryptographicHash::hash(body, QCryptographicHash::Sha1).toHex().left(24) + '"';
}

QHttpServerResponse errorResponse(const Error &error)
{
    QHttpServerResponse r(kJson, toJson(ErrorBody {error}),
                          static_cast<QHttpServerResponse::StatusCode>(httpStatus(error.code)));
    if (error.code == ErrorCode::RateLimited || error.code == ErrorCode::Unavailable) {
        const qint64 seconds = std::max<qint64>(1, (error.retryAfterMs + 999) / 1000);
        r.setHeader(QByteArrayLiteral("Retry-After"), QByteArray::number(seconds));
    }
    return r;
}

QHttpServerResponse toHttp(const Result<ApiResponse> &result, const Call &call)
{
    if (!result)
        return errorResponse(result.error());
    const ApiResponse &a = *result;
    QByteArray etag;
    if (a.etag) {
        etag = a.etagValue.isEmpty() ? etagOf(a.body) : a.etagValue;
        if (!call.ifNoneMatch.isEmpty() && (call.ifNoneMatch == etag || call.ifNoneMatch == "*")) {
            QHttpServerResponse notModified(QHttpServerResponse::StatusCode::NotModified);
            notModified.setHeader(QByteArrayLiteral("ETag"), etag);
            return notModified;
        }
    }
    const auto status = static_cast<QHttpServerResponse::StatusCode>(a.status);
    QHttpServerResponse r = a.status == 204 ? QHttpServerResponse(status) : QHttpServerResponse(kJson, a.body, status);
    if (a.etag) {
        r.setHeader(QByteArrayLiteral("ETag"), etag);
        r.setHeader(QByteArrayLiteral("X-Cache"), a.cacheStatus.isEmpty() ? QByteArrayLiteral("MISS") : a.cacheStatus);
    }
    for (const auto &[name, value] : a.headers)
        r.setHeader(name, value);
    return r;
}

} // namespace taskmaster::server
