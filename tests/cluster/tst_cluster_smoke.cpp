// The loopback cluster of scripts/cluster/cluster.sh, through its nginx: health and request ids,
// REST register and login, requests spread over every instance (least_conn), gzip with ETags and
// 304, a WebSocket upgrade per instance answered by `welcome` and `pong`, the 1 MiB body limit
// (413 from nginx above it, the server's own answer at it), /metrics and nginx's /nginx_status for
// loopback only, HTTPS with HTTP/2 and wss:// on nginx's TLS listener (TM_CLUSTER_TLS=1), failover
// when an instance is killed (REST and WebSocket reconnect; the instance back in rotation after
// start-instance) and restart-instance on the same port. Shared state: a token from one
// instance works on every other and dies on all at logout; a cached task list is fresh on every
// instance right after a write on any; the per-user API rate is one budget for all instances. Runs under
// scripts/cluster/with-cluster.sh, which exports TM_CLUSTER_URL, TM_CLUSTER_DIR and the
// instances' URLs. Thread: the test's thread.
#include "tests/support/api_client.h"
#include "tests/support/test_env.h"
#include "tests/support/tool_process.h"
#include "tests/support/ws_client.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QFile>
#include <QHostAddress>
#include <QJsonArray>
#include <QProcess>
#include <QSet>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QTcpSocket>
#include <QTest>
#include <QUuid>

#include <memory>
#include <vector>

using namespace taskmaster;
using taskmaster::test::ApiClient;
using taskmaster::test::ApiReply;
using taskmaster::test::readClusterEnv;
using taskmaster::test::RequestOptions;
using taskmaster::test::uniqueName;
using taskmaster::test::WsClient;

namespace {

QString instanceName(int i)
{
    return QStringLiteral("tm-%1").arg(i);
}

// A reply read off a raw socket: for what QNetworkAccessManager hides (it asks for gzip itself and
// inflates) and for choosing the source address.
struct RawReply {
    int status = 0;
    QList<std::pair<QByteArray, QByteArray>> headers;
    QByteArray body; // as sent (chunked, compressed)

    [[nodiscard]] QByteArray header(const QByteArray &name) const
    {
        for (const auto &[k, v] : headers) {
            if (k.compare(name, Qt::CaseInsensitive) == 0)
                return v;
        }
        return {};
    }
};

// One HTTP/1.1 request with "Connection: close" from source (a loopback address) to
// 127.0.0.1:port; reads until the server closes, with a deadline.
RawReply rawRequest(quint16 port, const QByteArray &path, const QList<QByteArray> &headers,
                    const QHostAddress &source = QHostAddress(QHostAddress::LocalHost))
{
    RawReply r;
    QTcpSocket socket;
    if (!socket.bind(source, 0))
        return r;
    socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
    if (!socket.waitForConnected(5000))
        return r;
    QByteArray request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const QByteArray &h : headers)
        request += h + "\r\n";
    socket.write(request + "\r\n");
    QByteArray data;
    const QDeadlineTimer deadline(15000);
    while (!deadline.hasExpired() && socket.state() == QAbstractSocket::ConnectedState) {
        socket.waitForReadyRead(int(qMin<qint64>(deadline.remainingTime(), 500)));
        data += socket.readAll();
    }
    data += socket.readAll();
    const qsizetype end = data.indexOf("\r\n\r\n");
    if (end < 0)
        return r;
    const QList<QByteArray> lines = data.left(end).split('\n');
    const QList<QByteArray> statusLine = lines.value(0).trimmed().split(' ');
    r.status = statusLine.value(1).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines.at(i).indexOf(':');
        if (colon > 0)
            r.headers.append({lines.at(i).left(colon).trimmed(), lines.at(i).mid(colon + 1).trimmed()});
    }
    r.body = data.mid(end + 4);
    return r;
}

} // namespace

class TestClusterSmoke final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();

    void healthThroughNginx();
    void requestIdPassedOn_data();
    void requestIdPassedOn();
    void registerAndLoginThroughNginx();
    void restSpreadsOverInstances();
    void gzipKeepsEtag();
    void websocketOnEveryInstance();
    void websocketToTheEmptiestInstance();
    void bodyLimit_data();
    void bodyLimit();
    void metricsLoopbackOnly_data();
    void metricsLoopbackOnly();
    void tokenEverywhereAndLogoutEverywhere();
    void cachedListFreshOnEveryInstance();
    void apiRateSharedAcrossInstances();
    void killedInstanceFailsOver();
    void restartInstanceKeepsPort();
    void httpsWithHttp2();
    void clusterScriptRefuses_data();
    void clusterScriptRefuses();
    void websocketOverTls();

