// Presence of big rooms on demand (docs/protocol.md 9.4 `roomPresence`, 9.7), against the real
// taskmaster-server binary with --presence-room-limit 3, on SQLite and on a fresh PostgreSQL
// database: `welcome` tells the limit; a room of more members pushes no snapshot, no changes and
// no list on a join, while a room of exactly the limit and a small room shared with a big room's
// member still push as before; `roomPresence` answers the count of online members and the first
// `limit` ids, ascending, for a big room and a small one; bad requests (a table) each get their
// `error` with the frame's id and field, and the connection keeps working. Across two instances
// (a Redis of the test's own): the count includes the members online on the other instance, and a
// member joining a room that nobody on their instance follows is told the list for a small room
// (its count read then) and none for a big one.
#include "tests/support/api_client.h"
#include "tests/support/redis_process.h"
#include "tests/support/server_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"
#include "tests/support/ws_client.h"

#include <QJsonObject>
#include <QTest>

#include <algorithm>
#include <map>
#include <memory>

using taskmaster::test::Account;
using taskmaster::test::backendRows;
using taskmaster::test::rowBackend;
using taskmaster::test::uniqueName;
using namespace taskmaster;
using taskmaster::test::ApiClient;
using taskmaster::test::RedisProcess;
using taskmaster::test::ServerProcess;
using taskmaster::test::WsClient;

namespace {

constexpr int kRoomLimit = 3;

const QStringList kServerArgs {
    QStringLiteral("--presence-room-limit"),
    QString::number(kRoomLimit),
    QStringLiteral("--presence-grace-ms"),
    QStringLiteral("300"),
    QStringLiteral("--ws-rate"),
    QStringLiteral("100000"),
};

// Every presence frame the client received names who (single or list form), with that status.
bool told(const WsClient &c, Id who, ws::PresenceStatus status)
{
    for (const ws::ServerFrame &f : c.received()) {
        const auto *p = std::get_if<ws::Presence>(&f);
        if (p && p->status == status && (p->userId == who || p->userIds.contains(who)))
            return true;
    }
    return false;
}

qsizetype presenceFrames(const WsClient &c)
{
    return std::count_if(c.received().cbegin(), c.received().cend(),
                         [](const ws::ServerFrame &f) { return std::holds_alternative<ws::Presence>(f); });
}

// The presence frames c received, for a failure's message.
QString describePresence(const WsClient &c)
{
    QStringList out;
    for (const ws::ServerFrame &f : c.received()) {
        if (const auto *p = std::get_if<ws::Presence>(&f))
            out.append(QString::fromUtf8(ws::encodeServerFrame(*p)));
    }
    return out.join(QLatin1Char(' '));
}

QList<Id> sorted(QList<Id> ids)
{
    std::sort(ids.begin(), ids.end());
    return ids;
}

} // namespace

class TestWsRoomPresence final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();

    void bigRoomPushesNoPresence_data() { backendRows(); }
    void bigRoomPushesNoPresence();
    void joiningBigRoomTellsNoList_data() { backendRows(); }
    void joiningBigRoomTellsNoList();
    void badRequests_data();
    void badRequests();
    void acrossInstances();

private:
    ServerProcess &server() { return *m_servers.at(rowBackend()); }
    ApiClient &api() { return *m_apis.at(rowBackend()); }
    Account user() { return api().signUp("rp"); }
    bool connectAll(std::initializer_list<std::pair<WsClient *, const Account *>> clients)
    {
        return std::all_of(clients.begin(), clients.end(), [this](const auto &c) {
            return c.first->connectAs(server().wsUrl(), c.second->token).has_value();
        });
    }
    // roomPresence from c: the reply to frame id, or nullopt.
    std::optional<ws::RoomPresence> ask(WsClient &c, Id roomId, int limit, qint64 id);

    QString m_pgUrl;
    std::map<QString, std::unique_ptr<ServerProcess>> m_servers;
    std::map<QString, std::unique_ptr<ApiClient>> m_apis;
};

void TestWsRoomPresence::initTestCase()
{
    TM_REQUIRE_SERVICE(pg, "TM_TEST_DATABASE_URL");
    m_pgUrl = pg;
    for (const QString &backend : {QStringLiteral("sqlite"), QStringLiteral("postgres")}) {
        auto server = std::make_unique<ServerProcess>();
        QStringList args = kServerArgs;
        if (backend == QLatin1String("postgres"))
            args << QStringLiteral("--database-url") << test::freshPostgresUrl(m_pgUrl);
        QVERIFY2(server->start(args), qPrintable(server->errorText()));
        m_apis[backend] = std::make_unique<ApiClient>(server->url());
        m_servers[backend] = std::move(server);
        m_apis[backend]->registerUser(uniqueName("admin")); // the first user is the admin
    }
}

