// TaskStore on both back ends: tasks exist only for members of their live project (NotFound
// everywhere else), versions and 412, tri-state PATCH of assigneeId and dueDate, the assignee
// must be a member, soft delete hides, every write takes the project channel's next seq (no gaps,
// also with 8 concurrent writers) with the channel_events row to match, keyset pages walk every
// item exactly once in order with and without filters, text is stored verbatim, and on
// PostgreSQL (and SQLite) the page query is served by the tasks_by_* indexes.
#include "server/storage/event_store.h"
#include "server/storage/project_store.h"
#include "server/storage/sql.h"
#include "server/storage/task_store.h"
#include "server/storage/user_store.h"
#include "tests/support/store_fixture.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTest>

#include <algorithm>

using namespace taskmaster;
using namespace taskmaster::server;
using taskmaster::test::backendRows;

namespace {
constexpr Id kGhostUser = 999999;
constexpr Id kGhostId = 888888;

QString ev(Seq seq, EventType type, Id entity)
{
    return QStringLiteral("%1:%2:%3").arg(seq).arg(store::eventTypeCode(type)).arg(entity);
}

// Tri-state patch values of the data tables.
enum PatchKind { Absent, Null, Value };
} // namespace

class TestTaskStore final : public test::StoreFixture {
    Q_OBJECT
private Q_SLOTS:
    void createAndGet_data() { backendRows(); }
    void createAndGet();
    void visibility_data();
    void visibility();
    void versions_data() { backendRows(); }
    void versions();
    void triState_data();
    void triState();
    void assigneeMustBeMember_data();
    void assigneeMustBeMember();
    void events_data() { backendRows(); }
    void events();
    void pagination_data();
    void pagination();
    void limitPlusOne_data() { backendRows(); }
    void limitPlusOne();
    void tasksByIds_data() { backendRows(); }
    void tasksByIds();
    void concurrentCreate_data() { backendRows(); }
    void concurrentCreate();
    void listUsesIndex_data();
    void listUsesIndex();

private:
    // alice owns project "Apollo", bob is a member, carol is a user outside it.
    void standardSetup();
    Task addTask(const QString &title, qint64 createdAtMs = 0, const store::NewTask &base = {});

    User m_alice, m_bob, m_carol;
    Project m_project;
};

void TestTaskStore::standardSetup()
{
    m_alice = addUser(QStringLiteral("alice"));
    m_bob = addUser(QStringLiteral("bob"));
    m_carol = addUser(QStringLiteral("carol"));
    m_project = addProject(m_alice, QStringLiteral("Apollo"));
    addMember(m_project, m_alice, m_bob);
}

Task TestTaskStore::addTask(const QString &title, qint64 createdAtMs, const store::NewTask &base)
{
    store::NewTask fields = base;
    fields.title = title;
    const qint64 now = createdAtMs ? createdAtMs : tick();
    auto t = onDb([&](QSqlDatabase &db) { return store::createTask(db, m_project.id, m_alice.id, fields, now); });
    if (!t)
        qFatal("createTask failed: %s", qPrintable(t.error().message));
    return t->task;
}

void TestTaskStore::createAndGet()
{
    standardSetup();
    store::NewTask plain;
    plain.title = QStringLiteral("Plain");
    auto first = onDb([&](QSqlDatabase &db) { return store::createTask(db, m_project.id, m_bob.id, plain, 5000); });
    QVERIFY(first);
    QCOMPARE(first->seq, 2); // seq 1 is bob's member_joined
    const Task &t = first->task;
    QVERIFY(t.id > 0);
    QCOMPARE(t.projectId, m_project.id);
    QCOMPARE(t.title, QStringLiteral("Plain"));
    QCOMPARE(t.description, QString());
    QCOMPARE(t.status, TaskStatus::Todo);
    QCOMPARE(t.priority, TaskPriority::Medium);
    QCOMPARE(t.assigneeId, std::optional<Id>());
    QCOMPARE(t.dueDate, std::optional<QDate>());
    QCOMPARE(t.createdBy, m_bob.id);
    QCOMPARE(t.createdAt, store::fromMs(5000));
    QCOMPARE(t.updatedAt, store::fromMs(5000));
    QCOMPARE(t.version, 1);

    store::NewTask full;
    full.title = QStringLiteral("'; DROP TABLE tasks; -- %_\\ ? $1 \U0001F680");
    full.description = QStringLiteral("multi\nline \"quoted\" \u00e9\u4e2d");
    full.status = TaskStatus::Review;
    full.priority = TaskPriority::Urgent;
    full.assigneeId = m_bob.id;
    full.dueDate = QDate(2026, 11, 23);
    auto second = onDb([&](QSqlDatabase &db) { return store::createTask(db, m_project.id, m_alice.id, full, 5001); });
    QVERIFY(second);
    QCOMPARE(second->seq, 3);
    QCOMPARE(second->task.title, full.title);
    QCOMPARE(second->task.description, full.description);
    QCOMPARE(second->task.status, TaskStatus::Review);
    QCOMPARE(second->task.priority, TaskPriority::Urgent);
    QCOMPARE(second->task.assigneeId, std::optional<Id>(m_bob.id));
    QCOMPARE(second->task.dueDate, std::optional<QDate>(QDate(2026, 11, 23)));

    for (const store::TaskWrite &w : {*first, *second}) {
        auto read = onDb([&](QSqlDatabase &db) { return store::taskForMember(db, w.task.id, m_bob.id); });
        QVERIFY(read && read->has_value());
        QCOMPARE(**read, w.task);
        auto hidden = onDb([&](QSqlDatabase &db) { return store::taskForMember(db, w.task.id, m_carol.id); });
        QVERIFY(hidden && !hidden->has_value());
    }

    auto badTitle = onDb([&](QSqlDatabase &db) {
        store::NewTask f;
        f.title = QString();
        return store::createTask(db, m_project.id, m_alice.id, f, 5002);
    });
    QVERIFY(!badTitle);
    QCOMPARE(badTitle.error().code, ErrorCode::ValidationFailed);
    QCOMPARE(badTitle.error().field, QStringLiteral("title"));
}

