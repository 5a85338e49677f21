// Metrics: counters, gauges, histogram buckets and quantiles, the Prometheus text exposition
// (golden text, escaping, number format, promtool), registration errors, child lookup across
// string encodings and table growth, concurrent recording, and process statistics from /proc.
#include "server/cache/cache.h"
#include "server/metrics/metrics.h"
#include "server/metrics/process_metrics.h"
#include "server/metrics/process_stats.h"
#include "server/ratelimit/rate_limiter.h"
#include "tests/support/test_env.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTest>

#include <atomic>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <future>
#include <latch>
#include <limits>
#include <map>
#include <memory>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace taskmaster;
using namespace taskmaster::server;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Keeps a buffer reachable so that writes to it are not optimised away.
std::atomic<char *> g_sink {nullptr};

// name{labels} -> value for every sample line of a rendered text.
std::map<QByteArray, QByteArray> samples(const QByteArray &text)
{
    std::map<QByteArray, QByteArray> out;
    for (const QByteArray &line : text.split('\n')) {
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        const qsizetype space = line.lastIndexOf(' ');
        out[line.left(space)] = line.mid(space + 1);
    }
    return out;
}

} // namespace

class TestMetrics final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void counter_data();
    void counter();
    void gauge_data();
    void gauge();
    void bucketPlacement_data();
    void bucketPlacement();
    void defaultBuckets_data();
    void defaultBuckets();
    void observeDuration();
    void quantiles_data();
    void quantiles();
    void snapshotStatistics();
    void sinceAndMerge();
    void labelsAcrossEncodings_data();
    void labelsAcrossEncodings();
    void childTableGrowth();
    void labelCountMismatch();
    void overflowChildren();
    void registrationIsIdempotent();
    void registrationErrors_data();
    void registrationErrors();
    void goldenExposition();
    void formatValue_data();
    void formatValue();
    void escapeLabel_data();
    void escapeLabel();
    void escapeHelpText_data();
    void escapeHelpText();
    void callbacks();
    void concurrentRecording();
    void promtool_data();
    void promtool();
    void processStats();
    void processRssGrows();
    void processFds();
    void processThreadsAndCpu();
    void processMetricsRendered();
    void cacheSeriesFromStart_data();
    void cacheSeriesFromStart();
    void rateLimitSeriesFromStart_data();
    void rateLimitSeriesFromStart();
};

// ---- counters and gauges ----

void TestMetrics::counter_data()
{
    QTest::addColumn<QList<quint64>>("increments");
    QTest::addColumn<quint64>("expected");
    QTest::newRow("none") << QList<quint64> {} << quint64(0);
    QTest::newRow("one by default") << QList<quint64> {1} << quint64(1);
    QTest::newRow("several") << QList<quint64> {1, 2, 3, 10} << quint64(16);
    QTest::newRow("zero adds nothing") << QList<quint64> {0, 0, 5} << quint64(5);
    QTest::newRow("large") << QList<quint64> {quint64(1) << 40, quint64(1) << 40} << (quint64(1) << 41);
}

void TestMetrics::counter()
{
    QFETCH(QList<quint64>, increments);
    QFETCH(quint64, expected);
    MetricsRegistry registry;
    Counter &c = registry.counter("things_total", "Things.");
    for (quint64 n : increments) {
        if (n == 1)
            c.inc();
        else
            c.inc(n);
    }
    QCOMPARE(c.value(), expected);
    QCOMPARE(samples(registry.render())["things_total"], QByteArray::number(expected));
}

void TestMetrics::gauge_data()
{
    QTest::addColumn<QString>("operations"); // "set 5; inc; dec 0.5" ...
    QTest::addColumn<double>("expected");
    QTest::newRow("initial") << QString() << 0.0;
    QTest::newRow("set") << QStringLiteral("set 5") << 5.0;
    QTest::newRow("inc and dec by one") << QStringLiteral("inc;inc;inc;dec") << 2.0;
    QTest::newRow("fractions") << QStringLiteral("set 1.5;inc 0.25;dec 0.75") << 1.0;
    QTest::newRow("below zero") << QStringLiteral("dec 3") << -3.0;
    QTest::newRow("set overrides") << QStringLiteral("inc 10;set -2;inc") << -1.0;
}

void TestMetrics::gauge()
{
    QFETCH(QString, operations);
    QFETCH(double, expected);
    MetricsRegistry registry;
    Gauge &g = registry.gauge("level", "Level.");
    for (const QString &op : operations.split(u';', Qt::SkipEmptyParts)) {
        const QStringList parts = op.split(u' ');
        const bool hasArg = parts.size() > 1;
        const double arg = hasArg ? parts[1].toDouble() : 0.0;
        if (parts[0] == QLatin1String("set"))
            g.set(arg);
        else if (parts[0] == QLatin1String("inc"))
            hasArg ? g.inc(arg) : g.inc();
        else if (parts[0] == QLatin1String("dec"))
            hasArg ? g.dec(arg) : g.dec();
        else
            QFAIL("unknown operation");
    }
    QCOMPARE(g.value(), expected);
    QCOMPARE(samples(registry.render())["level"], formatMetricValue(expected));
}

// ---- histograms ----

