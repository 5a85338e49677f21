#include "server/attachments/attachment_store.h"

#include "server/storage/sql.h"

#include <QDateTime>
#include <QSqlQuery>
#include <QVariant>

namespace taskmaster::server::store {

namespace {
const QString kColumns = QStringLiteral("a.id, a.name, a.size, a.content_type, a.sha256, a.created_at, a.uploader_id");

Attachment attachmentFrom(const QSqlQuery &q)
{
    Attachment a;
    a.id = q.value(0).toLongLong();
    a.name = q.value(1).toString();
    a.size = q.value(2).toLongLong();
    a.contentType = q.value(3).toString();
    a.sha256 = q.value(4).toString();
    a.createdAt = QDateTime::fromMSecsSinceEpoch(q.value(5).toLongLong(), Qt::UTC);
    a.uploaderId = q.value(6).toLongLong();
    return a;
}
} // namespace

namespace {
Result<QHash<Id, QList<Attachment>>> attachmentsOf(QSqlDatabase &db, const char *what, const QString &table,
                                                   const QString &owner, const QList<Id> &ids)
{
    QHash<Id, QList<Attachment>> out;
    if (ids.isEmpty())
        return out;
    auto q = sql::run(db, what,
                      QStringLiteral("SELECT ") + kColumns + QStringLiteral(", u.") + owner + QStringLiteral(" FROM ")
                          + table + QStringLiteral(" u JOIN attachments a ON a.id = u.attachment_id WHERE ")
                          + sql::inIds(db, QStringLiteral("u.") + owner) + QStringLiteral(" ORDER BY u.") + owner
                          + QStringLiteral(", u.position"),
                      {sql::idsBind(db, ids)});
    if (!q)
        return q.error();
    while (q->next())
        out[q->value(7).toLongLong()].append(attachmentFrom(*q));
    q->finish();
    return out;
}

MaybeError link(QSqlDatabase &db, const char *what, const QString &table, const QString &owner, Id ownerId,
                const QList<Id> &ids)
{
    if (ids.isEmpty())
        return std::nullopt;
    QVariantList binds;
    for (qsizetype i = 0; i < ids.size(); ++i)
        binds << ownerId << ids[i] << int(i);
    auto q
        = sql::run(db, what,
                   QStringLiteral("INSERT INTO ") + table + QStringLiteral(" (") + owner
                       + QStringLiteral(", attachment_id, position) VALUES ") + sql::joined(ids.size(), u"(?, ?, ?)"),
                   binds);
    if (!q)
        return q.error();
    return std::nullopt;
}
} // namespace

Result<QHash<Id, Attachment>> attachmentsByIds(QSqlDatabase &db, const QList<Id> &ids)
{
    QHash<Id, Attachment> out;
    if (ids.isEmpty())
        return out;
    // FOR SHARE (PostgreSQL): the rows stay until the caller's transaction ends, and a row the
    // garbage collection is deleting is waited for and then left out (collectUnused).
    const bool pg = sql::dialectOf(db) == sql::Dialect::Postgres;
    auto q = sql::run(db, "attachments.by_ids",
                      QStringLiteral("SELECT ") + kColumns + QStringLiteral(" FROM attachments a WHERE ")
                          + sql::inIds(db, QStringLiteral("a.id")) + (pg ? QStringLiteral(" FOR SHARE") : QString()),
                      {sql::idsBind(db, ids)});
    if (!q)
        return q.error();
    while (q->next()) {
        Attachment a = attachmentFrom(*q);
        out.insert(a.id, std::move(a));
    }
    q->finish();
    return out;
}

MaybeError checkOwnUploads(const QHash<Id, Attachment> &known, const QList<Id> &ids, Id uploaderId)
{
    for (Id id : ids) {
        const auto it = known.constFind(id);
        if (it == known.cend() || it->uploaderId != uploaderId) {
            return Error::validation(
                QStringLiteral("attachmentIds"),
                QStringLiteral("attachmentIds must name your own uploads (%1 is not one)").arg(id));
        }
    }
    return std::nullopt;
}

Result<QHash<Id, QList<Attachment>>> attachmentsOfMessages(QSqlDatabase &db, const QList<Id> &messageIds)
{
    return attachmentsOf(db, "attachments.of_messages", QStringLiteral("message_attachments"),
                         QStringLiteral("message_id"), messageIds);
}

Result<QHash<Id, QList<Attachment>>> attachmentsOfTasks(QSqlDatabase &db, const QList<Id> &taskIds)
{
    return attachmentsOf(db, "attachments.of_tasks", QStringLiteral("task_attachments"), QStringLiteral("task_id"),
                         taskIds);
}

MaybeError fillAttachments(QSqlDatabase &db, QList<Message> &messages)
{
    QList<Id> ids;
    for (const Message &m : messages)
        ids.append(m.id);
    auto found = attachmentsOfMessages(db, ids);
    if (!found)
        return found.error();
    for (Message &m : messages)
        m.attachments = found->value(m.id);
    return std::nullopt;
}

MaybeError fillAttachments(QSqlDatabase &db, QList<Task> &tasks)
{
    QList<Id> ids;
    for (const Task &t : tasks)
        ids.append(t.id);
    auto found = attachmentsOfTasks(db, ids);
    if (!found)
        return found.error();
    for (Task &t : tasks)
        t.attachments = found->value(t.id);
    return std::nullopt;
}

MaybeError fillAttachments(QSqlDatabase &db, QList<Message> &messages, QList<Task> &tasks)
{
    if (messages.isEmpty())
        return fillAttachments(db, tasks);
    if (tasks.isEmpty())
        return fillAttachments(db, messages);
    QList<Id> messageIds, taskIds;
    for (const Message &m : messages)
        messageIds.append(m.id);
    for (const Task &t : tasks)
        taskIds.append(t.id);
    auto q = sql::run(
        db, "attachments.of_search",
        QStringLiteral("SELECT ") + kColumns
            + QStringLiteral(", u.message_id, 0, u.position FROM message_attachments u JOIN attachments a ON a.id = "
                             "u.attachment_id WHERE ")
            + sql::inIds(db, QStringLiteral("u.message_id")) + QStringLiteral(" UNION ALL SELECT ") + kColumns
            + QStringLiteral(", u.task_id, 1, u.position FROM task_attachments u JOIN attachments a ON a.id = "
                             "u.attachment_id WHERE ")
            + sql::inIds(db, QStringLiteral("u.task_id")) + QStringLiteral(" ORDER BY 9, 8, 10"),
        {sql::idsBind(db, messageIds), sql::idsBind(db, taskIds)});
    if (!q)
        return q.error();
    QHash<Id, QList<Attachment>> ofMessages, ofTasks;
    while (q->next())
        (q->value(8).toInt() == 0 ? ofMessages : ofTasks)[q->value(7).toLongLong()].append(attachmentFrom(*q));
    q->finish();
    for (Message &m : messages)
        m.attachments = ofMessages.value(m.id);
    for (Task &t : tasks)
        t.attachments = ofTasks.value(t.id);
    return std::nullopt;
}

MaybeError linkMessage(QSqlDatabase &db, Id messageId, const QList<Id> &attachmentIds)
{
    return link(db, "attachments.link_message", QStringLiteral("message_attachments"), QStringLiteral("message_id"),
                messageId, attachmentIds);
}

MaybeError unlinkMessage(QSqlDatabase &db, Id messageId)
{
    auto q = sql::run(db, "attachments.unlink_message",
                      QStringLiteral("DELETE FROM message_attachments WHERE message_id = ?"), {messageId});
    if (!q)
        return q.error();
    return std::nullopt;
}

MaybeError setTaskAttachments(QSqlDatabase &db, Id taskId, const QList<Id> &attachmentIds)
{
    auto q = sql::run(db, "attachments.unlink_task", QStringLiteral("DELETE FROM task_attachments WHERE task_id = ?"),
                      {taskId});
    if (!q)
        return q.error();
    return link(db, "attachments.link_task", QStringLiteral("task_attachments"), QStringLiteral("task_id"), taskId,
                attachmentIds);
}

Result<Attachment> insertAttachment(QSqlDatabase &db, const Attachment &a)
{
    auto q = sql::run(db, "attachment_insert",
                      QStringLiteral("INSERT INTO attachments (name, size, content_type, sha256, created_at, "
                                     "uploader_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING id"),
                      {a.name, a.size, a.contentType, a.sha256, a.createdAt.toMSecsSinceEpoch(), a.uploaderId});
    if (!q)
        return q.error();
    if (!q->next())
        return Error {ErrorCode::Internal, QStringLiteral("attachment insert returned no id"), {}};
    Attachment out = a;
    out.id = q->value(0).toLongLong();
    q->finish();
    return out;
}

Result<std::optional<Attachment>> readableAttachment(QSqlDatabase &db, Id id, Id userId)
{
    auto q = sql::run(
        db, "attachment_readable",
        QStringLiteral("SELECT ") + kColumns
            + QStringLiteral(
                " FROM attachments a WHERE a.id = ? AND (a.uploader_id = ?"
                " OR EXISTS (SELECT 1 FROM message_attachments ma JOIN messages m ON m.id = ma.message_id"
                "   JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = ? WHERE ma.attachment_id = a.id)"
                " OR EXISTS (SELECT 1 FROM task_attachments ta JOIN tasks t ON t.id = ta.task_id AND NOT t.deleted"
                "   JOIN projects p ON p.id = t.project_id AND NOT p.deleted"
                "   JOIN project_members pm ON pm.project_id = p.id AND pm.user_id = ? WHERE ta.attachment_id = "
                "a.id))"),
        {id, userId, userId, userId});
    if (!q)
        return q.error();
    if (!q->next())
        return std::optional<Attachment> {};
    Attachment a = attachmentFrom(*q);
    q->finish();
    return std::optional<Attachment>(std::move(a));
}

Result<UploadUsage> uploadUsage(QSqlDatabase &db, Id userId, qint64 sinceMs)
{
    auto q = sql::run(db, "attachment_usage",
                      QStringLiteral("SELECT COALESCE(SUM(size), 0), COALESCE(MIN(created_at), 0) FROM attachments "
                                     "WHERE uploader_id = ? AND created_at >= ?"),
                      {userId, sinceMs});
    if (!q)
        return q.error();
    UploadUsage u;
    if (q->next()) {
        u.bytes = q->value(0).toLongLong();
        u.oldestMs = q->value(1).toLongLong();
    }
    q->finish();
    return u;
}

Result<QList<QByteArray>> collectUnused(QSqlDatabase &db, qint64 olderThanMs, int limit)
{
    // Used: by a message (a deleted message has no links), or by a live task of a live project (a
    // deleted project's tasks keep their links, which go with the attachment: ON DELETE CASCADE).
    static const QString kUnused = QStringLiteral(
        " AND NOT EXISTS (SELECT 1 FROM message_attachments ma WHERE ma.attachment_id = a.id)"
        " AND NOT EXISTS (SELECT 1 FROM task_attachments ta JOIN tasks t ON t.id = ta.task_id AND NOT t.deleted"
        "   JOIN projects p ON p.id = t.project_id AND NOT p.deleted WHERE ta.attachment_id = a.id)");
    // The race with a write that is attaching one of them (docs/operations.md, "Attachments"):
    // on PostgreSQL the candidates are locked FOR UPDATE, skipping those a write holds FOR SHARE
    // (attachmentsByIds), and a write that comes after waits for this transaction and then finds
    // the attachment gone (422). Each delete checks again that nothing uses the attachment, in
    // the statement's own snapshot. SQLite runs one writing transaction at a time (BEGIN IMMEDIATE).
    const bool pg = sql::dialectOf(db) == sql::Dialect::Postgres;
    sql::Transaction tx(db);
    if (!tx.began())
        return tx.beginError();
    auto unused = sql::run(db, "attachment_unused",
                           QStringLiteral("SELECT a.id, a.sha256 FROM attachments a WHERE a.created_at < ?") + kUnused
                               + QStringLiteral(" ORDER BY a.id LIMIT ?")
                               + (pg ? QStringLiteral(" FOR UPDATE OF a SKIP LOCKED") : QString()),
                           {olderThanMs, limit});
    if (!unused)
        return unused.error();
    QList<std::pair<qint64, QByteArray>> candidates;
    while (unused->next())
        candidates.append({unused->value(0).toLongLong(), unused->value(1).toString().toLatin1()});
    unused->finish();
    QList<QByteArray> shas;
    for (const auto &[id, sha] : candidates) {
        auto q = sql::run(db, "attachment_delete",
                          QStringLiteral("DELETE FROM attachments AS a WHERE a.id = ?") + kUnused, {id});
        if (!q)
            return q.error();
        if (q->numRowsAffected() > 0 && !shas.contains(sha))
            shas.append(sha);
    }
    QList<QByteArray> orphans;
    const auto isUnused = [&db](const QByteArray &sha) -> Result<bool> {
        auto q
            = sql::run(db, "attachment_sha_used", QStringLiteral("SELECT 1 FROM attachments WHERE sha256 = ? LIMIT 1"),
                       {QString::fromLatin1(sha)});
        if (!q)
            return q.error();
        const bool used = q->next();
        q->finish();
        return !used;
    };
    for (const QByteArray &sha : shas) {
        auto gone = isUnused(sha);
        if (!gone)
            return gone.error();
        if (!*gone)
            continue;
        orphans.append(sha);
        // Its thumbnail goes with it.
        auto thumb
            = sql::run(db, "thumbnail_of", QStringLiteral("SELECT sha256 FROM thumbnails WHERE source_sha256 = ?"),
                       {QString::fromLatin1(sha)});
        if (!thumb)
            return thumb.error();
        const QByteArray thumbSha = thumb->next() ? thumb->value(0).toString().toLatin1() : QByteArray();
        thumb->finish();
        if (thumbSha.isEmpty())
            continue;
        if (auto q = sql::run(db, "thumbnail_delete", QStringLiteral("DELETE FROM thumbnails WHERE source_sha256 = ?"),
                              {QString::fromLatin1(sha)});
            !q)
            return q.error();
        auto thumbFree = isUnused(thumbSha);
        if (!thumbFree)
            return thumbFree.error();
        if (*thumbFree && !orphans.contains(thumbSha))
            orphans.append(thumbSha);
    }
    if (auto e = tx.commit())
        return *e;
    return orphans;
}

} // namespace taskmaster::server::store
