// Hostile clients against the loopback cluster through its nginx (issue 15: every limit holds with
// and without nginx; tst_http_limits and tst_ws_close are the cases without it). Two tables:
// HTTP (slow head, huge or too many header fields, bodies over the limit by Content-Length and
// chunked, a stalled and a trickled body, idle keep-alive) and WebSocket (a frame too large,
// malformed and binary frames, bytes that are no WebSocket framing, a frame flood before and after
// `welcome`, no hello), plus the per-address cap with WebSockets from one address. Each case
// checks the exact answer the hostile client sees (status and JSON error code and who gave it,
// nginx or an instance; the close code; or the connection closed without an answer, within its
// deadline), that a well-behaved client is served during and after it (GET /health/ready, login,
// a WebSocket hello -> welcome, all through nginx) and that no instance's peak RSS passed its
// bound. nginx's client timeouts and the instances' hello timeout and frame rate are shortened
// (tests/cluster/CMakeLists.txt: TM_CLUSTER_NGINX_ARGS, TM_CLUSTER_SERVER_ARGS) so that the run
// takes about 35 s. The observed answers are listed in docs/operations.md, "Limits", behind nginx.
// Found with it: one client over its per-address cap took every instance out of nginx's
// rotation (the cap answered 503, now 429), binary frames were neither throttled nor counted as
// malformed (now 4000), nginx answered a too large head with an HTML 400 (now 431 JSON).
// Runs under scripts/cluster/with-cluster.sh. Thread: the test's thread.
#include "tests/support/api_client.h"
#include "tests/support/raw_wire.h"
#include "tests/support/test_env.h"
#include "tests/support/tool_process.h"
#include "tests/support/ws_client.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QFile>
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <memory>
#include <vector>

using namespace taskmaster;
using taskmaster::test::ApiClient;
using taskmaster::test::ApiReply;
using taskmaster::test::AttackEnd;
using taskmaster::test::AttackFeed;
using taskmaster::test::closeCodeIn;
using taskmaster::test::connectFrom;
using taskmaster::test::driveAttack;
using taskmaster::test::getStatus;
using taskmaster::test::isWholeResponse;
using taskmaster::test::maskedFrame;
using taskmaster::test::parseResponse;
using taskmaster::test::procStatusKib;
using taskmaster::test::RawResponse;
using taskmaster::test::readClusterEnv;
using taskmaster::test::readUntil;
using taskmaster::test::uniqueName;
using taskmaster::test::WsClient;
using taskmaster::test::wsUpgradeRequest;

