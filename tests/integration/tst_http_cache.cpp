// The REST cache, sessions and rate limits through real servers: embedded (SQLite, in-process
// cache) and a two-instance cluster (PostgreSQL and a Redis of the test's own), where writes go
// to A and reads to B. A cached read answers MISS then HIT with the same body and ETag and 304
// to If-None-Match; every kind of write (REST and WebSocket) is seen by the very next read on
// the other instance; a value cached for members is refused to others (and to a member removed);
// a logout on A refuses the token on B at once; register/login are limited per client address
// (X-Forwarded-For believed only from --trusted-proxies) and the API per user across instances,
// with 429 and Retry-After; with Redis killed everything keeps answering correctly (MISS) and
// the cache serves hits again once Redis is back.
#include "tests/support/api_client.h"
#include "tests/support/metrics_text.h"
#include "tests/support/redis_process.h"
#include "tests/support/server_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"
#include "tests/support/ws_client.h"

#include <QJsonArray>
#include <QTest>
#include <QUuid>

#include <functional>
#include <memory>

using taskmaster::test::Account;
using taskmaster::test::uniqueName;
using namespace taskmaster;
using taskmaster::test::ApiClient;
using taskmaster::test::ApiReply;
using taskmaster::test::RequestOptions;
using taskmaster::test::ServerProcess;
using taskmaster::test::WsClient;

namespace {

// A REST read twice: the second must be a hit with the same body and ETag. Returns the reply.
ApiReply primed(ApiClient &api, const QString &path, const QByteArray &token)
{
    const ApiReply first = api.get(path, token);
    const ApiReply second = api.get(path, token);
    if (first.status != 200 || second.status != 200 || second.header("X-Cache") != "HIT" || second.body != first.body
        || second.header("ETag") != first.header("ETag")) {
        qWarning("not primed: %s %d %s / %d %s %s", qPrintable(path), first.status, first.header("X-Cache").constData(),
                 second.status, second.header("X-Cache").constData(), first.body.left(200).constData());
        return ApiReply {};
    }
    return second;
}

// Polls /health/ready until its status is `status`.
bool waitReadiness(ApiClient &api, const char *status, int timeoutMs)
{
    return QTest::qWaitFor(
        [&] {
            return api.get(QStringLiteral("/health/ready"), {}).json().value(QLatin1String("status")).toString()
                == QLatin1String(status);
        },
        timeoutMs);
}

struct Mode {
    ApiClient *writer;
    ApiClient *reader;
    ServerProcess *writerServer;
};
} // namespace

class TestHttpCache final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void hitMissAndNotModified_data();
    void hitMissAndNotModified();
    void writesSeenAtOnce_data();
    void writesSeenAtOnce();
    void cachedValueOnlyForMembers_data();
    void cachedValueOnlyForMembers();
    void logoutRefusedEverywhere_data();
    void logoutRefusedEverywhere();
    void authRateByClientAddress();
    void apiRateSharedAcrossInstances();
    void warmedAtStart();
    void redisOutage(); // last: kills the cluster's Redis

private:
    void addModes();
    Mode mode();
    Account user(ApiClient &api);

    test::RedisProcess m_redis;
    QString m_db;
    std::unique_ptr<ServerProcess> m_embedded, m_a, m_b;
    std::unique_ptr<ApiClient> m_apiE, m_apiA, m_apiB;
};