private:
    // Runs cluster.sh with arguments; true when it exited 0 (its output goes to the test log).
    bool clusterCommand(const QStringList &args);
    // The instance name of GET /api/v1/admin/stats (which instance nginx chose).
    QString statsInstance();
    // Open WebSockets on instance i (1-based) by its own admin stats; -1 when it does not answer.
    int wsConnections(int i);
    [[nodiscard]] QUrl wsUrl() const;
    // A client talking to instance i (1-based) directly.
    [[nodiscard]] std::unique_ptr<ApiClient> direct(int i) const;

    QUrl m_url;
    quint16 m_port = 0;
    QString m_dir;
    int m_instances = 0;
    std::unique_ptr<ApiClient> m_api;
    QByteArray m_adminToken;
    QByteArray m_memberToken;
};

void TestClusterSmoke::initTestCase()
{
    TM_REQUIRE_CLUSTER(url, "TM_CLUSTER_URL");
    TM_REQUIRE_CLUSTER(dir, "TM_CLUSTER_DIR");
    m_url = QUrl(url);
    m_dir = dir;
    m_instances = qEnvironmentVariableIntValue("TM_CLUSTER_INSTANCES");
    m_port = quint16(m_url.port());
    QVERIFY(m_port != 0);
    QVERIFY2(m_instances >= 2, "the cluster tests need at least 2 instances");
    m_api = std::make_unique<ApiClient>(m_url);
}

bool TestClusterSmoke::clusterCommand(const QStringList &args)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral(TM_CLUSTER_SCRIPT), args);
    if (!p.waitForFinished(90000)) {
        p.kill();
        p.waitForFinished(5000);
        qWarning("cluster.sh %s did not finish", qPrintable(args.join(QLatin1Char(' '))));
        return false;
    }
    const QByteArray out = p.readAll();
    qInfo("cluster.sh %s: %s", qPrintable(args.join(QLatin1Char(' '))), out.trimmed().constData());
    return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

QString TestClusterSmoke::statsInstance()
{
    const ApiReply r = m_api->get(QStringLiteral("/api/v1/admin/stats"), m_adminToken);
    if (r.status != 200)
        return QStringLiteral("status %1").arg(r.status);
    return r.json().value(QLatin1String("instance")).toString();
}

int TestClusterSmoke::wsConnections(int i)
{
    const QUrl url(readClusterEnv(m_dir).value(QStringLiteral("TM_INSTANCE_%1_URL").arg(i)));
    ApiClient direct(url);
    const ApiReply r = direct.get(QStringLiteral("/api/v1/admin/stats"), m_adminToken);
    if (r.status != 200)
        return -1;
    return r.json().value(QLatin1String("realtime")).toObject().value(QLatin1String("connections")).toInt(-1);
}

std::unique_ptr<ApiClient> TestClusterSmoke::direct(int i) const
{
    return std::make_unique<ApiClient>(
        QUrl(qEnvironmentVariable(qPrintable(QStringLiteral("TM_INSTANCE_%1_URL").arg(i)))));
}

QUrl TestClusterSmoke::wsUrl() const
{
    return QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(m_port));
}

void TestClusterSmoke::healthThroughNginx()
{
    const ApiReply r = m_api->get(QStringLiteral("/health"), {});
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(QLatin1String("status")).toString(), QStringLiteral("ok"));
    // nginx made up a request id (32 hex digits) for a request that came without one.
    QCOMPARE(r.header("X-Request-Id").size(), 32);
    // Every instance answers on its own address too.
    for (int i = 1; i <= m_instances; ++i) {
        const QUrl instance(qEnvironmentVariable(qPrintable(QStringLiteral("TM_INSTANCE_%1_URL").arg(i))));
        QVERIFY2(instance.port() > 0 && instance.port() != m_port, qPrintable(instance.toString()));
        ApiClient direct(instance);
        QCOMPARE(direct.get(QStringLiteral("/health"), {}).status, 200);
    }
}

void TestClusterSmoke::requestIdPassedOn_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<int>("status");
    QTest::newRow("answered by an instance") << QStringLiteral("/health") << 200;
    QTest::newRow("instance's own 404") << QStringLiteral("/no/such/route") << 404;
}

