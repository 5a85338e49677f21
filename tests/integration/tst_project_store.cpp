// ProjectStore on both back ends: the creator is the owner and first member, a project exists
// only for its members while it is not deleted (NotFound everywhere else), versions and 412,
// who may delete and remove members, membership events take the channel's seqs 1, 2, 3... with
// the channel_events rows to match, and text is stored verbatim.
#include "server/storage/event_store.h"
#include "server/storage/project_store.h"
#include "server/storage/sql.h"
#include "server/storage/user_store.h"
#include "tests/support/store_fixture.h"

#include <QTest>

using namespace taskmaster;
using namespace taskmaster::server;
using taskmaster::test::backendRows;

namespace {
constexpr Id kGhostUser = 999999;
constexpr Id kGhostProject = 888888;
} // namespace

class TestProjectStore final : public test::StoreFixture {
    Q_OBJECT
private Q_SLOTS:
    void createAndRead_data() { backendRows(); }
    void createAndRead();
    void visibility_data();
    void visibility();
    void versions_data() { backendRows(); }
    void versions();
    void membershipRules_data();
    void membershipRules();
    void memberEvents_data() { backendRows(); }
    void memberEvents();
    void softDelete_data() { backendRows(); }
    void softDelete();
    void verbatim_data() { backendRows(); }
    void verbatim();
};

static QString ev(Seq seq, EventType type, Id entity)
{
    return QStringLiteral("%1:%2:%3").arg(seq).arg(store::eventTypeCode(type)).arg(entity);
}

void TestProjectStore::createAndRead()
{
    const User alice = addUser(QStringLiteral("alice"));
    const User bob = addUser(QStringLiteral("bob"));
    auto created = onDb([&](QSqlDatabase &db) {
        return store::createProject(db, alice.id, QStringLiteral("Apollo"), QStringLiteral("to the moon"), 5000);
    });
    QVERIFY(created);
    QVERIFY(created->id > 0);
    QCOMPARE(created->name, QStringLiteral("Apollo"));
    QCOMPARE(created->description, QStringLiteral("to the moon"));
    QCOMPARE(created->ownerId, alice.id);
    QCOMPARE(created->createdAt, store::fromMs(5000));
    QCOMPARE(created->updatedAt, store::fromMs(5000));
    QCOMPARE(created->version, 1);
    const Project p = *created;

    auto mine = onDb([&](QSqlDatabase &db) { return store::projectForMember(db, p.id, alice.id); });
    QVERIFY(mine && mine->has_value());
    QCOMPARE(**mine, p);
    auto theirs = onDb([&](QSqlDatabase &db) { return store::projectForMember(db, p.id, bob.id); });
    QVERIFY(theirs && !theirs->has_value());

    const Project second = addProject(bob, QStringLiteral("Gemini"));
    auto aliceList = onDb([&](QSqlDatabase &db) { return store::projectsForUser(db, alice.id); });
    QVERIFY(aliceList);
    QCOMPARE(*aliceList, QList<Project> {p});
    addMember(second, bob, alice);
    aliceList = onDb([&](QSqlDatabase &db) { return store::projectsForUser(db, alice.id); });
    QCOMPARE(*aliceList, (QList<Project> {p, second}));
    auto bobList = onDb([&](QSqlDatabase &db) { return store::projectsForUser(db, bob.id); });
    QCOMPARE(*bobList, QList<Project> {second});

    QCOMPARE(*onDb([&](QSqlDatabase &db) { return store::isProjectMember(db, p.id, alice.id); }), true);
    QCOMPARE(*onDb([&](QSqlDatabase &db) { return store::isProjectMember(db, p.id, bob.id); }), false);
    QCOMPARE(*onDb([&](QSqlDatabase &db) { return store::isProjectMember(db, kGhostProject, alice.id); }), false);
    QCOMPARE(*onDb([&](QSqlDatabase &db) { return store::projectMemberIds(db, p.id); }), QList<Id> {alice.id});
    QCOMPARE(*onDb([&](QSqlDatabase &db) { return store::projectMemberIds(db, second.id); }),
             (QList<Id> {alice.id, bob.id}));
    QCOMPARE(*onDb([&](QSqlDatabase &db) { return store::projectMemberIds(db, kGhostProject); }), QList<Id> {});
    // Creating a project appends no event: its channel starts at 0.
    QCOMPARE(channelEvents(p.id), QStringList {});

    auto bad = onDb([&](QSqlDatabase &db) { return store::createProject(db, alice.id, QString(), QString(), tick()); });
    QVERIFY(!bad);
    QCOMPARE(bad.error().code, ErrorCode::ValidationFailed);
    QCOMPARE(bad.error().field, QStringLiteral("name"));
}

