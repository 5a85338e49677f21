// The WebSocket channel of docs/protocol.md against the real taskmaster-server binary, with real
// QWebSocket clients, on SQLite and on a fresh PostgreSQL database (one server per back end):
// the handshake (token in hello, header or query; 4001 for a bad token, a late or a wrong first
// frame), send/ack/fan-out with the sender's ack before its event, exactly-once and in-order
// delivery under concurrent senders, resume of missed events and resync past the replay limit,
// the `history` frame, REST writes reaching sockets (messages, members, tasks), membership
// followed live, logout closing sockets with 4003, volatile events (typing, read, presence; a
// storm of 200 members connecting coalesced into a few list frames per observer), a
// table of malformed frames with their errors and close codes, and a slow reader closed with
// 4008 while another client keeps receiving, that resumes afterwards without a loss; hellos
// beyond --ws-hello-concurrency wait their turn, and beyond --ws-hello-queue are refused with
// `reconnect` (retryAfterMs) and 4013 while the session lookups are held up in PostgreSQL.
#include "tests/support/api_client.h"
#include "tests/support/metrics_text.h"
#include "tests/support/server_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"
#include "tests/support/ws_client.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>
#include <QTcpSocket>
#include <QTest>
#include <QUuid>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

using taskmaster::test::Account;
using taskmaster::test::backendRows;
using taskmaster::test::rowBackend;
using taskmaster::test::uniqueName;
using namespace taskmaster;
using taskmaster::test::ApiClient;
using taskmaster::test::ServerProcess;
using taskmaster::test::WsClient;

namespace {

// Small limits so the tests reach them quickly.
const QStringList kServerArgs {
    QStringLiteral("--ws-hello-timeout-ms"),
    QStringLiteral("500"),
    QStringLiteral("--ws-replay-limit"),
    QStringLiteral("40"),
    QStringLiteral("--presence-grace-ms"),
    QStringLiteral("300"),
    QStringLiteral("--ws-outbound-kib"),
    QStringLiteral("256"),
    QStringLiteral("--ws-rate"),
    QStringLiteral("100000"),
};

} // namespace

class TestWsHub final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();

    void handshake_data();
    void handshake();
    void badHandshake_data();
    void badHandshake();
    void sendAckFanOut_data() { backendRows(); }
    void sendAckFanOut();
    void concurrentSendersExactlyOnceInOrder_data() { backendRows(); }
    void concurrentSendersExactlyOnceInOrder();
    void resumeReplaysMissedEvents_data() { backendRows(); }
    void resumeReplaysMissedEvents();
    void resyncPastReplayLimit_data() { backendRows(); }
    void resyncPastReplayLimit();
    void historyFrame_data() { backendRows(); }
    void historyFrame();
    void restWritesReachSockets_data() { backendRows(); }
    void restWritesReachSockets();
    void logoutClosesSockets_data() { backendRows(); }
    void logoutClosesSockets();
    void volatileEvents_data() { backendRows(); }
    void volatileEvents();
    void presenceSnapshotAsList();
    void presenceOnJoin();
    void presenceStormIsCoalesced_data();
    void presenceStormIsCoalesced();
    void malformedFrames_data();
    void malformedFrames();
    void tooManyMalformedCloses4000();
    void oversizedFrameCloses1009();
    void slowReaderClosed4008_data() { backendRows(); }
    void slowReaderClosed4008();
    void rateLimitThen4029();
    void metricsAndAdminStats_data() { backendRows(); }
    void metricsAndAdminStats();
    void silentPeerClosedAfterIdleTimeout();
    void gracefulShutdown();
    void hellosQueuedThenRefusedWhenBusy();
    void reconnectWindowFollowsConnections();
    void drainSpreadsReconnectsOverTheWindow();

private:
    ServerProcess &server();
    ApiClient &api();
    QUrl wsUrl(const QString &query = {});
    Account user(const char *prefix = "u");
    qint64 room(const Account &owner, const QList<Account> &members);

    QString m_pgUrl;
    std::map<QString, std::unique_ptr<ServerProcess>> m_servers;
    std::map<QString, std::unique_ptr<ApiClient>> m_apis;
    std::map<QString, QByteArray> m_admins;
};

void TestWsHub::initTestCase()
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
        // The first user of a server is its admin.
        m_admins[backend] = m_apis[backend]->registerUser(uniqueName("admin")).second;
    }
}

void TestWsHub::cleanupTestCase()
{
    for (auto &[name, server] : m_servers)
        QCOMPARE(server->stop(), 0);
}

ServerProcess &TestWsHub::server()
{
    return *m_servers.at(rowBackend());
}

ApiClient &TestWsHub::api()
{
    return *m_apis.at(rowBackend());
}

QUrl TestWsHub::wsUrl(const QString &query)
{
    return server().wsUrl(query);
}

Account TestWsHub::user(const char *prefix)
{
    return api().signUp(prefix);
}

qint64 TestWsHub::room(const Account &owner, const QList<Account> &members)
{
    return api().createRoom(owner, members);
}

// ---- Handshake -----------------------------------------------------------------------------

void TestWsHub::handshake_data()
{
    QTest::addColumn<QString>("how");
    for (const char *backend : {"sqlite", "postgres"}) {
        for (const char *how : {"hello", "header", "query"})
            QTest::addRow("%s/%s", backend, how) << QString::fromLatin1(how);
    }
}

void TestWsHub::handshake()
{
    QFETCH(QString, how);
    const Account a = user();
    const qint64 roomId = room(a, {});
    QVERIFY(roomId > 0);
    WsClient c;
    if (how == QLatin1String("hello")) {
        QVERIFY(c.open(wsUrl()));
        c.send(ws::Hello {QString::fromUtf8(a.token), {}, false});
    } else if (how == QLatin1String("header")) {
        QVERIFY(c.open(wsUrl(), a.token));
        c.send(ws::Hello {});
    } else {
        QVERIFY(c.open(wsUrl(QStringLiteral("token=") + QString::fromUtf8(a.token))));
        c.send(ws::Hello {});
    }
    const auto welcome = c.take<ws::Welcome>();
    QVERIFY(welcome);
    QCOMPARE(welcome->userId, a.id);
    QVERIFY(!welcome->instance.isEmpty());
    // The room's channel at seq 1: the creator's member_joined.
    QCOMPARE(welcome->channels.value(Channel::room(roomId), -1), 1);
    c.send(ws::Ping {7, 1.5});
    const auto pong = c.take<ws::Pong>();
    QVERIFY(pong);
    QCOMPARE(pong->id, 7);
    QCOMPARE(pong->t, 1.5);
}

void TestWsHub::badHandshake_data()
{
    QTest::addColumn<QString>("first"); // the first frame ("" sends nothing)
    QTest::newRow("unknown token") << QStringLiteral(R"({"type":"hello","token":"nope"})");
    QTest::newRow("no token anywhere") << QStringLiteral(R"({"type":"hello"})");
    QTest::newRow("not hello first") << QStringLiteral(R"({"type":"ping","id":1})");
    QTest::newRow("not json") << QStringLiteral("hello?");
    QTest::newRow("nothing in time") << QString();
}

void TestWsHub::badHandshake()
{
    QFETCH(QString, first);
    WsClient c;
    QVERIFY(c.open(wsUrl()));
    if (!first.isEmpty())
        c.sendText(first);
    QVERIFY(c.waitForClosed(5000));
    QCOMPARE(c.closeCode(), 4001);
    QVERIFY(!c.take<ws::Welcome>({}, 0));
}

// ---- Durable events ------------------------------------------------------------------------