void TestClusterSmoke::requestIdPassedOn()
{
    QFETCH(QString, path);
    QFETCH(int, status);
    const QByteArray id = QUuid::createUuid().toByteArray(QUuid::Id128);
    const ApiReply r = m_api->send("GET", path, {}, RequestOptions {{}, {}, {{"X-Request-Id", id}}});
    QCOMPARE(r.status, status);
    QCOMPARE(r.header("X-Request-Id"), id);
}

void TestClusterSmoke::registerAndLoginThroughNginx()
{
    // The cluster's database is fresh: the first user is its admin.
    const QString admin = uniqueName("admin");
    const ApiReply reg = m_api->post(QStringLiteral("/api/v1/auth/register"),
                                     {{QStringLiteral("username"), admin},
                                      {QStringLiteral("password"), QStringLiteral("password123")},
                                      {QStringLiteral("displayName"), admin}});
    QCOMPARE(reg.status, 201);
    QCOMPARE(reg.json().value(QLatin1String("user")).toObject().value(QLatin1String("role")).toString(),
             QStringLiteral("admin"));

    const ApiReply login = m_api->post(
        QStringLiteral("/api/v1/auth/login"),
        {{QStringLiteral("username"), admin}, {QStringLiteral("password"), QStringLiteral("password123")}});
    QCOMPARE(login.status, 200);
    m_adminToken = login.json().value(QLatin1String("token")).toString().toLatin1();
    QVERIFY(!m_adminToken.isEmpty());
    const ApiReply wrong = m_api->post(
        QStringLiteral("/api/v1/auth/login"),
        {{QStringLiteral("username"), admin}, {QStringLiteral("password"), QStringLiteral("password124")}});
    QCOMPARE(wrong.status, 401);
    QCOMPARE(wrong.errorCode(), QStringLiteral("unauthorized"));

    m_memberToken = m_api->registerUser(uniqueName("member")).second;
    // The token works whichever instance nginx picks (sessions are shared storage).
    for (int i = 0; i < 2 * m_instances; ++i) {
        const ApiReply me = m_api->get(QStringLiteral("/api/v1/me"), m_adminToken);
        QCOMPARE(me.status, 200);
        QCOMPARE(me.json().value(QLatin1String("username")).toString(), admin);
    }
}

void TestClusterSmoke::restSpreadsOverInstances()
{
    QVERIFY(!m_adminToken.isEmpty());
    // One request at a time: every instance has no active connection, and least_conn takes
    // the tied instances in turn, so a few rounds reach all of them.
    QSet<QString> seen;
    for (int i = 0; i < 10 * m_instances && seen.size() < m_instances; ++i)
        seen.insert(statsInstance());
    QSet<QString> all;
    for (int i = 1; i <= m_instances; ++i)
        all.insert(instanceName(i));
    QCOMPARE(seen, all);
}

void TestClusterSmoke::gzipKeepsEtag()
{
    QVERIFY(!m_memberToken.isEmpty());
    const ApiReply room = m_api->post(
        QStringLiteral("/api/v1/rooms"),
        {{QStringLiteral("name"), uniqueName("gz")}, {QStringLiteral("memberIds"), QJsonArray {}}}, m_memberToken);
    QCOMPARE(room.status, 201);
    const qint64 roomId = room.json().value(QLatin1String("id")).toInteger();
    // A page well over gzip_min_length (1 KiB).
    for (int i = 0; i < 6; ++i) {
        const ApiReply sent = m_api->post(QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId),
                                          {{QStringLiteral("body"), QString(300, QLatin1Char('a' + i))},
                                           {QStringLiteral("clientId"), uniqueName("c")}},
                                          m_memberToken);
        QCOMPARE(sent.status, 201);
    }
    const QByteArray path = QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId).toLatin1();
    const QByteArray auth = "Authorization: Bearer " + m_memberToken;

    const RawReply zipped = rawRequest(m_port, path, {auth, "Accept-Encoding: gzip"});
    QCOMPARE(zipped.status, 200);
    QCOMPARE(zipped.header("Content-Encoding"), QByteArray("gzip"));
    QVERIFY2(zipped.header("Vary").contains("Accept-Encoding"), zipped.header("Vary").constData());
    const QByteArray etag = zipped.header("ETag");
    QVERIFY2(etag.startsWith("W/\""), etag.constData()); // weak: gzip leaves it alone

    const RawReply plain = rawRequest(m_port, path, {auth});
    QCOMPARE(plain.status, 200);
    QVERIFY(plain.header("Content-Encoding").isEmpty());
    QCOMPARE(plain.header("ETag"), etag);
    QVERIFY2(plain.body.size() > 1800, QByteArray::number(plain.body.size()).constData());

    // The ETag nginx passed on is accepted back by any instance.
    for (int i = 0; i < m_instances; ++i) {
        const RawReply again = rawRequest(m_port, path, {auth, "Accept-Encoding: gzip", "If-None-Match: " + etag});
        QCOMPARE(again.status, 304);
    }
}

