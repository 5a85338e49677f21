// The REST cache (server/cache) and the rate limiter (server/ratelimit) against a real Redis of
// the test's own (and in process): hit only under the versions a value was stored with, every
// bump retires the values that depend on it on every connection, a put under an outdated tag is
// never served, a failed bump makes the Redis cache unusable until the global generation moved,
// Redis unreachable answers "unusable" instead of stale data; the local cache keeps its byte
// bound and tags each run differently (ETags outlive a restart). Rate rules parse as documented;
// a bucket refills at its rate, is shared by two limiters on two connections through Redis, and
// falls back to the local bucket without Redis.
#include "server/cache/cache.h"
#include "server/metrics/metrics.h"
#include "server/ratelimit/rate_limiter.h"
#include "server/redis/redis_connection.h"
#include "tests/support/redis_process.h"

#include <QSignalSpy>
#include <QTest>

#include <memory>
#include <optional>

using namespace taskmaster;
using namespace taskmaster::server;

namespace {

RedisUrl urlOf(int port)
{
    RedisUrl u;
    u.host = QStringLiteral("127.0.0.1");
    u.port = port;
    return u;
}

CacheLookup lookupSync(Cache &cache, const QByteArray &key, const QList<QByteArray> &versions)
{
    std::optional<CacheLookup> out;
    cache.get("test", key, versions, [&out](CacheLookup l) { out = std::move(l); });
    if (!QTest::qWaitFor([&] { return out.has_value(); }, 5000))
        return {};
    return *out;
}

bool bumpSync(Cache &cache, const QList<QByteArray> &versions)
{
    bool done = false;
    cache.bump(versions, [&done] { done = true; });
    return QTest::qWaitFor([&] { return done; }, 5000);
}

RateDecision takeSync(RateLimiter &limiter, const QByteArray &key, const RateRule &rule)
{
    std::optional<RateDecision> out;
    limiter.take("test", key, rule, [&out](RateDecision d) { out = d; });
    if (!QTest::qWaitFor([&] { return out.has_value(); }, 5000))
        return RateDecision {true, -1};
    return *out;
}

std::optional<RedisReply> commandSync(RedisConnection &c, QList<QByteArray> args)
{
    std::optional<RedisReply> out;
    bool done = false;
    c.command(std::move(args), [&](Result<RedisReply> r) {
        done = true;
        if (r)
            out = *r;
    });
    (void)QTest::qWaitFor([&] { return done; }, 5000);
    return out;
}

} // namespace

class TestCache final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void hitOnlyUnderStoredVersions_data();
    void hitOnlyUnderStoredVersions();
    void bumpSeenByOtherConnection();
    void failedBumpRetiresEverything();
    void redisUnreachableIsUnusable();
    void localCacheKeepsItsBound();
    void etagFollowsTag();
    void parseRateRule_data();
    void parseRateRule();
    void localBucketRefills();
    void redisBucketSharedByLimiters();
    void redisDownFallsBackToLocal();

private:
    std::unique_ptr<Cache> makeCache(const QString &backend);
    std::unique_ptr<RedisConnection> connection();
    QByteArray unique(const char *prefix);

    test::RedisProcess m_redis;
    MetricsRegistry m_metrics;
    int m_counter = 0;
    QList<std::shared_ptr<RedisConnection>> m_connections;
};

void TestCache::initTestCase()
{
    const QString started = m_redis.start();
    QVERIFY2(started.isEmpty(), qPrintable(started));
}

QByteArray TestCache::unique(const char *prefix)
{
    return QByteArray(prefix) + ':' + QByteArray::number(QCoreApplication::applicationPid()) + '-'
        + QByteArray::number(++m_counter);
}

std::unique_ptr<RedisConnection> TestCache::connection()
{
    auto c = std::make_unique<RedisConnection>(urlOf(m_redis.port()));
    QSignalSpy up(c.get(), &RedisClientBase::up);
    c->start();
    if (!c->isUp())
        (void)up.wait(5000);
    return c;
}

