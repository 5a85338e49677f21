// The REST API of auth, users, rooms and messages, through the real server binary, on SQLite and
// on PostgreSQL: happy paths, an authorization matrix, a table of bad inputs (each with its
// docs/protocol.md error), idempotent sends under concurrency, and a client that leaves before its
// reply. No response may ever be a 500.
// One server per back end serves every test (started in initTestCase); each test case registers
// its own users (names under a prefix of its own) and creates its own room, so no case sees
// another's data.
#include "tests/support/api_client.h"
#include "tests/support/server_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"

#include <QNetworkReply>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>

#include <map>
#include <memory>
#include <utility>

using namespace taskmaster::test;

namespace {
QJsonObject obj(std::initializer_list<std::pair<QString, QJsonValue>> fields)
{
    QJsonObject o;
    for (const auto &[k, v] : fields)
        o.insert(k, v);
    return o;
}

// What every test of one back end shares: its server and two accounts registered at start.
struct Backend {
    std::unique_ptr<ServerProcess> server;
    std::unique_ptr<ApiClient> api;
    QStringList args; // the server's arguments after ServerProcess's own: the database
    QByteArray adminToken; // the first user registered on the server: its admin
    QByteArray revokedToken; // a user's token, revoked by logout
};
} // namespace

class TestHttpRooms final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void cleanupTestCase();
    void authFlow_data() { backendRows(); }
    void authFlow();
    void roomsAndMessages_data() { backendRows(); }
    void roomsAndMessages();
    void authorizationMatrix_data();
    void authorizationMatrix();
    void badInput_data();
    void badInput();
    void concurrentSameClientId_data() { backendRows(); }
    void concurrentSameClientId();
    void clientLeavesBeforeReply_data() { backendRows(); }
    void clientLeavesBeforeReply();
    void search_data();
    void search();
    void adminStats_data() { backendRows(); }
    void adminStats();

private:
    void startBackend(const QString &name, const QStringList &args);
    // The running test's user "role": its name under the test's prefix.
    QString user(const char *role) const { return m_prefix + QString::fromLatin1(role); }

    std::map<QString, Backend> m_backends;
    int m_cases = 0; // test cases begun: makes the name prefixes
    // The running test's back end.
    Backend *m_backend = nullptr;
    ServerProcess *m_server = nullptr;
    ApiClient *m_api = nullptr;
    // The running test's users and room: Alice created the room with Bob in it, Carol is in none.
    QString m_prefix; // "c<n>.": no other test's user names start with it
    qint64 m_alice = 0, m_bob = 0, m_carol = 0;
    QByteArray m_aliceToken, m_bobToken, m_carolToken, m_revokedToken;
    qint64 m_room = 0;
};

void TestHttpRooms::initTestCase()
{
    TM_REQUIRE_SERVICE(url, "TM_TEST_DATABASE_URL");
    startBackend(QStringLiteral("sqlite"), {});
    if (QTest::currentTestFailed())
        return;
    startBackend(QStringLiteral("postgres"), {QStringLiteral("--database-url"), freshPostgresUrl(url)});
}

void TestHttpRooms::startBackend(const QString &name, const QStringList &args)
{
    Backend &b = m_backends[name];
    b.args = args;
    b.server = std::make_unique<ServerProcess>();
    QVERIFY2(b.server->start(args), qPrintable(b.server->errorText()));
    b.api = std::make_unique<ApiClient>(b.server->url());
    // The first user is the admin. Names without a case prefix ("c<n>.") clash with no test's.
    std::tie(std::ignore, b.adminToken) = b.api->registerUser(QStringLiteral("admin"));
    std::tie(std::ignore, b.revokedToken) = b.api->registerUser(QStringLiteral("revoked"));
    QCOMPARE(b.api->send("POST", QStringLiteral("/api/v1/auth/logout"), {}, RequestOptions {b.revokedToken}).status,
             204);
}

