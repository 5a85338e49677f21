// The read replica (--database-replica-url) with a real streaming replica of with-services.sh
// (TM_TEST_DATABASE_REPLICA_URL) and two instances sharing PostgreSQL and a Redis of the test's
// own. WAL replay on the replica is paused during the checks, so the replica is certainly behind:
// a user who just wrote (on A) reads their write at once on B (history pages, lists, search go to
// the primary for that user: read-your-writes across instances), while another user's list comes
// from the replica (without the write) until replay resumes; cached reads (the latest page) are
// never computed from the replica. The admin stats count the reads routed to each side.
#include "tests/support/api_client.h"
#include "tests/support/redis_process.h"
#include "tests/support/server_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"

#include <QScopeGuard>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>
#include <QUuid>

#include <functional>
#include <memory>

using taskmaster::test::Account;
using taskmaster::test::uniqueName;
using namespace taskmaster;
using taskmaster::test::ApiClient;
using taskmaster::test::ApiReply;
using taskmaster::test::ServerProcess;

namespace {
bool exec(QSqlDatabase &db, const QString &sql)
{
    QSqlQuery q(db);
    if (!q.exec(sql)) {
        qWarning("%s: %s", qPrintable(sql), qPrintable(q.lastError().text()));
        return false;
    }
    return true;
}
} // namespace

class TestReadReplica final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void writerReadsOwnWritesElsewhere_data();
    void writerReadsOwnWritesElsewhere();
    void cachedReadsNeverFromReplica();

private:
    Account user();
    bool pauseReplay(bool pause);
    bool caughtUp(); // the replica has replayed everything the primary wrote so far

    test::RedisProcess m_redis;
    QString m_replicaUrl; // of the test's database
    QString m_primaryUrl;
    std::unique_ptr<ServerProcess> m_a, m_b;
    std::unique_ptr<ApiClient> m_apiA, m_apiB;
    QByteArray m_admin;
};

void TestReadReplica::initTestCase()
{
    TM_REQUIRE_SERVICE(pg, "TM_TEST_DATABASE_URL");
    TM_REQUIRE_SERVICE(replica, "TM_TEST_DATABASE_REPLICA_URL");
    const QString started = m_redis.start();
    QVERIFY2(started.isEmpty(), qPrintable(started));
    const QString db = test::freshPostgresUrl(pg);
    m_primaryUrl = db;
    QUrl r(replica);
    r.setPath(QUrl(db).path());
    m_replicaUrl = r.toString();
    // The new database reaches the replica by streaming: wait until it can be opened there.
    QVERIFY(QTest::qWaitFor(
        [&] {
            bool open = false;
            {
                QSqlDatabase c = test::openPostgres(m_replicaUrl, QStringLiteral("probe"));
                open = c.isOpen();
            }
            QSqlDatabase::removeDatabase(QStringLiteral("probe"));
            return open;
        },
        20000));
    const auto args = [&](const char *name) {
        return QStringList {QStringLiteral("--database-url"),
                            db,
                            QStringLiteral("--database-replica-url"),
                            m_replicaUrl,
                            QStringLiteral("--redis-url"),
                            m_redis.url(),
                            QStringLiteral("--replica-fresh-ms"),
                            QStringLiteral("60000"),
                            QStringLiteral("--instance-name"),
                            QString::fromLatin1(name)};
    };
    m_a = std::make_unique<ServerProcess>();
    m_b = std::make_unique<ServerProcess>();
    QVERIFY2(m_a->start(args("tm-a")), qPrintable(m_a->errorText()));
    QVERIFY2(m_b->start(args("tm-b")), qPrintable(m_b->errorText()));
    m_apiA = std::make_unique<ApiClient>(m_a->url());
    m_apiB = std::make_unique<ApiClient>(m_b->url());
    m_admin = m_apiA->registerUser(uniqueName("admin")).second; // the first user: admin
    for (ApiClient *api : {m_apiA.get(), m_apiB.get()}) {
        QVERIFY(QTest::qWaitFor(
            [&] {
                const QJsonObject o = api->get(QStringLiteral("/health/ready"), {}).json();
                return o.value(QLatin1String("status")).toString() == QLatin1String("ok")
                    && o.value(QLatin1String("checks")).toObject().value(QLatin1String("replica")).toString()
                    == QLatin1String("ok");
            },
            15000));
    }
}