void TestMetrics::bucketPlacement_data()
{
    QTest::addColumn<double>("value");
    QTest::addColumn<QByteArray>("le"); // the bucket the value belongs to (non-cumulative)
    QTest::newRow("zero") << 0.0 << QByteArray("0.25");
    QTest::newRow("negative") << -7.0 << QByteArray("0.25");
    QTest::newRow("on the first edge") << 0.25 << QByteArray("0.25");
    QTest::newRow("just above the first edge") << 0.2500001 << QByteArray("0.5");
    QTest::newRow("on 1") << 1.0 << QByteArray("1");
    QTest::newRow("between 1 and 2") << 1.5 << QByteArray("2");
    QTest::newRow("on 10") << 10.0 << QByteArray("10");
    QTest::newRow("on 1000") << 1000.0 << QByteArray("1000");
    QTest::newRow("on the last edge") << 5000.0 << QByteArray("5000");
    QTest::newRow("just above the last edge") << 5000.001 << QByteArray("+Inf");
    QTest::newRow("huge") << 1e300 << QByteArray("+Inf");
    QTest::newRow("infinity") << kInf << QByteArray("+Inf");
}

void TestMetrics::bucketPlacement()
{
    QFETCH(double, value);
    QFETCH(QByteArray, le);
    MetricsRegistry registry;
    Histogram &h = registry.histogram("latency_ms", "Latency.");
    h.observe(value);
    const HistogramSnapshot s = h.snapshot();
    QCOMPARE(s.count, quint64(1));
    QCOMPARE(s.counts.size(), s.bounds.size() + 1);
    for (std::size_t i = 0; i < s.counts.size(); ++i) {
        const QByteArray bucket = i < s.bounds.size() ? formatMetricValue(s.bounds[i]) : QByteArray("+Inf");
        QCOMPARE(s.counts[i], quint64(bucket == le ? 1 : 0));
    }
    // Rendered buckets are cumulative: 0 below the value's bucket, 1 from it on.
    const auto rendered = samples(registry.render());
    bool reached = false;
    for (double b : s.bounds) {
        const QByteArray edge = formatMetricValue(b);
        reached = reached || edge == le;
        QCOMPARE(rendered.at("latency_ms_bucket{le=\"" + edge + "\"}"), QByteArray(reached ? "1" : "0"));
    }
    QCOMPARE(rendered.at("latency_ms_bucket{le=\"+Inf\"}"), QByteArray("1"));
    QCOMPARE(rendered.at("latency_ms_count"), QByteArray("1"));
}

void TestMetrics::defaultBuckets_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("unit");
    QTest::addColumn<bool>("seconds");
    QTest::newRow("seconds") << QStringLiteral("http_request_duration_seconds") << int(Histogram::Unit::Seconds)
                             << true;
    QTest::newRow("ms") << QStringLiteral("message_delivery_time_ms") << int(Histogram::Unit::Milliseconds) << false;
    QTest::newRow("milliseconds") << QStringLiteral("x_milliseconds") << int(Histogram::Unit::Milliseconds) << false;
    QTest::newRow("other") << QStringLiteral("payload_bytes") << int(Histogram::Unit::Other) << false;
    QTest::newRow("seconds inside the name")
        << QStringLiteral("seconds_waited") << int(Histogram::Unit::Other) << false;
}

void TestMetrics::defaultBuckets()
{
    QFETCH(QString, name);
    QFETCH(int, unit);
    QFETCH(bool, seconds);
    QCOMPARE(int(Histogram::unitFor(name)), unit);
    MetricsRegistry registry;
    Histogram &h = registry.histogram(name, "H.");
    QCOMPARE(h.bounds(), seconds ? Histogram::defaultSecondBuckets() : Histogram::defaultMillisecondBuckets());
    QCOMPARE(int(h.unit()), unit);

    // The seconds set is the millisecond set divided by 1000.
    const auto ms = Histogram::defaultMillisecondBuckets();
    const auto s = Histogram::defaultSecondBuckets();
    QCOMPARE(ms.size(), std::size_t(14));
    QCOMPARE(s.size(), ms.size());
    for (std::size_t i = 0; i < ms.size(); ++i)
        QCOMPARE(s[i], ms[i] / 1000);
}

void TestMetrics::observeDuration()
{
    MetricsRegistry registry;
    Histogram &seconds = registry.histogram("op_seconds", "Op.");
    Histogram &ms = registry.histogram("op_ms", "Op.");
    Histogram &other = registry.histogram("op_time", "Op.");
    for (Histogram *h : {&seconds, &ms, &other})
        h->observeDuration(std::chrono::milliseconds(1500));
    QCOMPARE(seconds.snapshot().sum, 1.5);
    QCOMPARE(ms.snapshot().sum, 1500.0);
    QCOMPARE(other.snapshot().sum, 1.5);
}

void TestMetrics::quantiles_data()
{
    QTest::addColumn<QList<double>>("values");
    QTest::addColumn<double>("q");
    QTest::addColumn<double>("expected");
    QList<double> uniform;
    for (int i = 1; i <= 100; ++i)
        uniform << i;
    QList<double> skewed;
    for (int i = 0; i < 90; ++i)
        skewed << 1;
    for (int i = 0; i < 10; ++i)
        skewed << 1000;
    const QList<double> constant(10, 7.0);
    const QList<double> beyond {6000, 8000};

    // Uniform 1..100: interpolation inside the buckets is exact.
    QTest::newRow("uniform p0 is the minimum") << uniform << 0.0 << 1.0;
    QTest::newRow("uniform p10") << uniform << 0.10 << 10.0;
    QTest::newRow("uniform p50") << uniform << 0.50 << 50.0;
    QTest::newRow("uniform p95") << uniform << 0.95 << 95.0;
    QTest::newRow("uniform p99") << uniform << 0.99 << 99.0;
    QTest::newRow("uniform p100 is the maximum") << uniform << 1.0 << 100.0;
    // One value: min and max narrow the bucket to it.
    QTest::newRow("constant p50") << constant << 0.5 << 7.0;
    QTest::newRow("constant p99") << constant << 0.99 << 7.0;
    // 90 fast and 10 slow: the tail is interpolated across the (500, 1000] bucket.
    QTest::newRow("skewed p50") << skewed << 0.50 << 1.0;
    QTest::newRow("skewed p90") << skewed << 0.90 << 1.0;
    QTest::newRow("skewed p95") << skewed << 0.95 << 750.0;
    QTest::newRow("skewed p99") << skewed << 0.99 << 950.0;
    // Above the last bound: the +Inf bucket runs from min to max.
    QTest::newRow("beyond p50") << beyond << 0.5 << 7000.0;
    QTest::newRow("beyond p100") << beyond << 1.0 << 8000.0;
    QTest::newRow("empty") << QList<double> {} << 0.5 << 0.0;
    QTest::newRow("q above 1 is clamped") << uniform << 1.5 << 100.0;
    QTest::newRow("q below 0 is clamped") << uniform << -1.0 << 1.0;
}

