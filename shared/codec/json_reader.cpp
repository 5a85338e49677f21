#include "shared/codec/json_reader.h"

#include <QJsonDocument>
#include <QJsonParseError>

namespace taskmaster {

Result<QJsonObject> parseObject(QByteArrayView json, qint64 maxBytes)
{
    if (json.size() > maxBytes) {
        return Error::tooLarge(QString(), QStringLiteral("the JSON document is larger than %1 bytes").arg(maxBytes));
    }
    // Qt 6.4's parser rejects malformed UTF-8 (IllegalUTF8String) and nesting deeper than 1024
    // (DeepNesting) without recursing further, so neither needs a pass of its own here.
    QJsonParseError parseError {};
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromRawData(json.data(), json.size()), &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        return Error::badRequest(
            QStringLiteral("not valid JSON: %1 at offset %2").arg(parseError.errorString()).arg(parseError.offset));
    }
    if (!doc.isObject())
        return Error::badRequest(QStringLiteral("a JSON object is expected"));
    return doc.object();
}

void JsonReader::fail(const char *key, const QString &messageTail)
{
    if (!ok())
        return;
    const QString field = QLatin1StringView(key);
    record(Error::validation(field, field + messageTail));
}

void JsonReader::record(Error error)
{
    if (!ok())
        return;
    if (!m_path.isEmpty() && !error.field.isEmpty()) {
        if (error.message.startsWith(error.field))
            error.message.prepend(m_path);
        error.field.prepend(m_path);
    }
    *m_error = std::move(error);
}

namespace json {

std::optional<QString> String::convert(const QJsonValue &v)
{
    if (!v.isString())
        return std::nullopt;
    return v.toString();
}

MaybeError String::check(const QString &s, const QString &field)
{
    // JSON escapes can spell a lone surrogate ("\ud800"), which is not text.
    if (!QStringView(s).isValidUtf16())
        return Error::validation(field, field + QStringLiteral(" is not valid Unicode"));
    return std::nullopt;
}

QString String::expected()
{
    return QStringLiteral("a string");
}

std::optional<qint64> Int::convert(const QJsonValue &v)
{
    if (!v.isDouble())
        return std::nullopt;
    // toInteger() gives its default unless the number is an exact integer within qint64 (it keeps
    // integers Qt parsed as such exact, up to 2^63 - 1): two different defaults tell them apart.
    const qint64 a = v.toInteger(0);
    if (a != v.toInteger(1))
        return std::nullopt;
    return a;
}

QString Int::expected()
{
    return QStringLiteral("an integer");
}

QString Id::expected()
{
    return QStringLiteral("a positive integer");
}

QString NonNegative::expected()
{
    return QStringLiteral("a non-negative integer");
}

std::optional<bool> Bool::convert(const QJsonValue &v)
{
    if (!v.isBool())
        return std::nullopt;
    return v.toBool();
}

QString Bool::expected()
{
    return QStringLiteral("true or false");
}

std::optional<double> Number::convert(const QJsonValue &v)
{
    if (!v.isDouble())
        return std::nullopt;
    return v.toDouble();
}

QString Number::expected()
{
    return QStringLiteral("a number");
}

std::optional<QDateTime> Timestamp::convert(const QJsonValue &v)
{
    if (!v.isString())
        return std::nullopt;
    return parseTimestamp(v.toString());
}

QString Timestamp::expected()
{
    return QStringLiteral("an RFC 3339 timestamp");
}

std::optional<QDate> Date::convert(const QJsonValue &v)
{
    if (!v.isString())
        return std::nullopt;
    return parseDate(v.toString());
}

QString Date::expected()
{
    return QStringLiteral("a date YYYY-MM-DD");
}

std::optional<taskmaster::Channel> Channel::convert(const QJsonValue &v)
{
    if (!v.isString())
        return std::nullopt;
    return taskmaster::Channel::parse(v.toString());
}

QString Channel::expected()
{
    return QStringLiteral("a channel room:<id> or project:<id>");
}

std::optional<QJsonObject> Object::convert(const QJsonValue &v)
{
    if (!v.isObject())
        return std::nullopt;
    return v.toObject();
}

QString Object::expected()
{
    return QStringLiteral("an object");
}

std::optional<QList<taskmaster::Id>> IdArray::convert(const QJsonValue &v)
{
    if (!v.isArray())
        return std::nullopt;
    const QJsonArray array = v.toArray();
    QList<taskmaster::Id> ids;
    ids.reserve(array.size());
    for (const QJsonValue element : array) {
        const std::optional<qint64> id = Int::convert(element);
        if (!id || validateId(*id, QString()))
            return std::nullopt;
        ids.append(*id);
    }
    return ids;
}

QString IdArray::expected()
{
    return QStringLiteral("an array of positive integers");
}

std::optional<ErrorCode> ErrorCodeName::convert(const QJsonValue &v)
{
    if (!v.isString())
        return std::nullopt;
    return errorCodeFromName(v.toString());
}

QString ErrorCodeName::expected()
{
    return QStringLiteral("an error code of the protocol");
}

} // namespace json

} // namespace taskmaster