void TestWsHub::sendAckFanOut()
{
    const Account a = user(), b = user(), outsider = user();
    const qint64 roomId = room(a, {b});
    const Channel ch = Channel::room(roomId);
    WsClient ca, cb, co;
    QVERIFY(ca.connectAs(wsUrl(), a.token));
    QVERIFY(cb.connectAs(wsUrl(), b.token));
    QVERIFY(co.connectAs(wsUrl(), outsider.token));
    ca.send(ws::Send {11, roomId, QStringLiteral("hello 'b'; DROP TABLE messages; --"), QStringLiteral("c-1")});
    const auto ack = ca.take<ws::Ack>();
    QVERIFY(ack);
    QCOMPARE(ack->id, 11);
    QCOMPARE(ack->message.body, QStringLiteral("hello 'b'; DROP TABLE messages; --"));
    QCOMPARE(ack->message.seq, 3); // after two member_joined
    // The sender's ack comes before its own copy of the event.
    QVERIFY(ca.waitForEvents(ch, 1));
    qsizetype ackAt = -1, eventAt = -1;
    for (qsizetype i = 0; i < ca.received().size(); ++i) {
        if (std::holds_alternative<ws::Ack>(ca.received().at(i)))
            ackAt = i;
        if (std::holds_alternative<ChannelEvent>(ca.received().at(i)))
            eventAt = i;
    }
    QVERIFY(ackAt >= 0 && ackAt < eventAt);
    QVERIFY(cb.waitForEvents(ch, 1));
    const ChannelEvent e = cb.events(ch).constFirst();
    QCOMPARE(e.type, EventType::MessageCreated);
    QCOMPARE(e.seq, 3);
    QCOMPARE(e.message->id, ack->message.id);
    // Same clientId again: the first message is acked again, nothing new is fanned out.
    ca.send(ws::Send {12, roomId, QStringLiteral("again"), QStringLiteral("c-1")});
    const auto again = ca.take<ws::Ack>();
    QVERIFY(again);
    QCOMPARE(again->message.id, ack->message.id);
    // Edit and delete: acks and message_updated events with seqs of their own.
    ca.send(ws::Edit {13, ack->message.id, QStringLiteral("edited")});
    QVERIFY(ca.take<ws::Ack>([](const ws::Ack &x) { return x.id == 13 && x.message.body == QLatin1String("edited"); }));
    ca.send(ws::Delete {14, ack->message.id});
    QVERIFY(ca.take<ws::Ack>([](const ws::Ack &x) { return x.id == 14 && x.message.deleted; }));
    QVERIFY(cb.waitForEvents(ch, 3));
    const auto seen = cb.events(ch);
    QCOMPARE(seen.at(1).type, EventType::MessageUpdated);
    QCOMPARE(seen.at(1).seq, 4);
    QCOMPARE(seen.at(2).seq, 5);
    QVERIFY(seen.at(2).message->deleted);
    // b may not edit a's message; the outsider may not send into the room.
    cb.send(ws::Edit {21, ack->message.id, QStringLiteral("mine now")});
    const auto refused = cb.take<ws::ErrorFrame>();
    QVERIFY(refused);
    QCOMPARE(refused->id, 21);
    co.send(ws::Send {31, roomId, QStringLiteral("let me in"), std::nullopt});
    const auto notFound = co.take<ws::ErrorFrame>();
    QVERIFY(notFound);
    QCOMPARE(notFound->id, 31);
    QCOMPARE(notFound->error.code, ErrorCode::NotFound);
    QVERIFY(co.events(ch).isEmpty());
    QCOMPARE(cb.events(ch).size(), 3); // the duplicate and the refusals added nothing
}

void TestWsHub::concurrentSendersExactlyOnceInOrder()
{
    constexpr int kSenders = 4;
    constexpr int kPerSender = 60;
    const Account owner = user();
    QList<Account> members;
    for (int i = 0; i < kSenders; ++i)
        members.append(user());
    const Account reader = user();
    QList<Account> all = members;
    all.append(reader);
    const qint64 roomId = room(owner, all);
    const Channel ch = Channel::room(roomId);
    std::vector<std::unique_ptr<WsClient>> clients;
    Seq base = 0;
    for (const Account &m : all) {
        clients.push_back(std::make_unique<WsClient>());
        const auto welcome = clients.back()->connectAs(wsUrl(), m.token);
        QVERIFY(welcome);
        base = welcome->channels.value(ch);
    }
    // Everyone sends at once, interleaved.
    for (int n = 0; n < kPerSender; ++n) {
        for (int s = 0; s < kSenders; ++s) {
            clients[size_t(s)]->send(
                ws::Send {n, roomId, QStringLiteral("s%1 n%2").arg(s).arg(n), QStringLiteral("s%1-%2").arg(s).arg(n)});
        }
    }
    const qsizetype total = qsizetype(kSenders) * kPerSender;
    for (auto &c : clients)
        QVERIFY2(c->waitForEvents(ch, total), qPrintable(QString::number(c->events(ch).size())));
    for (size_t i = 0; i < clients.size(); ++i) {
        const QList<ChannelEvent> events = clients[i]->events(ch);
        QCOMPARE(events.size(), total); // exactly once
        QList<int> lastPerSender(kSenders, -1);
        for (qsizetype k = 0; k < events.size(); ++k) {
            QCOMPARE(events.at(k).seq, base + 1 + k); // contiguous, in order
            const QStringList parts = events.at(k).message->body.split(QLatin1Char(' '));
            const int s = parts.at(0).mid(1).toInt();
            const int n = parts.at(1).mid(1).toInt();
            QCOMPARE(n, lastPerSender[s] + 1); // each sender's messages in the order sent
            lastPerSender[s] = n;
        }
    }
    // Each sender's acks arrive in the order of its frames.
    for (int s = 0; s < kSenders; ++s) {
        int expected = 0;
        for (const ws::ServerFrame &f : clients[size_t(s)]->received()) {
            if (const auto *ack = std::get_if<ws::Ack>(&f)) {
                QCOMPARE(ack->id, expected);
                ++expected;
            }
        }
        QCOMPARE(expected, kPerSender);
    }
}

void TestWsHub::resumeReplaysMissedEvents()
{
    constexpr int kMissed = 25;
    const Account a = user(), b = user();
    const qint64 roomId = room(a, {b});
    const Channel ch = Channel::room(roomId);
    WsClient ca;
    QVERIFY(ca.connectAs(wsUrl(), a.token));
    Seq lastSeen = 0;
    {
        WsClient cb;
        const auto welcome = cb.connectAs(wsUrl(), b.token);
        QVERIFY(welcome);
        ca.send(ws::Send {1, roomId, QStringLiteral("before"), std::nullopt});
        QVERIFY(cb.waitForEvents(ch, 1));
        lastSeen = cb.events(ch).constLast().seq;
    }
    for (int i = 0; i < kMissed; ++i)
        ca.send(ws::Send {100 + i, roomId, QStringLiteral("missed %1").arg(i), std::nullopt});
    QVERIFY(ca.waitForEvents(ch, 1 + kMissed));
    WsClient cb;
    const auto welcome = cb.connectAs(wsUrl(), b.token, {{ch, lastSeen}});
    QVERIFY(welcome);
    QCOMPARE(welcome->channels.value(ch), lastSeen + kMissed);
    const auto resumed = cb.take<ws::Resumed>();
    QVERIFY(resumed);
    QCOMPARE(resumed->channel, ch);
    QCOMPARE(resumed->from, lastSeen + 1);
    QCOMPARE(resumed->to, lastSeen + kMissed);
    const QList<ChannelEvent> got = cb.events(ch);
    QCOMPARE(got.size(), kMissed);
    for (int i = 0; i < kMissed; ++i) {
        QCOMPARE(got.at(i).seq, lastSeen + 1 + i);
        QCOMPARE(got.at(i).message->body, QStringLiteral("missed %1").arg(i));
    }
    // Live again after the replay.
    ca.send(ws::Send {999, roomId, QStringLiteral("live"), std::nullopt});
    QVERIFY(cb.waitForEvents(ch, kMissed + 1));
    QCOMPARE(cb.events(ch).constLast().seq, lastSeen + kMissed + 1);
}

