// TaskListModel under QAbstractItemModelTester (Fatal): sort orders, status/assignee filters,
// upserts crossing filter boundaries (insert/remove/move signals), removal, board counts,
// overdue, and a 100,000-task reset with filter changes.
#include "shared/domain/types.h"
#include "shared/models/task_list_model.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include <algorithm>

using namespace taskmaster;
using Roles = TaskListModel::Roles;

Q_DECLARE_METATYPE(taskmaster::Task)

namespace {

constexpr Id kProject = 3;

QDateTime baseTime()
{
    return QDateTime(QDate(2025, 6, 16), QTime(9, 0), Qt::UTC);
}

Task makeTask(Id id, TaskStatus status = TaskStatus::Todo, std::optional<Id> assignee = std::nullopt,
              qint64 createdSecs = -1)
{
    Task t;
    t.id = id;
    t.projectId = kProject;
    t.title = QStringLiteral("task %1").arg(id);
    t.status = status;
    t.assigneeId = assignee;
    t.createdBy = 1;
    t.createdAt = baseTime().addSecs(createdSecs >= 0 ? createdSecs : id * 60);
    t.updatedAt = t.createdAt;
    return t;
}

Task changed(Task t)
{
    ++t.version;
    t.updatedAt = t.updatedAt.addSecs(1);
    return t;
}

QList<qint64> ids(const TaskListModel &model)
{
    QList<qint64> out;
    for (int row = 0; row < model.rowCount(); ++row)
        out.append(model.data(model.index(row), Roles::IdRole).toLongLong());
    return out;
}

struct Fixture {
    TaskListModel model;
    QAbstractItemModelTester tester {&model, QAbstractItemModelTester::FailureReportingMode::Fatal};
};

// Five tasks with distinct priorities/due dates, for the sort orders.
QList<Task> sortSample()
{
    QList<Task> tasks;
    Task t1 = makeTask(1);
    t1.priority = TaskPriority::Low;
    t1.dueDate = QDate(2025, 7, 1);
    Task t2 = makeTask(2);
    t2.priority = TaskPriority::Urgent;
    Task t3 = makeTask(3);
    t3.priority = TaskPriority::Medium;
    t3.dueDate = QDate(2025, 6, 20);
    Task t4 = makeTask(4);
    t4.priority = TaskPriority::Urgent;
    t4.dueDate = QDate(2025, 6, 20);
    Task t5 = makeTask(5);
    t5.priority = TaskPriority::High;
    return {t3, t1, t5, t2, t4};
}

// t1..t6: statuses and assignees for the filter tables.
QList<Task> filterSample()
{
    return {makeTask(1, TaskStatus::Todo, 7), makeTask(2, TaskStatus::InProgress, 7), makeTask(3, TaskStatus::Todo),
            makeTask(4, TaskStatus::Done, 8), makeTask(5, TaskStatus::Review, 7),     makeTask(6, TaskStatus::Todo, 8)};
}

} // namespace

class TestTaskListModel final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roleNames();
    void roles();
    void defaultSortNewestFirst();
    void sortOrders_data();
    void sortOrders();
    void statusFilter_data();
    void statusFilter();
    void assigneeFilter_data();
    void assigneeFilter();
    void qmlFilterProperties();
    void upsert_data();
    void upsert();
    void remove();
    void countByStatus();
    void overdue();
    void projectScope();
    void hundredThousandTasks();
};

void TestTaskListModel::roleNames()
{
    const TaskListModel model;
    const QHash<int, QByteArray> expected {
        {Roles::IdRole, "taskId"},
        {Roles::TitleRole, "title"},
        {Roles::DescriptionRole, "description"},
        {Roles::StatusRole, "status"},
        {Roles::PriorityRole, "priority"},
        {Roles::AssigneeIdRole, "assigneeId"},
        {Roles::DueDateRole, "dueDate"},
        {Roles::OverdueRole, "overdue"},
        {Roles::CreatedByRole, "createdBy"},
        {Roles::CreatedAtRole, "createdAt"},
        {Roles::UpdatedAtRole, "updatedAt"},
        {Roles::VersionRole, "version"},
    };
    QCOMPARE(model.roleNames(), expected);
}

