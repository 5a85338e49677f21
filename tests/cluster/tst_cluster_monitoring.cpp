// monitoring/ against real metrics: a 2-instance cluster of scripts/cluster/with-cluster.sh with
// TM_CLUSTER_MONITORING=1 (cluster.sh starts prometheus-nginx-exporter and a Prometheus running
// monitoring/prometheus/prometheus.yml and its alert rules, scraping every second), tm-load sending
// messages and REST reads through nginx for a few seconds. Then, through Prometheus' HTTP API:
// every target is up; every query of every Grafana panel is valid and returns a series with a
// number; every alert rule evaluates without error, names only metrics Prometheus has, and none is
// pending or firing on the healthy cluster; a killed instance turns TaskMasterInstanceDown pending
// for exactly that instance; an instance added by cluster.sh add-instance is scraped without a
// Prometheus reload (file_sd) and one removed is no longer a target. So no panel or alert names a
// metric that does not exist.
// Thread: the test's thread (tm-load and cluster.sh run as child processes).
#include "tests/support/api_client.h"
#include "tests/support/tool_process.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace taskmaster;
using taskmaster::test::readClusterEnv;
using taskmaster::test::ToolRun;

namespace {

QByteArray readFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// The metric names a PromQL expression reads: identifiers outside label matchers, ranges,
// strings and grouping clauses that are not functions, keywords or numbers.
QSet<QString> metricNames(QString expr)
{
    static const QRegularExpression strings(QStringLiteral("\"(?:[^\"\\\\]|\\\\.)*\""));
    static const QRegularExpression braces(QStringLiteral(R"(\{[^}]*\})"));
    static const QRegularExpression ranges(QStringLiteral(R"(\[[^\]]*\])"));
    static const QRegularExpression grouping(
        QStringLiteral(R"(\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\))"));
    static const QRegularExpression ident(QStringLiteral(R"(([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?)"));
    static const QSet<QString> keywords {QStringLiteral("and"),     QStringLiteral("or"),     QStringLiteral("unless"),
                                         QStringLiteral("bool"),    QStringLiteral("offset"), QStringLiteral("by"),
                                         QStringLiteral("without"), QStringLiteral("inf"),    QStringLiteral("nan")};
    expr.replace(strings, QStringLiteral(" "));
    expr.replace(braces, QStringLiteral(" "));
    expr.replace(ranges, QStringLiteral(" "));
    expr.replace(grouping, QStringLiteral(" "));
    QSet<QString> names;
    for (auto it = ident.globalMatch(expr); it.hasNext();) {
        const auto m = it.next();
        const QString name = m.captured(1);
        if (!m.captured(2).isEmpty() || keywords.contains(name.toLower()))
            continue;
        // Not the tail of a number such as 1e6 or a duration.
        if (m.capturedStart(1) > 0 && expr.at(m.capturedStart(1) - 1).isDigit())
            continue;
        names.insert(name);
    }
    return names;
}

} // namespace

class TestClusterMonitoring final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void metricNamesOfExpressions_data();
    void metricNamesOfExpressions();
    void underLoad();
    void dashboardQueries();
    void alertRules();
    void instanceDownSeen();
    void scaledInstancesFollowed();

private:
    // POST /api/v1/query; the "data" object of a successful answer, or a failure message.
    QJsonObject query(const QString &expr, QString *error = nullptr);
    bool clusterCommand(const QStringList &args)
    {
        return test::runClusterCommand(QStringLiteral(TM_CLUSTER_SCRIPT), args);
    }

    QString m_dir;
    QString m_prometheus;
    QTemporaryDir m_tmp;
    QSet<QString> m_names; // every metric name Prometheus has, after the load
};

void TestClusterMonitoring::initTestCase()
{
    m_dir = qEnvironmentVariable("TM_CLUSTER_DIR");
    m_prometheus = qEnvironmentVariable("TM_PROMETHEUS_URL");
    if (m_dir.isEmpty() || m_prometheus.isEmpty()) {
        if (qEnvironmentVariableIntValue("TM_TEST_REQUIRE_SERVICES") == 1)
            QFAIL("TM_CLUSTER_DIR / TM_PROMETHEUS_URL are not set: run through scripts/cluster/with-cluster.sh "
                  "with TM_CLUSTER_MONITORING=1");
        QSKIP("TM_PROMETHEUS_URL is not set: run through scripts/cluster/with-cluster.sh with TM_CLUSTER_MONITORING=1");
    }
    QVERIFY(m_tmp.isValid());
}

