// The limits at the HTTP front against the real taskmaster-server binary, without nginx
// (docs/operations.md, "Limits"): a table of hostile clients (huge Content-Length, chunked body
// over the limit, slow head, slow body, too many / too large header fields, idle keep-alive,
// one connection over the per-address cap, plain and WebSocket). Each case checks the answer
// (status, JSON error code, the connection closed within its deadline), that the server's peak
// RSS (VmHWM) stays under a bound, and that another client (from 127.0.0.2) is served during the
// attack. The timeouts are set short so each case takes about a second or two.
#include "tests/support/raw_wire.h"
#include "tests/support/server_process.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTest>

#include <memory>
#include <vector>

using taskmaster::test::AttackEnd;
using taskmaster::test::AttackFeed;
using taskmaster::test::connectFrom;
using taskmaster::test::driveAttack;
using taskmaster::test::getStatus;
using taskmaster::test::parseResponse;
using taskmaster::test::procStatusKib;
using taskmaster::test::RawResponse;
using taskmaster::test::readUntil;
using taskmaster::test::ServerProcess;
using taskmaster::test::wsUpgradeRequest;

namespace {
constexpr int kHeadTimeoutMs = 1000;
constexpr int kBodyTimeoutMs = 1000;
constexpr int kIdleTimeoutMs = 1000;
constexpr int kPerAddress = 20;

const QStringList kLimits {
    QStringLiteral("--http-max-body-kib"),
    QStringLiteral("64"),
    QStringLiteral("--http-max-header-kib"),
    QStringLiteral("4"),
    QStringLiteral("--http-max-headers"),
    QStringLiteral("20"),
    QStringLiteral("--http-head-timeout-ms"),
    QString::number(kHeadTimeoutMs),
    QStringLiteral("--http-body-timeout-ms"),
    QString::number(kBodyTimeoutMs),
    QStringLiteral("--http-idle-timeout-ms"),
    QString::number(kIdleTimeoutMs),
    QStringLiteral("--max-connections-per-address"),
    QString::number(kPerAddress),
};

enum class Attack {
    HugeContentLength, // 300 MB declared and sent
    ChunkedOverLimit, // chunks until cut off
    SlowHead, // a header byte every 100 ms, never ending
    SlowBody, // a body byte every 100 ms
    ManyHeaders,
    ManyHeadersTrickled, // after an answered request on the same connection, one field every 20 ms
    HugeHeader,
    IdleKeepAlive, // one answered request, then nothing
    OverPerAddressCap, // kPerAddress open connections, then one more
    OverPerAddressCapWebSocket, // the same with upgraded WebSockets held open
};

} // namespace

Q_DECLARE_METATYPE(Attack)

class TestHttpLimits final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void hostile_data();
    void hostile();
    void perAddressBehindTrustedProxy();
    void totalCap();

private:
    ServerProcess m_server;
};

void TestHttpLimits::initTestCase()
{
    QVERIFY2(m_server.start(kLimits), qPrintable(m_server.errorText()));
}

void TestHttpLimits::cleanupTestCase()
{
    QCOMPARE(m_server.stop(), 0);
}

void TestHttpLimits::hostile_data()
{
    QTest::addColumn<Attack>("attack");
    QTest::addColumn<int>("status"); // 0: closed without an answer
    QTest::addColumn<QString>("code"); // the JSON error code
    QTest::addColumn<int>("closedWithinMs"); // from the attack's start
    QTest::newRow("300 MB Content-Length")
        << Attack::HugeContentLength << 413 << QStringLiteral("payload_too_large") << 5000;
    QTest::newRow("chunked body over the limit")
        << Attack::ChunkedOverLimit << 413 << QStringLiteral("payload_too_large") << 5000;
    QTest::newRow("slow head (slowloris)")
        << Attack::SlowHead << 408 << QStringLiteral("request_timeout") << kHeadTimeoutMs + 1500;
    QTest::newRow("slow body") << Attack::SlowBody << 408 << QStringLiteral("request_timeout") << kBodyTimeoutMs + 1500;
    QTest::newRow("too many header fields")
        << Attack::ManyHeaders << 431 << QStringLiteral("headers_too_large") << 3000;
    QTest::newRow("too many header fields, one by one on a kept-alive connection")
        << Attack::ManyHeadersTrickled << 431 << QStringLiteral("headers_too_large") << 3000;
    QTest::newRow("huge header field") << Attack::HugeHeader << 431 << QStringLiteral("headers_too_large") << 3000;
    QTest::newRow("idle keep-alive") << Attack::IdleKeepAlive << 200 << QString() << kIdleTimeoutMs + 1500;
    QTest::newRow("one connection over the per-address cap")
        << Attack::OverPerAddressCap << 429 << QStringLiteral("rate_limited") << 3000;
    QTest::newRow("one WebSocket over the per-address cap")
        << Attack::OverPerAddressCapWebSocket << 429 << QStringLiteral("rate_limited") << 3000;
}

