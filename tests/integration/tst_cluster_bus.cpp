// Two real taskmaster-server instances sharing one PostgreSQL database and a Redis of the test's
// own, with QWebSocket clients on each: a message sent on A reaches B's sockets in order, a REST
// write on B reaches A's sockets, a project made on one instance is followed by its owner's
// socket on the other, logout on one closes the token's sockets on the other (4003), and after
// Redis is killed and restarted nothing sent meanwhile is lost: B reads it from the database
// when its bus is back. Volatile frames cross too: typing and read from A reach B's sockets, and
// presence is one for the cluster (online when the first socket anywhere opens, offline only when
// the user's last socket on any instance closed, after the grace; a new socket is told who is
// online already). A draining instance hands its users over: the others keep them online over its
// reconnect window (no offline and online again for each one that moves), and offline comes after
// it for those who do not come back.
#include "tests/support/api_client.h"
#include "tests/support/metrics_text.h"
#include "tests/support/redis_process.h"
#include "tests/support/server_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"
#include "tests/support/ws_client.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QTest>
#include <QUuid>

#include <memory>

using taskmaster::test::Account;
using taskmaster::test::uniqueName;
using namespace taskmaster;
using taskmaster::test::ApiClient;
using taskmaster::test::RedisProcess;
using taskmaster::test::ServerProcess;
using taskmaster::test::WsClient;

namespace {
} // namespace

class TestClusterBus final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void messageCrossesInstances();
    void restWriteOnOtherInstance();
    void projectFollowedAcrossInstances();
    void logoutClosesSocketsEverywhere();
    void volatileAndPresenceAcrossInstances();
    void drainHandsPresenceOver();
    void presenceOnJoinAcrossInstances();
    void presenceOnJoinToldOnce();
    void rebalanceMovesTheExcess();
    void redisRestartLosesNothing();

private:
    QStringList serverArgs(const char *name) const;
    Account user();
    qint64 room(const Account &owner, const QList<Account> &members);

    RedisProcess m_redis;
    std::unique_ptr<ServerProcess> m_a;
    std::unique_ptr<ServerProcess> m_b;
    std::unique_ptr<ApiClient> m_apiA;
    std::unique_ptr<ApiClient> m_apiB;
    QString m_db;
};

void TestClusterBus::initTestCase()
{
    TM_REQUIRE_SERVICE(pg, "TM_TEST_DATABASE_URL");
    const QString started = m_redis.start();
    QVERIFY2(started.isEmpty(), qPrintable(started));
    m_db = test::freshPostgresUrl(pg);
    m_a = std::make_unique<ServerProcess>();
    QVERIFY2(m_a->start(serverArgs("tm-a")), qPrintable(m_a->errorText()));
    m_b = std::make_unique<ServerProcess>();
    QVERIFY2(m_b->start(serverArgs("tm-b")), qPrintable(m_b->errorText()));
    m_apiA = std::make_unique<ApiClient>(m_a->url());
    m_apiB = std::make_unique<ApiClient>(m_b->url());
}

void TestClusterBus::cleanupTestCase()
{
    if (m_a)
        QCOMPARE(m_a->stop(), 0);
    if (m_b)
        QCOMPARE(m_b->stop(), 0);
}

QStringList TestClusterBus::serverArgs(const char *name) const
{
    return QStringList {QStringLiteral("--database-url"),      m_db,
                        QStringLiteral("--redis-url"),         m_redis.url(),
                        QStringLiteral("--instance-name"),     QString::fromLatin1(name),
                        QStringLiteral("--presence-grace-ms"), QStringLiteral("300")};
}

Account TestClusterBus::user()
{
    return m_apiA->signUp();
}

qint64 TestClusterBus::room(const Account &owner, const QList<Account> &members)
{
    return m_apiA->createRoom(owner, members);
}

void TestClusterBus::messageCrossesInstances()
{
    const Account a = user(), b = user();
    const qint64 roomId = room(a, {b});
    const Channel ch = Channel::room(roomId);
    WsClient ca, cb;
    const auto wa = ca.connectAs(m_a->wsUrl(), a.token);
    const auto wb = cb.connectAs(m_b->wsUrl(), b.token);
    QVERIFY(wa && wb);
    QCOMPARE(wa->instance, QStringLiteral("tm-a"));
    QCOMPARE(wb->instance, QStringLiteral("tm-b"));
    const Seq base = wb->channels.value(ch);
    for (int i = 0; i < 50; ++i)
        ca.send(ws::Send {i, roomId, QStringLiteral("m%1").arg(i), QStringLiteral("c%1").arg(i)});
    QVERIFY2(cb.waitForEvents(ch, 50), qPrintable(QString::number(cb.events(ch).size())));
    const auto got = cb.events(ch);
    QCOMPARE(got.size(), 50);
    for (int i = 0; i < 50; ++i) {
        QCOMPARE(got.at(i).seq, base + 1 + i);
        QCOMPARE(got.at(i).message->body, QStringLiteral("m%1").arg(i));
    }
    // And back the other way.
    cb.send(ws::Send {99, roomId, QStringLiteral("from b"), std::nullopt});
    QVERIFY(ca.waitUntil([&] { return ca.events(ch).size() == 51; }, 10000));
    QCOMPARE(ca.events(ch).constLast().message->body, QStringLiteral("from b"));
}

