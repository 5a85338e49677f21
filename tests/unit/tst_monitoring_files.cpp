// The monitoring files of monitoring/ and the nginx template, checked without a running cluster:
// promtool accepts the Prometheus configuration and the alert rules and their unit tests pass
// (promtool test rules); promtool does refuse broken rules (a table of bad inputs, so a passing
// check means something); every alert has a firing and a quiet unit test case, a summary, a
// description and a runbook link to a section of docs/operations.md that exists; the Grafana
// dashboard is well-formed JSON whose panels all query the provisioned datasource; nginx accepts
// the rendered configuration with its loopback-only stub_status, with and without TLS, and
// render-conf.sh refuses bad options (a table). What the expressions return from
// real metrics is tst_cluster_monitoring's part.
// Thread: the test's thread (promtool, render-conf.sh and nginx -t run as child processes).
#include "tests/support/test_env.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

namespace {

const QString kRoot = QStringLiteral(TM_SOURCE_DIR);

QString sourcePath(const QString &relative)
{
    return kRoot + QLatin1Char('/') + relative;
}

QByteArray readSource(const QString &relative)
{
    QFile f(sourcePath(relative));
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

struct Run {
    int exitCode = -1;
    QString output; // stdout and stderr
};

Run run(const QString &program, const QStringList &args, const QString &workDir = {})
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    if (!workDir.isEmpty())
        p.setWorkingDirectory(workDir);
    p.start(program, args);
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished(5000);
        return {};
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAll())};
}

// The names of the alerts in the rule file, in order.
QStringList alertNames(const QByteArray &rules)
{
    QStringList names;
    static const QRegularExpression re(QStringLiteral(R"(^\s*- alert:\s*(\w+)\s*$)"),
                                       QRegularExpression::MultilineOption);
    for (auto it = re.globalMatch(QString::fromUtf8(rules)); it.hasNext();)
        names << it.next().captured(1);
    return names;
}

// The text of one alert's rule: from its "- alert:" line to the next rule.
QString alertBlock(const QByteArray &rules, const QString &name)
{
    const QString text = QString::fromUtf8(rules);
    const qsizetype start = text.indexOf(QStringLiteral("- alert: ") + name);
    if (start < 0)
        return {};
    qsizetype end = text.indexOf(QStringLiteral("- alert: "), start + 1);
    return text.mid(start, end < 0 ? -1 : end - start);
}

// GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to '-'.
QString anchorOf(const QString &heading)
{
    QString out;
    for (const QChar c : heading.trimmed().toLower()) {
        if (c.isLetterOrNumber() || c == QLatin1Char('-') || c == QLatin1Char('_'))
            out += c;
        else if (c == QLatin1Char(' '))
            out += QLatin1Char('-');
    }
    return out;
}

QSet<QString> headingAnchors(const QByteArray &markdown)
{
    QSet<QString> anchors;
    static const QRegularExpression re(QStringLiteral(R"(^#{1,6}\s+(.+?)\s*$)"), QRegularExpression::MultilineOption);
    for (auto it = re.globalMatch(QString::fromUtf8(markdown)); it.hasNext();)
        anchors.insert(anchorOf(it.next().captured(1)));
    return anchors;
}

} // namespace

class TestMonitoringFiles final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void promtool_data();
    void promtool();
    void brokenRulesRefused_data();
    void brokenRulesRefused();
    void everyAlertTested();
    void everyAlertDocumented();
    void dashboard();
    void nginxConfig_data();
    void nginxConfig();
    void renderRefuses_data();
    void renderRefuses();
};

void TestMonitoringFiles::promtool_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("success");
    const QString dir = sourcePath(QStringLiteral("monitoring/prometheus"));
    QTest::newRow("check config") << QStringList {QStringLiteral("check"), QStringLiteral("config"),
                                                  dir + QStringLiteral("/prometheus.yml")}
                                  << QStringLiteral("is valid prometheus config file");
    QTest::newRow("check rules")
        << QStringList {QStringLiteral("check"), QStringLiteral("rules"),
                        dir + QStringLiteral("/rules/taskmaster-alerts.yml")}
        << QStringLiteral("SUCCESS: %1 rules found")
               .arg(readSource(QStringLiteral("monitoring/prometheus/rules/taskmaster-alerts.yml")).count("- alert:"));
    QTest::newRow("test rules") << QStringList {QStringLiteral("test"), QStringLiteral("rules"),
                                                dir + QStringLiteral("/rules/taskmaster-alerts.test.yml")}
                                << QStringLiteral("SUCCESS");
}