void TestWsHub::resyncPastReplayLimit()
{
    const Account a = user(), b = user();
    const qint64 roomId = room(a, {b});
    const Channel ch = Channel::room(roomId);
    WsClient ca;
    const auto start = ca.connectAs(wsUrl(), a.token);
    QVERIFY(start);
    const Seq before = start->channels.value(ch);
    for (int i = 0; i < 45; ++i) // the test server's replay limit is 40
        ca.send(ws::Send {i, roomId, QStringLiteral("m%1").arg(i), std::nullopt});
    QVERIFY(ca.waitForEvents(ch, 45));
    WsClient cb;
    QVERIFY(cb.connectAs(wsUrl(), b.token, {{ch, before}}));
    const auto resync = cb.take<ws::Resync>();
    QVERIFY(resync);
    QCOMPARE(resync->channel, ch);
    QVERIFY(!cb.take<ws::Resumed>({}, 200));
    QVERIFY(cb.events(ch).isEmpty());
}

void TestWsHub::historyFrame()
{
    const Account a = user(), outsider = user();
    const qint64 roomId = room(a, {});
    const Channel ch = Channel::room(roomId);
    WsClient c, co;
    QVERIFY(c.connectAs(wsUrl(), a.token));
    QVERIFY(co.connectAs(wsUrl(), outsider.token));
    for (int i = 0; i < 5; ++i)
        c.send(ws::Send {i, roomId, QStringLiteral("h%1").arg(i), std::nullopt});
    QVERIFY(c.waitForEvents(ch, 5));
    c.send(ws::HistoryRequest {77, ch, 2, 3});
    const auto reply = c.take<ws::HistoryReply>();
    QVERIFY(reply);
    QCOMPARE(reply->id, 77);
    QCOMPARE(reply->events.size(), 3);
    QCOMPARE(reply->events.at(0).seq, 3);
    QCOMPARE(reply->events.at(2).seq, 5);
    co.send(ws::HistoryRequest {78, ch, 0, 10});
    const auto refused = co.take<ws::ErrorFrame>();
    QVERIFY(refused);
    QCOMPARE(refused->id, 78);
    QCOMPARE(refused->error.code, ErrorCode::NotFound);
}

void TestWsHub::restWritesReachSockets()
{
    const Account a = user(), b = user();
    WsClient ca, cb;
    QVERIFY(ca.connectAs(wsUrl(), a.token));
    QVERIFY(cb.connectAs(wsUrl(), b.token));
    // A room created over REST with b: both sockets follow it from its first event.
    const qint64 roomId = room(a, {b});
    const Channel rch = Channel::room(roomId);
    QVERIFY(cb.waitForEvents(rch, 1));
    const auto sent = api().post(QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId),
                                 QJsonObject {{QStringLiteral("body"), QStringLiteral("over rest")}}, a.token);
    QCOMPARE(sent.status, 201);
    QVERIFY(cb.waitUntil(
        [&] {
            const auto ev = cb.events(rch);
            return !ev.isEmpty() && ev.constLast().type == EventType::MessageCreated;
        },
        10000));
    QCOMPARE(cb.events(rch).constLast().message->body, QStringLiteral("over rest"));
    // b removed: b sees its own member_left, then nothing more of the room.
    QCOMPARE(api().del(QStringLiteral("/api/v1/rooms/%1/members/%2").arg(roomId).arg(b.id), a.token).status, 204);
    QVERIFY(cb.waitUntil([&] { return cb.events(rch).constLast().type == EventType::MemberLeft; }, 10000));
    const qsizetype bCount = cb.events(rch).size();
    ca.send(ws::Send {1, roomId, QStringLiteral("b is gone"), std::nullopt});
    QVERIFY(ca.waitUntil(
        [&] {
            return ca.events(rch).constLast().message
                && ca.events(rch).constLast().message->body == QLatin1String("b is gone");
        },
        10000));
    QCOMPARE(cb.events(rch).size(), bCount);

    // A project: the owner's socket follows it at once; a task written over REST reaches it,
    // and a member added later receives its events from member_joined on.
    const auto project = api().post(QStringLiteral("/api/v1/projects"),
                                    QJsonObject {{QStringLiteral("name"), uniqueName("p")}}, a.token);
    QCOMPARE(project.status, 201);
    const qint64 projectId = project.json().value(QLatin1String("id")).toInteger();
    const Channel pch = Channel::project(projectId);
    // The subscription is made on the server's network thread after the REST reply: create tasks
    // until the socket has seen one.
    const auto task = api().post(QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId),
                                 QJsonObject {{QStringLiteral("title"), QStringLiteral("write tests")}}, a.token);
    QCOMPARE(task.status, 201);
    QVERIFY(ca.waitForEvents(pch, 1));
    QCOMPARE(ca.events(pch).constFirst().type, EventType::TaskCreated);
    QCOMPARE(ca.events(pch).constFirst().task->title, QStringLiteral("write tests"));
    QCOMPARE(api()
                 .post(QStringLiteral("/api/v1/projects/%1/members").arg(projectId),
                       QJsonObject {{QStringLiteral("userId"), b.id}}, a.token)
                 .status,
             200);
    QVERIFY(cb.waitForEvents(pch, 1));
    QCOMPARE(cb.events(pch).constFirst().type, EventType::MemberJoined);
    const qint64 taskId = task.json().value(QLatin1String("id")).toInteger();
    QCOMPARE(api()
                 .patch(QStringLiteral("/api/v1/tasks/%1").arg(taskId),
                        QJsonObject {{QStringLiteral("status"), QStringLiteral("done")}}, a.token)
                 .status,
             200);
    QVERIFY(cb.waitForEvents(pch, 2));
    QCOMPARE(cb.events(pch).at(1).type, EventType::TaskUpdated);
    QCOMPARE(cb.events(pch).at(1).task->status, TaskStatus::Done);
    QVERIFY(ca.waitForEvents(pch, 3));
    // Seqs on both sockets are the channel's, contiguous from where each joined.
    const auto aEvents = ca.events(pch);
    for (qsizetype i = 1; i < aEvents.size(); ++i)
        QCOMPARE(aEvents.at(i).seq, aEvents.at(i - 1).seq + 1);
}

void TestWsHub::logoutClosesSockets()
{
    const Account a = user();
    WsClient c1, c2;
    QVERIFY(c1.connectAs(wsUrl(), a.token));
    QVERIFY(c2.connectAs(wsUrl(), a.token));
    const Account other = user();
    WsClient c3;
    QVERIFY(c3.connectAs(wsUrl(), other.token));
    QCOMPARE(api().send("POST", QStringLiteral("/api/v1/auth/logout"), {}, test::RequestOptions {a.token}).status, 204);
    QVERIFY(c1.waitForClosed());
    QVERIFY(c2.waitForClosed());
    QCOMPARE(c1.closeCode(), 4003);
    QCOMPARE(c2.closeCode(), 4003);
    c3.send(ws::Ping {1, std::nullopt});
    QVERIFY(c3.take<ws::Pong>());
    QVERIFY(c3.isOpen());
    // The revoked token cannot come back.
    WsClient again;
    QVERIFY(again.open(wsUrl()));
    again.send(ws::Hello {QString::fromUtf8(a.token), {}, false});
    QVERIFY(again.waitForClosed());
    QCOMPARE(again.closeCode(), 4001);
}