namespace {
// What tests/cluster/CMakeLists.txt gives nginx (render-conf.sh) and the instances.
constexpr int kNginxHeaderTimeoutMs = 2000; // --client-header-timeout 2s
constexpr int kNginxBodyTimeoutMs = 2000; // --client-body-timeout 2s
constexpr int kNginxKeepaliveMs = 2000; // --keepalive-timeout 2s
constexpr int kHelloTimeoutMs = 1000; // --ws-hello-timeout-ms
constexpr int kWsRate = 20; // --ws-rate (bursts of 40)
constexpr int kPerAddress = 8; // --max-connections-per-address, per instance
constexpr int kRateGraceMs = 5000; // throttled longer than this: 4029 (server/ws/hub_options.h)
// No instance's peak RSS (VmHWM) may pass this; an idle instance is about 40 MB.
constexpr qint64 kRssBoundKib = 256 * 1024;

// The bystander: a well-behaved client on its own loopback address. The attackers use others
// (not 127.0.0.1: that is nginx's address, which the instances trust to name the client in
// X-Forwarded-For, so a client there could name any client it liked).
const QHostAddress kBystander(QStringLiteral("127.0.0.2"));
const QHostAddress kAttacker(QStringLiteral("127.0.0.3"));

enum class Http {
    HalfHead, // half a request head, then nothing
    TrickledHead, // a head byte every 100 ms, never ending
    HugeField, // one header field of 10 KiB (over nginx's 8 KiB buffer)
    HeadOver32K, // five 7 KiB fields: every one fits nginx's buffer, all of them not
    HeadOverServerLimit, // three 7 KiB fields: nginx passes it, the instance's 16 KiB limit not
    ManyFields, // 150 small fields: nginx has no count limit, the instance has
    HugeContentLength, // 300 MB declared and sent
    ChunkedOverLimit, // chunks until cut off
    StalledBody, // part of a body, then nothing
    TrickledBody, // a body byte every 100 ms
    IdleKeepAlive, // one answered request, then nothing
};

enum class Ws {
    TooLarge, // a 70 KiB text frame after welcome: 1009
    Malformed, // text that is no JSON frame, flooded: 4000 after 10 in a row
    Binary, // binary frames after welcome, flooded
    BinaryFirst, // a binary frame instead of hello
    Unmasked, // unmasked text frames (a client must mask) instead of hello
    ReservedOpcode, // frames with a reserved opcode (0x3) after the upgrade
    NoHello, // upgrade, then nothing
    FloodBeforeWelcome, // hello and more than 64 frames behind it: 4029
    RateOverLimit, // pings over --ws-rate for longer than 5 s: 4029
};

QString pingText(qint64 id)
{
    return QString::fromUtf8(ws::encodeClientFrame(ws::Ping {id, std::nullopt}));
}
} // namespace

Q_DECLARE_METATYPE(Http)
Q_DECLARE_METATYPE(Ws)

class TestClusterHostile final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void http_data();
    void http();
    void websocket_data();
    void websocket();
    void perAddressCapWebSocket();

private:
    // A well-behaved client is served through nginx: /health/ready from the bystander's address,
    // a login, a WebSocket hello -> welcome and ping -> pong. Fails the test otherwise.
    void checkServed();
    // No instance's peak RSS passed kRssBoundKib (and each one still runs).
    void checkMemory();
    [[nodiscard]] QUrl wsUrl() const { return QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(m_port)); }

    QUrl m_url;
    quint16 m_port = 0;
    QString m_dir;
    QString m_username;
    QByteArray m_token;
    QList<qint64> m_pids;
};

void TestClusterHostile::initTestCase()
{
    TM_REQUIRE_CLUSTER(url, "TM_CLUSTER_URL");
    TM_REQUIRE_CLUSTER(dir, "TM_CLUSTER_DIR");
    m_url = QUrl(url);
    m_dir = dir;
    m_port = quint16(m_url.port());
    QVERIFY(m_port != 0);
    const auto env = readClusterEnv(m_dir);
    for (const int i : test::clusterMembers(m_dir)) {
        const qint64 pid = env.value(QStringLiteral("TM_INSTANCE_%1_PID").arg(i)).toLongLong();
        QVERIFY2(pid > 0, qPrintable(QStringLiteral("no pid for instance %1").arg(i)));
        m_pids << pid;
    }
    QVERIFY2(m_pids.size() >= 2, "the cluster tests need at least 2 instances");
    // The settings the cases rely on reached nginx.
    QFile conf(m_dir + QStringLiteral("/nginx/taskmaster.conf"));
    QVERIFY(conf.open(QIODevice::ReadOnly));
    const QByteArray text = conf.readAll();
    QVERIFY2(text.contains("client_header_timeout 2s;") && text.contains("client_body_timeout 2s;")
                 && text.contains("keepalive_timeout 2s;"),
             "nginx runs without the test's timeouts (TM_CLUSTER_NGINX_ARGS)");

    ApiClient api(m_url);
    m_username = uniqueName("bystander");
    m_token = api.registerUser(m_username).second;
    QVERIFY(!m_token.isEmpty());
    checkServed();
}