void TestMetrics::quantiles()
{
    QFETCH(QList<double>, values);
    QFETCH(double, q);
    QFETCH(double, expected);
    MetricsRegistry registry;
    Histogram &h = registry.histogram("delivery_ms", "Delivery.");
    for (double v : values)
        h.observe(v);
    QCOMPARE(h.snapshot().quantile(q), expected);
}

void TestMetrics::snapshotStatistics()
{
    MetricsRegistry registry;
    Histogram &h = registry.histogram("work_ms", "Work.");
    const HistogramSnapshot empty = h.snapshot();
    QCOMPARE(empty.count, quint64(0));
    QCOMPARE(empty.min, 0.0);
    QCOMPARE(empty.max, 0.0);
    QCOMPARE(empty.mean(), 0.0);
    for (double v : {4.0, 2.0, 30.0, 0.5})
        h.observe(v);
    h.observe(kNaN); // ignored
    const HistogramSnapshot s = h.snapshot();
    QCOMPARE(s.count, quint64(4));
    QCOMPARE(s.sum, 36.5);
    QCOMPARE(s.min, 0.5);
    QCOMPARE(s.max, 30.0);
    QCOMPARE(s.mean(), 9.125);
    const QJsonObject json = s.toJson();
    QCOMPARE(json.value(QLatin1String("count")).toInteger(), 4);
    QCOMPARE(json.value(QLatin1String("sum")).toDouble(), 36.5);
    QCOMPARE(json.value(QLatin1String("min")).toDouble(), 0.5);
    QCOMPARE(json.value(QLatin1String("max")).toDouble(), 30.0);
    QCOMPARE(json.value(QLatin1String("mean")).toDouble(), 9.125);
    QCOMPARE(json.value(QLatin1String("p50")).toDouble(), s.quantile(0.5));
    QCOMPARE(json.value(QLatin1String("p95")).toDouble(), s.quantile(0.95));
    QCOMPARE(json.value(QLatin1String("p99")).toDouble(), s.quantile(0.99));
    QCOMPARE(json.size(), 8);
}

void TestMetrics::sinceAndMerge()
{
    MetricsRegistry registry;
    auto &family = registry.histogramFamily("step_ms", "Steps.", {"step"});
    Histogram &a = family.labels({"a"});
    Histogram &b = family.labels({"b"});
    for (double v : {1.0, 2.0, 3.0})
        a.observe(v);
    const HistogramSnapshot before = a.snapshot();
    a.observe(100);
    a.observe(200);
    const HistogramSnapshot window = a.snapshot().since(before);
    QCOMPARE(window.count, quint64(2));
    QCOMPARE(window.sum, 300.0);
    QCOMPARE(window.min, 50.0); // the lower edge of the (50, 100] bucket
    QCOMPARE(window.max, 200.0);
    QCOMPARE(window.quantile(0.5), 100.0);
    QCOMPARE(a.snapshot().since(a.snapshot()).count, quint64(0));

    b.observe(0.1);
    HistogramSnapshot merged = a.snapshot();
    QVERIFY(merged.merge(b.snapshot()));
    QCOMPARE(merged.count, quint64(6));
    QCOMPARE(merged.min, 0.1);
    QCOMPARE(merged.max, 200.0);
    const HistogramSnapshot all = family.mergedSnapshot();
    QCOMPARE(all.count, merged.count);
    QCOMPARE(all.counts, merged.counts);
    QCOMPARE(all.sum, merged.sum);

    HistogramSnapshot fresh;
    QVERIFY(fresh.merge(b.snapshot()));
    QCOMPARE(fresh.count, quint64(1));
    Histogram &other = registry.histogram("other_ms", "Other.", {1, 2});
    other.observe(1);
    QVERIFY(!merged.merge(other.snapshot())); // different buckets
    QCOMPARE(merged.count, quint64(6));
}

// ---- children ----

void TestMetrics::labelsAcrossEncodings_data()
{
    QTest::addColumn<int>("encoding");
    QTest::addColumn<bool>("nonAscii");
    QTest::newRow("ascii utf-8 literal") << 0 << false;
    QTest::newRow("ascii QString") << 1 << false;
    QTest::newRow("ascii latin-1") << 2 << false;
    QTest::newRow("ascii QByteArray") << 3 << false;
    QTest::newRow("non-ascii utf-8 literal") << 0 << true;
    QTest::newRow("non-ascii QString") << 1 << true;
    QTest::newRow("non-ascii latin-1") << 2 << true;
    QTest::newRow("non-ascii QByteArray") << 3 << true;
}

