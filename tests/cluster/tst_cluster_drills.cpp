// The fault drills of issue 15 ("faults not yet drilled"), each during tm-load traffic through
// nginx on the 3-instance cluster of scripts/cluster/with-cluster.sh, with PostgreSQL running
// durable (TM_PG_DURABLE=1: fsync, synchronous_commit and full_page_writes on, as in production)
// and checked exactly against it afterwards (tm-load --verify-db):
//   PostgreSQL killed   pg_ctl -m immediate (a crash) and started again: every acknowledged message
//                       is stored as acknowledged, nothing the database lacks was delivered, and a
//                       send whose ack was lost with the database (an error frame) may be stored
//                       only if its event then reached every connection (--unacked-may-be-stored)
//   nginx restarted     every client loses its socket and comes back, resuming where it was
//   Redis down 30 s     the instances serve their own clients on, and catch up from the database
//   tm-3 cut off Redis  tm-3 reaches Redis through tm-tcp-proxy (cluster.sh proxy-redis), whose
//                       link is cut for 8 s while tm-1 and tm-2 keep Redis: tm-3's clients miss
//                       no event, on either side
// Then the REST cache across the cut: tm-3 cut off must not answer from the cache values that
// writes on the other instances made stale; what it wrote meanwhile is answered stale by the others
// until it reaches Redis again (a known limitation, an expected failure here), then by nobody.
// Thread: the test's thread (tm-load, cluster.sh and tm-tcp-proxy run as child processes).
#include "server/storage/database_url.h"
#include "tests/support/api_client.h"
#include "tests/support/test_env.h"
#include "tests/support/tool_process.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <cstdio>

using namespace taskmaster;
using taskmaster::test::readClusterEnv;
using taskmaster::test::ToolRun;

namespace {

constexpr int kUsers = 300;
constexpr int kRoomSize = 10;
constexpr int kCutInstance = 3;

enum class Drill { Postgres, Nginx, Redis, CutOff };

} // namespace

Q_DECLARE_METATYPE(Drill)

class TestClusterDrills final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void drill_data();
    void drill();
    void cutOffInstanceAndTheCache();

private:
    ToolRun runLoad(const QStringList &extra, int timeoutMs);
    bool clusterCommand(const QStringList &args)
    {
        return test::runClusterCommand(QStringLiteral(TM_CLUSTER_SCRIPT), args);
    }
    bool allReady() { return test::clusterReady(m_dir); }
    // One PostgreSQL setting (SHOW), on a connection of its own closed again at once.
    QString pgSetting(const QString &name);
    // The `redis` check of instance i's readiness ("ok", "down"; empty without an answer).
    QString redisCheck(int instance);
    [[nodiscard]] QUrl instanceUrl(int i) const
    {
        return QUrl(readClusterEnv(m_dir).value(QStringLiteral("TM_INSTANCE_%1_URL").arg(i)));
    }

    QString m_url;
    QString m_dir;
    QString m_dbUrl;
    QTemporaryDir m_tmp;
    QString m_tokens;
};

void TestClusterDrills::initTestCase()
{
    TM_REQUIRE_CLUSTER(url, "TM_CLUSTER_URL");
    TM_REQUIRE_CLUSTER(dir, "TM_CLUSTER_DIR");
    TM_REQUIRE_CLUSTER(dbUrl, "TM_DATABASE_URL");
    m_url = url;
    m_dir = dir;
    m_dbUrl = dbUrl;
    QVERIFY2(qEnvironmentVariableIntValue("TM_CLUSTER_INSTANCES") == 3, "the drills expect 3 instances");
    QVERIFY(m_tmp.isValid());
    m_tokens = m_tmp.filePath(QStringLiteral("tokens.json"));
    // Durable as in production: what it acknowledged survives a crash.
    for (const char *s : {"fsync", "synchronous_commit", "full_page_writes"})
        QCOMPARE(pgSetting(QLatin1String(s)), QStringLiteral("on"));
    // tm-3 reaches Redis through a proxy whose link the cut-off drill cuts.
    QVERIFY(clusterCommand({QStringLiteral("proxy-redis"), QString::number(kCutInstance)}));
    QVERIFY(QTest::qWaitFor([this] { return allReady() && redisCheck(kCutInstance) == QLatin1String("ok"); }, 60000));
}