void TestClusterHostile::checkServed()
{
    QCOMPARE(getStatus(kBystander, m_port, "/health/ready"), 200);
    ApiClient api(m_url); // a fresh one: no connection nginx may have closed meanwhile
    const ApiReply login = api.post(
        QStringLiteral("/api/v1/auth/login"),
        {{QStringLiteral("username"), m_username}, {QStringLiteral("password"), QStringLiteral("password123")}});
    QCOMPARE(login.status, 200);
    WsClient c;
    const auto welcome = c.connectAs(wsUrl(), m_token);
    QVERIFY2(welcome.has_value(), "no welcome through nginx");
    c.send(ws::Ping {7, 1.0});
    QVERIFY(c.take<ws::Pong>([](const ws::Pong &p) { return p.id == 7; }).has_value());
}

void TestClusterHostile::checkMemory()
{
    QStringList peaks;
    for (const qint64 pid : std::as_const(m_pids)) {
        peaks << QString::number(procStatusKib(pid, "VmHWM"));
        const qint64 hwm = procStatusKib(pid, "VmHWM");
        const qint64 rss = procStatusKib(pid, "VmRSS");
        QVERIFY2(hwm > 0 && rss > 0, qPrintable(QStringLiteral("instance pid %1 is gone").arg(pid)));
        QVERIFY2(hwm < kRssBoundKib,
                 qPrintable(QStringLiteral("instance pid %1: VmHWM %2 KiB, VmRSS %3 KiB").arg(pid).arg(hwm).arg(rss)));
    }
    qInfo("instances' VmHWM (KiB): %s", qPrintable(peaks.join(QLatin1Char(' '))));
}

// ---- HTTP ---------------------------------------------------------------------------------------

void TestClusterHostile::http_data()
{
    QTest::addColumn<Http>("attack");
    QTest::addColumn<int>("status"); // 0: closed without an answer
    QTest::addColumn<QString>("code"); // the JSON error code ("" when the body is none or not JSON)
    QTest::addColumn<QByteArray>("inBody"); // a piece of the answer's body that names who answered
    QTest::addColumn<int>("closedAfterMs"); // not before (from the attack's start)
    QTest::addColumn<int>("closedWithinMs"); // and not after

    // nginx's client_header_timeout runs from the connection's start and is not restarted by
    // a byte: a head that never ends is closed at it, without an answer (nginx logs 408).
    QTest::newRow("half a head, then nothing: nginx closes at client_header_timeout")
        << Http::HalfHead << 0 << QString() << QByteArray() << kNginxHeaderTimeoutMs - 100
        << kNginxHeaderTimeoutMs + 1500;
    QTest::newRow("head trickled byte by byte: nginx closes at client_header_timeout")
        << Http::TrickledHead << 0 << QString() << QByteArray() << kNginxHeaderTimeoutMs - 100
        << kNginxHeaderTimeoutMs + 1500;
    // One field over nginx's buffer (large_client_header_buffers 4 8k): nginx's 494, sent as 431
    // headers_too_large like the server's own answer (error_page).
    QTest::newRow("a 10 KiB header field: nginx 431")
        << Http::HugeField << 431 << QStringLiteral("headers_too_large") << QByteArray("nginx") << 0 << 3000;
    QTest::newRow("a 35 KiB head: nginx 431")
        << Http::HeadOver32K << 431 << QStringLiteral("headers_too_large") << QByteArray("nginx") << 0 << 3000;
    // Fits nginx's buffers: the instance's limits answer, through nginx.
    // The instance closes its connection to nginx after its answer; nginx keeps the client's
    // open (its own keep-alive), until keepalive_timeout.
    QTest::newRow("a 21 KiB head: the instance's 431")
        << Http::HeadOverServerLimit << 431 << QStringLiteral("headers_too_large") << QByteArray("bytes")
        << kNginxKeepaliveMs - 100 << kNginxKeepaliveMs + 1500;
    QTest::newRow("150 header fields: the instance's 431")
        << Http::ManyFields << 431 << QStringLiteral("headers_too_large") << QByteArray("header fields")
        << kNginxKeepaliveMs - 100 << kNginxKeepaliveMs + 1500;
    // client_max_body_size 1m, from Content-Length before the body, and while reading a chunked one.
    // nginx answers at once, then reads and drops what the client still sends (lingering close,
    // up to lingering_time, 30 s) before it closes: the 300 MB go through nginx, not into memory.
    QTest::newRow("300 MB by Content-Length: nginx 413")
        << Http::HugeContentLength << 413 << QStringLiteral("payload_too_large") << QByteArray("over 1 MiB") << 0
        << 35000;
    QTest::newRow("chunked body over 1 MiB: nginx 413")
        << Http::ChunkedOverLimit << 413 << QStringLiteral("payload_too_large") << QByteArray("over 1 MiB") << 0
        << 5000;
    // nginx reads the body before it passes the request on: client_body_timeout closes the
    // connection, again without an answer (nginx logs 408; the instance would answer 408).
    QTest::newRow("a body that stops: nginx closes at client_body_timeout")
        << Http::StalledBody << 0 << QString() << QByteArray() << kNginxBodyTimeoutMs - 100
        << kNginxBodyTimeoutMs + 1500;
    // client_body_timeout is a gap between two reads, and the body goes to an instance only when
    // complete: a body that trickles in is nginx's to hold, and no instance sees it (the instance's
    // 30 s total deadline applies to what nginx sends it, at once). The case ends when the whole
    // (small) body arrived and was answered by the instance.
    QTest::newRow("a body trickled byte by byte: held by nginx, then the instance's answer")
        << Http::TrickledBody << 400 << QStringLiteral("bad_request") << QByteArray() << 1500 << 6000;
    QTest::newRow("idle keep-alive: nginx closes at keepalive_timeout")
        << Http::IdleKeepAlive << 200 << QString() << QByteArray() << kNginxKeepaliveMs - 100
        << kNginxKeepaliveMs + 1500;
}