void TestClusterSmoke::websocketOnEveryInstance()
{
    QVERIFY(!m_memberToken.isEmpty());
    // Held open together: least_conn sends each new socket to an instance without one.
    std::vector<std::unique_ptr<WsClient>> clients;
    QSet<QString> instances;
    for (int i = 0; i < m_instances; ++i) {
        auto c = std::make_unique<WsClient>();
        const auto welcome = c->connectAs(wsUrl(), m_memberToken);
        QVERIFY2(welcome.has_value(), "no welcome through nginx");
        QVERIFY(welcome->userId > 0);
        instances.insert(welcome->instance);
        clients.push_back(std::move(c));
    }
    QCOMPARE(instances.size(), m_instances);
    // Frames pass the tunnel both ways.
    for (qsizetype i = 0; i < qsizetype(clients.size()); ++i) {
        clients[size_t(i)]->send(ws::Ping {i + 1, 42.0});
        const auto pong = clients[size_t(i)]->take<ws::Pong>([i](const ws::Pong &p) { return p.id == i + 1; });
        QVERIFY(pong.has_value());
        QCOMPARE(pong->t, std::optional<double>(42.0));
    }
}

void TestClusterSmoke::websocketToTheEmptiestInstance()
{
    QVERIFY(!m_adminToken.isEmpty());
    // The previous test's sockets (dropped by their clients) are gone everywhere, so nginx no
    // longer counts them either.
    for (int i = 1; i <= m_instances; ++i)
        QTRY_COMPARE_WITH_TIMEOUT(wsConnections(i), 0, 10000);
    // Two sockets on every instance.
    std::vector<std::unique_ptr<WsClient>> clients;
    QHash<QString, int> perInstance;
    for (int i = 0; i < 2 * m_instances; ++i) {
        auto c = std::make_unique<WsClient>();
        const auto welcome = c->connectAs(wsUrl(), m_memberToken);
        QVERIFY(welcome.has_value());
        ++perInstance[welcome->instance];
        c->setObjectName(welcome->instance);
        clients.push_back(std::move(c));
    }
    QCOMPARE(perInstance.size(), m_instances);
    for (const int n : std::as_const(perInstance))
        QCOMPARE(n, 2);

    // Empty one instance. The clients just drop their connections (no close handshake through
    // the tunnel): nginx then releases the upstream (its count) before it closes the instance
    // side, so once the instance has seen its sockets go, nginx has counted them out too.
    const QString emptied = clients.front()->objectName();
    for (auto &c : clients) {
        if (c->objectName() == emptied)
            c->abort();
    }
    const int index = emptied.mid(3).toInt();
    QVERIFY(index >= 1 && index <= m_instances);
    QTRY_COMPARE_WITH_TIMEOUT(wsConnections(index), 0, 10000);

    // least_conn: both new sockets go to the instance without any (round robin would go on in
    // turn and put at most one there).
    for (int i = 0; i < 2; ++i) {
        auto c = std::make_unique<WsClient>();
        const auto welcome = c->connectAs(wsUrl(), m_memberToken);
        QVERIFY(welcome.has_value());
        QCOMPARE(welcome->instance, emptied);
        clients.push_back(std::move(c));
    }
}

void TestClusterSmoke::bodyLimit_data()
{
    QTest::addColumn<int>("bytes");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<bool>("byNginx");
    // Over client_max_body_size: nginx answers (in the docs/protocol.md error shape, with its own
    // message) without passing the body on.
    QTest::newRow("1 MiB + 1: nginx") << (1024 * 1024 + 1) << 413 << QStringLiteral("payload_too_large") << true;
    QTest::newRow("2 MiB: nginx") << (2 * 1024 * 1024) << 413 << QStringLiteral("payload_too_large") << true;
    // At the limit it reaches an instance, which finds no JSON in it.
    QTest::newRow("1 MiB: the server") << (1024 * 1024) << 400 << QStringLiteral("bad_request") << false;
}