void TestTaskStore::visibility_data()
{
    QTest::addColumn<QString>("op");
    QTest::addColumn<QString>("situation");
    for (const char *b : {"sqlite", "postgres"}) {
        for (const char *op : {"create", "get", "update", "delete", "list"}) {
            for (const char *situation : {"non-member", "deleted task", "deleted project", "missing"}) {
                QTest::addRow("%s %s %s", b, op, situation)
                    << QString::fromLatin1(op) << QString::fromLatin1(situation);
            }
        }
    }
}

void TestTaskStore::visibility()
{
    QFETCH(QString, op);
    QFETCH(QString, situation);
    standardSetup();
    store::NewTask f;
    f.assigneeId = m_bob.id;
    const Task task = addTask(QStringLiteral("Secret"), 0, f);
    const Task other = addTask(QStringLiteral("Other"));

    Id projectId = m_project.id;
    Id taskId = task.id;
    User caller = m_bob;
    if (situation == QLatin1String("non-member")) {
        caller = m_carol;
    } else if (situation == QLatin1String("deleted task")) {
        QVERIFY(onDb([&](QSqlDatabase &db) { return store::deleteTask(db, task.id, m_alice.id, tick()); }));
    } else if (situation == QLatin1String("deleted project")) {
        QVERIFY(onDb([&](QSqlDatabase &db) { return store::deleteProject(db, m_project.id, m_alice.id, tick()); }));
    } else {
        projectId = kGhostId;
        taskId = kGhostId;
    }
    const QStringList eventsBefore = channelEvents(m_project.id);
    const qint64 now = tick();

    std::optional<Error> error;
    if (op == QLatin1String("create")) {
        store::NewTask n;
        n.title = QStringLiteral("new");
        auto r = onDb([&](QSqlDatabase &db) { return store::createTask(db, projectId, caller.id, n, now); });
        if (situation == QLatin1String("deleted task")) {
            QVERIFY(r); // the project is still there
            return;
        }
        QVERIFY(!r);
        error = r.error();
    } else if (op == QLatin1String("get")) {
        auto r = onDb([&](QSqlDatabase &db) { return store::taskForMember(db, taskId, caller.id); });
        QVERIFY(r);
        QVERIFY(!r->has_value());
    } else if (op == QLatin1String("update")) {
        store::TaskPatch patch;
        patch.title = QStringLiteral("changed");
        auto r = onDb(
            [&](QSqlDatabase &db) { return store::updateTask(db, taskId, caller.id, patch, std::nullopt, now); });
        QVERIFY(!r);
        error = r.error();
    } else if (op == QLatin1String("delete")) {
        auto r = onDb([&](QSqlDatabase &db) { return store::deleteTask(db, taskId, caller.id, now); });
        QVERIFY(!r);
        error = r.error();
    } else if (op == QLatin1String("list")) {
        store::TaskListFilter filter;
        auto r = onDb([&](QSqlDatabase &db) { return store::listTasks(db, projectId, caller.id, filter); });
        if (situation == QLatin1String("deleted task")) {
            // The project is visible; the deleted task is not in it.
            QVERIFY(r);
            QCOMPARE(r->items.size(), 1);
            QCOMPARE(r->items[0].id, other.id);
            return;
        }
        QVERIFY(!r);
        error = r.error();
    }
    if (error) {
        QCOMPARE(error->code, ErrorCode::NotFound);
        QCOMPARE(error->field, QString());
    }
    QCOMPARE(channelEvents(m_project.id), eventsBefore);
    if (situation == QLatin1String("non-member") || situation == QLatin1String("missing")) {
        auto still = onDb([&](QSqlDatabase &db) { return store::taskForMember(db, task.id, m_bob.id); });
        QVERIFY(still && still->has_value());
        QCOMPARE(**still, task);
    }
}