QJsonObject TestClusterMonitoring::query(const QString &expr, QString *error)
{
    test::ApiClient prometheus {QUrl(m_prometheus)};
    const auto reply
        = prometheus.send("POST", QStringLiteral("/api/v1/query"), "query=" + QUrl::toPercentEncoding(expr),
                          test::RequestOptions {{}, "application/x-www-form-urlencoded"});
    const QJsonObject j = reply.json();
    if (reply.status != 200 || j.value(QLatin1String("status")).toString() != QLatin1String("success")) {
        if (error)
            *error = QStringLiteral("%1 %2").arg(reply.status).arg(QString::fromUtf8(reply.body));
        return {};
    }
    return j.value(QLatin1String("data")).toObject();
}

// The extraction the checks below rely on, on the shapes the dashboard and rules use.
void TestClusterMonitoring::metricNamesOfExpressions_data()
{
    QTest::addColumn<QString>("expr");
    QTest::addColumn<QStringList>("names");
    QTest::newRow("selector") << QStringLiteral("up{job=\"taskmaster\"} == 0") << QStringList {QStringLiteral("up")};
    QTest::newRow("quantile") << QStringLiteral(
        "histogram_quantile(0.95, sum by (job, le) (rate(message_delivery_time_ms_bucket{job=\"x\"}[5m]))) "
        "> 100") << QStringList {QStringLiteral("message_delivery_time_ms_bucket")};
    QTest::newRow("ratio with and") << QStringLiteral("a_total / (b_total + c) < 0.8 and on (job) d > 1e6")
                                    << QStringList {QStringLiteral("a_total"), QStringLiteral("b_total"),
                                                    QStringLiteral("c"), QStringLiteral("d")};
    QTest::newRow("functions only") << QStringLiteral("time() - vector(0)") << QStringList {};
    QTest::newRow("string label value with braces")
        << QStringLiteral("count(ALERTS{alertname=~\"TaskMaster.*\", x=\"}{\"}) or vector(0)")
        << QStringList {QStringLiteral("ALERTS")};
}

void TestClusterMonitoring::metricNamesOfExpressions()
{
    QFETCH(QString, expr);
    QFETCH(QStringList, names);
    QSet<QString> want(names.begin(), names.end());
    QCOMPARE(metricNames(expr), want);
}

// tm-load through nginx: messages over WebSockets and REST reads (cached and not), so that every
// family has moved; then Prometheus has scraped both instances and the exporter since.
void TestClusterMonitoring::underLoad()
{
    const QString json = m_tmp.filePath(QStringLiteral("report.json"));
    const ToolRun r = test::runTool(QStringLiteral(TM_LOAD_BINARY),
                                    {QStringLiteral("--url"),       qEnvironmentVariable("TM_CLUSTER_URL"),
                                     QStringLiteral("--json"),      json,
                                     QStringLiteral("--users"),     QStringLiteral("60"),
                                     QStringLiteral("--room-size"), QStringLiteral("10"),
                                     QStringLiteral("--rate"),      QStringLiteral("60"),
                                     QStringLiteral("--rest-rate"), QStringLiteral("40"),
                                     QStringLiteral("--duration"),  QStringLiteral("4"),
                                     QStringLiteral("--warmup"),    QStringLiteral("0.5"),
                                     QStringLiteral("--drain"),     QStringLiteral("10"),
                                     QStringLiteral("--threads"),   QStringLiteral("2"),
                                     QStringLiteral("--quiet")},
                                    json, 120000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    QVERIFY2(r.field("messages", "acked") > 100, qPrintable(r.describe()));

    // Every target (two instances, the exporter) up, scraped after the load.
    QString error;
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     const QJsonObject d = query(QStringLiteral("count(up == 1)"), &error);
                     const QJsonArray res = d.value(QLatin1String("result")).toArray();
                     return !res.isEmpty()
                         && res.at(0).toObject().value(QLatin1String("value")).toArray().at(1).toString()
                         == QLatin1String("3");
                 },
                 30000),
             qPrintable(error));
    // The messages of the run are in Prometheus (a scrape after the last of them).
    const qint64 acked = r.field("messages", "acked");
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     const QJsonArray res
                         = query(QStringLiteral("sum(messages_written_total{job=\"taskmaster\"})"), &error)
                               .value(QLatin1String("result"))
                               .toArray();
                     return !res.isEmpty()
                         && res.at(0).toObject().value(QLatin1String("value")).toArray().at(1).toString().toLongLong()
                         >= acked;
                 },
                 30000),
             qPrintable(error));
    const auto reply = test::ApiClient(QUrl(m_prometheus)).get(QStringLiteral("/api/v1/label/__name__/values"), {});
    QCOMPARE(reply.status, 200);
    for (const QJsonValue &v : reply.json().value(QLatin1String("data")).toArray())
        m_names.insert(v.toString());
    QVERIFY2(m_names.contains(QStringLiteral("message_delivery_time_ms_bucket")), reply.body.constData());
    QVERIFY2(m_names.contains(QStringLiteral("nginx_connections_active")), reply.body.constData());
}