void TestWsHub::volatileEvents()
{
    const Account a = user(), b = user();
    const qint64 roomId = room(a, {b});
    WsClient cb;
    QVERIFY(cb.connectAs(wsUrl(), b.token));
    {
        WsClient ca;
        QVERIFY(ca.connectAs(wsUrl(), a.token));
        QVERIFY(cb.take<ws::Presence>(
            [&](const ws::Presence &p) { return p.userId == a.id && p.status == ws::PresenceStatus::Online; }));
        ca.send(ws::Typing {roomId});
        ca.send(ws::Typing {roomId}); // within the interval: not repeated
        const auto typing = cb.take<ws::TypingEvent>();
        QVERIFY(typing);
        QCOMPARE(typing->userId, a.id);
        QCOMPARE(typing->roomId, roomId);
        ca.send(ws::Send {1, roomId, QStringLiteral("read me"), std::nullopt});
        QVERIFY(cb.waitForEvents(Channel::room(roomId), 1));
        const Seq seq = cb.events(Channel::room(roomId)).constLast().seq;
        cb.send(ws::Read {roomId, seq});
        const auto read = ca.take<ws::ReadEvent>();
        QVERIFY(read);
        QCOMPARE(read->userId, b.id);
        QCOMPARE(read->seq, seq);
        QVERIFY(!cb.take<ws::TypingEvent>({}, 300));
        // Not a member: typing into someone else's room is refused.
        const qint64 foreign = room(user(), {});
        ca.send(ws::Typing {foreign});
        QVERIFY(ca.take<ws::ErrorFrame>([](const ws::ErrorFrame &e) { return e.error.code == ErrorCode::NotFound; }));
        // A quick reconnect within the grace period does not flap.
        ca.close();
        QVERIFY(ca.waitForClosed());
        WsClient back;
        QVERIFY(back.connectAs(wsUrl(), a.token));
        QVERIFY(!cb.take<ws::Presence>({}, 600));
    }
    QVERIFY(cb.take<ws::Presence>(
        [&](const ws::Presence &p) { return p.userId == a.id && p.status == ws::PresenceStatus::Offline; }));
}

void TestWsHub::presenceSnapshotAsList()
{
    // b and c are online in a's room; d shares no room with a.
    const Account a = user(), b = user(), c = user(), d = user();
    room(a, {b, c});
    room(d, {});
    WsClient cb, cc, cd;
    QVERIFY(cb.connectAs(wsUrl(), b.token));
    QVERIFY(cc.connectAs(wsUrl(), c.token));
    QVERIFY(cd.connectAs(wsUrl(), d.token));
    QList<Id> expected {b.id, c.id};
    std::sort(expected.begin(), expected.end());
    // A hello asking for the list form: one frame with both, nothing per user.
    WsClient listed;
    QVERIFY(listed.open(wsUrl()));
    listed.send(ws::Hello {QString::fromUtf8(a.token), {}, true});
    QVERIFY(listed.take<ws::Welcome>());
    const auto snapshot = listed.take<ws::Presence>();
    QVERIFY(snapshot);
    QCOMPARE(snapshot->status, ws::PresenceStatus::Online);
    QCOMPARE(snapshot->userIds, expected);
    QVERIFY(!listed.take<ws::Presence>({}, 500));
    // Without it (every client written against the contract before the addition): one frame each.
    WsClient single;
    QVERIFY(single.connectAs(wsUrl(), a.token));
    QList<Id> seen;
    for (int i = 0; i < 2; ++i) {
        const auto p = single.take<ws::Presence>();
        QVERIFY(p);
        QVERIFY(p->userIds.isEmpty());
        QCOMPARE(p->status, ws::PresenceStatus::Online);
        seen.append(p->userId);
    }
    std::sort(seen.begin(), seen.end());
    QCOMPARE(seen, expected);
    QVERIFY(!single.take<ws::Presence>({}, 500));
    // Nobody online in d's rooms: no frame at all, listed or not.
    WsClient alone;
    QVERIFY(alone.open(wsUrl()));
    alone.send(ws::Hello {QString::fromUtf8(d.token), {}, true});
    QVERIFY(alone.take<ws::Welcome>());
    QVERIFY(!alone.take<ws::Presence>({}, 500));
}

void TestWsHub::presenceOnJoin()
{
    // a and b are connected and share no room; a creates one with b, then c (offline) joins it:
    // a and b learn of each other at once (not on their next reconnect), nobody hears of c.
    const Account a = user(), b = user(), c = user();
    WsClient ca, cb;
    QVERIFY(ca.connectAs(wsUrl(), a.token));
    QVERIFY(cb.connectAs(wsUrl(), b.token));
    QVERIFY(!ca.take<ws::Presence>({}, 300));
    const Id roomId = room(a, {b});
    const auto online = [](Id who) {
        return [who](const ws::Presence &p) {
            return p.status == ws::PresenceStatus::Online && (p.userId == who || p.userIds.contains(who));
        };
    };
    QVERIFY(ca.take<ws::Presence>(online(b.id)));
    QVERIFY(cb.take<ws::Presence>(online(a.id)));
    QCOMPARE(api()
                 .post(QStringLiteral("/api/v1/rooms/%1/members").arg(roomId),
                       QJsonObject {{QStringLiteral("userId"), c.id}}, a.token)
                 .status,
             200);
    QVERIFY(!ca.take<ws::Presence>(online(c.id), 500));
    // c connects: a hears it as usual, and c's snapshot has a.
    WsClient cc;
    QVERIFY(cc.connectAs(wsUrl(), c.token));
    QVERIFY(ca.take<ws::Presence>(online(c.id)));
    QVERIFY(cc.take<ws::Presence>(online(a.id)));
}

void TestWsHub::presenceStormIsCoalesced_data()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("postgres") << QStringLiteral("postgres");
}

namespace {
// The users a client was told online (or offline), list and single form, and in how many frames.
struct PresenceSeen {
    QSet<Id> online, offline;
    int frames = 0, listFrames = 0;
};
PresenceSeen presenceSeen(const WsClient &c)
{
    PresenceSeen seen;
    for (const ws::ServerFrame &f : c.received()) {
        const auto *p = std::get_if<ws::Presence>(&f);
        if (!p)
            continue;
        ++seen.frames;
        seen.listFrames += p->userIds.isEmpty() ? 0 : 1;
        QSet<Id> &set = p->status == ws::PresenceStatus::Online ? seen.online : seen.offline;
        if (p->userIds.isEmpty())
            set.insert(p->userId);
        for (Id id : p->userIds)
            set.insert(id);
    }
    return seen;
}
} // namespace

