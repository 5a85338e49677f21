// TaskBoardController: the open project's tasks. Loads them page by page when the project opens
// (again after a resync), keeps them live from the project's channel, and feeds them to the
// board's models: `tasks` and every TaskListModel a view attaches (one per board column, each
// with its own filters). Creates, edits, moves (optimistic, PATCH with If-Match, back on failure)
// and deletes tasks.
// Offline: an edit or move whose PATCH found no server (or made while another change of the task is
// still unsent) is kept as the task's pending change, merged with later ones, shown on the board
// over the server's version, saved in the local store (it survives quitting) and sent with
// If-Match of the version it was based on when the realtime session is welcomed again
// (sendPendingChanges()). On 412 the server's version is loaded: when it already carries the
// change (the answer to an earlier try was lost) the change is done, silently; otherwise it is
// dropped, the version that won is shown and the user is told.
// Owns: the open project's tasks by id (the newest version seen of each), `tasks`, weak pointers
// to the attached models, the pending task changes of every project. Thread: the GUI thread.
#pragma once

#include "shared/codec/rest_json.h"
#include "shared/domain/types.h"
#include "shared/models/task_list_model.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTimer>
#include <QVariantMap>
#include <QtQmlIntegration/qqmlintegration.h>

namespace taskmaster::client {

class ProjectsController;
class RestClient;
struct RestError;
class UserDirectory;
class LocalStore;

class TaskBoardController final : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("provided by Connection")
    Q_PROPERTY(qint64 projectId READ projectId NOTIFY projectChanged)
    Q_PROPERTY(QString projectName READ projectName NOTIFY projectChanged)
    // Every task of the open project, unfiltered.
    Q_PROPERTY(taskmaster::TaskListModel *tasks READ tasks CONSTANT)
    // Ids of the tasks (of any project) with a change not sent yet; the cards show them as pending.
    Q_PROPERTY(QVariantList pendingTaskIds READ pendingTaskIds NOTIFY pendingChanged)
    Q_PROPERTY(int pendingCount READ pendingCount NOTIFY pendingChanged)

public:
    TaskBoardController(RestClient &rest, UserDirectory &users, ProjectsController &projects,
                        QObject *parent = nullptr);
    ~TaskBoardController() override;

    [[nodiscard]] qint64 projectId() const { return m_projectId; }
    [[nodiscard]] QString projectName() const;
    [[nodiscard]] TaskListModel *tasks() { return &m_tasks; }
    [[nodiscard]] QVariantList pendingTaskIds() const;
    [[nodiscard]] int pendingCount() const { return static_cast<int>(m_pending.size()); }
    [[nodiscard]] Q_INVOKABLE bool isPending(qint64 taskId) const { return m_pending.contains(taskId); }

    // 0 closes the open project.
    // The account's local store (nullptr: none): a project opens with its cached tasks, replaced
    // by the server's when they arrive; the board is saved a moment after it changes (boards of
    // up to kStoredTasksMax tasks).
    void setStore(LocalStore *store);
    static constexpr int kStoredTasksMax = 2000;
    Q_INVOKABLE void openProject(qint64 projectId);
    // fields: title, description, status, priority (wire names), assigneeId (0/null: none),
    // dueDate ("YYYY-MM-DD", "" for none), attachmentIds (the caller's uploads; docs/protocol.md 6.8).
    Q_INVOKABLE void createTask(const QVariantMap &fields);
    // Only the fields present in `changes` change (same names as createTask; attachmentIds
    // replaces the task's list).
    Q_INVOKABLE void updateTask(qint64 taskId, const QVariantMap &changes);
    // Moves a task of the open project to another status (the board's keyboard moves and drag and
    // drop): shown at once, PATCHed with If-Match of the version shown; when the PATCH fails the
    // task goes back to what it was (and after a 412 the server's version is loaded).
    Q_INVOKABLE void setTaskStatus(qint64 taskId, const QString &status);
    Q_INVOKABLE void deleteTask(qint64 taskId);
    // A board column (or any other view) that wants the open project's tasks: fed on load and on
    // every task event until it is destroyed or detached. Its projectId follows the project.
    Q_INVOKABLE void attachTaskModel(taskmaster::TaskListModel *model);
    Q_INVOKABLE void detachTaskModel(taskmaster::TaskListModel *model);
    // {taskId, title, description, status, priority, assigneeId, dueDate, version, attachments
    // (list of {attachmentId, name, size, contentType, sha256, isImage})} of a task of the open
    // project ({} when unknown).
    [[nodiscard]] Q_INVOKABLE QVariantMap taskInfo(qint64 taskId) const;

    // A project channel's event; reload() after a resync of the open project's channel.
    void onEvent(const ChannelEvent &event, bool fresh);
    void reload();
    void clear();
    // Sends every pending change not in flight (the session was welcomed: the server is back).
    void sendPendingChanges();

Q_SIGNALS:
    void projectChanged();
    void tasksLoaded(qint64 projectId);
    void pendingChanged();
    // A pending change was refused (412: the task changed first; or the task is gone) and dropped.
    void pendingChangeRejected(qint64 taskId, int status);
    // A resent pending change got 412 but the server's version already carries it (the answer to
    // an earlier try was lost): dropped without telling the user.
    void pendingChangeAlreadySaved(qint64 taskId);

private:
    void loadTasks(Id projectId, const QString &cursor, QList<Task> acc);
    void feedTask(const Task &task); // unless an newer version is held
    void showTask(const Task &task); // into every task model, whatever its version, with its pending change
    void fetchTask(Id taskId);
    void removeTask(Id taskId);
    void resetTaskModels();
    // A change of a known task: pending (queued behind the one not sent yet) when `queue`, or
    // sent now with If-Match of `before`'s version (kept pending when no server answers).
    void changeTask(const Task &before, const PatchTaskRequest &change);
    void keepPending(const Task &before, const PatchTaskRequest &change);
    void sendPending(Id taskId);
    // After a 412 on a pending change: the server's version decides whether it is already saved.
    void checkConflict(Id taskId, int revision);
    // Dropped, the user told; `current`: the server's version when already loaded.
    void rejectPending(Id taskId, const RestError &e, const Task *current = nullptr);
    [[nodiscard]] static bool carries(const Task &task, const PatchTaskRequest &change);
    [[nodiscard]] Task withPending(Task task) const; // the task as the user changed it
    void savePending();

    struct PendingChange {
        Id projectId = 0;
        qint64 baseVersion = 0;
        PatchTaskRequest change;
        int revision = 0; // bumped by every merge: an answer to an older one resends the rest
        bool inFlight = false;
    };
    QHash<Id, PendingChange> m_pending; // by task id

    RestClient &m_rest;
    UserDirectory &m_users;
    ProjectsController &m_projects;
    Id m_projectId = 0;
    QHash<Id, Task> m_projectTasks;
    LocalStore *m_store = nullptr;
    QTimer m_saveTimer;
    QSet<Id> m_cachedIds; // shown from the store; gone unless the server's list has them
    void saveSoon();
    void saveNow();
    TaskListModel m_tasks;
    QList<QPointer<TaskListModel>> m_boardModels;
};

} // namespace taskmaster::client
