#include "client-qml/controllers/task_board_controller.h"

#include "client-qml/controllers/projects_controller.h"
#include "client-qml/controllers/user_directory.h"
#include "client-qml/net/rest_client.h"
#include "client-qml/store/local_store.h"

#include <algorithm>

namespace taskmaster::client {

namespace {

// Id from a QML value: numbers and numeric strings; 0 for null/undefined/empty.
Id idFrom(const QVariant &v)
{
    return v.isValid() && !v.isNull() ? v.toLongLong() : 0;
}

// A task's attachments for QML: {attachmentId, name, size, contentType, sha256, isImage}.
QVariantList attachmentMaps(const QList<Attachment> &attachments)
{
    QVariantList out;
    for (const Attachment &a : attachments) {
        out.append(QVariantMap {{QStringLiteral("attachmentId"), a.id},
                                {QStringLiteral("name"), a.name},
                                {QStringLiteral("size"), a.size},
                                {QStringLiteral("contentType"), a.contentType},
                                {QStringLiteral("sha256"), a.sha256},
                                {QStringLiteral("isImage"), isInlineImage(a.contentType)}});
    }
    return out;
}

// "attachmentIds" of a QML map: a list of ids.
QList<Id> idsFrom(const QVariant &v)
{
    QList<Id> out;
    const QVariantList list = v.toList();
    for (const QVariant &id : list) {
        if (const Id i = idFrom(id); i > 0)
            out.append(i);
    }
    return out;
}

// `later` merged into `into`: its fields win.
void merge(PatchTaskRequest &into, const PatchTaskRequest &later)
{
    if (later.title)
        into.title = later.title;
    if (later.description)
        into.description = later.description;
    if (later.status)
        into.status = later.status;
    if (later.priority)
        into.priority = later.priority;
    if (later.assigneeId)
        into.assigneeId = later.assigneeId;
    if (later.dueDate)
        into.dueDate = later.dueDate;
    if (later.attachmentIds)
        into.attachmentIds = later.attachmentIds;
}

// The task as it will be once `change` is saved (attachments: as they are until the server's answer).
Task applied(Task task, const PatchTaskRequest &change)
{
    if (change.title)
        task.title = *change.title;
    if (change.description)
        task.description = *change.description;
    if (change.status)
        task.status = *change.status;
    if (change.priority)
        task.priority = *change.priority;
    if (change.assigneeId)
        task.assigneeId = *change.assigneeId;
    if (change.dueDate)
        task.dueDate = *change.dueDate;
    return task;
}

} // namespace

TaskBoardController::TaskBoardController(RestClient &rest, UserDirectory &users, ProjectsController &projects,
                                         QObject *parent)
    : QObject(parent), m_rest(rest), m_users(users), m_projects(projects)
{
    connect(&m_projects, &ProjectsController::reloaded, this, &TaskBoardController::projectChanged);
}

TaskBoardController::~TaskBoardController()
{
    saveNow();
}

QString TaskBoardController::projectName() const
{
    const auto p = m_projects.model()->project(m_projectId);
    return p ? p->name : QString();
}

void TaskBoardController::setStore(LocalStore *store)
{
    saveNow();
    m_store = store;
    m_pending.clear();
    if (store) {
        for (const LocalStore::TaskChangeRow &row : store->taskChanges()) {
            if (auto change = fromJson<PatchTaskRequest>(row.patch))
                m_pending.insert(row.taskId, {row.projectId, row.baseVersion, std::move(*change)});
        }
    }
    Q_EMIT pendingChanged();
}

QVariantList TaskBoardController::pendingTaskIds() const
{
    QVariantList out;
    for (auto it = m_pending.cbegin(); it != m_pending.cend(); ++it)
        out.append(it.key());
    return out;
}

void TaskBoardController::savePending()
{
    if (m_store) {
        QList<LocalStore::TaskChangeRow> rows;
        for (auto it = m_pending.cbegin(); it != m_pending.cend(); ++it)
            rows.append({it.key(), it->projectId, it->baseVersion, toJson(it->change)});
        m_store->saveTaskChanges(rows);
    }
    Q_EMIT pendingChanged();
}

Task TaskBoardController::withPending(Task task) const
{
    const auto it = m_pending.constFind(task.id);
    return it == m_pending.cend() ? task : applied(std::move(task), it->change);
}

void TaskBoardController::keepPending(const Task &before, const PatchTaskRequest &change)
{
    auto it = m_pending.find(before.id);
    if (it == m_pending.end()) {
        m_pending.insert(before.id, {before.projectId, before.version, change});
    } else {
        merge(it->change, change);
        ++it->revision;
    }
    savePending();
    if (before.projectId != m_projectId)
        return;
    const auto held = m_projectTasks.constFind(before.id);
    showTask(held != m_projectTasks.cend() ? *held : before); // with the change over it
}

void TaskBoardController::sendPendingChanges()
{
    const QList<Id> ids = m_pending.keys();
    for (const Id id : ids)
        sendPending(id);
}

void TaskBoardController::sendPending(Id taskId)
{
    const auto it = m_pending.find(taskId);
    if (it == m_pending.end() || it->inFlight)
        return;
    it->inFlight = true;
    const int revision = it->revision;
    m_rest.send(
        api::patchTask(taskId, it->change, it->baseVersion), this,
        [this, taskId, revision](const Task &t) {
            const auto p = m_pending.find(taskId);
            bool more = false;
            if (p != m_pending.end()) {
                if (p->revision == revision) {
                    m_pending.erase(p);
                } else { // changed again meanwhile: the rest goes out on top of the saved version
                    p->inFlight = false;
                    p->baseVersion = t.version;
                    more = true;
                }
                savePending();
            }
            if (t.projectId == m_projectId)
                feedTask(t);
            if (more)
                sendPending(taskId);
        },
        [this, taskId, revision](const RestError &e) {
            const auto p = m_pending.find(taskId);
            if (p == m_pending.end())
                return;
            if (e.status == 412) {
                // Maybe our own PATCH of an earlier try was saved and only its answer was lost:
                // the server's version tells (still in flight meanwhile, so nothing resends it).
                checkConflict(taskId, revision);
                return;
            }
            p->inFlight = false;
            if (e.status == 0)
                return; // still no server: kept for the next connection
            rejectPending(taskId, e);
        });
}

void TaskBoardController::checkConflict(Id taskId, int revision)
{
    m_rest.send(
        api::task(taskId), this,
        [this, taskId, revision](const Task &current) {
            const auto p = m_pending.find(taskId);
            if (p == m_pending.end())
                return;
            p->inFlight = false;
            if (!carries(current, p->change)) {
                rejectPending(taskId, {412, {}}, &current);
                return;
            }
            // Already saved (the answer of an earlier try was lost): nothing to tell the user.
            if (p->revision == revision) {
                m_pending.erase(p);
            } else { // changed again meanwhile: the rest goes on top of the saved version
                p->baseVersion = current.version;
            }
            savePending();
            Q_EMIT pendingChangeAlreadySaved(taskId);
            if (current.projectId == m_projectId)
                feedTask(current);
            if (m_pending.contains(taskId))
                sendPending(taskId);
        },
        [this, taskId](const RestError &e) {
            const auto p = m_pending.find(taskId);
            if (p == m_pending.end())
                return;
            p->inFlight = false;
            if (e.status != 0) // else the server went again: kept, tried at the next connection
                rejectPending(taskId, e.status == 404 ? e : RestError {412, {}});
        });
}

bool TaskBoardController::carries(const Task &task, const PatchTaskRequest &change)
{
    if (change.title && *change.title != task.title)
        return false;
    if (change.description && *change.description != task.description)
        return false;
    if (change.status && *change.status != task.status)
        return false;
    if (change.priority && *change.priority != task.priority)
        return false;
    if (change.assigneeId && *change.assigneeId != task.assigneeId)
        return false;
    if (change.dueDate && *change.dueDate != task.dueDate)
        return false;
    if (change.attachmentIds) {
        QList<Id> wanted = *change.attachmentIds;
        QList<Id> has;
        for (const Attachment &a : task.attachments)
            has.append(a.id);
        std::sort(wanted.begin(), wanted.end());
        std::sort(has.begin(), has.end());
        if (wanted != has)
            return false;
    }
    return true;
}

void TaskBoardController::rejectPending(Id taskId, const RestError &e, const Task *current)
{
    const auto p = m_pending.find(taskId);
    if (p == m_pending.end())
        return;
    const Id projectId = p->projectId;
    m_pending.erase(p);
    savePending();
    if (e.status == 412) {
        m_rest.report({e.status,
                       tr("A task change made offline was not saved: someone changed the task "
                          "first. Their version is shown.")});
    } else {
        m_rest.report(e);
    }
    Q_EMIT pendingChangeRejected(taskId, e.status);
    if (projectId != m_projectId)
        return;
    if (e.status == 404)
        removeTask(taskId);
    else if (current)
        feedTask(*current); // the server's version, without ours
    else
        fetchTask(taskId);
}

void TaskBoardController::saveSoon()
{
    if (!m_store || m_projectId == 0)
        return;
    if (!m_saveTimer.isActive()) {
        m_saveTimer.setSingleShot(true);
        m_saveTimer.setInterval(300);
        connect(&m_saveTimer, &QTimer::timeout, this, &TaskBoardController::saveNow, Qt::UniqueConnection);
        m_saveTimer.start();
    }
}

void TaskBoardController::saveNow()
{
    if (!m_saveTimer.isActive())
        return;
    m_saveTimer.stop();
    if (m_store && m_projectId != 0 && m_projectTasks.size() <= kStoredTasksMax)
        m_store->saveTasks(m_projectId, m_projectTasks.values());
}

void TaskBoardController::openProject(qint64 projectId)
{
    if (projectId == m_projectId)
        return;
    saveNow(); // the board left
    m_projectId = projectId;
    m_projectTasks.clear();
    m_cachedIds.clear();
    if (m_store && projectId != 0) {
        for (const Task &t : m_store->tasks(projectId)) {
            m_projectTasks.insert(t.id, withPending(t));
            m_cachedIds.insert(t.id);
        }
    }
    resetTaskModels();
    Q_EMIT projectChanged();
    if (projectId != 0)
        loadTasks(projectId, {}, {});
}

void TaskBoardController::reload()
{
    if (m_projectId != 0)
        loadTasks(m_projectId, {}, {});
}

void TaskBoardController::clear()
{
    saveNow();
    m_cachedIds.clear();
    m_projectId = 0;
    m_projectTasks.clear();
    resetTaskModels();
    Q_EMIT projectChanged();
}

void TaskBoardController::loadTasks(Id projectId, const QString &cursor, QList<Task> acc)
{
    TaskListQuery q;
    q.limit = 200;
    if (!cursor.isEmpty()) {
        if (auto c = decodeCursor(cursor))
            q.cursor = *c;
    }
    m_rest.send(
        api::tasks(projectId, q), this,
        [this, projectId, acc = std::move(acc)](const Page<Task> &page) mutable {
            if (projectId != m_projectId)
                return;
            acc += page.items;
            if (page.nextCursor && !page.items.isEmpty()) {
                loadTasks(projectId, *page.nextCursor, std::move(acc));
                return;
            }
            // Live events that arrived during the load are newer than the pages: keep them.
            QSet<Id> listed;
            for (const Task &t : std::as_const(acc)) {
                listed.insert(t.id);
                const auto held = m_projectTasks.constFind(t.id);
                if (held == m_projectTasks.cend() || held->version <= t.version)
                    m_projectTasks.insert(t.id, withPending(t));
            }
            // Cached tasks the server no longer lists were deleted meanwhile.
            for (const Id id : std::as_const(m_cachedIds)) {
                if (!listed.contains(id))
                    m_projectTasks.remove(id);
            }
            m_cachedIds.clear();
            resetTaskModels();
            saveSoon();
            for (const Task &t : std::as_const(acc)) {
                if (t.assigneeId)
                    m_users.request(*t.assigneeId);
            }
            Q_EMIT tasksLoaded(projectId);
        },
        [this, projectId](const RestError &e) {
            if (projectId == m_projectId)
                m_rest.report(e);
        });
}

void TaskBoardController::resetTaskModels()
{
    const QList<Task> all = m_projectTasks.values();
    m_tasks.setProjectId(m_projectId);
    m_tasks.reset(all);
    m_boardModels.removeAll(nullptr);
    for (const auto &model : std::as_const(m_boardModels)) {
        model->setProjectId(m_projectId);
        model->reset(all);
    }
}

void TaskBoardController::onEvent(const ChannelEvent &e, bool /*fresh*/)
{
    if (e.channel.id != m_projectId || !e.task)
        return;
    switch (e.type) {
    case EventType::TaskCreated:
    case EventType::TaskUpdated:
        feedTask(*e.task);
        break;
    case EventType::TaskDeleted:
        removeTask(e.task->id);
        break;
    default:
        break;
    }
}

void TaskBoardController::feedTask(const Task &task)
{
    const auto held = m_projectTasks.constFind(task.id);
    if (held != m_projectTasks.cend() && held->version > task.version)
        return;
    showTask(task);
    if (task.assigneeId)
        m_users.request(*task.assigneeId);
}

void TaskBoardController::showTask(const Task &serverTask)
{
    saveSoon();
    const Task task = withPending(serverTask);
    m_projectTasks.insert(task.id, task);
    m_tasks.upsert(task);
    for (const auto &model : std::as_const(m_boardModels)) {
        if (model)
            model->upsert(task);
    }
}

void TaskBoardController::removeTask(Id taskId)
{
    saveSoon();
    m_projectTasks.remove(taskId);
    m_tasks.remove(taskId);
    for (const auto &model : std::as_const(m_boardModels)) {
        if (model)
            model->remove(taskId);
    }
}

void TaskBoardController::attachTaskModel(TaskListModel *model)
{
    if (!model || m_boardModels.contains(model))
        return;
    m_boardModels.append(model);
    model->setProjectId(m_projectId);
    model->reset(m_projectTasks.values());
}

void TaskBoardController::detachTaskModel(TaskListModel *model)
{
    m_boardModels.removeAll(model);
}

QVariantMap TaskBoardController::taskInfo(qint64 taskId) const
{
    const auto it = m_projectTasks.constFind(taskId);
    if (it == m_projectTasks.cend())
        return {};
    const Task &t = *it;
    return {{QStringLiteral("taskId"), t.id},
            {QStringLiteral("title"), t.title},
            {QStringLiteral("description"), t.description},
            {QStringLiteral("status"), toWire(t.status)},
            {QStringLiteral("priority"), toWire(t.priority)},
            {QStringLiteral("assigneeId"), t.assigneeId ? QVariant(*t.assigneeId) : QVariant()},
            {QStringLiteral("dueDate"), t.dueDate ? formatDate(*t.dueDate) : QString()},
            {QStringLiteral("version"), t.version},
            {QStringLiteral("attachments"), attachmentMaps(t.attachments)}};
}

void TaskBoardController::createTask(const QVariantMap &fields)
{
    if (m_projectId == 0)
        return;
    CreateTaskRequest req;
    req.title = fields.value(QStringLiteral("title")).toString().trimmed();
    req.description = fields.value(QStringLiteral("description")).toString();
    if (auto s = taskStatusFromWire(fields.value(QStringLiteral("status")).toString()))
        req.status = *s;
    if (auto p = taskPriorityFromWire(fields.value(QStringLiteral("priority")).toString()))
        req.priority = *p;
    if (const Id a = idFrom(fields.value(QStringLiteral("assigneeId"))); a > 0)
        req.assigneeId = a;
    if (auto d = parseDate(fields.value(QStringLiteral("dueDate")).toString()))
        req.dueDate = *d;
    req.attachmentIds = idsFrom(fields.value(QStringLiteral("attachmentIds")));
    const Id projectId = m_projectId;
    m_rest.send(api::createTask(projectId, req), this, [this, projectId](const Task &t) {
        if (projectId == m_projectId)
            feedTask(t);
    });
}

void TaskBoardController::updateTask(qint64 taskId, const QVariantMap &changes)
{
    PatchTaskRequest req;
    const auto has = [&](const char *k) { return changes.contains(QLatin1String(k)); };
    const auto get = [&](const char *k) { return changes.value(QLatin1String(k)); };
    if (has("title"))
        req.title = get("title").toString().trimmed();
    if (has("description"))
        req.description = get("description").toString();
    if (has("status"))
        req.status = taskStatusFromWire(get("status").toString());
    if (has("priority"))
        req.priority = taskPriorityFromWire(get("priority").toString());
    if (has("assigneeId")) {
        const Id a = idFrom(get("assigneeId"));
        req.assigneeId = a > 0 ? std::optional<Id>(a) : std::optional<Id>();
    }
    if (has("dueDate"))
        req.dueDate = parseDate(get("dueDate").toString());
    if (has("attachmentIds"))
        req.attachmentIds = idsFrom(get("attachmentIds"));
    const auto known = m_projectTasks.constFind(taskId);
    if (known != m_projectTasks.cend() && m_pending.contains(taskId)) {
        keepPending(*known, req); // behind the change not sent yet
        return;
    }
    const std::optional<Task> before = known != m_projectTasks.cend() ? std::optional<Task>(*known) : std::nullopt;
    m_rest.send(
        api::patchTask(taskId, req), this,
        [this](const Task &t) {
            if (t.projectId == m_projectId)
                feedTask(t);
        },
        [this, before, req](const RestError &e) {
            if (e.status == 0 && before)
                keepPending(*before, req); // no server: sent when it is back
            else
                m_rest.report(e);
        });
}

void TaskBoardController::setTaskStatus(qint64 taskId, const QString &status)
{
    const auto s = taskStatusFromWire(status);
    const auto it = m_projectTasks.constFind(taskId);
    if (!s || it == m_projectTasks.cend() || it->status == *s)
        return;
    PatchTaskRequest req;
    req.status = *s;
    if (m_pending.contains(taskId)) {
        keepPending(*it, req); // behind the change not sent yet
        return;
    }
    // Optimistic: the board moves the card at once; the reply (or its event) confirms it.
    const Task before = *it;
    Task moved = before;
    moved.status = *s;
    showTask(moved);
    m_rest.send(
        api::patchTask(taskId, req, before.version), this,
        [this](const Task &t) {
            if (t.projectId == m_projectId)
                feedTask(t);
        },
        [this, before, req](const RestError &e) {
            if (e.status == 0) {
                keepPending(before, req); // no server: kept, shown moved, sent when it is back
                return;
            }
            m_rest.report(e);
            if (before.projectId != m_projectId)
                return;
            // Back where it was, unless a newer version arrived meanwhile (or it was deleted).
            const auto held = m_projectTasks.constFind(before.id);
            if (held != m_projectTasks.cend() && held->version == before.version)
                showTask(before);
            if (e.status == 412)
                fetchTask(before.id); // changed by someone else first: show their version
        });
}

void TaskBoardController::fetchTask(Id taskId)
{
    m_rest.send(
        api::task(taskId), this,
        [this](const Task &t) {
            if (t.projectId == m_projectId)
                feedTask(t);
        },
        [](const RestError &) {}); // the next event or reload shows it
}

void TaskBoardController::deleteTask(qint64 taskId)
{
    m_rest.send(api::deleteTask(taskId), this, [this, taskId](NoContent) { removeTask(taskId); });
}

} // namespace taskmaster::client
