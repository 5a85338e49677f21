// AttachmentStore: the metadata of attachments in SQL (table attachments, and where they are used:
// message_attachments, task_attachments; migration 0002). Who may read one: its uploader, and the
// members of a room with a message using it, or of a live project with a live task using it;
// for anyone else it does not exist (NotFound, never Forbidden).
// Thread: a database worker (blocking functions over the worker's connection).
#pragma once

#include "server/attachments/attachment.h"

#include <QHash>
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

// Where attachments are used. Each function is one statement whatever the number of ids (the
// id list is bound as one parameter: a PostgreSQL array, a JSON array on SQLite).
// The attachments with these ids (unknown ids are left out). On PostgreSQL the rows are locked
// FOR SHARE until the caller's transaction ends: call it in the transaction that links them.
[[nodiscard]] Result<QHash<Id, Attachment>> attachmentsByIds(QSqlDatabase &db, const QList<Id> &ids);
// ValidationFailed (field attachmentIds) unless every id is in `known` and uploaded by uploaderId.
[[nodiscard]] MaybeError checkOwnUploads(const QHash<Id, Attachment> &known, const QList<Id> &ids, Id uploaderId);
// The attachments of these messages (tasks), each list in the order they were given.
[[nodiscard]] Result<QHash<Id, QList<Attachment>>> attachmentsOfMessages(QSqlDatabase &db, const QList<Id> &messageIds);
[[nodiscard]] Result<QHash<Id, QList<Attachment>>> attachmentsOfTasks(QSqlDatabase &db, const QList<Id> &taskIds);
// Sets `attachments` of every message (task) of the list: one statement.
[[nodiscard]] MaybeError fillAttachments(QSqlDatabase &db, QList<Message> &messages);
[[nodiscard]] MaybeError fillAttachments(QSqlDatabase &db, QList<Task> &tasks);
// Both at once (search results), in one statement.
[[nodiscard]] MaybeError fillAttachments(QSqlDatabase &db, QList<Message> &messages, QList<Task> &tasks);
// Records that the message (task) uses these attachments, in this order (a task's earlier list
// is replaced); unlinkMessage: a deleted message uses none any more.
[[nodiscard]] MaybeError linkMessage(QSqlDatabase &db, Id messageId, const QList<Id> &attachmentIds);
[[nodiscard]] MaybeError unlinkMessage(QSqlDatabase &db, Id messageId);
[[nodiscard]] MaybeError setTaskAttachments(QSqlDatabase &db, Id taskId, const QList<Id> &attachmentIds);

// Garbage collection: deletes attachments created before olderThanMs that nothing uses (no
// message, no live task of a live project); returns the sha256 of the blobs no attachment refers
// to any more (to delete from the BlobStore). Safe against a concurrent write attaching one of
// them: that write either keeps it (its FOR SHARE lock makes this skip it) or finds it gone.
[[nodiscard]] Result<QList<QByteArray>> collectUnused(QSqlDatabase &db, qint64 olderThanMs, int limit);

} // namespace taskmaster::server::store