void TestHttpRooms::init()
{
    const bool pg = QByteArray(QTest::currentDataTag()).startsWith("postgres");
    const auto it = m_backends.find(pg ? QStringLiteral("postgres") : QStringLiteral("sqlite"));
    QVERIFY2(it != m_backends.end() && it->second.api, "this back end has no running server");
    m_backend = &it->second;
    m_server = m_backend->server.get();
    m_api = m_backend->api.get();
    m_prefix = QStringLiteral("c%1.").arg(++m_cases);
    std::tie(m_alice, m_aliceToken) = m_api->registerUser(user("alice"));
    std::tie(m_bob, m_bobToken) = m_api->registerUser(user("bob"));
    std::tie(m_carol, m_carolToken) = m_api->registerUser(user("carol"));
    m_revokedToken = m_backend->revokedToken;
    const ApiReply room = m_api->post(
        QStringLiteral("/api/v1/rooms"),
        obj({{QStringLiteral("name"), QStringLiteral("general")}, {QStringLiteral("memberIds"), QJsonArray {m_bob}}}),
        m_aliceToken);
    QCOMPARE(room.status, 201);
    m_room = room.json().value(QLatin1String("id")).toInteger();
}

void TestHttpRooms::cleanup()
{
    Backend *b = std::exchange(m_backend, nullptr);
    m_server = nullptr;
    m_api = nullptr;
    if (!b || b->server->process().state() == QProcess::Running)
        return;
    // The server died during the test (or a failed test left it stopped): that test fails, and the
    // back end gets a server again (same data) for the tests after it.
    const QString output = QString::fromUtf8(b->server->output() + b->server->process().readAllStandardError());
    const bool restarted = b->server->start(b->args);
    b->api = restarted ? std::make_unique<ApiClient>(b->server->url()) : nullptr;
    QFAIL(qPrintable(QStringLiteral("the server is not running: ") + output));
}

void TestHttpRooms::cleanupTestCase()
{
    for (auto &[name, b] : m_backends) {
        if (b.server)
            QCOMPARE(b.server->stop(), 0);
    }
}

void TestHttpRooms::authFlow()
{
    // The first user is the admin (registered when the server started), later ones are members;
    // usernames are case-folded and unique.
    ApiReply me = m_api->get(QStringLiteral("/api/v1/me"), m_backend->adminToken);
    QCOMPARE(me.status, 200);
    QCOMPARE(me.json().value(QLatin1String("role")).toString(), QStringLiteral("admin"));
    QCOMPARE(m_api->get(QStringLiteral("/api/v1/me"), m_bobToken).json().value(QLatin1String("role")).toString(),
             QStringLiteral("member"));
    ApiReply dup = m_api->post(QStringLiteral("/api/v1/auth/register"),
                               obj({{QStringLiteral("username"), user("alice").toUpper()},
                                    {QStringLiteral("password"), QStringLiteral("password123")},
                                    {QStringLiteral("displayName"), QStringLiteral("x")}}));
    QCOMPARE(dup.status, 409);
    QCOMPARE(dup.errorCode(), QStringLiteral("conflict"));
    QCOMPARE(dup.errorField(), QStringLiteral("username"));

    // Login: right password gives a new token, wrong password and unknown user the same 401.
    ApiReply login = m_api->post(
        QStringLiteral("/api/v1/auth/login"),
        obj({{QStringLiteral("username"), user("Bob")}, {QStringLiteral("password"), QStringLiteral("password123")}}));
    QCOMPARE(login.status, 200);
    const QByteArray second = login.json().value(QLatin1String("token")).toString().toLatin1();
    QVERIFY(second.size() >= 22 && second != m_bobToken);
    for (const auto &[name, password] : {std::pair {"bob", "wrong-password"}, std::pair {"nobody", "password123"}}) {
        ApiReply bad = m_api->post(QStringLiteral("/api/v1/auth/login"),
                                   obj({{QStringLiteral("username"), user(name)},
                                        {QStringLiteral("password"), QString::fromLatin1(password)}}));
        QCOMPARE(bad.status, 401);
        QCOMPARE(bad.errorCode(), QStringLiteral("unauthorized"));
    }
    // Logout revokes only that token.
    QCOMPARE(m_api->send("POST", QStringLiteral("/api/v1/auth/logout"), {}, RequestOptions {second}).status, 204);
    QCOMPARE(m_api->get(QStringLiteral("/api/v1/me"), second).status, 401);
    QCOMPARE(m_api->get(QStringLiteral("/api/v1/me"), m_bobToken).status, 200);

    // The token survives a restart of the server (sessions are stored): another server process on
    // the same data directory (SQLite) or database (PostgreSQL) knows it, and then the back end's
    // own server starts again for the tests after this one.
    QCOMPARE(m_server->stop(), 0);
    ServerProcess again;
    QStringList restartArgs {QStringLiteral("--data-dir"), m_server->dataDir()};
    restartArgs += m_backend->args;
    QVERIFY2(again.start(restartArgs), qPrintable(again.errorText()));
    ApiClient api(again.url());
    QCOMPARE(api.get(QStringLiteral("/api/v1/me"), m_bobToken).status, 200);
    QCOMPARE(again.stop(), 0);
    QVERIFY(m_server->start(m_backend->args));
    m_backend->api = std::make_unique<ApiClient>(m_server->url());
    m_api = m_backend->api.get();

    // Users: search by prefix and by id.
    ApiReply search = m_api->get(QStringLiteral("/api/v1/users?q=") + user("ca"), m_aliceToken);
    QCOMPARE(search.status, 200);
    QCOMPARE(search.items().size(), 1);
    QCOMPARE(search.items().at(0).toObject().value(QLatin1String("username")).toString(), user("carol"));
    QCOMPARE(m_api->get(QStringLiteral("/api/v1/users/%1").arg(m_carol), m_aliceToken).status, 200);
    QCOMPARE(m_api->get(QStringLiteral("/api/v1/users/999999"), m_aliceToken).status, 404);
}