void TestMetrics::labelsAcrossEncodings()
{
    QFETCH(int, encoding);
    QFETCH(bool, nonAscii);
    MetricsRegistry registry;
    auto &family = registry.counterFamily("hits_total", "Hits.", {"cache", "kind"});
    const QString value = nonAscii ? QStringLiteral("caf\u00e9") : QStringLiteral("cafe");
    Counter &first = family.labels({value, "x"});
    const QByteArray utf8 = value.toUtf8();
    const QByteArray latin1 = value.toLatin1();
    Counter *found = nullptr;
    switch (encoding) {
    case 0:
        found = &family.labels({nonAscii ? "caf\xc3\xa9" : "cafe", "x"});
        break;
    case 1:
        found = &family.labels({QString(value), QStringLiteral("x")});
        break;
    case 2:
        found = &family.labels({QLatin1String(latin1), QLatin1String("x")});
        break;
    case 3:
        found = &family.labels({utf8, QByteArray("x")});
        break;
    }
    QCOMPARE(found, &first);
    QCOMPARE(&family.labels(QStringList {value, QStringLiteral("x")}), &first);
    QCOMPARE(family.childCount(), std::size_t(1));
    QVERIFY(&family.labels({value, "y"}) != &first);
    QCOMPARE(family.childCount(), std::size_t(2));
}

void TestMetrics::childTableGrowth()
{
    MetricsRegistry registry;
    auto &family = registry.gaugeFamily("shard_load", "Load.", {"shard"});
    std::vector<Gauge *> made;
    for (int i = 0; i < 1000; ++i) {
        Gauge &g = family.labels({QString::number(i)});
        g.set(i);
        made.push_back(&g);
    }
    QCOMPARE(family.childCount(), std::size_t(1000));
    for (int i = 0; i < 1000; ++i) {
        const QByteArray key = QByteArray::number(i);
        QCOMPARE(&family.labels({QLatin1String(key)}), made[std::size_t(i)]);
        QCOMPARE(family.labels({key}).value(), double(i));
    }
    QCOMPARE(family.childCount(), std::size_t(1000));
    // children() is sorted by label values (as strings).
    const auto children = family.children();
    QCOMPARE(children.size(), std::size_t(1000));
    QCOMPARE(children.front().first, QStringList {QStringLiteral("0")});
    QCOMPARE(children[1].first, QStringList {QStringLiteral("1")});
    QCOMPARE(children[2].first, QStringList {QStringLiteral("10")});
    QCOMPARE(children.back().first, QStringList {QStringLiteral("999")});
}

void TestMetrics::labelCountMismatch()
{
    MetricsRegistry registry;
    auto &family = registry.counterFamily("pairs_total", "Pairs.", {"a", "b"});
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("pairs_total has 2 label names but was given 1")));
    Counter &padded = family.labels({"x"});
    padded.inc();
    QTest::failOnWarning(QRegularExpression(QStringLiteral(".*"))); // warned once only
    QCOMPARE(&family.labels({"x", "y", "z"}), &family.labels({"x", "y"}));
    QCOMPARE(&family.labels({"x", ""}), &padded);
    QVERIFY(registry.render().contains("pairs_total{a=\"x\",b=\"\"} 1\n"));
}

void TestMetrics::overflowChildren()
{
    MetricsRegistry registry;
    auto &family = registry.counterFamily("routes_total", "Routes.", {"route"});
    family.setMaxChildren(3);
    Counter &a = family.labels({"a"});
    family.labels({"b"});
    family.labels({"c"});
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("routes_total has reached 3 label value sets")));
    Counter &overflow = family.labels({"d"});
    overflow.inc();
    QCOMPARE(&family.labels({"e"}), &overflow);
    family.labels({"f"}).inc();
    QCOMPARE(&family.labels({"a"}), &a); // existing children are still found
    QCOMPARE(family.childCount(), std::size_t(4));
    QCOMPARE(samples(registry.render())["routes_total{route=\"_overflow\"}"], QByteArray("2"));
}

// ---- registration ----

void TestMetrics::registrationIsIdempotent()
{
    MetricsRegistry registry;
    auto &c1 = registry.counterFamily("jobs_total", "Jobs.", {"kind"});
    auto &c2 = registry.counterFamily("jobs_total", "Other help is ignored.", {"kind"});
    QCOMPARE(&c1, &c2);
    QCOMPARE(&registry.histogram("t_seconds", "T."), &registry.histogram("t_seconds", "T."));
    QCOMPARE(&registry.histogram("u_ms", "U.", {1, 2}), &registry.histogram("u_ms", "U.", {1, 2, kInf}));
    QCOMPARE(registry.find<Counter>("jobs_total"), &c1);
    QVERIFY(!registry.find<Gauge>("jobs_total"));
    QVERIFY(!registry.find<Counter>("nothing_total"));
    QVERIFY(registry.find<Histogram>("t_seconds"));
}

void TestMetrics::registrationErrors_data()
{
    QTest::addColumn<QString>("scenario");
    QTest::addColumn<QString>("badName"); // must not be rendered
    QTest::addColumn<QString>("reason");
    QTest::newRow("name starts with a digit") << "digit"
                                              << "1st_total"
                                              << "is not";
    QTest::newRow("name with a dash") << "dash"
                                      << "a-b"
                                      << "is not";
    QTest::newRow("empty name") << "empty"
                                << ""
                                << "is not";
    QTest::newRow("label name with a colon") << "labelColon"
                                             << "lc_total"
                                             << "label name";
    QTest::newRow("label name with __") << "labelReserved"
                                        << "lr_total"
                                        << "starts with __";
    QTest::newRow("le on a histogram") << "le"
                                       << "le_seconds"
                                       << "reserved";
    QTest::newRow("label name twice") << "twice"
                                      << "tw_total"
                                      << "appears twice";
    QTest::newRow("same name, other type") << "otherType"
                                           << "taken_total"
                                           << "already registered";
    QTest::newRow("same name, other labels") << "otherLabels"
                                             << "taken_total"
                                             << "already registered";
    QTest::newRow("same name, other buckets") << "otherBuckets"
                                              << "lat_seconds"
                                              << "already registered";
    QTest::newRow("clash with histogram samples") << "sampleClash"
                                                  << "lat_seconds_count"
                                                  << "clashes";
    QTest::newRow("buckets not ascending") << "descending"
                                           << "bad_ms"
                                           << "ascending";
    QTest::newRow("NaN bucket") << "nanBucket"
                                << "nan_ms"
                                << "finite";
}