std::unique_ptr<Cache> TestCache::makeCache(const QString &backend)
{
    if (backend == QLatin1String("local"))
        return std::make_unique<LocalCache>(1 << 20, &m_metrics);
    std::shared_ptr<RedisConnection> c = connection();
    m_connections.append(c); // outlives the cache
    return std::make_unique<RedisCache>(c.get(), 60000, &m_metrics);
}

void TestCache::hitOnlyUnderStoredVersions_data()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("local") << QStringLiteral("local");
    QTest::newRow("redis") << QStringLiteral("redis");
}

void TestCache::hitOnlyUnderStoredVersions()
{
    QFETCH(QString, backend);
    auto cache = makeCache(backend);
    QVERIFY(cache->usable());
    const QByteArray key = unique("k");
    const QList<QByteArray> deps {unique("room"), unique("project")};
    const QByteArray other = unique("room");

    // A step: what to do, then whether the next lookup must hit and with which value.
    CacheLookup first = lookupSync(*cache, key, deps);
    QVERIFY(first.usable);
    QVERIFY(!first.value);
    cache->put(key, first.tag, "v1");
    CacheLookup second = lookupSync(*cache, key, deps);
    QVERIFY(second.value);
    QCOMPARE(*second.value, QByteArray("v1"));
    QCOMPARE(second.tag, first.tag);

    // A version nothing cached depends on: still a hit.
    QVERIFY(bumpSync(*cache, {other}));
    QCOMPARE(lookupSync(*cache, key, deps).value.value_or("miss"), QByteArray("v1"));

    // Each dependency retires the value.
    for (const QByteArray &dep : deps) {
        const CacheLookup before = lookupSync(*cache, key, deps);
        QVERIFY(bumpSync(*cache, {dep}));
        const CacheLookup after = lookupSync(*cache, key, deps);
        QVERIFY2(!after.value, dep.constData());
        QVERIFY(after.tag != before.tag);
        // A put under the tag read before the bump (a reader that raced the write) is not served.
        cache->put(key, before.tag, "stale");
        QVERIFY(!lookupSync(*cache, key, deps).value);
        cache->put(key, after.tag, "fresh-" + dep);
        QCOMPARE(lookupSync(*cache, key, deps).value.value_or("miss"), "fresh-" + dep);
    }
    QVERIFY(cache->hits() >= 4);
    QVERIFY(cache->misses() >= 3);
}

void TestCache::bumpSeenByOtherConnection()
{
    auto a = makeCache(QStringLiteral("redis"));
    auto b = makeCache(QStringLiteral("redis"));
    const QByteArray key = unique("k");
    const QList<QByteArray> deps {unique("room")};
    const CacheLookup l = lookupSync(*a, key, deps);
    a->put(key, l.tag, "shared");
    QCOMPARE(lookupSync(*b, key, deps).value.value_or("miss"), QByteArray("shared"));
    QVERIFY(bumpSync(*b, deps));
    QVERIFY(!lookupSync(*a, key, deps).value);
}

void TestCache::failedBumpRetiresEverything()
{
    auto conn = connection();
    RedisCache cache(conn.get(), 60000, &m_metrics);
    const QByteArray key = unique("k");
    const QList<QByteArray> deps {unique("room")};
    const CacheLookup l = lookupSync(cache, key, deps);
    cache.put(key, l.tag, "old");
    QVERIFY(lookupSync(cache, key, deps).value);
    // A version key that INCR refuses stands for any failed bump (Redis unreachable for this
    // instance only): the value may now be stale everywhere.
    const QByteArray broken = unique("broken");
    QVERIFY(commandSync(*conn, {"SET", "tm:v:" + broken, "not a number"}));
    const auto generation = commandSync(*conn, {"GET", "tm:cgen"});
    QVERIFY(bumpSync(cache, {broken}));
    // The generation moved (once Redis answered): every value stored before is a miss.
    QVERIFY(QTest::qWaitFor([&] { return cache.usable(); }, 5000));
    const auto after = commandSync(*conn, {"GET", "tm:cgen"});
    QVERIFY(after && generation);
    QCOMPARE(after->toInteger().value_or(0), generation->toInteger().value_or(0) + 1);
    QVERIFY(!lookupSync(cache, key, deps).value);
}

