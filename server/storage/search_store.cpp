#include "server/storage/search_store.h"

#include "server/attachments/attachment_store.h"
#include "server/storage/room_store.h"
#include "server/storage/sql.h"
#include "server/storage/task_store.h"

#include <QRegularExpression>

namespace taskmaster::server::store {

namespace {
QString qualified(const QString &columns, const QString &alias)
{
    QStringList cols = columns.split(QStringLiteral(", "));
    for (QString &c : cols)
        c.prepend(alias + QLatin1Char('.'));
    return cols.join(QStringLiteral(", "));
}
} // namespace

QString fts5Query(const QString &text)
{
    QStringList terms;
    const QStringList words = text.split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts);
    for (QString w : words) {
        w.replace(QLatin1Char('"'), QLatin1String("\"\""));
        terms << QLatin1Char('"') + w + QLatin1Char('"');
    }
    return terms.join(QLatin1Char(' '));
}

namespace {
// search()'s message query: user id, match text, limit.
QString messageSearchSql(bool pg)
{
    return pg ? QStringLiteral("SELECT ") + qualified(kMessageColumns, QStringLiteral("m"))
            + QStringLiteral(" FROM messages m JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = ? "
                             "WHERE m.search @@ plainto_tsquery('simple', ?) AND m.deleted = false "
                             "ORDER BY m.id DESC LIMIT ?")
              : QStringLiteral("SELECT ") + qualified(kMessageColumns, QStringLiteral("m"))
            + QStringLiteral(" FROM messages_fts f JOIN messages m ON m.id = f.rowid "
                             "JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = ? "
                             "WHERE messages_fts MATCH ? AND m.deleted = false ORDER BY m.id DESC LIMIT ?");
}
} // namespace

Result<QStringList> explainMessageSearch(QSqlDatabase &db, Id userId, const QString &text, int limit)
{
    const bool pg = sql::dialectOf(db) == sql::Dialect::Postgres;
    Result<QSqlQuery> q = Error {};
    if (pg) {
        // EXPLAIN cannot be prepared: the arguments go into the text (the custom plan a prepared
        // search gets for them).
        QString literal = text;
        literal.replace(QLatin1Char('\''), QLatin1String("''"));
        QString sqlText = messageSearchSql(true);
        qsizetype at = 0;
        const QStringList args {QString::number(userId), QString(QLatin1Char('\'') + literal + QLatin1Char('\'')),
                                QString::number(limit)};
        for (const QString &arg : args) {
            at = sqlText.indexOf(QLatin1Char('?'), at);
            sqlText.replace(at, 1, arg);
            at += arg.size();
        }
        q = sql::run(db, "search.explain", QStringLiteral("EXPLAIN (ANALYZE, BUFFERS) ") + sqlText, QVariantList {});
    } else {
        q = sql::run(db, "search.explain", QStringLiteral("EXPLAIN QUERY PLAN ") + messageSearchSql(false),
                     {userId, fts5Query(text), limit});
    }
    if (!q)
        return q.error();
    QStringList lines;
    // SQLite: id, parent, notused, detail; PostgreSQL: one text column.
    while (q->next())
        lines << (pg ? q->value(0).toString() : q->value(3).toString());
    q->finish();
    return lines;
}

Result<SearchHits> search(QSqlDatabase &db, Id userId, const QString &text, int limit)
{
    SearchHits hits;
    const bool pg = sql::dialectOf(db) == sql::Dialect::Postgres;
    const QString match = pg ? text : fts5Query(text);
    if (match.trimmed().isEmpty())
        return hits;
    const QString messages = messageSearchSql(pg);
    auto q = sql::run(db, "search.messages", messages, {userId, match, limit});
    if (!q)
        return q.error();
    while (q->next())
        hits.messages.append(messageFromRow(*q));
    q->finish();
    const QString tasks = pg ? QStringLiteral("SELECT ") + kTaskColumns
            + QStringLiteral(" FROM tasks t JOIN project_members pm ON pm.project_id = t.project_id AND pm.user_id = ? "
                             "JOIN projects p ON p.id = t.project_id AND p.deleted = false "
                             "WHERE t.search @@ plainto_tsquery('simple', ?) AND t.deleted = false "
                             "ORDER BY t.id DESC LIMIT ?")
                             : QStringLiteral("SELECT ") + kTaskColumns
            + QStringLiteral(" FROM tasks_fts f JOIN tasks t ON t.id = f.rowid "
                             "JOIN project_members pm ON pm.project_id = t.project_id AND pm.user_id = ? "
                             "JOIN projects p ON p.id = t.project_id AND p.deleted = false "
                             "WHERE tasks_fts MATCH ? AND t.deleted = false ORDER BY t.id DESC LIMIT ?");
    auto t = sql::run(db, "search.tasks", tasks, {userId, match, limit});
    if (!t)
        return t.error();
    while (t->next())
        hits.tasks.append(taskFromRow(*t));
    t->finish();
    if (auto e = fillAttachments(db, hits.messages, hits.tasks))
        return *e;
    return hits;
}

} // namespace taskmaster::server::store
