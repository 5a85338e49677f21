// The REST layer's pieces that need no server: TrustedProxies (server/http/trusted_proxies.h: the
// client address from the peer and X-Forwarded-For), RateLimit (server/http/rate_limit.h: the
// 429 of a rate limit, or nothing) over the in-process RateLimiter, parseId (shared/domain: path
// segments). Tables of inputs and outcomes.
#include "server/http/rate_limit.h"
#include "server/http/trusted_proxies.h"
#include "shared/domain/types.h"

#include <QTest>

using namespace taskmaster;
using namespace taskmaster::server;

class TestRestEdge final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void clientAddress_data();
    void clientAddress();
    void rateLimit();
    void rateLimitAbsentOrOff();
    void parseId_data();
    void parseId();
};

void TestRestEdge::clientAddress_data()
{
    QTest::addColumn<QString>("peer");
    QTest::addColumn<QByteArray>("forwardedFor");
    QTest::addColumn<QString>("client");
    // Trusted: 127.0.0.1/32 and 10.0.0.0/8.
    QTest::newRow("no proxy header") << "203.0.113.5" << QByteArray() << "203.0.113.5";
    QTest::newRow("untrusted peer's header ignored") << "203.0.113.5" << QByteArray("198.51.100.1") << "203.0.113.5";
    QTest::newRow("trusted peer, one hop") << "127.0.0.1" << QByteArray("198.51.100.1") << "198.51.100.1";
    QTest::newRow("spoofed left part ignored")
        << "127.0.0.1" << QByteArray("1.2.3.4, 198.51.100.1, 10.0.0.7") << "198.51.100.1";
    QTest::newRow("only trusted hops") << "127.0.0.1" << QByteArray("10.0.0.1, 10.0.0.2") << "10.0.0.1";
    QTest::newRow("garbage stops the walk") << "127.0.0.1" << QByteArray("nonsense, 10.0.0.2") << "10.0.0.2";
    QTest::newRow("IPv4-mapped peer") << "::ffff:127.0.0.1" << QByteArray("198.51.100.1") << "198.51.100.1";
    QTest::newRow("IPv6 client") << "127.0.0.1" << QByteArray("2001:db8::1") << "2001:db8::1";
}

void TestRestEdge::clientAddress()
{
    QFETCH(QString, peer);
    QFETCH(QByteArray, forwardedFor);
    QFETCH(QString, client);
    const TrustedProxies proxies({QHostAddress::parseSubnet(QStringLiteral("127.0.0.1/32")),
                                  QHostAddress::parseSubnet(QStringLiteral("10.0.0.0/8"))});
    Call call;
    call.peer = QHostAddress(peer);
    call.forwardedFor = forwardedFor;
    QCOMPARE(proxies.clientAddress(call), QHostAddress(client));
}

void TestRestEdge::rateLimit()
{
    RateLimiter limiter(nullptr, nullptr);
    qint64 now = 1000;
    limiter.setClock([&now] { return now; });
    const RateLimit limit(&limiter, "auth", RateRule {1, 2}); // 1/s, burst 2
    QVERIFY(limit.enabled());
    QList<MaybeError> seen;
    for (int i = 0; i < 3; ++i)
        limit.take("203.0.113.5", [&seen](MaybeError e) { seen.append(e); });
    QCOMPARE(seen.size(), 3);
    QVERIFY(!seen[0]);
    QVERIFY(!seen[1]);
    QVERIFY(seen[2].has_value());
    QCOMPARE(seen[2]->code, ErrorCode::RateLimited);
    QCOMPARE(seen[2]->retryAfterMs, qint64(1000));
    // Another key has its own bucket.
    limit.take("203.0.113.6", [&seen](MaybeError e) { seen.append(e); });
    QVERIFY(!seen[3]);
    now += 1000;
    limit.take("203.0.113.5", [&seen](MaybeError e) { seen.append(e); });
    QVERIFY(!seen[4]);
}

void TestRestEdge::rateLimitAbsentOrOff()
{
    RateLimiter limiter(nullptr, nullptr);
    const RateLimit off(&limiter, "api", RateRule {});
    const RateLimit absent({}, "api", RateRule {1, 1});
    QVERIFY(!off.enabled());
    QVERIFY(!absent.enabled());
    int passed = 0;
    for (int i = 0; i < 5; ++i) {
        off.take("1", [&passed](MaybeError e) { passed += e ? 0 : 1; });
        absent.take("1", [&passed](MaybeError e) { passed += e ? 0 : 1; });
    }
    QCOMPARE(passed, 10);
}

void TestRestEdge::parseId_data()
{
    QTest::addColumn<QString>("segment");
    QTest::addColumn<qint64>("id"); // 0: none
    QTest::newRow("one") << "1" << 1LL;
    QTest::newRow("large") << "9223372036854775807" << 9223372036854775807LL;
    QTest::newRow("overflow") << "9223372036854775808" << 0LL;
    QTest::newRow("twenty digits") << "10000000000000000000" << 0LL;
    QTest::newRow("zero") << "0" << 0LL;
    QTest::newRow("leading zero") << "01" << 0LL;
    QTest::newRow("sign") << "+1" << 0LL;
    QTest::newRow("negative") << "-1" << 0LL;
    QTest::newRow("space") << " 1" << 0LL;
    QTest::newRow("letters") << "1a" << 0LL;
    QTest::newRow("empty") << "" << 0LL;
}

void TestRestEdge::parseId()
{
    QFETCH(QString, segment);
    QFETCH(qint64, id);
    QCOMPARE(taskmaster::parseId(segment).value_or(0), id);
}

QTEST_GUILESS_MAIN(TestRestEdge)
#include "tst_rest_edge.moc"