void TestMetrics::registrationErrors()
{
    QFETCH(QString, scenario);
    QFETCH(QString, badName);
    QFETCH(QString, reason);
    MetricsRegistry registry;
    registry.counterFamily("taken_total", "Taken.", {"a"}).labels({"1"}).inc();
    registry.histogram("lat_seconds", "Latency.").observe(0.1);
    const QByteArray before = registry.render();

    QTest::ignoreMessage(QtCriticalMsg, QRegularExpression(QStringLiteral("not registered: .*") + reason));
    const auto name = QAnyStringView(badName);
    if (scenario == QLatin1String("labelColon")) {
        registry.counterFamily(name, "X.", {"a:b"}).labels({"v"}).inc();
    } else if (scenario == QLatin1String("labelReserved")) {
        registry.counterFamily(name, "X.", {"__name"}).labels({"v"}).inc();
    } else if (scenario == QLatin1String("le")) {
        registry.histogramFamily(name, "X.", {"le"}).labels({"1"}).observe(1);
    } else if (scenario == QLatin1String("twice")) {
        registry.counterFamily(name, "X.", {"a", "b", "a"}).labels({"1", "2", "3"}).inc();
    } else if (scenario == QLatin1String("otherType")) {
        registry.gauge(name, "X.").set(1);
    } else if (scenario == QLatin1String("otherLabels")) {
        registry.counterFamily(name, "X.", {"b"}).labels({"1"}).inc();
    } else if (scenario == QLatin1String("otherBuckets")) {
        registry.histogram(name, "X.", {1, 2}).observe(1);
    } else if (scenario == QLatin1String("sampleClash")) {
        registry.counter(name, "X.").inc();
    } else if (scenario == QLatin1String("descending")) {
        registry.histogram(name, "X.", {2, 1}).observe(1);
    } else if (scenario == QLatin1String("nanBucket")) {
        registry.histogram(name, "X.", {1, kNaN, 3}).observe(1);
    } else {
        registry.counter(name, "X.").inc();
    }
    // Nothing new is rendered; what was there is unchanged.
    QCOMPARE(registry.render(), before);
}

// ---- exposition ----

void TestMetrics::goldenExposition()
{
    MetricsRegistry registry;
    auto &requests
        = registry.counterFamily("http_requests_total", "Requests by method and status.", {"method", "status"});
    requests.labels({"POST", "201"}).inc();
    requests.labels({"GET", "200"}).inc(3);
    requests.labels({"GET", "404"}).inc(2);
    registry.gauge("websocket_active_connections", "Open WebSocket connections.").set(12);
    registry.gaugeCallback("db_pool_threads", "Database worker threads.", [] { return 4.0; });
    Histogram &request
        = registry.histogram("request_seconds", "Request time.\nSecond line, a \\ and a \"quote\".", {0.5, 1, 2.5});
    for (double v : {0.25, 0.5, 0.75, 3.0})
        request.observe(v);
    auto &queries = registry.histogramFamily("query_duration_seconds", "Query time.", {"query"}, {0.001, 0.01});
    queries.labels({"plain"}).observe(0.0005);
    queries.labels({"a \"q\" \\ b\nc"}).observe(0.02);
    registry.gaugeFamily("empty_family", "No children yet.", {"x"});

    const QByteArray expected = R"(# HELP db_pool_threads Database worker threads.
# TYPE db_pool_threads gauge
db_pool_threads 4
# HELP empty_family No children yet.
# TYPE empty_family gauge
# HELP http_requests_total Requests by method and status.
# TYPE http_requests_total counter
http_requests_total{method="GET",status="200"} 3
http_requests_total{method="GET",status="404"} 2
http_requests_total{method="POST",status="201"} 1
# HELP query_duration_seconds Query time.
# TYPE query_duration_seconds histogram
query_duration_seconds_bucket{query="a \"q\" \\ b\nc",le="0.001"} 0
query_duration_seconds_bucket{query="a \"q\" \\ b\nc",le="0.01"} 0
query_duration_seconds_bucket{query="a \"q\" \\ b\nc",le="+Inf"} 1
query_duration_seconds_sum{query="a \"q\" \\ b\nc"} 0.02
query_duration_seconds_count{query="a \"q\" \\ b\nc"} 1
query_duration_seconds_bucket{query="plain",le="0.001"} 1
query_duration_seconds_bucket{query="plain",le="0.01"} 1
query_duration_seconds_bucket{query="plain",le="+Inf"} 1
query_duration_seconds_sum{query="plain"} 0.0005
query_duration_seconds_count{query="plain"} 1
# HELP request_seconds Request time.\nSecond line, a \\ and a "quote".
# TYPE request_seconds histogram
request_seconds_bucket{le="0.5"} 2
request_seconds_bucket{le="1"} 3
request_seconds_bucket{le="2.5"} 3
request_seconds_bucket{le="+Inf"} 4
request_seconds_sum 4.5
request_seconds_count 4
# HELP websocket_active_connections Open WebSocket connections.
# TYPE websocket_active_connections gauge
websocket_active_connections 12
)";
    const QByteArray actual = registry.render();
    if (actual != expected)
        qInfo().noquote() << "rendered:\n" << actual;
    QCOMPARE(actual, expected);
    QCOMPARE(MetricsRegistry::contentType(), QByteArray("text/plain; version=0.0.4; charset=utf-8"));
}