void TestHttpRooms::roomsAndMessages()
{
    const QString base = QStringLiteral("/api/v1/rooms/%1").arg(m_room);
    // Send, resend with the same clientId (the first message answers), history.
    const QString verbatim = QStringLiteral("'; DROP TABLE messages; -- <b>\\u00e9</b> \U0001F680");
    ApiReply sent = m_api->post(
        base + QStringLiteral("/messages"),
        obj({{QStringLiteral("body"), verbatim}, {QStringLiteral("clientId"), QStringLiteral("c-1")}}), m_bobToken);
    QCOMPARE(sent.status, 201);
    const QJsonObject message = sent.json();
    QCOMPARE(message.value(QLatin1String("body")).toString(), verbatim);
    QCOMPARE(message.value(QLatin1String("seq")).toInteger(), 3); // seqs 1 and 2: the members joining
    ApiReply again = m_api->post(base + QStringLiteral("/messages"),
                                 obj({{QStringLiteral("body"), QStringLiteral("different")},
                                      {QStringLiteral("clientId"), QStringLiteral("c-1")}}),
                                 m_bobToken);
    QCOMPARE(again.status, 200);
    QCOMPARE(again.json(), message);
    for (int i = 0; i < 5; ++i)
        QCOMPARE(m_api
                     ->post(base + QStringLiteral("/messages"),
                            obj({{QStringLiteral("body"), QStringLiteral("m%1").arg(i)}}), m_aliceToken)
                     .status,
                 201);

    ApiReply latest = m_api->get(base + QStringLiteral("/messages?limit=3"), m_aliceToken);
    QCOMPARE(latest.status, 200);
    QCOMPARE(latest.items().size(), 3);
    QCOMPARE(latest.items().at(0).toObject().value(QLatin1String("seq")).toInteger(), 6);
    QVERIFY(latest.json().value(QLatin1String("hasMore")).toBool());
    ApiReply older = m_api->get(base + QStringLiteral("/messages?before=6&limit=10"), m_aliceToken);
    QCOMPARE(older.items().size(), 3);
    QVERIFY(!older.json().value(QLatin1String("hasMore")).toBool());
    ApiReply newer = m_api->get(base + QStringLiteral("/messages?after=6"), m_aliceToken);
    QCOMPARE(newer.items().size(), 2);

    // ETag: the same page answers 304 to If-None-Match, and a new message changes it.
    const QByteArray etag = latest.header("ETag");
    QVERIFY(!etag.isEmpty());
    QCOMPARE(latest.header("X-Cache"), QByteArray("MISS")); // no cache yet: every page is computed
    ApiReply cached = m_api->send("GET", base + QStringLiteral("/messages?limit=3"), {},
                                  RequestOptions {m_aliceToken, {}, {{"If-None-Match", etag}}});
    QCOMPARE(cached.status, 304);
    QVERIFY(cached.body.isEmpty());

    // Unread counts follow the read marker.
    auto unreadOf = [&](const QByteArray &token) {
        for (const QJsonValue &r : m_api->get(QStringLiteral("/api/v1/rooms"), token).items()) {
            if (r.toObject().value(QLatin1String("id")).toInteger() == m_room)
                return r.toObject().value(QLatin1String("unread")).toInteger();
        }
        return qint64(-1);
    };
    QCOMPARE(unreadOf(m_bobToken), qint64(5));
    QCOMPARE(unreadOf(m_aliceToken), qint64(1));
    QCOMPARE(m_api->post(base + QStringLiteral("/read"), obj({{QStringLiteral("seq"), 6}}), m_bobToken).status, 204);
    QCOMPARE(unreadOf(m_bobToken), qint64(2));

    // Edit and delete: author only; delete leaves a tombstone.
    const QString msgPath = QStringLiteral("/api/v1/messages/%1").arg(message.value(QLatin1String("id")).toInteger());
    QCOMPARE(m_api->patch(msgPath, obj({{QStringLiteral("body"), QStringLiteral("hijack")}}), m_aliceToken).status,
             403);
    ApiReply edited = m_api->patch(msgPath, obj({{QStringLiteral("body"), QStringLiteral("edited")}}), m_bobToken);
    QCOMPARE(edited.status, 200);
    QCOMPARE(edited.json().value(QLatin1String("body")).toString(), QStringLiteral("edited"));
    QVERIFY(edited.json().value(QLatin1String("editedAt")).isString());
    ApiReply deleted = m_api->del(msgPath, m_bobToken);
    QCOMPARE(deleted.status, 200);
    QVERIFY(deleted.json().value(QLatin1String("deleted")).toBool());
    QCOMPARE(deleted.json().value(QLatin1String("body")).toString(), QString());

    // Members: add Carol, she sees the room; remove her, she does not.
    ApiReply added
        = m_api->post(base + QStringLiteral("/members"), obj({{QStringLiteral("userId"), m_carol}}), m_bobToken);
    QCOMPARE(added.status, 200);
    QVERIFY(added.json().value(QLatin1String("memberIds")).toArray().contains(m_carol));
    QCOMPARE(m_api->get(base, m_carolToken).status, 200);
    QCOMPARE(m_api->del(base + QStringLiteral("/members/%1").arg(m_carol), m_aliceToken).status, 204);
    QCOMPARE(m_api->get(base, m_carolToken).status, 404);
}

