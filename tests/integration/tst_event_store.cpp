// EventStore's reads for the real-time hub, on both back ends: eventsAfter() replays a room or
// project channel in seq order with each entity's current state (an edited message shows its
// new body in its created event too, a deleted one its tombstone, tasks their last state),
// honours after and limit, answers an empty list for an unknown channel, costs the same number
// of statements for 5 and 500 events and reads by the primary key (EXPLAIN); channelsForUser(),
// isChannelMember() and channelSeq() follow joins, leaves and deleted projects.
#include "server/storage/db_pool.h"
#include "server/storage/event_store.h"
#include "server/storage/project_store.h"
#include "server/storage/room_store.h"
#include "server/storage/sql.h"
#include "server/storage/task_store.h"
#include "server/storage/user_store.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using taskmaster::test::backendRows;
using namespace taskmaster;
using namespace taskmaster::server;

namespace {
constexpr Id kGhost = 888888;

// The value of a store call that must succeed for the test to mean anything.
template<typename T> T must(Result<T> r, const char *what)
{
    if (!r)
        qFatal("%s failed: %s", what, qPrintable(r.error().message));
    return std::move(r).value();
}

// "seq:type" of each event, e.g. "3:message".
QStringList outline(const QList<ChannelEvent> &events)
{
    QStringList out;
    for (const ChannelEvent &e : events)
        out << QStringLiteral("%1:%2").arg(e.seq).arg(toWire(e.type));
    return out;
}

QStringList latin(std::initializer_list<const char *> items)
{
    QStringList out;
    for (const char *item : items)
        out << QString::fromLatin1(item);
    return out;
}

// Exactly the payload the type calls for.
bool payloadMatchesType(const ChannelEvent &e)
{
    switch (e.type) {
    case EventType::MessageCreated:
    case EventType::MessageUpdated:
        return e.message && !e.task && !e.userId;
    case EventType::TaskCreated:
    case EventType::TaskUpdated:
    case EventType::TaskDeleted:
        return !e.message && e.task && !e.userId;
    case EventType::MemberJoined:
    case EventType::MemberLeft:
        return !e.message && !e.task && e.userId;
    }
    return false;
}

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

// The statement with its binds (all integers) written into the text, or as $n parameters.
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

class TestEventStore final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup() { m_pool.reset(); }
    void roomReplay_data() { backendRows(); }
    void roomReplay();
    void window_data();
    void window();
    void badLimit_data() { backendRows(); }
    void badLimit();
    void unknownChannel_data() { backendRows(); }
    void unknownChannel();
    void projectReplay_data() { backendRows(); }
    void projectReplay();
    void missingEntity_data();
    void missingEntity();
    void channelsForUser_data() { backendRows(); }
    void channelsForUser();
    void isChannelMember_data();
    void isChannelMember();
    void channelSeq_data();
    void channelSeq();
    void queryCount_data();
    void queryCount();
    void replayUsesIndex_data();
    void replayUsesIndex();

private:
    template<typename F> auto onDb(F &&f) { return m_pool->run(std::forward<F>(f)).result(); }
    qint64 tick() { return ++m_now; }
    User addUser(const QString &name);
    Id addRoom(const User &by, const QList<Id> &members);
    Message send(Id room, const User &author, const QString &body);
    Project addProject(const User &owner);
    Task addTask(const Project &p, const User &by, const QString &title);
    Result<QList<ChannelEvent>> replay(const Channel &c, Seq after, int limit);

    // The room of roomReplay: alice creates it with bob (seqs 1, 2), three messages (3, 4, 5),
    // alice edits m1 (6), bob deletes m2 (7), carol joins (8), bob leaves (9).
    struct RoomStory {
        User alice, bob, carol;
        Id room = 0;
        Message m1, m2, m3; // their final states
    };
    RoomStory roomStory();

    QTemporaryDir m_dir;
    QString m_pgUrl;
    std::unique_ptr<DbPool> m_pool;
    qint64 m_now = 1000;
};

void TestEventStore::initTestCase()
{
    TM_REQUIRE_SERVICE(url, "TM_TEST_DATABASE_URL");
    m_pgUrl = url;
}

void TestEventStore::init()
{
    const QString backend = QTest::currentDataTag() && QByteArray(QTest::currentDataTag()).startsWith("postgres")
        ? QStringLiteral("postgres")
        : QStringLiteral("sqlite");
    m_pool = std::make_unique<DbPool>(test::freshDatabase(backend, m_dir, m_pgUrl));
    m_now = 1000;
}

User TestEventStore::addUser(const QString &name)
{
    return must(onDb([&](QSqlDatabase &db) {
                    return store::createUser(db, name, name.toUpper(), QStringLiteral("hash"), 1000);
                }),
                "createUser");
}

