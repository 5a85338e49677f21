// TaskStore: the tasks of projects in SQL. Blocking functions that take the worker's connection;
// callers run them through DbPool. Thread: a database worker.
//
// Visibility: a task exists for a caller only while neither it nor its project is deleted and
// the caller is a member of its project; otherwise NotFound (or nullopt). Every member may
// create, change and delete the project's tasks.
// Errors of the writes, in this order: ValidationFailed for a field rule (title, description;
// checked before touching the database), NotFound, PreconditionFailed (expectedVersion given and
// not the current version), ValidationFailed field "assigneeId" when the assignee is not a member
// of the project (checked only when the write sets an assignee).
// Each write runs in one transaction that locks the project row first (see project_store.h),
// then changes the task and appends its durable event (TaskCreated / TaskUpdated / TaskDeleted,
// entity = the task) to channel project:<projectId>; the returned seq is that event's.
#pragma once

#include "shared/core/error.h"
#include "shared/domain/types.h"
#include "shared/domain/validation.h"

#include <QList>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QVariantList>

#include <optional>

namespace taskmaster::server::store {

// Fields of a new task.
struct NewTask {
    QString title;
    QString description;
    TaskStatus status = TaskStatus::Todo;
    TaskPriority priority = TaskPriority::Medium;
    std::optional<Id> assigneeId;
    std::optional<QDate> dueDate;
    QList<Id> attachmentIds {}; // the caller's own uploads (ValidationFailed, field attachmentIds)
};

// Fields to change. assigneeId and dueDate are tri-state: nullopt leaves them unchanged, an
// engaged empty optional clears them, an engaged value sets them.
struct TaskPatch {
    std::optional<QString> title;
    std::optional<QString> description;
    std::optional<TaskStatus> status;
    std::optional<TaskPriority> priority;
    std::optional<std::optional<Id>> assigneeId;
    std::optional<std::optional<QDate>> dueDate;
    std::optional<QList<Id>> attachmentIds {}; // given: replaces the list (the caller's own uploads)
};

// A task as written and the seq of its durable event in channel project:<task.projectId>.
// seq 0: nothing changed (a patch with no field, or only the current values), no event to publish.
struct TaskWrite {
    Task task;
    Seq seq = 0;
};

// Position in a newest-first task list: the last item of the previous page.
struct TaskCursor {
    qint64 createdAtMs = 0;
    Id id = 0;
    friend bool operator==(const TaskCursor &, const TaskCursor &) = default;
};

// GET /projects/{id}/tasks. limit must be >= 1 (BadRequest field "limit" otherwise); clamping it
// to limits::kPageMax is the caller's job.
struct TaskListFilter {
    std::optional<TaskStatus> status;
    std::optional<Id> assigneeId;
    std::optional<TaskCursor> cursor;
    int limit = limits::kPageDefault;
};

struct TaskPage {
    QList<Task> items; // created_at descending, then id descending
    std::optional<TaskCursor> nextCursor; // the last item, when more items follow it
};

[[nodiscard]] Result<TaskWrite> createTask(QSqlDatabase &db, Id projectId, Id callerId, const NewTask &fields,
                                           qint64 nowMs);
[[nodiscard]] Result<std::optional<Task>> taskForMember(QSqlDatabase &db, Id taskId, Id userId);
// version + 1 and updated_at = nowMs when something changes.
[[nodiscard]] Result<TaskWrite> updateTask(QSqlDatabase &db, Id taskId, Id callerId, const TaskPatch &patch,
                                           std::optional<qint64> expectedVersion, qint64 nowMs);
// Soft delete: version + 1; the returned task is its last state.
[[nodiscard]] Result<TaskWrite> deleteTask(QSqlDatabase &db, Id taskId, Id callerId, qint64 nowMs);

// One page, newest first, by keyset (no OFFSET): two queries whatever the page size (the
// membership check and the page itself, which fetches limit + 1 rows to know whether more follow).
[[nodiscard]] Result<TaskPage> listTasks(QSqlDatabase &db, Id projectId, Id callerId, const TaskListFilter &filter);

// Tasks by id, deleted ones included (an event replay shows the entity's current state),
// ascending id; unknown ids are left out. No caller check: for the real-time layer, which
// replays a channel the caller is subscribed to.
[[nodiscard]] Result<QList<Task>> tasksByIds(QSqlDatabase &db, const QList<Id> &ids);

// The page query of listTasks (text with positional binds, the limit + 1 included), exposed so
// tests can EXPLAIN exactly what listTasks runs.
struct SqlStatement {
    QString text;
    QVariantList binds;
};
[[nodiscard]] SqlStatement taskListStatement(Id projectId, const TaskListFilter &filter);

// Row helpers shared with other stores: the task columns selected through the alias "t", in the
// order taskFromRow reads them.
extern const QString kTaskColumns;
[[nodiscard]] Task taskFromRow(const QSqlQuery &q);

} // namespace taskmaster::server::store