void TestMonitoringFiles::promtool()
{
    QFETCH(QStringList, args);
    QFETCH(QString, success);
    TM_REQUIRE_PROGRAM(promtool, "promtool");
    const Run r = run(promtool, args);
    QVERIFY2(r.exitCode == 0, qPrintable(r.output));
    QVERIFY2(r.output.contains(success), qPrintable(r.output));
    QVERIFY2(!r.output.contains(QLatin1String("FAILED")), qPrintable(r.output));
}

void TestMonitoringFiles::brokenRulesRefused_data()
{
    QTest::addColumn<QByteArray>("rule"); // one rule's lines under "rules:"
    QTest::addColumn<QString>("mentions");
    QTest::newRow("unknown function") << QByteArray("      - alert: A\n        expr: rate_of(up[5m]) > 1\n")
                                      << QStringLiteral("unknown function");
    QTest::newRow("bad duration") << QByteArray("      - alert: A\n        expr: up == 0\n        for: 5 minutes\n")
                                  << QStringLiteral("not a valid duration");
    QTest::newRow("no expression") << QByteArray("      - alert: A\n        for: 1m\n")
                                   << QStringLiteral("field 'expr' must be set");
    QTest::newRow("unbalanced braces") << QByteArray("      - alert: A\n        expr: up{job=\"x\" == 0\n")
                                       << QStringLiteral("parse error");
    QTest::newRow("broken template") << QByteArray(
        "      - alert: A\n        expr: up == 0\n        annotations:\n          summary: \"{{ $labels.instance\"\n")
                                     << QStringLiteral("template");
}

void TestMonitoringFiles::brokenRulesRefused()
{
    QFETCH(QByteArray, rule);
    QFETCH(QString, mentions);
    TM_REQUIRE_PROGRAM(promtool, "promtool");
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    QFile f(tmp.filePath(QStringLiteral("rules.yml")));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("groups:\n  - name: g\n    rules:\n" + rule);
    f.close();
    const Run r = run(promtool, {QStringLiteral("check"), QStringLiteral("rules"), f.fileName()});
    QVERIFY2(r.exitCode == 1, qPrintable(r.output));
    QVERIFY2(r.output.contains(mentions), qPrintable(r.output));
}

// Every alert has a unit test case where it fires and one where it stays quiet; the test file
// names no alert the rules do not have.
void TestMonitoringFiles::everyAlertTested()
{
    const QByteArray rules = readSource(QStringLiteral("monitoring/prometheus/rules/taskmaster-alerts.yml"));
    const QByteArray tests = readSource(QStringLiteral("monitoring/prometheus/rules/taskmaster-alerts.test.yml"));
    const QStringList names = alertNames(rules);
    QVERIFY(names.size() >= 9);
    QSet<QString> firing, quiet;
    const QList<QByteArray> lines = tests.split('\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        if (!line.startsWith("alertname:"))
            continue;
        const QString name = QString::fromUtf8(line.mid(10).trimmed());
        QVERIFY2(names.contains(name), qPrintable(QStringLiteral("the tests name an unknown alert ") + name));
        QVERIFY(i + 1 < lines.size());
        const QByteArray next = lines.at(i + 1).trimmed();
        if (next == "exp_alerts: []")
            quiet.insert(name);
        else if (next == "exp_alerts:" && i + 2 < lines.size() && lines.at(i + 2).trimmed().startsWith("- exp_labels:"))
            firing.insert(name);
        else
            QFAIL(qPrintable(QStringLiteral("cannot read the case of ") + name + QStringLiteral(": ")
                             + QString::fromUtf8(next)));
    }
    for (const QString &name : names) {
        QVERIFY2(firing.contains(name), qPrintable(name + QStringLiteral(" has no firing case")));
        QVERIFY2(quiet.contains(name), qPrintable(name + QStringLiteral(" has no quiet case")));
    }
}

// Each alert: a severity, a summary, a description and a runbook link to its own section of
// docs/operations.md, which exists.
void TestMonitoringFiles::everyAlertDocumented()
{
    const QByteArray rules = readSource(QStringLiteral("monitoring/prometheus/rules/taskmaster-alerts.yml"));
    const QSet<QString> anchors = headingAnchors(readSource(QStringLiteral("docs/operations.md")));
    QVERIFY(!anchors.isEmpty());
    const QStringList names = alertNames(rules);
    QVERIFY(!names.isEmpty());
    for (const QString &name : names) {
        const QString block = alertBlock(rules, name);
        for (const char *field : {"severity:", "summary:", "description:"})
            QVERIFY2(block.contains(QLatin1String(field)),
                     qPrintable(name + QStringLiteral(" lacks ") + QLatin1String(field)));
        const QString anchor = name.toLower();
        QVERIFY2(block.contains(QStringLiteral("runbook_url: \"docs/operations.md#") + anchor + QLatin1Char('"')),
                 qPrintable(name + QStringLiteral(": no runbook_url to docs/operations.md#") + anchor));
        QVERIFY2(anchors.contains(anchor), qPrintable(QStringLiteral("docs/operations.md has no section ") + name));
    }
}