void TestWsHub::presenceStormIsCoalesced()
{
    // 200 members of one room connect at once: an observer that asked for the list form learns
    // that each is online in a few frames (one per presence window, --presence-batch-ms 100), not
    // one per member; a client without the list form still gets one single frame per member; and
    // every member learns about every other (its snapshot and the windows after it together).
    constexpr int kMembers = 200;
    const Account owner = user("storm-owner"), plain = user("storm-plain");
    QList<Account> members;
    for (int i = 0; i < kMembers; ++i)
        members.append(user("storm"));
    room(owner, QList<Account>(members) << plain);
    QSet<Id> memberIds;
    for (const Account &m : members)
        memberIds.insert(m.id);

    WsClient listed, single;
    QVERIFY(listed.open(wsUrl()));
    listed.send(ws::Hello {QString::fromUtf8(owner.token), {}, true});
    QVERIFY(listed.take<ws::Welcome>());
    QVERIFY(single.connectAs(wsUrl(), plain.token));
    QVERIFY(listed.waitUntil([&] { return presenceSeen(listed).online.contains(plain.id); }, 10000));
    const int listedBefore = presenceSeen(listed).frames;
    const int singleBefore = presenceSeen(single).frames;

    // The storm: all sockets open at once, each sends its hello as soon as it is connected.
    std::vector<std::unique_ptr<WsClient>> storm;
    QElapsedTimer took;
    took.start();
    for (int i = 0; i < kMembers; ++i) {
        storm.push_back(std::make_unique<WsClient>());
        WsClient *c = storm.back().get();
        const QString token = QString::fromUtf8(members[i].token);
        connect(&c->socket(), &QWebSocket::connected, c, [c, token] { c->send(ws::Hello {token, {}, true}); });
        c->socket().open(wsUrl());
    }
    for (auto &c : storm)
        QVERIFY(c->take<ws::Welcome>({}, 60000));
    QVERIFY(listed.waitUntil([&] { return presenceSeen(listed).online.contains(memberIds); }, 20000));
    const qint64 windows = took.elapsed() / 100 + 1;
    const PresenceSeen seenListed = presenceSeen(listed);
    const int listedFrames = seenListed.frames - listedBefore;
    qInfo("storm of %d connects in %lld ms: the list observer got %d presence frames (%d lists), at most %lld "
          "windows",
          kMembers, qint64(took.elapsed()), listedFrames, seenListed.listFrames, windows);
    QVERIFY(seenListed.offline.isEmpty());
    // At most one frame per window (only `online` here): nothing goes out per member.
    QVERIFY2(listedFrames <= windows + 1, qPrintable(QString::number(listedFrames)));
    QVERIFY2(listedFrames < kMembers / 2, qPrintable(QString::number(listedFrames)));

    // The single-form client: one frame per member, none in list form.
    QVERIFY(single.waitUntil([&] { return presenceSeen(single).online.contains(memberIds); }, 20000));
    const PresenceSeen seenSingle = presenceSeen(single);
    QCOMPARE(seenSingle.listFrames, 0);
    QCOMPARE(seenSingle.frames - singleBefore, kMembers);

    // Every member learns that everyone else in the room is online.
    QSet<Id> everyone = memberIds;
    everyone << owner.id << plain.id;
    for (int i = 0; i < kMembers; ++i) {
        QSet<Id> others = everyone;
        others.remove(members[i].id);
        QVERIFY2(
            storm[size_t(i)]->waitUntil([&] { return presenceSeen(*storm[size_t(i)]).online.contains(others); }, 20000),
            qPrintable(QStringLiteral("member %1 knows %2 of %3")
                           .arg(i)
                           .arg(presenceSeen(*storm[size_t(i)]).online.intersect(others).size())
                           .arg(others.size())));
        QVERIFY(!presenceSeen(*storm[size_t(i)]).online.contains(members[i].id));
    }

    // Half of them leave at once: offline after the grace, again in a few list frames.
    QSet<Id> leaving;
    for (int i = 0; i < kMembers / 2; ++i) {
        leaving.insert(members[i].id);
        storm[size_t(i)]->close();
    }
    const int onlineFrames = presenceSeen(listed).frames;
    QVERIFY(listed.waitUntil([&] { return presenceSeen(listed).offline.contains(leaving); }, 20000));
    const int offlineFrames = presenceSeen(listed).frames - onlineFrames;
    qInfo("%d leaving: %d presence frames to the list observer", kMembers / 2, offlineFrames);
    QVERIFY2(offlineFrames < kMembers / 4, qPrintable(QString::number(offlineFrames)));
    QVERIFY(single.waitUntil([&] { return presenceSeen(single).offline.contains(leaving); }, 20000));
    QCOMPARE(presenceSeen(single).offline.size(), kMembers / 2);
}

// ---- Bad input -----------------------------------------------------------------------------

void TestWsHub::malformedFrames_data()
{
    QTest::addColumn<QString>("frame");
    QTest::addColumn<QString>("code"); // error code of the reply
    QTest::addColumn<qint64>("id"); // id echoed (-1: none)
    QTest::newRow("not json") << QStringLiteral("{nope") << QStringLiteral("bad_request") << qint64(-1);
    QTest::newRow("array") << QStringLiteral("[1,2]") << QStringLiteral("bad_request") << qint64(-1);
    QTest::newRow("unknown type") << QStringLiteral(R"({"type":"shout","id":4})") << QStringLiteral("bad_request")
                                  << qint64(4);
    QTest::newRow("no type") << QStringLiteral(R"({"id":5})") << QStringLiteral("validation_failed") << qint64(5);
    QTest::newRow("roomId as string") << QStringLiteral(R"({"type":"send","id":6,"roomId":"1","body":"x"})")
                                      << QStringLiteral("validation_failed") << qint64(6);
    QTest::newRow("missing body") << QStringLiteral(R"({"type":"send","id":7,"roomId":1})")
                                  << QStringLiteral("validation_failed") << qint64(7);
    QTest::newRow("empty body") << QStringLiteral(R"({"type":"send","id":8,"roomId":1,"body":""})")
                                << QStringLiteral("validation_failed") << qint64(8);
    QTest::newRow("body too long")
        << QStringLiteral(R"({"type":"send","id":9,"roomId":1,"body":"%1"})").arg(QString(8193, QLatin1Char('x')))
        << QStringLiteral("payload_too_large") << qint64(9);
    QTest::newRow("bad channel") << QStringLiteral(R"({"type":"history","id":10,"channel":"lobby:1","after":0})")
                                 << QStringLiteral("validation_failed") << qint64(10);
    QTest::newRow("negative limit") << QStringLiteral(
        R"({"type":"history","id":11,"channel":"room:1","after":0,"limit":-1})")
                                    << QStringLiteral("validation_failed") << qint64(11);
    QTest::newRow("second hello") << QStringLiteral(R"({"type":"hello","token":"x"})") << QStringLiteral("bad_request")
                                  << qint64(-1);
    QTest::newRow("unknown room") << QStringLiteral(R"({"type":"send","id":12,"roomId":9000000000,"body":"x"})")
                                  << QStringLiteral("not_found") << qint64(12);
    QTest::newRow("unknown message") << QStringLiteral(R"({"type":"delete","id":13,"messageId":9000000000})")
                                     << QStringLiteral("not_found") << qint64(13);
    QTest::newRow("typing unknown room") << QStringLiteral(R"({"type":"typing","roomId":9000000000})")
                                         << QStringLiteral("not_found") << qint64(-1);
    QTest::newRow("binary") << QString() << QStringLiteral("bad_request") << qint64(-1);
}

void TestWsHub::malformedFrames()
{
    QFETCH(QString, frame);
    QFETCH(QString, code);
    QFETCH(qint64, id);
    const Account a = user();
    WsClient c;
    QVERIFY(c.connectAs(wsUrl(), a.token));
    if (frame.isEmpty())
        c.sendBinary(QByteArrayLiteral("\x01\x02"));
    else
        c.sendText(frame);
    const auto error = c.take<ws::ErrorFrame>();
    QVERIFY(error);
    QCOMPARE(errorCodeName(error->error.code), code);
    QCOMPARE(error->id.value_or(-1), id);
    // The connection stays usable.
    c.send(ws::Ping {1, std::nullopt});
    QVERIFY(c.take<ws::Pong>());
    QVERIFY(c.isOpen());
}

void TestWsHub::tooManyMalformedCloses4000()
{
    const Account a = user();
    WsClient c;
    QVERIFY(c.connectAs(wsUrl(), a.token));
    for (int i = 0; i < 9; ++i)
        c.sendText(QStringLiteral("garbage"));
    c.send(ws::Ping {1, std::nullopt}); // a good frame resets the count
    QVERIFY(c.take<ws::Pong>());
    for (int i = 0; i < 10; ++i)
        c.sendText(QStringLiteral("garbage"));
    QVERIFY(c.waitForClosed());
    QCOMPARE(c.closeCode(), 4000);
}

