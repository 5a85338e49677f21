// tm-load through nginx on the 3-instance cluster of scripts/cluster/with-cluster.sh, checked
// exactly against PostgreSQL (tm-load --verify-db): a smoke run (300 users in rooms of 10, a few
// seconds) and the faults of docs/architecture.md "Failure behaviour" during steady traffic: kill -9 of
// an instance, Redis stopped and started again on its port, a rolling restart of every instance.
// Each must end with every connection holding every stored event of its channels exactly once and
// in order, every acknowledged message stored as acknowledged, no stored message unacknowledged or
// stored twice for one clientId, and the clients having reconnected and resumed where the fault
// closed their sockets. The users are seeded once (tokens file) and reused by every run.
// Then scaling out and in under the same traffic: cluster.sh add-instance (a fourth instance joins
// nginx's upstream through a reload) and remove-instance 2 (out of the upstream, then drained): the
// same exact checks, no socket of the other instances dropped by the reloads, and new connections
// reaching the new instance. It runs last (the pool is 1, 3, 4 afterwards).
// And one fault made deterministic: an instance that committed a send and died before publishing
// it; the client resends the same clientId elsewhere, and every subscriber must get the event.
// Thread: the test's thread (tm-load and cluster.sh run as child processes).
#include "server/storage/database_url.h"
#include "server/storage/room_store.h"
#include "tests/support/api_client.h"
#include "tests/support/test_env.h"
#include "tests/support/tool_process.h"
#include "tests/support/ws_client.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlError>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <cstdio>

using namespace taskmaster;
using taskmaster::test::readClusterEnv;
using taskmaster::test::ToolRun;

namespace {

constexpr int kUsers = 300;
constexpr int kRoomSize = 10;

} // namespace

class TestClusterFaults final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void loadSmoke();
    void resendAfterLostPublication();
    void fault_data();
    void fault();
    void scaleOutAndIn();

private:
    ToolRun runLoad(const QStringList &extra, int timeoutMs);
    // The instance numbers in the pool (cluster.env's TM_CLUSTER_MEMBERS).
    [[nodiscard]] QList<int> members() const { return test::clusterMembers(m_dir); }
    bool clusterCommand(const QStringList &args)
    {
        return test::runClusterCommand(QStringLiteral(TM_CLUSTER_SCRIPT), args);
    }
    // Every instance of the pool answers /health/ready with 200.
    bool allReady() { return test::clusterReady(m_dir); }
    // The checks every run must pass, with the run's figures in the message when one fails.
    void checkExact(const ToolRun &r);

    QString m_url;
    QString m_dir;
    QString m_dbUrl;
    QTemporaryDir m_tmp;
    QString m_tokens;
};

void TestClusterFaults::initTestCase()
{
    TM_REQUIRE_CLUSTER(url, "TM_CLUSTER_URL");
    TM_REQUIRE_CLUSTER(dir, "TM_CLUSTER_DIR");
    TM_REQUIRE_CLUSTER(dbUrl, "TM_DATABASE_URL");
    m_url = url;
    m_dir = dir;
    m_dbUrl = dbUrl;
    QVERIFY2(qEnvironmentVariableIntValue("TM_CLUSTER_INSTANCES") == 3, "the fault tests expect 3 instances");
    QVERIFY(m_tmp.isValid());
    m_tokens = m_tmp.filePath(QStringLiteral("tokens.json"));
    QVERIFY(allReady());
}

ToolRun TestClusterFaults::runLoad(const QStringList &extra, int timeoutMs)
{
    const QString json = m_tmp.filePath(QStringLiteral("report.json"));
    QFile::remove(json);
    QStringList args {QStringLiteral("--url"),
                      m_url,
                      QStringLiteral("--tokens"),
                      m_tokens,
                      QStringLiteral("--json"),
                      json,
                      QStringLiteral("--users"),
                      QString::number(kUsers),
                      QStringLiteral("--room-size"),
                      QString::number(kRoomSize),
                      QStringLiteral("--threads"),
                      QStringLiteral("2"),
                      QStringLiteral("--verify-db"),
                      m_dbUrl,
                      QStringLiteral("--seed-concurrency"),
                      QStringLiteral("6"),
                      QStringLiteral("--quiet")};
    // The instances' processes, for RSS and CPU (they change with restarts: read the file now).
    const auto env = readClusterEnv(m_dir);
    for (const int i : members()) {
        const QString pid = env.value(QStringLiteral("TM_INSTANCE_%1_PID").arg(i));
        if (!pid.isEmpty())
            args << QStringLiteral("--server-pid") << pid;
    }
    args += extra;
    return test::runTool(QStringLiteral(TM_LOAD_BINARY), args, json, timeoutMs);
}

