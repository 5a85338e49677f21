#include "server/attachments/thumbnailer.h"

#include "server/storage/sql.h"

#include <QBuffer>
#include <QCryptographicHash>
#include <QIODevice>
#include <QImage>
#include <QImageReader>
#include <QImageWriter>

#include <algorithm>
#include <cstring>

namespace taskmaster::server {

namespace {
// Largest image a thumbnail is made of, in MiB of decoded pixels (QImageReader's own default is
// 256): about 33 megapixels at 4 bytes each.
constexpr int kAllocationLimitMib = 128;
} // namespace

Result<std::optional<Thumbnail>> storedThumbnail(QSqlDatabase &db, const QString &source)
{
    auto q = sql::run(db, "thumbnails.find",
                      QStringLiteral("SELECT sha256, content_type, size FROM thumbnails WHERE source_sha256 = ?"),
                      {source});
    if (!q)
        return q.error();
    if (!q->next())
        return std::optional<Thumbnail>();
    Thumbnail t {q->value(0).toString(), q->value(1).toString(), q->value(2).toLongLong()};
    q->finish();
    return std::optional<Thumbnail>(t);
}

MaybeError copyBlob(QSqlDatabase &db, BlobStore &blobs, const Attachment &image, QIODevice &out)
{
    const QByteArray sha256 = image.sha256.toLatin1();
    for (qint64 at = 0; at < image.size; at += BlobStore::kChunkBytes) {
        auto bytes = blobs.read(db, sha256, at, std::min(BlobStore::kChunkBytes, image.size - at));
        if (!bytes)
            return bytes.error();
        if (out.write(*bytes) != bytes->size())
            return Error {
                ErrorCode::Internal, QStringLiteral("cannot write a temporary file: ") + out.errorString(), {}};
    }
    return std::nullopt;
}

std::optional<QByteArray> renderThumbnail(QIODevice &device, QString &contentType)
{
    QImageReader reader(&device);
    reader.setAllocationLimit(kAllocationLimitMib);
    reader.setAutoTransform(true); // EXIF orientation
    const QSize full = reader.size();
    if (full.isValid() && (full.width() > kThumbnailSide || full.height() > kThumbnailSide))
        reader.setScaledSize(full.scaled(kThumbnailSide, kThumbnailSide, Qt::KeepAspectRatio));
    QImage image = reader.read();
    if (image.isNull())
        return std::nullopt;
    // Formats without a scaled read (PNG, GIF) come back whole: scale here.
    if (image.width() > kThumbnailSide || image.height() > kThumbnailSide)
        image = image.scaled(kThumbnailSide, kThumbnailSide, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    const bool alpha = image.hasAlphaChannel();
    QByteArray out;
    QBuffer buffer(&out);
    buffer.open(QIODevice::WriteOnly);
    QImageWriter writer(&buffer, alpha ? QByteArrayLiteral("png") : QByteArrayLiteral("jpeg"));
    if (!alpha)
        writer.setQuality(80);
    if (!writer.write(alpha ? image : image.convertToFormat(QImage::Format_RGB32)))
        return std::nullopt;
    contentType = alpha ? QStringLiteral("image/png") : QStringLiteral("image/jpeg");
    return out;
}

Result<std::optional<Thumbnail>> storeThumbnail(QSqlDatabase &db, BlobStore &blobs, const Attachment &image,
                                                const QByteArray &bytes, const QString &type)
{
    // Stored like an upload: staged in chunks, committed under its sha256.
    Thumbnail t {QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex()), type,
                 bytes.size()};
    auto staging = blobs.stage(db);
    if (!staging)
        return staging.error();
    for (qint64 n = 0; n * BlobStore::kChunkBytes < bytes.size(); ++n) {
        if (auto e = blobs.append(db, *staging, n, bytes.mid(n * BlobStore::kChunkBytes, BlobStore::kChunkBytes))) {
            blobs.discard(db, *staging);
            return *e;
        }
    }
    if (auto e = blobs.commit(db, *staging, t.sha256.toLatin1(), t.size))
        return *e;
    // Two requests may have made it at once: the first row stays, both are the same image.
    auto q = sql::run(db, "thumbnails.insert",
                      QStringLiteral("INSERT INTO thumbnails (source_sha256, sha256, content_type, size) "
                                     "VALUES (?, ?, ?, ?) ON CONFLICT (source_sha256) DO NOTHING"),
                      {image.sha256, t.sha256, t.contentType, t.size});
    if (!q)
        return q.error();
    return storedThumbnail(db, image.sha256);
}

} // namespace taskmaster::server
