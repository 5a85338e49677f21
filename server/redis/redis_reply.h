// RedisReply: a RESP2 reply as a plain value (nil, integer, status, error, bulk string, array of
// replies), copied out of hiredis so it can outlive the callback, with helpers for the common reads.
// A Redis error reply (-ERR ..., -NOSCRIPT ...) is a reply like any other: the command reached
// Redis and was answered. Transport failures (down, timeout) are the Error of Result<RedisReply>.
// Owns: nothing beyond its value. Thread: any (plain value).
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

namespace taskmaster::server {

class RedisReply {
public:
    enum class Type { Nil, Integer, Status, Error, String, Array };

    RedisReply() = default; // nil

    [[nodiscard]] static RedisReply nil() { return {}; }
    [[nodiscard]] static RedisReply integer(qint64 value);
    [[nodiscard]] static RedisReply status(QByteArray text);
    [[nodiscard]] static RedisReply error(QByteArray text);
    [[nodiscard]] static RedisReply string(QByteArray bytes);
    [[nodiscard]] static RedisReply array(QList<RedisReply> elements);

    [[nodiscard]] Type type() const { return m_type; }
    [[nodiscard]] bool isNil() const { return m_type == Type::Nil; }
    [[nodiscard]] bool isInteger() const { return m_type == Type::Integer; }
    [[nodiscard]] bool isStatus() const { return m_type == Type::Status; }
    [[nodiscard]] bool isError() const { return m_type == Type::Error; }
    [[nodiscard]] bool isString() const { return m_type == Type::String; }
    [[nodiscard]] bool isArray() const { return m_type == Type::Array; }

    // The integer of an integer reply, or a bulk/status string that holds a decimal integer
    // (GET of a counter); nullopt otherwise.
    [[nodiscard]] std::optional<qint64> toInteger() const;
    // The bytes of a bulk string, the text of a status or error reply; empty otherwise.
    [[nodiscard]] QByteArray toByteArray() const { return m_bytes; }
    // True for the status reply "OK".
    [[nodiscard]] bool isOk() const { return m_type == Type::Status && m_bytes == "OK"; }
    // The error's code: its first word ("ERR", "NOSCRIPT", "WRONGTYPE"...); empty for non-errors.
    [[nodiscard]] QByteArray errorCode() const;

    // Array elements (empty for other types).
    [[nodiscard]] const QList<RedisReply> &elements() const { return m_elements; }
    [[nodiscard]] qsizetype size() const { return m_elements.size(); }
    [[nodiscard]] const RedisReply &at(qsizetype i) const { return m_elements.at(i); }

    // redis-cli-like text for logs and test messages: (nil), (integer) 5, "bytes", (error) ERR ...
    [[nodiscard]] QString describe() const;

    friend bool operator==(const RedisReply &, const RedisReply &) = default;

private:
    Type m_type = Type::Nil;
    qint64 m_integer = 0;
    QByteArray m_bytes;
    QList<RedisReply> m_elements;
};

} // namespace taskmaster::server