void TestClusterFaults::checkExact(const ToolRun &r)
{
    const QJsonObject &j = r.json;
    QVERIFY2(!j.isEmpty(), qPrintable(r.describe()));
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    QCOMPARE(r.field("connections", "connected"), kUsers);
    QCOMPARE(r.field("events", "lost"), 0);
    QCOMPARE(r.field("events", "duplicated"), 0);
    QCOMPARE(r.field("events", "outOfOrder"), 0);
    QCOMPARE(r.field("events", "undecodable"), 0);
    const qint64 sent = r.field("messages", "sent");
    QVERIFY2(sent > 100, qPrintable(r.describe()));
    QCOMPARE(r.field("messages", "acked"), sent);
    QCOMPARE(r.field("messages", "sendErrors"), 0);
    QVERIFY(j.value(QLatin1String("phases")).toObject().value(QLatin1String("drained")).toBool());
    // The database check ran over every connection's streams and found nothing wrong.
    const QJsonObject v = j.value(QLatin1String("verification")).toObject();
    QVERIFY2(v.value(QLatin1String("ran")).toBool(), qPrintable(r.describe()));
    QCOMPARE(v.value(QLatin1String("channels")).toInteger(), kUsers / kRoomSize);
    QCOMPARE(v.value(QLatin1String("streams")).toInteger(), kUsers); // one room each
    QCOMPARE(v.value(QLatin1String("problems")).toInteger(), 0);
    QCOMPARE(v.value(QLatin1String("missing")).toInteger(), 0);
    QCOMPARE(v.value(QLatin1String("phantom")).toInteger(), 0);
    QCOMPARE(v.value(QLatin1String("seqHoles")).toInteger(), 0);
    QCOMPARE(v.value(QLatin1String("acked")).toInteger(), sent); // one distinct clientId per send
    QCOMPARE(v.value(QLatin1String("stored")).toInteger(), sent);
    QCOMPARE(v.value(QLatin1String("storedTwice")).toInteger(), 0);
    QCOMPARE(v.value(QLatin1String("storedNotAcked")).toInteger(), 0);
    // Every stored event of the run's rooms after a connection's welcome reached it: at least the
    // run's messages, ten connections each.
    QVERIFY2(v.value(QLatin1String("expected")).toInteger() >= sent * kRoomSize, qPrintable(r.describe()));
}

void TestClusterFaults::loadSmoke()
{
    const ToolRun r
        = runLoad({QStringLiteral("--rate"), QStringLiteral("150"), QStringLiteral("--duration"), QStringLiteral("4"),
                   QStringLiteral("--warmup"), QStringLiteral("1"), QStringLiteral("--drain"), QStringLiteral("20"),
                   QStringLiteral("--max-p99-ms"), QStringLiteral("2000")},
                  180000);
    checkExact(r);
    const QJsonObject &j = r.json;
    // No fault: nobody was disconnected, and the connections spread over all three instances.
    QCOMPARE(r.field("connections", "disconnects"), 0);
    QCOMPARE(r.field("connections", "reconnects"), 0);
    const QJsonObject instances
        = j.value(QLatin1String("connections")).toObject().value(QLatin1String("welcomesByInstance")).toObject();
    QCOMPARE(instances.size(), 3);
    for (const QJsonValue &n : instances)
        QVERIFY2(n.toInteger() >= kUsers / 6, qPrintable(r.describe()));
    // Every acknowledged message reached the nine other members, most through another instance.
    const qint64 acked = r.field("messages", "acked");
    QCOMPARE(r.field("events", "fanoutDelivered"), acked * (kRoomSize - 1));
    const QJsonObject delivery
        = j.value(QLatin1String("latencyMs")).toObject().value(QLatin1String("delivery")).toObject();
    const double p50 = delivery.value(QLatin1String("p50")).toDouble(-1);
    const double p99 = delivery.value(QLatin1String("p99")).toDouble(-1);
    QVERIFY2(p50 > 0 && p50 <= p99 && p99 <= 2000, qPrintable(r.describe()));
    const QJsonArray servers = j.value(QLatin1String("servers")).toArray();
    QCOMPARE(servers.size(), 3);
    for (const QJsonValue &s : servers)
        QVERIFY(s.toObject().value(QLatin1String("rssMaxBytes")).toInteger() > 1024 * 1024);
}

