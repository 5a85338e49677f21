// The small shared primitives: Backoff (shared/core/backoff.h: exponential, full jitter on the
// first attempt then equal jitter, capped, reset, a server's hint), TokenBucket
// (server/ratelimit/token_bucket.h: refill, take, full, time to the next token), AdmissionGate
// (server/ws/admission_gate.h: start, queue, refuse, hand out, the retry hint) and sql::joined /
// placeholders (server/storage/sql.h), CircuitBreaker (shared/core/circuit_breaker.h: threshold,
// open time, half-open probe, lost probe, forced open, Retry-After, transitions). Tables of inputs
// and outcomes.
#include "server/attachments/transfer_budget.h"
#include "server/ratelimit/token_bucket.h"
#include "server/storage/sql.h"
#include "server/ws/admission_gate.h"
#include "server/ws/rebalancer.h"
#include "shared/core/backoff.h"
#include "shared/core/circuit_breaker.h"

#include <QTest>

#include <array>

using namespace taskmaster;
using namespace taskmaster::server;

class TestPrimitives final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void backoffCeiling_data();
    void backoffCeiling();
    void backoffJitterWithinBounds();
    void backoffReset();
    void backoffFirstAttemptSpreadsOverTheWindow();
    void backoffFirstWindowFromTheServer();
    void admissionGate_data();
    void admissionGate();
    void admissionGateRetryAfter_data();
    void admissionGateRetryAfter();
    void rebalancer_data();
    void rebalancer();
    void transferBudget_data();
    void transferBudget();
    void tokenBucket_data();
    void tokenBucket();
    void tokenBucketFullAndWait();
    void joined_data();
    void joined();
    void circuitBreaker_data();
    void circuitBreaker();
    void circuitBreakerBacksOff();
    void circuitBreakerRetryAfterAndTransitions();
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
            const qint64 floor = attempt == 1 ? 0 : ceiling / 2; // the first: full jitter
            QVERIFY2(d >= floor && d <= ceiling, qPrintable(QString::number(d)));
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
    QVERIFY(d >= 0 && d <= 10);
}

void TestPrimitives::backoffFirstAttemptSpreadsOverTheWindow()
{
    // 2,000 clients that lost one server at once: their first delays cover all of [0, 1000]
    // (each tenth of the window gets a share; equal jitter would leave [0, 500) empty).
    std::array<int, 10> tenths {};
    for (int client = 0; client < 2000; ++client) {
        Backoff b(1000, 30000);
        const qint64 d = b.next();
        QVERIFY2(d >= 0 && d <= 1000, qPrintable(QString::number(d)));
        ++tenths[std::size_t(std::min<qint64>(d / 100, 9))];
    }
    for (int n : tenths)
        QVERIFY2(n > 100 && n < 300, qPrintable(QString::number(n))); // 200 expected in each
}

void TestPrimitives::backoffFirstWindowFromTheServer()
{
    // The server's reconnectWindowMs widens the first attempt's window (never narrows it below
    // base), is capped at max, leaves later attempts alone and outlives reset().
    std::array<int, 10> tenths {};
    for (int client = 0; client < 2000; ++client) {
        Backoff b(500, 30000);
        b.setFirstWindow(5000);
        const qint64 d = b.next();
        QVERIFY2(d >= 0 && d <= 5000, qPrintable(QString::number(d)));
        ++tenths[std::size_t(std::min<qint64>(d / 500, 9))];
        const qint64 second = b.next();
        QVERIFY2(second >= 500 && second <= 1000, qPrintable(QString::number(second)));
        b.reset();
        QCOMPARE(b.firstWindowMs(), qint64(5000));
    }
    for (int n : tenths)
        QVERIFY2(n > 100 && n < 300, qPrintable(QString::number(n))); // 200 expected in each
    Backoff small(500, 30000);
    small.setFirstWindow(10); // below base: base stays the window
    bool aboveTen = false;
    for (int i = 0; i < 200 && !aboveTen; ++i) {
        small.reset();
        aboveTen = small.next() > 10;
    }
    QVERIFY(aboveTen);
    Backoff capped(500, 2000);
    capped.setFirstWindow(60000);
    QCOMPARE(capped.firstWindowMs(), qint64(2000));
    capped.setFirstWindow(-5);
    QCOMPARE(capped.firstWindowMs(), qint64(0));
}

namespace {
QStringList words(const char *text)
{
    return QString::fromLatin1(text).split(QLatin1Char(' '));
}
} // namespace