void TestCache::redisUnreachableIsUnusable()
{
    RedisConnection conn(urlOf(test::freePort()));
    conn.start();
    RedisCache cache(&conn, 60000, &m_metrics);
    QVERIFY(!cache.usable());
    const CacheLookup l = lookupSync(cache, "k", {"room:1"});
    QVERIFY(!l.usable);
    QVERIFY(!l.value);
    cache.put("k", l.tag, "never stored"); // ignored, no crash
    QVERIFY(bumpSync(cache, {"room:1"})); // a write still gets its acknowledgement
    QVERIFY(!cache.usable());
}

void TestCache::localCacheKeepsItsBound()
{
    LocalCache cache(64 * 1024, &m_metrics);
    const QByteArray value(1000, 'x');
    for (int i = 0; i < 500; ++i) {
        const QByteArray key = "k" + QByteArray::number(i);
        cache.put(key, lookupSync(cache, key, {"v"}).tag, value);
        QVERIFY(cache.bytes() <= 64 * 1024);
    }
    QVERIFY(lookupSync(cache, "k499", {"v"}).value); // the newest survive
    QVERIFY(!lookupSync(cache, "k0", {"v"}).value); // the oldest went
    cache.put("huge", lookupSync(cache, "huge", {"v"}).tag, QByteArray(128 * 1024, 'y'));
    QVERIFY(!lookupSync(cache, "huge", {"v"}).value); // larger than the whole cache: not kept
}

void TestCache::etagFollowsTag()
{
    // Versions start at 0 in every run of an embedded server, but clients keep ETags across its
    // restarts: the same versions in another run give another tag.
    LocalCache first(1 << 20, &m_metrics);
    LocalCache second(1 << 20, &m_metrics);
    QVERIFY(lookupSync(first, "k", {"room:1"}).tag != lookupSync(second, "k", {"room:1"}).tag);

    QCOMPARE(Cache::etag("k", "1.2"), Cache::etag("k", "1.2"));
    QVERIFY(Cache::etag("k", "1.2") != Cache::etag("k", "1.3"));
    QVERIFY(Cache::etag("k", "1.2") != Cache::etag("j", "1.2"));
    QVERIFY(Cache::etag("k", "1").startsWith("W/\""));
}

void TestCache::parseRateRule_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<double>("rate");
    QTest::addColumn<double>("burst");
    QTest::newRow("rate and burst") << QStringLiteral("100/200") << true << 100.0 << 200.0;
    QTest::newRow("fraction") << QStringLiteral("0.5/10") << true << 0.5 << 10.0;
    QTest::newRow("rate alone") << QStringLiteral("20") << true << 20.0 << 20.0;
    QTest::newRow("small rate alone") << QStringLiteral("0.2") << true << 0.2 << 1.0;
    QTest::newRow("zero") << QStringLiteral("0") << true << 0.0 << 0.0;
    QTest::newRow("off") << QStringLiteral("off") << true << 0.0 << 0.0;
    QTest::newRow("spaces") << QStringLiteral(" 5/7 ") << true << 5.0 << 7.0;
    QTest::newRow("empty") << QString() << false << 0.0 << 0.0;
    QTest::newRow("negative") << QStringLiteral("-1/5") << false << 0.0 << 0.0;
    QTest::newRow("zero rate with burst") << QStringLiteral("0/5") << false << 0.0 << 0.0;
    QTest::newRow("burst below one") << QStringLiteral("5/0.5") << false << 0.0 << 0.0;
    QTest::newRow("words") << QStringLiteral("fast") << false << 0.0 << 0.0;
    QTest::newRow("three parts") << QStringLiteral("1/2/3") << false << 0.0 << 0.0;
    QTest::newRow("nan") << QStringLiteral("nan/5") << false << 0.0 << 0.0;
    QTest::newRow("inf") << QStringLiteral("inf") << false << 0.0 << 0.0;
    QTest::newRow("huge") << QStringLiteral("1e9/1e9") << false << 0.0 << 0.0;
}

