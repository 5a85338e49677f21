// TaskListModel: the tasks of one project (up to ~100,000), sorted and filtered for a list or a
// board column. Owns one storage of the tasks; the visible rows are a sorted vector of indices
// into it, so filtering and sorting never copy a Task. Lives on the GUI thread; not thread-safe.
//
// Complexity (n tasks, v visible rows): data() O(1); upsert()/remove() O(log v) to find rows
// plus an O(v) memmove of ints for the row vector; reset() and filter changes
// O(n + v log v) (a model reset); setSortOrder() O(v log v) as a layout change that keeps
// persistent indexes on their tasks.
//
// Feeding it: GET .../tasks pages -> reset(all items) (or upsert each); `task_created` /
// `task_updated` -> upsert(task); `task_deleted` -> remove(id).
// Over 20 public members on purpose: the QAbstractListModel overrides, the feeding functions
// above and one property (with its setter) per filter and sort key that QML binds to.
#pragma once

#include "shared/domain/types.h"
#include "shared/models/qml_support.h"

#include <QAbstractListModel>
#include <QDate>
#include <QHash>
#include <QList>

#include <array>
#include <optional>

namespace taskmaster {

class TaskListModel : public QAbstractListModel { // not final: QML creates it (board columns)
    Q_OBJECT
    TM_QML_ELEMENT
    // Tasks of other projects are ignored by upsert()/reset(); changing it clears the model.
    // 0 = accept every project.
    Q_PROPERTY(qint64 projectId READ projectId WRITE setProjectId NOTIFY projectIdChanged)
    // Visible rows.
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    // All tasks held, whatever the filters.
    Q_PROPERTY(int totalCount READ totalCount NOTIFY countsChanged)
    Q_PROPERTY(int todoCount READ todoCount NOTIFY countsChanged)
    Q_PROPERTY(int inProgressCount READ inProgressCount NOTIFY countsChanged)
    Q_PROPERTY(int reviewCount READ reviewCount NOTIFY countsChanged)
    Q_PROPERTY(int doneCount READ doneCount NOTIFY countsChanged)
    Q_PROPERTY(SortOrder sortOrder READ sortOrder WRITE setSortOrder NOTIFY sortOrderChanged)
    // QML form of the status filter: a wire name ("in_progress"), or "" for any status.
    Q_PROPERTY(QString statusFilter READ statusFilterWire WRITE setStatusFilterWire NOTIFY filterChanged)
    // QML form of the priority filter: a wire name ("urgent"), or "" for any priority.
    Q_PROPERTY(QString priorityFilter READ priorityFilterWire WRITE setPriorityFilterWire NOTIFY filterChanged)
    // QML form of the assignee filter: AnyAssignee (-1), Unassigned (0) or a user id.
    Q_PROPERTY(qint64 assigneeFilter READ assigneeFilterCode WRITE setAssigneeFilterCode NOTIFY filterChanged)
    // The day "overdue" is judged against; invalid (default) = QDate::currentDate() at read.
    Q_PROPERTY(QDate today READ today WRITE setToday NOTIFY todayChanged)

public:
    enum Roles {
        IdRole = Qt::UserRole + 1, // "taskId": qint64
        TitleRole, // "title": QString (also Qt::DisplayRole)
        DescriptionRole, // "description": QString
        StatusRole, // "status": QString wire name (todo|in_progress|review|done)
        PriorityRole, // "priority": QString wire name (low|medium|high|urgent)
        AssigneeIdRole, // "assigneeId": qint64, null when unassigned
        DueDateRole, // "dueDate": QDate, null when none
        OverdueRole, // "overdue": bool, dueDate before today() and status is not done
        CreatedByRole, // "createdBy": qint64 user id
        CreatedAtRole, // "createdAt": QDateTime
        UpdatedAtRole, // "updatedAt": QDateTime
        VersionRole, // "version": qint64, increments on every change
    };
    Q_ENUM(Roles)

    enum SortOrder {
        NewestFirst, // createdAt descending, then id descending (the server's order)
        PriorityFirst, // urgent..low, then NewestFirst
        DueDateFirst, // earliest dueDate first, tasks without one last, then NewestFirst
    };
    Q_ENUM(SortOrder)

    static constexpr qint64 AnyAssignee = -1;
    static constexpr qint64 Unassigned = 0;