void TestHttpCache::initTestCase()
{
    TM_REQUIRE_SERVICE(pg, "TM_TEST_DATABASE_URL");
    const QString started = m_redis.start();
    QVERIFY2(started.isEmpty(), qPrintable(started));
    m_db = test::freshPostgresUrl(pg);
    m_embedded = std::make_unique<ServerProcess>();
    QVERIFY2(m_embedded->start(), qPrintable(m_embedded->errorText()));
    m_a = std::make_unique<ServerProcess>();
    m_b = std::make_unique<ServerProcess>();
    QVERIFY2(m_a->start({QStringLiteral("--database-url"), m_db, QStringLiteral("--redis-url"), m_redis.url(),
                         QStringLiteral("--instance-name"), QStringLiteral("tm-a")}),
             qPrintable(m_a->errorText()));
    QVERIFY2(m_b->start({QStringLiteral("--database-url"), m_db, QStringLiteral("--redis-url"), m_redis.url(),
                         QStringLiteral("--instance-name"), QStringLiteral("tm-b")}),
             qPrintable(m_b->errorText()));
    m_apiE = std::make_unique<ApiClient>(m_embedded->url());
    m_apiA = std::make_unique<ApiClient>(m_a->url());
    m_apiB = std::make_unique<ApiClient>(m_b->url());
    // Both instances' Redis connections are up before the first cached read.
    for (ApiClient *api : {m_apiA.get(), m_apiB.get()}) {
        QVERIFY(waitReadiness(*api, "ok", 10000));
    }
}

void TestHttpCache::cleanupTestCase()
{
    for (auto *s : {m_embedded.get(), m_a.get(), m_b.get()}) {
        if (s)
            QCOMPARE(s->stop(), 0);
    }
}

void TestHttpCache::addModes()
{
    QTest::addColumn<QString>("mode");
}

Mode TestHttpCache::mode()
{
    QFETCH(QString, mode);
    if (mode == QLatin1String("embedded"))
        return Mode {m_apiE.get(), m_apiE.get(), m_embedded.get()};
    return Mode {m_apiA.get(), m_apiB.get(), m_a.get()};
}

Account TestHttpCache::user(ApiClient &api)
{
    return api.signUp();
}

void TestHttpCache::hitMissAndNotModified_data()
{
    addModes();
    QTest::addColumn<QString>("resource");
    for (const char *m : {"embedded", "cluster"}) {
        for (const char *r : {"user", "project", "tasks", "tasks filtered", "messages", "messages limit"})
            QTest::addRow("%s %s", m, r) << QString::fromLatin1(m) << QString::fromLatin1(r);
    }
}

void TestHttpCache::hitMissAndNotModified()
{
    const Mode m = mode();
    QFETCH(QString, resource);
    const Account owner = user(*m.writer);
    const qint64 projectId
        = m.writer->post(QStringLiteral("/api/v1/projects"), {{QStringLiteral("name"), uniqueName("p")}}, owner.token)
              .id();
    QVERIFY(projectId > 0);
    QCOMPARE(m.writer
                 ->post(QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId),
                        {{QStringLiteral("title"), QStringLiteral("t1")}}, owner.token)
                 .status,
             201);
    const qint64 roomId
        = m.writer->post(QStringLiteral("/api/v1/rooms"), {{QStringLiteral("name"), uniqueName("r")}}, owner.token)
              .id();
    QVERIFY(roomId > 0);
    QCOMPARE(m.writer
                 ->post(QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId),
                        {{QStringLiteral("body"), QStringLiteral("hello")}}, owner.token)
                 .status,
             201);
    const QHash<QString, QString> paths {
        {QStringLiteral("user"), QStringLiteral("/api/v1/users/%1").arg(owner.id)},
        {QStringLiteral("project"), QStringLiteral("/api/v1/projects/%1").arg(projectId)},
        {QStringLiteral("tasks"), QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId)},
        {QStringLiteral("tasks filtered"),
         QStringLiteral("/api/v1/projects/%1/tasks?status=todo&limit=5").arg(projectId)},
        {QStringLiteral("messages"), QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId)},
        {QStringLiteral("messages limit"), QStringLiteral("/api/v1/rooms/%1/messages?limit=7").arg(roomId)},
    };
    const QString path = paths.value(resource);
    const ApiReply miss = m.reader->get(path, owner.token);
    QCOMPARE(miss.status, 200);
    QCOMPARE(miss.header("X-Cache"), QByteArray("MISS"));
    QVERIFY(!miss.header("ETag").isEmpty());
    const ApiReply hit = m.reader->get(path, owner.token);
    QCOMPARE(hit.status, 200);
    QCOMPARE(hit.header("X-Cache"), QByteArray("HIT"));
    QCOMPARE(hit.body, miss.body);
    QCOMPARE(hit.header("ETag"), miss.header("ETag"));
    QCOMPARE(hit.header("Content-Type"), QByteArray("application/json"));
    const ApiReply notModified = m.reader->send(
        "GET", path, {}, RequestOptions {owner.token, "application/json", {{"If-None-Match", hit.header("ETag")}}});
    QCOMPARE(notModified.status, 304);
    QVERIFY(notModified.body.isEmpty());
    // The same read on the writer's side shares the entry (one cache for the whole cluster).
    const ApiReply elsewhere = m.writer->get(path, owner.token);
    QCOMPARE(elsewhere.header("X-Cache"), QByteArray("HIT"));
    QCOMPARE(elsewhere.header("ETag"), miss.header("ETag"));
}