// Each route as a member, a non-member, without a token and with a revoked token.
void TestHttpRooms::authorizationMatrix_data()
{
    QTest::addColumn<QString>("backend");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("path"); // %1: the room id
    QTest::addColumn<QByteArray>("body"); // {carol}: Carol's id
    QTest::addColumn<int>("memberStatus");
    struct R {
        const char *name;
        const char *method;
        const char *path;
        const char *body;
        int memberStatus;
    };
    const R routes[] = {
        {"list rooms", "GET", "/api/v1/rooms", "", 200},
        {"get room", "GET", "/api/v1/rooms/%1", "", 200},
        {"history", "GET", "/api/v1/rooms/%1/messages", "", 200},
        {"send", "POST", "/api/v1/rooms/%1/messages", R"({"body":"hi"})", 201},
        {"read marker", "POST", "/api/v1/rooms/%1/read", R"({"seq":1})", 204},
        {"add member", "POST", "/api/v1/rooms/%1/members", R"({"userId":{carol}})", 200},
        {"me", "GET", "/api/v1/me", "", 200},
        {"users", "GET", "/api/v1/users?q=a", "", 200},
    };
    for (const char *b : {"sqlite", "postgres"}) {
        for (const R &r : routes) {
            QTest::addRow("%s %s", b, r.name) << QString::fromLatin1(b) << QByteArray(r.method)
                                              << QString::fromLatin1(r.path) << QByteArray(r.body) << r.memberStatus;
        }
    }
}

