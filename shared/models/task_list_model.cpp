#include "shared/models/task_list_model.h"

#include <QDateTime>

#include <algorithm>
#include <utility>

namespace taskmaster {

namespace {
qint64 createdKey(const Task &t)
{
    return t.createdAt.isValid() ? t.createdAt.toMSecsSinceEpoch() : 0;
}
} // namespace

TaskListModel::TaskListModel(QObject *parent) : QAbstractListModel(parent)
{
    connect(this, &QAbstractItemModel::rowsInserted, this, &TaskListModel::countChanged);
    connect(this, &QAbstractItemModel::rowsRemoved, this, &TaskListModel::countChanged);
    connect(this, &QAbstractItemModel::modelReset, this, &TaskListModel::countChanged);
}

TaskListModel::~TaskListModel() = default;

int TaskListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : count();
}

QVariant TaskListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.parent().isValid() || index.row() < 0 || index.row() >= count())
        return {};
    const Task &t = m_entries.at(m_rows.at(index.row())).task;
    switch (role) {
    case Qt::DisplayRole:
    case TitleRole:
        return t.title;
    case IdRole:
        return QVariant(t.id);
    case DescriptionRole:
        return t.description;
    case StatusRole:
        return toWire(t.status);
    case PriorityRole:
        return toWire(t.priority);
    case AssigneeIdRole:
        return t.assigneeId ? QVariant(*t.assigneeId) : QVariant();
    case DueDateRole:
        return t.dueDate ? QVariant(*t.dueDate) : QVariant();
    case OverdueRole:
        return t.dueDate.has_value() && t.status != TaskStatus::Done && *t.dueDate < today();
    case CreatedByRole:
        return QVariant(t.createdBy);
    case CreatedAtRole:
        return t.createdAt;
    case UpdatedAtRole:
        return t.updatedAt;
    case VersionRole:
        return QVariant(t.version);
    default:
        return {};
    }
}

QHash<int, QByteArray> TaskListModel::roleNames() const
{
    static const QHash<int, QByteArray> names {
        {IdRole, QByteArrayLiteral("taskId")},
        {TitleRole, QByteArrayLiteral("title")},
        {DescriptionRole, QByteArrayLiteral("description")},
        {StatusRole, QByteArrayLiteral("status")},
        {PriorityRole, QByteArrayLiteral("priority")},
        {AssigneeIdRole, QByteArrayLiteral("assigneeId")},
        {DueDateRole, QByteArrayLiteral("dueDate")},
        {OverdueRole, QByteArrayLiteral("overdue")},
        {CreatedByRole, QByteArrayLiteral("createdBy")},
        {CreatedAtRole, QByteArrayLiteral("createdAt")},
        {UpdatedAtRole, QByteArrayLiteral("updatedAt")},
        {VersionRole, QByteArrayLiteral("version")},
    };
    return names;
}

void TaskListModel::setProjectId(Id projectId)
{
    if (projectId == m_projectId)
        return;
    m_projectId = projectId;
    resetWith({});
    Q_EMIT projectIdChanged();
}

int TaskListModel::countByStatus(TaskStatus status) const
{
    return m_statusCounts.at(static_cast<std::size_t>(status));
}

void TaskListModel::setSortOrder(SortOrder order)
{
    if (order == m_sortOrder)
        return;
    // A layout change: same rows, new order; persistent indexes follow their tasks.
    Q_EMIT layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    const QModelIndexList persistent = persistentIndexList();
    QList<int> entryOfPersistent;
    entryOfPersistent.reserve(persistent.size());
    for (const QModelIndex &idx : persistent)
        entryOfPersistent.append(m_rows.at(idx.row()));
    m_sortOrder = order;
    std::sort(m_rows.begin(), m_rows.end(), [this](int a, int b) { return less(m_entries.at(a), m_entries.at(b)); });
    if (!persistent.isEmpty()) {
        QList<int> rowOfEntryMap(m_entries.size(), -1);
        for (int row = 0; row < count(); ++row)
            rowOfEntryMap[m_rows.at(row)] = row;
        QModelIndexList moved;
        moved.reserve(persistent.size());
        for (const int entry : std::as_const(entryOfPersistent))
            moved.append(index(rowOfEntryMap.at(entry)));
        changePersistentIndexList(persistent, moved);
    }
    Q_EMIT layoutChanged({}, QAbstractItemModel::VerticalSortHint);
    Q_EMIT sortOrderChanged();
}

void TaskListModel::setStatusFilter(std::optional<TaskStatus> status)
{
    if (status == m_statusFilter)
        return;
    beginResetModel();
    m_statusFilter = status;
    rebuildRows();
    endResetModel();
    Q_EMIT filterChanged();
}

