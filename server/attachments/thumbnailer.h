// Thumbnailer: the thumbnail of an image attachment (docs/protocol.md section 6.8): at most
// kThumbnailSide px on its long side (never enlarged), PNG when the image has an alpha channel,
// JPEG otherwise. Made once per distinct image (by its sha256), stored as a blob of its own and
// recorded in `thumbnails` (migration 0003); later requests read the stored one. Made in three
// steps so that no database worker (nor its connection) is held while an image decodes: on a
// worker, storedThumbnail() or, when there is none, copyBlob() into a temporary file a chunk at a
// time; renderThumbnail() from that file on the AttachmentService's image pool, with QImageReader
// at the scaled size (JPEG decodes at a fraction of its size directly) under an allocation limit,
// so a decompression bomb fails instead of taking the server's memory; storeThumbnail() on a worker.
// Owns: nothing. Thread: storedThumbnail, copyBlob and storeThumbnail on a database worker
// (blocking); renderThumbnail on any thread (QImage is fine off the GUI thread).
#pragma once

#include "server/attachments/blob_store.h"
#include "shared/core/error.h"
#include "shared/domain/types.h"

#include <QByteArray>
#include <QSqlDatabase>
#include <QString>

#include <optional>

namespace taskmaster::server {

inline constexpr int kThumbnailSide = 320;

struct Thumbnail {
    QString sha256; // the thumbnail's own blob
    QString contentType; // image/jpeg or image/png
    qint64 size = 0;
};

// The stored thumbnail of the image with this sha256; nullopt when none was made yet.
[[nodiscard]] Result<std::optional<Thumbnail>> storedThumbnail(QSqlDatabase &db, const QString &sourceSha256);
// Writes the bytes of `image` to `out`, one BlobStore chunk at a time.
[[nodiscard]] MaybeError copyBlob(QSqlDatabase &db, BlobStore &blobs, const Attachment &image, QIODevice &out);
// Stores a rendered thumbnail of `image` (a blob of its own, the `thumbnails` row) and answers the
// recorded one: the first when two requests made it at once (the same image either way).
[[nodiscard]] Result<std::optional<Thumbnail>> storeThumbnail(QSqlDatabase &db, BlobStore &blobs,
                                                              const Attachment &image, const QByteArray &bytes,
                                                              const QString &contentType);

// The thumbnail's bytes for an image read from `device` (encoded), or nullopt when it is not a
// decodable image. contentType is set to what the bytes are.
[[nodiscard]] std::optional<QByteArray> renderThumbnail(QIODevice &device, QString &contentType);

} // namespace taskmaster::server