void TestHttpCache::writesSeenAtOnce_data()
{
    addModes();
    QTest::addColumn<QString>("write");
    const char *writes[] = {"task created",   "task patched",      "task deleted",    "project patched",
                            "project member", "room member",       "message posted",  "message over ws",
                            "message edited", "message edited ws", "message deleted", "message resent"};
    for (const char *m : {"embedded", "cluster"}) {
        for (const char *w : writes)
            QTest::addRow("%s %s", m, w) << QString::fromLatin1(m) << QString::fromLatin1(w);
    }
}

void TestHttpCache::writesSeenAtOnce()
{
    const Mode m = mode();
    QFETCH(QString, write);
    const Account owner = user(*m.writer);
    const Account other = user(*m.writer);
    const qint64 projectId
        = m.writer->post(QStringLiteral("/api/v1/projects"), {{QStringLiteral("name"), uniqueName("p")}}, owner.token)
              .id();
    const qint64 taskId = m.writer
                              ->post(QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId),
                                     {{QStringLiteral("title"), QStringLiteral("first")}}, owner.token)
                              .id();
    const qint64 roomId
        = m.writer->post(QStringLiteral("/api/v1/rooms"), {{QStringLiteral("name"), uniqueName("r")}}, owner.token)
              .id();
    const ApiReply message = m.writer->post(QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId),
                                            {{QStringLiteral("body"), QStringLiteral("first message")},
                                             {QStringLiteral("clientId"), QStringLiteral("c-1")}},
                                            owner.token);
    QVERIFY(projectId > 0 && taskId > 0 && roomId > 0 && message.status == 201);
    const qint64 messageId = message.id();

    const QString tasks = QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId);
    const QString project = QStringLiteral("/api/v1/projects/%1").arg(projectId);
    const QString messages = QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId);
    const QString marker = uniqueName("changed");
    WsClient ws;
    auto overWs = [&](const ws::ClientFrame &frame) {
        if (!ws.connectAs(m.writerServer->wsUrl(), owner.token))
            return false;
        ws.send(frame);
        return ws.take<ws::Ack>({}, 10000).has_value(); // the ack is the acknowledgement
    };
    // write -> (the read it must change, the write itself returning whether it was acknowledged)
    const QHash<QString, std::pair<QString, std::function<bool()>>> table {
        {QStringLiteral("task created"),
         {tasks,
          [&] {
              return m.writer->post(tasks, {{QStringLiteral("title"), marker}}, owner.token).status == 201;
          }}},
        {QStringLiteral("task patched"),
         {tasks,
          [&] {
              return m.writer
                         ->patch(QStringLiteral("/api/v1/tasks/%1").arg(taskId), {{QStringLiteral("title"), marker}},
                                 owner.token)
                         .status
                  == 200;
          }}},
        {QStringLiteral("task deleted"),
         {tasks,
          [&] { return m.writer->del(QStringLiteral("/api/v1/tasks/%1").arg(taskId), owner.token).status == 204; }}},
        {QStringLiteral("project patched"),
         {project,
          [&] {
              return m.writer->patch(project, {{QStringLiteral("name"), marker}}, owner.token).status == 200;
          }}},
        {QStringLiteral("project member"),
         {project,
          [&] {
              return m.writer
                         ->post(project + QStringLiteral("/members"), {{QStringLiteral("userId"), other.id}},
                                owner.token)
                         .status
                  == 200;
          }}},
        {QStringLiteral("room member"),
         {messages,
          [&] {
              return m.writer
                         ->post(QStringLiteral("/api/v1/rooms/%1/members").arg(roomId),
                                {{QStringLiteral("userId"), other.id}}, owner.token)
                         .status
                  == 200;
          }}},
        {QStringLiteral("message posted"),
         {messages,
          [&] {
              return m.writer->post(messages, {{QStringLiteral("body"), marker}}, owner.token).status == 201;
          }}},
        {QStringLiteral("message over ws"),
         {messages,
          [&] {
              return overWs(ws::Send {1, roomId, marker, std::nullopt});
          }}},
        {QStringLiteral("message edited"),
         {messages,
          [&] {
              return m.writer
                         ->patch(QStringLiteral("/api/v1/messages/%1").arg(messageId),
                                 {{QStringLiteral("body"), marker}}, owner.token)
                         .status
                  == 200;
          }}},
        {QStringLiteral("message edited ws"),
         {messages,
          [&] {
              return overWs(ws::Edit {1, messageId, marker});
          }}},
        {QStringLiteral("message deleted"),
         {messages,
          [&] {
              return m.writer->del(QStringLiteral("/api/v1/messages/%1").arg(messageId), owner.token).status == 200;
          }}},
    };
    if (write == QLatin1String("message resent")) {
        // A repeated clientId changes nothing: the cached page stays valid or is recomputed
        // equal; either way the body is the same.
        const ApiReply before = primed(*m.reader, messages, owner.token);
        QCOMPARE(before.status, 200);
        QCOMPARE(m.writer
                     ->post(messages,
                            {{QStringLiteral("body"), QStringLiteral("first message")},
                             {QStringLiteral("clientId"), QStringLiteral("c-1")}},
                            owner.token)
                     .status,
                 200);
        QCOMPARE(m.reader->get(messages, owner.token).body, before.body);
        return;
    }
    QVERIFY(table.contains(write));
    const auto &[read, doWrite] = table.value(write);
    const bool membership = write.contains(QLatin1String("member"));
    const ApiReply before = primed(*m.reader, read, owner.token);
    QCOMPARE(before.status, 200);
    if (membership) // cached for the members of the moment: the user to be added is refused
        QCOMPARE(m.reader->get(read, other.token).status, 404);
    QVERIFY(doWrite());
    // The very next read, on the other instance, without waiting for anything.
    const ApiReply after = m.reader->get(read, owner.token);
    QCOMPARE(after.status, 200);
    QCOMPARE(after.header("X-Cache"), QByteArray("MISS"));
    QVERIFY(after.header("ETag") != before.header("ETag"));
    if (membership) {
        // The body is the same; who may read it changed.
        const ApiReply added = m.reader->get(read, other.token);
        QCOMPARE(added.status, 200);
        QCOMPARE(added.body, after.body);
    } else {
        QVERIFY2(after.body != before.body, after.body.constData());
        if (!write.contains(QLatin1String("deleted")))
            QVERIFY2(after.body.contains(marker.toUtf8()), after.body.constData());
    }
    // And it is cached again.
    QCOMPARE(m.reader->get(read, owner.token).header("X-Cache"), QByteArray("HIT"));
}