void TestPrimitives::admissionGate_data()
{
    // A script of steps on a gate: "a<id>" arrive (-> S start, Q queue, R refuse), "f" an
    // admission finished, "c" one cancelled (-> .), "p" pop (-> the id handed out, or -).
    QTest::addColumn<int>("concurrency");
    QTest::addColumn<int>("queueMax");
    QTest::addColumn<QStringList>("steps");
    QTest::addColumn<QStringList>("results");
    QTest::newRow("starts up to the concurrency, then queues, then refuses")
        << 2 << 2 << words("a1 a2 a3 a4 a5") << words("S S Q Q R");
    QTest::newRow("a finished admission hands out the oldest waiting")
        << 1 << 5 << words("a1 a2 a3 p f p p") << words("S Q Q - . 2 -");
    QTest::newRow("cancelled frees a turn too") << 1 << 5 << words("a1 a2 c p") << words("S Q . 2");
    QTest::newRow("a queue keeps its order: newcomers wait behind it even with room")
        << 2 << 5 << words("a1 a2 a3 f a4 p p") << words("S S Q . Q 3 -");
    QTest::newRow("queue 0 refuses what cannot start") << 1 << 0 << words("a1 a2 f a3") << words("S R . S");
    QTest::newRow("concurrency below 1 counts as 1") << 0 << 1 << words("a1 a2 a3") << words("S Q R");
}

void TestPrimitives::admissionGate()
{
    QFETCH(int, concurrency);
    QFETCH(int, queueMax);
    QFETCH(QStringList, steps);
    QFETCH(QStringList, results);
    server::AdmissionGate gate(concurrency, queueMax);
    QStringList got;
    for (const QString &step : steps) {
        if (step.startsWith(QLatin1Char('a'))) {
            switch (gate.arrive(step.mid(1).toULongLong())) {
            case server::AdmissionGate::Decision::Start:
                got << QStringLiteral("S");
                break;
            case server::AdmissionGate::Decision::Queue:
                got << QStringLiteral("Q");
                break;
            case server::AdmissionGate::Decision::Refuse:
                got << QStringLiteral("R");
                break;
            }
        } else if (step == QLatin1String("f")) {
            gate.finished(5);
            got << QStringLiteral(".");
        } else if (step == QLatin1String("c")) {
            gate.cancelled();
            got << QStringLiteral(".");
        } else {
            const auto id = gate.pop();
            got << (id ? QString::number(*id) : QStringLiteral("-"));
        }
    }
    QCOMPARE(got, results);
}