void TestClusterBus::restWriteOnOtherInstance()
{
    const Account a = user(), b = user();
    const qint64 roomId = room(a, {b});
    const Channel ch = Channel::room(roomId);
    WsClient ca;
    QVERIFY(ca.connectAs(m_a->wsUrl(), a.token));
    QCOMPARE(m_apiB
                 ->post(QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId),
                        QJsonObject {{QStringLiteral("body"), QStringLiteral("over rest on b")}}, b.token)
                 .status,
             201);
    QVERIFY(ca.waitForEvents(ch, 1));
    QCOMPARE(ca.events(ch).constFirst().message->body, QStringLiteral("over rest on b"));
}

void TestClusterBus::projectFollowedAcrossInstances()
{
    const Account a = user();
    WsClient ca;
    QVERIFY(ca.connectAs(m_a->wsUrl(), a.token));
    const auto project = m_apiB->post(QStringLiteral("/api/v1/projects"),
                                      QJsonObject {{QStringLiteral("name"), uniqueName("p")}}, a.token);
    QCOMPARE(project.status, 201);
    const qint64 projectId = project.json().value(QLatin1String("id")).toInteger();
    // The subscription travels on the bus; a task made after it reaches the socket on A.
    QVERIFY(ca.waitUntil(
        [&] {
            if (!ca.events(Channel::project(projectId)).isEmpty())
                return true;
            const auto task = m_apiB->post(QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId),
                                           QJsonObject {{QStringLiteral("title"), QStringLiteral("t")}}, a.token);
            return task.status != 201; // stop on an error; the check below fails then
        },
        10000));
    const auto events = ca.events(Channel::project(projectId));
    QVERIFY(!events.isEmpty());
    QCOMPARE(events.constFirst().type, EventType::TaskCreated);
    QCOMPARE(events.constFirst().seq, 1);
}

void TestClusterBus::logoutClosesSocketsEverywhere()
{
    const Account a = user();
    WsClient onA, onB;
    QVERIFY(onA.connectAs(m_a->wsUrl(), a.token));
    QVERIFY(onB.connectAs(m_b->wsUrl(), a.token));
    QCOMPARE(m_apiA->send("POST", QStringLiteral("/api/v1/auth/logout"), {}, test::RequestOptions {a.token}).status,
             204);
    QVERIFY(onA.waitForClosed());
    QVERIFY(onB.waitForClosed());
    QCOMPARE(onA.closeCode(), 4003);
    QCOMPARE(onB.closeCode(), 4003);
}

void TestClusterBus::volatileAndPresenceAcrossInstances()
{
    const Account a = user(), b = user();
    const qint64 roomId = room(a, {b});
    const Channel ch = Channel::room(roomId);
    WsClient cb;
    QVERIFY(cb.connectAs(m_b->wsUrl(), b.token));
    const auto isA = [&](ws::PresenceStatus status) {
        return [&a, status](const ws::Presence &p) { return p.userId == a.id && p.status == status; };
    };
    // A's first socket is on the other instance: B hears A come online.
    WsClient onA;
    QVERIFY(onA.connectAs(m_a->wsUrl(), a.token));
    QVERIFY(cb.take<ws::Presence>(isA(ws::PresenceStatus::Online)));
    // And A, right after its welcome, learns that B (on the other instance) is online already.
    QVERIFY(onA.take<ws::Presence>(
        [&b](const ws::Presence &p) { return p.userId == b.id && p.status == ws::PresenceStatus::Online; }));
    // Typing and read from A reach B.
    onA.send(ws::Typing {roomId});
    const auto typing = cb.take<ws::TypingEvent>();
    QVERIFY(typing);
    QCOMPARE(typing->userId, a.id);
    QCOMPARE(typing->roomId, roomId);
    onA.send(ws::Send {1, roomId, QStringLiteral("read me"), std::nullopt});
    QVERIFY(cb.waitForEvents(ch, 1));
    const Seq seq = cb.events(ch).constLast().seq;
    onA.send(ws::Read {roomId, seq});
    const auto read = cb.take<ws::ReadEvent>([&](const ws::ReadEvent &r) { return r.userId == a.id; });
    QVERIFY(read);
    QCOMPARE(read->seq, seq);
    // A second device on B's instance; the first closes: A is still online (no offline for B,
    // well past the 300 ms grace).
    WsClient onB;
    QVERIFY(onB.connectAs(m_b->wsUrl(), a.token));
    // A was online through the other instance already: B is not told again (a reconnect storm
    // would otherwise fan out a presence frame per member for every client that moved).
    QVERIFY(!cb.take<ws::Presence>(isA(ws::PresenceStatus::Online), 1000));
    onA.close();
    QVERIFY(onA.waitForClosed());
    QVERIFY(!cb.take<ws::Presence>(isA(ws::PresenceStatus::Offline), 1500));
    // The last socket anywhere closes: offline.
    onB.close();
    QVERIFY(onB.waitForClosed());
    QVERIFY(cb.take<ws::Presence>(isA(ws::PresenceStatus::Offline), 5000));
}