void TestTaskListModel::roles()
{
    Fixture f;
    Task t = makeTask(9, TaskStatus::InProgress, 4);
    t.description = QStringLiteral("details");
    t.priority = TaskPriority::Urgent;
    t.dueDate = QDate(2025, 6, 30);
    t.version = 3;
    f.model.reset({t, makeTask(10)});
    const int row = f.model.rowForId(9);
    QCOMPARE(row, 1);
    const QModelIndex idx = f.model.index(row);
    QCOMPARE(idx.data(Roles::IdRole).toLongLong(), 9);
    QCOMPARE(idx.data(Roles::TitleRole).toString(), QStringLiteral("task 9"));
    QCOMPARE(idx.data(Qt::DisplayRole).toString(), QStringLiteral("task 9"));
    QCOMPARE(idx.data(Roles::DescriptionRole).toString(), QStringLiteral("details"));
    QCOMPARE(idx.data(Roles::StatusRole).toString(), QStringLiteral("in_progress"));
    QCOMPARE(idx.data(Roles::PriorityRole).toString(), QStringLiteral("urgent"));
    QCOMPARE(idx.data(Roles::AssigneeIdRole).toLongLong(), 4);
    QCOMPARE(idx.data(Roles::DueDateRole).toDate(), QDate(2025, 6, 30));
    QCOMPARE(idx.data(Roles::CreatedByRole).toLongLong(), 1);
    QCOMPARE(idx.data(Roles::CreatedAtRole).toDateTime(), baseTime().addSecs(9 * 60));
    QCOMPARE(idx.data(Roles::UpdatedAtRole).toDateTime(), baseTime().addSecs(9 * 60));
    QCOMPARE(idx.data(Roles::VersionRole).toLongLong(), 3);
    const QModelIndex other = f.model.index(0);
    QVERIFY(other.data(Roles::AssigneeIdRole).isNull());
    QVERIFY(other.data(Roles::DueDateRole).isNull());
    QCOMPARE(f.model.taskAt(row), t);
    QCOMPARE(f.model.task(9), std::optional<Task>(t));
    QVERIFY(!f.model.task(99));
}

void TestTaskListModel::defaultSortNewestFirst()
{
    Fixture f;
    QCOMPARE(f.model.sortOrder(), TaskListModel::NewestFirst);
    f.model.reset({makeTask(1), makeTask(3), makeTask(2), makeTask(10, TaskStatus::Todo, {}, 600),
                   makeTask(11, TaskStatus::Todo, {}, 600)});
    // 10 and 11 share createdAt: the higher id first.
    QCOMPARE(ids(f.model), (QList<qint64> {11, 10, 3, 2, 1}));
}

void TestTaskListModel::sortOrders_data()
{
    QTest::addColumn<int>("order");
    QTest::addColumn<QList<qint64>>("expected");
    QTest::newRow("newest first") << int(TaskListModel::NewestFirst) << QList<qint64> {5, 4, 3, 2, 1};
    QTest::newRow("priority") << int(TaskListModel::PriorityFirst) << QList<qint64> {4, 2, 5, 3, 1};
    QTest::newRow("due date, none last") << int(TaskListModel::DueDateFirst) << QList<qint64> {4, 3, 1, 5, 2};
}