void TestProjectStore::visibility_data()
{
    QTest::addColumn<QString>("op");
    QTest::addColumn<QString>("situation");
    for (const char *b : {"sqlite", "postgres"}) {
        for (const char *op : {"get", "update", "delete", "addMember", "removeMember", "list", "isMember"}) {
            for (const char *situation : {"non-member", "deleted", "missing"})
                QTest::addRow("%s %s %s", b, op, situation)
                    << QString::fromLatin1(op) << QString::fromLatin1(situation);
        }
    }
}

// A caller who is not a member, a deleted project and a project that never existed all look the
// same: NotFound (or nothing).
void TestProjectStore::visibility()
{
    QFETCH(QString, op);
    QFETCH(QString, situation);
    const User alice = addUser(QStringLiteral("alice"));
    const User bob = addUser(QStringLiteral("bob"));
    const User carol = addUser(QStringLiteral("carol"));
    const Project p = addProject(alice, QStringLiteral("Apollo"));
    addMember(p, alice, bob);

    Id projectId = p.id;
    User caller = alice;
    if (situation == QLatin1String("non-member")) {
        caller = carol;
    } else if (situation == QLatin1String("deleted")) {
        QVERIFY(onDb([&](QSqlDatabase &db) { return store::deleteProject(db, p.id, alice.id, tick()); }));
    } else {
        projectId = kGhostProject;
    }
    const QStringList eventsBefore = channelEvents(p.id);
    const qint64 now = tick();

    std::optional<Error> error;
    if (op == QLatin1String("get")) {
        auto r = onDb([&](QSqlDatabase &db) { return store::projectForMember(db, projectId, caller.id); });
        QVERIFY(r);
        QVERIFY(!r->has_value());
    } else if (op == QLatin1String("update")) {
        auto r = onDb([&](QSqlDatabase &db) {
            return store::updateProject(db, projectId, caller.id, QStringLiteral("x"), std::nullopt, std::nullopt, now);
        });
        QVERIFY(!r);
        error = r.error();
    } else if (op == QLatin1String("delete")) {
        auto r = onDb([&](QSqlDatabase &db) { return store::deleteProject(db, projectId, caller.id, now); });
        QVERIFY(!r);
        error = r.error();
    } else if (op == QLatin1String("addMember")) {
        const User dave = addUser(QStringLiteral("dave"));
        auto r
            = onDb([&](QSqlDatabase &db) { return store::addProjectMember(db, projectId, caller.id, dave.id, now); });
        QVERIFY(!r);
        error = r.error();
    } else if (op == QLatin1String("removeMember")) {
        auto r
            = onDb([&](QSqlDatabase &db) { return store::removeProjectMember(db, projectId, caller.id, bob.id, now); });
        QVERIFY(!r);
        error = r.error();
    } else if (op == QLatin1String("list")) {
        auto r = onDb([&](QSqlDatabase &db) { return store::projectsForUser(db, caller.id); });
        QVERIFY(r);
        for (const Project &each : *r)
            QVERIFY(each.id != projectId);
    } else if (op == QLatin1String("isMember")) {
        auto r = onDb([&](QSqlDatabase &db) { return store::isProjectMember(db, projectId, caller.id); });
        QVERIFY(r);
        QCOMPARE(*r, false);
    }
    if (error) {
        QCOMPARE(error->code, ErrorCode::NotFound);
        QCOMPARE(error->field, QString()); // the project itself, never the user, is "not found"
    }
    // Nothing was written.
    QCOMPARE(channelEvents(p.id), eventsBefore);
    if (situation != QLatin1String("deleted")) {
        auto still = onDb([&](QSqlDatabase &db) { return store::projectForMember(db, p.id, alice.id); });
        QVERIFY(still && still->has_value());
        QCOMPARE(**still, p);
        QCOMPARE(*onDb([&](QSqlDatabase &db) { return store::projectMemberIds(db, p.id); }),
                 (QList<Id> {alice.id, bob.id}));
    }
}