void TestCache::parseRateRule()
{
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QFETCH(double, rate);
    QFETCH(double, burst);
    const auto rule = server::parseRateRule(text, QStringLiteral("rate-api"));
    QCOMPARE(rule.ok(), ok);
    if (!ok) {
        QCOMPARE(rule.error().code, ErrorCode::BadRequest);
        QCOMPARE(rule.error().field, QStringLiteral("rate-api"));
        return;
    }
    QCOMPARE(rule->perSecond, rate);
    QCOMPARE(rule->burst, burst);
    QCOMPARE(server::parseRateRule(formatRateRule(*rule), QStringLiteral("x")).value(), *rule);
}

void TestCache::localBucketRefills()
{
    RateLimiter limiter(nullptr, &m_metrics);
    qint64 now = 1000;
    limiter.setClock([&now] { return now; });
    const RateRule rule {2, 3}; // 2/s, burst 3
    for (int i = 0; i < 3; ++i)
        QVERIFY(limiter.takeLocal("s", "k", rule).allowed);
    const RateDecision refused = limiter.takeLocal("s", "k", rule);
    QVERIFY(!refused.allowed);
    QCOMPARE(refused.retryAfterMs, 500); // one token at 2/s
    QVERIFY(limiter.takeLocal("s", "other", rule).allowed); // buckets are per key
    QVERIFY(limiter.takeLocal("t", "k", rule).allowed); // and per scope
    now += 499;
    QVERIFY(!limiter.takeLocal("s", "k", rule).allowed);
    now += 2;
    QVERIFY(limiter.takeLocal("s", "k", rule).allowed);
    now += 60000; // refills to the burst, not beyond
    for (int i = 0; i < 3; ++i)
        QVERIFY(limiter.takeLocal("s", "k", rule).allowed);
    QVERIFY(!limiter.takeLocal("s", "k", rule).allowed);
    QVERIFY(takeSync(limiter, "k", RateRule {}).allowed); // a disabled rule never refuses
    const auto *refusedCount = m_metrics.find<Counter>("rate_limited_requests_total");
    QVERIFY(refusedCount);
}

void TestCache::redisBucketSharedByLimiters()
{
    auto c1 = connection();
    auto c2 = connection();
    RateLimiter a(c1.get(), &m_metrics), b(c2.get(), &m_metrics);
    const RateRule rule {0.01, 4}; // next token in 100 s: nothing refills during the test
    const QByteArray key = unique("user");
    int allowed = 0;
    for (int i = 0; i < 4; ++i)
        allowed += takeSync(i % 2 ? a : b, key, rule).allowed ? 1 : 0;
    QCOMPARE(allowed, 4);
    const RateDecision onA = takeSync(a, key, rule);
    const RateDecision onB = takeSync(b, key, rule);
    QVERIFY(!onA.allowed);
    QVERIFY(!onB.allowed);
    QVERIFY2(onA.retryAfterMs > 90000 && onA.retryAfterMs <= 100000, QByteArray::number(onA.retryAfterMs));
    // The bucket lives in Redis, not in the limiters.
    QVERIFY(a.takeLocal("test", key, rule).allowed);
}

void TestCache::redisDownFallsBackToLocal()
{
    RedisConnection down(urlOf(test::freePort()));
    down.start();
    RateLimiter limiter(&down, &m_metrics);
    const RateRule rule {0.01, 2};
    QVERIFY(takeSync(limiter, "k", rule).allowed);
    QVERIFY(takeSync(limiter, "k", rule).allowed);
    const RateDecision third = takeSync(limiter, "k", rule);
    QVERIFY(!third.allowed);
    QVERIFY(third.retryAfterMs > 0);
}

QTEST_GUILESS_MAIN(TestCache)
#include "tst_cache.moc"