Id TestEventStore::addRoom(const User &by, const QList<Id> &members)
{
    const qint64 now = tick();
    return must(onDb([&](QSqlDatabase &db) {
                    return store::createRoom(db, by.id, QStringLiteral("room"), members, now);
                }),
                "createRoom")
        .room.id;
}

Message TestEventStore::send(Id room, const User &author, const QString &body)
{
    const qint64 now = tick();
    auto results = must(onDb([&](QSqlDatabase &db) {
                            return store::insertMessages(db, {store::NewMessage {room, author.id, body, {}}}, now);
                        }),
                        "insertMessages");
    return must(results.at(0), "insertMessages item").message;
}

Project TestEventStore::addProject(const User &owner)
{
    const qint64 now = tick();
    return must(onDb([&](QSqlDatabase &db) {
                    return store::createProject(db, owner.id, QStringLiteral("project"), QString(), now);
                }),
                "createProject");
}

Task TestEventStore::addTask(const Project &p, const User &by, const QString &title)
{
    const qint64 now = tick();
    store::NewTask t;
    t.title = title;
    return must(onDb([&](QSqlDatabase &db) { return store::createTask(db, p.id, by.id, t, now); }), "createTask").task;
}

Result<QList<ChannelEvent>> TestEventStore::replay(const Channel &c, Seq after, int limit)
{
    return onDb([&](QSqlDatabase &db) { return store::eventsAfter(db, c, after, limit); });
}

TestEventStore::RoomStory TestEventStore::roomStory()
{
    RoomStory s;
    s.alice = addUser(QStringLiteral("alice"));
    s.bob = addUser(QStringLiteral("bob"));
    s.carol = addUser(QStringLiteral("carol"));
    s.room = addRoom(s.alice, {s.bob.id});
    s.m1 = send(s.room, s.alice, QStringLiteral("first"));
    s.m2 = send(s.room, s.bob, QStringLiteral("second"));
    s.m3 = send(s.room, s.alice, QStringLiteral("third"));
    const qint64 t1 = tick();
    s.m1 = must(onDb([&](QSqlDatabase &db) {
                    return store::editMessage(db, s.m1.id, s.alice.id, QStringLiteral("first, edited"), t1);
                }),
                "editMessage")
               .message;
    const qint64 t2 = tick();
    s.m2
        = must(onDb([&](QSqlDatabase &db) { return store::deleteMessage(db, s.m2.id, s.bob.id, t2); }), "deleteMessage")
              .message;
    const qint64 t3 = tick();
    must(onDb([&](QSqlDatabase &db) { return store::addRoomMember(db, s.room, s.alice.id, s.carol.id, t3); }),
         "addRoomMember");
    const qint64 t4 = tick();
    must(onDb([&](QSqlDatabase &db) { return store::removeRoomMember(db, s.room, s.bob.id, s.bob.id, t4); }),
         "removeRoomMember");
    return s;
}

void TestEventStore::roomReplay()
{
    const RoomStory s = roomStory();
    const Channel channel = Channel::room(s.room);
    auto events = replay(channel, 0, 100);
    QVERIFY2(events, events ? "" : qPrintable(events.error().message));
    QCOMPARE(outline(*events),
             latin({"1:member_joined", "2:member_joined", "3:message", "4:message", "5:message", "6:message_updated",
                    "7:message_updated", "8:member_joined", "9:member_left"}));
    for (qsizetype i = 0; i < events->size(); ++i) {
        const ChannelEvent &e = events->at(i);
        QCOMPARE(e.seq, Seq(i + 1)); // contiguous from 1
        QCOMPARE(e.channel, channel);
        QVERIFY2(payloadMatchesType(e), qPrintable(outline({e}).join(QString())));
    }
    const QList<ChannelEvent> &ev = *events;
    QCOMPARE(*ev[0].userId, s.alice.id);
    QCOMPARE(*ev[1].userId, s.bob.id);
    // The edited message: its current state in both its created and its updated event.
    QCOMPARE(*ev[2].message, s.m1);
    QCOMPARE(ev[2].message->body, QStringLiteral("first, edited"));
    QVERIFY(ev[2].message->editedAt);
    QCOMPARE(ev[2].message->seq, 3); // a message's seq stays the seq of its created event
    QCOMPARE(*ev[5].message, s.m1);
    // The deleted message: its tombstone in both.
    QCOMPARE(*ev[3].message, s.m2);
    QVERIFY(ev[3].message->deleted);
    QCOMPARE(ev[3].message->body, QString());
    QCOMPARE(*ev[6].message, s.m2);
    // The untouched message as it was sent.
    QCOMPARE(*ev[4].message, s.m3);
    QCOMPARE(ev[4].message->body, QStringLiteral("third"));
    QVERIFY(!ev[4].message->deleted);
    QCOMPARE(*ev[7].userId, s.carol.id);
    QCOMPARE(*ev[8].userId, s.bob.id);

    // The replay ends where the channel's seq stands.
    auto seq = onDb([&](QSqlDatabase &db) { return store::channelSeq(db, channel); });
    QVERIFY(seq);
    QCOMPARE(*seq, ev.constLast().seq);
}