void TestClusterBus::presenceOnJoinAcrossInstances()
{
    // a on instance A and b on B share no room; a makes one with b and d (offline). Both hear of
    // each other at the join, and d, connecting to B later, finds a online in its snapshot: A told
    // B the room a is in now.
    const Account a = user(), b = user(), d = user();
    WsClient onA, cb;
    QVERIFY(onA.connectAs(m_a->wsUrl(), a.token));
    QVERIFY(cb.connectAs(m_b->wsUrl(), b.token));
    const auto online = [](Id who) {
        return [who](const ws::Presence &p) {
            return p.status == ws::PresenceStatus::Online && (p.userId == who || p.userIds.contains(who));
        };
    };
    room(a, {b, d});
    QVERIFY(onA.take<ws::Presence>(online(b.id)));
    QVERIFY(cb.take<ws::Presence>(online(a.id)));
    WsClient cd;
    QVERIFY(cd.connectAs(m_b->wsUrl(), d.token));
    QVERIFY(cd.take<ws::Presence>(online(a.id)));
}

void TestClusterBus::presenceOnJoinToldOnce()
{
    // w on a third instance C (each change written at once, no window to merge two frames in) is
    // in a room; b, connected to B only, is added to it. Only B, which has b, tells: C's sockets
    // hear it from B's relay. C telling at the join as well gave w a second online frame for b.
    ServerProcess c;
    QVERIFY2(c.start(serverArgs("tm-c") << QStringLiteral("--presence-batch-ms") << QStringLiteral("0")),
             qPrintable(c.errorText()));
    const Account w = user(), b = user();
    const qint64 roomId = room(w, {});
    WsClient cw, cb;
    QVERIFY(cw.connectAs(c.wsUrl(), w.token));
    QVERIFY(cb.connectAs(m_b->wsUrl(), b.token));
    const auto online = [](Id who) {
        return [who](const ws::Presence &p) {
            return p.status == ws::PresenceStatus::Online && (p.userId == who || p.userIds.contains(who));
        };
    };
    QCOMPARE(m_apiA
                 ->post(QStringLiteral("/api/v1/rooms/%1/members").arg(roomId),
                        QJsonObject {{QStringLiteral("userId"), b.id}}, w.token)
                 .status,
             200);
    QVERIFY(cw.take<ws::Presence>(online(b.id)));
    QVERIFY(cb.take<ws::Presence>(online(w.id)));
    // Both instances have handled the join (w's socket follows the room, b was told); a second
    // frame would follow within milliseconds.
    QVERIFY(!cw.take<ws::Presence>(online(b.id), 1000));
    QCOMPARE(c.stop(), 0);
}