void TestMetrics::formatValue_data()
{
    QTest::addColumn<double>("value");
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("zero") << 0.0 << QByteArray("0");
    QTest::newRow("one") << 1.0 << QByteArray("1");
    QTest::newRow("minus one") << -1.0 << QByteArray("-1");
    QTest::newRow("half") << 0.5 << QByteArray("0.5");
    QTest::newRow("bucket 0.00025") << 0.00025 << QByteArray("0.00025");
    QTest::newRow("1e-4 stays fixed") << 0.0001 << QByteArray("0.0001");
    QTest::newRow("1e-5 uses an exponent") << 0.00001 << QByteArray("1e-05");
    QTest::newRow("5000") << 5000.0 << QByteArray("5000");
    QTest::newRow("999999") << 999999.0 << QByteArray("999999");
    QTest::newRow("1e6 uses an exponent") << 1e6 << QByteArray("1e+06");
    QTest::newRow("1234567") << 1234567.0 << QByteArray("1.234567e+06");
    QTest::newRow("shortest round trip") << 0.1 + 0.2 << QByteArray("0.30000000000000004");
    QTest::newRow("NaN") << kNaN << QByteArray("NaN");
    QTest::newRow("+Inf") << kInf << QByteArray("+Inf");
    QTest::newRow("-Inf") << -kInf << QByteArray("-Inf");
}

void TestMetrics::formatValue()
{
    QFETCH(double, value);
    QFETCH(QByteArray, text);
    QCOMPARE(formatMetricValue(value), text);
}

void TestMetrics::escapeLabel_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<QByteArray>("escaped");
    QTest::newRow("plain") << QStringLiteral("/api/v1/rooms") << QByteArray("/api/v1/rooms");
    QTest::newRow("empty") << QString() << QByteArray();
    QTest::newRow("backslash") << QStringLiteral("a\\b") << QByteArray("a\\\\b");
    QTest::newRow("double quote") << QStringLiteral("say \"hi\"") << QByteArray("say \\\"hi\\\"");
    QTest::newRow("line feed") << QStringLiteral("a\nb") << QByteArray("a\\nb");
    QTest::newRow("backslash then n") << QStringLiteral("a\\n") << QByteArray("a\\\\n");
    QTest::newRow("tab and carriage return are kept") << QStringLiteral("a\tb\r") << QByteArray("a\tb\r");
    QTest::newRow("non-ascii is UTF-8") << QStringLiteral("caf\u00e9") << QByteArray("caf\xc3\xa9");
    QTest::newRow("single quote") << QStringLiteral("it's") << QByteArray("it's");
}

void TestMetrics::escapeLabel()
{
    QFETCH(QString, value);
    QFETCH(QByteArray, escaped);
    QCOMPARE(escapeLabelValue(value), escaped);
    MetricsRegistry registry;
    registry.counterFamily("e_total", "E.", {"v"}).labels({value}).inc();
    QCOMPARE(samples(registry.render()).count("e_total{v=\"" + escaped + "\"}"), std::size_t(1));
}

void TestMetrics::escapeHelpText_data()
{
    QTest::addColumn<QString>("help");
    QTest::addColumn<QByteArray>("escaped");
    QTest::newRow("plain") << QStringLiteral("Requests served.") << QByteArray("Requests served.");
    QTest::newRow("backslash") << QStringLiteral("a\\b") << QByteArray("a\\\\b");
    QTest::newRow("line feed") << QStringLiteral("a\nb") << QByteArray("a\\nb");
    QTest::newRow("double quote is kept") << QStringLiteral("\"x\"") << QByteArray("\"x\"");
}

void TestMetrics::escapeHelpText()
{
    QFETCH(QString, help);
    QFETCH(QByteArray, escaped);
    QCOMPARE(escapeHelp(help), escaped);
}

void TestMetrics::callbacks()
{
    MetricsRegistry registry;
    double pool = 3;
    auto &states = registry.gaugeFamily("db_pool_workers", "Workers by state.", {"state"});
    states.setCallback({"busy"}, [&pool] { return pool; });
    states.setCallback({"idle"}, [] { return 1.0; });
    registry.counterCallback("jobs_completed_total", "Jobs.", [] { return 12345678.0; });
    auto text = samples(registry.render());
    QCOMPARE(text["db_pool_workers{state=\"busy\"}"], QByteArray("3"));
    QCOMPARE(text["db_pool_workers{state=\"idle\"}"], QByteArray("1"));
    QCOMPARE(text["jobs_completed_total"], QByteArray("1.2345678e+07"));
    pool = 5; // read at render time
    QCOMPARE(samples(registry.render())["db_pool_workers{state=\"busy\"}"], QByteArray("5"));
    // An empty callback goes back to the stored value.
    states.labels({"busy"}).set(9);
    states.setCallback({"busy"}, {});
    QCOMPARE(samples(registry.render())["db_pool_workers{state=\"busy\"}"], QByteArray("9"));
}

// ---- threads ----

