// Thumbnailer: the thumbnail of an image attachment (docs/protocol.md section 6.8): at most
// kThumbnailSide px on its long side (never enlarged), PNG when the image has an alpha channel,
// JPEG otherwise. Made once per distinct image (by its sha256), stored as a blob of its own and
// recorded in `thumbnails` (migration 0003); later requests read the stored one. The image is
// read from the BlobStore through a seekable device a chunk at a time, decoded with
// QImageReader at the scaled size (JPEG decodes at a fraction of its size directly) under an
// allocation limit, so a decompression bomb fails instead of taking the server's memory.
// Owns: nothing. Thread: a database worker (blocking; QImage is fine off the GUI thread).
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

// The stored thumbnail of `image` (an inline image type), made now if there is none yet;
// nullopt when the bytes cannot be decoded as an image (or decoding would need too much memory).
[[nodiscard]] Result<std::optional<Thumbnail>> thumbnailOf(QSqlDatabase &db, BlobStore &blobs, const Attachment &image);

// The thumbnail's bytes for an image read from `device` (encoded), or nullopt when it is not a
// decodable image. contentType is set to what the bytes are.
[[nodiscard]] std::optional<QByteArray> renderThumbnail(QIODevice &device, QString &contentType);

} // namespace taskmaster::server
