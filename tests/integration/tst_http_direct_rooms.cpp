// Direct rooms (POST /api/v1/direct-rooms, docs/protocol.md section 6.4 "Direct rooms") through
// the real server binary on SQLite, on PostgreSQL, and on two instances sharing PostgreSQL and a
// Redis of the test's own ("cluster": the write on one instance, the socket on the other):
// created once and answered again (by either user), exactly two members that cannot change, a
// table of bad inputs with their errors, 20 concurrent opens making one room, and the other
// user's live socket following the new room without reconnecting.
#include "tests/support/api_client.h"
#include "tests/support/redis_process.h"
#include "tests/support/server_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"
#include "tests/support/ws_client.h"

#include <QNetworkReply>
#include <QSignalSpy>
#include <QTest>

#include <map>
#include <memory>

using namespace taskmaster;
using namespace taskmaster::test;

namespace {
// The servers of one back end: `write` takes the REST calls, `live` the other user's socket
// (the same server except in the cluster).
struct Backend {
    std::unique_ptr<ServerProcess> write;
    std::unique_ptr<ServerProcess> live;
    std::unique_ptr<ApiClient> api;
};

QJsonObject withUser(qint64 id)
{
    return QJsonObject {{QStringLiteral("userId"), id}};
}
} // namespace

class TestHttpDirectRooms final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanupTestCase();
    void openTwiceSameRoom_data() { backendRows(); }
    void openTwiceSameRoom();
    void membersCannotChange_data() { backendRows(); }
    void membersCannotChange();
    void badInput_data();
    void badInput();
    void concurrentOpensMakeOneRoom_data() { backendRows(); }
    void concurrentOpensMakeOneRoom();
    void otherMemberSocketFollows_data();
    void otherMemberSocketFollows();

private:
    void start(const QString &name, const QStringList &args, bool twoInstances);

    RedisProcess m_redis;
    std::map<QString, Backend> m_backends;
    Backend *m_b = nullptr;
    ApiClient *m_api = nullptr;
    Account m_alice, m_bob, m_carol;
};

void TestHttpDirectRooms::initTestCase()
{
    TM_REQUIRE_SERVICE(url, "TM_TEST_DATABASE_URL");
    start(QStringLiteral("sqlite"), {}, false);
    start(QStringLiteral("postgres"), {QStringLiteral("--database-url"), freshPostgresUrl(url)}, false);
    const QString redis = m_redis.start();
    QVERIFY2(redis.isEmpty(), qPrintable(redis));
    start(QStringLiteral("cluster"),
          {QStringLiteral("--database-url"), freshPostgresUrl(url), QStringLiteral("--redis-url"), m_redis.url()},
          true);
}

void TestHttpDirectRooms::start(const QString &name, const QStringList &args, bool twoInstances)
{
    Backend &b = m_backends[name];
    b.write = std::make_unique<ServerProcess>();
    QVERIFY2(b.write->start(args), qPrintable(b.write->errorText()));
    if (twoInstances) {
        b.live = std::make_unique<ServerProcess>();
        QVERIFY2(b.live->start(args), qPrintable(b.live->errorText()));
    }
    b.api = std::make_unique<ApiClient>(b.write->url());
}

void TestHttpDirectRooms::init()
{
    const char *tag = QTest::currentDataTag();
    const QString name = QString::fromLatin1(tag).section(QLatin1Char(' '), 0, 0);
    const auto it = m_backends.find(name);
    QVERIFY2(it != m_backends.end() && it->second.api, "this back end has no running server");
    m_b = &it->second;
    m_api = m_b->api.get();
    m_alice = m_api->signUp("alice");
    m_bob = m_api->signUp("bob");
    m_carol = m_api->signUp("carol");
}

void TestHttpDirectRooms::cleanupTestCase()
{
    for (auto &[name, b] : m_backends) {
        if (b.write)
            QCOMPARE(b.write->stop(), 0);
        if (b.live)
            QCOMPARE(b.live->stop(), 0);
    }
}