void TestEventStore::window_data()
{
    // On the 9 events of roomStory().
    QTest::addColumn<qint64>("after");
    QTest::addColumn<int>("limit");
    QTest::addColumn<QList<qint64>>("seqs");
    for (const char *b : {"sqlite", "postgres"}) {
        QTest::addRow("%s from 0", b) << qint64(0) << 100 << QList<qint64> {1, 2, 3, 4, 5, 6, 7, 8, 9};
        QTest::addRow("%s negative after", b) << qint64(-5) << 100 << QList<qint64> {1, 2, 3, 4, 5, 6, 7, 8, 9};
        QTest::addRow("%s middle", b) << qint64(4) << 100 << QList<qint64> {5, 6, 7, 8, 9};
        QTest::addRow("%s limit below the rest", b) << qint64(2) << 3 << QList<qint64> {3, 4, 5};
        QTest::addRow("%s limit 1", b) << qint64(0) << 1 << QList<qint64> {1};
        QTest::addRow("%s limit equals the rest", b) << qint64(6) << 3 << QList<qint64> {7, 8, 9};
        QTest::addRow("%s limit one above the rest", b) << qint64(5) << 5 << QList<qint64> {6, 7, 8, 9};
        QTest::addRow("%s one before last", b) << qint64(8) << 100 << QList<qint64> {9};
        QTest::addRow("%s at last", b) << qint64(9) << 100 << QList<qint64> {};
        QTest::addRow("%s past last", b) << qint64(50) << 100 << QList<qint64> {};
    }
}

void TestEventStore::window()
{
    QFETCH(qint64, after);
    QFETCH(int, limit);
    QFETCH(QList<qint64>, seqs);
    const RoomStory s = roomStory();
    auto events = replay(Channel::room(s.room), after, limit);
    QVERIFY2(events, events ? "" : qPrintable(events.error().message));
    QList<qint64> got;
    for (const ChannelEvent &e : *events) {
        got << e.seq;
        QVERIFY(payloadMatchesType(e));
    }
    QCOMPARE(got, seqs);
    // A window holds the same events, payloads included, as the full replay.
    auto all = replay(Channel::room(s.room), 0, 100);
    QVERIFY(all);
    for (const ChannelEvent &e : *events)
        QCOMPARE(e, all->at(e.seq - 1));
}

void TestEventStore::badLimit()
{
    const RoomStory s = roomStory();
    for (const int limit : {0, -1}) {
        auto events = replay(Channel::room(s.room), 0, limit);
        QVERIFY(!events);
        QCOMPARE(events.error().code, ErrorCode::BadRequest);
        QCOMPARE(events.error().field, QStringLiteral("limit"));
    }
}

void TestEventStore::unknownChannel()
{
    const RoomStory s = roomStory(); // events exist, in other channels
    // project:<room id> names a project that does not exist although room:<id> does.
    for (const Channel &c : {Channel::room(kGhost), Channel::project(kGhost), Channel::project(s.room)}) {
        auto events = replay(c, 0, 100);
        QVERIFY2(events, events ? "" : qPrintable(events.error().message));
        QVERIFY2(events->isEmpty(), qPrintable(c.toString()));
    }
}