// The dashboard: JSON Grafana loads, every panel on the provisioned datasource, unique ids,
// inside the 24-column grid, a query in every target.
void TestMonitoringFiles::dashboard()
{
    QJsonParseError error;
    const QJsonDocument doc
        = QJsonDocument::fromJson(readSource(QStringLiteral("monitoring/grafana/dashboards/taskmaster.json")), &error);
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
    const QJsonObject d = doc.object();
    QVERIFY(!d.value(QLatin1String("uid")).toString().isEmpty());
    QVERIFY(!d.value(QLatin1String("title")).toString().isEmpty());
    // The datasource's uid as provisioned.
    const QByteArray provisioning
        = readSource(QStringLiteral("monitoring/grafana/provisioning/datasources/taskmaster-prometheus.yml"));
    static const QRegularExpression uidRe(QStringLiteral(R"(^\s*uid:\s*(\S+)\s*$)"),
                                          QRegularExpression::MultilineOption);
    const auto uidMatch = uidRe.match(QString::fromUtf8(provisioning));
    QVERIFY(uidMatch.hasMatch());
    const QString uid = uidMatch.captured(1);
    QVERIFY(
        readSource(QStringLiteral("monitoring/grafana/provisioning/dashboards/taskmaster.yml")).contains("type: file"));

    QSet<int> ids;
    int queries = 0;
    const QJsonArray panels = d.value(QLatin1String("panels")).toArray();
    QVERIFY(panels.size() > 10);
    for (const QJsonValue &v : panels) {
        const QJsonObject p = v.toObject();
        const QString title = p.value(QLatin1String("title")).toString();
        QVERIFY2(!title.isEmpty(), "a panel without a title");
        const int id = p.value(QLatin1String("id")).toInt(-1);
        QVERIFY2(id > 0 && !ids.contains(id), qPrintable(title));
        ids.insert(id);
        const QJsonObject grid = p.value(QLatin1String("gridPos")).toObject();
        QVERIFY2(grid.value(QLatin1String("x")).toInt(-1) >= 0
                     && grid.value(QLatin1String("x")).toInt() + grid.value(QLatin1String("w")).toInt() <= 24
                     && grid.value(QLatin1String("h")).toInt() > 0,
                 qPrintable(title));
        if (p.value(QLatin1String("type")).toString() == QLatin1String("row"))
            continue;
        QCOMPARE(p.value(QLatin1String("datasource")).toObject().value(QLatin1String("uid")).toString(), uid);
        const QJsonArray targets = p.value(QLatin1String("targets")).toArray();
        QVERIFY2(!targets.isEmpty(), qPrintable(title));
        QSet<QString> refIds;
        for (const QJsonValue &t : targets) {
            const QJsonObject target = t.toObject();
            QVERIFY2(!target.value(QLatin1String("expr")).toString().trimmed().isEmpty(), qPrintable(title));
            const QString refId = target.value(QLatin1String("refId")).toString();
            QVERIFY2(!refId.isEmpty() && !refIds.contains(refId), qPrintable(title));
            refIds.insert(refId);
            QCOMPARE(target.value(QLatin1String("datasource")).toObject().value(QLatin1String("uid")).toString(), uid);
            ++queries;
        }
    }
    QVERIFY(queries > 20);
    // The instance selector the queries use.
    const QJsonArray vars = d.value(QLatin1String("templating")).toObject().value(QLatin1String("list")).toArray();
    QCOMPARE(vars.size(), 1);
    QCOMPARE(vars.at(0).toObject().value(QLatin1String("name")).toString(), QStringLiteral("instance"));
}

// A self-signed certificate and key for 127.0.0.1 in dir (cert.pem, key.pem), as cluster.sh makes.
bool makeCertificate(const QString &dir)
{
    const Run r = run(QStringLiteral("openssl"),
                      {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("ec"),
                       QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:prime256v1"),
                       QStringLiteral("-nodes"), QStringLiteral("-days"), QStringLiteral("1"), QStringLiteral("-subj"),
                       QStringLiteral("/CN=localhost"), QStringLiteral("-keyout"), dir + QStringLiteral("/key.pem"),
                       QStringLiteral("-out"), dir + QStringLiteral("/cert.pem")});
    if (r.exitCode != 0)
        qWarning("openssl: %s", qPrintable(r.output));
    return r.exitCode == 0;
}