void TestProjectStore::versions()
{
    const User alice = addUser(QStringLiteral("alice"));
    const User bob = addUser(QStringLiteral("bob"));
    const Project p = addProject(alice, QStringLiteral("Apollo"));
    addMember(p, alice, bob);

    auto update = [&](Id caller, std::optional<QString> name, std::optional<QString> description,
                      std::optional<qint64> expected, qint64 now) {
        return onDb(
            [&](QSqlDatabase &db) { return store::updateProject(db, p.id, caller, name, description, expected, now); });
    };

    // Any member may update; the expected version matches.
    auto v2 = update(bob.id, QStringLiteral("Apollo 11"), std::nullopt, 1, 7000);
    QVERIFY(v2);
    QCOMPARE(v2->version, 2);
    QCOMPARE(v2->name, QStringLiteral("Apollo 11"));
    QCOMPARE(v2->description, QString());
    QCOMPARE(v2->createdAt, p.createdAt);
    QCOMPARE(v2->updatedAt, store::fromMs(7000));

    // A stale version: 412, nothing changes.
    auto stale = update(alice.id, QStringLiteral("Apollo 12"), std::nullopt, 1, 7100);
    QVERIFY(!stale);
    QCOMPARE(stale.error().code, ErrorCode::PreconditionFailed);
    auto now = onDb([&](QSqlDatabase &db) { return store::projectForMember(db, p.id, alice.id); });
    QCOMPARE(**now, *v2);

    // No expected version: applies.
    auto v3 = update(alice.id, std::nullopt, QStringLiteral("landing"), std::nullopt, 7200);
    QVERIFY(v3);
    QCOMPARE(v3->version, 3);
    QCOMPARE(v3->name, QStringLiteral("Apollo 11"));
    QCOMPARE(v3->description, QStringLiteral("landing"));

    // Nothing to change (no field, or the current values): same version, same updated_at.
    auto same = update(alice.id, std::nullopt, std::nullopt, 3, 7300);
    QVERIFY(same);
    QCOMPARE(*same, *v3);
    auto sameValues = update(alice.id, QStringLiteral("Apollo 11"), QStringLiteral("landing"), std::nullopt, 7400);
    QVERIFY(sameValues);
    QCOMPARE(*sameValues, *v3);
    // ...but a stale version is still a 412.
    auto staleNoop = update(alice.id, std::nullopt, std::nullopt, 2, 7500);
    QVERIFY(!staleNoop);
    QCOMPARE(staleNoop.error().code, ErrorCode::PreconditionFailed);

    // Field rules, before anything else.
    auto badName = update(alice.id, QString(201, QLatin1Char('x')), std::nullopt, std::nullopt, 7600);
    QVERIFY(!badName);
    QCOMPARE(badName.error().code, ErrorCode::ValidationFailed);
    QCOMPARE(badName.error().field, QStringLiteral("name"));

    // Updating a project appends no event.
    QCOMPARE(channelEvents(p.id), QStringList {ev(1, EventType::MemberJoined, bob.id)});
}

void TestProjectStore::membershipRules_data()
{
    // action: remove / delete / add; caller and target: alice (owner), bob, carol (members),
    // dave (a user, not a member), ghost (no such user). expected: the error code, or -1 for success.
    QTest::addColumn<QString>("action");
    QTest::addColumn<QString>("caller");
    QTest::addColumn<QString>("target");
    QTest::addColumn<int>("expected");
    QTest::addColumn<QString>("field");
    const int ok = -1;
    const int forbidden = int(ErrorCode::Forbidden);
    const int notFound = int(ErrorCode::NotFound);
    const int conflict = int(ErrorCode::Conflict);
    const int invalid = int(ErrorCode::ValidationFailed);
    struct Row {
        const char *name, *action, *caller, *target;
        int expected;
        const char *field;
    };
    const Row rows[] = {
        {"owner removes a member", "remove", "alice", "bob", ok, ""},
        {"member leaves", "remove", "bob", "bob", ok, ""},
        {"member removes another member", "remove", "bob", "carol", forbidden, ""},
        {"member removes the owner", "remove", "bob", "alice", forbidden, ""},
        {"owner leaves", "remove", "alice", "alice", forbidden, ""},
        {"owner removes a non-member", "remove", "alice", "dave", notFound, "userId"},
        {"owner removes an unknown user", "remove", "alice", "ghost", notFound, "userId"},
        {"owner deletes", "delete", "alice", "", ok, ""},
        {"member deletes", "delete", "bob", "", forbidden, ""},
        {"owner adds a user", "add", "alice", "dave", ok, ""},
        {"member adds a user", "add", "bob", "dave", ok, ""},
        {"owner adds a member again", "add", "alice", "carol", conflict, "userId"},
        {"owner adds themselves", "add", "alice", "alice", conflict, "userId"},
        {"owner adds an unknown user", "add", "alice", "ghost", invalid, "userId"},
    };
    for (const char *b : {"sqlite", "postgres"}) {
        for (const Row &r : rows) {
            QTest::addRow("%s %s", b, r.name)
                << QString::fromLatin1(r.action) << QString::fromLatin1(r.caller) << QString::fromLatin1(r.target)
                << r.expected << QString::fromLatin1(r.field);
        }
    }
}

