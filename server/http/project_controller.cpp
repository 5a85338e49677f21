#include "server/http/project_controller.h"

#include "server/cache/cache.h"
#include "server/http/api_router.h"
#include "server/http/authenticated_queries.h"
#include "server/http/cached_reads.h"
#include "server/storage/project_store.h"
#include "server/storage/task_store.h"
#include "server/ws/event_sink.h"
#include "shared/codec/rest_json.h"

#include <algorithm>

namespace taskmaster::server {

namespace {
using Method = QHttpServerRequest::Method;

Error projectNotFound()
{
    return Error {ErrorCode::NotFound, QStringLiteral("project not found"), {}};
}

Error taskNotFound()
{
    return Error {ErrorCode::NotFound, QStringLiteral("task not found"), {}};
}

// If-Match of a PATCH: absent or "*" -> no precondition; a decimal version, bare or quoted ("5",
// "\"5\"") -> the version the resource must be at; anything else -> 400 naming the header.
Result<std::optional<qint64>> expectedVersion(const Call &call)
{
    QByteArray v = call.ifMatch;
    if (v.isEmpty() || v == "*")
        return std::optional<qint64>();
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
        v = v.mid(1, v.size() - 2);
    const bool digits = !v.isEmpty() && v.size() <= 18
        && std::all_of(v.cbegin(), v.cend(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) {
        return Error::badRequest(QStringLiteral("If-Match must be the resource's version, a decimal integer"),
                                 QStringLiteral("If-Match"));
    }
    return std::optional<qint64>(v.toLongLong());
}

store::NewTask toNewTask(const CreateTaskRequest &r)
{
    return store::NewTask {r.title, r.description, r.status, r.priority, r.assigneeId, r.dueDate, r.attachmentIds};
}

store::TaskPatch toTaskPatch(const PatchTaskRequest &r)
{
    return store::TaskPatch {r.title, r.description, r.status, r.priority, r.assigneeId, r.dueDate, r.attachmentIds};
}

store::TaskListFilter toFilter(const TaskListQuery &q)
{
    store::TaskListFilter f;
    f.status = q.status;
    f.assigneeId = q.assigneeId;
    if (q.cursor)
        f.cursor = store::TaskCursor {q.cursor->createdAt.toMSecsSinceEpoch(), q.cursor->id};
    f.limit = q.limit;
    return f;
}

std::optional<QString> wireCursor(const std::optional<store::TaskCursor> &cursor)
{
    if (!cursor)
        return std::nullopt;
    return encodeCursor(PageCursor {QDateTime::fromMSecsSinceEpoch(cursor->createdAtMs, Qt::UTC), cursor->id});
}

CacheKey projectKey(Id projectId)
{
    return CacheKey {
        "project", "project:" + QByteArray::number(projectId), {versions::project(projectId)}, projectNotFound()};
}

CacheKey taskListKey(Id projectId, const TaskListQuery &q)
{
    // Keyed by the parsed query written back, so equivalent spellings share one entry.
    return CacheKey {"tasks",
                     "tasks:" + QByteArray::number(projectId) + '?' + toQuery(q).toString(QUrl::FullyEncoded).toUtf8(),
                     {versions::project(projectId), versions::projectTasks(projectId)},
                     projectNotFound()};
}

// A project or task list as `caller` reads it (nullopt: as its members do, for warming), with
// the project's members as the audience of the cached value.
Result<CachedRead> projectRead(QSqlDatabase &db, Id projectId, std::optional<Id> caller)
{
    auto members = store::projectMemberIds(db, projectId);
    if (!members)
        return members.error();
    if (members->isEmpty())
        return projectNotFound();
    auto project = store::projectForMember(db, projectId, caller.value_or(members->constFirst()));
    if (!project)
        return project.error();
    if (!project->has_value())
        return projectNotFound();
    return CachedRead {ApiResponse::json(**project), false, *members};
}

Result<CachedRead> taskListRead(QSqlDatabase &db, Id projectId, const TaskListQuery &q, std::optional<Id> caller)
{
    auto members = store::projectMemberIds(db, projectId);
    if (!members)
        return members.error();
    if (members->isEmpty())
        return projectNotFound();
    auto page = store::listTasks(db, projectId, caller.value_or(members->constFirst()), toFilter(q));
    if (!page)
        return page.error();
    return CachedRead {ApiResponse::json(Page<Task> {page->items, wireCursor(page->nextCursor)}), false, *members};
}
} // namespace

void ProjectController::warm(const QList<Id> &projectIds)
{
    for (Id projectId : projectIds) {
        m_deps.cachedReads.warm(projectKey(projectId),
                                [projectId](QSqlDatabase &db) { return projectRead(db, projectId, std::nullopt); });
        m_deps.cachedReads.warm(taskListKey(projectId, TaskListQuery {}), [projectId](QSqlDatabase &db) {
            return taskListRead(db, projectId, TaskListQuery {}, std::nullopt);
        });
    }
}

void ProjectController::addRoutes(ApiRouter &router)
{
    router.add(Method::Get, QStringLiteral("/api/v1/projects"), this, &ProjectController::listAction);
    router.add(Method::Post, QStringLiteral("/api/v1/projects"), this, &ProjectController::createAction);
    router.add(Method::Get, QStringLiteral("/api/v1/projects/{id}"), this, &ProjectController::projectAction);
    router.add(Method::Patch, QStringLiteral("/api/v1/projects/{id}"), this, &ProjectController::patchAction);
    router.add(Method::Delete, QStringLiteral("/api/v1/projects/{id}"), this, &ProjectController::deleteAction);
    router.add(Method::Post, QStringLiteral("/api/v1/projects/{id}/members"), this,
               &ProjectController::addMemberAction);
    router.add(Method::Delete, QStringLiteral("/api/v1/projects/{id}/members/{id}"), this,
               &ProjectController::removeMemberAction);
    router.add(Method::Get, QStringLiteral("/api/v1/projects/{id}/tasks"), this, &ProjectController::tasksAction);
    router.add(Method::Post, QStringLiteral("/api/v1/projects/{id}/tasks"), this, &ProjectController::createTaskAction);
    router.add(Method::Get, QStringLiteral("/api/v1/tasks/{id}"), this, &ProjectController::taskAction);
    router.add(Method::Patch, QStringLiteral("/api/v1/tasks/{id}"), this, &ProjectController::patchTaskAction);
    router.add(Method::Delete, QStringLiteral("/api/v1/tasks/{id}"), this, &ProjectController::deleteTaskAction);
}

ApiFuture ProjectController::listAction(const Call &c, const PathIds &)
{
    return m_deps.queries.run(
        c,
        [](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
            auto projects = store::projectsForUser(db, me.id);
            if (!projects)
                return projects.error();
            return ApiResponse::json(Page<Project> {*projects, std::nullopt}).withETag();
        },
        ReadFrom::Replica);
}

ApiFuture ProjectController::createAction(const Call &c, const PathIds &)
{
    auto req = decodeBody<CreateProjectRequest>(c);
    if (!req)
        return answerNow(req.error());
    return m_deps.queries.run(c,
                              [r = *req, now = m_deps.nowMs(),
                               sink = &m_deps.events](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
                                  auto created = store::createProject(db, me.id, r.name, r.description, now);
                                  if (!created)
                                      return created.error();
                                  // The owner's membership has no event: the channel starts at seq 0.
                                  sink->subscribe(Channel::project(created->id), {me.id}, 0);
                                  return ApiResponse::json(*created, 201);
                              });
}

ApiFuture ProjectController::projectAction(const Call &c, const PathIds &ids)
{
    const Id projectId = ids[0];
    return m_deps.cachedReads.get(c, projectKey(projectId), [projectId](QSqlDatabase &db, const User &me) {
        return projectRead(db, projectId, me.id);
    });
}

ApiFuture ProjectController::patchAction(const Call &c, const PathIds &ids)
{
    auto req = decodeBody<PatchProjectRequest>(c);
    if (!req)
        return answerNow(req.error());
    auto version = expectedVersion(c);
    if (!version)
        return answerNow(version.error());
    return m_deps.queries.run(c,
                              [projectId = ids[0], r = *req, version = *version,
                               now = m_deps.nowMs()](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
                                  auto updated
                                      = store::updateProject(db, projectId, me.id, r.name, r.description, version, now);
                                  if (!updated)
                                      return updated.error();
                                  return ApiResponse::json(*updated).invalidating({versions::project(projectId)});
                              });
}

ApiFuture ProjectController::deleteAction(const Call &c, const PathIds &ids)
{
    return m_deps.queries.run(c,
                              [projectId = ids[0], now = m_deps.nowMs(),
                               sink = &m_deps.events](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
                                  auto deleted = store::deleteProject(db, projectId, me.id, now);
                                  if (!deleted)
                                      return deleted.error();
                                  sink->closeChannel(Channel::project(projectId), deleted->memberIds);
                                  return ApiResponse::noContent().invalidating(
                                      {versions::project(projectId), versions::projectTasks(projectId)});
                              });
}

ApiFuture ProjectController::addMemberAction(const Call &c, const PathIds &ids)
{
    auto req = decodeBody<AddMemberRequest>(c);
    if (!req)
        return answerNow(req.error());
    return m_deps.queries.run(
        c,
        [projectId = ids[0], userId = req->userId, now = m_deps.nowMs(),
         sink = &m_deps.events](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
            auto added = store::addProjectMember(db, projectId, me.id, userId, now);
            if (!added)
                return added.error();
            sink->publish({events::member(EventType::MemberJoined, Channel::project(projectId), added->seq, userId)});
            // Like rooms: 200 with the resource the member was added to.
            auto project = store::projectForMember(db, projectId, me.id);
            if (!project)
                return project.error();
            if (!project->has_value())
                return projectNotFound();
            return ApiResponse::json(**project).invalidating({versions::project(projectId)});
        });
}

ApiFuture ProjectController::removeMemberAction(const Call &c, const PathIds &ids)
{
    return m_deps.queries.run(
        c,
        [projectId = ids[0], userId = ids[1], now = m_deps.nowMs(),
         sink = &m_deps.events](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
            auto removed = store::removeProjectMember(db, projectId, me.id, userId, now);
            if (!removed)
                return removed.error();
            sink->publish({events::member(EventType::MemberLeft, Channel::project(projectId), removed->seq, userId)});
            return ApiResponse::noContent().invalidating({versions::project(projectId)});
        });
}

ApiFuture ProjectController::tasksAction(const Call &c, const PathIds &ids)
{
    auto q = parseTaskListQuery(c.query);
    if (!q)
        return answerNow(q.error());
    const Id projectId = ids[0];
    return m_deps.cachedReads.get(c, taskListKey(projectId, *q), [projectId, q = *q](QSqlDatabase &db, const User &me) {
        return taskListRead(db, projectId, q, me.id);
    });
}

ApiFuture ProjectController::createTaskAction(const Call &c, const PathIds &ids)
{
    auto req = decodeBody<CreateTaskRequest>(c);
    if (!req)
        return answerNow(req.error());
    return m_deps.queries.run(
        c,
        [projectId = ids[0], fields = toNewTask(*req), now = m_deps.nowMs(),
         sink = &m_deps.events](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
            auto created = store::createTask(db, projectId, me.id, fields, now);
            if (!created)
                return created.error();
            sink->publish({events::task(EventType::TaskCreated, created->seq, created->task)});
            return ApiResponse::json(created->task, 201).invalidating({versions::projectTasks(projectId)});
        });
}

ApiFuture ProjectController::taskAction(const Call &c, const PathIds &ids)
{
    return m_deps.queries.run(c, [taskId = ids[0]](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
        auto task = store::taskForMember(db, taskId, me.id);
        if (!task)
            return task.error();
        if (!task->has_value())
            return taskNotFound();
        return ApiResponse::json(**task).withETag();
    });
}

ApiFuture ProjectController::patchTaskAction(const Call &c, const PathIds &ids)
{
    auto req = decodeBody<PatchTaskRequest>(c);
    if (!req)
        return answerNow(req.error());
    auto version = expectedVersion(c);
    if (!version)
        return answerNow(version.error());
    return m_deps.queries.run(
        c,
        [taskId = ids[0], patch = toTaskPatch(*req), version = *version, now = m_deps.nowMs(),
         sink = &m_deps.events](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
            auto updated = store::updateTask(db, taskId, me.id, patch, version, now);
            if (!updated)
                return updated.error();
            if (updated->seq > 0)
                sink->publish({events::task(EventType::TaskUpdated, updated->seq, updated->task)});
            return ApiResponse::json(updated->task).invalidating({versions::projectTasks(updated->task.projectId)});
        });
}

ApiFuture ProjectController::deleteTaskAction(const Call &c, const PathIds &ids)
{
    return m_deps.queries.run(c,
                              [taskId = ids[0], now = m_deps.nowMs(),
                               sink = &m_deps.events](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
                                  auto deleted = store::deleteTask(db, taskId, me.id, now);
                                  if (!deleted)
                                      return deleted.error();
                                  sink->publish({events::task(EventType::TaskDeleted, deleted->seq, deleted->task)});
                                  return ApiResponse::noContent().invalidating(
                                      {versions::projectTasks(deleted->task.projectId)});
                              });
}

} // namespace taskmaster::server