void TestHttpRooms::authorizationMatrix()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    QFETCH(int, memberStatus);
    const QString p = path.contains(QLatin1String("%1")) ? path.arg(m_room) : path;
    const bool roomRoute = path.contains(QLatin1String("%1"));
    body.replace("{carol}", QByteArray::number(m_carol));

    ApiReply none = m_api->send(method, p, body, RequestOptions {});
    QCOMPARE(none.status, 401);
    QCOMPARE(none.errorCode(), QStringLiteral("unauthorized"));
    ApiReply revoked = m_api->send(method, p, body, RequestOptions {m_revokedToken});
    QCOMPARE(revoked.status, 401);
    ApiReply garbage = m_api->send(method, p, body, RequestOptions {"not-a-token"});
    QCOMPARE(garbage.status, 401);
    // Carol is not in the room: a room route answers 404 as if it did not exist.
    ApiReply outsider = m_api->send(method, p, body, RequestOptions {m_carolToken});
    QCOMPARE(outsider.status, roomRoute ? 404 : memberStatus);
    if (roomRoute)
        QCOMPARE(outsider.errorCode(), QStringLiteral("not_found"));
    ApiReply member = m_api->send(method, p, body, RequestOptions {m_bobToken});
    QCOMPARE(member.status, memberStatus);
}

