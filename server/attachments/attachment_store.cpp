#include "server/attachments/attachment_store.h"

#include "server/storage/sql.h"

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
    a.sha256 = q.value(4).toString().toLatin1();
    a.createdAtMs = q.value(5).toLongLong();
    a.uploaderId = q.value(6).toLongLong();
    return a;
}
} // namespace

Result<Attachment> insertAttachment(QSqlDatabase &db, const Attachment &a)
{
    auto q = sql::run(db, "attachment_insert",
                      QStringLiteral("INSERT INTO attachments (name, size, content_type, sha256, created_at, "
                                     "uploader_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING id"),
                      {a.name, a.size, a.contentType, QString::fromLatin1(a.sha256), a.createdAtMs, a.uploaderId});
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
    sql::Transaction tx(db);
    if (!tx.began())
        return tx.beginError();
    auto unused
        = sql::run(db, "attachment_unused",
                   QStringLiteral("SELECT a.id, a.sha256 FROM attachments a WHERE a.created_at < ?"
                                  " AND NOT EXISTS (SELECT 1 FROM message_attachments ma WHERE ma.attachment_id = a.id)"
                                  " AND NOT EXISTS (SELECT 1 FROM task_attachments ta WHERE ta.attachment_id = a.id)"
                                  " ORDER BY a.id LIMIT ?"),
                   {olderThanMs, limit});
    if (!unused)
        return unused.error();
    QList<qint64> ids;
    QList<QByteArray> shas;
    while (unused->next()) {
        ids.append(unused->value(0).toLongLong());
        const QByteArray sha = unused->value(1).toString().toLatin1();
        if (!shas.contains(sha))
            shas.append(sha);
    }
    unused->finish();
    QList<QByteArray> orphans;
    for (const qint64 id : ids) {
        if (auto q = sql::run(db, "attachment_delete", QStringLiteral("DELETE FROM attachments WHERE id = ?"), {id});
            !q)
            return q.error();
    }
    for (const QByteArray &sha : shas) {
        auto q
            = sql::run(db, "attachment_sha_used", QStringLiteral("SELECT 1 FROM attachments WHERE sha256 = ? LIMIT 1"),
                       {QString::fromLatin1(sha)});
        if (!q)
            return q.error();
        if (!q->next())
            orphans.append(sha);
        q->finish();
    }
    if (auto e = tx.commit())
        return *e;
    return orphans;
}

} // namespace taskmaster::server::store