void TestClusterSmoke::bodyLimit()
{
    QFETCH(int, bytes);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(bool, byNginx);
    const ApiReply r = m_api->send("POST", QStringLiteral("/api/v1/auth/login"), QByteArray(bytes, 'x'));
    QCOMPARE(r.status, status);
    QCOMPARE(r.errorCode(), code);
    const QString message
        = r.json().value(QLatin1String("error")).toObject().value(QLatin1String("message")).toString();
    QCOMPARE(message == QLatin1String("request body over 1 MiB"), byNginx);
    QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
}

void TestClusterSmoke::metricsLoopbackOnly_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QString>("source");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("content"); // in the body when allowed
    QTest::newRow("/metrics from 127.0.0.1: allowed")
        << QByteArray("/metrics") << QStringLiteral("127.0.0.1") << 200 << QByteArray("websocket_active_connections");
    // Any other address is "the public" to nginx's allow list (127.0.0.2 is loopback too, which
    // lets the test be that other address).
    QTest::newRow("/metrics from 127.0.0.2: denied")
        << QByteArray("/metrics") << QStringLiteral("127.0.0.2") << 403 << QByteArray("websocket_active_connections");
    // nginx's own stub_status (what prometheus-nginx-exporter reads), the same rule.
    QTest::newRow("/nginx_status from 127.0.0.1: allowed")
        << QByteArray("/nginx_status") << QStringLiteral("127.0.0.1") << 200 << QByteArray("Active connections:");
    QTest::newRow("/nginx_status from 127.0.0.2: denied")
        << QByteArray("/nginx_status") << QStringLiteral("127.0.0.2") << 403 << QByteArray("Active connections:");
}

void TestClusterSmoke::metricsLoopbackOnly()
{
    QFETCH(QByteArray, path);
    QFETCH(QString, source);
    QFETCH(int, status);
    QFETCH(QByteArray, content);
    const RawReply r = rawRequest(m_port, path, {}, QHostAddress(source));
    QCOMPARE(r.status, status);
    if (status == 200) {
        QVERIFY2(r.body.contains(content), r.body.left(300).constData());
    } else {
        QVERIFY2(r.body.contains("\"forbidden\""), r.body.constData());
        QVERIFY(!r.body.contains(content));
    }
    // The rest of the API does not care about the source address.
    QCOMPARE(rawRequest(m_port, "/health", {}, QHostAddress(source)).status, 200);
}

void TestClusterSmoke::tokenEverywhereAndLogoutEverywhere()
{
    const QByteArray token = m_api->registerUser(uniqueName("everywhere")).second;
    for (int i = 1; i <= m_instances; ++i) {
        for (int n = 0; n < 2; ++n) // the second from the session cache
            QCOMPARE(direct(i)->get(QStringLiteral("/api/v1/me"), token).status, 200);
    }
    QCOMPARE(m_api->send("POST", QStringLiteral("/api/v1/auth/logout"), {}, RequestOptions {token}).status, 204);
    for (int i = 1; i <= m_instances; ++i) {
        const ApiReply r = direct(i)->get(QStringLiteral("/api/v1/me"), token);
        QVERIFY2(r.status == 401, qPrintable(QStringLiteral("instance %1: %2").arg(i).arg(r.status)));
    }
    QCOMPARE(m_api->get(QStringLiteral("/api/v1/me"), token).status, 401);
}

void TestClusterSmoke::cachedListFreshOnEveryInstance()
{
    const QByteArray token = m_api->registerUser(uniqueName("cache")).second;
    const ApiReply project
        = m_api->post(QStringLiteral("/api/v1/projects"), {{QStringLiteral("name"), uniqueName("p")}}, token);
    QCOMPARE(project.status, 201);
    const QString tasks
        = QStringLiteral("/api/v1/projects/%1/tasks").arg(project.json().value(QLatin1String("id")).toInteger());
    // One cache for the cluster: the first read computes, every other instance hits.
    for (int i = 1; i <= m_instances; ++i) {
        const ApiReply r = direct(i)->get(tasks, token);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-Cache"), i == 1 ? QByteArray("MISS") : QByteArray("HIT"));
    }
    // A write on each instance in turn; the next read on every instance (and through nginx) has it.
    for (int w = 1; w <= m_instances; ++w) {
        const QString title = uniqueName("t");
        QCOMPARE(direct(w)->post(tasks, {{QStringLiteral("title"), title}}, token).status, 201);
        for (int i = 0; i <= m_instances; ++i) {
            const ApiReply r = i == 0 ? m_api->get(tasks, token) : direct(i)->get(tasks, token);
            QCOMPARE(r.status, 200);
            QVERIFY2(r.items().size() == w && r.body.contains(title.toUtf8()),
                     qPrintable(QStringLiteral("write on %1, read on %2 (%3): %4")
                                    .arg(w)
                                    .arg(i)
                                    .arg(QString::fromLatin1(r.header("X-Cache")), QString::fromUtf8(r.body))));
        }
    }
    // Repeated reads are hits again.
    QCOMPARE(direct(1)->get(tasks, token).header("X-Cache"), QByteArray("HIT"));
}

