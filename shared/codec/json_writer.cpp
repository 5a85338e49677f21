#include "shared/codec/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace taskmaster {

namespace {

void appendHex4(QByteArray &out, char16_t u)
{
    static constexpr char kHex[] = "0123456789abcdef";
    const char buf[6] = {'\\', 'u', kHex[(u >> 12) & 0xf], kHex[(u >> 8) & 0xf], kHex[(u >> 4) & 0xf], kHex[u & 0xf]};
    out.append(buf, 6);
}

void appendUtf8(QByteArray &out, char32_t cp)
{
    char buf[4];
    int n = 0;
    if (cp < 0x800) {
        buf[n++] = static_cast<char>(0xc0 | (cp >> 6));
    } else if (cp < 0x10000) {
        buf[n++] = static_cast<char>(0xe0 | (cp >> 12));
        buf[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    } else {
        buf[n++] = static_cast<char>(0xf0 | (cp >> 18));
        buf[n++] = static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        buf[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    }
    buf[n++] = static_cast<char>(0x80 | (cp & 0x3f));
    out.append(buf, n);
}

// ASCII and Latin-1 code units below 0x80 that need a JSON escape.
bool appendEscapedAscii(QByteArray &out, char16_t u)
{
    switch (u) {
    case u'"':
        out.append("\\\"", 2);
        return true;
    case u'\\':
        out.append("\\\\", 2);
        return true;
    case u'\n':
        out.append("\\n", 2);
        return true;
    case u'\r':
        out.append("\\r", 2);
        return true;
    case u'\t':
        out.append("\\t", 2);
        return true;
    case u'\b':
        out.append("\\b", 2);
        return true;
    case u'\f':
        out.append("\\f", 2);
        return true;
    default:
        if (u < 0x20) {
            appendHex4(out, u);
            return true;
        }
        return false;
    }
}

} // namespace

void JsonWriter::separate()
{
    if (m_needComma)
        m_out.append(',');
}

JsonWriter &JsonWriter::beginObject()
{
    separate();
    m_out.append('{');
    m_needComma = false;
    return *this;
}

JsonWriter &JsonWriter::endObject()
{
    m_out.append('}');
    m_needComma = true;
    return *this;
}

JsonWriter &JsonWriter::beginArray()
{
    separate();
    m_out.append('[');
    m_needComma = false;
    return *this;
}

JsonWriter &JsonWriter::endArray()
{
    m_out.append(']');
    m_needComma = true;
    return *this;
}

JsonWriter &JsonWriter::key(const char *asciiKey)
{
    separate();
    m_out.append('"');
    m_out.append(asciiKey, static_cast<qsizetype>(std::strlen(asciiKey)));
    m_out.append("\":", 2);
    m_needComma = false;
    return *this;
}

JsonWriter &JsonWriter::key(QStringView key)
{
    string(key);
    m_out.append(':');
    m_needComma = false;
    return *this;
}

JsonWriter &JsonWriter::string(QStringView s)
{
    separate();
    m_out.reserve(m_out.size() + s.size() + 2);
    m_out.append('"');
    const qsizetype n = s.size();
    for (qsizetype i = 0; i < n; ++i) {
        const char16_t u = s[i].unicode();
        if (u < 0x80) {
            if (!appendEscapedAscii(m_out, u))
                m_out.append(static_cast<char>(u));
        } else if (QChar::isHighSurrogate(u) && i + 1 < n && QChar::isLowSurrogate(s[i + 1].unicode())) {
            appendUtf8(m_out, QChar::surrogateToUcs4(u, s[i + 1].unicode()));
            ++i;
        } else if (QChar::isSurrogate(u)) {
            appendUtf8(m_out, QChar::ReplacementCharacter);
        } else {
            appendUtf8(m_out, u);
        }
    }
    m_out.append('"');
    m_needComma = true;
    return *this;
}

JsonWriter &JsonWriter::string(QLatin1StringView s)
{
    separate();
    m_out.append('"');
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x80)
            appendUtf8(m_out, u);
        else if (!appendEscapedAscii(m_out, u))
            m_out.append(c);
    }
    m_out.append('"');
    m_needComma = true;
    return *this;
}

JsonWriter &JsonWriter::integer(qint64 n)
{
    separate();
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, n);
    m_out.append(buf, r.ptr - buf);
    m_needComma = true;
    return *this;
}

JsonWriter &JsonWriter::number(double d)
{
    if (!std::isfinite(d))
        return null();
    separate();
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, d);
    m_out.append(buf, r.ptr - buf);
    m_needComma = true;
    return *this;
}

JsonWriter &JsonWriter::boolean(bool b)
{
    separate();
    if (b)
        m_out.append("true", 4);
    else
        m_out.append("false", 5);
    m_needComma = true;
    return *this;
}

JsonWriter &JsonWriter::null()
{
    separate();
    m_out.append("null", 4);
    m_needComma = true;
    return *this;
}

JsonWriter &JsonWriter::raw(QByteArrayView json)
{
    separate();
    m_out.append(json);
    m_needComma = true;
    return *this;
}

} // namespace taskmaster