void TestPrimitives::rebalancer_data()
{
    // peers: "name=connections" reported at 0 ms, "@ms" reported then, "d" draining; ticks:
    // "mine@ms", each with the time since the previous tick (from 0) as the rate's budget, or a
    // later report ("name=connections@ms"); shed: one entry per tick.
    QTest::addColumn<int>("rate");
    QTest::addColumn<int>("slack");
    QTest::addColumn<QStringList>("peers");
    QTest::addColumn<QStringList>("ticks");
    QTest::addColumn<QStringList>("shed");
    const auto l = [](std::initializer_list<const char *> items) {
        QStringList out;
        for (const char *i : items)
            out << QString::fromLatin1(i);
        return out;
    };
    QTest::newRow("alone: never") << 100 << 50 << QStringList {} << l({"1000@1000"}) << l({"0"});
    QTest::newRow("rate 0: never") << 0 << 50 << l({"b=0"}) << l({"1000@1000"}) << l({"0"});
    QTest::newRow("within the slack") << 100 << 50 << l({"b=500", "c=500"}) << l({"540@1000"}) << l({"0"});
    QTest::newRow("stale report: alone") << 100 << 50 << l({"b=0"}) << l({"1000@4000"}) << l({"0"});
    QTest::newRow("draining peer does not count") << 100 << 50 << l({"b=3000", "c=0d"}) << l({"3000@1000"}) << l({"0"});
    // share 3,334 of 10,000, slack a tenth (333): a probe of 20 first; once c's report shows
    // them (3 s), the rate: what the budget saved up to one second, then 25 per 250 ms
    QTest::newRow("restarted peer: a probe, then the rate")
        << 100 << 50 << l({"b=5000", "c=0"})
        << l({"5000@250", "4980@500", "4980@750", "b=5000@3000", "c=20@3000", "4980@3250", "4880@3500"})
        << l({"20", "0", "0", "100", "25"});
    // 220 of 320: share 160, over 160 + 50; after the probe (b shows it), down to 160 + 25;
    // once b's report shows what was sent, it counts there only (share 160), then within the
    // slack again
    QTest::newRow("down to half the slack, then quiet")
        << 1000 << 50 << l({"b=100@1000"})
        << l({"220@1000", "b=120@3900", "200@4001", "b=135@4500", "185@4600", "190@4700"}) << l({"20", "15", "0", "0"});
    // b's report shows 10 of the 20 after 3 s: the other 10 still count as elsewhere (share 160,
    // not 155: no overshoot), and once all have arrived they count once (no stopping short)
    QTest::newRow("sent counts until the others' reports show it")
        << 1000 << 50 << l({"b=100@1000"}) << l({"220@1000", "b=110@3900", "200@4001", "b=135@4500", "185@4600"})
        << l({"20", "15", "0"});
    // b's report shows the 20 after 3 s: 280 of 300, share 150, down to 175
    QTest::newRow("arrived connections count once")
        << 1000 << 50 << l({"b=0@900"}) << l({"300@1000", "b=20@3900", "280@4001"}) << l({"20", "105"});
    // c gains nothing in 3 s (the balancer does not send it clients): paused 5 s, then a probe again
    QTest::newRow("no effect: paused, then probed again")
        << 100 << 50 << l({"b=5000", "c=0"})
        << l({"5000@1000", "b=5000@2000", "c=0@2000", "4980@2000", "b=5000@3000", "c=0@3000", "4980@3000",
              "b=5000@4000", "c=0@4000", "4980@4000", "b=5000@8000", "c=0@8000", "4980@8000", "b=5000@9000", "c=0@9000",
              "4980@9000"})
        << l({"20", "0", "0", "0", "0", "20"});
    // c restarted empty while this instance took 1,000 of its clients within a second (a storm):
    // held until its own count has not grown for 5 s, then the probe
    QTest::newRow("growing fast: held until steady")
        << 100 << 50 << l({"b=1000", "c=1000"})
        << l({"1000@1000", "b=1000@2000", "c=0@2000", "2000@2000", "b=1000@3000", "c=0@3000", "2000@3000",
              "b=1000@6500", "c=0@6500", "2000@6500"})
        << l({"0", "0", "0", "20"});
    // growth within half the slack does not hold it
    QTest::newRow("growing slowly: not held")
        << 100 << 50 << l({"b=1000", "c=0"}) << l({"1480@1000", "b=1000@4000", "c=20@4000", "1500@4000"})
        << l({"20", "100"});
    QTest::newRow("with effect: the rate") << 100 << 50 << l({"b=5000", "c=0"})
                                           << l({"5000@1000", "b=5000@2000", "c=100@2000", "4980@2000", "b=5000@3000",
                                                 "c=200@3000", "4980@3000", "b=5000@4000", "c=300@4000", "4980@4000"})
                                           << l({"20", "0", "0", "100"});
}

void TestPrimitives::rebalancer()
{
    QFETCH(int, rate);
    QFETCH(int, slack);
    QFETCH(QStringList, peers);
    QFETCH(QStringList, ticks);
    QFETCH(QStringList, shed);
    server::Rebalancer r(rate, slack);
    const auto report = [&r](QString p) {
        const bool draining = p.endsWith(QLatin1Char('d'));
        if (draining)
            p.chop(1);
        const qsizetype at = p.indexOf(QLatin1Char('@'));
        const qint64 reported = at < 0 ? 0 : p.mid(at + 1).toLongLong();
        const QStringList nv = p.left(at < 0 ? p.size() : at).split(QLatin1Char('='));
        r.report(nv.at(0), nv.at(1).toLongLong(), draining, reported);
    };
    for (const QString &p : peers)
        report(p);
    QStringList got;
    qint64 last = 0;
    for (const QString &t : ticks) {
        if (t.contains(QLatin1Char('='))) {
            report(t);
            continue;
        }
        const QStringList mv = t.split(QLatin1Char('@'));
        const qint64 now = mv.at(1).toLongLong();
        got << QString::number(r.shed(mv.at(0).toLongLong(), now, now - last));
        last = now;
    }
    QCOMPARE(got, shed);
}

void TestPrimitives::transferBudget_data()
{
    // steps: "KiB@ms" charged in turn; waits: what each charge answers (ms).
    QTest::addColumn<qint64>("mibPerSecond");
    QTest::addColumn<QStringList>("steps");
    QTest::addColumn<QStringList>("waits");
    QTest::newRow("no limit") << 0LL << words("10240@0 10240@0") << words("0 0");
    QTest::newRow("a quarter of a second's worth at once, then the rate")
        << 4LL << words("256@0 256@0 256@0 256@0 256@0 256@63") << words("0 0 0 0 63 62");
    QTest::newRow("at least one chunk at once") << 1LL << words("256@0 256@0") << words("0 250");
    QTest::newRow("transfers at the same time share the rate")
        << 1LL << words("256@0 256@0 256@0") << words("0 250 500");
    QTest::newRow("a transfer that waited its turn goes on at the rate")
        << 1LL << words("256@0 256@0 256@250 256@500") << words("0 250 250 250");
    QTest::newRow("idle time refills the burst, not more")
        << 1LL << words("256@0 256@10000 256@10000") << words("0 0 250");
}

