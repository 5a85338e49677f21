#include "server/redis/redis_reply.h"

#include "server/redis/hiredis_reply.h"

#include <hiredis/hiredis.h>

namespace taskmaster::server {

RedisReply fromHiredis(const redisReply *r)
{
    const auto bytes = [r] { return QByteArray(r->str, qsizetype(r->len)); };
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        return RedisReply::integer(r->integer);
    case REDIS_REPLY_STATUS:
        return RedisReply::status(bytes());
    case REDIS_REPLY_ERROR:
        return RedisReply::error(bytes());
    case REDIS_REPLY_STRING:
        return RedisReply::string(bytes());
    case REDIS_REPLY_ARRAY: {
        QList<RedisReply> elements;
        elements.reserve(qsizetype(r->elements));
        for (size_t i = 0; i < r->elements; ++i)
            elements.append(fromHiredis(r->element[i]));
        return RedisReply::array(std::move(elements));
    }
    default:
        return RedisReply::nil();
    }
}

RedisReply RedisReply::integer(qint64 value)
{
    RedisReply r;
    r.m_type = Type::Integer;
    r.m_integer = value;
    return r;
}

RedisReply RedisReply::status(QByteArray text)
{
    RedisReply r;
    r.m_type = Type::Status;
    r.m_bytes = std::move(text);
    return r;
}

RedisReply RedisReply::error(QByteArray text)
{
    RedisReply r;
    r.m_type = Type::Error;
    r.m_bytes = std::move(text);
    return r;
}

RedisReply RedisReply::string(QByteArray bytes)
{
    RedisReply r;
    r.m_type = Type::String;
    r.m_bytes = std::move(bytes);
    return r;
}

RedisReply RedisReply::array(QList<RedisReply> elements)
{
    RedisReply r;
    r.m_type = Type::Array;
    r.m_elements = std::move(elements);
    return r;
}

std::optional<qint64> RedisReply::toInteger() const
{
    if (m_type == Type::Integer)
        return m_integer;
    if (m_type == Type::String || m_type == Type::Status) {
        bool ok = false;
        const qint64 v = m_bytes.toLongLong(&ok);
        if (ok)
            return v;
    }
    return std::nullopt;
}

QByteArray RedisReply::errorCode() const
{
    if (m_type != Type::Error)
        return {};
    const qsizetype space = m_bytes.indexOf(' ');
    return space < 0 ? m_bytes : m_bytes.left(space);
}

QString RedisReply::describe() const
{
    switch (m_type) {
    case Type::Nil:
        return QStringLiteral("(nil)");
    case Type::Integer:
        return QStringLiteral("(integer) %1").arg(m_integer);
    case Type::Status:
        return QString::fromUtf8(m_bytes);
    case Type::Error:
        return QStringLiteral("(error) ") + QString::fromUtf8(m_bytes);
    case Type::String: {
        const QByteArray shown = m_bytes.size() > 200 ? m_bytes.left(200) + "..." : m_bytes;
        return QLatin1Char('"') + QString::fromLatin1(shown.toPercentEncoding(" ")) + QLatin1Char('"');
    }
    case Type::Array: {
        QStringList parts;
        for (const RedisReply &e : m_elements)
            parts << e.describe();
        return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
    }
    }
    return {};
}

} // namespace taskmaster::server