void TestHttpCache::cachedValueOnlyForMembers_data()
{
    addModes();
    QTest::newRow("embedded") << QStringLiteral("embedded");
    QTest::newRow("cluster") << QStringLiteral("cluster");
}

void TestHttpCache::cachedValueOnlyForMembers()
{
    const Mode m = mode();
    const Account owner = user(*m.writer), member = user(*m.writer), outsider = user(*m.writer);
    const qint64 projectId
        = m.writer->post(QStringLiteral("/api/v1/projects"), {{QStringLiteral("name"), uniqueName("p")}}, owner.token)
              .id();
    QCOMPARE(m.writer
                 ->post(QStringLiteral("/api/v1/projects/%1/members").arg(projectId),
                        {{QStringLiteral("userId"), member.id}}, owner.token)
                 .status,
             200);
    QJsonArray ids {member.id};
    const qint64 roomId
        = m.writer
              ->post(QStringLiteral("/api/v1/rooms"),
                     {{QStringLiteral("name"), uniqueName("r")}, {QStringLiteral("memberIds"), ids}}, owner.token)
              .id();
    const QStringList reads {QStringLiteral("/api/v1/projects/%1").arg(projectId),
                             QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId),
                             QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId)};
    for (const QString &read : reads) {
        QCOMPARE(primed(*m.reader, read, owner.token).status, 200);
        QCOMPARE(m.reader->get(read, member.token).header("X-Cache"), QByteArray("HIT"));
        const ApiReply refused = m.reader->get(read, outsider.token);
        QCOMPARE(refused.status, 404);
        QCOMPARE(refused.errorCode(), QStringLiteral("not_found"));
    }
    // A member removed loses the cached views at once.
    QCOMPARE(m.writer->del(QStringLiteral("/api/v1/projects/%1/members/%2").arg(projectId).arg(member.id), owner.token)
                 .status,
             204);
    QCOMPARE(
        m.writer->del(QStringLiteral("/api/v1/rooms/%1/members/%2").arg(roomId).arg(member.id), owner.token).status,
        204);
    for (const QString &read : reads) {
        QCOMPARE(m.reader->get(read, owner.token).status, 200); // re-cached for the remaining members
        QCOMPARE(m.reader->get(read, member.token).status, 404);
    }
}

