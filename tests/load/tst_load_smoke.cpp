// tm-load against the real taskmaster-server, on SQLite and on PostgreSQL: 50 users in rooms of
// 10 send for a few seconds; the run must pass with zero lost, duplicated or reordered events and
// sane figures, and its JSON must agree with itself (every ack'd message reaches the 9 other
// members). A second run reuses the tokens file and misses an impossible threshold (exit 1); an
// idle run reports the server's RSS per connection; a non-loopback target is refused (exit 2).
// The first run also reports the server's CPU cost per unit of work over the measured window and
// per-second periods (--period-seconds) with its open descriptors.
#include "tests/support/server_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"
#include "tests/support/tool_process.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using taskmaster::test::runTool;
using taskmaster::test::ServerProcess;
using taskmaster::test::ToolRun;

namespace {

double latency(const QJsonObject &o, const char *which, const char *name)
{
    return o.value(QLatin1String("latencyMs"))
        .toObject()
        .value(QLatin1String(which))
        .toObject()
        .value(QLatin1String(name))
        .toDouble(-1);
}

} // namespace

class TestLoadSmoke final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void refusesNonLoopback_data();
    void refusesNonLoopback();
    void smoke_data();
    void smoke();
};

void TestLoadSmoke::refusesNonLoopback_data()
{
    QTest::addColumn<QString>("url");
    QTest::newRow("private address") << "http://10.1.2.3:8080";
    QTest::newRow("host name") << "http://example.org";
}

void TestLoadSmoke::refusesNonLoopback()
{
    QFETCH(QString, url);
    const ToolRun r
        = runTool(QStringLiteral(TM_LOAD_BINARY),
                  {QStringLiteral("--url"), url, QStringLiteral("--users"), QStringLiteral("1")}, {}, 20000);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("loopback"), r.err.constData());
}

void TestLoadSmoke::smoke_data()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite") << "sqlite";
    QTest::newRow("postgres") << "postgres";
}