void TestClusterFaults::resendAfterLostPublication()
{
    test::ApiClient api {QUrl(m_url)};
    const QString tag = QUuid::createUuid().toString(QUuid::Id128).left(8);
    const auto [aliceId, alice] = api.registerUser(QStringLiteral("alice") + tag);
    const auto [bobId, bob] = api.registerUser(QStringLiteral("bob") + tag);
    QVERIFY(aliceId > 0 && bobId > 0);
    const test::ApiReply room = api.post(QStringLiteral("/api/v1/rooms"),
                                         {{QStringLiteral("name"), QString(QStringLiteral("lost-") + tag)},
                                          {QStringLiteral("memberIds"), QJsonArray {QJsonValue(bobId)}}},
                                         alice);
    QCOMPARE(room.status, 201);
    const Id roomId = room.json().value(QLatin1String("id")).toInteger();
    const Channel ch = Channel::room(roomId);
    const QUrl ws(qEnvironmentVariable("TM_CLUSTER_WS_URL")); // ws://nginx/ws
    test::WsClient b;
    const auto welcome = b.connectAs(ws, bob);
    QVERIFY(welcome.has_value());
    const Seq before = welcome->channels.value(ch, -1);
    QVERIFY(before >= 0);

    // An instance commits alice's send and dies before publishing it (and before the ack): the
    // row is in the database, no instance heard of it.
    const QString clientId = QStringLiteral("lost-") + tag;
    {
        const auto url = server::parseDatabaseUrl(m_dbUrl);
        QVERIFY(url.ok());
        const QString name = QStringLiteral("lost-publication");
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
            db.setHostName(url->host);
            db.setPort(url->port);
            db.setUserName(url->user);
            db.setDatabaseName(url->database);
            QVERIFY2(db.open(), qPrintable(db.lastError().text()));
            const auto stored = server::store::insertMessages(
                db,
                {server::store::NewMessage {roomId, aliceId, QStringLiteral("committed, never published"), clientId}},
                QDateTime::currentMSecsSinceEpoch());
            QVERIFY(stored.ok() && stored->size() == 1 && stored->at(0).ok());
            QCOMPARE(stored->at(0)->message.seq, before + 1);
            db.close();
        }
        QSqlDatabase::removeDatabase(name);
    }

    // alice's client never got the ack: it reconnects (through nginx, to any instance) and sends
    // again with the same clientId. The answer is the stored message, and bob, connected all
    // along, must now get its event: the room stays quiet, so no later event reveals the gap.
    test::WsClient a;
    QVERIFY(a.connectAs(ws, alice).has_value());
    a.send(ws::Send {1, roomId, QStringLiteral("committed, never published"), clientId});
    const auto ack = a.take<ws::Ack>([](const ws::Ack &x) { return x.id == 1; });
    QVERIFY(ack.has_value());
    QCOMPARE(ack->message.seq, before + 1);
    QVERIFY2(b.waitForEvents(ch, 1, 10000), "bob never got the event of the message resent after the lost publication");
    QCOMPARE(b.events(ch).constFirst().seq, before + 1);
    QCOMPARE(b.events(ch).constFirst().message->id, ack->message.id);

    // Resending again changes nothing for bob: the next new message is the next event he sees.
    a.send(ws::Send {2, roomId, QStringLiteral("committed, never published"), clientId});
    QVERIFY(a.take<ws::Ack>([](const ws::Ack &x) { return x.id == 2; }).has_value());
    a.send(ws::Send {3, roomId, QStringLiteral("after"), QStringLiteral("after-") + tag});
    QVERIFY(a.take<ws::Ack>([](const ws::Ack &x) { return x.id == 3; }).has_value());
    QVERIFY(b.waitForEvents(ch, 2, 10000));
    const QList<ChannelEvent> seen = b.events(ch);
    QCOMPARE(seen.size(), 2);
    QCOMPARE(seen.at(1).seq, before + 2);
    QCOMPARE(seen.at(1).message->body, QStringLiteral("after"));
}