void TestTaskStore::versions()
{
    standardSetup();
    const Task t = addTask(QStringLiteral("Write docs"));
    auto update = [&](const store::TaskPatch &patch, std::optional<qint64> expected, qint64 now) {
        return onDb([&](QSqlDatabase &db) { return store::updateTask(db, t.id, m_bob.id, patch, expected, now); });
    };
    store::TaskPatch toReview;
    toReview.status = TaskStatus::Review;
    auto v2 = update(toReview, 1, 7000);
    QVERIFY(v2);
    QCOMPARE(v2->task.version, 2);
    QCOMPARE(v2->task.status, TaskStatus::Review);
    QCOMPARE(v2->task.title, t.title);
    QCOMPARE(v2->task.createdAt, t.createdAt);
    QCOMPARE(v2->task.updatedAt, store::fromMs(7000));
    QVERIFY(v2->seq > 0);

    store::TaskPatch toDone;
    toDone.status = TaskStatus::Done;
    auto stale = update(toDone, 1, 7100);
    QVERIFY(!stale);
    QCOMPARE(stale.error().code, ErrorCode::PreconditionFailed);
    QCOMPARE(**onDb([&](QSqlDatabase &db) { return store::taskForMember(db, t.id, m_alice.id); }), v2->task);

    auto v3 = update(toDone, std::nullopt, 7200);
    QVERIFY(v3);
    QCOMPARE(v3->task.version, 3);
    QCOMPARE(v3->seq, v2->seq + 1);

    // Nothing changes: no version, no event.
    auto noop = update(store::TaskPatch {}, 3, 7300);
    QVERIFY(noop);
    QCOMPARE(noop->seq, 0);
    QCOMPARE(noop->task, v3->task);
    auto sameValues = update(toDone, std::nullopt, 7400);
    QVERIFY(sameValues);
    QCOMPARE(sameValues->seq, 0);
    QCOMPARE(sameValues->task, v3->task);
    auto staleNoop = update(store::TaskPatch {}, 2, 7500);
    QVERIFY(!staleNoop);
    QCOMPARE(staleNoop.error().code, ErrorCode::PreconditionFailed);

    // Field rules come first.
    store::TaskPatch badTitle;
    badTitle.title = QString(201, QLatin1Char('x'));
    auto bad = update(badTitle, 1, 7600);
    QVERIFY(!bad);
    QCOMPARE(bad.error().code, ErrorCode::ValidationFailed);
    QCOMPARE(bad.error().field, QStringLiteral("title"));

    // Delete bumps the version too and answers the last state.
    auto deleted = onDb([&](QSqlDatabase &db) { return store::deleteTask(db, t.id, m_bob.id, 7700); });
    QVERIFY(deleted);
    QCOMPARE(deleted->task.version, 4);
    QCOMPARE(deleted->task.updatedAt, store::fromMs(7700));
    QCOMPARE(deleted->seq, v3->seq + 1);
    auto gone = update(toReview, std::nullopt, 7800);
    QVERIFY(!gone);
    QCOMPARE(gone.error().code, ErrorCode::NotFound);
    auto deleteAgain = onDb([&](QSqlDatabase &db) { return store::deleteTask(db, t.id, m_bob.id, 7900); });
    QVERIFY(!deleteAgain);
    QCOMPARE(deleteAgain.error().code, ErrorCode::NotFound);
}

void TestTaskStore::triState_data()
{
    // The task starts with assignee alice and due date 2026-01-02; the patch leaves each field
    // (absent), clears it (null) or sets it (bob, 2027-03-04).
    QTest::addColumn<int>("assigneePatch");
    QTest::addColumn<int>("duePatch");
    const char *names[] = {"absent", "null", "value"};
    for (const char *b : {"sqlite", "postgres"}) {
        for (int a : {Absent, Null, Value}) {
            for (int d : {Absent, Null, Value})
                QTest::addRow("%s assignee %s, dueDate %s", b, names[a], names[d]) << a << d;
        }
    }
}

