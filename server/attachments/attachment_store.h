// AttachmentStore: the metadata of attachments in SQL (table attachments, and where they are used:
// message_attachments, task_attachments; migration 0002). Who may read one: its uploader, and the
// members of a room with a message using it, or of a live project with a live task using it;
// for anyone else it does not exist (NotFound, never Forbidden).
// Thread: a database worker (blocking functions over the worker's connection).
#pragma once

#include "server/attachments/attachment.h"

#include <QList>
#include <QSqlDatabase>

#include <optional>

namespace taskmaster::server::store {

// Inserts the row (a.id is ignored) and returns it with its id.
[[nodiscard]] Result<Attachment> insertAttachment(QSqlDatabase &db, const Attachment &a);
// The attachment when userId may read it; nullopt when it does not exist for them.
[[nodiscard]] Result<std::optional<Attachment>> readableAttachment(QSqlDatabase &db, Id id, Id userId);

// What a user uploaded since sinceMs: bytes in total and the oldest upload's time (0: none).
struct UploadUsage {
    qint64 bytes = 0;
    qint64 oldestMs = 0;
};
[[nodiscard]] Result<UploadUsage> uploadUsage(QSqlDatabase &db, Id userId, qint64 sinceMs);

// Garbage collection: deletes attachments created before olderThanMs that nothing uses; returns
// the sha256 of the blobs no attachment refers to any more (to delete from the BlobStore).
[[nodiscard]] Result<QList<QByteArray>> collectUnused(QSqlDatabase &db, qint64 olderThanMs, int limit);

} // namespace taskmaster::server::store