void TestHttpLimits::hostile()
{
    QFETCH(Attack, attack);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(int, closedWithinMs);
    // The cap cases hold their connections longer than the short timeouts: a server of their own.
    const bool capCase = attack == Attack::OverPerAddressCap || attack == Attack::OverPerAddressCapWebSocket;
    ServerProcess capServer;
    if (capCase) {
        QVERIFY2(capServer.start({QStringLiteral("--max-connections-per-address"), QString::number(kPerAddress)}),
                 qPrintable(capServer.errorText()));
    }
    ServerProcess &server = capCase ? capServer : m_server;
    const quint16 port = server.port();
    const QString attacker = QStringLiteral("127.0.0.1");
    const QString bystander = QStringLiteral("127.0.0.2");
    QCOMPARE(getStatus(bystander, port), 200);

    std::vector<std::unique_ptr<QTcpSocket>> held; // the cap cases' connections
    if (capCase) {
        for (int i = 0; i < kPerAddress; ++i) {
            auto s = connectFrom(attacker, port);
            QVERIFY(s);
            if (attack == Attack::OverPerAddressCapWebSocket) {
                s->write(wsUpgradeRequest());
                const QByteArray got = readUntil(*s, [](const QByteArray &b) { return b.contains("\r\n\r\n"); });
                QVERIFY2(got.startsWith("HTTP/1.1 101"), got.constData());
            } else {
                // A request answered proves the server holds this connection.
                s->write("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
                const QByteArray got = readUntil(*s, [](const QByteArray &b) { return b.contains("\"ok\""); });
                QVERIFY2(got.startsWith("HTTP/1.1 200"), got.constData());
            }
            held.push_back(std::move(s));
        }
    }

    QElapsedTimer clock;
    clock.start();
    auto s = connectFrom(attacker, port);
    QVERIFY(s);
    constexpr qint64 kMiB = 1 << 20;
    AttackFeed feed; // what the client sends on after the head
    switch (attack) {
    case Attack::HugeContentLength:
        s->write("POST /api/v1/auth/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 "Content-Length: 314572800\r\n\r\n");
        feed = AttackFeed::body(314572800);
        break;
    case Attack::ChunkedOverLimit:
        s->write("POST /api/v1/auth/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n");
        feed = AttackFeed::chunked();
        break;
    case Attack::SlowHead:
        s->write("GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: ");
        feed = AttackFeed::trickle("a", 100);
        break;
    case Attack::SlowBody:
        s->write("POST /api/v1/auth/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 "Content-Length: 1000\r\n\r\n{");
        feed = AttackFeed::trickle(" ", 100);
        break;
    case Attack::ManyHeaders: {
        QByteArray head = "GET /health HTTP/1.1\r\nHost: t\r\n";
        for (int i = 0; i < 30; ++i)
            head += "X-H" + QByteArray::number(i) + ": v\r\n";
        s->write(head + "\r\n");
        break;
    }
    case Attack::ManyHeadersTrickled: {
        s->write("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
        QByteArray first;
        const QDeadlineTimer answered(5000);
        while (!first.contains("\"ok\"") && !answered.hasExpired() && s->waitForReadyRead(100))
            first += s->readAll();
        QVERIFY2(first.startsWith("HTTP/1.1 200"), first.constData());
        s->write("GET /health HTTP/1.1\r\nHost: t\r\n");
        feed = AttackFeed::trickle([](int i) -> QByteArray { return "X-H" + QByteArray::number(i) + ": v\r\n"; }, 20);
        break;
    }
    case Attack::HugeHeader:
        s->write("GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + QByteArray(8192, 'a') + "\r\n\r\n");
        break;
    case Attack::IdleKeepAlive:
    case Attack::OverPerAddressCap:
        s->write("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
        break;
    case Attack::OverPerAddressCapWebSocket:
        s->write(wsUpgradeRequest());
        break;
    }
    // The other client, while the attack is under way (the 300 MB body: after its first 8 MB).
    int bystanderStatus = -1;
    const AttackEnd end = driveAttack(*s, feed, clock, QDeadlineTimer(closedWithinMs + 2000), [&](const QByteArray &) {
        if (bystanderStatus < 0 && (attack != Attack::HugeContentLength || feed.sent() >= 8 * kMiB))
            bystanderStatus = getStatus(bystander, port);
    });
    QVERIFY2(end.closed, end.stillOpen().constData());
    const QByteArray &got = end.read;
    const qint64 closedAfter = end.afterMs;
    QVERIFY2(closedAfter <= closedWithinMs, qPrintable(QString::number(closedAfter)));
    const RawResponse r = parseResponse(got);
    QCOMPARE(r.status, status);
    if (!code.isEmpty()) {
        QCOMPARE(r.errorCode(), code);
        QVERIFY(r.head.contains("Connection: close"));
    }
    if (status == 429)
        QVERIFY(r.head.contains("Retry-After: 1"));
    if (attack == Attack::IdleKeepAlive) {
        // Closed after the idle time, not before, and nothing more was sent.
        QVERIFY2(closedAfter >= kIdleTimeoutMs - 100, qPrintable(QString::number(closedAfter)));
        QCOMPARE(got.count("HTTP/1.1"), 1);
    }
    if (attack == Attack::SlowHead || attack == Attack::SlowBody)
        QVERIFY2(closedAfter >= kHeadTimeoutMs - 100, qPrintable(QString::number(closedAfter)));
    if (attack == Attack::HugeContentLength)
        QVERIFY2(feed.sent() < 314572800, "the whole body went through before the answer");
    if (bystanderStatus < 0)
        bystanderStatus = getStatus(bystander, port);
    QCOMPARE(bystanderStatus, 200);

    // The cap frees with the connections it counted.
    held.clear();
    if (capCase)
        QVERIFY(QTest::qWaitFor([&] { return getStatus(attacker, port) == 200; }, 5000)); // see totalCap

    const qint64 hwm = procStatusKib(server.process().processId(), "VmHWM");
    QVERIFY(hwm > 0);
    QVERIFY2(hwm < 200 * 1024, qPrintable(QStringLiteral("VmHWM %1 KiB").arg(hwm)));
    if (capCase)
        QCOMPARE(capServer.stop(), 0);
}

// Behind a trusted proxy every connection comes from the proxy's address: the cap applies to the
// client named by X-Forwarded-For, from each request head on.
void TestHttpLimits::perAddressBehindTrustedProxy()
{
    ServerProcess server;
    QVERIFY2(server.start({QStringLiteral("--trusted-proxies"), QStringLiteral("127.0.0.1"),
                           QStringLiteral("--max-connections-per-address"), QStringLiteral("2")}),
             qPrintable(server.errorText()));
    auto request = [&](QTcpSocket &s, const QByteArray &client) {
        s.write("GET /health HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: " + client + "\r\n\r\n");
        return parseResponse(readUntil(s, [](const QByteArray &b) { return b.contains("\r\n\r\n{"); })).status;
    };
    std::vector<std::unique_ptr<QTcpSocket>> held;
    for (int i = 0; i < 2; ++i) {
        held.push_back(connectFrom(QStringLiteral("127.0.0.1"), server.port()));
        QVERIFY(held.back());
        QCOMPARE(request(*held.back(), "10.9.9.9"), 200);
    }
    auto third = connectFrom(QStringLiteral("127.0.0.1"), server.port());
    QVERIFY(third);
    QCOMPARE(request(*third, "10.9.9.9"), 429);
    auto other = connectFrom(QStringLiteral("127.0.0.1"), server.port());
    QVERIFY(other);
    QCOMPARE(request(*other, "10.9.9.8"), 200); // another client behind the same proxy
    // A connection that names another client moves to it.
    QCOMPARE(request(*held.front(), "10.9.9.7"), 200);
    auto fourth = connectFrom(QStringLiteral("127.0.0.1"), server.port());
    QVERIFY(fourth);
    QCOMPARE(request(*fourth, "10.9.9.9"), 200);
    QCOMPARE(server.stop(), 0);
}

// Over --max-connections in total, a new connection from anywhere is answered 503 and closed.
void TestHttpLimits::totalCap()
{
    ServerProcess server;
    QVERIFY2(server.start({QStringLiteral("--max-connections"), QStringLiteral("5")}), qPrintable(server.errorText()));
    std::vector<std::unique_ptr<QTcpSocket>> held;
    for (int i = 0; i < 5; ++i) {
        held.push_back(connectFrom(QStringLiteral("127.0.0.%1").arg(i + 3), server.port()));
        QVERIFY(held.back());
        held.back()->write("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
        const QByteArray got = readUntil(*held.back(), [](const QByteArray &b) { return b.contains("\"ok\""); });
        QVERIFY2(got.startsWith("HTTP/1.1 200"), got.constData());
    }
    QCOMPARE(getStatus(QStringLiteral("127.0.0.2"), server.port()), 503);
    held.pop_back();
    // Polled with qWaitFor, not QTRY_COMPARE: QTRY evaluates its expression once more after it
    // passed, and each getStatus() is a new connection that holds the one free slot until the
    // server has seen it close, so that extra evaluation could get the 503.
    QVERIFY(QTest::qWaitFor([&] { return getStatus(QStringLiteral("127.0.0.2"), server.port()) == 200; }, 10000));
    QCOMPARE(server.stop(), 0);
}

QTEST_GUILESS_MAIN(TestHttpLimits)
#include "tst_http_limits.moc"