void TestMetrics::concurrentRecording()
{
    MetricsRegistry registry;
    Counter &counter = registry.counter("events_total", "Events.");
    Gauge &gauge = registry.gauge("balance", "Balance.");
    Histogram &histogram = registry.histogram("work_ms", "Work.");
    auto &family = registry.counterFamily("by_key_total", "By key.", {"key"});
    static const char *const keys[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    constexpr int kThreads = 4;
    constexpr int kIterations = 200000;

    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            start.arrive_and_wait();
            for (int i = 0; i < kIterations; ++i) {
                counter.inc();
                gauge.inc(1.5);
                gauge.dec();
                histogram.observe(double(i % 10));
                family.labels({keys[i % 8]}).inc(); // children are created concurrently here
            }
        });
    }
    for (std::thread &t : threads)
        t.join();

    const quint64 total = quint64(kThreads) * kIterations;
    QCOMPARE(counter.value(), total);
    QCOMPARE(gauge.value(), 0.5 * double(total));
    const HistogramSnapshot s = histogram.snapshot();
    QCOMPARE(s.count, total);
    QCOMPARE(s.sum, double(kThreads) * (kIterations / 10) * 45.0);
    QCOMPARE(s.min, 0.0);
    QCOMPARE(s.max, 9.0);
    QCOMPARE(family.childCount(), std::size_t(8));
    for (const auto &[values, child] : family.children())
        QCOMPARE(child->value(), total / 8);
}

// ---- promtool ----

void TestMetrics::promtool_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("mentions");

    MetricsRegistry server;
    auto &http = server.histogramFamily("http_request_duration_seconds", "HTTP request duration.",
                                        {"method", "route", "status"});
    http.labels({"GET", "/api/v1/rooms", "200"}).observe(0.003);
    http.labels({"POST", "/api/v1/rooms/<id>/messages", "201"}).observe(0.02);
    server.gauge("websocket_active_connections", "Open WebSocket connections.").set(3);
    server.counterFamily("cache_hits_total", "Cache hits.", {"cache"}).labels({"rooms"}).inc(5);
    server.counterFamily("cache_misses_total", "Cache misses.", {"cache"}).labels({"rooms"}).inc();
    server.histogramFamily("database_query_duration_seconds", "Query duration.", {"query"})
        .labels({"room \"list\"\\\nall"})
        .observe(0.0004);
    server.gaugeFamily("db_pool_connections", "Pool connections by state.", {"state"}).setCallback({"idle"}, [] {
        return 2.0;
    });
    server.gauge("nothing_yet", "A value that is NaN.").set(kNaN);
    registerProcessMetrics(server);
    QTest::newRow("server metrics") << server.render() << 0 << QString();

    // The spec's message_delivery_time_ms parses, but promtool's linter objects to the "ms".
    MetricsRegistry spec;
    spec.histogram("message_delivery_time_ms", "Send frame to last local write.").observe(3);
    QTest::newRow("spec name with ms") << spec.render() << 3 << QStringLiteral("abbreviated units");

    // promtool does catch what a broken writer would produce.
    QTest::newRow("unescaped line feed") << QByteArray("# HELP x X.\n# TYPE x gauge\nx{a=\"1\n\"} 1\n") << 1
                                         << QStringLiteral("parsing error");
}

void TestMetrics::promtool()
{
    QFETCH(QByteArray, text);
    QFETCH(int, exitCode);
    QFETCH(QString, mentions);
    // Debian package prometheus (scripts/packages.txt): required under the test command and in CI.
    TM_REQUIRE_PROGRAM(promtool, "promtool");
    QProcess p;
    p.start(promtool, {QStringLiteral("check"), QStringLiteral("metrics")});
    QVERIFY(p.waitForStarted());
    p.write(text);
    p.closeWriteChannel();
    QVERIFY(p.waitForFinished(60000));
    const QString output = QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
    if (p.exitCode() != exitCode)
        qInfo().noquote() << "promtool said:" << output << "\nabout:\n" << text;
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), exitCode);
    if (mentions.isEmpty())
        QCOMPARE(output.trimmed(), QString());
    else
        QVERIFY2(output.contains(mentions), qPrintable(output));
}

// ---- process statistics ----

void TestMetrics::processStats()
{
    const auto stats = readProcessStats();
    QVERIFY(stats);
    QCOMPARE(stats->pid, qint64(::getpid()));
    QVERIFY(stats->residentBytes > 1024 * 1024);
    QVERIFY(stats->virtualBytes >= stats->residentBytes);
    QVERIFY(stats->threads >= 1);
    QVERIFY(stats->openFds >= 3); // stdin, stdout, stderr at least
    QVERIFY(stats->maxFds >= stats->openFds);
    QVERIFY(stats->cpuSeconds() >= 0);
    const double now = double(QDateTime::currentMSecsSinceEpoch()) / 1000;
    QVERIFY2(stats->startTimeSeconds <= now + 1 && stats->startTimeSeconds > now - 600,
             qPrintable(QString::number(stats->startTimeSeconds, 'f', 2)));

    const auto parent = readProcessStats(qint64(::getppid()));
    QVERIFY(parent);
    QVERIFY(parent->residentBytes > 0);
    QVERIFY(parent->startTimeSeconds <= stats->startTimeSeconds);
    QVERIFY(!readProcessStats(qint64(std::numeric_limits<int>::max())));
}

void TestMetrics::processRssGrows()
{
    constexpr std::size_t kSize = 50 * 1024 * 1024;
    const auto before = readProcessStats();
    QVERIFY(before);
    auto buffer = std::make_unique<char[]>(kSize); // value-initialised, but the pages are untouched
    std::memset(buffer.get(), 0x5a, kSize);
    g_sink.store(buffer.get());
    const auto after = readProcessStats();
    QVERIFY(after);
    const qint64 grown = after->residentBytes - before->residentBytes;
    QVERIFY2(grown >= qint64(kSize) * 9 / 10, qPrintable(QString::number(grown)));
    QCOMPARE(buffer[kSize - 1], char(0x5a));
    g_sink.store(nullptr);
}