void TestReadReplica::cleanupTestCase()
{
    pauseReplay(false);
    QSqlDatabase::removeDatabase(QStringLiteral("replica-control"));
    QSqlDatabase::removeDatabase(QStringLiteral("primary-control"));
    for (auto *s : {m_a.get(), m_b.get()}) {
        if (s)
            QCOMPARE(s->stop(), 0);
    }
}

bool TestReadReplica::caughtUp()
{
    // The primary's WAL insert position (commits are asynchronous here: the write position can
    // be behind them), then the replica's replay position until it got there.
    QSqlDatabase primary = QSqlDatabase::contains(QStringLiteral("primary-control"))
        ? QSqlDatabase::database(QStringLiteral("primary-control"))
        : test::openPostgres(m_primaryUrl, QStringLiteral("primary-control"));
    QSqlQuery lsn(primary);
    if (!lsn.exec(QStringLiteral("SELECT pg_current_wal_insert_lsn()::text")) || !lsn.next())
        return false;
    const QString target = lsn.value(0).toString();
    QSqlDatabase replica = QSqlDatabase::contains(QStringLiteral("replica-control"))
        ? QSqlDatabase::database(QStringLiteral("replica-control"))
        : test::openPostgres(m_replicaUrl, QStringLiteral("replica-control"));
    return QTest::qWaitFor(
        [&] {
            QSqlQuery q(replica);
            q.prepare(QStringLiteral("SELECT pg_last_wal_replay_lsn() >= ?::pg_lsn"));
            q.addBindValue(target);
            return q.exec() && q.next() && q.value(0).toBool();
        },
        15000);
}

Account TestReadReplica::user()
{
    return m_apiA->signUp();
}

bool TestReadReplica::pauseReplay(bool pause)
{
    QSqlDatabase c = QSqlDatabase::contains(QStringLiteral("replica-control"))
        ? QSqlDatabase::database(QStringLiteral("replica-control"))
        : test::openPostgres(m_replicaUrl, QStringLiteral("replica-control"));
    if (!c.isOpen())
        return false;
    return exec(
        c, pause ? QStringLiteral("SELECT pg_wal_replay_pause()") : QStringLiteral("SELECT pg_wal_replay_resume()"));
}

void TestReadReplica::writerReadsOwnWritesElsewhere_data()
{
    QTest::addColumn<QString>("read");
    QTest::newRow("rooms list") << QStringLiteral("rooms");
    QTest::newRow("older history page") << QStringLiteral("history");
    QTest::newRow("projects list") << QStringLiteral("projects");
    QTest::newRow("search") << QStringLiteral("search");
}