void TestWsRoomPresence::cleanupTestCase()
{
    for (auto &[name, server] : m_servers)
        QCOMPARE(server->stop(), 0);
}

std::optional<ws::RoomPresence> TestWsRoomPresence::ask(WsClient &c, Id roomId, int limit, qint64 id)
{
    c.send(ws::RoomPresenceRequest {id, roomId, limit});
    return c.take<ws::RoomPresence>([id](const ws::RoomPresence &r) { return r.id == id; });
}

void TestWsRoomPresence::bigRoomPushesNoPresence()
{
    // big: a, b, c, d (4 members, over the limit of 3); exact: a, x, y (3, the limit: pushed);
    // shared: a, b (b is in the big room too).
    const Account a = user(), b = user(), c = user(), d = user(), x = user(), y = user();
    const Id big = api().createRoom(a, {b, c, d});
    const Id exact = api().createRoom(a, {x, y});
    const Id shared = api().createRoom(a, {b});
    QVERIFY(big > 0 && exact > 0 && shared > 0);
    WsClient cb, cc, cd, cx, cy;
    QVERIFY(connectAll({{&cb, &b}, {&cc, &c}, {&cd, &d}, {&cx, &x}, {&cy, &y}}));

    // a's snapshot: b (through the shared room), x and y; not c or d (only in the big room).
    WsClient ca;
    QVERIFY(ca.open(server().wsUrl()));
    ca.send(ws::Hello {QString::fromUtf8(a.token), {}, true});
    const auto welcome = ca.take<ws::Welcome>();
    QVERIFY(welcome);
    QCOMPARE(welcome->presenceRoomLimit.value_or(-1), qint64(kRoomLimit));
    const auto snapshot = ca.take<ws::Presence>();
    QVERIFY(snapshot);
    QCOMPARE(snapshot->status, ws::PresenceStatus::Online);
    QCOMPARE(snapshot->userIds, sorted({b.id, x.id, y.id}));

    // a coming online: told to b (shared room) and x (the room at the limit), not to c.
    QVERIFY(cb.take<ws::Presence>([&](const ws::Presence &p) { return p.userId == a.id; }));
    QVERIFY(cx.take<ws::Presence>([&](const ws::Presence &p) { return p.userId == a.id; }));

    // On demand: everyone online in the big room (a included), ascending, and the first two.
    auto all = ask(ca, big, 100, 1);
    QVERIFY(all);
    QCOMPARE(all->roomId, big);
    QCOMPARE(all->online, qint64(4));
    QCOMPARE(all->userIds, sorted({a.id, b.id, c.id, d.id}));
    auto two = ask(cc, big, 2, 2);
    QVERIFY(two);
    QCOMPARE(two->online, qint64(4));
    QCOMPARE(two->userIds, sorted({a.id, b.id, c.id, d.id}).first(2));
    // A small room answers too.
    auto small = ask(ca, shared, 100, 3);
    QVERIFY(small);
    QCOMPARE(small->online, qint64(2));
    QCOMPARE(small->userIds, sorted({a.id, b.id}));

    // Changes: d leaves (offline after the grace: the count follows), then b. a hears b go offline
    // through the shared room; d's change came in the same window or an earlier one, so had it
    // been pushed, a would have it by then.
    cd.close();
    QVERIFY(ca.waitUntil(
        [&] {
            const auto r = ask(ca, big, 100, 4);
            return r && r->online == 3;
        },
        10000));
    cb.close();
    QVERIFY(ca.take<ws::Presence>(
        [&](const ws::Presence &p) {
            return p.status == ws::PresenceStatus::Offline && (p.userId == b.id || p.userIds.contains(b.id));
        },
        10000));
    QVERIFY(!told(ca, d.id, ws::PresenceStatus::Offline));
    QVERIFY(!told(ca, c.id, ws::PresenceStatus::Online));
    QVERIFY(!told(ca, d.id, ws::PresenceStatus::Online));
    // c follows only the big room: b's window was written to every socket before a got it, so a
    // reply to c now comes after anything that window wrote to c.
    QVERIFY(ask(cc, big, 100, 5));
    QCOMPARE(presenceFrames(cc), 0);
    // The answer may be up to a second old (worked out at most once a second per room).
    QVERIFY(cc.waitUntil(
        [&] {
            const auto r = ask(cc, big, 100, 6);
            return r && r->userIds == sorted({a.id, c.id});
        },
        10000));
    // x, y, in the room at the limit, still hear a going offline.
    ca.close();
    QVERIFY(cx.take<ws::Presence>(
        [&](const ws::Presence &p) { return p.userId == a.id && p.status == ws::PresenceStatus::Offline; }, 10000));
}