void TestHttpRooms::badInput_data()
{
    QTest::addColumn<QString>("backend");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("path"); // %1: the room id
    QTest::addColumn<QByteArray>("body"); // {bob}: Bob's id
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");
    const QByteArray json = "application/json";
    const QByteArray huge = "{\"body\":\"" + QByteArray(1100 * 1024, 'x') + "\"}";
    const QByteArray longBody = "{\"body\":\"" + QByteArray(8193, 'x') + "\"}";
    struct R {
        const char *name;
        QByteArray method;
        const char *path;
        QByteArray body;
        QByteArray type;
        int status;
        const char *code;
        const char *field;
    };
    const R rows[] = {
        {"send: not JSON", "POST", "/api/v1/rooms/%1/messages", "{body:", json, 400, "bad_request", ""},
        {"send: array", "POST", "/api/v1/rooms/%1/messages", "[1,2]", json, 400, "bad_request", ""},
        {"send: no content type", "POST", "/api/v1/rooms/%1/messages", R"({"body":"x"})", "", 415,
         "unsupported_media_type", ""},
        {"send: text/plain", "POST", "/api/v1/rooms/%1/messages", R"({"body":"x"})", "text/plain", 415,
         "unsupported_media_type", ""},
        {"send: body missing", "POST", "/api/v1/rooms/%1/messages", R"({"clientId":"x"})", json, 422,
         "validation_failed", "body"},
        {"send: body number", "POST", "/api/v1/rooms/%1/messages", R"({"body":5})", json, 422, "validation_failed",
         "body"},
        {"send: body empty", "POST", "/api/v1/rooms/%1/messages", R"({"body":""})", json, 422, "validation_failed",
         "body"},
        {"send: body over 8192", "POST", "/api/v1/rooms/%1/messages", longBody, json, 413, "payload_too_large", "body"},
        {"send: request over 1 MiB", "POST", "/api/v1/rooms/%1/messages", huge, json, 413, "payload_too_large", ""},
        {"send: clientId too long", "POST", "/api/v1/rooms/%1/messages",
         "{\"body\":\"x\",\"clientId\":\"" + QByteArray(65, 'c') + "\"}", json, 422, "validation_failed", "clientId"},
        {"send: unknown room", "POST", "/api/v1/rooms/999999/messages", R"({"body":"x"})", json, 404, "not_found", ""},
        {"send: room id not a number", "POST", "/api/v1/rooms/abc/messages", R"({"body":"x"})", json, 404, "not_found",
         ""},
        {"send: room id zero", "POST", "/api/v1/rooms/0/messages", R"({"body":"x"})", json, 404, "not_found", ""},
        {"send: room id overflow", "POST", "/api/v1/rooms/99999999999999999999/messages", R"({"body":"x"})", json, 404,
         "not_found", ""},
        {"create room: name missing", "POST", "/api/v1/rooms", R"({"memberIds":[]})", json, 422, "validation_failed",
         "name"},
        {"create room: name too long", "POST", "/api/v1/rooms", "{\"name\":\"" + QByteArray(101, 'n') + "\"}", json,
         422, "validation_failed", "name"},
        {"create room: memberIds not array", "POST", "/api/v1/rooms", R"({"name":"r","memberIds":"1"})", json, 422,
         "validation_failed", "memberIds"},
        {"create room: member id float", "POST", "/api/v1/rooms", R"({"name":"r","memberIds":[1.5]})", json, 422,
         "validation_failed", ""},
        {"create room: unknown member", "POST", "/api/v1/rooms", R"({"name":"r","memberIds":[424242]})", json, 422,
         "validation_failed", "memberIds"},
        {"add member: unknown user", "POST", "/api/v1/rooms/%1/members", R"({"userId":424242})", json, 404, "not_found",
         "userId"},
        {"add member: already member", "POST", "/api/v1/rooms/%1/members", R"({"userId":{bob}})", json, 409, "conflict",
         "userId"},
        {"add member: userId string", "POST", "/api/v1/rooms/%1/members", R"({"userId":"2"})", json, 422,
         "validation_failed", "userId"},
        {"read: negative seq", "POST", "/api/v1/rooms/%1/read", R"({"seq":-1})", json, 422, "validation_failed", "seq"},
        {"history: limit zero", "GET", "/api/v1/rooms/%1/messages?limit=0", "", "", 400, "bad_request", "limit"},
        {"history: limit text", "GET", "/api/v1/rooms/%1/messages?limit=ten", "", "", 400, "bad_request", "limit"},
        {"history: before and after", "GET", "/api/v1/rooms/%1/messages?before=5&after=1", "", "", 400, "bad_request",
         ""},
        {"history: before not a number", "GET", "/api/v1/rooms/%1/messages?before=x", "", "", 400, "bad_request",
         "before"},
        {"register: short password", "POST", "/api/v1/auth/register",
         R"({"username":"zed","password":"short","displayName":"Z"})", json, 422, "validation_failed", "password"},
        {"register: bad username", "POST", "/api/v1/auth/register",
         R"({"username":"a b","password":"password123","displayName":"Z"})", json, 422, "validation_failed",
         "username"},
        {"register: no display name", "POST", "/api/v1/auth/register", R"({"username":"zed","password":"password123"})",
         json, 422, "validation_failed", "displayName"},
        {"login: password number", "POST", "/api/v1/auth/login", R"({"username":"alice","password":1})", json, 422,
         "validation_failed", "password"},
        {"wrong method", "PUT", "/api/v1/rooms/%1", "", "", 405, "method_not_allowed", ""},
        {"unknown path", "GET", "/api/v1/nothing/here", "", "", 404, "not_found", ""},
        {"unknown top path", "GET", "/what", "", "", 404, "not_found", ""},
        {"edit: unknown message", "PATCH", "/api/v1/messages/999999", R"({"body":"x"})", json, 404, "not_found", ""},
        {"edit: empty body", "PATCH", "/api/v1/messages/1", R"({"body":""})", json, 422, "validation_failed", "body"},
    };
    for (const char *b : {"sqlite", "postgres"}) {
        for (const R &r : rows) {
            QTest::addRow("%s %s", b, r.name)
                << QString::fromLatin1(b) << r.method << QString::fromLatin1(r.path) << r.body << r.type << r.status
                << QString::fromLatin1(r.code) << QString::fromLatin1(r.field);
        }
    }
}

