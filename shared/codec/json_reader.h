// JsonReader: the strict reader every decoder of shared/codec is written with. It reads the
// fields of one JSON object by kind (json::Id, json::String, ...), records the FIRST problem as a
// taskmaster::Error naming the field ("roomId", "message.body", "items[2].id") and lets the decoder
// carry on without checking after every read. Unknown fields are ignored (forward compatibility).
// Error mapping (docs/protocol.md): input over the caller's byte limit -> PayloadTooLarge; not JSON
// (including bad UTF-8 and nesting deeper than Qt's limit of 1024) or not an object -> BadRequest
// without field; a missing field, a wrong JSON type or a broken field rule -> ValidationFailed with
// the field (PayloadTooLarge for a message body over its limit, from validation.h).
// Thread: any (pure functions; a reader is a short-lived value).
#pragma once

#include "shared/core/error.h"
#include "shared/domain/types.h"
#include "shared/domain/validation.h"

#include <QByteArrayView>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QStringList>

#include <optional>
#include <utility>

namespace taskmaster {

// A field of a PATCH body: absent (std::nullopt), null (an empty inner optional) or a value.
template<typename T> using Patch = std::optional<std::optional<T>>;

// Parses `json` as one JSON object. PayloadTooLarge when it is over `maxBytes`
// (limits::kBodyBytesMax for REST, limits::kFrameBytesMax for WebSocket), checked before parsing.
[[nodiscard]] Result<QJsonObject> parseObject(QByteArrayView json, qint64 maxBytes);

// Field kinds: how a present, non-null JSON value becomes a C++ value. convert() answers nullopt
// for a wrong JSON type ("roomId must be <expected()>"); check(), where present, applies the field
// rule of validation.h to the converted value.
namespace json {

struct String {
    using Type = QString;
    static std::optional<QString> convert(const QJsonValue &v);
    static MaybeError check(const QString &s, const QString &field); // valid UTF-16 (no lone surrogate)
    static QString expected();
};
// Any integer that fits in qint64: a JSON number with no fractional part ("5", "5.0", "1e3").
struct Int {
    using Type = qint64;
    static std::optional<qint64> convert(const QJsonValue &v);
    static QString expected();
};
struct Id : Int {
    static MaybeError check(qint64 id, const QString &field) { return validateId(id, field); }
    static QString expected();
};
struct NonNegative : Int { // seqs, counts, milliseconds
    static MaybeError check(qint64 n, const QString &field) { return validateSeq(n, field); }
    static QString expected();
};
struct Bool {
    using Type = bool;
    static std::optional<bool> convert(const QJsonValue &v);
    static QString expected();
};
struct Number {
    using Type = double;
    static std::optional<double> convert(const QJsonValue &v);
    static QString expected();
};
struct Timestamp {
    using Type = QDateTime;
    static std::optional<QDateTime> convert(const QJsonValue &v);
    static QString expected();
};
struct Date {
    using Type = QDate;
    static std::optional<QDate> convert(const QJsonValue &v);
    static QString expected();
};
struct Channel {
    using Type = taskmaster::Channel;
    static std::optional<taskmaster::Channel> convert(const QJsonValue &v);
    static QString expected();
};
struct Object {
    using Type = QJsonObject;
    static std::optional<QJsonObject> convert(const QJsonValue &v);
    static QString expected();
};
// An array of positive ids.
struct IdArray {
    using Type = QList<taskmaster::Id>;
    static std::optional<QList<taskmaster::Id>> convert(const QJsonValue &v);
    static QString expected();
};
// An error code name of docs/protocol.md ("validation_failed").
struct ErrorCodeName {
    using Type = ErrorCode;
    static std::optional<ErrorCode> convert(const QJsonValue &v);
    static QString expected();
};
// A string naming an enum value, read with one of the *FromWire helpers of types.h.
template<typename E, std::optional<E> (*FromWire)(const QString &)> struct Enum {
    using Type = E;
    static std::optional<E> convert(const QJsonValue &v)
    {
        return v.isString() ? FromWire(v.toString()) : std::nullopt;
    }
    static QString expected()
    {
        QStringList names;
        for (int i = 0; i < 64; ++i) { // enums are dense from 0; toWire() is empty past the last one
            QString name = toWire(static_cast<E>(i));
            if (name.isEmpty())
                break;
            names.append(std::move(name));
        }
        return QStringLiteral("one of: ") + names.join(QStringLiteral(", "));
    }
};

} // namespace json

class JsonReader {
public:
    explicit JsonReader(const QJsonObject &object) : m_object(object), m_error(&m_own) { }
    // A reader of an object nested in `parent`'s; it shares the parent's first error and prefixes
    // its field names with `path` ("message" -> "message.body").
    JsonReader(JsonReader &parent, const QJsonObject &object, const QString &path)
        : m_object(object), m_path(parent.m_path + path + QLatin1Char('.')), m_error(parent.m_error)
    {
    }
    JsonReader(const JsonReader &) = delete;
    JsonReader &operator=(const JsonReader &) = delete;

    [[nodiscard]] bool has(const char *key) const { return !value(key).isUndefined(); }
    [[nodiscard]] QJsonValue value(const char *key) const { return m_object.value(QLatin1StringView(key)); }
    [[nodiscard]] bool ok() const { return !m_error->has_value(); }
    [[nodiscard]] const std::optional<Error> &error() const { return *m_error; }

