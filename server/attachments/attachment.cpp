#include "server/attachments/attachment.h"

#include <QDateTime>
#include <QJsonValue>
#include <QList>
#include <QStringDecoder>

#include <algorithm>

namespace taskmaster::server {

QList<QString> queryValues(const QByteArray &query, QByteArrayView key)
{
    QList<QString> out;
    const QList<QByteArray> items = query.split('&');
    for (const QByteArray &item : items) {
        const qsizetype eq = item.indexOf('=');
        const QByteArray name = QByteArray::fromPercentEncoding(eq < 0 ? item : item.left(eq));
        if (QByteArrayView(name) != key)
            continue;
        const QByteArray bytes = QByteArray::fromPercentEncoding(eq < 0 ? QByteArray() : item.mid(eq + 1));
        QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
        QString value = utf8.decode(bytes);
        if (utf8.hasError())
            value = QString(QChar(0xfffd)); // not UTF-8: checkFilename refuses it
        out.append(value);
    }
    return out;
}

MaybeError checkFilename(const QString &name)
{
    auto bad = [](const QString &why) { return Error::validation(QStringLiteral("filename"), why); };
    if (name.isEmpty())
        return bad(QStringLiteral("filename is required"));
    if (name.toUtf8().size() > 255)
        return bad(QStringLiteral("filename must be at most 255 bytes of UTF-8"));
    if (name == QLatin1String(".") || name == QLatin1String(".."))
        return bad(QStringLiteral("filename must name a file"));
    for (qsizetype i = 0; i < name.size(); ++i) {
        const QChar c = name.at(i);
        const char16_t u = c.unicode();
        if (u == u'/' || u == u'\\')
            return bad(QStringLiteral("filename must not contain a path separator"));
        if (u < 0x20 || (u >= 0x7f && u <= 0x9f))
            return bad(QStringLiteral("filename must not contain control characters"));
        if (u == 0xfffd)
            return bad(QStringLiteral("filename must be valid UTF-8"));
        if (c.isHighSurrogate()) {
            if (i + 1 >= name.size() || !name.at(i + 1).isLowSurrogate())
                return bad(QStringLiteral("filename must be valid Unicode"));
            ++i;
        } else if (c.isLowSurrogate()) {
            return bad(QStringLiteral("filename must be valid Unicode"));
        }
    }
    return std::nullopt;
}

namespace {
bool isToken(QByteArrayView v)
{
    if (v.isEmpty() || v.size() > 127)
        return false;
    for (char c : v) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '!' || c == '#' || c == '$' || c == '&'
            || c == '-' || c == '^' || c == '_' || c == '.' || c == '+';
        if (!ok)
            return false;
    }
    return true;
}
} // namespace

std::optional<QString> mediaType(const QByteArray &header)
{
    const QByteArray type = header.split(';').constFirst().trimmed().toLower();
    if (type.isEmpty())
        return QStringLiteral("application/octet-stream");
    const qsizetype slash = type.indexOf('/');
    if (slash <= 0 || !isToken(QByteArrayView(type).first(slash)) || !isToken(QByteArrayView(type).sliced(slash + 1)))
        return std::nullopt;
    return QString::fromLatin1(type);
}

QByteArray contentDisposition(const Attachment &a)
{
    // The fallback: printable ASCII without '"' and '\' (others become '_').
    QByteArray ascii;
    for (const QChar c : a.name) {
        const char16_t u = c.unicode();
        ascii += (u >= 0x20 && u < 0x7f && u != u'"' && u != u'\\') ? char(u) : '_';
    }
    // RFC 8187 attr-char: ALPHA / DIGIT / "!#$&+-.^_`|~"; everything else percent-encoded.
    const QByteArray encoded = a.name.toUtf8().toPercentEncoding("!#$&+.^_`|~");
    return (isInlineImage(a.contentType) ? QByteArrayLiteral("inline") : QByteArrayLiteral("attachment"))
        + "; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

ByteRange parseRange(const QByteArray &header, qint64 size)
{
    ByteRange whole;
    const QByteArray h = header.trimmed();
    if (h.isEmpty() || !h.startsWith("bytes="))
        return whole;
    const QByteArray spec = h.mid(6).trimmed();
    if (spec.contains(','))
        return whole; // several ranges: served whole (RFC 9110 allows ignoring Range)
    const qsizetype dash = spec.indexOf('-');
    if (dash < 0)
        return whole;
    const QByteArray a = spec.left(dash).trimmed();
    const QByteArray b = spec.mid(dash + 1).trimmed();
    auto number = [](const QByteArray &t, bool &ok) -> qint64 {
        ok = !t.isEmpty() && t.size() <= 18
            && std::all_of(t.cbegin(), t.cend(), [](char c) { return c >= '0' && c <= '9'; });
        return ok ? t.toLongLong() : 0;
    };
    bool okA = false, okB = false;
    ByteRange r;
    r.kind = ByteRange::Kind::Part;
    if (a.isEmpty()) {
        // bytes=-N: the last N bytes
        const qint64 n = number(b, okB);
        if (!okB)
            return whole;
        if (n == 0 || size == 0)
            return ByteRange {ByteRange::Kind::Unsatisfiable};
        r.first = std::max<qint64>(0, size - n);
        r.last = size - 1;
        return r;
    }
    r.first = number(a, okA);
    if (!okA)
        return whole;
    if (b.isEmpty()) {
        r.last = size - 1;
    } else {
        r.last = number(b, okB);
        if (!okB || r.last < r.first)
            return whole;
        r.last = std::min(r.last, size - 1);
    }
    if (r.first >= size)
        return ByteRange {ByteRange::Kind::Unsatisfiable};
    return r;
}

bool etagListMatches(const QByteArray &header, const QByteArray &sha256)
{
    const QByteArray quoted = '"' + sha256 + '"';
    const QList<QByteArray> tags = header.split(',');
    for (QByteArray tag : tags) {
        tag = tag.trimmed();
        if (tag == "*")
            return true;
        if (tag.startsWith("W/"))
            tag = tag.mid(2);
        if (tag == quoted)
            return true;
    }
    return false;
}

} // namespace taskmaster::server