void TestHttpCache::logoutRefusedEverywhere_data()
{
    addModes();
    QTest::newRow("embedded") << QStringLiteral("embedded");
    QTest::newRow("cluster") << QStringLiteral("cluster");
}

void TestHttpCache::logoutRefusedEverywhere()
{
    const Mode m = mode();
    const Account a = user(*m.writer);
    const QString me = QStringLiteral("/api/v1/me");
    for (int i = 0; i < 3; ++i) { // the session is cached by now on both sides
        QCOMPARE(m.reader->get(me, a.token).status, 200);
        QCOMPARE(m.writer->get(me, a.token).status, 200);
    }
    QCOMPARE(m.writer->send("POST", QStringLiteral("/api/v1/auth/logout"), {}, RequestOptions {a.token}).status, 204);
    const ApiReply refused = m.reader->get(me, a.token);
    QCOMPARE(refused.status, 401);
    QCOMPARE(refused.errorCode(), QStringLiteral("unauthorized"));
    QCOMPARE(m.writer->get(me, a.token).status, 401);
}

void TestHttpCache::authRateByClientAddress()
{
    // Burst 3, then one every 100 s: nothing refills during the test.
    ServerProcess trusting, plain;
    QVERIFY2(trusting.start({QStringLiteral("--rate-auth"), QStringLiteral("0.01/3"),
                             QStringLiteral("--trusted-proxies"), QStringLiteral("127.0.0.1, 10.9.0.0/16")}),
             qPrintable(trusting.errorText()));
    QVERIFY2(plain.start({QStringLiteral("--rate-auth"), QStringLiteral("0.01/3")}), qPrintable(plain.errorText()));
    ApiClient t(trusting.url()), p(plain.url());
    const QByteArray wrong = QJsonDocument(QJsonObject {{QStringLiteral("username"), QStringLiteral("nobody")},
                                                        {QStringLiteral("password"), QStringLiteral("wrong-password")}})
                                 .toJson(QJsonDocument::Compact);
    struct Step {
        const char *server;
        const char *forwardedFor; // nullptr: no header
        int status;
    };
    // In order: wrong passwords count like any attempt.
    const Step steps[] = {
        {"trusting", "10.0.0.1", 401},
        {"trusting", "10.0.0.1", 401},
        {"trusting", "10.0.0.1", 401},
        {"trusting", "10.0.0.1", 429}, // the fourth from one client
        {"trusting", "10.0.0.2", 401}, // another client has its own budget
        {"trusting", "10.0.0.2, 10.0.0.1", 429}, // the last untrusted hop is the client: 10.0.0.1
        {"trusting", "10.0.0.1, 10.9.1.1", 429}, // 10.9.1.1 is a trusted proxy: the client is 10.0.0.1
        {"trusting", "10.0.0.1, 10.0.0.3", 401}, // the client claims 10.0.0.1, the proxy saw 10.0.0.3
        {"trusting", "not an address", 401}, // garbage: the peer (127.0.0.1) is the client
        {"trusting", nullptr, 401},
        {"trusting", nullptr, 401},
        {"trusting", nullptr, 429}, // the peer's own budget, shared with the garbage above
        {"plain", "10.0.0.1", 401}, // not trusted: every header below counts for 127.0.0.1
        {"plain", "10.0.0.2", 401},
        {"plain", "10.0.0.3", 401},
        {"plain", "10.0.0.4", 429},
    };
    int i = 0;
    for (const Step &s : steps) {
        ApiClient &api = QByteArray(s.server) == "trusting" ? t : p;
        RequestOptions options;
        if (s.forwardedFor)
            options.headers.append(std::pair<QByteArray, QByteArray>("X-Forwarded-For", s.forwardedFor));
        const ApiReply r = api.send("POST", QStringLiteral("/api/v1/auth/login"), wrong, options);
        QVERIFY2(r.status == s.status,
                 qPrintable(QStringLiteral("step %1 (%2 %3): %4 %5")
                                .arg(i)
                                .arg(QLatin1String(s.server))
                                .arg(QLatin1String(s.forwardedFor ? s.forwardedFor : "-"))
                                .arg(r.status)
                                .arg(QString::fromUtf8(r.body))));
        if (s.status == 429) {
            QCOMPARE(r.errorCode(), QStringLiteral("rate_limited"));
            const int retry = r.header("Retry-After").toInt();
            QVERIFY2(retry >= 90 && retry <= 100, r.header("Retry-After").constData());
        }
        ++i;
    }
    // Register is limited by the same budget; authenticated routes are not.
    const ApiReply reg = p.post(
        QStringLiteral("/api/v1/auth/register"),
        {{QStringLiteral("username"), uniqueName("u")}, {QStringLiteral("password"), QStringLiteral("password123")}});
    QCOMPARE(reg.status, 429);
    QCOMPARE(trusting.stop(), 0);
    QCOMPARE(plain.stop(), 0);
}