    // A field that must be present and not null.
    template<typename K> typename K::Type required(const char *key)
    {
        if (!ok())
            return {};
        const QJsonValue v = value(key);
        if (v.isUndefined()) {
            fail(key, QStringLiteral(" is required"));
            return {};
        }
        return convert<K>(v, key).value_or(typename K::Type {});
    }
    // Absent -> nullopt; null is a wrong type.
    template<typename K> std::optional<typename K::Type> optional(const char *key)
    {
        const QJsonValue v = value(key);
        if (!ok() || v.isUndefined())
            return std::nullopt;
        return convert<K>(v, key);
    }
    // Absent or null -> nullopt.
    template<typename K> std::optional<typename K::Type> nullable(const char *key)
    {
        const QJsonValue v = value(key);
        if (!ok() || v.isUndefined() || v.isNull())
            return std::nullopt;
        return convert<K>(v, key);
    }
    // Absent -> nullopt, null -> an empty inner optional, else the value.
    template<typename K> Patch<typename K::Type> patch(const char *key)
    {
        const QJsonValue v = value(key);
        if (!ok() || v.isUndefined())
            return std::nullopt;
        if (v.isNull())
            return Patch<typename K::Type>(std::in_place);
        auto converted = convert<K>(v, key);
        if (!converted)
            return std::nullopt;
        return Patch<typename K::Type>(std::in_place, std::move(*converted));
    }
    // A required nested object, read with readJson(JsonReader &, T &) (found by ADL).
    template<typename T> T nested(const char *key)
    {
        T out {};
        const QJsonObject o = required<json::Object>(key);
        if (ok()) {
            JsonReader child(*this, o, QLatin1StringView(key));
            readJson(child, out);
        }
        return out;
    }
    // A required array of objects, each read with readJson(JsonReader &, T &); errors name
    // the element ("items[2].id").
    template<typename T> QList<T> list(const char *key)
    {
        QList<T> out;
        if (!ok())
            return out;
        const QJsonValue v = value(key);
        if (v.isUndefined()) {
            fail(key, QStringLiteral(" is required"));
            return out;
        }
        if (!v.isArray()) {
            fail(key, QStringLiteral(" must be an array of objects"));
            return out;
        }
        const QJsonArray array = v.toArray();
        out.reserve(array.size());
        for (qsizetype i = 0; i < array.size() && ok(); ++i) {
            const QJsonValue element = array.at(i);
            const QString name = QLatin1StringView(key) + QLatin1Char('[') + QString::number(i) + QLatin1Char(']');
            if (!element.isObject()) {
                record(Error::validation(name, name + QStringLiteral(" must be an object")));
                break;
            }
            JsonReader child(*this, element.toObject(), name);
            readJson(child, out.emplace_back());
        }
        return out;
    }

    // list() of an array that may be absent (then empty).
    template<typename T> QList<T> optionalList(const char *key)
    {
        if (!ok() || value(key).isUndefined())
            return {};
        return list<T>(key);
    }

    // Records a broken field rule (the MaybeError of a validation.h function), prefixing its field.
    void check(const MaybeError &broken)
    {
        if (broken)
            record(*broken);
    }
    // Records "<key><messageTail>" as ValidationFailed for `key`, unless an error came first.
    void fail(const char *key, const QString &messageTail);
    // Records `error` unless an error came first. Its field (and the field name that starts its
    // message) get this reader's path: "body must be ..." -> "message.body must be ...".
    void record(Error error);

    template<typename T> [[nodiscard]] Result<T> finish(T value) const
    {
        if (*m_error)
            return **m_error;
        return Result<T>(std::move(value));
    }

private:
    template<typename K> std::optional<typename K::Type> convert(const QJsonValue &v, const char *key)
    {
        std::optional<typename K::Type> out = K::convert(v);
        if (!out) {
            fail(key, QStringLiteral(" must be ") + K::expected());
            return std::nullopt;
        }
        if constexpr (requires(const typename K::Type &t, const QString &f) { K::check(t, f); }) {
            // The rule runs without a field name first, so the common, valid case allocates nothing.
            if (K::check(*out, QString())) {
                if (MaybeError named = K::check(*out, QString(QLatin1StringView(key)))) {
                    record(std::move(*named));
                    return std::nullopt;
                }
            }
        }
        return out;
    }

    QJsonObject m_object;
    QString m_path; // "" at the top, "message." or "items[2]." inside
    std::optional<Error> m_own;
    std::optional<Error> *m_error; // the top reader's m_own
};

// Decodes any type that has a readJson(JsonReader &, T &) overload (found by ADL).
template<typename T> [[nodiscard]] Result<T> fromJson(const QJsonObject &object)
{
    JsonReader r(object);
    T value {};
    readJson(r, value);
    return r.finish(std::move(value));
}

template<typename T> [[nodiscard]] Result<T> fromJson(QByteArrayView json, qint64 maxBytes = limits::kBodyBytesMax)
{
    Result<QJsonObject> object = parseObject(json, maxBytes);
    if (!object)
        return object.error();
    return fromJson<T>(*object);
}

} // namespace taskmaster