void TestTaskStore::triState()
{
    QFETCH(int, assigneePatch);
    QFETCH(int, duePatch);
    standardSetup();
    store::NewTask f;
    f.description = QStringLiteral("keep me");
    f.priority = TaskPriority::High;
    f.assigneeId = m_alice.id;
    f.dueDate = QDate(2026, 1, 2);
    const Task t = addTask(QStringLiteral("Tri-state"), 0, f);

    store::TaskPatch patch;
    std::optional<Id> expectedAssignee = m_alice.id;
    std::optional<QDate> expectedDue = QDate(2026, 1, 2);
    if (assigneePatch == Null) {
        patch.assigneeId = std::optional<Id>();
        expectedAssignee.reset();
    } else if (assigneePatch == Value) {
        patch.assigneeId = std::optional<Id>(m_bob.id);
        expectedAssignee = m_bob.id;
    }
    if (duePatch == Null) {
        patch.dueDate = std::optional<QDate>();
        expectedDue.reset();
    } else if (duePatch == Value) {
        patch.dueDate = std::optional<QDate>(QDate(2027, 3, 4));
        expectedDue = QDate(2027, 3, 4);
    }
    auto r = onDb([&](QSqlDatabase &db) { return store::updateTask(db, t.id, m_bob.id, patch, 1, tick()); });
    QVERIFY2(r, r ? "" : qPrintable(r.error().message));
    QCOMPARE(r->task.assigneeId, expectedAssignee);
    QCOMPARE(r->task.dueDate, expectedDue);
    const bool changed = assigneePatch != Absent || duePatch != Absent;
    QCOMPARE(r->task.version, changed ? 2 : 1);
    QCOMPARE(r->seq > 0, changed);
    // Everything else as it was.
    QCOMPARE(r->task.title, t.title);
    QCOMPARE(r->task.description, t.description);
    QCOMPARE(r->task.priority, TaskPriority::High);
    QCOMPARE(r->task.status, TaskStatus::Todo);
    QCOMPARE(r->task.createdBy, m_alice.id);
    // And stored so.
    auto read = onDb([&](QSqlDatabase &db) { return store::taskForMember(db, t.id, m_alice.id); });
    QCOMPARE(**read, r->task);
}

void TestTaskStore::assigneeMustBeMember_data()
{
    QTest::addColumn<QString>("op");
    QTest::addColumn<QString>("who");
    for (const char *b : {"sqlite", "postgres"}) {
        for (const char *op : {"create", "update"}) {
            for (const char *who : {"non-member", "unknown user", "removed member"})
                QTest::addRow("%s %s %s", b, op, who) << QString::fromLatin1(op) << QString::fromLatin1(who);
        }
    }
}

void TestTaskStore::assigneeMustBeMember()
{
    QFETCH(QString, op);
    QFETCH(QString, who);
    standardSetup();
    const Task t = addTask(QStringLiteral("Assign me"));
    Id assignee = m_carol.id;
    if (who == QLatin1String("unknown user")) {
        assignee = kGhostUser;
    } else if (who == QLatin1String("removed member")) {
        assignee = m_bob.id;
        QVERIFY(onDb([&](QSqlDatabase &db) {
            return store::removeProjectMember(db, m_project.id, m_alice.id, m_bob.id, tick());
        }));
    }
    const QStringList eventsBefore = channelEvents(m_project.id);
    Error error;
    if (op == QLatin1String("create")) {
        store::NewTask f;
        f.title = QStringLiteral("x");
        f.assigneeId = assignee;
        auto r = onDb([&](QSqlDatabase &db) { return store::createTask(db, m_project.id, m_alice.id, f, tick()); });
        QVERIFY(!r);
        error = r.error();
    } else {
        store::TaskPatch patch;
        patch.assigneeId = std::optional<Id>(assignee);
        auto r = onDb([&](QSqlDatabase &db) { return store::updateTask(db, t.id, m_alice.id, patch, 1, tick()); });
        QVERIFY(!r);
        error = r.error();
    }
    QCOMPARE(error.code, ErrorCode::ValidationFailed);
    QCOMPARE(error.field, QStringLiteral("assigneeId"));
    QCOMPARE(channelEvents(m_project.id), eventsBefore);
    QCOMPARE(**onDb([&](QSqlDatabase &db) { return store::taskForMember(db, t.id, m_alice.id); }), t);
}