void TestHttpRooms::badInput()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, contentType);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, field);
    const QString p = path.contains(QLatin1String("%1")) ? path.arg(m_room) : path;
    body.replace("{bob}", QByteArray::number(m_bob));
    const ApiReply r = m_api->send(method, p, body, RequestOptions {m_bobToken, contentType, {}});
    QVERIFY2(r.status == status,
             qPrintable(QStringLiteral("%1: %2").arg(r.status).arg(QString::fromUtf8(r.body.left(300)))));
    QCOMPARE(r.errorCode(), code);
    QVERIFY(!r.json().value(QLatin1String("error")).toObject().value(QLatin1String("message")).toString().isEmpty());
    if (!field.isEmpty())
        QCOMPARE(r.errorField(), field);
    // Nothing else was affected: the room still answers and has no stray message.
    ApiReply history = m_api->get(QStringLiteral("/api/v1/rooms/%1/messages").arg(m_room), m_bobToken);
    QCOMPARE(history.status, 200);
    QCOMPARE(history.items().size(), 0);
}

void TestHttpRooms::concurrentSameClientId()
{
    // Eight requests with one clientId, all in flight at once: one message.
    QNetworkAccessManager nam;
    QList<QNetworkReply *> replies;
    for (int i = 0; i < 8; ++i) {
        QNetworkRequest req(m_server->url(QStringLiteral("/api/v1/rooms/%1/messages").arg(m_room)));
        req.setRawHeader("Content-Type", "application/json");
        req.setRawHeader("Authorization", "Bearer " + m_bobToken);
        replies << nam.post(req, QByteArray("{\"body\":\"once\",\"clientId\":\"same\"}"));
    }
    QSet<qint64> ids;
    int created = 0;
    for (QNetworkReply *r : replies) {
        QSignalSpy done(r, &QNetworkReply::finished);
        QVERIFY(r->isFinished() || done.wait(30000));
        const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        QVERIFY2(status == 200 || status == 201, qPrintable(QString::number(status)));
        created += status == 201 ? 1 : 0;
        ids.insert(QJsonDocument::fromJson(r->readAll()).object().value(QLatin1String("id")).toInteger());
        r->deleteLater();
    }
    QCOMPARE(created, 1);
    QCOMPARE(ids.size(), 1);
    QCOMPARE(m_api->get(QStringLiteral("/api/v1/rooms/%1/messages").arg(m_room), m_bobToken).items().size(), 1);
}