// Every panel's every query: valid, naming only known metrics, and at least one series with a
// number (not NaN) over the load just run.
void TestClusterMonitoring::dashboardQueries()
{
    QVERIFY2(!m_names.isEmpty(), "underLoad did not run");
    const QJsonDocument doc = QJsonDocument::fromJson(
        readFile(QStringLiteral(TM_SOURCE_DIR) + QStringLiteral("/monitoring/grafana/dashboards/taskmaster.json")));
    const QJsonArray panels = doc.object().value(QLatin1String("panels")).toArray();
    QVERIFY(!panels.isEmpty());
    int checked = 0;
    QStringList failures;
    // One pass over every query; repeated with a deadline until all pass: a rate needs two
    // scrapes of its target, and the nginx exporter's first may be recent.
    const auto pass = [&] {
        checked = 0;
        failures.clear();
        for (const QJsonValue &pv : panels) {
            const QJsonObject panel = pv.toObject();
            const QString title = panel.value(QLatin1String("title")).toString();
            for (const QJsonValue &tv : panel.value(QLatin1String("targets")).toArray()) {
                QString expr = tv.toObject().value(QLatin1String("expr")).toString();
                // Grafana's variables: every instance, and a window that holds the load just run.
                expr.replace(QStringLiteral("$__rate_interval"), QStringLiteral("5m"));
                expr.replace(QStringLiteral("$instance"), QStringLiteral(".*"));
                if (expr.contains(QLatin1Char('$'))) {
                    failures << title + QStringLiteral(": unknown variable in ") + expr;
                    continue;
                }
                ++checked;
                for (const QString &name : metricNames(expr)) {
                    if (!m_names.contains(name) && name != QLatin1String("ALERTS"))
                        failures << QStringLiteral("%1: unknown metric %2 in %3").arg(title, name, expr);
                }
                QString error;
                const QJsonObject data = query(expr, &error);
                if (data.isEmpty()) {
                    failures << QStringLiteral("%1: %2 -> %3").arg(title, expr, error);
                    continue;
                }
                bool number = false;
                for (const QJsonValue &sv : data.value(QLatin1String("result")).toArray()) {
                    const QString v = sv.toObject().value(QLatin1String("value")).toArray().at(1).toString();
                    bool ok = false;
                    const double x = v.toDouble(&ok);
                    number = number || (ok && std::isfinite(x));
                }
                if (!number)
                    failures << QStringLiteral("%1: no series with a number: %2 -> %3")
                                    .arg(title, expr,
                                         QString::fromUtf8(QJsonDocument(data).toJson(QJsonDocument::Compact)));
            }
        }
        return failures.isEmpty();
    };
    (void)QTest::qWaitFor(pass, 20000);
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QLatin1Char('\n'))));
    QVERIFY(checked > 20);
}

// Prometheus loaded every alert rule, evaluates it without error, every metric it names exists,
// and the healthy cluster fires nothing.
void TestClusterMonitoring::alertRules()
{
    QVERIFY2(!m_names.isEmpty(), "underLoad did not run");
    test::ApiClient prometheus {QUrl(m_prometheus)};
    QStringList failures;
    int alerts = 0;
    // Every rule evaluated at least once after the load (evaluation every second).
    QVERIFY(QTest::qWaitFor(
        [&] {
            const auto reply = prometheus.get(QStringLiteral("/api/v1/rules?type=alert"), {});
            failures.clear();
            alerts = 0;
            for (const QJsonValue &g :
                 reply.json().value(QLatin1String("data")).toObject().value(QLatin1String("groups")).toArray()) {
                for (const QJsonValue &rv : g.toObject().value(QLatin1String("rules")).toArray()) {
                    const QJsonObject rule = rv.toObject();
                    const QString name = rule.value(QLatin1String("name")).toString();
                    ++alerts;
                    if (rule.value(QLatin1String("health")).toString() != QLatin1String("ok"))
                        failures << name + QStringLiteral(": health ") + rule.value(QLatin1String("health")).toString()
                                + QStringLiteral(" ") + rule.value(QLatin1String("lastError")).toString();
                    const QString expr = rule.value(QLatin1String("query")).toString();
                    for (const QString &metric : metricNames(expr)) {
                        if (!m_names.contains(metric))
                            failures << QStringLiteral("%1: unknown metric %2").arg(name, metric);
                    }
                    // The expression itself is a valid query.
                    QString error;
                    if (query(expr, &error).isEmpty())
                        failures << name + QStringLiteral(": ") + error;
                    // Firing is wrong on a healthy cluster; pending is not (a 2-core machine running the
                    // cluster, tm-load and Prometheus can hold delivery p95 over 100 ms for a few
                    // seconds, which the rule's `for` exists to ignore).
                    if (rule.value(QLatin1String("state")).toString() == QLatin1String("firing"))
                        failures << name + QStringLiteral(" is ") + rule.value(QLatin1String("state")).toString()
                                + QStringLiteral(" on a healthy cluster");
                }
            }
            return alerts > 0 && failures.isEmpty();
        },
        15000));
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QLatin1Char('\n'))));
    // Every alert of the rule file was loaded.
    const QByteArray rules = readFile(QStringLiteral(TM_SOURCE_DIR)
                                      + QStringLiteral("/monitoring/prometheus/rules/taskmaster-alerts.yml"));
    QCOMPARE(alerts, int(rules.count("- alert:")));
}