void TestTaskStore::events()
{
    standardSetup(); // seq 1: bob joined
    const Project other = addProject(m_alice, QStringLiteral("Gemini"));
    auto create = [&](const Project &p, const QString &title) {
        store::NewTask f;
        f.title = title;
        return onDb([&](QSqlDatabase &db) { return store::createTask(db, p.id, m_alice.id, f, tick()); });
    };
    auto update = [&](Id id, const store::TaskPatch &patch, std::optional<qint64> expected) {
        return onDb([&](QSqlDatabase &db) { return store::updateTask(db, id, m_bob.id, patch, expected, tick()); });
    };
    store::TaskPatch rename;
    rename.title = QStringLiteral("renamed");
    store::TaskPatch urgent;
    urgent.priority = TaskPriority::Urgent;

    auto t1 = create(m_project, QStringLiteral("one"));
    QCOMPARE(t1->seq, 2);
    auto t2 = create(m_project, QStringLiteral("two"));
    QCOMPARE(t2->seq, 3);
    auto o1 = create(other, QStringLiteral("elsewhere"));
    QCOMPARE(o1->seq, 1); // a channel of its own
    QCOMPARE(update(t1->task.id, rename, 1)->seq, 4);
    QVERIFY(!update(t1->task.id, urgent, 1)); // 412: no seq taken
    QCOMPARE(update(t1->task.id, rename, std::nullopt)->seq, 0); // no change: no seq taken
    const User dave = addUser(QStringLiteral("dave"));
    auto joined
        = onDb([&](QSqlDatabase &db) { return store::addProjectMember(db, m_project.id, m_bob.id, dave.id, tick()); });
    QCOMPARE(joined->seq, 5);
    auto d2 = onDb([&](QSqlDatabase &db) { return store::deleteTask(db, t2->task.id, dave.id, tick()); });
    QCOMPARE(d2->seq, 6);
    QCOMPARE(update(t1->task.id, urgent, 2)->seq, 7);

    QCOMPARE(channelEvents(m_project.id),
             (QStringList {ev(1, EventType::MemberJoined, m_bob.id), ev(2, EventType::TaskCreated, t1->task.id),
                           ev(3, EventType::TaskCreated, t2->task.id), ev(4, EventType::TaskUpdated, t1->task.id),
                           ev(5, EventType::MemberJoined, dave.id), ev(6, EventType::TaskDeleted, t2->task.id),
                           ev(7, EventType::TaskUpdated, t1->task.id)}));
    QCOMPARE(channelEvents(other.id), QStringList {ev(1, EventType::TaskCreated, o1->task.id)});
}

void TestTaskStore::pagination_data()
{
    // 30 tasks, created_at in groups of three equal times (so id breaks the ties), status i % 4,
    // assignee bob when i % 3 == 0, alice when i % 3 == 1, nobody otherwise; tasks 5 and 17
    // deleted; 4 tasks in another project.
    QTest::addColumn<int>("status"); // -1: any
    QTest::addColumn<QString>("assignee"); // empty: any
    QTest::addColumn<int>("limit");
    struct Row {
        const char *name;
        int status;
        const char *assignee;
        int limit;
    };
    const Row rows[] = {
        {"all, limit 1", -1, "", 1},
        {"all, limit 2", -1, "", 2},
        {"all, limit 4 (exact multiple)", -1, "", 4},
        {"all, limit 7", -1, "", 7},
        {"all, limit 28 (exactly all)", -1, "", 28},
        {"all, limit 200", -1, "", 200},
        {"done, limit 2", int(TaskStatus::Done), "", 2},
        {"todo, limit 3", int(TaskStatus::Todo), "", 3},
        {"assignee bob, limit 3", -1, "bob", 3},
        {"assignee alice, limit 50", -1, "alice", 50},
        {"assignee alice and in_progress, limit 1", int(TaskStatus::InProgress), "alice", 1},
        {"assignee carol (none), limit 5", -1, "carol", 5},
    };
    for (const char *b : {"sqlite", "postgres"}) {
        for (const Row &r : rows) {
            QTest::addRow("%s %s", b, r.name) << r.status << QString::fromLatin1(r.assignee) << r.limit;
        }
    }
}

