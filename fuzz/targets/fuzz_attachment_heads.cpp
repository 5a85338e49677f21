// The request and answer heads of attachments (docs/protocol.md section 6.8) on any bytes: the
// Range header against a size taken from the input, the upload's filename query (queryValues,
// checkFilename) with the Content-Disposition made of an accepted name, the upload's Content-Type
// (mediaType, as the deny list compares it) and If-None-Match lists. Properties: a range is
// inside the file and prints back to itself; an accepted name is safe and its header is printable
// ASCII whose filename* decodes to the exact name; a media type is canonical; a list naming the
// ETag matches it.
#include "fuzz/fuzz_support.h"
#include "server/attachments/attachment.h"

#include <QStringList>

#include <cstring>

using namespace taskmaster;
using namespace taskmaster::server;

namespace {

void checkRange(const QByteArray &header, qint64 size)
{
    const ByteRange r = parseRange(header, size);
    if (r.kind != ByteRange::Kind::Part)
        return;
    fuzz::check(r.first >= 0 && r.first <= r.last && r.last < size, "range: 0 <= first <= last < size");
    const QByteArray printed = "bytes=" + QByteArray::number(r.first) + '-' + QByteArray::number(r.last);
    const ByteRange again = parseRange(printed, size);
    fuzz::check(again.kind == ByteRange::Kind::Part && again.first == r.first && again.last == r.last,
                "range: parse(print(r)) == r");
}

void checkName(const QString &name)
{
    if (checkFilename(name))
        return;
    const QByteArray utf8 = name.toUtf8();
    fuzz::check(!utf8.isEmpty() && utf8.size() <= 255, "filename: 1..255 bytes");
    fuzz::check(!name.contains(QLatin1Char('/')) && !name.contains(QLatin1Char('\\')), "filename: no separator");
    fuzz::check(QString::fromUtf8(utf8) == name, "filename: valid Unicode");
    for (const char *type : {"image/png", "application/pdf"}) {
        Attachment a;
        a.name = name;
        a.contentType = QLatin1String(type);
        const QByteArray header = contentDisposition(a);
        for (const char c : header)
            fuzz::check(c >= 0x20 && c < 0x7f, "content-disposition: printable ASCII only");
        const QByteArray fallbackStart = "; filename=\"";
        const QByteArray extStart = "\"; filename*=UTF-8''";
        const qsizetype from = header.indexOf(fallbackStart);
        const qsizetype to = header.lastIndexOf(extStart);
        fuzz::check(from > 0 && to >= from + fallbackStart.size(), "content-disposition: both filename parameters");
        const QByteArray fallback = header.mid(from + fallbackStart.size(), to - from - fallbackStart.size());
        fuzz::check(!fallback.contains('"') && !fallback.contains('\\'), "content-disposition: quoted name unbroken");
        const QByteArray ext = header.mid(to + extStart.size());
        fuzz::check(!ext.contains(' ') && !ext.contains(';') && !ext.contains('"') && !ext.contains(','),
                    "content-disposition: filename* is one token");
        fuzz::check(QByteArray::fromPercentEncoding(ext) == utf8, "content-disposition: filename* is the name");
    }
}

void checkMediaType(const QByteArray &header)
{
    static const QStringList deny {QStringLiteral("text/html"), QStringLiteral("application/xhtml+xml"),
                                   QStringLiteral("image/svg+xml"), QStringLiteral("application/x-msdownload")};
    const std::optional<QString> type = mediaType(header);
    // Case and parameters do not get a type past the deny list.
    const std::optional<QString> upper = mediaType(header.toUpper());
    fuzz::check(upper == type, "media type: case-insensitive");
    fuzz::check(mediaType(header + "; charset=utf-8") == type, "media type: parameters ignored");
    if (!type)
        return;
    fuzz::check(*type == type->toLower(), "media type: lower case");
    fuzz::check(type->count(QLatin1Char('/')) == 1 && !type->contains(QLatin1Char(';'))
                    && !type->contains(QLatin1Char(' ')),
                "media type: type/subtype only");
    fuzz::check(mediaType(type->toLatin1()) == type, "media type: canonical");
    fuzz::check(deny.contains(*type) == deny.contains(*upper), "media type: the same deny verdict");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input = fuzz::bytes(data, size).toByteArray();
    // Range: against the size in the first 5 bytes (up to 1 TiB) and against 0, 1 and 1000.
    qint64 fileSize = 0;
    if (size >= 5) {
        for (int i = 0; i < 5; ++i)
            fileSize = (fileSize << 8) | data[i];
        checkRange(input.mid(5), fileSize);
    }
    for (const qint64 s : {0, 1, 1000})
        checkRange(input, s);

    // The filename: from a query string, and the input itself as a name.
    const QList<QString> names = queryValues(input, "filename");
    for (const QString &name : names)
        checkName(name);
    checkName(QString::fromUtf8(input));

    checkMediaType(input);

    // If-None-Match / If-Range.
    const QByteArray sha = "3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7";
    (void)etagListMatches(input, sha);
    fuzz::check(etagListMatches(input + ", \"" + sha + '"', sha), "if-none-match: a list naming the tag matches");
    fuzz::check(etagListMatches(input + ", W/\"" + sha + '"', sha), "if-none-match: weak comparison");
    return 0;
}