void TestHttpCache::apiRateSharedAcrossInstances()
{
    ServerProcess c, d;
    const QStringList args {QStringLiteral("--database-url"), m_db,
                            QStringLiteral("--redis-url"),    m_redis.url(),
                            QStringLiteral("--rate-api"),     QStringLiteral("0.01/6")};
    QVERIFY2(c.start(args), qPrintable(c.errorText()));
    QVERIFY2(d.start(args), qPrintable(d.errorText()));
    ApiClient onC(c.url()), onD(d.url());
    for (ApiClient *api : {&onC, &onD}) {
        QVERIFY(waitReadiness(*api, "ok", 10000));
    }
    const Account a = user(onC);
    const Account b = user(onC);
    int ok = 0;
    for (int i = 0; i < 6; ++i)
        ok += (i % 2 ? onC : onD).get(QStringLiteral("/api/v1/me"), a.token).status == 200 ? 1 : 0;
    QCOMPARE(ok, 6);
    for (ApiClient *api : {&onC, &onD}) {
        const ApiReply r = api->get(QStringLiteral("/api/v1/me"), a.token);
        QCOMPARE(r.status, 429);
        QCOMPARE(r.errorCode(), QStringLiteral("rate_limited"));
        QVERIFY(r.header("Retry-After").toInt() >= 1);
        const ApiReply cached = api->get(QStringLiteral("/api/v1/users/%1").arg(b.id), a.token);
        QCOMPARE(cached.status, 429); // cached routes count too
    }
    QCOMPARE(onD.get(QStringLiteral("/api/v1/me"), b.token).status, 200); // per user
    const QByteArray metrics = onC.get(QStringLiteral("/metrics"), {}).body;
    QVERIFY2(metrics.contains("rate_limited_requests_total{scope=\"api\"}"), metrics.constData());
    QCOMPARE(c.stop(), 0);
    QCOMPARE(d.stop(), 0);
}