void TestTaskStore::pagination()
{
    QFETCH(int, status);
    QFETCH(QString, assignee);
    QFETCH(int, limit);
    standardSetup();
    QList<Task> all;
    for (int i = 0; i < 30; ++i) {
        store::NewTask f;
        f.status = static_cast<TaskStatus>(i % 4);
        if (i % 3 == 0)
            f.assigneeId = m_bob.id;
        else if (i % 3 == 1)
            f.assigneeId = m_alice.id;
        all << addTask(QStringLiteral("task %1").arg(i), 10000 + (i / 3) * 10, f);
    }
    for (int i : {5, 17})
        QVERIFY(onDb([&](QSqlDatabase &db) { return store::deleteTask(db, all[i].id, m_alice.id, 50000); }));
    const Task deleted5 = all[5], deleted17 = all[17];
    all.removeIf([&](const Task &t) { return t.id == deleted5.id || t.id == deleted17.id; });
    const Project other = addProject(m_alice, QStringLiteral("Other"));
    for (int i = 0; i < 4; ++i) {
        store::NewTask f;
        f.title = QStringLiteral("other %1").arg(i);
        f.assigneeId = m_alice.id;
        QVERIFY(onDb([&](QSqlDatabase &db) { return store::createTask(db, other.id, m_alice.id, f, 10050); }));
    }

    store::TaskListFilter filter;
    filter.limit = limit;
    if (status >= 0)
        filter.status = static_cast<TaskStatus>(status);
    const QHash<QString, Id> byName {{QStringLiteral("alice"), m_alice.id},
                                     {QStringLiteral("bob"), m_bob.id},
                                     {QStringLiteral("carol"), m_carol.id}};
    if (!assignee.isEmpty())
        filter.assigneeId = byName.value(assignee);

    QList<Task> expected;
    for (const Task &t : all) {
        if ((!filter.status || t.status == *filter.status) && (!filter.assigneeId || t.assigneeId == filter.assigneeId))
            expected << t;
    }
    std::sort(expected.begin(), expected.end(), [](const Task &a, const Task &b) {
        return a.createdAt != b.createdAt ? a.createdAt > b.createdAt : a.id > b.id;
    });

    QList<Task> walked;
    int pages = 0;
    for (;;) {
        auto page = onDb([&](QSqlDatabase &db) { return store::listTasks(db, m_project.id, m_bob.id, filter); });
        QVERIFY2(page, page ? "" : qPrintable(page.error().message));
        ++pages;
        QVERIFY(page->items.size() <= limit);
        walked += page->items;
        if (!page->nextCursor) {
            QCOMPARE(walked.size(), expected.size()); // the last page: nothing follows
            break;
        }
        // A cursor only when more follow; the page is then full and the cursor is its last item.
        QCOMPARE(page->items.size(), limit);
        QVERIFY(walked.size() < expected.size());
        const Task &last = page->items.constLast();
        QCOMPARE(*page->nextCursor, (store::TaskCursor {last.createdAt.toMSecsSinceEpoch(), last.id}));
        filter.cursor = page->nextCursor;
        QVERIFY(pages <= 40);
    }
    QCOMPARE(walked, expected);
    const qsizetype wantPages = std::max<qsizetype>(1, (expected.size() + limit - 1) / limit);
    QCOMPARE(pages, wantPages);
}

void TestTaskStore::limitPlusOne()
{
    standardSetup();
    const Task a = addTask(QStringLiteral("a"), 100);
    const Task b = addTask(QStringLiteral("b"), 200);
    const Task c = addTask(QStringLiteral("c"), 300);
    auto list = [&](int limit, std::optional<store::TaskCursor> cursor = std::nullopt) {
        store::TaskListFilter f;
        f.limit = limit;
        f.cursor = cursor;
        return onDb([&](QSqlDatabase &db) { return store::listTasks(db, m_project.id, m_alice.id, f); });
    };
    auto three = list(3);
    QCOMPARE(three->items, (QList<Task> {c, b, a}));
    QVERIFY(!three->nextCursor);
    auto four = list(4);
    QCOMPARE(four->items, (QList<Task> {c, b, a}));
    QVERIFY(!four->nextCursor);
    auto two = list(2);
    QCOMPARE(two->items, (QList<Task> {c, b}));
    QCOMPARE(two->nextCursor, std::optional<store::TaskCursor>(store::TaskCursor {200, b.id}));
    auto rest = list(2, two->nextCursor);
    QCOMPARE(rest->items, QList<Task> {a});
    QVERIFY(!rest->nextCursor);
    // A cursor past the end: an empty last page.
    auto none = list(2, store::TaskCursor {100, a.id});
    QVERIFY(none->items.isEmpty());
    QVERIFY(!none->nextCursor);
    auto zero = list(0);
    QVERIFY(!zero);
    QCOMPARE(zero.error().code, ErrorCode::BadRequest);
    QCOMPARE(zero.error().field, QStringLiteral("limit"));
}

void TestTaskStore::tasksByIds()
{
    standardSetup();
    const Task a = addTask(QStringLiteral("a"));
    const Task b = addTask(QStringLiteral("b"));
    const Task c = addTask(QStringLiteral("c"));
    auto deleted = onDb([&](QSqlDatabase &db) { return store::deleteTask(db, b.id, m_alice.id, tick()); });
    QVERIFY(deleted);
    auto found = onDb([&](QSqlDatabase &db) {
        return store::tasksByIds(db, QList<Id> {c.id, kGhostId, a.id, b.id, c.id});
    });
    QVERIFY(found);
    // Ascending id, duplicates once, unknown left out, the deleted one in its last state.
    QCOMPARE(*found, (QList<Task> {a, deleted->task, c}));
    auto empty = onDb([&](QSqlDatabase &db) { return store::tasksByIds(db, QList<Id> {}); });
    QVERIFY(empty && empty->isEmpty());
    // More ids than one statement takes.
    QList<Id> many;
    for (Id i = 1; i <= 1200; ++i)
        many << i;
    auto chunked = onDb([&](QSqlDatabase &db) { return store::tasksByIds(db, many); });
    QCOMPARE(chunked->size(), 3);
}