void TestLoadSmoke::smoke()
{
    QFETCH(QString, backend);
    QStringList serverArgs;
    if (backend == QLatin1String("postgres")) {
        TM_REQUIRE_SERVICE(pgUrl, "TM_TEST_DATABASE_URL");
        serverArgs << QStringLiteral("--database-url") << taskmaster::test::freshPostgresUrl(pgUrl);
    }
    ServerProcess server;
    QVERIFY2(server.start(serverArgs), qPrintable(server.errorText()));
    const QString pid = QString::number(server.process().processId());
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString tokens = dir.filePath(QStringLiteral("tokens.json"));
    const QString json = dir.filePath(QStringLiteral("report.json"));
    const QStringList common {QStringLiteral("--url"),        server.url().toString(),
                              QStringLiteral("--tokens"),     tokens,
                              QStringLiteral("--json"),       json,
                              QStringLiteral("--server-pid"), pid,
                              QStringLiteral("--threads"),    QStringLiteral("2")};

    // 1. 50 users, rooms of 10, 100 messages/s for 2.5 s (0.5 s of warm-up).
    const int rate = 100;
    const double duration = 2.5;
    ToolRun r
        = runTool(QStringLiteral(TM_LOAD_BINARY),
                  common
                      + QStringList {QStringLiteral("--users"), QStringLiteral("50"), QStringLiteral("--room-size"),
                                     QStringLiteral("10"), QStringLiteral("--rate"), QString::number(rate),
                                     QStringLiteral("--duration"), QString::number(duration),
                                     QStringLiteral("--warmup"), QStringLiteral("0.5"), QStringLiteral("--drain"),
                                     QStringLiteral("15"), QStringLiteral("--max-p99-ms"), QStringLiteral("5000"),
                                     QStringLiteral("--period-seconds"), QStringLiteral("1")},
                  json);
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe(3000)));
    const QJsonObject &j = r.json;
    QCOMPARE(j.value(QLatin1String("result")).toObject().value(QLatin1String("passed")).toBool(), true);
    QCOMPARE(r.field("connections", "connected"), 50);
    QCOMPARE(r.field("connections", "failures"), 0);
    QCOMPARE(r.field("connections", "disconnects"), 0);
    QCOMPARE(r.field("config", "rooms"), 5);
    QCOMPARE(r.field("events", "lost"), 0);
    QCOMPARE(r.field("events", "duplicated"), 0);
    QCOMPARE(r.field("events", "outOfOrder"), 0);
    QCOMPARE(r.field("events", "undecodable"), 0);
    const qint64 sent = r.field("messages", "sent");
    const qint64 acked = r.field("messages", "acked");
    QVERIFY2(sent >= qint64(rate * duration / 2), qPrintable(r.describe(3000))); // the schedule was roughly kept
    QVERIFY2(sent <= qint64(rate * (duration + 0.5)) + 2, qPrintable(r.describe(3000)));
    QCOMPARE(acked, sent);
    QCOMPARE(r.field("messages", "sendErrors"), 0);
    QCOMPARE(j.value(QLatin1String("phases")).toObject().value(QLatin1String("drained")).toBool(), true);
    // Every ack'd message is one durable event for each of the 10 members' connections, and
    // reaches the 9 others as a measured fan-out.
    QCOMPARE(r.field("events", "expected"), acked * 10);
    QCOMPARE(r.field("events", "delivered"), acked * 10);
    QCOMPARE(r.field("events", "fanoutDelivered"), acked * 9);
    const double p50 = latency(j, "delivery", "p50");
    const double p99 = latency(j, "delivery", "p99");
    const double max = latency(j, "delivery", "max");
    QVERIFY(latency(j, "delivery", "count") >= double(r.field("messages", "sentMeasured")) * 9 * 0.99);
    QVERIFY2(p50 > 0 && p50 <= p99 && p99 <= max && max < 5000, qPrintable(r.describe(3000)));
    QVERIFY(latency(j, "ack", "p50") > 0);
    const QJsonObject srv = j.value(QLatin1String("servers")).toArray().at(0).toObject();
    QCOMPARE(srv.value(QLatin1String("pid")).toInteger(), pid.toLongLong());
    QVERIFY(srv.value(QLatin1String("rssMaxBytes")).toInteger() > 1024 * 1024);
    QVERIFY(srv.value(QLatin1String("loadCpuPercent")).toDouble(-1) >= 0);
    QVERIFY(!j.value(QLatin1String("timeline")).toArray().isEmpty());
    QVERIFY2(r.out.contains("result       PASS"), r.out.constData());
    // The cost per unit of work: the window's counts match the measured sends, the deliveries
    // are the 10 members' of each, and the server's CPU is divided by them.
    const QJsonObject cost = j.value(QLatin1String("cost")).toObject();
    const qint64 windowSent = cost.value(QLatin1String("windowSent")).toInteger();
    const qint64 measured = r.field("messages", "sentMeasured");
    QVERIFY2(windowSent >= measured - 5 && windowSent <= measured + 5, qPrintable(r.describe(3000)));
    QVERIFY2(cost.value(QLatin1String("windowDelivered")).toInteger() >= windowSent * 10 - 100,
             qPrintable(r.describe(3000)));
    const QJsonObject serverCost = cost.value(QLatin1String("servers")).toObject();
    QCOMPARE(serverCost.value(QLatin1String("complete")).toBool(), true);
    const double cpu = serverCost.value(QLatin1String("cpuSeconds")).toDouble(-1);
    QVERIFY(cpu >= 0);
    QCOMPARE(serverCost.value(QLatin1String("per1000Messages")).toDouble(), cpu * 1000.0 / double(windowSent));
    QVERIFY2(r.out.contains("cost         in the measured window"), r.out.constData());
    // Periods of 1 s over the 3 s of sending: together they hold (nearly) every send.
    const QJsonArray periods = j.value(QLatin1String("periods")).toArray();
    QVERIFY2(periods.size() >= 2 && periods.size() <= 3, qPrintable(r.describe(3000)));
    qint64 periodSent = 0;
    for (const QJsonValue &v : periods) {
        const QJsonObject p = v.toObject();
        periodSent += p.value(QLatin1String("sent")).toInteger();
        const QJsonObject s = p.value(QLatin1String("servers")).toArray().at(0).toObject();
        QVERIFY2(s.value(QLatin1String("openFds")).toInteger() > 50, qPrintable(r.describe(3000))); // 50 sockets
        QVERIFY(s.value(QLatin1String("rssBytes")).toInteger() > 1024 * 1024);
    }
    QVERIFY2(periodSent >= sent - 2 && periodSent <= sent, qPrintable(r.describe(3000)));
    QVERIFY(
        periods.last().toObject().value(QLatin1String("delivery")).toObject().value(QLatin1String("count")).toInteger()
        > 0);

    // 2. The tokens file is reused (nobody registers again) and an impossible p99 fails the run.
    r = runTool(QStringLiteral(TM_LOAD_BINARY),
                common
                    + QStringList {QStringLiteral("--users"), QStringLiteral("50"), QStringLiteral("--room-size"),
                                   QStringLiteral("10"), QStringLiteral("--rate"), QStringLiteral("50"),
                                   QStringLiteral("--duration"), QStringLiteral("1"), QStringLiteral("--warmup"),
                                   QStringLiteral("0"), QStringLiteral("--drain"), QStringLiteral("15"),
                                   QStringLiteral("--max-p99-ms"), QStringLiteral("0.000001")},
                json);
    QVERIFY2(r.exitCode == 1, qPrintable(r.describe(3000)));
    QVERIFY2(!r.err.contains("registered"), r.err.constData());
    QVERIFY2(r.field("events", "lost") == 0, qPrintable(r.describe(3000)));
    const QJsonArray failures
        = r.json.value(QLatin1String("result")).toObject().value(QLatin1String("failures")).toArray();
    QVERIFY2(failures.size() == 1 && failures.at(0).toString().contains(QLatin1String("p99")),
             qPrintable(r.describe(3000)));

    // 3. Idle: 40 connections (users reused round-robin), RSS per connection reported.
    r = runTool(QStringLiteral(TM_LOAD_BINARY),
                common
                    + QStringList {QStringLiteral("--users"), QStringLiteral("20"), QStringLiteral("--idle"),
                                   QStringLiteral("40"), QStringLiteral("--duration"), QStringLiteral("1")},
                json);
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe(3000)));
    const QJsonObject idle = r.json.value(QLatin1String("idle")).toObject();
    QVERIFY2(idle.value(QLatin1String("connections")).toInteger() == 40, qPrintable(r.describe(3000)));
    QVERIFY(idle.value(QLatin1String("rssAfterBytes")).toInteger() > 0);
    QVERIFY(idle.value(QLatin1String("kbPerConnection")).isDouble());

    QCOMPARE(server.stop(), 0);
}

QTEST_GUILESS_MAIN(TestLoadSmoke)
#include "tst_load_smoke.moc"