void TestClusterBus::drainHandsPresenceOver()
{
    const Account watcher = user(), mover = user(), leaver = user(), late = user();
    room(watcher, {mover, leaver, late});
    WsClient onA;
    QVERIFY(onA.connectAs(m_a->wsUrl(), watcher.token));
    // A third instance whose drain window is wide: 1 connection a second, so its two sockets
    // make a window of 2 s, well over the 300 ms grace.
    ServerProcess c;
    QVERIFY2(c.start({QStringLiteral("--database-url"), m_db, QStringLiteral("--redis-url"), m_redis.url(),
                      QStringLiteral("--instance-name"), QStringLiteral("tm-c"), QStringLiteral("--presence-grace-ms"),
                      QStringLiteral("300"), QStringLiteral("--ws-drain-rate"), QStringLiteral("1")}),
             qPrintable(c.errorText()));
    // The started instance asked the others who they have: the watcher, online on tm-a since
    // before tm-c started, is in the snapshots of tm-c's sockets at once, not after the next
    // periodic exchange (30 s).
    const QDeadlineTimer known(5000);
    bool watcherKnown = false;
    while (!watcherKnown && !known.hasExpired()) {
        WsClient probe;
        QVERIFY(probe.open(c.wsUrl()));
        probe.send(ws::Hello {QString::fromUtf8(late.token), {}, true});
        QVERIFY(probe.take<ws::Welcome>());
        const auto snapshot = probe.take<ws::Presence>({}, 300);
        watcherKnown = snapshot && snapshot->userIds == QList<Id> {watcher.id};
    }
    QVERIFY(watcherKnown);
    WsClient moverOnC, leaverOnC;
    QVERIFY(moverOnC.connectAs(c.wsUrl(), mover.token));
    QVERIFY(leaverOnC.connectAs(c.wsUrl(), leaver.token));
    const auto is = [](const Account &who, ws::PresenceStatus status) {
        return [id = who.id, status](const ws::Presence &p) { return p.userId == id && p.status == status; };
    };
    QVERIFY(onA.take<ws::Presence>(is(mover, ws::PresenceStatus::Online)));
    QVERIFY(onA.take<ws::Presence>(is(leaver, ws::PresenceStatus::Online)));
    // Drain tm-c (SIGTERM): both sockets are told to reconnect and the instance exits.
    QElapsedTimer sinceDrain;
    sinceDrain.start();
    QCOMPARE(c.stop(), 0);
    QVERIFY(moverOnC.waitForClosed());
    QVERIFY(leaverOnC.waitForClosed());
    // The mover comes back through tm-a: the watcher hears nothing (they were online throughout).
    WsClient moverOnA;
    QVERIFY(moverOnA.connectAs(m_a->wsUrl(), mover.token));
    // A socket opened meanwhile is told that both are online, the one still on its way included.
    WsClient lateOnA;
    QVERIFY(lateOnA.open(m_a->wsUrl()));
    lateOnA.send(ws::Hello {QString::fromUtf8(late.token), {}, true});
    QVERIFY(lateOnA.take<ws::Welcome>());
    const auto snapshot = lateOnA.take<ws::Presence>();
    QVERIFY(snapshot);
    QVERIFY2(snapshot->userIds.contains(leaver.id) && snapshot->userIds.contains(mover.id),
             qPrintable(QStringLiteral("snapshot without the moving users: %1 of %2")
                            .arg(snapshot->userIds.size())
                            .arg(snapshot->userId)));
    // The leaver does not come back: offline once the window and the grace are over, not before.
    const auto offline = onA.take<ws::Presence>(is(leaver, ws::PresenceStatus::Offline), 10000);
    QVERIFY(offline);
    QVERIFY2(sinceDrain.elapsed() >= 2000, qPrintable(QString::number(sinceDrain.elapsed())));
    QVERIFY(!onA.take<ws::Presence>(is(mover, ws::PresenceStatus::Offline), 500));
    QVERIFY(!onA.take<ws::Presence>(is(mover, ws::PresenceStatus::Online), 0));
}