void TestPrimitives::transferBudget()
{
    QFETCH(qint64, mibPerSecond);
    QFETCH(QStringList, steps);
    QFETCH(QStringList, waits);
    server::TransferBudget budget(mibPerSecond << 20, 256 * 1024);
    QStringList got;
    for (const QString &step : steps) {
        const QStringList kv = step.split(QLatin1Char('@'));
        got << QString::number(budget.charge(kv.at(0).toLongLong() * 1024, kv.at(1).toLongLong()));
    }
    QCOMPARE(got, waits);
}

void TestPrimitives::admissionGateRetryAfter_data()
{
    // The queue's drain time at the mean admission time, clamped to [1 s, 30 s].
    QTest::addColumn<int>("concurrency");
    QTest::addColumn<qint64>("tookMs"); // every finished admission took this long
    QTest::addColumn<int>("waiting"); // hellos queued behind `concurrency` in flight
    QTest::addColumn<qint64>("retryAfterMs");
    QTest::newRow("fast lookups: the floor") << 4 << qint64(2) << 100 << qint64(1000);
    QTest::newRow("100 ms each, 4 at once, 200 waiting + 4: 5.1 s") << 4 << qint64(100) << 200 << qint64(5100);
    QTest::newRow("slow database: the ceiling") << 2 << qint64(1000) << 500 << qint64(10000);
}