void TestHttpCache::warmedAtStart()
{
    // An embedded server with a few active rooms and projects, restarted on the same data.
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorText()));
    auto api = std::make_unique<ApiClient>(server.url());
    const Account owner = user(*api);
    QStringList reads;
    for (int i = 0; i < 3; ++i) {
        const qint64 roomId
            = api->post(QStringLiteral("/api/v1/rooms"), {{QStringLiteral("name"), uniqueName("r")}}, owner.token).id();
        QCOMPARE(api->post(QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId),
                           {{QStringLiteral("body"), QStringLiteral("hot")}}, owner.token)
                     .status,
                 201);
        reads << QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId);
        const qint64 projectId
            = api->post(QStringLiteral("/api/v1/projects"), {{QStringLiteral("name"), uniqueName("p")}}, owner.token)
                  .id();
        QCOMPARE(api->post(QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId),
                           {{QStringLiteral("title"), QStringLiteral("hot")}}, owner.token)
                     .status,
                 201);
        reads << QStringLiteral("/api/v1/projects/%1").arg(projectId)
              << QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId);
    }
    QCOMPARE(server.stop(), 0);
    QVERIFY2(server.start(), qPrintable(server.errorText()));
    api = std::make_unique<ApiClient>(server.url());
    // 3 latest pages + 3 projects + 3 task lists, put in the background right after the start.
    QVERIFY(QTest::qWaitFor([&] { return test::scrapeMetric(*api, "cache_warmed_total") == 9; }, 10000));
    for (const QString &read : reads) {
        const ApiReply r = api->get(read, owner.token);
        QCOMPARE(r.status, 200);
        QVERIFY2(r.header("X-Cache") == "HIT", qPrintable(read)); // the first read after the start
    }
    QCOMPARE(server.stop(), 0);
}

void TestHttpCache::redisOutage()
{
    const Account owner = user(*m_apiA);
    const qint64 projectId
        = m_apiA->post(QStringLiteral("/api/v1/projects"), {{QStringLiteral("name"), uniqueName("p")}}, owner.token)
              .id();
    const QString tasks = QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId);
    QCOMPARE(primed(*m_apiB, tasks, owner.token).status, 200);
    m_redis.kill();
    for (ApiClient *api : {m_apiA.get(), m_apiB.get()}) {
        QVERIFY(waitReadiness(*api, "degraded", 10000));
    }
    // Sessions come from the database, reads are computed, writes are seen.
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(
            m_apiA->post(tasks, {{QStringLiteral("title"), QStringLiteral("during %1").arg(i)}}, owner.token).status,
            201);
        const ApiReply r = m_apiB->get(tasks, owner.token);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-Cache"), QByteArray("MISS"));
        QCOMPARE(r.items().size(), i + 1);
    }
    const Account late = user(*m_apiA); // register works; its token works on B
    QCOMPARE(m_apiB->get(QStringLiteral("/api/v1/me"), late.token).status, 200);
    QCOMPARE(m_apiA->send("POST", QStringLiteral("/api/v1/auth/logout"), {}, RequestOptions {late.token}).status, 204);
    QCOMPARE(m_apiB->get(QStringLiteral("/api/v1/me"), late.token).status, 401);
    // Back: the cache serves hits again, with what was written meanwhile.
    const QString restarted = m_redis.start();
    QVERIFY2(restarted.isEmpty(), qPrintable(restarted));
    for (ApiClient *api : {m_apiA.get(), m_apiB.get()}) {
        QVERIFY(waitReadiness(*api, "ok", 15000));
    }
    const ApiReply again = primed(*m_apiB, tasks, owner.token);
    QCOMPARE(again.status, 200);
    QCOMPARE(again.items().size(), 3);
    QCOMPARE(m_apiB->get(QStringLiteral("/api/v1/me"), late.token).status, 401);
}

QTEST_GUILESS_MAIN(TestHttpCache)
#include "tst_http_cache.moc"