void TestHttpDirectRooms::openTwiceSameRoom()
{
    const ApiReply first = m_api->post(QStringLiteral("/api/v1/direct-rooms"), withUser(m_bob.id), m_alice.token);
    QCOMPARE(first.status, 201);
    const QJsonObject room = first.json();
    const qint64 id = room.value(QLatin1String("id")).toInteger();
    QVERIFY(id > 0);
    QCOMPARE(room.value(QLatin1String("kind")).toString(), QStringLiteral("direct"));
    QCOMPARE(room.value(QLatin1String("name")).toString(), QString());
    QCOMPARE(room.value(QLatin1String("memberIds")).toArray(),
             (QJsonArray {std::min(m_alice.id, m_bob.id), std::max(m_alice.id, m_bob.id)}));
    QCOMPARE(room.value(QLatin1String("lastSeq")).toInteger(), 2); // two member_joined events

    // Again, and from the other side: the same room, 200, no new event.
    const ApiReply again = m_api->post(QStringLiteral("/api/v1/direct-rooms"), withUser(m_bob.id), m_alice.token);
    QCOMPARE(again.status, 200);
    QCOMPARE(again.json().value(QLatin1String("id")).toInteger(), id);
    const ApiReply other = m_api->post(QStringLiteral("/api/v1/direct-rooms"), withUser(m_alice.id), m_bob.token);
    QCOMPARE(other.status, 200);
    QCOMPARE(other.json().value(QLatin1String("id")).toInteger(), id);
    QCOMPARE(other.json().value(QLatin1String("lastSeq")).toInteger(), 2);

    // A different pair gets a room of its own.
    const ApiReply carol = m_api->post(QStringLiteral("/api/v1/direct-rooms"), withUser(m_carol.id), m_alice.token);
    QCOMPARE(carol.status, 201);
    QVERIFY(carol.json().value(QLatin1String("id")).toInteger() != id);

    // Both see it in their room list; a message in it counts as unread for the other.
    QCOMPARE(m_api
                 ->post(QStringLiteral("/api/v1/rooms/%1/messages").arg(id),
                        QJsonObject {{QStringLiteral("body"), QStringLiteral("hi")}}, m_alice.token)
                 .status,
             201);
    for (const Account &who : {m_alice, m_bob}) {
        const ApiReply list = m_api->get(QStringLiteral("/api/v1/rooms"), who.token);
        QCOMPARE(list.status, 200);
        int found = 0;
        for (const QJsonValue &v : list.items()) {
            const QJsonObject r = v.toObject();
            if (r.value(QLatin1String("id")).toInteger() != id)
                continue;
            ++found;
            QCOMPARE(r.value(QLatin1String("kind")).toString(), QStringLiteral("direct"));
            QCOMPARE(r.value(QLatin1String("unread")).toInteger(), who.id == m_bob.id ? 1 : 0);
        }
        QCOMPARE(found, 1);
    }
    // Carol is not in it: 404 as for any room.
    QCOMPARE(m_api->get(QStringLiteral("/api/v1/rooms/%1").arg(id), m_carol.token).status, 404);
}

void TestHttpDirectRooms::membersCannotChange()
{
    const ApiReply dm = m_api->post(QStringLiteral("/api/v1/direct-rooms"), withUser(m_bob.id), m_alice.token);
    QCOMPARE(dm.status, 201);
    const qint64 id = dm.json().value(QLatin1String("id")).toInteger();
    const ApiReply add
        = m_api->post(QStringLiteral("/api/v1/rooms/%1/members").arg(id), withUser(m_carol.id), m_alice.token);
    QCOMPARE(add.status, 403);
    QCOMPARE(add.errorCode(), QStringLiteral("forbidden"));
    for (const auto &[caller, target] :
         {std::pair {m_alice, m_bob}, std::pair {m_alice, m_alice}, std::pair {m_bob, m_bob}}) {
        const ApiReply del
            = m_api->del(QStringLiteral("/api/v1/rooms/%1/members/%2").arg(id).arg(target.id), caller.token);
        QCOMPARE(del.status, 403);
        QCOMPARE(del.errorCode(), QStringLiteral("forbidden"));
    }
    // An outsider still gets 404 first (the room is not visible to them).
    QCOMPARE(
        m_api->post(QStringLiteral("/api/v1/rooms/%1/members").arg(id), withUser(m_carol.id), m_carol.token).status,
        404);
    const ApiReply room = m_api->get(QStringLiteral("/api/v1/rooms/%1").arg(id), m_bob.token);
    QCOMPARE(room.status, 200);
    QCOMPARE(room.json().value(QLatin1String("memberIds")).toArray().size(), 2);
    QCOMPARE(room.json().value(QLatin1String("lastSeq")).toInteger(), 2);
}

void TestHttpDirectRooms::badInput_data()
{
    QTest::addColumn<QByteArray>("body"); // {me}: the caller's id
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");
    const QByteArray json = "application/json";
    struct R {
        const char *name;
        QByteArray body;
        QByteArray type;
        int status;
        const char *code;
        const char *field;
    };
    const R rows[] = {
        {"not JSON", "{userId:", json, 400, "bad_request", ""},
        {"array", "[1]", json, 400, "bad_request", ""},
        {"no content type", R"({"userId":1})", "", 415, "unsupported_media_type", ""},
        {"userId missing", "{}", json, 422, "validation_failed", "userId"},
        {"userId string", R"({"userId":"1"})", json, 422, "validation_failed", "userId"},
        {"userId null", R"({"userId":null})", json, 422, "validation_failed", "userId"},
        {"userId float", R"({"userId":1.5})", json, 422, "validation_failed", "userId"},
        {"userId zero", R"({"userId":0})", json, 422, "validation_failed", "userId"},
        {"userId negative", R"({"userId":-3})", json, 422, "validation_failed", "userId"},
        {"userId is the caller", R"({"userId":{me}})", json, 422, "validation_failed", "userId"},
        {"userId unknown", R"({"userId":424242})", json, 404, "not_found", "userId"},
    };
    for (const char *b : {"sqlite", "postgres"}) {
        for (const R &r : rows) {
            QTest::addRow("%s %s", b, r.name)
                << r.body << r.type << r.status << QString::fromLatin1(r.code) << QString::fromLatin1(r.field);
        }
    }
}