void TestEventStore::projectReplay()
{
    const User alice = addUser(QStringLiteral("alice"));
    const User bob = addUser(QStringLiteral("bob"));
    const Project p = addProject(alice);
    Task t1 = addTask(p, alice, QStringLiteral("one")); // seq 1
    const qint64 now2 = tick();
    store::TaskPatch rename;
    rename.title = QStringLiteral("one, renamed");
    must(onDb([&](QSqlDatabase &db) { return store::updateTask(db, t1.id, alice.id, rename, std::nullopt, now2); }),
         "updateTask"); // seq 2
    Task t2 = addTask(p, alice, QStringLiteral("two")); // seq 3
    const qint64 now4 = tick();
    t2 = must(onDb([&](QSqlDatabase &db) { return store::deleteTask(db, t2.id, alice.id, now4); }), "deleteTask")
             .task; // seq 4
    const qint64 now5 = tick();
    must(onDb([&](QSqlDatabase &db) { return store::addProjectMember(db, p.id, alice.id, bob.id, now5); }),
         "addProjectMember"); // seq 5
    const qint64 now6 = tick();
    store::TaskPatch done;
    done.status = TaskStatus::Done;
    t1 = must(onDb([&](QSqlDatabase &db) { return store::updateTask(db, t1.id, bob.id, done, std::nullopt, now6); }),
              "updateTask")
             .task; // seq 6, by bob while a member
    const qint64 now7 = tick();
    must(onDb([&](QSqlDatabase &db) { return store::removeProjectMember(db, p.id, bob.id, bob.id, now7); }),
         "removeProjectMember"); // seq 7

    const Channel channel = Channel::project(p.id);
    auto events = replay(channel, 0, 100);
    QVERIFY2(events, events ? "" : qPrintable(events.error().message));
    QCOMPARE(outline(*events),
             latin({"1:task_created", "2:task_updated", "3:task_created", "4:task_deleted", "5:member_joined",
                    "6:task_updated", "7:member_left"}));
    for (const ChannelEvent &e : *events) {
        QCOMPARE(e.channel, channel);
        QVERIFY(payloadMatchesType(e));
    }
    const QList<ChannelEvent> &ev = *events;
    // t1's current state (renamed, done, version 3) in each of its events.
    QCOMPARE(t1.title, QStringLiteral("one, renamed"));
    QCOMPARE(t1.status, TaskStatus::Done);
    QCOMPARE(t1.version, 3);
    for (const int i : {0, 1, 5})
        QCOMPARE(*ev[i].task, t1);
    // The deleted t2: its last state (deleteTask's answer) in its created and deleted events.
    QCOMPARE(t2.version, 2);
    QCOMPARE(*ev[2].task, t2);
    QCOMPARE(*ev[3].task, t2);
    QCOMPARE(*ev[4].userId, bob.id);
    QCOMPARE(*ev[6].userId, bob.id);

    auto tail = replay(channel, 4, 2);
    QVERIFY(tail);
    QCOMPARE(outline(*tail), latin({"5:member_joined", "6:task_updated"}));
    QCOMPARE(*tail->at(1).task, t1);
}

void TestEventStore::missingEntity_data()
{
    QTest::addColumn<QString>("table");
    for (const char *b : {"sqlite", "postgres"}) {
        QTest::addRow("%s message", b) << QStringLiteral("messages");
        QTest::addRow("%s task", b) << QStringLiteral("tasks");
    }
}

// The log never loses an entity (messages and tasks are only soft deleted); if a row were gone
// anyway, the replay fails instead of sending an event without its payload.
void TestEventStore::missingEntity()
{
    QFETCH(QString, table);
    const User alice = addUser(QStringLiteral("alice"));
    Channel channel;
    Id entity = 0;
    if (table == QLatin1String("messages")) {
        channel = Channel::room(addRoom(alice, {}));
        entity = send(channel.id, alice, QStringLiteral("gone")).id;
    } else {
        const Project p = addProject(alice);
        channel = Channel::project(p.id);
        entity = addTask(p, alice, QStringLiteral("gone")).id;
    }
    auto before = replay(channel, 0, 100);
    QVERIFY(before);
    QVERIFY(!before->isEmpty());
    auto removed = onDb([&](QSqlDatabase &db) {
        return sql::run(db, "test.delete", QStringLiteral("DELETE FROM %1 WHERE id = ?").arg(table), {entity});
    });
    QVERIFY(removed);
    auto events = replay(channel, 0, 100);
    QVERIFY(!events);
    QCOMPARE(events.error().code, ErrorCode::Internal);
}

void TestEventStore::channelsForUser()
{
    const User alice = addUser(QStringLiteral("alice"));
    const User bob = addUser(QStringLiteral("bob"));
    const User loner = addUser(QStringLiteral("loner"));
    const Id shared = addRoom(alice, {bob.id}); // seqs 1, 2
    send(shared, bob, QStringLiteral("hi")); // 3
    const Id solo = addRoom(alice, {}); // 1
    const Id left = addRoom(bob, {alice.id}); // 1, 2
    const qint64 now = tick();
    must(onDb([&](QSqlDatabase &db) { return store::removeRoomMember(db, left, alice.id, alice.id, now); }),
         "removeRoomMember"); // 3
    const Id bobsRoom = addRoom(bob, {}); // 1

    const Project own = addProject(alice); // 0
    addTask(own, alice, QStringLiteral("t")); // 1
    const Project joined = addProject(bob); // 0
    const qint64 now2 = tick();
    must(onDb([&](QSqlDatabase &db) { return store::addProjectMember(db, joined.id, bob.id, alice.id, now2); }),
         "addProjectMember"); // 1
    const Project deleted = addProject(alice);
    addTask(deleted, alice, QStringLiteral("t"));
    const qint64 now3 = tick();
    must(onDb([&](QSqlDatabase &db) { return store::deleteProject(db, deleted.id, alice.id, now3); }), "deleteProject");
    const Project bobsProject = addProject(bob); // 0

    auto mine = onDb([&](QSqlDatabase &db) { return store::channelsForUser(db, alice.id); });
    QVERIFY2(mine, mine ? "" : qPrintable(mine.error().message));
    const QMap<Channel, Seq> expectedAlice {
        {Channel::room(shared), 3},
        {Channel::room(solo), 1},
        {Channel::project(own.id), 1},
        {Channel::project(joined.id), 1},
    };
    QCOMPARE(*mine, expectedAlice);
    // Rooms and projects number their ids apart: the same id in both kinds is two channels.
    QCOMPARE(shared, own.id);

    auto bobs = onDb([&](QSqlDatabase &db) { return store::channelsForUser(db, bob.id); });
    QVERIFY(bobs);
    const QMap<Channel, Seq> expectedBob {
        {Channel::room(shared), 3},
        {Channel::room(left), 3},
        {Channel::room(bobsRoom), 1},
        {Channel::project(joined.id), 1},
        {Channel::project(bobsProject.id), 0},
    };
    QCOMPARE(*bobs, expectedBob);

    // Every listed seq is the channel's seq.
    for (auto it = bobs->cbegin(); it != bobs->cend(); ++it) {
        auto seq = onDb([&](QSqlDatabase &db) { return store::channelSeq(db, it.key()); });
        QVERIFY(seq);
        QCOMPARE(*seq, it.value());
    }

    for (const Id nobody : {loner.id, kGhost}) {
        auto none = onDb([&](QSqlDatabase &db) { return store::channelsForUser(db, nobody); });
        QVERIFY(none);
        QVERIFY(none->isEmpty());
    }
}

