// The small shared primitives: Backoff (shared/core/backoff.h: exponential, equal jitter, capped,
// reset), TokenBucket (server/ratelimit/token_bucket.h: refill, take, full, time to the next
// token) and sql::joined / placeholders (server/storage/sql.h). Tables of inputs and outcomes.
#include "server/ratelimit/token_bucket.h"
#include "server/storage/sql.h"
#include "shared/core/backoff.h"

#include <QTest>

using namespace taskmaster;
using namespace taskmaster::server;

class TestPrimitives final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void backoffCeiling_data();
    void backoffCeiling();
    void backoffJitterWithinBounds();
    void backoffReset();
    void tokenBucket_data();
    void tokenBucket();
    void tokenBucketFullAndWait();
    void joined_data();
    void joined();
};

void TestPrimitives::backoffCeiling_data()
{
    QTest::addColumn<qint64>("base");
    QTest::addColumn<qint64>("max");
    QTest::addColumn<int>("attempt");
    QTest::addColumn<qint64>("ceiling");
    QTest::newRow("first") << 500LL << 30000LL << 1 << 500LL;
    QTest::newRow("second doubles") << 500LL << 30000LL << 2 << 1000LL;
    QTest::newRow("sixth") << 500LL << 30000LL << 6 << 16000LL;
    QTest::newRow("capped") << 500LL << 30000LL << 7 << 30000LL;
    QTest::newRow("far past the cap") << 50LL << 2000LL << 1000 << 2000LL;
    QTest::newRow("base 0 is 1 ms") << 0LL << 10LL << 1 << 1LL;
    QTest::newRow("max below base") << 100LL << 10LL << 3 << 100LL;
    QTest::newRow("huge base does not overflow") << (1LL << 61) << (1LL << 62) << 40 << (1LL << 62);
}

void TestPrimitives::backoffCeiling()
{
    QFETCH(qint64, base);
    QFETCH(qint64, max);
    QFETCH(int, attempt);
    QFETCH(qint64, ceiling);
    QCOMPARE(Backoff(base, max).ceilingMs(attempt), ceiling);
}

void TestPrimitives::backoffJitterWithinBounds()
{
    Backoff b(100, 1600);
    qint64 lowest = 1 << 30;
    qint64 highest = 0;
    for (int round = 0; round < 200; ++round) {
        b.reset();
        for (int attempt = 1; attempt <= 8; ++attempt) {
            const qint64 d = b.next();
            const qint64 ceiling = b.ceilingMs(attempt);
            QVERIFY2(d >= ceiling / 2 && d <= ceiling, qPrintable(QString::number(d)));
            if (attempt == 8) {
                lowest = std::min(lowest, d);
                highest = std::max(highest, d);
            }
        }
        QCOMPARE(b.attempts(), 8);
    }
    // Equal jitter spreads the delays over [800, 1600] (200 draws: both halves are hit).
    QVERIFY(lowest < 1200);
    QVERIFY(highest > 1200);
}

void TestPrimitives::backoffReset()
{
    Backoff b(10, 1000);
    for (int i = 0; i < 5; ++i)
        (void)b.next();
    b.reset();
    QCOMPARE(b.attempts(), 0);
    const qint64 d = b.next();
    QVERIFY(d >= 5 && d <= 10);
}

void TestPrimitives::tokenBucket_data()
{
    // A bucket of `rule`, full at 0 ms, takes at each time in `at`: which takes succeed.
    QTest::addColumn<double>("perSecond");
    QTest::addColumn<double>("burst");
    QTest::addColumn<QList<qint64>>("at");
    QTest::addColumn<QList<bool>>("taken");
    QTest::newRow("burst then empty") << 1.0 << 3.0 << QList<qint64> {0, 0, 0, 0}
                                      << QList<bool> {true, true, true, false};
    QTest::newRow("refills at the rate") << 10.0 << 1.0 << QList<qint64> {0, 50, 100, 150, 200}
                                         << QList<bool> {true, false, true, false, true};
    QTest::newRow("never over burst") << 100.0 << 2.0 << QList<qint64> {10000, 10000, 10000}
                                      << QList<bool> {true, true, false};
    QTest::newRow("clock going back changes nothing")
        << 1.0 << 1.0 << QList<qint64> {1000, 500, 999} << QList<bool> {true, false, false};
}

void TestPrimitives::tokenBucket()
{
    QFETCH(double, perSecond);
    QFETCH(double, burst);
    QFETCH(QList<qint64>, at);
    QFETCH(QList<bool>, taken);
    const RateRule rule {perSecond, burst};
    TokenBucket b = TokenBucket::full(rule, 0);
    for (qsizetype i = 0; i < at.size(); ++i) {
        b.refill(rule, at[i]);
        QVERIFY2(b.take() == taken[i], qPrintable(QStringLiteral("take %1 at %2 ms").arg(i).arg(at[i])));
        QVERIFY(b.tokens >= 0 && b.tokens <= burst);
    }
}

void TestPrimitives::tokenBucketFullAndWait()
{
    const RateRule rule {4, 2};
    TokenBucket b = TokenBucket::full(rule, 1000);
    QVERIFY(b.fullAt(rule, 1000));
    QCOMPARE(b.msUntilToken(rule), 0);
    QVERIFY(b.take());
    QVERIFY(b.take());
    QVERIFY(!b.take());
    QCOMPARE(b.msUntilToken(rule), 250); // 4 per second: one token every 250 ms
    QVERIFY(!b.fullAt(rule, 1400));
    QVERIFY(b.fullAt(rule, 1500));
    b.refill(rule, 1125);
    QCOMPARE(b.msUntilToken(rule), 125);
}

void TestPrimitives::joined_data()
{
    QTest::addColumn<qsizetype>("n");
    QTest::addColumn<QString>("item");
    QTest::addColumn<QString>("expected");
    QTest::newRow("none") << qsizetype(0) << QStringLiteral("?") << QString();
    QTest::newRow("one") << qsizetype(1) << QStringLiteral("?") << QStringLiteral("?");
    QTest::newRow("three") << qsizetype(3) << QStringLiteral("?") << QStringLiteral("?, ?, ?");
    QTest::newRow("rows") << qsizetype(2) << QStringLiteral("(?, ?, false)")
                          << QStringLiteral("(?, ?, false), (?, ?, false)");
}

void TestPrimitives::joined()
{
    QFETCH(qsizetype, n);
    QFETCH(QString, item);
    QFETCH(QString, expected);
    QCOMPARE(sql::joined(n, item), expected);
    if (item == QLatin1String("?"))
        QCOMPARE(sql::placeholders(n), expected);
}

QTEST_APPLESS_MAIN(TestPrimitives)
#include "tst_primitives.moc"