void TestTaskListModel::sortOrders()
{
    QFETCH(int, order);
    QFETCH(QList<qint64>, expected);
    Fixture f;
    f.model.reset(sortSample());
    const QPersistentModelIndex task3(f.model.index(f.model.rowForId(3)));
    QSignalSpy layout(&f.model, &QAbstractItemModel::layoutChanged);
    QSignalSpy reset(&f.model, &QAbstractItemModel::modelReset);
    QSignalSpy orderSpy(&f.model, &TaskListModel::sortOrderChanged);
    f.model.setSortOrder(static_cast<TaskListModel::SortOrder>(order));
    QCOMPARE(ids(f.model), expected);
    QCOMPARE(reset.count(), 0);
    const bool changes = order != TaskListModel::NewestFirst;
    QCOMPARE(layout.count(), changes ? 1 : 0);
    QCOMPARE(orderSpy.count(), changes ? 1 : 0);
    QVERIFY(task3.isValid());
    QCOMPARE(task3.data(Roles::IdRole).toLongLong(), 3); // persistent index followed its task
    QCOMPARE(task3.row(), int(expected.indexOf(3)));

    // Live changes keep the order.
    Task t6 = makeTask(6);
    t6.priority = TaskPriority::High;
    t6.dueDate = QDate(2025, 6, 25);
    f.model.upsert(t6);
    QList<qint64> with6 = ids(f.model);
    QCOMPARE(with6.size(), 6);
    for (int row = 0; row < f.model.count(); ++row)
        QCOMPARE(f.model.rowForId(with6.at(row)), row);
}

void TestTaskListModel::statusFilter_data()
{
    QTest::addColumn<int>("status"); // -1: any
    QTest::addColumn<QList<qint64>>("expected");
    QTest::newRow("any") << -1 << QList<qint64> {6, 5, 4, 3, 2, 1};
    QTest::newRow("todo") << int(TaskStatus::Todo) << QList<qint64> {6, 3, 1};
    QTest::newRow("in progress") << int(TaskStatus::InProgress) << QList<qint64> {2};
    QTest::newRow("review") << int(TaskStatus::Review) << QList<qint64> {5};
    QTest::newRow("done") << int(TaskStatus::Done) << QList<qint64> {4};
}

void TestTaskListModel::statusFilter()
{
    QFETCH(int, status);
    QFETCH(QList<qint64>, expected);
    Fixture f;
    f.model.reset(filterSample());
    QSignalSpy filterSpy(&f.model, &TaskListModel::filterChanged);
    const std::optional<TaskStatus> filter
        = status < 0 ? std::nullopt : std::optional<TaskStatus>(static_cast<TaskStatus>(status));
    f.model.setStatusFilter(filter);
    QCOMPARE(ids(f.model), expected);
    QCOMPARE(f.model.count(), int(expected.size()));
    QCOMPARE(filterSpy.count(), filter ? 1 : 0);
    QCOMPARE(f.model.totalCount(), 6); // storage untouched

    // Combined with an assignee.
    f.model.setAssigneeFilter(TaskListModel::AssigneeFilter::user(7));
    for (int row = 0; row < f.model.count(); ++row) {
        const Task &t = f.model.taskAt(row);
        QCOMPARE(t.assigneeId, std::optional<Id>(7));
        QVERIFY(!filter || t.status == *filter);
    }
}

void TestTaskListModel::assigneeFilter_data()
{
    QTest::addColumn<int>("kind"); // 0 any, 1 unassigned, 2 user
    QTest::addColumn<qint64>("user");
    QTest::addColumn<QList<qint64>>("expected");
    QTest::newRow("any") << 0 << qint64(0) << QList<qint64> {6, 5, 4, 3, 2, 1};
    QTest::newRow("unassigned") << 1 << qint64(0) << QList<qint64> {3};
    QTest::newRow("user 7") << 2 << qint64(7) << QList<qint64> {5, 2, 1};
    QTest::newRow("user 8") << 2 << qint64(8) << QList<qint64> {6, 4};
    QTest::newRow("nobody's") << 2 << qint64(99) << QList<qint64> {};
}