void TestClusterFaults::fault_data()
{
    QTest::addColumn<QStringList>("command"); // cluster.sh arguments
    QTest::addColumn<bool>("socketsClosed"); // the fault closes client sockets (they must resume)
    QTest::newRow("kill -9 of an instance")
        << QStringList {QStringLiteral("kill-instance"), QStringLiteral("2")} << true;
    QTest::newRow("Redis restarted") << QStringList {QStringLiteral("restart-redis")} << false;
    QTest::newRow("rolling restart") << QStringList {QStringLiteral("rolling-restart")} << true;
}

void TestClusterFaults::fault()
{
    QFETCH(QStringList, command);
    QFETCH(bool, socketsClosed);
    QVERIFY(allReady());
    QString shell = QStringLiteral("bash '%1'").arg(QStringLiteral(TM_CLUSTER_SCRIPT));
    for (const QString &a : std::as_const(command))
        shell += QLatin1Char(' ') + a;
    const ToolRun r = runLoad({QStringLiteral("--rate"), QStringLiteral("150"), QStringLiteral("--duration"),
                               QStringLiteral("5"), QStringLiteral("--warmup"), QStringLiteral("0.5"),
                               QStringLiteral("--drain"), QStringLiteral("30"), QStringLiteral("--fault-command"),
                               shell, QStringLiteral("--fault-at"), QStringLiteral("2"), QStringLiteral("--fault-tail"),
                               QStringLiteral("3"), QStringLiteral("--max-run"), QStringLiteral("200")},
                              240000);
    // Put the cluster back together for the next row before judging this one.
    if (command.constFirst() == QLatin1String("kill-instance"))
        QVERIFY(clusterCommand({QStringLiteral("start-instance"), command.at(1)}));
    QVERIFY(QTest::qWaitFor([this] { return allReady(); }, 60000));

    const QJsonObject &j = r.json;
    const QJsonObject fault = j.value(QLatin1String("fault")).toObject();
    QVERIFY2(fault.value(QLatin1String("started")).toBool(), qPrintable(r.describe()));
    if (fault.value(QLatin1String("exitCode")).toInt(-1) != 0) {
        // QtTest shortens long messages: the command's own output first, everything on stderr.
        std::fprintf(stderr, "fault command output:\n%s\n%s\n",
                     qPrintable(fault.value(QLatin1String("output")).toString()), qPrintable(r.describe()));
    }
    QVERIFY2(
        fault.value(QLatin1String("exitCode")).toInt(-1) == 0,
        qPrintable(QStringLiteral("the fault command failed: ") + fault.value(QLatin1String("output")).toString()));
    // Sending went on through the fault and after it.
    const double endedAt = fault.value(QLatin1String("endedAt")).toDouble(-1);
    QVERIFY2(endedAt >= 2, qPrintable(r.describe()));
    checkExact(r);
    const qint64 reconnects = r.field("connections", "reconnects");
    if (socketsClosed) {
        // The clients of the killed or restarted instances came back through nginx and resumed.
        QVERIFY2(r.field("connections", "disconnects") > 0, qPrintable(r.describe()));
        QVERIFY2(reconnects > 0, qPrintable(r.describe()));
        // Each reconnect's time (lost while open to welcome again) is measured once.
        const QJsonObject back
            = r.json.value(QLatin1String("latencyMs")).toObject().value(QLatin1String("reconnect")).toObject();
        QCOMPARE(back.value(QLatin1String("count")).toInteger(-1), reconnects);
        QVERIFY2(back.value(QLatin1String("max")).toDouble() > 0, qPrintable(r.describe()));
    } else {
        // Redis is not on the clients' path: their sockets stay open.
        QCOMPARE(r.field("connections", "disconnects"), 0);
        QCOMPARE(reconnects, 0);
    }
}