void TestReadReplica::writerReadsOwnWritesElsewhere()
{
    QFETCH(QString, read);
    const Account writer = user(), other = user();
    // Shared room and project (created before the pause, so the replica has them).
    const qint64 roomId = m_apiA->createRoom(writer, {other});
    QVERIFY(roomId > 0);
    const QString word = uniqueName("w").toLower();
    // A write whose result the read must show; the other member's read of the same must not
    // (it reads the paused replica). Returns the path to read.
    std::function<QString()> write;
    if (read == QLatin1String("rooms")) {
        write = [&] {
            const qint64 id
                = m_apiA
                      ->post(QStringLiteral("/api/v1/rooms"),
                             {{QStringLiteral("name"), word}, {QStringLiteral("memberIds"), QJsonArray {other.id}}},
                             writer.token)
                      .id();
            return id > 0 ? QStringLiteral("/api/v1/rooms") : QString();
        };
    } else if (read == QLatin1String("history")) {
        write = [&] {
            const ApiReply r = m_apiA->post(QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId),
                                            {{QStringLiteral("body"), word}}, writer.token);
            return r.status == 201 ? QStringLiteral("/api/v1/rooms/%1/messages?after=0").arg(roomId) : QString();
        };
    } else if (read == QLatin1String("projects")) {
        write = [&] {
            const qint64 id
                = m_apiA->post(QStringLiteral("/api/v1/projects"), {{QStringLiteral("name"), word}}, writer.token).id();
            if (id <= 0)
                return QString();
            // The other user must be able to see it too: a member.
            if (m_apiA
                    ->post(QStringLiteral("/api/v1/projects/%1/members").arg(id),
                           {{QStringLiteral("userId"), other.id}}, writer.token)
                    .status
                != 200)
                return QString();
            return QStringLiteral("/api/v1/projects");
        };
    } else {
        write = [&] {
            const ApiReply r
                = m_apiA->post(QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId),
                               {{QStringLiteral("body"), QString(QStringLiteral("find ") + word)}}, writer.token);
            return r.status == 201 ? QStringLiteral("/api/v1/search?q=") + word : QString();
        };
    }
    QVERIFY(caughtUp()); // the room and the users are on the replica
    QVERIFY(pauseReplay(true));
    auto resume = qScopeGuard([&] { pauseReplay(false); });
    const QString path = write();
    QVERIFY(!path.isEmpty());
    // The writer, on the other instance, at once.
    const ApiReply own = m_apiB->get(path, writer.token);
    QCOMPARE(own.status, 200);
    QVERIFY2(own.body.contains(word.toUtf8()), own.body.constData());
    // The other user reads the paused replica: not there yet.
    const ApiReply stale = m_apiB->get(path, other.token);
    QCOMPARE(stale.status, 200);
    QVERIFY2(!stale.body.contains(word.toUtf8()), stale.body.constData());
    // Replay resumes: the replica catches up.
    QVERIFY(pauseReplay(false));
    resume.dismiss();
    QVERIFY(QTest::qWaitFor([&] { return m_apiB->get(path, other.token).body.contains(word.toUtf8()); }, 10000));
    // Both sides were used, as the admin stats count.
    const QJsonObject reads = m_apiB->get(QStringLiteral("/api/v1/admin/stats"), m_admin)
                                  .json()
                                  .value(QLatin1String("realtime"))
                                  .toObject()
                                  .value(QLatin1String("reads"))
                                  .toObject();
    QVERIFY(reads.value(QLatin1String("replica")).toInteger() >= 1);
    QVERIFY(reads.value(QLatin1String("primary")).toInteger() >= 1);
    QVERIFY(reads.value(QLatin1String("replicaUp")).toBool());
}

void TestReadReplica::cachedReadsNeverFromReplica()
{
    // The latest page is cached and shared by the members: computed from a lagging replica it
    // would stay stale for everyone. It is computed on the primary, so the other member sees the
    // message at once although the replica is paused.
    const Account writer = user(), other = user();
    const qint64 roomId = m_apiA->createRoom(writer, {other});
    QVERIFY(roomId > 0);
    const QString latest = QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId);
    QCOMPARE(m_apiB->get(latest, other.token).status, 200);
    QVERIFY(caughtUp());
    QVERIFY(pauseReplay(true));
    auto resume = qScopeGuard([&] { pauseReplay(false); });
    const QString word = uniqueName("latest");
    QCOMPARE(m_apiA->post(latest, {{QStringLiteral("body"), word}}, writer.token).status, 201);
    const ApiReply r = m_apiB->get(latest, other.token);
    QCOMPARE(r.status, 200);
    QVERIFY2(r.body.contains(word.toUtf8()), r.body.constData());
}

QTEST_GUILESS_MAIN(TestReadReplica)
#include "tst_read_replica.moc"
