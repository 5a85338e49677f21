#include "shared/core/error.h"

#include <array>

namespace taskmaster {

namespace {
struct CodeInfo {
    ErrorCode code;
    const char *name;
    int status;
};
constexpr std::array kCodes {
    CodeInfo {ErrorCode::BadRequest, "bad_request", 400},
    CodeInfo {ErrorCode::Unauthorized, "unauthorized", 401},
    CodeInfo {ErrorCode::Forbidden, "forbidden", 403},
    CodeInfo {ErrorCode::NotFound, "not_found", 404},
    CodeInfo {ErrorCode::MethodNotAllowed, "method_not_allowed", 405},
    CodeInfo {ErrorCode::Conflict, "conflict", 409},
    CodeInfo {ErrorCode::PreconditionFailed, "precondition_failed", 412},
    CodeInfo {ErrorCode::PayloadTooLarge, "payload_too_large", 413},
    CodeInfo {ErrorCode::UnsupportedMediaType, "unsupported_media_type", 415},
    CodeInfo {ErrorCode::ValidationFailed, "validation_failed", 422},
    CodeInfo {ErrorCode::RateLimited, "rate_limited", 429},
    CodeInfo {ErrorCode::Unavailable, "unavailable", 503},
    CodeInfo {ErrorCode::Internal, "internal", 500},
};
const CodeInfo &info(ErrorCode code)
{
    for (const auto &c : kCodes) {
        if (c.code == code)
            return c;
    }
    return kCodes.back();
}
} // namespace

QString errorCodeName(ErrorCode code)
{
    return QString::fromLatin1(info(code).name);
}

std::optional<ErrorCode> errorCodeFromName(const QString &name)
{
    for (const auto &c : kCodes) {
        if (name == QLatin1String(c.name))
            return c.code;
    }
    return std::nullopt;
}

int httpStatus(ErrorCode code)
{
    return info(code).status;
}

Error Error::badRequest(QString message, QString field)
{
    return Error {ErrorCode::BadRequest, std::move(message), std::move(field)};
}

Error Error::validation(QString field, QString message)
{
    return Error {ErrorCode::ValidationFailed, std::move(message), std::move(field)};
}

Error Error::tooLarge(QString field, QString message)
{
    return Error {ErrorCode::PayloadTooLarge, std::move(message), std::move(field)};
}

} // namespace taskmaster