void TestHttpDirectRooms::badInput()
{
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, contentType);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, field);
    body.replace("{me}", QByteArray::number(m_alice.id));
    const ApiReply r = m_api->send("POST", QStringLiteral("/api/v1/direct-rooms"), body,
                                   RequestOptions {m_alice.token, contentType});
    QVERIFY2(r.status == status,
             qPrintable(QStringLiteral("%1: %2").arg(r.status).arg(QString::fromUtf8(r.body.left(300)))));
    QCOMPARE(r.errorCode(), code);
    QVERIFY(!r.json().value(QLatin1String("error")).toObject().value(QLatin1String("message")).toString().isEmpty());
    if (!field.isEmpty())
        QCOMPARE(r.errorField(), field);
    // Nothing was created.
    QCOMPARE(m_api->get(QStringLiteral("/api/v1/rooms"), m_alice.token).items().size(), 0);
}

void TestHttpDirectRooms::concurrentOpensMakeOneRoom()
{
    // 20 opens of one pair in flight at once, half by each user: one room, one 201.
    QNetworkAccessManager nam;
    QList<QNetworkReply *> replies;
    for (int i = 0; i < 20; ++i) {
        const Account &caller = i % 2 ? m_bob : m_alice;
        const Account &other = i % 2 ? m_alice : m_bob;
        QNetworkRequest req(m_b->write->url(QStringLiteral("/api/v1/direct-rooms")));
        req.setRawHeader("Content-Type", "application/json");
        req.setRawHeader("Authorization", "Bearer " + caller.token);
        replies << nam.post(req, QJsonDocument(withUser(other.id)).toJson(QJsonDocument::Compact));
    }
    QSet<qint64> ids;
    int created = 0;
    for (QNetworkReply *r : replies) {
        QSignalSpy done(r, &QNetworkReply::finished);
        QVERIFY(r->isFinished() || done.wait(30000));
        const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray body = r->readAll();
        QVERIFY2(status == 200 || status == 201, qPrintable(QString::number(status) + QString::fromUtf8(body)));
        created += status == 201 ? 1 : 0;
        ids.insert(QJsonDocument::fromJson(body).object().value(QLatin1String("id")).toInteger());
        r->deleteLater();
    }
    QCOMPARE(created, 1);
    QCOMPARE(ids.size(), 1);
    for (const Account &who : {m_alice, m_bob}) {
        const ApiReply list = m_api->get(QStringLiteral("/api/v1/rooms"), who.token);
        QCOMPARE(list.items().size(), 1);
        QCOMPARE(list.items().first().toObject().value(QLatin1String("lastSeq")).toInteger(), 2);
    }
}

void TestHttpDirectRooms::otherMemberSocketFollows_data()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite") << QStringLiteral("sqlite");
    QTest::newRow("postgres") << QStringLiteral("postgres");
    QTest::newRow("cluster") << QStringLiteral("cluster");
}

void TestHttpDirectRooms::otherMemberSocketFollows()
{
    // Bob is connected before the room exists (in the cluster: to the other instance).
    ServerProcess *liveServer = m_b->live ? m_b->live.get() : m_b->write.get();
    WsClient bob;
    QVERIFY(bob.connectAs(liveServer->wsUrl(), m_bob.token));
    const ApiReply dm = m_api->post(QStringLiteral("/api/v1/direct-rooms"), withUser(m_bob.id), m_alice.token);
    QCOMPARE(dm.status, 201);
    const qint64 id = dm.json().value(QLatin1String("id")).toInteger();
    const Channel ch = Channel::room(id);
    // Bob is subscribed by his own member_joined (seq 2; Alice's, seq 1, came before it), as for a
    // group room he is added to (docs/protocol.md section 9.3).
    QVERIFY(bob.waitForEvents(ch, 1));
    const ApiReply sent
        = m_api->post(QStringLiteral("/api/v1/rooms/%1/messages").arg(id),
                      QJsonObject {{QStringLiteral("body"), QStringLiteral("@bob hello")}}, m_alice.token);
    QCOMPARE(sent.status, 201);
    QVERIFY(bob.waitForEvents(ch, 2));
    const QList<ChannelEvent> events = bob.events(ch);
    QCOMPARE(events.size(), 2);
    QCOMPARE(events.at(0).type, EventType::MemberJoined);
    QCOMPARE(events.at(0).seq, 2);
    QCOMPARE(events.at(0).userId.value_or(0), m_bob.id);
    QCOMPARE(events.at(1).type, EventType::MessageCreated);
    QCOMPARE(events.at(1).seq, 3);
    // Alice's socket, opened now, is subscribed to it from the start (welcome lists it).
    WsClient alice;
    const auto welcome = alice.connectAs(m_b->write->wsUrl(), m_alice.token);
    QVERIFY(welcome);
    QVERIFY(welcome->channels.contains(ch));
}

QTEST_MAIN(TestHttpDirectRooms)
#include "tst_http_direct_rooms.moc"
