#include "shared/codec/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace taskmaster {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// The short escape of an ASCII code unit ('n' for '\n'), 'u' for \u00XX, 0 for none.
constexpr char escapeOf(char16_t u)
{
    switch (u) {
    case u'"':
        return '"';
    case u'\\':
        return '\\';
    case u'\n':
        return 'n';
    case u'\r':
        return 'r';
    case u'\t':
        return 't';
    case u'\b':
        return 'b';
    case u'\f':
        return 'f';
    default:
        return u < 0x20 ? 'u' : 0;
    }
}

// Bytes of the escaped UTF-8 form of `s` (without quotes). Lone surrogates become U+FFFD (3 bytes).
qsizetype encodedSize(QStringView s)
{
    qsizetype n = 0;
    const qsizetype size = s.size();
    for (qsizetype i = 0; i < size; ++i) {
        const char16_t u = s[i].unicode();
        if (u < 0x80) {
            const char e = escapeOf(u);
            n += e == 0 ? 1 : e == 'u' ? 6 : 2;
        } else if (u < 0x800) {
            n += 2;
        } else if (QChar::isHighSurrogate(u) && i + 1 < size && QChar::isLowSurrogate(s[i + 1].unicode())) {
            n += 4;
            ++i;
        } else {
            n += 3;
        }
    }
    return n;
}

char *putUtf8(char *p, char32_t cp)
{
    if (cp < 0x80) {
        *p++ = static_cast<char>(cp);
    } else if (cp < 0x800) {
        *p++ = static_cast<char>(0xc0 | (cp >> 6));
        *p++ = static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *p++ = static_cast<char>(0xe0 | (cp >> 12));
        *p++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        *p++ = static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        *p++ = static_cast<char>(0xf0 | (cp >> 18));
        *p++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        *p++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        *p++ = static_cast<char>(0x80 | (cp & 0x3f));
    }
    return p;
}

char *putAscii(char *p, char16_t u)
{
    const char e = escapeOf(u);
    if (e == 0) {
        *p++ = static_cast<char>(u);
    } else if (e == 'u') {
        const char escaped[6] = {'\\', 'u', '0', '0', kHex[(u >> 4) & 0xf], kHex[u & 0xf]};
        p = std::copy_n(escaped, 6, p);
    } else {
        *p++ = '\\';
        *p++ = e;
    }
    return p;
}

} // namespace

char *JsonWriter::put(qsizetype n)
{
    const bool comma = m_needComma;
    const qsizetype start = m_out.size();
    m_out.resize(start + n + (comma ? 1 : 0)); // grows geometrically; no work within capacity
    char *p = m_out.data() + start;
    if (comma)
        *p++ = ',';
    m_needComma = true;
    return p;
}

JsonWriter &JsonWriter::beginObject()
{
    *put(1) = '{';
    m_needComma = false;
    return *this;
}

JsonWriter &JsonWriter::endObject()
{
    m_needComma = false;
    *put(1) = '}';
    return *this;
}

JsonWriter &JsonWriter::beginArray()
{
    *put(1) = '[';
    m_needComma = false;
    return *this;
}

JsonWriter &JsonWriter::endArray()
{
    m_needComma = false;
    *put(1) = ']';
    return *this;
}

JsonWriter &JsonWriter::key(const char *asciiKey)
{
    const auto n = static_cast<qsizetype>(std::strlen(asciiKey));
    char *p = put(n + 3);
    *p++ = '"';
    p = std::copy_n(asciiKey, n, p);
    *p++ = '"';
    *p = ':';
    m_needComma = false;
    return *this;
}

JsonWriter &JsonWriter::key(QStringView key)
{
    string(key);
    m_needComma = false;
    *put(1) = ':';
    m_needComma = false;
    return *this;
}

JsonWriter &JsonWriter::string(QStringView s)
{
    // Two passes: the exact size first, then the bytes through a pointer.
    char *p = put(encodedSize(s) + 2);
    *p++ = '"';
    const qsizetype size = s.size();
    for (qsizetype i = 0; i < size; ++i) {
        const char16_t u = s[i].unicode();
        if (u < 0x80) {
            p = putAscii(p, u);
        } else if (QChar::isHighSurrogate(u) && i + 1 < size && QChar::isLowSurrogate(s[i + 1].unicode())) {
            p = putUtf8(p, QChar::surrogateToUcs4(u, s[i + 1].unicode()));
            ++i;
        } else if (QChar::isSurrogate(u)) {
            p = putUtf8(p, QChar::ReplacementCharacter);
        } else {
            p = putUtf8(p, u);
        }
    }
    *p = '"';
    return *this;
}

JsonWriter &JsonWriter::string(QLatin1StringView s)
{
    qsizetype size = 2;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        const char e = u < 0x80 ? escapeOf(u) : 0;
        size += u >= 0x80 ? 2 : e == 0 ? 1 : e == 'u' ? 6 : 2;
    }
    char *p = put(size);
    *p++ = '"';
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        p = u < 0x80 ? putAscii(p, u) : putUtf8(p, u);
    }
    *p = '"';
    return *this;
}

JsonWriter &JsonWriter::integer(qint64 n)
{
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, n);
    std::copy(buf, r.ptr, put(r.ptr - buf));
    return *this;
}

JsonWriter &JsonWriter::number(double d)
{
    if (!std::isfinite(d))
        return null();
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, d);
    std::copy(buf, r.ptr, put(r.ptr - buf));
    return *this;
}

JsonWriter &JsonWriter::boolean(bool b)
{
    const QByteArrayView text = b ? QByteArrayView("true") : QByteArrayView("false");
    std::copy(text.begin(), text.end(), put(text.size()));
    return *this;
}

JsonWriter &JsonWriter::null()
{
    std::copy_n("null", 4, put(4));
    return *this;
}

JsonWriter &JsonWriter::raw(QByteArrayView json)
{
    std::copy(json.begin(), json.end(), put(json.size()));
    return *this;
}

} // namespace taskmaster