void TestWsHub::oversizedFrameCloses1009()
{
    const Account a = user();
    WsClient c;
    QVERIFY(c.connectAs(wsUrl(), a.token));
    c.sendText(QString(70 * 1024, QLatin1Char('x')));
    QVERIFY(c.waitForClosed());
    QCOMPARE(c.closeCode(), 1009);
}

// A WebSocket client on a bare QTcpSocket that can stop reading for real: with a small read
// buffer and nobody reading it, the kernel buffers fill and the server's outbound queue grows.
class RawWsClient {
public:
    bool open(const QUrl &url, int timeoutMs = 10000)
    {
        m_socket.connectToHost(url.host(), quint16(url.port()));
        if (!m_socket.waitForConnected(timeoutMs))
            return false;
        const QByteArray request = "GET " + url.path(QUrl::FullyEncoded).toLatin1() + "?"
            + url.query(QUrl::FullyEncoded).toLatin1() + " HTTP/1.1\r\nHost: " + url.host().toLatin1()
            + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              "Sec-WebSocket-Version: 13\r\n\r\n";
        m_socket.write(request);
        QDeadlineTimer deadline(timeoutMs);
        while (!m_buffer.contains("\r\n\r\n") && !deadline.hasExpired()) {
            if (m_socket.waitForReadyRead(100))
                m_buffer += m_socket.readAll();
        }
        const qsizetype end = m_buffer.indexOf("\r\n\r\n");
        if (end < 0 || !m_buffer.startsWith("HTTP/1.1 101"))
            return false;
        m_buffer.remove(0, end + 4);
        return true;
    }
    void sendText(const QByteArray &payload)
    {
        // Client frames are masked (RFC 6455); a zero mask keeps the payload as it is.
        QByteArray frame;
        frame.append(char(0x81));
        if (payload.size() < 126) {
            frame.append(char(0x80 | payload.size()));
        } else {
            frame.append(char(0x80 | 126));
            frame.append(char((payload.size() >> 8) & 0xff));
            frame.append(char(payload.size() & 0xff));
        }
        frame.append(4, '\0');
        frame.append(payload);
        m_socket.write(frame);
        m_socket.flush();
    }
    void stopReading() { m_socket.setReadBufferSize(4096); }
    // Reads until the server ends the connection; returns the text frames and the close code.
    bool readToEnd(int timeoutMs)
    {
        m_socket.setReadBufferSize(0);
        // Keeps the event loop running, so the test's other clients go on working meanwhile.
        const bool ended = QTest::qWaitFor(
            [this] {
                m_buffer += m_socket.readAll();
                return m_socket.state() != QAbstractSocket::ConnectedState;
            },
            timeoutMs);
        m_buffer += m_socket.readAll();
        parse();
        return ended;
    }
    QList<QByteArray> texts;
    int closeCode = -1;

private:
    void parse()
    {
        qsizetype at = 0;
        while (m_buffer.size() - at >= 2) {
            const int opcode = m_buffer.at(at) & 0x0f;
            qint64 length = m_buffer.at(at + 1) & 0x7f;
            qsizetype header = 2;
            if (length == 126) {
                length = (quint8(m_buffer.at(at + 2)) << 8) | quint8(m_buffer.at(at + 3));
                header = 4;
            } else if (length == 127) {
                length = 0;
                for (int k = 0; k < 8; ++k)
                    length = (length << 8) | quint8(m_buffer.at(at + 2 + k));
                header = 10;
            }
            if (m_buffer.size() - at < header + length)
                break;
            const QByteArray payload = m_buffer.mid(at + header, length);
            if (opcode == 1)
                texts.append(payload);
            else if (opcode == 8 && payload.size() >= 2)
                closeCode = (quint8(payload.at(0)) << 8) | quint8(payload.at(1));
            at += header + length;
        }
    }
    QTcpSocket m_socket;
    QByteArray m_buffer;
};

void TestWsHub::slowReaderClosed4008()
{
    const Account a = user(), b = user(), slow = user();
    const qint64 roomId = room(a, {b, slow});
    const Channel ch = Channel::room(roomId);
    WsClient ca, cb;
    QVERIFY(ca.connectAs(wsUrl(), a.token));
    QVERIFY(cb.connectAs(wsUrl(), b.token));
    RawWsClient raw;
    QVERIFY(raw.open(wsUrl(QStringLiteral("token=") + QString::fromUtf8(slow.token))));
    raw.sendText(R"({"type":"hello"})");
    raw.stopReading();
    const double closesBefore = test::scrapeMetric(api(), "websocket_slow_consumer_closes_total");
    QVERIFY(closesBefore >= 0);
    const QString body(8000, QLatin1Char('z'));
    int sent = 0;
    // Up to 40 MB: the kernel's socket buffers take a few MB, then the server's queue (256 KiB
    // on this test server) overflows.
    bool closed = false;
    while (!closed && sent < 5000) {
        for (int i = 0; i < 50; ++i, ++sent)
            ca.send(ws::Send {sent, roomId, body, std::nullopt});
        QVERIFY2(cb.waitForEvents(ch, sent, 30000), "a fast reader stopped receiving"); // the others keep up
        closed = test::scrapeMetric(api(), "websocket_slow_consumer_closes_total") > closesBefore;
    }
    QVERIFY2(closed, "the slow reader was never closed");
    QVERIFY(raw.readToEnd(20000));
    QCOMPARE(raw.closeCode, 4008);
    // What it got before the close: the welcome, then events in order without a duplicate.
    QList<ChannelEvent> before;
    for (const QByteArray &text : raw.texts) {
        auto frame = ws::decodeServerFrame(text);
        QVERIFY(frame);
        if (const auto *e = std::get_if<ChannelEvent>(&*frame))
            before.append(*e);
    }
    QVERIFY(before.size() < sent);
    for (qsizetype i = 1; i < before.size(); ++i)
        QCOMPARE(before.at(i).seq, before.at(i - 1).seq + 1);
    // It comes back with resume: exactly what it missed, in order (or resync when that is more
    // than the replay limit of 40).
    const Seq last = before.isEmpty() ? 3 : before.constLast().seq;
    WsClient back;
    const auto again = back.connectAs(wsUrl(), slow.token, {{ch, last}});
    QVERIFY(again);
    const Seq current = again->channels.value(ch);
    qInfo() << "slow reader: got" << before.size() << "events of" << sent << "up to seq" << last << "; now at"
            << current;
    if (current - last > 40) {
        QVERIFY(back.take<ws::Resync>());
    } else {
        QVERIFY(back.take<ws::Resumed>());
        const auto replayed = back.events(ch);
        QCOMPARE(replayed.size(), current - last);
        for (qsizetype i = 0; i < replayed.size(); ++i)
            QCOMPARE(replayed.at(i).seq, last + 1 + i);
    }
}