void TestEventStore::isChannelMember_data()
{
    QTest::addColumn<QString>("situation");
    QTest::addColumn<bool>("expected");
    const QList<std::pair<const char *, bool>> rows {
        {"room creator", true},  {"room member", true},      {"room non-member", false}, {"room left", false},
        {"room unknown", false}, {"project owner", true},    {"project member", true},   {"project non-member", false},
        {"project left", false}, {"project deleted", false}, {"project unknown", false}, {"unknown user", false},
    };
    for (const char *b : {"sqlite", "postgres"}) {
        for (const auto &[situation, expected] : rows)
            QTest::addRow("%s %s", b, situation) << QString::fromLatin1(situation) << expected;
    }
}

void TestEventStore::isChannelMember()
{
    QFETCH(QString, situation);
    QFETCH(bool, expected);
    const User alice = addUser(QStringLiteral("alice"));
    const User bob = addUser(QStringLiteral("bob"));
    const User carol = addUser(QStringLiteral("carol"));
    const User dave = addUser(QStringLiteral("dave"));
    // room: alice (creator), bob; carol joined and left; dave never.
    const Id room = addRoom(alice, {bob.id, carol.id});
    const qint64 now = tick();
    must(onDb([&](QSqlDatabase &db) { return store::removeRoomMember(db, room, carol.id, carol.id, now); }),
         "removeRoomMember");
    // project: the same cast; a second project, deleted, still lists alice and bob as members.
    const Project project = addProject(alice);
    const Project deleted = addProject(alice);
    for (const Project &p : {project, deleted}) {
        for (const User &u : {bob, carol}) {
            const qint64 t = tick();
            must(onDb([&](QSqlDatabase &db) { return store::addProjectMember(db, p.id, alice.id, u.id, t); }),
                 "addProjectMember");
        }
    }
    const qint64 now2 = tick();
    must(onDb([&](QSqlDatabase &db) { return store::removeProjectMember(db, project.id, carol.id, carol.id, now2); }),
         "removeProjectMember");
    const qint64 now3 = tick();
    must(onDb([&](QSqlDatabase &db) { return store::deleteProject(db, deleted.id, alice.id, now3); }), "deleteProject");

    const QHash<QString, std::pair<Channel, Id>> cases {
        {QStringLiteral("room creator"), {Channel::room(room), alice.id}},
        {QStringLiteral("room member"), {Channel::room(room), bob.id}},
        {QStringLiteral("room non-member"), {Channel::room(room), dave.id}},
        {QStringLiteral("room left"), {Channel::room(room), carol.id}},
        {QStringLiteral("room unknown"), {Channel::room(kGhost), alice.id}},
        {QStringLiteral("project owner"), {Channel::project(project.id), alice.id}},
        {QStringLiteral("project member"), {Channel::project(project.id), bob.id}},
        {QStringLiteral("project non-member"), {Channel::project(project.id), dave.id}},
        {QStringLiteral("project left"), {Channel::project(project.id), carol.id}},
        {QStringLiteral("project deleted"), {Channel::project(deleted.id), bob.id}},
        {QStringLiteral("project unknown"), {Channel::project(kGhost), alice.id}},
        {QStringLiteral("unknown user"), {Channel::room(room), kGhost}},
    };
    QVERIFY(cases.contains(situation));
    const Channel channel = cases.value(situation).first;
    const Id user = cases.value(situation).second;
    auto member = onDb([&](QSqlDatabase &db) { return store::isChannelMember(db, channel, user); });
    QVERIFY2(member, member ? "" : qPrintable(member.error().message));
    QCOMPARE(*member, expected);
}