void TestClusterHostile::http()
{
    QFETCH(Http, attack);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QByteArray, inBody);
    QFETCH(int, closedAfterMs);
    QFETCH(int, closedWithinMs);

    QElapsedTimer clock;
    clock.start();
    auto s = connectFrom(kAttacker, m_port);
    QVERIFY(s);
    const auto fields = [](int n, int size) {
        QByteArray h;
        for (int i = 0; i < n; ++i)
            h += "X-F" + QByteArray::number(i) + ": " + QByteArray(size, 'v') + "\r\n";
        return h;
    };
    const QByteArray get = "GET /health HTTP/1.1\r\nHost: t\r\n";
    constexpr int kTrickleBody = 30; // bytes: 3 s at one byte per 100 ms
    constexpr qint64 kMiB = 1 << 20;
    AttackFeed feed; // what the client sends on after the head
    switch (attack) {
    case Http::HalfHead:
    case Http::TrickledHead:
        s->write(get + "X-Slow: ");
        if (attack == Http::TrickledHead)
            feed = AttackFeed::trickle("a", 100);
        break;
    case Http::HugeField:
        s->write(get + fields(1, 10 * 1024) + "\r\n");
        break;
    case Http::HeadOver32K:
        s->write(get + fields(5, 7 * 1024) + "\r\n");
        break;
    case Http::HeadOverServerLimit:
        s->write(get + fields(3, 7 * 1024) + "\r\n");
        break;
    case Http::ManyFields:
        s->write(get + fields(150, 4) + "\r\n");
        break;
    case Http::HugeContentLength:
        s->write("POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 "Content-Length: 314572800\r\n\r\n");
        feed = AttackFeed::body(314572800);
        break;
    case Http::ChunkedOverLimit:
        s->write("POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n");
        feed = AttackFeed::chunked();
        break;
    case Http::StalledBody:
        s->write("POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 "Content-Length: 1000\r\n\r\n{\"user");
        break;
    case Http::TrickledBody:
        s->write("POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 "Content-Length: "
                 + QByteArray::number(kTrickleBody) + "\r\nConnection: close\r\n\r\n");
        feed = AttackFeed::trickle("a", 100, kTrickleBody);
        break;
    case Http::IdleKeepAlive:
        s->write(get + "\r\n");
        break;
    }
    int bystanderStatus = -1; // the well-behaved client's, while the attack is under way
    qint64 answeredAfter = -1;
    qint64 sentAtAnswer = -1;
    const AttackEnd end
        = driveAttack(*s, feed, clock, QDeadlineTimer(closedWithinMs + 2000), [&](const QByteArray &sofar) {
              if (answeredAfter < 0 && parseResponse(sofar).status != 0) {
                  answeredAfter = clock.elapsed();
                  sentAtAnswer = feed.sent();
              }
              if (bystanderStatus < 0 && (attack != Http::HugeContentLength || feed.sent() >= 4 * kMiB))
                  bystanderStatus = getStatus(kBystander, m_port, "/health/ready");
          });
    QVERIFY2(end.closed, end.stillOpen().constData());
    const QByteArray &got = end.read;
    const qint64 closedAfter = end.afterMs;
    const RawResponse r = parseResponse(got);
    qInfo("closed after %lld ms; answer: %s", closedAfter, got.left(400).constData());
    QCOMPARE(r.status, status);
    QVERIFY2(closedAfter >= closedAfterMs && closedAfter <= closedWithinMs, qPrintable(QString::number(closedAfter)));
    if (!code.isEmpty()) {
        QCOMPARE(r.error().value(QLatin1String("code")).toString(), code);
        QVERIFY2(r.head.toLower().contains("content-type: application/json"), r.head.constData());
    }
    if (!inBody.isEmpty())
        QVERIFY2(r.error().value(QLatin1String("message")).toString().toUtf8().contains(inBody), r.body.constData());
    if (attack == Http::HugeContentLength) {
        // Answered from the head: the client had queued little of its body (at most 4 MiB
        // ahead of what the kernel took) when the 413 came.
        QVERIFY2(
            answeredAfter >= 0 && answeredAfter < 2000 && sentAtAnswer <= 32 * kMiB,
            qPrintable(QStringLiteral("answered after %1 ms, %2 bytes sent").arg(answeredAfter).arg(sentAtAnswer)));
    }
    if (attack == Http::IdleKeepAlive)
        QCOMPARE(got.count("HTTP/1.1 "), 1);
    if (bystanderStatus < 0)
        bystanderStatus = getStatus(kBystander, m_port, "/health/ready");
    QCOMPARE(bystanderStatus, 200);
    checkServed();
    checkMemory();
}

// ---- WebSocket ----------------------------------------------------------------------------------

void TestClusterHostile::websocket_data()
{
    QTest::addColumn<Ws>("trigger");
    QTest::addColumn<int>("code"); // the close code the client receives
    QTest::addColumn<int>("closedWithinMs");
    // Every code is the instance's (docs/protocol.md 9.10); nginx passes the close frame on, and
    // the clients keep sending while the instance closes.
    QTest::newRow("70 KiB frame: 1009") << Ws::TooLarge << 1009 << 5000;
    QTest::newRow("malformed frames: 4000") << Ws::Malformed << 4000 << 5000;
    QTest::newRow("binary frames: 4000") << Ws::Binary << 4000 << 5000;
    QTest::newRow("binary frame instead of hello: 4001") << Ws::BinaryFirst << 4001 << 5000;
    // Qt 6.4's QWebSocket takes an unmasked client frame as it is: the text is not hello.
    QTest::newRow("unmasked frames instead of hello: 4001") << Ws::Unmasked << 4001 << 5000;
    QTest::newRow("reserved opcode: 1002") << Ws::ReservedOpcode << 1002 << 5000;
    QTest::newRow("no hello: 4001") << Ws::NoHello << 4001 << kHelloTimeoutMs + 3000;
    QTest::newRow("65 frames before welcome: 4029") << Ws::FloodBeforeWelcome << 4029 << 5000;
    QTest::newRow("over --ws-rate for 5 s: 4029") << Ws::RateOverLimit << 4029 << kRateGraceMs + 4000;
}

void TestClusterHostile::websocket()
{
    QFETCH(Ws, trigger);
    QFETCH(int, code);
    QFETCH(int, closedWithinMs);
    QElapsedTimer clock;
    int got = -1;
    if (trigger == Ws::Unmasked || trigger == Ws::ReservedOpcode) {
        // A raw client: QWebSocket cannot send broken framing.
        auto s = connectFrom(kAttacker, m_port);
        QVERIFY(s);
        s->write(wsUpgradeRequest());
        const QByteArray head = readUntil(*s, [](const QByteArray &b) { return b.contains("\r\n\r\n"); });
        QVERIFY2(head.startsWith("HTTP/1.1 101"), head.constData());
        clock.start();
        // Sent on until the connection ends.
        const QByteArray bad
            = trigger == Ws::Unmasked ? QByteArray("\x81\x05hello", 7) : maskedFrame(0x83, QByteArrayLiteral("junk"));
        QByteArray frames = head.mid(head.indexOf("\r\n\r\n") + 4);
        const QDeadlineTimer deadline(closedWithinMs);
        while (s->state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
            if (s->bytesToWrite() < 64 * 1024)
                s->write(bad.repeated(100));
            s->waitForBytesWritten(10);
            s->waitForReadyRead(10);
            frames += s->readAll();
        }
        frames += s->readAll();
        QVERIFY2(s->state() != QAbstractSocket::ConnectedState, "still open");
        got = closeCodeIn(frames);
    } else {
        WsClient c;
        switch (trigger) {
        case Ws::BinaryFirst:
        case Ws::NoHello:
            QVERIFY(c.open(wsUrl()));
            break;
        case Ws::FloodBeforeWelcome:
            QVERIFY(c.open(wsUrl()));
            c.send(ws::Hello {QString::fromUtf8(m_token), {}});
            break;
        default:
            QVERIFY(c.connectAs(wsUrl(), m_token));
            break;
        }
        clock.start();
        // Sends `burst` frames each turn until the socket is closed or the deadline passes.
        const auto flood = [&](const std::function<void()> &one, int burst) {
            QTimer more;
            QObject::connect(&more, &QTimer::timeout, [&] {
                for (int i = 0; i < burst && c.isOpen(); ++i)
                    one();
            });
            more.start(burst == 1 ? 10 : 0);
            c.waitUntil([&] { return c.closeCode() != -1 || !c.isOpen(); }, closedWithinMs);
        };
        const QString garbage(4096, QLatin1Char('g'));
        switch (trigger) {
        case Ws::TooLarge:
            c.sendText(QString(70 * 1024, QLatin1Char('x')));
            flood([&] { c.sendText(pingText(1)); }, 20);
            break;
        case Ws::Malformed:
            flood([&] { c.sendText(garbage); }, 20);
            break;
        case Ws::Binary:
            flood([&] { c.sendBinary(QByteArray(4096, '\x01')); }, 20);
            break;
        case Ws::BinaryFirst:
            c.sendBinary(QByteArray(64, '\x02'));
            flood([&] { c.sendBinary(QByteArray(4096, '\x01')); }, 20);
            break;
        case Ws::NoHello:
            c.waitUntil([&] { return c.closeCode() != -1 || !c.isOpen(); }, closedWithinMs);
            break;
        case Ws::FloodBeforeWelcome:
            for (int i = 0; i < 100; ++i)
                c.sendText(pingText(i));
            flood([&] { c.sendText(pingText(1)); }, 20);
            break;
        case Ws::RateOverLimit: {
            // About 4 times the rate: a frame per 10 ms, kept by the clock (a turn that came late on
            // a busy machine sends what it missed, or the flood fell to the rate and was allowed).
            qint64 sent = 0;
            flood(
                [&] {
                    for (; sent <= clock.elapsed() / 10 && c.isOpen(); ++sent)
                        c.sendText(pingText(1));
                },
                1);
            break;
        }
        case Ws::Unmasked:
        case Ws::ReservedOpcode:
            break;
        }
        QVERIFY2(!c.isOpen(), "still open");
        got = c.closeCode();
    }
    const qint64 closedAfter = clock.elapsed();
    qInfo("close code %d after %lld ms", got, closedAfter);
    QCOMPARE(got, code);
    QVERIFY2(closedAfter <= closedWithinMs, qPrintable(QString::number(closedAfter)));
    if (trigger == Ws::RateOverLimit)
        QVERIFY2(closedAfter >= kRateGraceMs, qPrintable(QString::number(closedAfter)));
    if (trigger == Ws::NoHello)
        QVERIFY2(closedAfter >= kHelloTimeoutMs - 100, qPrintable(QString::number(closedAfter)));
    checkServed();
    checkMemory();
}

// ---- Connections per client address ----------------------------------------------------------------

// Every request reaches the instances from nginx's address; nginx names the client in
// X-Forwarded-For and the instances (--trusted-proxies 127.0.0.1) count each client's
// connections on their own. One client opens WebSockets until refused: kPerAddress on every
// instance are welcome, the next is refused, and it goes on trying. Other clients (another address,
// through the same nginx) keep being served.
void TestClusterHostile::perAddressCapWebSocket()
{
    std::vector<std::unique_ptr<QTcpSocket>> held;
    const auto upgrade = [&](const QHostAddress &source) {
        auto s = connectFrom(source, m_port);
        if (!s)
            return RawResponse {};
        s->write(wsUpgradeRequest());
        const QByteArray got = readUntil(*s, [](const QByteArray &b) {
            return b.startsWith("HTTP/1.1 101") ? b.contains("\r\n\r\n") : isWholeResponse(b);
        });
        const RawResponse r = parseResponse(got);
        if (r.status == 101)
            held.push_back(std::move(s));
        return r;
    };
    const int instances = int(m_pids.size());
    int opened = 0;
    RawResponse refused;
    for (int i = 0; i < instances * kPerAddress + 5; ++i) {
        const RawResponse r = upgrade(kAttacker);
        if (r.status != 101) {
            refused = r;
            break;
        }
        ++opened;
    }
    qInfo("%d WebSockets open; then: %s", opened, refused.head.constData());
    // It keeps trying. This must not take instances out of nginx's rotation (an answer nginx
    // counts as the instance failing, a 503, would: max_fails 3).
    QList<int> again;
    for (int i = 0; i < 10; ++i)
        again << upgrade(kAttacker).status;
    // Another client through the same nginx is not counted with it, and is served.
    QCOMPARE(upgrade(kBystander).status, 101);
    checkServed();
    checkMemory();
    QCOMPARE(opened, instances * kPerAddress);
    QCOMPARE(refused.status, 429);
    QCOMPARE(refused.error().value(QLatin1String("code")).toString(), QStringLiteral("rate_limited"));
    QVERIFY2(refused.head.contains("Retry-After: 1"), refused.head.constData());
    QCOMPARE(again, QList<int>(10, 429));
    // The cap frees with the connections.
    const qsizetype before = qsizetype(held.size());
    held.clear();
    QVERIFY(before > 0);
    // Polled with qWaitFor: every try is a new upgrade that holds a slot once it succeeds.
    QVERIFY(QTest::qWaitFor([&] { return upgrade(kAttacker).status == 101; }, 10000));
}

QTEST_GUILESS_MAIN(TestClusterHostile)
#include "tst_cluster_hostile.moc"