void TestWsHub::metricsAndAdminStats()
{
    QFETCH(QString, backend);
    const Account a = user(), b = user();
    const qint64 roomId = room(a, {b});
    WsClient ca, cb;
    QVERIFY(ca.connectAs(wsUrl(), a.token));
    QVERIFY(cb.connectAs(wsUrl(), b.token));
    ca.send(ws::Send {1, roomId, QStringLiteral("measured"), std::nullopt});
    QVERIFY(cb.waitForEvents(Channel::room(roomId), 1));
    const auto stats = api().get(QStringLiteral("/api/v1/admin/stats"), m_admins.at(backend));
    QCOMPARE(stats.status, 200);
    const QJsonObject rt = stats.json().value(QLatin1String("realtime")).toObject();
    QVERIFY(rt.value(QLatin1String("connections")).toInteger() >= 2);
    QVERIFY(rt.value(QLatin1String("eventsFannedOut")).toInteger() >= 2);
    const QJsonObject delivery = rt.value(QLatin1String("deliveryMs")).toObject();
    QVERIFY(delivery.value(QLatin1String("count")).toInteger() >= 1);
    QVERIFY(delivery.value(QLatin1String("p95")).toDouble() > 0);
    QVERIFY(rt.value(QLatin1String("groupCommit")).toObject().value(QLatin1String("enabled")).toBool());
    const auto metrics = api().get(QStringLiteral("/metrics"), {});
    QCOMPARE(metrics.status, 200);
    QVERIFY(test::scrapeMetric(api(), "websocket_active_connections") >= 2);
    QVERIFY(test::scrapeMetric(api(), "message_delivery_time_ms_count") >= 1);
    QVERIFY(metrics.body.contains("message_delivery_time_ms_bucket{le=\"+Inf\"}"));
    // The operator's figures beyond the hub: REST durations by route template, SQL by query
    // name, the database pool, the process.
    const QList<QByteArray> present {
        "http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/rooms\",status=\"201\"}",
        "http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/admin/"
        "stats\",status=\"200\",le=\"0.001\"}",
        "database_query_duration_seconds_count{query=\"sessions.user\"}",
        "\ndb_pool_connections ",
        "\ndb_pool_busy ",
        "\ndb_pool_idle ",
        "\ndb_pool_waiting ",
        "\ndb_pool_max_connections ",
        // Every cache kind's hit and miss series exist from the start (at 0 before any lookup).
        "cache_hits_total{cache=\"tasks\"} ",
        "cache_misses_total{cache=\"warm\"} ",
        "\ncache_warmed_total ",
        "rate_limited_requests_total{scope=\"auth\"} ",
        // The database's circuit breaker: closed, every transition series at 0 until one happens.
        "circuit_breaker_state{dependency=\"postgres\"} 0\n",
        "circuit_breaker_transitions_total{dependency=\"postgres\",to=\"open\"} 0\n",
        "circuit_breaker_transitions_total{dependency=\"postgres\",to=\"half_open\"} 0\n",
        "\nprocess_resident_memory_bytes ",
        "\nprocess_cpu_seconds_total ",
    };
    for (const QByteArray &line : present)
        QVERIFY2(metrics.body.contains(line), line.constData());
    QVERIFY(test::scrapeMetric(api(), "db_pool_connections") >= 1);
    QVERIFY(test::scrapeMetric(api(), "db_pool_max_connections") >= test::scrapeMetric(api(), "db_pool_connections"));
    QVERIFY(test::scrapeMetric(api(), "process_resident_memory_bytes") > 1e6);
}

// A server of its own with a low rate (5 frames/s, bursts of 10) and a 1 s idle timeout.
void TestWsHub::rateLimitThen4029()
{
    ServerProcess strict;
    QVERIFY2(strict.start({QStringLiteral("--ws-rate"), QStringLiteral("5"), QStringLiteral("--ws-idle-timeout-ms"),
                           QStringLiteral("1000")}),
             qPrintable(strict.errorText()));
    ApiClient strictApi(strict.url());
    const auto [id, token] = strictApi.registerUser(uniqueName("r"));
    Q_UNUSED(id);
    QUrl url = strict.url(QStringLiteral("/ws"));
    url.setScheme(QStringLiteral("ws"));
    WsClient c;
    QVERIFY(c.connectAs(url, token));
    for (int i = 0; i < 30; ++i)
        c.send(ws::Ping {i, std::nullopt});
    const auto limited = c.take<ws::ErrorFrame>();
    QVERIFY(limited);
    QCOMPARE(limited->error.code, ErrorCode::RateLimited);
    QVERIFY(limited->id.value_or(0) >= 10); // the burst passed
    QVERIFY(c.take<ws::Pong>([](const ws::Pong &p) { return p.id == 0; }));
    // Staying over the limit for more than 5 s closes the connection with 4029.
    QVERIFY(c.waitUntil(
        [&] {
            c.send(ws::Ping {99, std::nullopt});
            return !c.isOpen();
        },
        12000));
    QVERIFY(c.waitForClosed());
    QCOMPARE(c.closeCode(), 4029);
    QCOMPARE(strict.stop(), 0);
}

void TestWsHub::silentPeerClosedAfterIdleTimeout()
{
    ServerProcess strict;
    QVERIFY2(strict.start({QStringLiteral("--ws-idle-timeout-ms"), QStringLiteral("1000")}),
             qPrintable(strict.errorText()));
    ApiClient strictApi(strict.url());
    const auto [id, token] = strictApi.registerUser(uniqueName("i"));
    Q_UNUSED(id);
    QUrl url = strict.url(QStringLiteral("/ws"));
    url.setScheme(QStringLiteral("ws"));
    // A QWebSocket answers the server's pings by itself and stays.
    WsClient polite;
    QVERIFY(polite.connectAs(url, token));
    // A bare socket that never answers a ping is closed after the idle timeout.
    url.setQuery(QStringLiteral("token=") + QString::fromUtf8(token));
    RawWsClient raw;
    QVERIFY(raw.open(url));
    raw.sendText(R"({"type":"hello"})");
    QVERIFY(raw.readToEnd(10000));
    QCOMPARE(raw.closeCode, 1001);
    QVERIFY(polite.isOpen());
    polite.send(ws::Ping {1, std::nullopt});
    QVERIFY(polite.take<ws::Pong>());
    QCOMPARE(strict.stop(), 0);
}