void TestEventStore::channelSeq_data()
{
    QTest::addColumn<QString>("situation");
    QTest::addColumn<qint64>("expected"); // -1: NotFound
    const QList<std::pair<const char *, qint64>> rows {
        {"room", 4},          {"new project", 0},      {"project", 2}, {"deleted project", -1},
        {"unknown room", -1}, {"unknown project", -1},
    };
    for (const char *b : {"sqlite", "postgres"}) {
        for (const auto &[situation, expected] : rows)
            QTest::addRow("%s %s", b, situation) << QString::fromLatin1(situation) << expected;
    }
}

void TestEventStore::channelSeq()
{
    QFETCH(QString, situation);
    QFETCH(qint64, expected);
    const User alice = addUser(QStringLiteral("alice"));
    const User bob = addUser(QStringLiteral("bob"));
    const Id room = addRoom(alice, {bob.id}); // 1, 2
    send(room, alice, QStringLiteral("a")); // 3
    send(room, bob, QStringLiteral("b")); // 4
    const Project fresh = addProject(alice); // 0
    const Project project = addProject(alice);
    addTask(project, alice, QStringLiteral("t")); // 1
    addTask(project, alice, QStringLiteral("u")); // 2
    const Project deleted = addProject(alice);
    addTask(deleted, alice, QStringLiteral("t"));
    const qint64 now = tick();
    must(onDb([&](QSqlDatabase &db) { return store::deleteProject(db, deleted.id, alice.id, now); }), "deleteProject");

    const QHash<QString, Channel> cases {
        {QStringLiteral("room"), Channel::room(room)},
        {QStringLiteral("new project"), Channel::project(fresh.id)},
        {QStringLiteral("project"), Channel::project(project.id)},
        {QStringLiteral("deleted project"), Channel::project(deleted.id)},
        {QStringLiteral("unknown room"), Channel::room(kGhost)},
        {QStringLiteral("unknown project"), Channel::project(kGhost)},
    };
    QVERIFY(cases.contains(situation));
    auto seq = onDb([&](QSqlDatabase &db) { return store::channelSeq(db, cases.value(situation)); });
    if (expected < 0) {
        QVERIFY(!seq);
        QCOMPARE(seq.error().code, ErrorCode::NotFound);
        return;
    }
    QVERIFY2(seq, seq ? "" : qPrintable(seq.error().message));
    QCOMPARE(*seq, expected);
}

void TestEventStore::queryCount_data()
{
    QTest::addColumn<QString>("kind");
    for (const char *b : {"sqlite", "postgres"}) {
        QTest::addRow("%s room", b) << QStringLiteral("room");
        QTest::addRow("%s project", b) << QStringLiteral("project");
    }
}

// No N+1: the statements a replay costs do not grow with the number of events it returns, up to
// one past the protocol's replay limit of 1000.
void TestEventStore::queryCount()
{
    QFETCH(QString, kind);
    constexpr int kEvents = 1100;
    const User alice = addUser(QStringLiteral("alice"));
    const User bob = addUser(QStringLiteral("bob"));
    Channel channel;
    if (kind == QLatin1String("room")) {
        // Members, then messages, a few of them edited or deleted further on.
        channel = Channel::room(addRoom(alice, {bob.id}));
        QList<store::NewMessage> batch;
        for (int i = 0; i < kEvents; ++i)
            batch.append(store::NewMessage {channel.id, i % 2 ? bob.id : alice.id, QStringLiteral("m%1").arg(i), {}});
        const qint64 now = tick();
        const auto stored
            = must(onDb([&](QSqlDatabase &db) { return store::insertMessages(db, batch, now); }), "insertMessages");
        for (int i = 0; i < 4; i += 2) {
            const Message m = must(stored.at(i), "insertMessages item").message;
            const qint64 t = tick();
            must(onDb([&](QSqlDatabase &db) { return store::editMessage(db, m.id, alice.id, QStringLiteral("e"), t); }),
                 "editMessage");
        }
    } else {
        // A member joins, then tasks, all in one database job (one transaction each).
        const Project p = addProject(alice);
        channel = Channel::project(p.id);
        const qint64 start = tick();
        must(onDb([&](QSqlDatabase &db) -> Result<bool> {
                 if (auto m = store::addProjectMember(db, p.id, alice.id, bob.id, start); !m)
                     return m.error();
                 for (int i = 0; i < kEvents; ++i) {
                     store::NewTask t;
                     t.title = QStringLiteral("t%1").arg(i);
                     if (auto w = store::createTask(db, p.id, i % 2 ? bob.id : alice.id, t, start + i); !w)
                         return w.error();
                 }
                 return true;
             }),
             "createTask");
        m_now += kEvents;
    }

    // Statements and events of one replay from 0, counted inside the database job.
    auto cost = [&](int limit) {
        return onDb([&](QSqlDatabase &db) -> std::pair<qint64, qsizetype> {
            const qint64 before = sql::queriesOnThisThread();
            auto events = store::eventsAfter(db, channel, 0, limit);
            const qint64 used = sql::queriesOnThisThread() - before;
            return {used, events ? events->size() : -1};
        });
    };
    const auto [few, fewEvents] = cost(5);
    const auto [many, manyEvents] = cost(500);
    const auto [most, mostEvents] = cost(1001);
    QCOMPARE(fewEvents, 5);
    QCOMPARE(manyEvents, 500);
    QCOMPARE(mostEvents, 1001);
    QCOMPARE(many, few);
    QCOMPARE(most, few);
    QCOMPARE(few, 3); // the events, then their messages or their tasks, then their attachments
}

