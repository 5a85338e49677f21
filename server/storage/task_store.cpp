#include "server/storage/task_store.h"

#include "server/attachments/attachment_store.h"
#include "server/storage/event_store.h"
#include "server/storage/project_store.h"
#include "server/storage/sql.h"
#include "server/storage/user_store.h"
#include "shared/domain/validation.h"

#include <algorithm>

namespace taskmaster::server::store {

const QString kTaskColumns = QStringLiteral("t.id, t.project_id, t.title, t.description, t.status, t.priority, "
                                            "t.assignee_id, t.due_date, t.created_by, t.created_at, t.updated_at, "
                                            "t.version");

namespace {
// Written rows are returned unqualified (RETURNING on SQLite only names the modified table's
// columns).
const QString kTaskReturning = QStringLiteral(" RETURNING id, project_id, title, description, status, priority, "
                                              "assignee_id, due_date, created_by, created_at, updated_at, version");

// Stored as small integers in wire order.
int statusCode(TaskStatus s)
{
    return static_cast<int>(s);
}
int priorityCode(TaskPriority p)
{
    return static_cast<int>(p);
}
TaskStatus statusFromCode(int code)
{
    return static_cast<TaskStatus>(std::clamp(code, 0, 3));
}
TaskPriority priorityFromCode(int code)
{
    return static_cast<TaskPriority>(std::clamp(code, 0, 3));
}

QVariant assigneeBind(const std::optional<Id> &id)
{
    return id ? QVariant(*id) : QVariant(QMetaType::fromType<qlonglong>());
}

// Bound as "YYYY-MM-DD" on both back ends (a PostgreSQL date column takes the text literal).
QVariant dueDateBind(const std::optional<QDate> &date)
{
    return date ? QVariant(formatDate(*date)) : QVariant(QMetaType::fromType<QString>());
}

// A null QString binds as SQL NULL; the text columns are NOT NULL, so an empty value is bound as ''.
QVariant textBind(const QString &s)
{
    return s.isNull() ? QVariant(QStringLiteral("")) : QVariant(s);
}

Error taskNotFound()
{
    return Error {ErrorCode::NotFound, QStringLiteral("task not found"), {}};
}

Error assigneeNotMember()
{
    return Error::validation(QStringLiteral("assigneeId"), QStringLiteral("assignee is not a member of the project"));
}

MaybeError validateFields(const std::optional<QString> &title, const std::optional<QString> &description)
{
    if (title) {
        if (auto e = validateTaskTitle(*title))
            return e;
    }
    if (description) {
        if (auto e = validateDescription(*description))
            return e;
    }
    return std::nullopt;
}

// Inside a write transaction: locks the task's project (caller must be a member) and answers the
// live task as it is now. Any invisibility is NotFound "task not found".
Result<Task> lockTaskForMember(QSqlDatabase &db, Id taskId, Id callerId)
{
    auto pq = sql::run(db, "tasks.project_of",
                       QStringLiteral("SELECT project_id FROM tasks WHERE id = ? AND NOT deleted"), {taskId});
    if (!pq)
        return pq.error();
    if (!pq->next())
        return taskNotFound();
    const Id projectId = pq->value(0).toLongLong();
    pq->finish();
    auto project = lockProjectForMember(db, projectId, callerId);
    if (!project)
        return project.error().code == ErrorCode::NotFound ? taskNotFound() : project.error();
    // Read again under the lock: every write of the project's tasks holds it.
    auto q = sql::run(db, "tasks.current",
                      QStringLiteral("SELECT ") + kTaskColumns
                          + QStringLiteral(" FROM tasks t WHERE t.id = ? AND NOT t.deleted"),
                      {taskId});
    if (!q)
        return q.error();
    if (!q->next())
        return taskNotFound();
    return taskFromRow(*q);
}

// The attachments a write names, checked (the caller's own uploads) and in the given order.
Result<QList<Attachment>> ownAttachments(QSqlDatabase &db, const QList<Id> &ids, Id callerId)
{
    if (ids.isEmpty())
        return QList<Attachment>();
    auto known = attachmentsByIds(db, ids);
    if (!known)
        return known.error();
    if (auto e = checkOwnUploads(*known, ids, callerId))
        return *e;
    QList<Attachment> out;
    for (Id id : ids)
        out.append(known->value(id));
    return out;
}

// setAttachments: the task's new list (linked here); absent: the list stays (read here), and a
// deleted task's list goes (a deleted task uses its attachments no more).
Result<TaskWrite> finishWrite(QSqlDatabase &db, sql::Transaction &tx, Result<QSqlQuery> &written, EventType type,
                              qint64 nowMs, const std::optional<QList<Attachment>> &setAttachments = std::nullopt)
{
    if (!written)
        return written.error();
    if (!written->next())
        return taskNotFound();
    Task task = taskFromRow(*written);
    written->finish();
    if (setAttachments) {
        QList<Id> ids;
        for (const Attachment &a : *setAttachments)
            ids.append(a.id);
        if (auto e = setTaskAttachments(db, task.id, ids))
            return *e;
        task.attachments = *setAttachments;
    } else if (type == EventType::TaskDeleted) {
        if (auto e = setTaskAttachments(db, task.id, {}))
            return *e;
    } else {
        QList<Task> one {task};
        if (auto e = fillAttachments(db, one))
            return *e;
        task = one.constFirst();
    }
    auto seq = appendEvents(db, Channel::project(task.projectId), {EventRow {type, task.id}}, nowMs);
    if (!seq)
        return seq.error();
    if (auto e = tx.commit())
        return *e;
    return TaskWrite {task, *seq};
}
} // namespace

Task taskFromRow(const QSqlQuery &q)
{
    Task t;
    t.id = q.value(0).toLongLong();
    t.projectId = q.value(1).toLongLong();
    t.title = q.value(2).toString();
    t.description = q.value(3).toString();
    t.status = statusFromCode(q.value(4).toInt());
    t.priority = priorityFromCode(q.value(5).toInt());
    if (const QVariant a = q.value(6); !a.isNull())
        t.assigneeId = a.toLongLong();
    if (const QVariant d = q.value(7); !d.isNull()) {
        // PostgreSQL answers a QDate, SQLite the stored text.
        if (d.metaType().id() == QMetaType::QDate)
            t.dueDate = d.toDate();
        else
            t.dueDate = parseDate(d.toString());
    }
    t.createdBy = q.value(8).toLongLong();
    t.createdAt = fromMs(q.value(9).toLongLong());
    t.updatedAt = fromMs(q.value(10).toLongLong());
    t.version = q.value(11).toLongLong();
    return t;
}

SqlStatement taskListStatement(Id projectId, const TaskListFilter &filter)
{
    // Shapes that the indexes serve in order: tasks_by_project (project_id, created_at DESC,
    // id DESC), tasks_by_project_status (project_id, status, ...), tasks_by_assignee
    // (assignee_id, ...). The cursor is a row-value comparison, one range on the index.
    SqlStatement s;
    s.text = QStringLiteral("SELECT ") + kTaskColumns
        + QStringLiteral(" FROM tasks t WHERE t.project_id = ? AND NOT t.deleted");
    s.binds << projectId;
    if (filter.status) {
        s.text += QStringLiteral(" AND t.status = ?");
        s.binds << statusCode(*filter.status);
    }
    if (filter.assigneeId) {
        s.text += QStringLiteral(" AND t.assignee_id = ?");
        s.binds << *filter.assigneeId;
    }
    if (filter.cursor) {
        s.text += QStringLiteral(" AND (t.created_at, t.id) < (?, ?)");
        s.binds << filter.cursor->createdAtMs << filter.cursor->id;
    }
    s.text += QStringLiteral(" ORDER BY t.created_at DESC, t.id DESC LIMIT ?");
    s.binds << filter.limit + 1;
    return s;
}

Result<TaskWrite> createTask(QSqlDatabase &db, Id projectId, Id callerId, const NewTask &fields, qint64 nowMs)
{
    if (auto e = validateFields(fields.title, fields.description))
        return *e;
    sql::Transaction tx(db);
    if (!tx.began())
        return tx.beginError();
    auto project = lockProjectForMember(db, projectId, callerId);
    if (!project)
        return project.error();
    if (fields.assigneeId) {
        auto member = isProjectMember(db, projectId, *fields.assigneeId);
        if (!member)
            return member.error();
        if (!*member)
            return assigneeNotMember();
    }
    auto attachments = ownAttachments(db, fields.attachmentIds, callerId);
    if (!attachments)
        return attachments.error();
    auto q = sql::run(db, "tasks.insert",
                      QStringLiteral("INSERT INTO tasks (project_id, title, description, status, priority, "
                                     "assignee_id, due_date, created_by, created_at, updated_at) "
                                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                          + kTaskReturning,
                      {projectId, textBind(fields.title), textBind(fields.description), statusCode(fields.status),
                       priorityCode(fields.priority), assigneeBind(fields.assigneeId), dueDateBind(fields.dueDate),
                       callerId, nowMs, nowMs});
    return finishWrite(db, tx, q, EventType::TaskCreated, nowMs, *attachments);
}

Result<std::optional<Task>> taskForMember(QSqlDatabase &db, Id taskId, Id userId)
{
    auto q = sql::run(db, "tasks.for_member",
                      QStringLiteral("SELECT ") + kTaskColumns
                          + QStringLiteral(" FROM tasks t JOIN projects p ON p.id = t.project_id "
                                           "JOIN project_members m ON m.project_id = t.project_id AND m.user_id = ? "
                                           "WHERE t.id = ? AND NOT t.deleted AND NOT p.deleted"),
                      {userId, taskId});
    if (!q)
        return q.error();
    if (!q->next())
        return std::optional<Task>();
    QList<Task> one {taskFromRow(*q)};
    q->finish();
    if (auto e = fillAttachments(db, one))
        return *e;
    return std::optional<Task>(one.constFirst());
}

Result<TaskWrite> updateTask(QSqlDatabase &db, Id taskId, Id callerId, const TaskPatch &patch,
                             std::optional<qint64> expectedVersion, qint64 nowMs)
{
    if (auto e = validateFields(patch.title, patch.description))
        return *e;
    sql::Transaction tx(db);
    if (!tx.began())
        return tx.beginError();
    auto current = lockTaskForMember(db, taskId, callerId);
    if (!current)
        return current.error();
    if (expectedVersion && *expectedVersion != current->version)
        return Error {ErrorCode::PreconditionFailed, QStringLiteral("task is at version %1").arg(current->version), {}};
    if (patch.assigneeId && *patch.assigneeId) {
        auto member = isProjectMember(db, current->projectId, **patch.assigneeId);
        if (!member)
            return member.error();
        if (!*member)
            return assigneeNotMember();
    }

    // Only the columns that change are written (SQLite's FTS trigger fires on title/description).
    QStringList sets;
    QVariantList binds;
    if (patch.title && *patch.title != current->title) {
        sets << QStringLiteral("title = ?");
        binds << textBind(*patch.title);
    }
    if (patch.description && *patch.description != current->description) {
        sets << QStringLiteral("description = ?");
        binds << textBind(*patch.description);
    }
    if (patch.status && *patch.status != current->status) {
        sets << QStringLiteral("status = ?");
        binds << statusCode(*patch.status);
    }
    if (patch.priority && *patch.priority != current->priority) {
        sets << QStringLiteral("priority = ?");
        binds << priorityCode(*patch.priority);
    }
    if (patch.assigneeId && *patch.assigneeId != current->assigneeId) {
        sets << QStringLiteral("assignee_id = ?");
        binds << assigneeBind(*patch.assigneeId);
    }
    if (patch.dueDate && *patch.dueDate != current->dueDate) {
        sets << QStringLiteral("due_date = ?");
        binds << dueDateBind(*patch.dueDate);
    }
    std::optional<QList<Attachment>> attachments;
    if (patch.attachmentIds) {
        auto own = ownAttachments(db, *patch.attachmentIds, callerId);
        if (!own)
            return own.error();
        QList<Task> one {*current};
        if (auto e = fillAttachments(db, one))
            return *e;
        current = one.constFirst();
        if (*own != current->attachments)
            attachments = *own;
    }
    if (sets.isEmpty() && !attachments) {
        QList<Task> one {*current};
        if (auto e = fillAttachments(db, one))
            return *e;
        return TaskWrite {one.constFirst(), 0}; // nothing changes: no version, no event
    }
    sets << QStringLiteral("updated_at = ?") << QStringLiteral("version = version + 1");
    binds << nowMs << taskId;
    auto q = sql::run(db, "tasks.update",
                      QStringLiteral("UPDATE tasks SET ") + sets.join(QStringLiteral(", "))
                          + QStringLiteral(" WHERE id = ?") + kTaskReturning,
                      binds);
    return finishWrite(db, tx, q, EventType::TaskUpdated, nowMs, attachments);
}

Result<TaskWrite> deleteTask(QSqlDatabase &db, Id taskId, Id callerId, qint64 nowMs)
{
    sql::Transaction tx(db);
    if (!tx.began())
        return tx.beginError();
    auto current = lockTaskForMember(db, taskId, callerId);
    if (!current)
        return current.error();
    auto q = sql::run(db, "tasks.delete",
                      QStringLiteral("UPDATE tasks SET deleted = TRUE, updated_at = ?, version = version + 1 "
                                     "WHERE id = ?")
                          + kTaskReturning,
                      {nowMs, taskId});
    return finishWrite(db, tx, q, EventType::TaskDeleted, nowMs);
}

Result<TaskPage> listTasks(QSqlDatabase &db, Id projectId, Id callerId, const TaskListFilter &filter)
{
    if (filter.limit < 1)
        return Error::badRequest(QStringLiteral("limit must be positive"), QStringLiteral("limit"));
    auto member = isProjectMember(db, projectId, callerId);
    if (!member)
        return member.error();
    if (!*member)
        return Error {ErrorCode::NotFound, QStringLiteral("project not found"), {}};
    const SqlStatement s = taskListStatement(projectId, filter);
    auto q = sql::run(db, "tasks.list", s.text, s.binds);
    if (!q)
        return q.error();
    TaskPage page;
    page.items.reserve(filter.limit);
    bool more = false;
    while (q->next()) {
        if (page.items.size() == filter.limit) {
            more = true; // the limit + 1st row only says that another page follows
            break;
        }
        page.items.append(taskFromRow(*q));
    }
    if (more) {
        const Task &last = page.items.constLast();
        page.nextCursor = TaskCursor {last.createdAt.toMSecsSinceEpoch(), last.id};
    }
    q->finish();
    if (auto e = fillAttachments(db, page.items))
        return *e;
    return page;
}

Result<QList<Task>> tasksByIds(QSqlDatabase &db, const QList<Id> &ids)
{
    QList<Id> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    QList<Task> tasks;
    tasks.reserve(sorted.size());
    // Ascending chunks of ascending ids, each well under SQLite's bind limit.
    constexpr qsizetype kChunk = 500;
    for (qsizetype start = 0; start < sorted.size(); start += kChunk) {
        const qsizetype end = std::min(sorted.size(), start + kChunk);
        QString text = QStringLiteral("SELECT ") + kTaskColumns + QStringLiteral(" FROM tasks t WHERE t.id IN (");
        QVariantList binds;
        binds.reserve(end - start);
        text += sql::placeholders(end - start) + QStringLiteral(") ORDER BY t.id");
        for (qsizetype i = start; i < end; ++i)
            binds << sorted[i];
        auto q = sql::run(db, "tasks.by_ids", text, binds);
        if (!q)
            return q.error();
        while (q->next())
            tasks.append(taskFromRow(*q));
        q->finish();
    }
    if (auto e = fillAttachments(db, tasks))
        return *e;
    return tasks;
}

} // namespace taskmaster::server::store