// A killed instance: Prometheus' up turns 0 for it, and TaskMasterInstanceDown goes pending for
// that instance alone (it would fire after its 1 minute). The instance is started again.
void TestClusterMonitoring::instanceDownSeen()
{
    const auto env = readClusterEnv(m_dir);
    const QString target = QUrl(env.value(QStringLiteral("TM_INSTANCE_2_URL"))).authority();
    QVERIFY(!target.isEmpty());
    QVERIFY(clusterCommand({QStringLiteral("kill-instance"), QStringLiteral("2")}));
    QString seen;
    const bool pending = QTest::qWaitFor(
        [&] {
            const QJsonArray res = query(QStringLiteral("ALERTS{alertname=\"TaskMasterInstanceDown\"}"))
                                       .value(QLatin1String("result"))
                                       .toArray();
            seen = QString::fromUtf8(QJsonDocument(res).toJson(QJsonDocument::Compact));
            return res.size() == 1;
        },
        20000);
    const bool restarted = clusterCommand({QStringLiteral("start-instance"), QStringLiteral("2")});
    QVERIFY2(pending, qPrintable(seen));
    const QJsonObject metric
        = QJsonDocument::fromJson(seen.toUtf8()).array().at(0).toObject().value(QLatin1String("metric")).toObject();
    QCOMPARE(metric.value(QLatin1String("instance")).toString(), target);
    QCOMPARE(metric.value(QLatin1String("alertstate")).toString(), QStringLiteral("pending"));
    QCOMPARE(metric.value(QLatin1String("tm_instance")).toString(), QStringLiteral("tm-2"));
    QVERIFY(restarted);
}

// cluster.sh add-instance rewrites the file_sd list: Prometheus scrapes the new instance (up 1,
// its tm_instance label) without a reload; remove-instance takes it off the targets again, so
// TaskMasterInstanceDown does not fire for an instance removed on purpose.
void TestClusterMonitoring::scaledInstancesFollowed()
{
    QVERIFY(clusterCommand({QStringLiteral("add-instance")}));
    const QString up = QStringLiteral("up{job=\"taskmaster\", tm_instance=\"tm-3\"} == 1");
    QVERIFY2(QTest::qWaitFor([&] { return query(up).value(QLatin1String("result")).toArray().size() == 1; }, 30000),
             "Prometheus did not scrape the added tm-3");
    QVERIFY(clusterCommand({QStringLiteral("remove-instance"), QStringLiteral("3")}));
    const auto targets = [this] {
        QStringList names;
        const auto reply = test::ApiClient(QUrl(m_prometheus)).get(QStringLiteral("/api/v1/targets?state=active"), {});
        for (const QJsonValue &t :
             reply.json().value(QLatin1String("data")).toObject().value(QLatin1String("activeTargets")).toArray())
            names << t.toObject()
                         .value(QLatin1String("labels"))
                         .toObject()
                         .value(QLatin1String("tm_instance"))
                         .toString();
        return names;
    };
    QVERIFY2(
        QTest::qWaitFor([&] { return targets().size() == 3 && !targets().contains(QStringLiteral("tm-3")); }, 30000),
        qPrintable(targets().join(QLatin1Char(','))));
    QVERIFY(targets().contains(QStringLiteral("tm-1")) && targets().contains(QStringLiteral("tm-2")));
}

QTEST_GUILESS_MAIN(TestClusterMonitoring)
#include "tst_cluster_monitoring.moc"