QString TestClusterDrills::pgSetting(const QString &name)
{
    const auto url = server::parseDatabaseUrl(m_dbUrl);
    if (!url.ok())
        return {};
    const QString connection = QStringLiteral("drills-settings");
    QString value;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), connection);
        db.setHostName(url->host);
        db.setPort(url->port);
        db.setUserName(url->user);
        db.setDatabaseName(url->database);
        if (db.open()) {
            QSqlQuery q(db);
            if (q.exec(QStringLiteral("SHOW ") + name) && q.next())
                value = q.value(0).toString();
            else
                qWarning("SHOW %s: %s", qPrintable(name), qPrintable(q.lastError().text()));
        } else {
            qWarning("cannot connect: %s", qPrintable(db.lastError().text()));
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(connection);
    return value;
}

QString TestClusterDrills::redisCheck(int instance)
{
    QNetworkAccessManager nam;
    QUrl url = instanceUrl(instance);
    url.setPath(QStringLiteral("/health/ready"));
    QNetworkRequest request(url);
    request.setTransferTimeout(3000);
    QNetworkReply *reply = nam.get(request);
    if (!QTest::qWaitFor([reply] { return reply->isFinished(); }, 5000)) {
        reply->abort();
        reply->deleteLater();
        return {};
    }
    const QJsonObject body = QJsonDocument::fromJson(reply->readAll()).object();
    reply->deleteLater();
    return body.value(QLatin1String("checks")).toObject().value(QLatin1String("redis")).toString();
}

ToolRun TestClusterDrills::runLoad(const QStringList &extra, int timeoutMs)
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
    args += extra;
    return test::runTool(QStringLiteral(TM_LOAD_BINARY), args, json, timeoutMs);
}

void TestClusterDrills::drill_data()
{
    QTest::addColumn<Drill>("drill");
    QTest::addColumn<QStringList>("command"); // cluster.sh arguments
    QTest::newRow("PostgreSQL killed and restarted")
        << Drill::Postgres << QStringList {QStringLiteral("restart-postgres")};
    QTest::newRow("nginx restarted") << Drill::Nginx << QStringList {QStringLiteral("restart-nginx")};
    QTest::newRow("Redis down for 30 s") << Drill::Redis
                                         << QStringList {QStringLiteral("restart-redis"), QStringLiteral("30")};
    QTest::newRow("tm-3 cut off Redis for 8 s")
        << Drill::CutOff
        << QStringList {QStringLiteral("cut-redis"), QString::number(kCutInstance), QStringLiteral("8")};
}