void TestClusterSmoke::apiRateSharedAcrossInstances()
{
    // The default --rate-api is 100/s with a burst of 200 per user. Per instance that would be
    // 200 per instance before the first 429; shared, it is 200 plus what refills meanwhile.
    const QByteArray token = m_api->registerUser(uniqueName("rate")).second;
    std::vector<std::unique_ptr<ApiClient>> clients;
    for (int i = 1; i <= m_instances; ++i)
        clients.push_back(direct(i));
    QElapsedTimer elapsed;
    elapsed.start();
    int allowed = 0;
    QSet<int> refusedBy;
    for (int n = 0; n < 1200 && refusedBy.size() < m_instances; ++n) {
        const int i = n % m_instances;
        const ApiReply r = clients[size_t(i)]->get(QStringLiteral("/api/v1/me"), token);
        if (r.status == 200) {
            ++allowed;
            continue;
        }
        QCOMPARE(r.status, 429);
        QCOMPARE(r.errorCode(), QStringLiteral("rate_limited"));
        QVERIFY(r.header("Retry-After").toInt() >= 1);
        refusedBy.insert(i);
    }
    const double seconds = double(elapsed.elapsed()) / 1000.0;
    QCOMPARE(refusedBy.size(), m_instances);
    QVERIFY2(allowed >= 200 && allowed <= 200 + int(100 * seconds) + 5,
             qPrintable(QStringLiteral("%1 allowed in %2 s").arg(allowed).arg(seconds)));
}

void TestClusterSmoke::killedInstanceFailsOver()
{
    QVERIFY(!m_adminToken.isEmpty());
    // One socket per instance; the victim is the instance the last one landed on, so it surely
    // holds a socket.
    std::vector<std::unique_ptr<WsClient>> clients;
    QString victimName;
    for (int i = 0; i < m_instances; ++i) {
        auto c = std::make_unique<WsClient>();
        const auto welcome = c->connectAs(wsUrl(), m_memberToken);
        QVERIFY(welcome.has_value());
        victimName = welcome->instance;
        clients.push_back(std::move(c));
    }
    QVERIFY2(victimName.startsWith(QLatin1String("tm-")), qPrintable(victimName));
    const int victim = victimName.mid(3).toInt();
    QVERIFY(victim >= 1 && victim <= m_instances);
    const qsizetype onVictim = qsizetype(clients.size()) - 1;

    QVERIFY(clusterCommand({QStringLiteral("kill-instance"), QString::number(victim)}));

    // Its socket is gone; the others still talk.
    QVERIFY(clients[size_t(onVictim)]->waitForClosed(10000));
    for (qsizetype i = 0; i < qsizetype(clients.size()); ++i) {
        if (i == onVictim)
            continue;
        clients[size_t(i)]->send(ws::Ping {100 + i, 1.0});
        QVERIFY(clients[size_t(i)]->take<ws::Pong>([i](const ws::Pong &p) { return p.id == 100 + i; }).has_value());
    }
    // Every request keeps working: a refused connection to the dead instance is retried on
    // another one (three take it out of rotation), and no answer comes from it.
    for (int i = 0; i < 4 * m_instances; ++i) {
        const QString answered = statsInstance();
        QVERIFY2(answered.startsWith(QLatin1String("tm-")), qPrintable(answered));
        QVERIFY(answered != victimName);
        QCOMPARE(m_api->get(QStringLiteral("/api/v1/me"), m_adminToken).status, 200);
    }
    // Writes too (POST is retried only when nothing reached an instance, which is the case here).
    for (int i = 0; i < 2 * m_instances; ++i) {
        const ApiReply created = m_api->post(
            QStringLiteral("/api/v1/rooms"),
            {{QStringLiteral("name"), uniqueName("after-kill")}, {QStringLiteral("memberIds"), QJsonArray {}}},
            m_adminToken);
        QCOMPARE(created.status, 201);
    }
    // The orphaned client reconnects through nginx and lands on a live instance.
    WsClient again;
    const auto welcome = again.connectAs(wsUrl(), m_memberToken);
    QVERIFY(welcome.has_value());
    QVERIFY(welcome->instance != victimName);

    // Back: start-instance brings it up on its port, and nginx sends it traffic again once its
    // fail_timeout (5 s) has passed.
    QVERIFY(clusterCommand({QStringLiteral("start-instance"), QString::number(victim)}));
    ApiClient direct(QUrl(readClusterEnv(m_dir).value(QStringLiteral("TM_INSTANCE_%1_URL").arg(victim))));
    QCOMPARE(direct.get(QStringLiteral("/health"), {}).status, 200);
    // (QTRY_VERIFY evaluates its expression once more at the end: the flag keeps a success.)
    bool answered = false;
    const auto victimAnswers = [&] {
        answered = answered || statsInstance() == victimName;
        return answered;
    };
    QTRY_VERIFY_WITH_TIMEOUT(victimAnswers(), 20000);
}