// nginx accepts the rendered configuration, plain and with TLS; stub_status is for loopback only;
// the TLS listener speaks HTTP/2 with the given pair.
void TestMonitoringFiles::nginxConfig_data()
{
    QTest::addColumn<bool>("tls");
    QTest::newRow("plain") << false;
    QTest::newRow("tls") << true;
}

void TestMonitoringFiles::nginxConfig()
{
    QFETCH(bool, tls);
    TM_REQUIRE_PROGRAM(nginx, "nginx");
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    QStringList args {sourcePath(QStringLiteral("packaging/nginx/render-conf.sh")),
                      QStringLiteral("--standalone"),
                      tmp.path(),
                      QStringLiteral("--listen"),
                      QStringLiteral("127.0.0.1:1"),
                      QStringLiteral("--upstream"),
                      QStringLiteral("127.0.0.1:2")};
    if (tls) {
        TM_REQUIRE_PROGRAM(openssl, "openssl");
        QVERIFY(makeCertificate(tmp.path()));
        args << QStringLiteral("--tls-listen") << QStringLiteral("127.0.0.1:3") << QStringLiteral("--tls-cert")
             << tmp.filePath(QStringLiteral("cert.pem")) << QStringLiteral("--tls-key")
             << tmp.filePath(QStringLiteral("key.pem"));
    }
    const Run render = run(QStringLiteral("bash"), args);
    QVERIFY2(render.exitCode == 0, qPrintable(render.output));
    const Run check = run(nginx,
                          {QStringLiteral("-t"), QStringLiteral("-p"), tmp.path(), QStringLiteral("-c"),
                           tmp.filePath(QStringLiteral("nginx.conf")), QStringLiteral("-e"),
                           tmp.filePath(QStringLiteral("error.log"))});
    QVERIFY2(check.exitCode == 0, qPrintable(check.output));
    QFile conf(tmp.filePath(QStringLiteral("taskmaster.conf")));
    QVERIFY(conf.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(conf.readAll());
    static const QRegularExpression location(
        QStringLiteral(R"(location = /nginx_status \{\s*stub_status;\s*allow 127\.0\.0\.1;\s*allow ::1;\s*deny all;)"));
    QVERIFY2(location.match(text).hasMatch(), qPrintable(text));
    QVERIFY(text.contains(QLatin1String("listen 127.0.0.1:1;")));
    QCOMPARE(text.contains(QLatin1String("listen 127.0.0.1:3 ssl http2;")), tls);
    QCOMPARE(
        text.contains(QStringLiteral("ssl_certificate ") + tmp.filePath(QStringLiteral("cert.pem")) + QLatin1Char(';')),
        tls);
    // Every placeholder filled (the header comment names them).
    for (const QString &line : text.split(QLatin1Char('\n')))
        QVERIFY2(line.trimmed().startsWith(QLatin1Char('#')) || !line.contains(QLatin1String("@@")), qPrintable(line));
}

// render-conf.sh refuses what would make a broken or surprising configuration (exit status 2).
void TestMonitoringFiles::renderRefuses_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentions");
    const QStringList base {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:1"), QStringLiteral("--upstream"),
                            QStringLiteral("127.0.0.1:2")};
    QTest::newRow("no upstream") << QStringList {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:1")}
                                 << QStringLiteral("at least one --upstream");
    QTest::newRow("no listen") << QStringList {QStringLiteral("--upstream"), QStringLiteral("127.0.0.1:2")}
                               << QStringLiteral("--listen is required");
    QTest::newRow("upstream without port") << QStringList {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:1"),
                                                           QStringLiteral("--upstream"), QStringLiteral("10.0.0.1")}
                                           << QStringLiteral("must be HOST:PORT");
    QTest::newRow("tls listen alone") << base
            + QStringList {QStringLiteral("--tls-listen"), QStringLiteral("127.0.0.1:3")}
                                      << QStringLiteral("go together");
    QTest::newRow("tls cert missing") << base
            + QStringList {QStringLiteral("--tls-listen"), QStringLiteral("127.0.0.1:3"),
                           QStringLiteral("--tls-cert"),   QStringLiteral("/nonexistent/c.pem"),
                           QStringLiteral("--tls-key"),    QStringLiteral("/nonexistent/k.pem")}
                                      << QStringLiteral("cannot read");
    QTest::newRow("unknown option") << base + QStringList {QStringLiteral("--tls")}
                                    << QStringLiteral("unknown argument");
}

void TestMonitoringFiles::renderRefuses()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    const Run r = run(QStringLiteral("bash"),
                      QStringList {sourcePath(QStringLiteral("packaging/nginx/render-conf.sh"))} + args);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.output.contains(mentions), qPrintable(r.output));
}

QTEST_GUILESS_MAIN(TestMonitoringFiles)
#include "tst_monitoring_files.moc"