void TestClusterDrills::drill()
{
    QFETCH(Drill, drill);
    QFETCH(QStringList, command);
    QVERIFY(allReady());
    const QString pgPidBefore = readClusterEnv(m_dir).value(QStringLiteral("TM_PG_PID"));
    QString shell = QStringLiteral("bash '%1'").arg(QStringLiteral(TM_CLUSTER_SCRIPT));
    for (const QString &a : std::as_const(command))
        shell += QLatin1Char(' ') + a;
    QStringList extra {QStringLiteral("--rate"),          QStringLiteral("150"),
                       QStringLiteral("--duration"),      QStringLiteral("5"),
                       QStringLiteral("--warmup"),        QStringLiteral("0.5"),
                       QStringLiteral("--drain"),         QStringLiteral("40"),
                       QStringLiteral("--fault-command"), shell,
                       QStringLiteral("--fault-at"),      QStringLiteral("2"),
                       QStringLiteral("--fault-tail"),    QStringLiteral("3"),
                       QStringLiteral("--max-run"),       QStringLiteral("200")};
    if (drill == Drill::Postgres)
        extra << QStringLiteral("--unacked-may-be-stored");
    const ToolRun r = runLoad(extra, 240000);
    // The cluster whole again for the next row before judging this one.
    QVERIFY(QTest::qWaitFor([this] { return allReady(); }, 60000));
    if (drill == Drill::CutOff)
        QVERIFY(QTest::qWaitFor([this] { return redisCheck(kCutInstance) == QLatin1String("ok"); }, 30000));

    const QJsonObject &j = r.json;
    QVERIFY2(!j.isEmpty(), qPrintable(r.describe()));
    const QJsonObject fault = j.value(QLatin1String("fault")).toObject();
    if (fault.value(QLatin1String("exitCode")).toInt(-1) != 0 || r.exitCode != 0) {
        // QtTest shortens long messages: the command's own output and the report on stderr.
        std::fprintf(stderr, "fault command output:\n%s\n%s\n",
                     qPrintable(fault.value(QLatin1String("output")).toString()), qPrintable(r.describe()));
    }
    QVERIFY2(
        fault.value(QLatin1String("exitCode")).toInt(-1) == 0,
        qPrintable(QStringLiteral("the fault command failed: ") + fault.value(QLatin1String("output")).toString()));
    QVERIFY2(fault.value(QLatin1String("endedAt")).toDouble(-1) >= 2, qPrintable(r.describe()));
    // tm-load's own verdict: every threshold met (nothing lost, duplicated, reordered; every send
    // answered; the database check clean).
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    QCOMPARE(r.field("connections", "connected"), kUsers);
    QCOMPARE(r.field("events", "lost"), 0);
    QCOMPARE(r.field("events", "duplicated"), 0);
    QCOMPARE(r.field("events", "outOfOrder"), 0);
    QCOMPARE(r.field("events", "undecodable"), 0);
    QVERIFY(j.value(QLatin1String("phases")).toObject().value(QLatin1String("drained")).toBool());
    const qint64 sent = r.field("messages", "sent");
    const qint64 acked = r.field("messages", "acked");
    const qint64 sendErrors = r.field("messages", "sendErrors");
    QVERIFY2(sent > 100, qPrintable(r.describe()));
    QCOMPARE(acked + sendErrors, sent); // every send answered
    const QJsonObject v = j.value(QLatin1String("verification")).toObject();
    QVERIFY2(v.value(QLatin1String("ran")).toBool(), qPrintable(r.describe()));
    QCOMPARE(v.value(QLatin1String("channels")).toInteger(), kUsers / kRoomSize);
    QCOMPARE(v.value(QLatin1String("streams")).toInteger(), kUsers);
    QCOMPARE(v.value(QLatin1String("problems")).toInteger(), 0);
    QCOMPARE(v.value(QLatin1String("missing")).toInteger(), 0);
    QCOMPARE(v.value(QLatin1String("phantom")).toInteger(), 0);
    QCOMPARE(v.value(QLatin1String("seqHoles")).toInteger(), 0);
    QCOMPARE(v.value(QLatin1String("ackedMissing")).toInteger(), 0);
    QCOMPARE(v.value(QLatin1String("ackMismatch")).toInteger(), 0);
    QCOMPARE(v.value(QLatin1String("storedTwice")).toInteger(), 0);
    QCOMPARE(v.value(QLatin1String("storedNotAcked")).toInteger(), 0);
    QCOMPARE(v.value(QLatin1String("acked")).toInteger(), acked); // one distinct clientId per send
    const qint64 unackedStored = v.value(QLatin1String("storedUnackedAllowed")).toInteger();
    QCOMPARE(v.value(QLatin1String("stored")).toInteger(), acked + unackedStored);

    const qint64 disconnects = r.field("connections", "disconnects");
    const qint64 reconnects = r.field("connections", "reconnects");
    switch (drill) {
    case Drill::Postgres:
        // It really crashed and came back: another postmaster. Sends while it was down were
        // answered with errors; at most those are stored without an ack.
        QVERIFY(readClusterEnv(m_dir).value(QStringLiteral("TM_PG_PID")) != pgPidBefore);
        QVERIFY2(unackedStored <= sendErrors, qPrintable(r.describe()));
        // The database is not on the clients' path to the instances: their sockets stay open.
        QCOMPARE(disconnects, 0);
        qInfo("PostgreSQL drill: %lld sent, %lld acknowledged, %lld answered with an error, %lld of those stored", sent,
              acked, sendErrors, unackedStored);
        break;
    case Drill::Nginx:
        // Every socket went through nginx: every client lost it and came back once.
        QCOMPARE(sendErrors, 0);
        QVERIFY2(disconnects >= kUsers, qPrintable(r.describe()));
        QCOMPARE(reconnects, disconnects);
        break;
    case Drill::Redis:
    case Drill::CutOff: {
        // Redis is not on the clients' path: no socket closed, no send refused.
        QCOMPARE(sendErrors, 0);
        QCOMPARE(disconnects, 0);
        QCOMPARE(reconnects, 0);
        const QJsonObject welcomes
            = j.value(QLatin1String("connections")).toObject().value(QLatin1String("welcomesByInstance")).toObject();
        QVERIFY2(welcomes.value(QStringLiteral("tm-%1").arg(kCutInstance)).toInteger() > 0, qPrintable(r.describe()));
        break;
    }
    }
}