void TestClusterSmoke::restartInstanceKeepsPort()
{
    const int target = 1;
    const QString key = QStringLiteral("TM_INSTANCE_%1_").arg(target);
    const auto before = readClusterEnv(m_dir);
    const QString url = before.value(key + QStringLiteral("URL"));
    const QString pid = before.value(key + QStringLiteral("PID"));
    QVERIFY(!url.isEmpty());
    QVERIFY(!pid.isEmpty());

    QVERIFY(clusterCommand({QStringLiteral("restart-instance"), QString::number(target)}));
    const auto after = readClusterEnv(m_dir);
    QCOMPARE(after.value(key + QStringLiteral("URL")), url);
    QVERIFY(after.value(key + QStringLiteral("PID")) != pid);
    ApiClient direct {QUrl(url)};
    QCOMPARE(direct.get(QStringLiteral("/health"), {}).status, 200);
    // status sees every part up again.
    QVERIFY(clusterCommand({QStringLiteral("status")}));
    // And the sessions survived the restart (they live in shared storage).
    QCOMPARE(m_api->get(QStringLiteral("/api/v1/me"), m_adminToken).status, 200);
}

// TM_CLUSTER_TLS=1 (the test's environment): nginx serves HTTPS on a second port with a
// self-signed certificate made at start. A request there negotiates HTTP/2 (curl reports the
// version), the certificate verifies against itself as the CA for 127.0.0.1 (and nothing else
// trusts it), and the plain port keeps answering HTTP/1.1.
void TestClusterSmoke::httpsWithHttp2()
{
    const auto env = readClusterEnv(m_dir);
    const QString https = env.value(QStringLiteral("TM_CLUSTER_HTTPS_URL"));
    const QString cert = env.value(QStringLiteral("TM_CLUSTER_TLS_CERT"));
    QVERIFY2(https.startsWith(QLatin1String("https://127.0.0.1:")) && QFile::exists(cert),
             "cluster.env has no TLS listener: the test runs with TM_CLUSTER_TLS=1");
    const auto curl = [](const QStringList &args) {
        QProcess p;
        p.start(QStringLiteral("curl"),
                QStringList {QStringLiteral("-sS"), QStringLiteral("--max-time"), QStringLiteral("10"),
                             QStringLiteral("-o"), QStringLiteral("/dev/null"), QStringLiteral("-w"),
                             QStringLiteral("%{http_version} %{http_code} %{scheme}")}
                    + args);
        if (!p.waitForFinished(20000))
            p.kill();
        return std::make_pair(p.exitCode(), QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError()));
    };
    // HTTP/2 over TLS, the certificate taken as it is (-k) and verified against itself.
    for (const QStringList &trust :
         {QStringList {QStringLiteral("-k")}, QStringList {QStringLiteral("--cacert"), cert}}) {
        const auto [code, out]
            = curl(trust + QStringList {QStringLiteral("--http2"), https + QStringLiteral("/health")});
        QVERIFY2(code == 0, qPrintable(out));
        QCOMPARE(out, QStringLiteral("2 200 HTTPS"));
    }
    // A REST route through it, by the instances behind.
    {
        const auto [code, out]
            = curl({QStringLiteral("-k"), QStringLiteral("--http2"), https + QStringLiteral("/api/v1/nothing-here")});
        QVERIFY2(code == 0, qPrintable(out));
        QCOMPARE(out, QStringLiteral("2 404 HTTPS"));
    }
    // Self-signed: nothing trusts it by default (curl: 60, certificate problem).
    QCOMPARE(curl({https + QStringLiteral("/health")}).first, 60);
    // The plain listener still answers, over HTTP/1.1.
    const auto [code, out] = curl({m_url.toString() + QStringLiteral("/health")});
    QVERIFY2(code == 0, qPrintable(out));
    QCOMPARE(out, QStringLiteral("1.1 200 HTTP"));
}