void TestMetrics::processFds()
{
    const int before = countOpenFds(0);
    QVERIFY(before >= 3);
    QCOMPARE(countOpenFds(qint64(::getpid())), before);
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    QVERIFY(fd >= 0);
    QCOMPARE(countOpenFds(0), before + 1);
    QCOMPARE(readProcessStats()->openFds, before + 1);
    ::close(fd);
    QCOMPARE(countOpenFds(0), before);
}

void TestMetrics::processThreadsAndCpu()
{
    const int before = readProcessStats()->threads;
    std::promise<void> started;
    std::promise<void> release;
    std::thread t([&] {
        started.set_value();
        release.get_future().wait();
    });
    started.get_future().wait();
    QCOMPARE(readProcessStats()->threads, before + 1);
    release.set_value();
    t.join();

    // Burn CPU until the counter moves (poll with a deadline).
    const double cpuBefore = readProcessStats()->cpuSeconds();
    QElapsedTimer timer;
    timer.start();
    volatile double x = 1;
    double cpuNow = cpuBefore;
    while (cpuNow < cpuBefore + 0.05 && timer.elapsed() < 20000) {
        for (int i = 0; i < 1000000; ++i)
            x = x * 1.0000001 + 0.5;
        cpuNow = readProcessStats()->cpuSeconds();
    }
    QVERIFY2(cpuNow >= cpuBefore + 0.05, qPrintable(QString::number(cpuNow - cpuBefore)));
}

void TestMetrics::processMetricsRendered()
{
    MetricsRegistry registry;
    registerProcessMetrics(registry);
    const QByteArray text = registry.render();
    QVERIFY(text.contains("# TYPE process_cpu_seconds_total counter\n"));
    QVERIFY(text.contains("# TYPE process_resident_memory_bytes gauge\n"));
    auto values = samples(text);
    const auto number = [&values](const char *name) {
        const auto it = values.find(name);
        return it == values.end() ? -1.0 : it->second.toDouble();
    };
    QVERIFY(number("process_resident_memory_bytes") > 1024 * 1024);
    QVERIFY(number("process_virtual_memory_bytes") >= number("process_resident_memory_bytes"));
    QVERIFY(number("process_cpu_seconds_total") >= 0);
    QVERIFY(number("process_open_fds") >= 3);
    QVERIFY(number("process_max_fds") >= number("process_open_fds"));
    QVERIFY(number("process_threads") >= 1);
    const double now = double(QDateTime::currentMSecsSinceEpoch()) / 1000;
    QVERIFY(number("process_start_time_seconds") > now - 600);
    QCOMPARE(values.size(), std::size_t(7));
}

// ---- series that exist before their first event ----

// A hit rate (hits / (hits + misses)) and the alert on it need both series of every kind from the
// start: a family that appeared only with its first hit would leave the rate undefined for a cache
// that never hits.
void TestMetrics::cacheSeriesFromStart_data()
{
    QTest::addColumn<QByteArray>("series");
    for (const QByteArray &kind : Cache::metricKinds()) {
        for (const char *name : {"cache_hits_total", "cache_misses_total"}) {
            const QByteArray series = QByteArray(name) + "{cache=\"" + kind + "\"}";
            QTest::newRow(series.constData()) << series;
        }
    }
}

void TestMetrics::cacheSeriesFromStart()
{
    QFETCH(QByteArray, series);
    MetricsRegistry registry;
    LocalCache cache(1024 * 1024, &registry);
    const auto values = samples(registry.render());
    const auto it = values.find(series);
    QVERIFY2(it != values.end(), series.constData());
    QCOMPARE(it->second, QByteArray("0"));
    // One lookup counts where it belongs.
    cache.get(QByteArrayLiteral("tasks"), QByteArrayLiteral("tasks:1"), {}, [](CacheLookup) {});
    const auto after = samples(registry.render());
    QCOMPARE(after.at(series), QByteArray(series == "cache_misses_total{cache=\"tasks\"}" ? "1" : "0"));
}

void TestMetrics::rateLimitSeriesFromStart_data()
{
    QTest::addColumn<QByteArray>("scope");
    for (const QByteArray &scope : RateLimiter::scopes())
        QTest::newRow(scope.constData()) << scope;
}

void TestMetrics::rateLimitSeriesFromStart()
{
    QFETCH(QByteArray, scope);
    MetricsRegistry registry;
    RateLimiter limiter(nullptr, &registry);
    const QByteArray series = "rate_limited_requests_total{scope=\"" + scope + "\"}";
    QCOMPARE(samples(registry.render())[series], QByteArray("0"));
    // A refusal counts in its scope only.
    const RateRule rule = *parseRateRule(QStringLiteral("1/1"), QStringLiteral("rate"));
    QVERIFY(limiter.takeLocal(scope, QByteArrayLiteral("k"), rule).allowed);
    QVERIFY(!limiter.takeLocal(scope, QByteArrayLiteral("k"), rule).allowed);
    const auto after = samples(registry.render());
    for (const QByteArray &other : RateLimiter::scopes()) {
        const QByteArray name = "rate_limited_requests_total{scope=\"" + other + "\"}";
        QCOMPARE(after.at(name), QByteArray(other == scope ? "1" : "0"));
    }
}

QTEST_APPLESS_MAIN(TestMetrics)
#include "tst_metrics.moc"