void TestTaskListModel::assigneeFilter()
{
    QFETCH(int, kind);
    QFETCH(qint64, user);
    QFETCH(QList<qint64>, expected);
    Fixture f;
    f.model.reset(filterSample());
    using AF = TaskListModel::AssigneeFilter;
    const AF filter = kind == 0 ? AF::any() : kind == 1 ? AF::unassigned() : AF::user(user);
    f.model.setAssigneeFilter(filter);
    QCOMPARE(f.model.assigneeFilter(), filter);
    QCOMPARE(ids(f.model), expected);
    // Back to any.
    f.model.setAssigneeFilter(AF::any());
    QCOMPARE(f.model.count(), 6);
}

void TestTaskListModel::qmlFilterProperties()
{
    Fixture f;
    f.model.reset(filterSample());
    QVERIFY(f.model.setProperty("statusFilter", QStringLiteral("todo")));
    QCOMPARE(ids(f.model), (QList<qint64> {6, 3, 1}));
    QCOMPARE(f.model.property("statusFilter").toString(), QStringLiteral("todo"));
    QVERIFY(f.model.setProperty("assigneeFilter", qint64(TaskListModel::Unassigned)));
    QCOMPARE(ids(f.model), (QList<qint64> {3}));
    QCOMPARE(f.model.property("assigneeFilter").toLongLong(), TaskListModel::Unassigned);
    QVERIFY(f.model.setProperty("assigneeFilter", qint64(8)));
    QCOMPARE(ids(f.model), (QList<qint64> {6}));
    QVERIFY(f.model.setProperty("assigneeFilter", qint64(TaskListModel::AnyAssignee)));
    QVERIFY(f.model.setProperty("statusFilter", QString()));
    QCOMPARE(f.model.count(), 6);
    QVERIFY(f.model.setProperty("statusFilter", QStringLiteral("bogus"))); // unknown: any
    QCOMPARE(f.model.count(), 6);
    QCOMPARE(f.model.property("todoCount").toInt(), 3);
    QCOMPARE(f.model.property("totalCount").toInt(), 6);
}

void TestTaskListModel::upsert_data()
{
    // Start: t1 todo, t2 todo, t3 in_progress, t4 todo (createdAt increasing), filter todo.
    QTest::addColumn<int>("order");
    QTest::addColumn<Task>("update");
    QTest::addColumn<QList<qint64>>("expected");
    QTest::addColumn<int>("inserted");
    QTest::addColumn<int>("removed");
    QTest::addColumn<int>("moved");
    QTest::addColumn<int>("changedSignals");

    const int newest = TaskListModel::NewestFirst;
    const int priority = TaskListModel::PriorityFirst;
    Task t2 = makeTask(2);
    Task t3 = makeTask(3, TaskStatus::InProgress);

    Task leaves = changed(t2);
    leaves.status = TaskStatus::InProgress;
    QTest::newRow("status change leaves the filter") << newest << leaves << QList<qint64> {4, 1} << 0 << 1 << 0 << 0;
    Task enters = changed(t3);
    enters.status = TaskStatus::Todo;
    QTest::newRow("status change enters the filter")
        << newest << enters << QList<qint64> {4, 3, 2, 1} << 1 << 0 << 0 << 0;
    Task hiddenStays = changed(t3);
    hiddenStays.status = TaskStatus::Review;
    QTest::newRow("hidden stays hidden") << newest << hiddenStays << QList<qint64> {4, 2, 1} << 0 << 0 << 0 << 0;
    Task title = changed(t2);
    title.title = QStringLiteral("renamed");
    QTest::newRow("title only") << newest << title << QList<qint64> {4, 2, 1} << 0 << 0 << 0 << 1;
    Task up = changed(makeTask(1));
    up.priority = TaskPriority::Urgent;
    QTest::newRow("priority up moves to top") << priority << up << QList<qint64> {1, 4, 2} << 0 << 0 << 1 << 1;
    Task down = changed(makeTask(4));
    down.priority = TaskPriority::Low;
    QTest::newRow("priority down moves to bottom") << priority << down << QList<qint64> {2, 1, 4} << 0 << 0 << 1 << 1;
    Task middle = changed(makeTask(4));
    middle.priority = TaskPriority::Medium;
    QTest::newRow("same rank, same place") << priority << middle << QList<qint64> {4, 2, 1} << 0 << 0 << 0 << 1;
    QTest::newRow("new visible task") << newest << makeTask(5) << QList<qint64> {5, 4, 2, 1} << 1 << 0 << 0 << 0;
    QTest::newRow("new task in the middle")
        << newest << makeTask(9, TaskStatus::Todo, {}, 150) << QList<qint64> {4, 9, 2, 1} << 1 << 0 << 0 << 0;
    QTest::newRow("new hidden task") << newest << makeTask(5, TaskStatus::Done) << QList<qint64> {4, 2, 1} << 0 << 0
                                     << 0 << 0;
    Task stale = t2;
    stale.version = 0;
    stale.status = TaskStatus::Done;
    QTest::newRow("stale version ignored") << newest << stale << QList<qint64> {4, 2, 1} << 0 << 0 << 0 << 0;
    QTest::newRow("identical ignored") << newest << t2 << QList<qint64> {4, 2, 1} << 0 << 0 << 0 << 0;
}