void TestWsRoomPresence::joiningBigRoomTellsNoList()
{
    // big: a, b, c, d (connected); shared: a, b; e is connected and joins the big room.
    const Account a = user(), b = user(), c = user(), d = user(), e = user();
    const Id big = api().createRoom(a, {b, c, d});
    const Id shared = api().createRoom(a, {b});
    QVERIFY(big > 0 && shared > 0);
    WsClient ca, cb, cc, cd, ce;
    QVERIFY(connectAll({{&ca, &a}, {&cb, &b}, {&cc, &c}, {&cd, &d}, {&ce, &e}}));
    QCOMPARE(api()
                 .post(QStringLiteral("/api/v1/rooms/%1/members").arg(big),
                       QJsonObject {{QStringLiteral("userId"), e.id}}, b.token)
                 .status,
             200);
    QVERIFY(ce.waitForEvents(Channel::room(big), 1));
    // A list would have been written right after the event: the reply comes after it.
    const auto r = ask(ce, big, 100, 1);
    QVERIFY(r);
    QCOMPARE(r->online, qint64(5));
    QCOMPARE(r->userIds, sorted({a.id, b.id, c.id, d.id, e.id}));
    QCOMPARE(presenceFrames(ce), 0);
    // a is not told e is online: b going offline (shared room) comes in a later window.
    cb.close();
    QVERIFY(ca.take<ws::Presence>(
        [&](const ws::Presence &p) { return p.userId == b.id && p.status == ws::PresenceStatus::Offline; }, 10000));
    QVERIFY(!told(ca, e.id, ws::PresenceStatus::Online));
}

void TestWsRoomPresence::badRequests_data()
{
    QTest::addColumn<QString>("frame"); // %1: a room of the user, %2: a room they are not in
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");
    for (const char *backend : {"sqlite", "postgres"}) {
        const auto row = [backend](const char *name, const char *frame, const char *code, const char *field) {
            QTest::addRow("%s/%s", backend, name)
                << QString::fromLatin1(frame) << QString::fromLatin1(code) << QString::fromLatin1(field);
        };
        row("roomId missing", R"({"type":"roomPresence","id":9})", "validation_failed", "roomId");
        row("roomId string", R"({"type":"roomPresence","id":9,"roomId":"%1"})", "validation_failed", "roomId");
        row("roomId 0", R"({"type":"roomPresence","id":9,"roomId":0})", "validation_failed", "roomId");
        row("roomId 1.5", R"({"type":"roomPresence","id":9,"roomId":1.5})", "validation_failed", "roomId");
        row("limit 0", R"({"type":"roomPresence","id":9,"roomId":%1,"limit":0})", "validation_failed", "limit");
        row("limit 1001", R"({"type":"roomPresence","id":9,"roomId":%1,"limit":1001})", "validation_failed", "limit");
        row("limit 2.5", R"({"type":"roomPresence","id":9,"roomId":%1,"limit":2.5})", "validation_failed", "limit");
        row("limit string", R"({"type":"roomPresence","id":9,"roomId":%1,"limit":"5"})", "validation_failed", "limit");
        row("not a member", R"({"type":"roomPresence","id":9,"roomId":%2})", "not_found", "roomId");
        row("no such room", R"({"type":"roomPresence","id":9,"roomId":987654321})", "not_found", "roomId");
    }
}

void TestWsRoomPresence::badRequests()
{
    QFETCH(QString, frame);
    QFETCH(QString, code);
    QFETCH(QString, field);
    const Account a = user(), b = user(), other = user();
    const Id mine = api().createRoom(a, {b});
    const Id theirs = api().createRoom(other, {});
    QVERIFY(mine > 0 && theirs > 0);
    WsClient c;
    QVERIFY(c.connectAs(server().wsUrl(), a.token));
    c.sendText(QString(frame)
                   .replace(QLatin1String("%1"), QString::number(mine))
                   .replace(QLatin1String("%2"), QString::number(theirs)));
    const auto error = c.take<ws::ErrorFrame>();
    QVERIFY(error);
    QCOMPARE(errorCodeName(error->error.code), code);
    QCOMPARE(error->error.field, field);
    QCOMPARE(error->id.value_or(-1), qint64(9));
    // The connection keeps working: the same request done right is answered.
    const auto r = ask(c, mine, 1, 10);
    QVERIFY(r);
    QCOMPARE(r->online, qint64(1));
    QCOMPARE(r->userIds, QList<Id> {a.id});
    QVERIFY(c.isOpen());
}