void TestTaskStore::concurrentCreate()
{
    // A project of its own, without membership events, so its task seqs are 1..8.
    m_alice = addUser(QStringLiteral("alice"));
    m_project = addProject(m_alice, QStringLiteral("Busy"));
    QCOMPARE(pool().options().maxThreads, 8);
    QList<QFuture<Result<store::TaskWrite>>> futures;
    const Id projectId = m_project.id;
    const Id aliceId = m_alice.id;
    for (int i = 0; i < 8; ++i) {
        futures << pool().run([projectId, aliceId, i](QSqlDatabase &db) {
            store::NewTask f;
            f.title = QStringLiteral("parallel %1").arg(i);
            return store::createTask(db, projectId, aliceId, f, 2000 + i);
        });
    }
    QList<Seq> seqs;
    QHash<Seq, Id> taskBySeq;
    QSet<Id> ids;
    for (auto &f : futures) {
        const Result<store::TaskWrite> r = f.result();
        QVERIFY2(r, r ? "" : qPrintable(r.error().message));
        seqs << r->seq;
        taskBySeq.insert(r->seq, r->task.id);
        ids.insert(r->task.id);
    }
    std::sort(seqs.begin(), seqs.end());
    QCOMPARE(seqs, (QList<Seq> {1, 2, 3, 4, 5, 6, 7, 8}));
    QCOMPARE(ids.size(), 8);
    QStringList expected;
    for (Seq s = 1; s <= 8; ++s)
        expected << ev(s, EventType::TaskCreated, taskBySeq.value(s));
    QCOMPARE(channelEvents(projectId), expected);
}

void TestTaskStore::listUsesIndex_data()
{
    QTest::addColumn<int>("status"); // -1: any
    QTest::addColumn<bool>("assignee");
    QTest::addColumn<bool>("cursor");
    for (const char *b : {"postgres", "sqlite"}) {
        QTest::addRow("%s project", b) << -1 << false << false;
        QTest::addRow("%s project, cursor", b) << -1 << false << true;
        QTest::addRow("%s project and status", b) << int(TaskStatus::Review) << false << false;
        QTest::addRow("%s project and status, cursor", b) << int(TaskStatus::Review) << false << true;
        QTest::addRow("%s project and assignee", b) << -1 << true << false;
    }
}

namespace {
// Every node of a PostgreSQL JSON plan, depth first.
void collectNodes(const QJsonObject &plan, QList<QJsonObject> &out)
{
    out << plan;
    for (const QJsonValue &child : plan.value(QLatin1String("Plans")).toArray())
        collectNodes(child.toObject(), out);
}

QString describe(const QList<QJsonObject> &nodes)
{
    QStringList parts;
    for (const QJsonObject &n : nodes) {
        parts << n.value(QLatin1String("Node Type")).toString() + QLatin1Char('(')
                + n.value(QLatin1String("Index Name")).toString() + QLatin1Char('/')
                + n.value(QLatin1String("Relation Name")).toString() + QLatin1Char(')');
    }
    return parts.join(QLatin1String(", "));
}

// The statement with its binds (all integers) written into the text, for EXPLAIN.
QString inlined(const store::SqlStatement &s, bool dollarParams)
{
    QString out;
    qsizetype next = 0;
    for (const QChar ch : s.text) {
        if (ch != QLatin1Char('?')) {
            out += ch;
            continue;
        }
        out += dollarParams ? QStringLiteral("$%1").arg(next + 1) : QString::number(s.binds.at(next).toLongLong());
        ++next;
    }
    return out;
}
} // namespace