void TaskListModel::setPriorityFilter(std::optional<TaskPriority> priority)
{
    if (priority == m_priorityFilter)
        return;
    beginResetModel();
    m_priorityFilter = priority;
    rebuildRows();
    endResetModel();
    Q_EMIT filterChanged();
}

QString TaskListModel::priorityFilterWire() const
{
    return m_priorityFilter ? toWire(*m_priorityFilter) : QString();
}

void TaskListModel::setPriorityFilterWire(const QString &priority)
{
    setPriorityFilter(taskPriorityFromWire(priority));
}

void TaskListModel::setAssigneeFilter(AssigneeFilter filter)
{
    if (filter.kind != AssigneeFilter::Kind::User)
        filter.userId = 0;
    if (filter == m_assigneeFilter)
        return;
    beginResetModel();
    m_assigneeFilter = filter;
    rebuildRows();
    endResetModel();
    Q_EMIT filterChanged();
}

QString TaskListModel::statusFilterWire() const
{
    return m_statusFilter ? toWire(*m_statusFilter) : QString();
}

void TaskListModel::setStatusFilterWire(const QString &status)
{
    setStatusFilter(taskStatusFromWire(status));
}

qint64 TaskListModel::assigneeFilterCode() const
{
    switch (m_assigneeFilter.kind) {
    case AssigneeFilter::Kind::Any:
        return AnyAssignee;
    case AssigneeFilter::Kind::Unassigned:
        return Unassigned;
    case AssigneeFilter::Kind::User:
        return m_assigneeFilter.userId;
    }
    return AnyAssignee;
}

void TaskListModel::setAssigneeFilterCode(qint64 code)
{
    if (code < 0)
        setAssigneeFilter(AssigneeFilter::any());
    else if (code == Unassigned)
        setAssigneeFilter(AssigneeFilter::unassigned());
    else
        setAssigneeFilter(AssigneeFilter::user(code));
}

QDate TaskListModel::today() const
{
    return m_today.isValid() ? m_today : QDate::currentDate();
}

void TaskListModel::setToday(const QDate &day)
{
    if (day == m_today)
        return;
    m_today = day;
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0), index(count() - 1), {OverdueRole});
    Q_EMIT todayChanged();
}

int TaskListModel::rowForId(qint64 id) const
{
    const auto it = m_indexById.constFind(id);
    return it == m_indexById.cend() ? -1 : rowOfEntry(*it);
}

const Task &TaskListModel::taskAt(int row) const
{
    return m_entries.at(m_rows.at(row)).task;
}

std::optional<Task> TaskListModel::task(Id id) const
{
    const auto it = m_indexById.constFind(id);
    if (it == m_indexById.cend())
        return std::nullopt;
    return m_entries.at(*it).task;
}

void TaskListModel::reset(const QList<Task> &tasks)
{
    resetWith(tasks);
}

void TaskListModel::upsert(const Task &task)
{
    if (!accepts(task))
        return;
    const auto found = m_indexById.constFind(task.id);
    if (found == m_indexById.cend()) {
        const int entry = static_cast<int>(m_entries.size());
        m_entries.append(Entry {task, createdKey(task)});
        m_indexById.insert(task.id, entry);
        countStatus(task.status, +1);
        if (matches(task)) {
            const int row = insertionRow(entry, -1);
            beginInsertRows(QModelIndex(), row, row);
            m_rows.insert(row, entry);
            endInsertRows();
        }
        Q_EMIT countsChanged();
        return;
    }

    const int entry = *found;
    Entry &e = m_entries[entry];
    if (task.version < e.task.version || task == e.task)
        return;
    const bool wasVisible = matches(e.task);
    const int oldRow = wasVisible ? rowOfEntry(entry) : -1; // before the sort keys change
    const bool statusChanged = task.status != e.task.status;
    countStatus(e.task.status, -1);
    countStatus(task.status, +1);
    e.task = task;
    e.createdMs = createdKey(task);
    const bool nowVisible = matches(task);

    if (wasVisible && nowVisible) {
        const int newRow = insertionRow(entry, oldRow);
        if (newRow != oldRow) {
            // Qt's destination is the row before which it goes in the list before the move.
            beginMoveRows(QModelIndex(), oldRow, oldRow, QModelIndex(), newRow > oldRow ? newRow + 1 : newRow);
            m_rows.move(oldRow, newRow);
            endMoveRows();
        }
        const QModelIndex idx = index(newRow);
        Q_EMIT dataChanged(idx, idx);
    } else if (wasVisible) {
        beginRemoveRows(QModelIndex(), oldRow, oldRow);
        m_rows.remove(oldRow);
        endRemoveRows();
    } else if (nowVisible) {
        const int row = insertionRow(entry, -1);
        beginInsertRows(QModelIndex(), row, row);
        m_rows.insert(row, entry);
        endInsertRows();
    }
    if (statusChanged)
        Q_EMIT countsChanged();
}

