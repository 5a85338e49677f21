// Attachment: an uploaded file's metadata (docs/protocol.md, section 6.8) and the pure rules
// around it: the filename check, the content type as stored, which types are shown inline, the
// Content-Disposition of a download, Range and If-None-Match.
// Owns: nothing (plain values and functions). Thread: any.
#pragma once

#include "shared/core/error.h"
#include "shared/domain/types.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <optional>

namespace taskmaster::server {

// The Attachment itself is a domain type (shared/domain/types.h: taskmaster::Attachment; its JSON
// in shared/codec/resource_json.h), carried by messages and tasks. Its sha256 is the blob's key
// and the download's ETag.

// The values of query parameter `key` in a URL's query (without '?'), percent-decoded as UTF-8
// ('+' is a plus sign); a value that is not UTF-8 becomes U+FFFD (which checkFilename refuses).
[[nodiscard]] QList<QString> queryValues(const QByteArray &query, QByteArrayView key);

// A name that is safe to store and to send back in Content-Disposition: 1..255 bytes of UTF-8,
// valid Unicode, no path separator ('/', '\'), no control character (C0, DEL, C1), not "." or
// "..". Otherwise 422 validation_failed, field "filename".
[[nodiscard]] MaybeError checkFilename(const QString &name);

// The Content-Type header of an upload as stored: "type/subtype" lower-cased, parameters dropped;
// absent: application/octet-stream. nullopt when it is not a media type.
[[nodiscard]] std::optional<QString> mediaType(const QByteArray &header);

// RFC 6266: `inline` (images) or `attachment`, with an ASCII fallback filename="..." and the
// exact name as filename*=UTF-8''<percent-encoded>.
[[nodiscard]] QByteArray contentDisposition(const Attachment &attachment);

// A Range header against a body of `size` bytes (RFC 9110 14.2; one range of unit "bytes").
struct ByteRange {
    enum class Kind {
        Whole, // no Range, or one the server ignores (other unit, several ranges, malformed)
        Part, // bytes first..last (inclusive): 206
        Unsatisfiable, // 416
    };
    Kind kind = Kind::Whole;
    qint64 first = 0;
    qint64 last = -1;
};
[[nodiscard]] ByteRange parseRange(const QByteArray &header, qint64 size);

// Whether an If-None-Match (or If-Range) value names the entity tag "<sha256>" (weak comparison;
// "*" matches).
[[nodiscard]] bool etagListMatches(const QByteArray &header, const QByteArray &sha256);

} // namespace taskmaster::server
