// JsonWriter: a streaming writer of compact JSON (UTF-8) straight into one QByteArray, with keys
// in the order they are written, so encodings follow docs/protocol.md's field order byte for byte.
// It is the encoder of every REST body and WebSocket frame; no QJsonObject is built on the way.
// Owns: JSON output syntax (commas, string escaping, number formatting). Thread: any (a value;
// one writer per encoding).
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QLatin1StringView>
#include <QStringView>

#include <utility>

namespace taskmaster {

class JsonWriter {
public:
    explicit JsonWriter(qsizetype reserve = 256) { m_out.reserve(reserve); }

    JsonWriter &beginObject();
    JsonWriter &endObject();
    JsonWriter &beginArray();
    JsonWriter &endArray();

    // An object key. `asciiKey` is a plain ASCII literal that needs no escaping ("roomId").
    JsonWriter &key(const char *asciiKey);
    JsonWriter &key(QStringView key); // any text, escaped (e.g. a channel name as a map key)

    JsonWriter &string(QStringView s); // lone surrogates are written as U+FFFD
    JsonWriter &string(QLatin1StringView s);
    JsonWriter &integer(qint64 n);
    JsonWriter &number(double d); // shortest round-trip form; NaN and infinities are written as null
    JsonWriter &boolean(bool b);
    JsonWriter &null();
    // Splices an already encoded JSON value (e.g. an event serialised earlier) as the next value.
    JsonWriter &raw(QByteArrayView json);

    [[nodiscard]] const QByteArray &bytes() const { return m_out; }
    [[nodiscard]] QByteArray take() { return std::move(m_out); }

private:
    // Room for `n` more bytes after the comma a value or key may need; where to write them.
    // Marks a comma as due before the next value.
    char *put(qsizetype n);

    QByteArray m_out;
    bool m_needComma = false;
};

// Compact JSON of any value that has a writeJson(JsonWriter &, const T &) overload
// (resources, REST bodies: found by argument-dependent lookup).
template<typename T> [[nodiscard]] QByteArray toJson(const T &value)
{
    JsonWriter w;
    writeJson(w, value);
    return w.take();
}

} // namespace taskmaster