    struct AssigneeFilter {
        enum class Kind { Any, Unassigned, User };
        Kind kind = Kind::Any;
        Id userId = 0; // for Kind::User
        [[nodiscard]] static AssigneeFilter any() { return {}; }
        [[nodiscard]] static AssigneeFilter unassigned() { return {Kind::Unassigned, 0}; }
        [[nodiscard]] static AssigneeFilter user(Id id) { return {Kind::User, id}; }
        friend bool operator==(const AssigneeFilter &, const AssigneeFilter &) = default;
    };

    explicit TaskListModel(QObject *parent = nullptr);
    ~TaskListModel() override;

    [[nodiscard]] int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] Id projectId() const { return m_projectId; }
    void setProjectId(Id projectId);
    [[nodiscard]] int count() const { return static_cast<int>(m_rows.size()); }
    [[nodiscard]] int totalCount() const { return static_cast<int>(m_entries.size()); }
    // Tasks held in this status, ignoring the filters (a board's column badges).
    [[nodiscard]] int countByStatus(TaskStatus status) const;
    [[nodiscard]] int todoCount() const { return countByStatus(TaskStatus::Todo); }
    [[nodiscard]] int inProgressCount() const { return countByStatus(TaskStatus::InProgress); }
    [[nodiscard]] int reviewCount() const { return countByStatus(TaskStatus::Review); }
    [[nodiscard]] int doneCount() const { return countByStatus(TaskStatus::Done); }

    [[nodiscard]] SortOrder sortOrder() const { return m_sortOrder; }
    void setSortOrder(SortOrder order);
    [[nodiscard]] std::optional<TaskStatus> statusFilter() const { return m_statusFilter; }
    void setStatusFilter(std::optional<TaskStatus> status);
    [[nodiscard]] std::optional<TaskPriority> priorityFilter() const { return m_priorityFilter; }
    void setPriorityFilter(std::optional<TaskPriority> priority);
    [[nodiscard]] QString priorityFilterWire() const;
    void setPriorityFilterWire(const QString &priority); // unknown names mean "any"
    [[nodiscard]] AssigneeFilter assigneeFilter() const { return m_assigneeFilter; }
    void setAssigneeFilter(AssigneeFilter filter);
    [[nodiscard]] QString statusFilterWire() const;
    void setStatusFilterWire(const QString &status); // unknown names mean "any"
    [[nodiscard]] qint64 assigneeFilterCode() const;
    void setAssigneeFilterCode(qint64 code);
    [[nodiscard]] QDate today() const;
    void setToday(const QDate &day);

    // Visible row of a task, or -1. O(log v).
    [[nodiscard]] Q_INVOKABLE int rowForId(qint64 id) const;
    // The task of a visible row. Precondition: 0 <= row < count().
    [[nodiscard]] const Task &taskAt(int row) const;
    // The task with this id, visible or not.
    [[nodiscard]] std::optional<Task> task(Id id) const;

    // Replace everything (a model reset). Duplicate ids: the highest version wins.
    void reset(const QList<Task> &tasks);
    // task_created / task_updated. A task whose version is lower than the one held is stale
    // and ignored. A change that moves the task in the sort order emits rowsMoved; one that
    // takes it out of (or into) the filter emits rowsRemoved (rowsInserted).
    void upsert(const Task &task);
    // task_deleted.
    void remove(Id id);

Q_SIGNALS:
    void projectIdChanged();
    void countChanged();
    void countsChanged();
    void sortOrderChanged();
    void filterChanged();
    void todayChanged();

private:
    struct Entry {
        Task task;
        qint64 createdMs = 0; // sort key cache
    };

    [[nodiscard]] bool accepts(const Task &task) const;
    [[nodiscard]] bool matches(const Task &task) const;
    [[nodiscard]] bool less(const Entry &a, const Entry &b) const;
    // Row of storage index `entry` in m_rows (which must be sorted with its current values), or -1.
    [[nodiscard]] int rowOfEntry(int entry) const;
    // Where storage index `entry` belongs in m_rows with row `excluded` taken out.
    [[nodiscard]] int insertionRow(int entry, int excluded) const;
    void rebuildRows();
    void resetWith(const QList<Task> &tasks);
    void countStatus(TaskStatus status, int delta);

    QList<Entry> m_entries; // storage; order is meaningless (removal swaps with the last)
    QHash<Id, int> m_indexById; // task id -> index in m_entries
    QList<int> m_rows; // visible rows: indices into m_entries, sorted by less()
    std::array<int, 4> m_statusCounts {};
    Id m_projectId = 0;
    SortOrder m_sortOrder = NewestFirst;
    std::optional<TaskStatus> m_statusFilter;
    std::optional<TaskPriority> m_priorityFilter;
    AssigneeFilter m_assigneeFilter;
    QDate m_today;
};

} // namespace taskmaster