// Scaling out and in during steady traffic: a new instance (tm-4) is started and added to nginx's
// upstream, then tm-2 is taken out of it and drained. Zero lost, duplicated or reordered events
// (the exact checks), only tm-2's sockets closed and those with 1001 (the reloads dropped none),
// and the clients that came back reached the new instance.
void TestClusterFaults::scaleOutAndIn()
{
    QVERIFY(allReady());
    QCOMPARE(members(), (QList<int> {1, 2, 3}));
    const QString script = QStringLiteral("bash '%1'").arg(QStringLiteral(TM_CLUSTER_SCRIPT));
    const ToolRun r
        = runLoad({QStringLiteral("--rate"), QStringLiteral("150"), QStringLiteral("--duration"), QStringLiteral("5"),
                   QStringLiteral("--warmup"), QStringLiteral("0.5"), QStringLiteral("--drain"), QStringLiteral("30"),
                   QStringLiteral("--fault-command"),
                   script + QStringLiteral(" add-instance && ") + script + QStringLiteral(" remove-instance 2"),
                   QStringLiteral("--fault-at"), QStringLiteral("1.5"), QStringLiteral("--fault-tail"),
                   QStringLiteral("3"), QStringLiteral("--max-run"), QStringLiteral("200")},
                  240000);
    const QJsonObject fault = r.json.value(QLatin1String("fault")).toObject();
    if (fault.value(QLatin1String("exitCode")).toInt(-1) != 0)
        std::fprintf(stderr, "scale command output:\n%s\n%s\n",
                     qPrintable(fault.value(QLatin1String("output")).toString()), qPrintable(r.describe()));
    QVERIFY2(fault.value(QLatin1String("exitCode")).toInt(-1) == 0,
             qPrintable(QStringLiteral("add/remove failed: ") + fault.value(QLatin1String("output")).toString()));
    QVERIFY2(fault.value(QLatin1String("endedAt")).toDouble(-1) >= 1.5, qPrintable(r.describe()));
    checkExact(r);

    // The pool is 1, 3, 4; nginx names exactly those; tm-2 is gone, everyone ready.
    QCOMPARE(members(), (QList<int> {1, 3, 4}));
    QVERIFY(allReady());
    const auto env = readClusterEnv(m_dir);
    QFile conf(m_dir + QStringLiteral("/nginx/taskmaster.conf"));
    QVERIFY(conf.open(QIODevice::ReadOnly));
    const QByteArray text = conf.readAll();
    QCOMPARE(text.count("    server 127.0.0.1:"), 3);
    for (const int i : {1, 3, 4}) {
        const QByteArray address = QUrl(env.value(QStringLiteral("TM_INSTANCE_%1_URL").arg(i))).authority().toUtf8();
        QVERIFY2(!address.isEmpty() && text.contains(QByteArray("server " + address + ' ')), text.constData());
    }
    QVERIFY(!env.contains(QStringLiteral("TM_INSTANCE_2_URL")));

    // Only tm-2's sockets were closed, each with 1001 after its reconnect frame: the two reloads
    // of nginx dropped no tunnel to tm-1 or tm-3 (that would show as more closes, or as 1006).
    const QJsonObject connections = r.json.value(QLatin1String("connections")).toObject();
    const QJsonObject welcomes = connections.value(QLatin1String("welcomesByInstance")).toObject();
    const qint64 disconnects = r.field("connections", "disconnects");
    QVERIFY2(disconnects > 0, qPrintable(r.describe()));
    QVERIFY2(disconnects <= welcomes.value(QLatin1String("tm-2")).toInteger(), qPrintable(r.describe()));
    const QJsonObject codes = connections.value(QLatin1String("closeCodes")).toObject();
    QCOMPARE(codes.keys(), QStringList {QStringLiteral("1001")});
    QCOMPARE(codes.value(QLatin1String("1001")).toInteger(), disconnects);
    QCOMPARE(r.field("connections", "reconnects"), disconnects);
    // The new instance took connections: tm-2's clients came back through nginx, some to tm-4.
    QVERIFY2(welcomes.value(QLatin1String("tm-4")).toInteger() > 0, qPrintable(r.describe()));
}

QTEST_GUILESS_MAIN(TestClusterFaults)
#include "tst_cluster_faults.moc"
