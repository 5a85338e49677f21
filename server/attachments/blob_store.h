// BlobStore: the bytes of attachments, content-addressed by sha256 (the same bytes are stored
// once however often they are uploaded). An upload writes into a staging area chunk by chunk
// (kChunkBytes each but the last), then commits it under its sha256 or discards it; a download
// reads a range of a blob chunk by chunk. Two implementations, chosen like the database:
// - FileBlobStore (embedded, SQLite): files under <data-dir>/attachments/ (blobs/ab/<sha256>,
//   staging/<key>.part), written by rename, so a blob file is always whole;
// - PostgresBlobStore (cluster): rows of `blobs` with their bytes in `blob_chunks` (bytea of
//   kChunkBytes), so every instance serves every file without a shared volume.
// Owns: the bytes (not the metadata: attachment_store.h). Thread: a database worker (DbPool
// jobs; every call blocks). The connection is the worker's (FileBlobStore does not use it).
#pragma once

#include "shared/core/error.h"

#include <QByteArray>
#include <QSqlDatabase>
#include <QString>

#include <memory>

namespace taskmaster::server {

class BlobStore {
public:
    static constexpr qint64 kChunkBytes = 256 * 1024;

    virtual ~BlobStore() = default;

    // A new, empty staging area: its key.
    [[nodiscard]] virtual Result<QString> stage(QSqlDatabase &db) = 0;
    // Chunk number n (from 0, in order) of a staged upload.
    [[nodiscard]] virtual MaybeError append(QSqlDatabase &db, const QString &staging, qint64 n, const QByteArray &bytes)
        = 0;
    // The staged bytes become blob `sha256` (hex), or are dropped when that blob exists already.
    [[nodiscard]] virtual MaybeError commit(QSqlDatabase &db, const QString &staging, const QByteArray &sha256,
                                            qint64 size)
        = 0;
    // Drops a staged upload (an abandoned or refused one).
    virtual void discard(QSqlDatabase &db, const QString &staging) = 0;
    // length bytes (at most kChunkBytes, not across a chunk boundary) of blob sha256 from offset.
    [[nodiscard]] virtual Result<QByteArray> read(QSqlDatabase &db, const QByteArray &sha256, qint64 offset,
                                                  qint64 length)
        = 0;
    // Deletes blob sha256 (garbage collection; nothing references it any more).
    [[nodiscard]] virtual MaybeError remove(QSqlDatabase &db, const QByteArray &sha256) = 0;
    // Staging areas older than olderThanMs (epoch ms) are dropped: uploads that never finished.
    virtual void discardStale(QSqlDatabase &db, qint64 olderThanMs) = 0;
};

// rootDir: <data-dir>/attachments.
[[nodiscard]] std::unique_ptr<BlobStore> makeFileBlobStore(const QString &rootDir);
[[nodiscard]] std::unique_ptr<BlobStore> makePostgresBlobStore();

} // namespace taskmaster::server