void TestWsRoomPresence::acrossInstances()
{
    RedisProcess redis;
    const QString started = redis.start();
    QVERIFY2(started.isEmpty(), qPrintable(started));
    const QString db = test::freshPostgresUrl(m_pgUrl);
    const auto args = [&](const char *name) {
        return QStringList(kServerArgs) << QStringLiteral("--database-url") << db << QStringLiteral("--redis-url")
                                        << redis.url() << QStringLiteral("--instance-name")
                                        << QString::fromLatin1(name);
    };
    ServerProcess instA, instB;
    QVERIFY2(instA.start(args("tm-a")), qPrintable(instA.errorText()));
    QVERIFY2(instB.start(args("tm-b")), qPrintable(instB.errorText()));
    ApiClient api(instA.url());
    api.registerUser(uniqueName("admin"));
    // big: a (on A), b, c, d (on B); small: e (joins later, on A) and b, c on B.
    const Account a = api.signUp("rp"), b = api.signUp("rp"), c = api.signUp("rp"), d = api.signUp("rp"),
                  e = api.signUp("rp"), f = api.signUp("rp"), g = api.signUp("rp");
    const Id big = api.createRoom(a, {b, c, d});
    const Id small = api.createRoom(b, {c});
    const Id bigElsewhere = api.createRoom(b, {c, d, f}); // nobody on A follows it
    const Id fence = api.createRoom(a, {g}); // g on B, connected last
    QVERIFY(big > 0 && small > 0 && bigElsewhere > 0 && fence > 0);
    WsClient ca, cb, cc, cd, ce, cg;
    QVERIFY(ca.connectAs(instA.wsUrl(), a.token));
    QVERIFY(ce.connectAs(instA.wsUrl(), e.token));
    for (auto [client, account] : {std::pair {&cb, &b}, std::pair {&cc, &c}, std::pair {&cd, &d}, std::pair {&cg, &g}})
        QVERIFY(client->connectAs(instB.wsUrl(), account->token));
    // a hears g through their small room: the windows of A with b, c and d coming online (relayed
    // before g's) have ended, and e has heard nothing yet.
    QVERIFY(ca.take<ws::Presence>([&](const ws::Presence &p) { return p.userId == g.id; }));
    // A counts B's users once B's relay told it about them.
    QVERIFY(ca.waitUntil(
        [&] {
            const auto r = ask(ca, big, 100, 1);
            return r && r->online == 4;
        },
        10000));
    const auto r = ask(ca, big, 2, 2);
    QVERIFY(r);
    QCOMPARE(r->userIds, sorted({a.id, b.id, c.id, d.id}).first(2));

    // e joins the small room, which nobody on A follows: its count is read, then e is told.
    const auto join = [&](Id roomId, const Account &by) {
        return api
            .post(QStringLiteral("/api/v1/rooms/%1/members").arg(roomId),
                  QJsonObject {{QStringLiteral("userId"), e.id}}, by.token)
            .status;
    };
    QCOMPARE(join(small, b), 200);
    QVERIFY(ce.waitUntil(
        [&] { return told(ce, b.id, ws::PresenceStatus::Online) && told(ce, c.id, ws::PresenceStatus::Online); },
        10000));
    QCOMPARE(presenceFrames(ce), 2);
    // ... and the big one nobody on A follows either: no list (its count, read then, is over the
    // limit), the count on demand instead.
    QCOMPARE(join(bigElsewhere, b), 200);
    QVERIFY(ce.waitForEvents(Channel::room(bigElsewhere), 1));
    QVERIFY2(!ce.waitUntil([&] { return presenceFrames(ce) > 2; }, 1000), qPrintable(describePresence(ce)));
    QVERIFY(ce.waitUntil(
        [&] {
            const auto online = ask(ce, bigElsewhere, 100, 3);
            return online && online->userIds == sorted({b.id, c.id, d.id, e.id});
        },
        10000));
    // a shares only the big room with b, c and d: in all this time nothing about them was pushed.
    QVERIFY(!told(ca, b.id, ws::PresenceStatus::Online) && !told(ca, c.id, ws::PresenceStatus::Online));
    QVERIFY(!told(ca, d.id, ws::PresenceStatus::Online));
    QCOMPARE(instA.stop(), 0);
    QCOMPARE(instB.stop(), 0);
}

QTEST_GUILESS_MAIN(TestWsRoomPresence)
#include "tst_ws_room_presence.moc"