void TestEventStore::replayUsesIndex_data()
{
    QTest::addColumn<QString>("kind");
    for (const char *b : {"postgres", "sqlite"}) {
        QTest::addRow("%s room", b) << QStringLiteral("room");
        QTest::addRow("%s project", b) << QStringLiteral("project");
    }
}

// The replay reads by the primary key range of channel_events and by the primary keys of the
// entities, never by a scan of a whole table: checked on the planner's own plans with tens of
// thousands of rows over several channels and fresh statistics, for the literal values (custom
// plan) and on PostgreSQL also for the generic plan a prepared statement ends up with.
void TestEventStore::replayUsesIndex()
{
    QFETCH(QString, kind);
    const bool postgres = QByteArray(QTest::currentDataTag()).startsWith("postgres");
    const bool room = kind == QLatin1String("room");
    constexpr int kChannels = 4;
    constexpr int kPerChannel = 5000;
    const User alice = addUser(QStringLiteral("alice"));
    QList<Channel> channels;
    if (room) {
        QList<store::NewMessage> batch;
        for (int c = 0; c < kChannels; ++c)
            channels << Channel::room(addRoom(alice, {}));
        for (int i = 0; i < kPerChannel; ++i) {
            for (const Channel &c : channels)
                batch.append(store::NewMessage {c.id, alice.id, QStringLiteral("m%1").arg(i), {}});
        }
        const qint64 now = tick();
        must(onDb([&](QSqlDatabase &db) { return store::insertMessages(db, batch, now); }), "insertMessages");
    } else {
        for (int c = 0; c < kChannels; ++c)
            channels << Channel::project(addProject(alice).id);
        for (int c = 1; c < kChannels; ++c)
            QCOMPARE(channels[c].id, channels[0].id + c); // consecutive: the bulk insert spreads over them
        // Tasks and their task_created events in bulk, each project's seqs from 1 (the window
        // function numbers them), then the projects' seqs to match.
        auto filled = onDb([&](QSqlDatabase &db) -> MaybeError {
            const QList<std::pair<const char *, QString>> steps {
                {"test.bulk_tasks",
                 QStringLiteral("WITH RECURSIVE s(g) AS (SELECT 0 UNION ALL SELECT g + 1 FROM s WHERE g < %1) "
                                "INSERT INTO tasks (project_id, title, created_by, created_at, updated_at) "
                                "SELECT %2 + (g % %3), 'bulk', %4, g, g FROM s")
                     .arg(kChannels * kPerChannel - 1)
                     .arg(channels[0].id)
                     .arg(kChannels)
                     .arg(alice.id)},
                {"test.bulk_events",
                 QStringLiteral("INSERT INTO channel_events (channel_kind, channel_id, seq, type, entity_id, "
                                "created_at) SELECT %1, project_id, row_number() OVER (PARTITION BY project_id "
                                "ORDER BY id), %2, id, 0 FROM tasks")
                     .arg(store::channelKindCode(ChannelKind::Project))
                     .arg(store::eventTypeCode(EventType::TaskCreated))},
                {"test.bulk_seqs",
                 QStringLiteral("UPDATE projects SET last_seq = (SELECT count(*) FROM tasks WHERE project_id = "
                                "projects.id)")},
            };
            for (const auto &[what, text] : steps) {
                if (auto q = sql::run(db, what, text); !q)
                    return q.error();
            }
            return std::nullopt;
        });
        QVERIFY2(!filled, filled ? qPrintable(filled->message) : "");
    }
    auto analyzed = onDb([&](QSqlDatabase &db) { return sql::run(db, "test.analyze", QStringLiteral("ANALYZE")); });
    QVERIFY(analyzed);

    // A window in the middle of the second channel, as a resume would ask for it.
    const Channel channel = channels[1];
    constexpr Seq kAfter = 2000;
    constexpr int kLimit = 100;
    auto events = replay(channel, kAfter, kLimit);
    QVERIFY2(events, events ? "" : qPrintable(events.error().message));
    QCOMPARE(events->size(), kLimit);
    QCOMPARE(events->constFirst().seq, kAfter + 1);
    QCOMPARE(events->constLast().seq, kAfter + kLimit);
    for (const ChannelEvent &e : *events)
        QVERIFY(room ? e.message && e.message->roomId == channel.id : e.task && e.task->projectId == channel.id);

    const store::ReplayStatements all = store::replayStatements(
        postgres ? sql::Dialect::Postgres : sql::Dialect::Sqlite, channel, kAfter, kAfter + kLimit, kLimit);
    const QString entityTable = room ? QStringLiteral("messages") : QStringLiteral("tasks");
    const QList<std::pair<QString, store::SqlStatement>> statements {
        {QStringLiteral("events"), all.events},
        {QStringLiteral("payload"), room ? all.messages : all.tasks},
    };

    if (!postgres) {
        for (const auto &[name, statement] : statements) {
            const store::SqlStatement &s = statement;
            auto plan = onDb([&](QSqlDatabase &db) {
                QStringList details;
                auto q = sql::run(db, "test.explain", QStringLiteral("EXPLAIN QUERY PLAN ") + s.text, s.binds);
                if (!q)
                    return QStringList {QStringLiteral("error")};
                while (q->next())
                    details << q->value(3).toString();
                return details;
            });
            const QString text = name + QStringLiteral(": ") + plan.join(QLatin1String(" | "));
            qInfo("%s", qPrintable(text));
            // The events, directly or in the payload's subquery, by their key range.
            QVERIFY2(text.contains(QLatin1String("SEARCH channel_events USING PRIMARY KEY (channel_kind=? AND "
                                                 "channel_id=? AND seq>?")),
                     qPrintable(text));
            QVERIFY2(!text.contains(QLatin1String("SCAN ")), qPrintable(text));
            QVERIFY2(!text.contains(QLatin1String("TEMP B-TREE")), qPrintable(text)); // key order, no sort
            if (name == QLatin1String("payload"))
                QVERIFY2(text.contains(QLatin1String("USING INTEGER PRIMARY KEY (rowid=?)")), qPrintable(text));
        }
        return;
    }

    for (const auto &[name, statement] : statements) {
        const store::SqlStatement &s = statement;
        QStringList args;
        for (const QVariant &v : s.binds)
            args << QString::number(v.toLongLong());
        const QList<QStringList> batches {
            {QStringLiteral("EXPLAIN (FORMAT JSON) ") + inlined(s, false)},
            {QStringLiteral("SET plan_cache_mode = force_generic_plan"),
             QStringLiteral("PREPARE tm_replay AS ") + inlined(s, true),
             QStringLiteral("EXPLAIN (FORMAT JSON) EXECUTE tm_replay(") + args.join(QLatin1String(", "))
                 + QLatin1Char(')')},
        };
        for (const QStringList &batch : batches) {
            auto json = onDb([&](QSqlDatabase &db) -> QByteArray {
                QByteArray out;
                for (const QString &text : batch) {
                    auto q = sql::run(db, "test.explain", text);
                    if (!q)
                        return QByteArray("error: ") + q.error().message.toUtf8();
                    if (q->next())
                        out = q->value(0).toString().toUtf8();
                }
                if (batch.size() > 1) {
                    (void)sql::run(db, "test.deallocate", QStringLiteral("DEALLOCATE tm_replay"));
                    (void)sql::run(db, "test.reset", QStringLiteral("RESET plan_cache_mode"));
                }
                return out;
            });
            const QJsonDocument doc = QJsonDocument::fromJson(json);
            QVERIFY2(doc.isArray(), json.constData());
            QList<QJsonObject> nodes;
            collectNodes(doc.array().at(0).toObject().value(QLatin1String("Plan")).toObject(), nodes);
            const QString text = name
                + (batch.size() > 1 ? QStringLiteral(", generic plan: ") : QStringLiteral(", custom plan: "))
                + describe(nodes);
            qInfo("%s", qPrintable(text));
            bool eventsByKey = false;
            bool entitiesByKey = name == QLatin1String("events");
            for (const QJsonObject &n : nodes) {
                const QString type = n.value(QLatin1String("Node Type")).toString();
                const QString index = n.value(QLatin1String("Index Name")).toString();
                QVERIFY2(type != QLatin1String("Seq Scan"), qPrintable(text));
                const bool indexScan = type == QLatin1String("Index Scan") || type == QLatin1String("Index Only Scan")
                    || type == QLatin1String("Bitmap Index Scan");
                if (indexScan && index == QLatin1String("channel_events_pkey"))
                    eventsByKey = true;
                if (indexScan && index == entityTable + QLatin1String("_pkey"))
                    entitiesByKey = true;
            }
            QVERIFY2(eventsByKey, qPrintable(text));
            QVERIFY2(entitiesByKey, qPrintable(text));
        }
    }
}

QTEST_GUILESS_MAIN(TestEventStore)
#include "tst_event_store.moc"