void TaskListModel::remove(Id id)
{
    const auto found = m_indexById.constFind(id);
    if (found == m_indexById.cend())
        return;
    const int entry = *found;
    const int row = matches(m_entries.at(entry).task) ? rowOfEntry(entry) : -1;
    if (row >= 0) {
        beginRemoveRows(QModelIndex(), row, row);
        m_rows.remove(row);
        endRemoveRows();
    }
    countStatus(m_entries.at(entry).task.status, -1);

    // Drop it from storage by moving the last entry into its place.
    const int last = static_cast<int>(m_entries.size()) - 1;
    if (entry != last) {
        const int lastRow = matches(m_entries.at(last).task) ? rowOfEntry(last) : -1;
        m_entries[entry] = std::move(m_entries[last]);
        m_indexById[m_entries.at(entry).task.id] = entry;
        if (lastRow >= 0)
            m_rows[lastRow] = entry;
    }
    m_entries.removeLast();
    m_indexById.remove(id);
    Q_EMIT countsChanged();
}

// --- private ---

bool TaskListModel::accepts(const Task &task) const
{
    return task.id > 0 && (m_projectId == 0 || task.projectId == 0 || task.projectId == m_projectId);
}

bool TaskListModel::matches(const Task &task) const
{
    if (m_statusFilter && task.status != *m_statusFilter)
        return false;
    if (m_priorityFilter && task.priority != *m_priorityFilter)
        return false;
    switch (m_assigneeFilter.kind) {
    case AssigneeFilter::Kind::Any:
        return true;
    case AssigneeFilter::Kind::Unassigned:
        return !task.assigneeId.has_value();
    case AssigneeFilter::Kind::User:
        return task.assigneeId == m_assigneeFilter.userId;
    }
    return true;
}

bool TaskListModel::less(const Entry &a, const Entry &b) const
{
    // A strict total order (ids are unique), so a task's row can be found by binary search.
    switch (m_sortOrder) {
    case NewestFirst:
        break;
    case PriorityFirst:
        if (a.task.priority != b.task.priority)
            return a.task.priority > b.task.priority;
        break;
    case DueDateFirst:
        if (a.task.dueDate != b.task.dueDate) {
            if (!a.task.dueDate || !b.task.dueDate)
                return a.task.dueDate.has_value(); // with a due date before without
            return *a.task.dueDate < *b.task.dueDate;
        }
        break;
    }
    if (a.createdMs != b.createdMs)
        return a.createdMs > b.createdMs;
    return a.task.id > b.task.id;
}

int TaskListModel::rowOfEntry(int entry) const
{
    const Entry &key = m_entries.at(entry);
    const auto it = std::lower_bound(m_rows.cbegin(), m_rows.cend(), entry,
                                     [&](int e, int) { return less(m_entries.at(e), key); });
    return it != m_rows.cend() && *it == entry ? static_cast<int>(it - m_rows.cbegin()) : -1;
}

int TaskListModel::insertionRow(int entry, int excluded) const
{
    const Entry &key = m_entries.at(entry);
    int lo = 0;
    int hi = count() - (excluded >= 0 ? 1 : 0);
    while (lo < hi) {
        const int mid = lo + (hi - lo) / 2;
        const int actual = excluded >= 0 && mid >= excluded ? mid + 1 : mid;
        if (less(m_entries.at(m_rows.at(actual)), key))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void TaskListModel::rebuildRows()
{
    m_rows.clear();
    for (int i = 0; i < static_cast<int>(m_entries.size()); ++i) {
        if (matches(m_entries.at(i).task))
            m_rows.append(i);
    }
    std::sort(m_rows.begin(), m_rows.end(), [this](int a, int b) { return less(m_entries.at(a), m_entries.at(b)); });
}

void TaskListModel::resetWith(const QList<Task> &tasks)
{
    beginResetModel();
    m_entries.clear();
    m_indexById.clear();
    m_statusCounts.fill(0);
    m_entries.reserve(tasks.size());
    m_indexById.reserve(tasks.size());
    for (const Task &t : tasks) {
        if (!accepts(t))
            continue;
        const auto found = m_indexById.constFind(t.id);
        if (found == m_indexById.cend()) {
            m_indexById.insert(t.id, static_cast<int>(m_entries.size()));
            m_entries.append(Entry {t, createdKey(t)});
        } else if (t.version >= m_entries.at(*found).task.version) {
            m_entries[*found] = Entry {t, createdKey(t)};
        }
    }
    for (const Entry &e : std::as_const(m_entries))
        countStatus(e.task.status, +1);
    rebuildRows();
    endResetModel();
    Q_EMIT countsChanged();
}

void TaskListModel::countStatus(TaskStatus status, int delta)
{
    m_statusCounts.at(static_cast<std::size_t>(status)) += delta;
}

} // namespace taskmaster