// SIGTERM: sockets get `reconnect` then a 1001 close, and the process exits 0 well within the
// drain timeout; before that, /health/ready says ok with its checks.
void TestWsHub::gracefulShutdown()
{
    ServerProcess own;
    QVERIFY2(own.start({QStringLiteral("--drain-timeout-ms"), QStringLiteral("8000")}), qPrintable(own.errorText()));
    ApiClient ownApi(own.url());
    const auto ready = ownApi.get(QStringLiteral("/health/ready"), {});
    QCOMPARE(ready.status, 200);
    QCOMPARE(ready.json().value(QLatin1String("status")).toString(), QStringLiteral("ok"));
    const QJsonObject checks = ready.json().value(QLatin1String("checks")).toObject();
    QCOMPARE(checks.value(QLatin1String("database")).toString(), QStringLiteral("ok"));
    QCOMPARE(checks.value(QLatin1String("draining")).toString(), QStringLiteral("no"));
    QVERIFY(!checks.contains(QLatin1String("redis"))); // embedded: no Redis to check
    const auto [id, token] = ownApi.registerUser(uniqueName("g"));
    Q_UNUSED(id);
    QUrl url = own.url(QStringLiteral("/ws"));
    url.setScheme(QStringLiteral("ws"));
    WsClient c1, c2;
    QVERIFY(c1.connectAs(url, token));
    QVERIFY(c2.connectAs(url, token));
    QElapsedTimer clock;
    clock.start();
    own.process().terminate(); // SIGTERM
    const auto reconnect = c1.take<ws::Reconnect>();
    QVERIFY(reconnect);
    QVERIFY(!reconnect->reason.isEmpty());
    QVERIFY(reconnect->retryAfterMs >= 0);
    QVERIFY(c2.take<ws::Reconnect>());
    QVERIFY(c1.waitForClosed());
    QVERIFY(c2.waitForClosed());
    QCOMPARE(c1.closeCode(), 1001);
    QVERIFY(own.process().waitForFinished(8000));
    QCOMPARE(own.process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(own.process().exitCode(), 0);
    QVERIFY2(clock.elapsed() < 6000, qPrintable(QString::number(clock.elapsed()))); // did not wait for the timeout
    // Nothing listens any more.
    QCOMPARE(ownApi.get(QStringLiteral("/health"), {}).status, 0);
}

// The AdmissionGate for real: the session lookups of a PostgreSQL server are held up by a lock
// on the sessions table (a busy database), so 2 hellos are in flight, 3 wait and the other 3 are
// refused at once with `reconnect` {retryAfterMs} and 4013; once the lock goes, the 5 that were
// kept get their welcome, in no more time than the lookups take.
void TestWsHub::hellosQueuedThenRefusedWhenBusy()
{
    const QString dbUrl = test::freshPostgresUrl(m_pgUrl);
    ServerProcess own;
    QVERIFY2(own.start({QStringLiteral("--database-url"), dbUrl, QStringLiteral("--ws-hello-concurrency"),
                        QStringLiteral("2"), QStringLiteral("--ws-hello-queue"), QStringLiteral("3")}),
             qPrintable(own.errorText()));
    ApiClient ownApi(own.url());
    const QByteArray token = ownApi.signUp("busy").token;
    const QUrl url = own.wsUrl();

    constexpr int kClients = 8;
    std::vector<std::unique_ptr<WsClient>> clients;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(std::make_unique<WsClient>());
        QVERIFY(clients.back()->open(url));
    }
    const QString lockName = QStringLiteral("sessions-lock");
    {
        QSqlDatabase lock = test::openPostgres(dbUrl, lockName);
        QVERIFY2(lock.isOpen(), qPrintable(lock.lastError().text()));
        QSqlQuery q(lock);
        QVERIFY(q.exec(QStringLiteral("BEGIN")));
        QVERIFY(q.exec(QStringLiteral("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")));
        for (auto &c : clients)
            c->send(ws::Hello {QString::fromUtf8(token), {}, false});

        // Refused at once: a reconnect frame with a hint, then 4013.
        const auto refused = [&] {
            int n = 0;
            for (auto &c : clients)
                n += c->closeCode() == 4013 ? 1 : 0;
            return n;
        };
        QVERIFY(clients.front()->waitUntil([&] { return refused() == 3; }, 10000));
        for (auto &c : clients) {
            if (c->closeCode() != 4013)
                continue;
            const auto r = c->take<ws::Reconnect>({}, 0);
            QVERIFY(r);
            QCOMPARE(r->reason, QStringLiteral("server busy"));
            QVERIFY2(r->retryAfterMs >= 1000 && r->retryAfterMs <= 30000, qPrintable(QString::number(r->retryAfterMs)));
        }
        const QByteArray metrics = ownApi.metrics();
        QCOMPARE(test::metricSample(metrics, "websocket_hellos_waiting").value_or(-1), 3.0);
        QCOMPARE(test::metricSample(metrics, "websocket_hellos_queued_total").value_or(-1), 3.0);
        QCOMPARE(test::metricSample(metrics, "websocket_hellos_refused_total").value_or(-1), 3.0);
        // Nobody was welcomed while the lookups could not run.
        for (auto &c : clients)
            QVERIFY(!c->take<ws::Welcome>({}, 0));
        QVERIFY(q.exec(QStringLiteral("COMMIT")));
    }
    QSqlDatabase::removeDatabase(lockName);

    int welcomed = 0;
    for (auto &c : clients) {
        if (c->closeCode() == 4013)
            continue;
        QVERIFY(c->take<ws::Welcome>());
        ++welcomed;
    }
    QCOMPARE(welcomed, 5);
    QCOMPARE(test::scrapeMetric(ownApi, "websocket_hellos_waiting"), 0.0);
    QCOMPARE(own.stop(), 0);
}

// welcome and pong carry reconnectWindowMs: the instance's connections over --ws-reconnect-rate
// (here 1 a second: a second per connection), as of the frame; with the rate 0 there is no hint.
void TestWsHub::reconnectWindowFollowsConnections()
{
    ServerProcess own;
    QVERIFY2(own.start({QStringLiteral("--ws-reconnect-rate"), QStringLiteral("1")}), qPrintable(own.errorText()));
    ApiClient ownApi(own.url());
    const QByteArray token = ownApi.signUp("window").token;
    std::vector<std::unique_ptr<WsClient>> clients;
    for (int i = 1; i <= 3; ++i) {
        clients.push_back(std::make_unique<WsClient>());
        QVERIFY(clients.back()->open(own.wsUrl()));
        clients.back()->send(ws::Hello {QString::fromUtf8(token), {}, false});
        const auto welcome = clients.back()->take<ws::Welcome>();
        QVERIFY(welcome);
        QCOMPARE(welcome->reconnectWindowMs, std::optional<qint64>(i * 1000));
    }
    WsClient &first = *clients.front();
    first.send(ws::Ping {1, {}});
    const auto pong = first.take<ws::Pong>();
    QVERIFY(pong);
    QCOMPARE(pong->reconnectWindowMs, std::optional<qint64>(3000)); // it knows of the later two now
    clients.back()->close();
    QVERIFY(clients.back()->waitForClosed());
    std::optional<qint64> window;
    QVERIFY(first.waitUntil(
        [&] {
            first.send(ws::Ping {2, {}});
            const auto p = first.take<ws::Pong>();
            window = p ? p->reconnectWindowMs : std::nullopt;
            return window == 2000;
        },
        10000));

    ServerProcess quiet;
    QVERIFY2(quiet.start({QStringLiteral("--ws-reconnect-rate"), QStringLiteral("0")}), qPrintable(quiet.errorText()));
    ApiClient quietApi(quiet.url());
    WsClient c;
    QVERIFY(c.open(quiet.wsUrl()));
    c.send(ws::Hello {QString::fromUtf8(quietApi.signUp("nowindow").token), {}, false});
    const auto welcome = c.take<ws::Welcome>();
    QVERIFY(welcome);
    QVERIFY(!welcome->reconnectWindowMs);
}

// SIGTERM with 4 connections and --ws-drain-rate 1 (a 4 s drain window): the reconnect frames'
// retryAfterMs go from 500 ms to half the window in equal steps, so the clients (each waiting
// [N, 2N]) come back over about the window, not all within a second. The crash window
// (--ws-reconnect-rate, here 1000: 4 ms) does not set it.
void TestWsHub::drainSpreadsReconnectsOverTheWindow()
{
    ServerProcess own;
    QVERIFY2(own.start({QStringLiteral("--ws-drain-rate"), QStringLiteral("1"), QStringLiteral("--ws-reconnect-rate"),
                        QStringLiteral("1000")}),
             qPrintable(own.errorText()));
    ApiClient ownApi(own.url());
    const QByteArray token = ownApi.signUp("drain").token;
    std::vector<std::unique_ptr<WsClient>> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(std::make_unique<WsClient>());
        QVERIFY(clients.back()->open(own.wsUrl()));
        clients.back()->send(ws::Hello {QString::fromUtf8(token), {}, false});
        QVERIFY(clients.back()->take<ws::Welcome>());
    }
    own.process().terminate(); // SIGTERM
    QList<qint64> hints;
    for (auto &c : clients) {
        const auto r = c->take<ws::Reconnect>();
        QVERIFY(r);
        hints << r->retryAfterMs;
        QVERIFY(c->waitForClosed());
        QCOMPARE(c->closeCode(), 1001);
    }
    std::sort(hints.begin(), hints.end());
    QCOMPARE(hints, (QList<qint64> {500, 875, 1250, 1625}));
}

QTEST_MAIN(TestWsHub)
#include "tst_ws_hub.moc"