// The page query must be served by an index in the order it asks for, never by a scan of the
// whole table: checked on the planner's own plan with a few thousand rows and fresh statistics,
// both for the literal values (custom plan) and on PostgreSQL also for the generic plan that a
// prepared statement ends up with.
void TestTaskStore::listUsesIndex()
{
    QFETCH(int, status);
    QFETCH(bool, assignee);
    QFETCH(bool, cursor);
    const bool postgres = QByteArray(QTest::currentDataTag()).startsWith("postgres");
    standardSetup();
    QList<Id> projects {m_project.id};
    for (int i = 1; i < 8; ++i)
        projects << addProject(m_alice, QStringLiteral("P%1").arg(i)).id;
    for (int i = 1; i < 8; ++i)
        QCOMPARE(projects[i], projects[0] + i); // consecutive: the bulk insert spreads over them
    constexpr int kRows = 6000;
    auto filled = onDb([&](QSqlDatabase &db) -> MaybeError {
        auto q = sql::run(db, "test.bulk",
                          QStringLiteral("WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < "
                                         "CAST(? AS BIGINT)) "
                                         "INSERT INTO tasks (project_id, title, status, priority, assignee_id, "
                                         "created_by, created_at, updated_at) "
                                         "SELECT CAST(? AS BIGINT) + (g % 8), 'bulk', (g / 8) % 4, (g / 8) % 4, "
                                         "CASE WHEN g % 5 = 0 THEN CAST(? AS BIGINT) ELSE NULL END, "
                                         "CAST(? AS BIGINT), g, g FROM s"),
                          {kRows, projects[0], m_bob.id, m_alice.id});
        if (!q)
            return q.error();
        auto analyzed = sql::run(db, "test.analyze", QStringLiteral("ANALYZE"));
        if (!analyzed)
            return analyzed.error();
        return std::nullopt;
    });
    QVERIFY2(!filled, filled ? qPrintable(filled->message) : "");

    store::TaskListFilter filter;
    filter.limit = 50;
    if (status >= 0)
        filter.status = static_cast<TaskStatus>(status);
    if (assignee)
        filter.assigneeId = m_bob.id;
    if (cursor)
        filter.cursor = store::TaskCursor {kRows / 2, kRows / 2};
    const store::SqlStatement s = store::taskListStatement(m_project.id, filter);

    // The statement does what listTasks answers.
    auto page = onDb([&](QSqlDatabase &db) { return store::listTasks(db, m_project.id, m_alice.id, filter); });
    QVERIFY(page);
    QCOMPARE(page->items.size(), 50);
    QVERIFY(page->nextCursor);

    if (!postgres) {
        auto plan = onDb([&](QSqlDatabase &db) {
            QStringList details;
            auto q = sql::run(db, "test.explain", QStringLiteral("EXPLAIN QUERY PLAN ") + s.text, s.binds);
            if (!q)
                return QStringList {QStringLiteral("error")};
            while (q->next())
                details << q->value(3).toString();
            return details;
        });
        const QString text = plan.join(QLatin1String(" | "));
        qInfo("%s", qPrintable(text));
        QVERIFY2(text.contains(QLatin1String("USING INDEX tasks_by_")), qPrintable(text));
        QVERIFY2(!text.contains(QLatin1String("TEMP B-TREE")), qPrintable(text)); // no sort: index order
        return;
    }

    QStringList args;
    for (const QVariant &v : s.binds)
        args << QString::number(v.toLongLong());
    const QList<QStringList> statements {
        {QStringLiteral("EXPLAIN (FORMAT JSON) ") + inlined(s, false)},
        {QStringLiteral("SET plan_cache_mode = force_generic_plan"),
         QStringLiteral("PREPARE tm_list AS ") + inlined(s, true),
         QStringLiteral("EXPLAIN (FORMAT JSON) EXECUTE tm_list(") + args.join(QLatin1String(", ")) + QLatin1Char(')')},
    };
    for (const QStringList &batch : statements) {
        auto json = onDb([&](QSqlDatabase &db) -> QByteArray {
            QByteArray out;
            for (const QString &text : batch) {
                auto q = sql::run(db, "test.explain", text);
                if (!q)
                    return QByteArray("error: ") + q.error().message.toUtf8();
                if (q->next())
                    out = q->value(0).toString().toUtf8();
            }
            (void)sql::run(db, "test.deallocate", QStringLiteral("DEALLOCATE ALL"));
            (void)sql::run(db, "test.reset", QStringLiteral("RESET plan_cache_mode"));
            return out;
        });
        const QJsonDocument doc = QJsonDocument::fromJson(json);
        QVERIFY2(doc.isArray(), json.constData());
        QList<QJsonObject> nodes;
        collectNodes(doc.array().at(0).toObject().value(QLatin1String("Plan")).toObject(), nodes);
        const QString where = batch.size() > 1 ? QStringLiteral("generic plan: ") : QStringLiteral("custom plan: ");
        const QString text = where + describe(nodes);
        bool usesIndex = false;
        for (const QJsonObject &n : nodes) {
            const QString type = n.value(QLatin1String("Node Type")).toString();
            QVERIFY2(!(type == QLatin1String("Seq Scan")
                       && n.value(QLatin1String("Relation Name")).toString() == QLatin1String("tasks")),
                     qPrintable(text));
            // A Sort may sit above a Bitmap Index Scan when the planner expects few rows (status and
            // cursor together): a top-N sort of those rows, still found through the index.
            if ((type == QLatin1String("Index Scan") || type == QLatin1String("Index Only Scan")
                 || type == QLatin1String("Bitmap Index Scan"))
                && n.value(QLatin1String("Index Name")).toString().startsWith(QLatin1String("tasks_by_")))
                usesIndex = true;
        }
        QVERIFY2(usesIndex, qPrintable(text));
        qInfo("%s", qPrintable(text));
    }
}

QTEST_GUILESS_MAIN(TestTaskStore)
#include "tst_task_store.moc"