void TestProjectStore::membershipRules()
{
    QFETCH(QString, action);
    QFETCH(QString, caller);
    QFETCH(QString, target);
    QFETCH(int, expected);
    QFETCH(QString, field);
    QHash<QString, Id> ids;
    for (const char *n : {"alice", "bob", "carol", "dave"})
        ids.insert(QString::fromLatin1(n), addUser(QString::fromLatin1(n)).id);
    ids.insert(QStringLiteral("ghost"), kGhostUser);
    const User alice {ids.value(QStringLiteral("alice")), {}, {}, Role::Member, {}};
    const Project p = addProject(alice, QStringLiteral("Apollo"));
    addMember(p, alice, User {ids.value(QStringLiteral("bob")), {}, {}, Role::Member, {}});
    addMember(p, alice, User {ids.value(QStringLiteral("carol")), {}, {}, Role::Member, {}});
    const QStringList eventsBefore = channelEvents(p.id);
    const QList<Id> membersBefore = *onDb([&](QSqlDatabase &db) { return store::projectMemberIds(db, p.id); });

    const Id callerId = ids.value(caller);
    const Id targetId = ids.value(target);
    const qint64 now = tick();
    std::optional<Error> error;
    std::optional<store::MemberChange> change;
    if (action == QLatin1String("remove")) {
        auto r = onDb([&](QSqlDatabase &db) { return store::removeProjectMember(db, p.id, callerId, targetId, now); });
        if (r)
            change = *r;
        else
            error = r.error();
    } else if (action == QLatin1String("add")) {
        auto r = onDb([&](QSqlDatabase &db) { return store::addProjectMember(db, p.id, callerId, targetId, now); });
        if (r)
            change = *r;
        else
            error = r.error();
    } else {
        auto r = onDb([&](QSqlDatabase &db) { return store::deleteProject(db, p.id, callerId, now); });
        if (!r) {
            error = r.error();
        } else {
            QCOMPARE(r->memberIds, membersBefore);
            QCOMPARE(r->project.version, p.version + 1);
        }
    }

    if (expected != -1) {
        QVERIFY2(error, "expected an error");
        QCOMPARE(int(error->code), expected);
        QCOMPARE(error->field, field);
        QCOMPARE(channelEvents(p.id), eventsBefore); // no seq consumed
        QCOMPARE(*onDb([&](QSqlDatabase &db) { return store::projectMemberIds(db, p.id); }), membersBefore);
        return;
    }
    QVERIFY2(!error, error ? qPrintable(error->message) : "");
    if (action == QLatin1String("delete"))
        return;
    QVERIFY(change);
    QCOMPARE(change->projectId, p.id);
    QCOMPARE(change->userId, targetId);
    QCOMPARE(change->seq, Seq(eventsBefore.size() + 1));
    const EventType type = action == QLatin1String("add") ? EventType::MemberJoined : EventType::MemberLeft;
    QCOMPARE(channelEvents(p.id), eventsBefore + QStringList {ev(change->seq, type, targetId)});
    const bool memberNow = *onDb([&](QSqlDatabase &db) { return store::isProjectMember(db, p.id, targetId); });
    QCOMPARE(memberNow, action == QLatin1String("add"));
}

void TestProjectStore::memberEvents()
{
    const User alice = addUser(QStringLiteral("alice"));
    const User bob = addUser(QStringLiteral("bob"));
    const User carol = addUser(QStringLiteral("carol"));
    const Project p = addProject(alice, QStringLiteral("Apollo"));
    const Project other = addProject(bob, QStringLiteral("Gemini"));

    auto add = [&](const Project &in, const User &by, const User &who) {
        return onDb([&](QSqlDatabase &db) { return store::addProjectMember(db, in.id, by.id, who.id, tick()); });
    };
    auto remove = [&](const Project &in, const User &by, const User &who) {
        return onDb([&](QSqlDatabase &db) { return store::removeProjectMember(db, in.id, by.id, who.id, tick()); });
    };
    QCOMPARE(add(p, alice, bob)->seq, 1);
    QCOMPARE(add(p, bob, carol)->seq, 2);
    QVERIFY(!add(p, alice, carol)); // Conflict: takes no seq
    QCOMPARE(add(other, bob, alice)->seq, 1); // each channel counts on its own
    QCOMPARE(remove(p, alice, bob)->seq, 3);
    QVERIFY(!remove(p, carol, alice)); // Forbidden: takes no seq
    QCOMPARE(remove(p, carol, carol)->seq, 4);
    QCOMPARE(add(p, alice, bob)->seq, 5); // back again

    QCOMPARE(channelEvents(p.id),
             (QStringList {ev(1, EventType::MemberJoined, bob.id), ev(2, EventType::MemberJoined, carol.id),
                           ev(3, EventType::MemberLeft, bob.id), ev(4, EventType::MemberLeft, carol.id),
                           ev(5, EventType::MemberJoined, bob.id)}));
    QCOMPARE(channelEvents(other.id), QStringList {ev(1, EventType::MemberJoined, alice.id)});
    QCOMPARE(*onDb([&](QSqlDatabase &db) { return store::projectMemberIds(db, p.id); }),
             (QList<Id> {alice.id, bob.id}));
    // The channel's last_seq follows its events.
    auto lastSeq = onDb([&](QSqlDatabase &db) {
        auto q = sql::run(db, "test.last_seq", QStringLiteral("SELECT last_seq FROM projects WHERE id = ?"), {p.id});
        return q && q->next() ? q->value(0).toLongLong() : -1;
    });
    QCOMPARE(lastSeq, 5);
}