// wss:// through nginx's TLS listener: the WebSocket upgrade over HTTP/1.1 inside TLS, the
// certificate verified with itself as the only CA; hello, welcome and a ping answered.
void TestClusterSmoke::websocketOverTls()
{
    const auto env = readClusterEnv(m_dir);
    const QUrl wss(env.value(QStringLiteral("TM_CLUSTER_WSS_URL")));
    QCOMPARE(wss.scheme(), QStringLiteral("wss"));
    const QList<QSslCertificate> certs
        = QSslCertificate::fromPath(env.value(QStringLiteral("TM_CLUSTER_TLS_CERT")), QSsl::Pem);
    QCOMPARE(certs.size(), 1);
    const QByteArray token = m_api->registerUser(uniqueName("wss")).second;
    WsClient c;
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setCaCertificates(certs);
    tls.setPeerVerifyMode(QSslSocket::VerifyPeer);
    c.socket().setSslConfiguration(tls);
    const auto welcome = c.connectAs(wss, token);
    QVERIFY2(welcome.has_value(), qPrintable(c.socket().errorString()));
    QVERIFY(!welcome->instance.isEmpty());
    c.send(ws::Ping {7, std::nullopt});
    QVERIFY(c.take<ws::Pong>([](const ws::Pong &p) { return p.id == 7; }).has_value());
    // Without the certificate as a CA the handshake fails.
    WsClient untrusted;
    QVERIFY(!untrusted.connectAs(wss, token, {}, 5000).has_value());
}

// cluster.sh refuses what it cannot do, with a message and exit status 1, and changes nothing:
// instances outside the pool, settings out of range (start refuses those before it creates
// anything).
void TestClusterSmoke::clusterScriptRefuses_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("env"); // extra environment (start: its own, empty TM_CLUSTER_DIR)
    QTest::addColumn<QString>("mentions");
    QTest::newRow("remove-instance outside the pool")
        << QStringList {QStringLiteral("remove-instance"), QStringLiteral("99")} << QStringList {}
        << QStringLiteral("instance must be one of");
    QTest::newRow("remove-instance not a number")
        << QStringList {QStringLiteral("remove-instance"), QStringLiteral("two")} << QStringList {}
        << QStringLiteral("instance must be one of");
    QTest::newRow("remove-instance without a number") << QStringList {QStringLiteral("remove-instance")}
                                                      << QStringList {} << QStringLiteral("instance must be one of");
    QTest::newRow("kill-instance 0") << QStringList {QStringLiteral("kill-instance"), QStringLiteral("0")}
                                     << QStringList {} << QStringLiteral("instance must be one of");
    QTest::newRow("start with TM_CLUSTER_TLS=yes")
        << QStringList {QStringLiteral("start")}
        << QStringList {QStringLiteral("TM_CLUSTER_DIR="), QStringLiteral("TM_CLUSTER_TLS=yes")}
        << QStringLiteral("TM_CLUSTER_TLS must be 0 or 1");
    QTest::newRow("start with TM_CLUSTER_MONITORING=2")
        << QStringList {QStringLiteral("start")}
        << QStringList {QStringLiteral("TM_CLUSTER_DIR="), QStringLiteral("TM_CLUSTER_MONITORING=2")}
        << QStringLiteral("TM_CLUSTER_MONITORING must be 0 or 1");
}

void TestClusterSmoke::clusterScriptRefuses()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, env);
    QFETCH(QString, mentions);
    const QByteArray before = readClusterEnv(m_dir).value(QStringLiteral("TM_CLUSTER_MEMBERS")).toUtf8();
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    for (const QString &kv : std::as_const(env))
        e.insert(kv.section(QLatin1Char('='), 0, 0), kv.section(QLatin1Char('='), 1));
    p.setProcessEnvironment(e);
    p.start(QStringLiteral(TM_CLUSTER_SCRIPT), args);
    QVERIFY(p.waitForFinished(30000));
    const QString out = QString::fromUtf8(p.readAll());
    QCOMPARE(p.exitCode(), 1);
    QVERIFY2(out.contains(mentions), qPrintable(out));
    QCOMPARE(readClusterEnv(m_dir).value(QStringLiteral("TM_CLUSTER_MEMBERS")).toUtf8(), before);
}

QTEST_GUILESS_MAIN(TestClusterSmoke)
#include "tst_cluster_smoke.moc"