void TestTaskListModel::upsert()
{
    QFETCH(int, order);
    QFETCH(Task, update);
    QFETCH(QList<qint64>, expected);
    QFETCH(int, inserted);
    QFETCH(int, removed);
    QFETCH(int, moved);
    QFETCH(int, changedSignals);

    Fixture f;
    f.model.reset({makeTask(1), makeTask(2), makeTask(3, TaskStatus::InProgress), makeTask(4)});
    f.model.setStatusFilter(TaskStatus::Todo);
    f.model.setSortOrder(static_cast<TaskListModel::SortOrder>(order));
    QSignalSpy insertSpy(&f.model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removeSpy(&f.model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy moveSpy(&f.model, &QAbstractItemModel::rowsMoved);
    QSignalSpy changeSpy(&f.model, &QAbstractItemModel::dataChanged);
    QSignalSpy resetSpy(&f.model, &QAbstractItemModel::modelReset);
    f.model.upsert(update);
    QCOMPARE(ids(f.model), expected);
    QCOMPARE(insertSpy.count(), inserted);
    QCOMPARE(removeSpy.count(), removed);
    QCOMPARE(moveSpy.count(), moved);
    QCOMPARE(changeSpy.count(), changedSignals);
    QCOMPARE(resetSpy.count(), 0);
    if (changedSignals > 0) {
        const int row = changeSpy.at(0).at(0).value<QModelIndex>().row();
        QCOMPARE(f.model.taskAt(row).id, update.id);
        QCOMPARE(f.model.taskAt(row), update);
    }
    for (int row = 0; row < f.model.count(); ++row)
        QCOMPARE(f.model.rowForId(expected.at(row)), row);
}

void TestTaskListModel::remove()
{
    Fixture f;
    f.model.reset(filterSample());
    f.model.setStatusFilter(TaskStatus::Todo); // 6, 3, 1
    QSignalSpy removeSpy(&f.model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy countsSpy(&f.model, &TaskListModel::countsChanged);

    f.model.remove(1); // visible; first in storage, so the last stored task takes its slot
    QCOMPARE(ids(f.model), (QList<qint64> {6, 3}));
    QCOMPARE(removeSpy.count(), 1);
    QCOMPARE(removeSpy.at(0).at(1).toInt(), 2);
    f.model.remove(4); // hidden: no row signal
    QCOMPARE(removeSpy.count(), 1);
    QCOMPARE(f.model.totalCount(), 4);
    QCOMPARE(countsSpy.count(), 2);
    f.model.remove(42); // unknown
    QCOMPARE(countsSpy.count(), 2);

    // The moved storage slots still resolve: update them and see the right rows change.
    Task t6 = changed(makeTask(6, TaskStatus::Todo, 8));
    t6.title = QStringLiteral("six");
    f.model.upsert(t6);
    QCOMPARE(f.model.taskAt(0).title, QStringLiteral("six"));
    Task t5 = changed(makeTask(5, TaskStatus::Todo, 7));
    f.model.upsert(t5);
    QCOMPARE(ids(f.model), (QList<qint64> {6, 5, 3}));
    f.model.remove(6);
    f.model.remove(3);
    QCOMPARE(ids(f.model), (QList<qint64> {5}));
    QCOMPARE(f.model.task(2)->status, TaskStatus::InProgress);
    f.model.setStatusFilter(std::nullopt);
    QCOMPARE(ids(f.model), (QList<qint64> {5, 2}));
}

void TestTaskListModel::countByStatus()
{
    Fixture f;
    QSignalSpy countsSpy(&f.model, &TaskListModel::countsChanged);
    f.model.reset(filterSample());
    QCOMPARE(countsSpy.count(), 1);
    f.model.setStatusFilter(TaskStatus::Done); // counts ignore the filters
    QCOMPARE(f.model.countByStatus(TaskStatus::Todo), 3);
    QCOMPARE(f.model.countByStatus(TaskStatus::InProgress), 1);
    QCOMPARE(f.model.countByStatus(TaskStatus::Review), 1);
    QCOMPARE(f.model.countByStatus(TaskStatus::Done), 1);
    QCOMPARE(f.model.todoCount(), 3);

    Task moved = changed(makeTask(1, TaskStatus::Done, 7));
    f.model.upsert(moved);
    QCOMPARE(countsSpy.count(), 2);
    QCOMPARE(f.model.countByStatus(TaskStatus::Todo), 2);
    QCOMPARE(f.model.countByStatus(TaskStatus::Done), 2);
    QCOMPARE(f.model.doneCount(), 2);
    Task renamed = changed(moved);
    renamed.title = QStringLiteral("x");
    f.model.upsert(renamed); // same status: counts unchanged, no notification
    QCOMPARE(countsSpy.count(), 2);
    f.model.upsert(makeTask(7, TaskStatus::Review));
    QCOMPARE(f.model.reviewCount(), 2);
    f.model.remove(2);
    QCOMPARE(f.model.inProgressCount(), 0);
    QCOMPARE(f.model.totalCount(), 6);
    QCOMPARE(countsSpy.count(), 4);
}

void TestTaskListModel::overdue()
{
    Fixture f;
    Task late = makeTask(1);
    late.dueDate = QDate(2025, 6, 20);
    Task lateDone = makeTask(2, TaskStatus::Done);
    lateDone.dueDate = QDate(2025, 6, 10);
    Task noDue = makeTask(3);
    f.model.reset({late, lateDone, noDue});
    QSignalSpy changeSpy(&f.model, &QAbstractItemModel::dataChanged);
    f.model.setToday(QDate(2025, 6, 20));
    QCOMPARE(changeSpy.count(), 1);
    QCOMPARE(changeSpy.at(0).at(2).value<QList<int>>(), QList<int> {Roles::OverdueRole});
    auto overdueOf = [&](Id id) { return f.model.index(f.model.rowForId(id)).data(Roles::OverdueRole).toBool(); };
    QVERIFY(!overdueOf(1)); // due today is not overdue
    f.model.setToday(QDate(2025, 6, 21));
    QVERIFY(overdueOf(1));
    QVERIFY(!overdueOf(2)); // done
    QVERIFY(!overdueOf(3)); // no due date
    f.model.setToday(QDate());
    QCOMPARE(f.model.today(), QDate::currentDate());
}

void TestTaskListModel::projectScope()
{
    Fixture f;
    QSignalSpy projectSpy(&f.model, &TaskListModel::projectIdChanged);
    f.model.setProjectId(kProject);
    QCOMPARE(projectSpy.count(), 1);
    Task foreign = makeTask(50);
    foreign.projectId = kProject + 1;
    f.model.reset({makeTask(1), foreign});
    QCOMPARE(ids(f.model), (QList<qint64> {1}));
    f.model.upsert(foreign);
    QCOMPARE(f.model.count(), 1);
    f.model.setProjectId(kProject + 1); // another project: starts empty
    QCOMPARE(f.model.count(), 0);
    QCOMPARE(f.model.totalCount(), 0);
    f.model.upsert(foreign);
    QCOMPARE(ids(f.model), (QList<qint64> {50}));
}

void TestTaskListModel::hundredThousandTasks()
{
    // Functional check at the size the model is made for; no timing assertions.
    constexpr int kCount = 100000;
    QList<Task> tasks;
    tasks.reserve(kCount);
    for (Id id = 1; id <= kCount; ++id) {
        Task t = makeTask(id, static_cast<TaskStatus>(id % 4), id % 10 == 0 ? std::nullopt : std::optional<Id>(id % 7),
                          (id * 37) % 5000); // many equal createdAt values: ties by id
        t.priority = static_cast<TaskPriority>(id % 3);
        tasks.append(t);
    }
    Fixture f;
    f.model.reset(tasks);
    QCOMPARE(f.model.count(), kCount);
    QCOMPARE(f.model.countByStatus(TaskStatus::Done), kCount / 4);

    auto checkSorted = [&] {
        for (int row = 1; row < f.model.count(); ++row) {
            const Task &a = f.model.taskAt(row - 1);
            const Task &b = f.model.taskAt(row);
            const bool ordered = a.createdAt > b.createdAt || (a.createdAt == b.createdAt && a.id > b.id);
            if (!ordered)
                return false;
        }
        return true;
    };
    QVERIFY(checkSorted());

    f.model.setStatusFilter(TaskStatus::Review);
    QCOMPARE(f.model.count(), kCount / 4);
    QVERIFY(checkSorted());
    f.model.setAssigneeFilter(TaskListModel::AssigneeFilter::user(3));
    const auto expected = std::count_if(tasks.cbegin(), tasks.cend(), [](const Task &t) {
        return t.status == TaskStatus::Review && t.assigneeId == std::optional<Id>(3);
    });
    QCOMPARE(f.model.count(), int(expected));
    for (int row = 0; row < f.model.count(); ++row) {
        QCOMPARE(f.model.taskAt(row).status, TaskStatus::Review);
        QCOMPARE(f.model.taskAt(row).assigneeId, std::optional<Id>(3));
    }
    QVERIFY(checkSorted());

    // A task moves into the filtered view and out again; one is deleted.
    const Id outsider = 4; // todo, assignee 4
    Task in = changed(tasks.at(outsider - 1));
    in.status = TaskStatus::Review;
    in.assigneeId = 3;
    f.model.upsert(in);
    QCOMPARE(f.model.count(), int(expected) + 1);
    QVERIFY(f.model.rowForId(outsider) >= 0);
    QVERIFY(checkSorted());
    Task out = changed(in);
    out.status = TaskStatus::Done;
    f.model.upsert(out);
    QCOMPARE(f.model.count(), int(expected));
    QCOMPARE(f.model.rowForId(outsider), -1);
    const Id victim = f.model.taskAt(0).id;
    f.model.remove(victim);
    QCOMPARE(f.model.count(), int(expected) - 1);
    QCOMPARE(f.model.totalCount(), kCount - 1);

    f.model.setAssigneeFilter(TaskListModel::AssigneeFilter::any());
    f.model.setStatusFilter(std::nullopt);
    QCOMPARE(f.model.count(), kCount - 1);
    f.model.setSortOrder(TaskListModel::PriorityFirst);
    for (int row = 1; row < f.model.count(); ++row)
        QVERIFY(f.model.taskAt(row - 1).priority >= f.model.taskAt(row).priority);
}

QTEST_GUILESS_MAIN(TestTaskListModel)
#include "tst_task_list_model.moc"