void TestProjectStore::softDelete()
{
    const User alice = addUser(QStringLiteral("alice"));
    const User bob = addUser(QStringLiteral("bob"));
    const Project p = addProject(alice, QStringLiteral("Apollo"));
    const Project kept = addProject(alice, QStringLiteral("Gemini"));
    addMember(p, alice, bob);
    addMember(kept, alice, bob);

    auto deleted = onDb([&](QSqlDatabase &db) { return store::deleteProject(db, p.id, alice.id, 9000); });
    QVERIFY(deleted);
    QCOMPARE(deleted->memberIds, (QList<Id> {alice.id, bob.id}));
    QCOMPARE(deleted->project.id, p.id);
    QCOMPARE(deleted->project.version, 2);
    QCOMPARE(deleted->project.updatedAt, store::fromMs(9000));

    for (const User &u : {alice, bob}) {
        auto list = onDb([&](QSqlDatabase &db) { return store::projectsForUser(db, u.id); });
        QCOMPARE(*list, QList<Project> {kept});
        auto one = onDb([&](QSqlDatabase &db) { return store::projectForMember(db, p.id, u.id); });
        QVERIFY(one && !one->has_value());
        QCOMPARE(*onDb([&](QSqlDatabase &db) { return store::isProjectMember(db, p.id, u.id); }), false);
    }
    QCOMPARE(*onDb([&](QSqlDatabase &db) { return store::projectMemberIds(db, p.id); }), QList<Id> {});
    auto again = onDb([&](QSqlDatabase &db) { return store::deleteProject(db, p.id, alice.id, 9100); });
    QVERIFY(!again);
    QCOMPARE(again.error().code, ErrorCode::NotFound);
    // The row is still there (soft delete), flagged.
    auto flag = onDb([&](QSqlDatabase &db) {
        auto q = sql::run(db, "test.deleted", QStringLiteral("SELECT deleted FROM projects WHERE id = ?"), {p.id});
        return q && q->next() ? q->value(0).toBool() : false;
    });
    QVERIFY(flag);
    QCOMPARE(*onDb([&](QSqlDatabase &db) { return store::projectMemberIds(db, kept.id); }),
             (QList<Id> {alice.id, bob.id}));
}

void TestProjectStore::verbatim()
{
    const User alice = addUser(QStringLiteral("alice"));
    const QString name = QStringLiteral("'; DROP TABLE projects; -- %_\\ \U0001F680");
    const QString description = QStringLiteral("line1\nline2\t\"quoted\" ? $1 :name \u00e9\u4e2d");
    auto created
        = onDb([&](QSqlDatabase &db) { return store::createProject(db, alice.id, name, description, tick()); });
    QVERIFY(created);
    QCOMPARE(created->name, name);
    QCOMPARE(created->description, description);
    auto read = onDb([&](QSqlDatabase &db) { return store::projectForMember(db, created->id, alice.id); });
    QCOMPARE((*read)->name, name);
    QCOMPARE((*read)->description, description);
    const QString renamed = name + QStringLiteral(" ?");
    auto updated = onDb([&](QSqlDatabase &db) {
        return store::updateProject(db, created->id, alice.id, renamed, std::nullopt, std::nullopt, tick());
    });
    QVERIFY(updated);
    QCOMPARE(updated->name, renamed);
    QCOMPARE((*onDb([&](QSqlDatabase &db) { return store::projectsForUser(db, alice.id); }))[0].name, renamed);
}

QTEST_GUILESS_MAIN(TestProjectStore)
#include "tst_project_store.moc"