// tm-3 cut off Redis while tm-1 keeps it: reads on either side after a write on the other.
void TestClusterDrills::cutOffInstanceAndTheCache()
{
    QVERIFY(allReady());
    test::ApiClient viaNginx {QUrl(m_url)};
    test::ApiClient one {instanceUrl(1)};
    test::ApiClient three {instanceUrl(kCutInstance)};
    const test::Account alice = viaNginx.signUp("alice");
    const test::Account bob = viaNginx.signUp("bob");
    const qint64 roomId = viaNginx.createRoom(alice, {bob});
    QVERIFY(alice.id > 0 && bob.id > 0 && roomId > 0);
    const QString page = QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId);
    const auto post = [&](test::ApiClient &api, const QString &body) {
        return api.post(page, {{QStringLiteral("body"), body}, {QStringLiteral("clientId"), body}}, alice.token).status;
    };
    // The page as bob reads it on an instance: its bodies, and whether it came from the cache.
    const auto read = [&](test::ApiClient &api) {
        const test::ApiReply r = api.get(page, bob.token);
        QStringList bodies;
        for (const QJsonValue &m : r.items())
            bodies << m.toObject().value(QLatin1String("body")).toString();
        return std::pair {bodies, r.header("X-Cache")};
    };
    QCOMPARE(post(one, QStringLiteral("before")), 201);
    // Both instances cache the page (the second read of each is a hit).
    for (test::ApiClient *api : {&one, &three}) {
        read(*api);
        QVERIFY(QTest::qWaitFor([&] { return read(*api).second == "HIT"; }, 10000));
        QVERIFY(read(*api).first.contains(QStringLiteral("before")));
    }

    QVERIFY(clusterCommand({QStringLiteral("cut-redis"), QString::number(kCutInstance)}));
    QVERIFY(QTest::qWaitFor([this] { return redisCheck(kCutInstance) == QLatin1String("down"); }, 20000));
    QCOMPARE(redisCheck(1), QStringLiteral("ok"));

    // Written on tm-1 (which bumps the version in Redis): tm-3 cannot see the bump, so it must not
    // answer from its cache at all.
    QCOMPARE(post(one, QStringLiteral("on-one-during-cut")), 201);
    const auto onThree = read(three);
    QVERIFY2(onThree.first.contains(QStringLiteral("on-one-during-cut")), qPrintable(onThree.first.join(u',')));
    QVERIFY(onThree.second != "HIT");
    // Written on tm-3, whose version bump cannot reach Redis: tm-1 holds the page in the cache and
    // nothing tells it of the write (Redis is the only way the instances learn of each other's
    // writes). Known limitation (docs/cluster.md "Durable drills"): tm-1 answers the page without
    // tm-3's message until tm-3 reaches Redis again and retires every cached value (the cache
    // generation), or another write to the room on the connected side bumps it. An XPASS here
    // means that changed: make it a plain check.
    QVERIFY(QTest::qWaitFor([&] { return read(one).second == "HIT"; }, 10000));
    QCOMPARE(post(three, QStringLiteral("on-three-during-cut")), 201);
    const auto onOne = read(one);
    QEXPECT_FAIL("", "a write on an instance cut off Redis does not retire the others' cached values until it is back",
                 Continue);
    QVERIFY2(onOne.first.contains(QStringLiteral("on-three-during-cut")),
             qPrintable(onOne.first.join(u',') + QStringLiteral(" (X-Cache ") + QLatin1String(onOne.second)
                        + QLatin1Char(')')));

    QVERIFY(clusterCommand({QStringLiteral("restore-redis"), QString::number(kCutInstance)}));
    QVERIFY(QTest::qWaitFor([this] { return redisCheck(kCutInstance) == QLatin1String("ok"); }, 30000));
    // Back: tm-3 retires the values it could not invalidate (it moves the cache generation once it
    // reaches Redis), so both instances soon answer both messages, and tm-3 answers from the
    // cache again.
    for (test::ApiClient *api : {&one, &three}) {
        QStringList last;
        QVERIFY2(QTest::qWaitFor(
                     [&] {
                         last = read(*api).first;
                         return last.contains(QStringLiteral("on-one-during-cut"))
                             && last.contains(QStringLiteral("on-three-during-cut"));
                     },
                     10000),
                 qPrintable(last.join(u',')));
    }
    QVERIFY(QTest::qWaitFor([&] { return read(three).second == "HIT"; }, 20000));
}

QTEST_GUILESS_MAIN(TestClusterDrills)
#include "tst_cluster_drills.moc"