void TestHttpRooms::clientLeavesBeforeReply()
{
    // Registration hashes a password (slow on purpose): the client hangs up before the answer.
    for (int i = 0; i < 5; ++i) {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(socket.waitForConnected(5000));
        const QByteArray body = QStringLiteral(R"({"username":"%1%2","password":"password123","displayName":"G"})")
                                    .arg(user("ghost"))
                                    .arg(i)
                                    .toUtf8();
        socket.write(
            "POST /api/v1/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QVERIFY(socket.waitForBytesWritten(5000));
        socket.abort();
    }
    // The server is still there and the work was done (the users exist).
    QTRY_COMPARE_WITH_TIMEOUT(
        m_api->get(QStringLiteral("/api/v1/users?q=") + user("ghost"), m_aliceToken).items().size(), 5, 15000);
    QCOMPARE(m_api->get(QStringLiteral("/health"), {}).status, 200);
}

void TestHttpRooms::search_data()
{
    QTest::addColumn<QString>("backend");
    QTest::addColumn<QString>("query");
    QTest::addColumn<int>("aliceHits");
    for (const char *b : {"sqlite", "postgres"}) {
        const QString backend = QString::fromLatin1(b);
        QTest::addRow("%s one word", b) << backend << QStringLiteral("rocket") << 2;
        QTest::addRow("%s two words, both must match", b) << backend << QStringLiteral("deploy rocket") << 1;
        QTest::addRow("%s no match", b) << backend << QStringLiteral("submarine") << 0;
        QTest::addRow("%s deleted message not found", b) << backend << QStringLiteral("secret") << 0;
        // Search syntax from the user is text, never an operator or an error.
        QTest::addRow("%s quote is punctuation", b) << backend << QStringLiteral("\"rocket") << 2;
        QTest::addRow("%s star", b) << backend << QStringLiteral("rock*") << 0;
        QTest::addRow("%s NEAR", b) << backend << QStringLiteral("NEAR(deploy rocket)") << 0;
        QTest::addRow("%s OR", b) << backend << QStringLiteral("submarine OR rocket") << 0;
        QTest::addRow("%s sql", b) << backend << QStringLiteral("'; DROP TABLE messages; --") << 0;
    }
}

void TestHttpRooms::search()
{
    QFETCH(QString, query);
    QFETCH(int, aliceHits);
    const QString send = QStringLiteral("/api/v1/rooms/%1/messages").arg(m_room);
    for (const char *body : {"deploy the rocket today", "the rocket is ready", "nothing to see"})
        QCOMPARE(m_api->post(send, obj({{QStringLiteral("body"), QString::fromLatin1(body)}}), m_bobToken).status, 201);
    const ApiReply secret
        = m_api->post(send, obj({{QStringLiteral("body"), QStringLiteral("secret plans")}}), m_bobToken);
    QCOMPARE(m_api
                 ->del(QStringLiteral("/api/v1/messages/%1").arg(secret.json().value(QLatin1String("id")).toInteger()),
                       m_bobToken)
                 .status,
             200);

    const QString path = QStringLiteral("/api/v1/search?q=") + QString::fromLatin1(QUrl::toPercentEncoding(query));
    const ApiReply alice = m_api->get(path, m_aliceToken);
    QCOMPARE(alice.status, 200);
    QCOMPARE(alice.json().value(QLatin1String("messages")).toArray().size(), aliceHits);
    QVERIFY(alice.json().value(QLatin1String("tasks")).isArray());
    // Carol is in no room: she finds nothing.
    const ApiReply carol = m_api->get(path, m_carolToken);
    QCOMPARE(carol.status, 200);
    QCOMPARE(carol.json().value(QLatin1String("messages")).toArray().size(), 0);
}

void TestHttpRooms::adminStats()
{
    // The server is shared, so its totals include other tests' rows: they must count the user and
    // the room this test adds, exactly.
    const QString stats = QStringLiteral("/api/v1/admin/stats");
    const ApiReply before = m_api->get(stats, m_backend->adminToken);
    QCOMPARE(before.status, 200);
    const QJsonObject was = before.json().value(QLatin1String("totals")).toObject();
    // At least the admin, the revoked user, Alice, Bob and Carol, and Alice's room.
    QVERIFY(was.value(QLatin1String("users")).toInteger() >= 5);
    QVERIFY(was.value(QLatin1String("rooms")).toInteger() >= 1);
    m_api->registerUser(user("dave"));
    const ApiReply room = m_api->post(
        QStringLiteral("/api/v1/rooms"),
        obj({{QStringLiteral("name"), QStringLiteral("more")}, {QStringLiteral("memberIds"), QJsonArray {}}}),
        m_bobToken);
    QCOMPARE(room.status, 201);

    const ApiReply admin = m_api->get(stats, m_backend->adminToken);
    QCOMPARE(admin.status, 200);
    const QJsonObject totals = admin.json().value(QLatin1String("totals")).toObject();
    QCOMPARE(totals.value(QLatin1String("users")).toInteger(), was.value(QLatin1String("users")).toInteger() + 1);
    QCOMPARE(totals.value(QLatin1String("rooms")).toInteger(), was.value(QLatin1String("rooms")).toInteger() + 1);
    QVERIFY(admin.json().value(QLatin1String("dbPool")).toObject().value(QLatin1String("threads")).toInteger() >= 1);
    const ApiReply member = m_api->get(QStringLiteral("/api/v1/admin/stats"), m_bobToken);
    QCOMPARE(member.status, 403);
    QCOMPARE(member.errorCode(), QStringLiteral("forbidden"));
}

QTEST_GUILESS_MAIN(TestHttpRooms)
#include "tst_http_rooms.moc"
