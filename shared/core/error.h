// taskmaster::Error and taskmaster::Result: the typed error every layer returns up to the edge, where one
// function maps it to an HTTP status (httpStatus) or a WebSocket error frame.
// Owns: the error codes of docs/protocol.md. Thread: any (plain values).
#pragma once

#include <QString>

#include <optional>
#include <utility>
#include <variant>

namespace taskmaster {

// The codes of docs/protocol.md's error table, in its order.
enum class ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    RateLimited,
    Unavailable,
    Internal,
};

// "validation_failed" etc.
[[nodiscard]] QString errorCodeName(ErrorCode code);
[[nodiscard]] std::optional<ErrorCode> errorCodeFromName(const QString &name);
// 400, 401, ... 500 for Internal.
[[nodiscard]] int httpStatus(ErrorCode code);

struct Error {
    ErrorCode code = ErrorCode::Internal;
    QString message;
    QString field; // empty when no single input field is at fault
    qint64 retryAfterMs = 0; // 429 / 503: when to try again (Retry-After, whole seconds, at least 1)

    [[nodiscard]] static Error badRequest(QString message, QString field = {});
    [[nodiscard]] static Error validation(QString field, QString message);
    [[nodiscard]] static Error tooLarge(QString field, QString message);

    friend bool operator==(const Error &, const Error &) = default;
};

// A value or an Error. A small stand-in for C++23 std::expected.
template<typename T> class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::in_place_index<0>, std::move(value)) { }
    Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) { }

    [[nodiscard]] bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }

    [[nodiscard]] T &value() & { return std::get<0>(m_v); }
    [[nodiscard]] const T &value() const & { return std::get<0>(m_v); }
    [[nodiscard]] T &&value() && { return std::get<0>(std::move(m_v)); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }

    [[nodiscard]] const Error &error() const { return std::get<1>(m_v); }

private:
    std::variant<T, Error> m_v;
};

// Result<void>: an Error when something failed, empty on success. The name says what a true
// value means: `if (MaybeError e = check())` enters the branch on failure.
using MaybeError = std::optional<Error>;

} // namespace taskmaster