void TestPrimitives::admissionGateRetryAfter()
{
    QFETCH(int, concurrency);
    QFETCH(qint64, tookMs);
    QFETCH(int, waiting);
    QFETCH(qint64, retryAfterMs);
    server::AdmissionGate gate(concurrency, 100000);
    quint64 id = 0;
    for (int i = 0; i < 50; ++i) { // settle the mean
        QVERIFY(gate.arrive(++id) == server::AdmissionGate::Decision::Start);
        gate.finished(tookMs);
    }
    QCOMPARE(gate.meanMs(), double(tookMs));
    for (int i = 0; i < concurrency + waiting; ++i)
        (void)gate.arrive(++id);
    QCOMPARE(gate.inFlight(), concurrency);
    QCOMPARE(gate.queued(), qsizetype(waiting));
    QCOMPARE(gate.retryAfterMs(), retryAfterMs);
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

void TestPrimitives::circuitBreaker_data()
{
    // Steps on a breaker of (threshold, openFor): "allow T", "fail T", "ok", "open T FOR" (separated by "; "); after
    // each, the expected state, with "+" or "-" for what an allow step answered.
    QTest::addColumn<int>("threshold");
    QTest::addColumn<qint64>("openFor");
    QTest::addColumn<QString>("stepText");
    QTest::addColumn<QString>("expectedText");
    QTest::newRow("threshold opens, probe closes")
        << 3 << qint64(1000)
        << QStringLiteral(
               "allow 0; fail 0; fail 1; fail 2; allow 3; allow 1001; allow 1002; allow 1003; ok; allow 1004")
        << QStringLiteral("closed +; closed; closed; open; open -; open -; half_open +; half_open -; closed; closed +");
    QTest::newRow("a success resets the count")
        << 3 << qint64(1000) << QStringLiteral("fail 0; fail 1; ok; fail 2; fail 3; fail 4")
        << QStringLiteral("closed; closed; closed; closed; closed; open");
    QTest::newRow("a failed probe opens again")
        << 1 << qint64(500) << QStringLiteral("fail 0; allow 500; fail 600; allow 1000; allow 1100")
        << QStringLiteral("open; half_open +; open; open -; half_open +");
    QTest::newRow("a lost probe is replaced after openFor")
        << 1 << qint64(100) << QStringLiteral("fail 0; allow 100; allow 150; allow 200; ok")
        << QStringLiteral("open; half_open +; half_open -; half_open +; closed");
    QTest::newRow("failures while open keep the open time")
        << 1 << qint64(100) << QStringLiteral("fail 0; fail 50; fail 90; allow 100")
        << QStringLiteral("open; open; open; half_open +");
    QTest::newRow("forced open for a given time")
        << 3 << qint64(1000) << QStringLiteral("open 0 300; allow 299; allow 300; ok")
        << QStringLiteral("open; open -; half_open +; closed");
    QTest::newRow("a success closes an open breaker")
        << 1 << qint64(1000) << QStringLiteral("fail 0; ok; allow 1") << QStringLiteral("open; closed; closed +");
    QTest::newRow("threshold below 1 counts as 1")
        << 0 << qint64(1000) << QStringLiteral("fail 0") << QStringLiteral("open");
}

void TestPrimitives::circuitBreaker()
{
    QFETCH(int, threshold);
    QFETCH(qint64, openFor);
    QFETCH(QString, stepText);
    QFETCH(QString, expectedText);
    const QStringList steps = stepText.split(QStringLiteral("; "));
    const QStringList expected = expectedText.split(QStringLiteral("; "));
    QCOMPARE(steps.size(), expected.size());
    CircuitBreaker b(CircuitBreakerOptions {threshold, openFor});
    for (qsizetype i = 0; i < steps.size(); ++i) {
        const QStringList w = steps[i].split(QLatin1Char(' '));
        QString got;
        if (w[0] == QLatin1String("allow"))
            got = b.allow(w[1].toLongLong()) ? QStringLiteral(" +") : QStringLiteral(" -");
        else if (w[0] == QLatin1String("fail"))
            b.failed(w[1].toLongLong());
        else if (w[0] == QLatin1String("ok"))
            b.succeeded();
        else if (w[0] == QLatin1String("open"))
            b.open(w[1].toLongLong(), w[2].toLongLong());
        else
            QFAIL(qPrintable(steps[i]));
        got.prepend(QLatin1String(CircuitBreaker::name(b.state())));
        QVERIFY2(got == expected[i],
                 qPrintable(QStringLiteral("step %1 (%2): %3, expected %4").arg(i).arg(steps[i], got, expected[i])));
    }
}

void TestPrimitives::circuitBreakerBacksOff()
{
    // Open 100 ms at first, doubled after each failed probe up to 400; a success starts over.
    CircuitBreaker b(CircuitBreakerOptions {1, 400, 100});
    b.failed(0);
    QCOMPARE(b.retryAfterMs(0), 100);
    QVERIFY(!b.allow(99));
    QVERIFY(b.allow(100)); // the probe
    b.failed(110);
    QCOMPARE(b.retryAfterMs(110), 200);
    QVERIFY(b.allow(310));
    b.failed(310);
    QCOMPARE(b.retryAfterMs(310), 400);
    QVERIFY(b.allow(710));
    b.failed(710);
    QCOMPARE(b.retryAfterMs(710), 400); // at most openFor
    QVERIFY(b.allow(1110));
    b.succeeded();
    b.failed(2000);
    QCOMPARE(b.retryAfterMs(2000), 100);
    // Without firstOpenFor every opening lasts openFor, as before.
    CircuitBreaker plain(CircuitBreakerOptions {1, 400});
    plain.failed(0);
    QCOMPARE(plain.retryAfterMs(0), 400);
    QVERIFY(plain.allow(400));
    plain.failed(400);
    QCOMPARE(plain.retryAfterMs(400), 400);
}

void TestPrimitives::circuitBreakerRetryAfterAndTransitions()
{
    CircuitBreaker b(CircuitBreakerOptions {2, 1000});
    QStringList seen;
    b.setObserver([&seen](CircuitBreaker::State from, CircuitBreaker::State to) {
        seen << QLatin1String(CircuitBreaker::name(from)) + QLatin1String("->")
                + QLatin1String(CircuitBreaker::name(to));
    });
    QCOMPARE(b.retryAfterMs(0), 0);
    b.failed(100);
    QCOMPARE(b.retryAfterMs(100), 0); // still closed
    b.failed(200);
    QCOMPARE(int(b.state()), 1); // the gauge's value for open
    QCOMPARE(b.retryAfterMs(200), 1000);
    QCOMPARE(b.retryAfterMs(1150), 50);
    QCOMPARE(b.retryAfterMs(5000), 0);
    QVERIFY(b.allow(1200));
    QCOMPARE(int(b.state()), 2);
    QCOMPARE(b.retryAfterMs(1300), 900); // until the probe is given up
    b.failed(1300);
    QCOMPARE(b.retryAfterMs(1300), 1000);
    QVERIFY(b.allow(2300));
    b.succeeded();
    QCOMPARE(int(b.state()), 0);
    QCOMPARE(seen.join(QLatin1String(", ")),
             QStringLiteral("closed->open, open->half_open, half_open->open, open->half_open, half_open->closed"));
}

QTEST_APPLESS_MAIN(TestPrimitives)
#include "tst_primitives.moc"