// 120 connections on one instance, then a second instance starts (empty, as after a restart):
// the first sends it the excess over its share plus half the slack (share 60, slack 50: 35),
// each with a `reconnect` frame ("rebalancing") and 1001, at its rate, and then no more: the
// connections it sent away count as elsewhere until the other's reports show them (no overshoot).
void TestClusterBus::rebalanceMovesTheExcess()
{
    // A Redis of their own: tm-a and tm-b report their loads too, and would count in the share.
    RedisProcess redis;
    const QString started = redis.start();
    QVERIFY2(started.isEmpty(), qPrintable(started));
    const auto args = [&](const char *name) {
        return QStringList {QStringLiteral("--database-url"),  m_db,
                            QStringLiteral("--redis-url"),     redis.url(),
                            QStringLiteral("--instance-name"), QString::fromLatin1(name)};
    };
    ServerProcess full;
    QVERIFY2(full.start(args("tm-full")), qPrintable(full.errorText()));
    ApiClient apiFull(full.url());
    const Account who = user();
    std::vector<std::unique_ptr<WsClient>> onFull;
    for (int i = 0; i < 120; ++i) {
        onFull.push_back(std::make_unique<WsClient>());
        QVERIFY(onFull.back()->connectAs(full.wsUrl(), who.token));
    }
    QCOMPARE(test::scrapeMetric(apiFull, "websocket_rebalanced_total"), 0.0);
    ServerProcess empty;
    QVERIFY2(empty.start(args("tm-empty")), qPrintable(empty.errorText()));
    ApiClient apiEmpty(empty.url());
    // Each client told to go reconnects to the empty instance (what nginx least_conn would do).
    std::vector<std::unique_ptr<WsClient>> onEmpty;
    std::vector<bool> moved(onFull.size(), false);
    const auto move = [&] {
        for (size_t i = 0; i < onFull.size(); ++i) {
            if (moved[i])
                continue;
            for (const ws::ServerFrame &f : onFull[i]->received()) {
                const auto *r = std::get_if<ws::Reconnect>(&f);
                if (!r)
                    continue;
                if (r->reason != QLatin1String("rebalancing") || r->retryAfterMs <= 0)
                    return false; // a wrong frame: the count below fails
                moved[i] = true;
                onEmpty.push_back(std::make_unique<WsClient>());
                if (!onEmpty.back()->connectAs(empty.wsUrl(), who.token))
                    return false;
            }
        }
        return onEmpty.size() >= 35;
    };
    QVERIFY2(onFull.front()->waitUntil(move, 20000), qPrintable(QString::number(onEmpty.size())));
    for (size_t i = 0; i < onFull.size(); ++i) {
        if (moved[i]) {
            QVERIFY(onFull[i]->waitForClosed());
            QCOMPARE(onFull[i]->closeCode(), 1001);
        }
    }
    // Balanced within the slack: nothing more is sent over the next two reports and ticks.
    QVERIFY(!onFull.front()->waitUntil([&] { return !move() || onEmpty.size() > 35; }, 2500));
    QCOMPARE(onEmpty.size(), size_t(35));
    QCOMPARE(test::scrapeMetric(apiFull, "websocket_rebalanced_total"), 35.0);
    QCOMPARE(test::scrapeMetric(apiFull, "websocket_active_connections"), 85.0);
    QCOMPARE(test::scrapeMetric(apiEmpty, "websocket_active_connections"), 35.0);
    onFull.clear();
    onEmpty.clear();
    QCOMPARE(empty.stop(), 0);
    QCOMPARE(full.stop(), 0);
}

void TestClusterBus::redisRestartLosesNothing()
{
    const Account a = user(), b = user();
    const qint64 roomId = room(a, {b});
    const Channel ch = Channel::room(roomId);
    WsClient ca, cb;
    QVERIFY(ca.connectAs(m_a->wsUrl(), a.token));
    const auto wb = cb.connectAs(m_b->wsUrl(), b.token);
    QVERIFY(wb);
    const Seq base = wb->channels.value(ch);
    ca.send(ws::Send {0, roomId, QStringLiteral("before"), std::nullopt});
    QVERIFY(cb.waitForEvents(ch, 1));
    QCOMPARE(m_apiB->get(QStringLiteral("/health/ready"), {}).json().value(QLatin1String("status")).toString(),
             QStringLiteral("ok"));
    m_redis.kill();
    // Redis down: the instances keep serving, readiness says degraded (still 200).
    QVERIFY(cb.waitUntil(
        [&] {
            const auto r = m_apiB->get(QStringLiteral("/health/ready"), {});
            return r.status == 200 && r.json().value(QLatin1String("status")).toString() == QLatin1String("degraded")
                && r.json().value(QLatin1String("checks")).toObject().value(QLatin1String("redis")).toString()
                == QLatin1String("down");
        },
        10000));
    // Sent while the bus is down: stored and acked on A, not published.
    for (int i = 1; i <= 20; ++i)
        ca.send(ws::Send {i, roomId, QStringLiteral("during %1").arg(i), std::nullopt});
    QVERIFY(ca.waitForEvents(ch, 21));
    const QString restarted = m_redis.start();
    QVERIFY2(restarted.isEmpty(), qPrintable(restarted));
    // B's bus comes back, compares its channels with the database and delivers what it missed.
    QVERIFY2(cb.waitForEvents(ch, 21, 20000), qPrintable(QString::number(cb.events(ch).size())));
    const auto got = cb.events(ch);
    QCOMPARE(got.size(), 21);
    for (qsizetype i = 0; i < got.size(); ++i)
        QCOMPARE(got.at(i).seq, base + 1 + i);
    // Live again over the bus.
    ca.send(ws::Send {30, roomId, QStringLiteral("after"), std::nullopt});
    QVERIFY(cb.waitForEvents(ch, 22));
    QCOMPARE(cb.events(ch).constLast().message->body, QStringLiteral("after"));
}

QTEST_MAIN(TestClusterBus)
#include "tst_cluster_bus.moc"
