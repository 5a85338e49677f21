// Request coalescing (single flight, issue 18): concurrent misses of one cached read on one
// instance are computed once. Through a real server on both back ends: a burst of requests for
// one cold latest page costs one computation (counted by the server's own statement counter,
// database_query_duration_seconds_count of the page's member query) and every caller gets the
// same body; the misses that did not compute were coalesced (cache_coalesced_total), the rest
// were hits of the value the computation stored. A write makes the key cold again: the next
// burst computes once more and shows the new message. On PostgreSQL the test holds the members
// table locked, so the first computation waits in the database while the other requests arrive:
// every one of them joins the flight (none computes), and the error of a computation cancelled
// there is the answer of every waiter.
#include "tests/support/api_client.h"
#include "tests/support/burst_client.h"
#include "tests/support/metrics_text.h"
#include "tests/support/server_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"

#include <QJsonArray>
#include <QSqlQuery>
#include <QTest>

#include <memory>

using namespace taskmaster;
using taskmaster::test::Account;
using taskmaster::test::ApiClient;
using taskmaster::test::BurstClient;
using taskmaster::test::BurstReply;
using taskmaster::test::ServerProcess;

namespace {

constexpr int kBurst = 50;

struct Counts {
    double computations = 0; // the latest page's member query: one per computation of a page
    double coalesced = 0;
};

Counts counts(ApiClient &api)
{
    const QByteArray m = api.metrics();
    return Counts {
        test::metricSample(m, "database_query_duration_seconds_count{query=\"room_members.ids\"}").value_or(0),
        test::metricSample(m, "cache_coalesced_total").value_or(0)};
}

bool sameBodies(const QList<BurstReply> &replies)
{
    for (const BurstReply &r : replies) {
        if (r.status != 200 || r.body != replies.constFirst().body) {
            qWarning("reply %d %s differs from %s", r.status, r.body.left(200).constData(),
                     replies.constFirst().body.left(200).constData());
            return false;
        }
    }
    return true;
}

int misses(const QList<BurstReply> &replies)
{
    int n = 0;
    for (const BurstReply &r : replies)
        n += r.header("X-Cache") != "HIT";
    return n;
}

// What both tests burst against: a server (the API rate limit off), a room of two members whose
// latest page every burst reads, and kBurst connections.
struct Scene {
    ServerProcess server;
    std::unique_ptr<ApiClient> api;
    Account owner, member;
    QString page;
    BurstClient burst;

    // Empty when all is set up, else what failed.
    QString start(const QStringList &extraArgs)
    {
        if (!server.start(QStringList {QStringLiteral("--rate-api"), QStringLiteral("0")} + extraArgs))
            return server.errorText();
        api = std::make_unique<ApiClient>(server.url());
        owner = api->signUp("owner");
        member = api->signUp("member");
        const qint64 room = api->createRoom(owner, {member});
        if (room <= 0)
            return QStringLiteral("no room");
        page = QStringLiteral("/api/v1/rooms/%1/messages").arg(room);
        return burst.connect(server.port(), kBurst) ? QString() : QStringLiteral("burst connections failed");
    }
    // A message from the owner: the page is cold (its version moved). The HTTP status.
    int post(const QString &text)
    {
        return api->post(page, QJsonObject {{QStringLiteral("body"), text}}, owner.token).status;
    }
};

} // namespace

class TestHttpCoalescing final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void burstComputesOnce_data();
    void burstComputesOnce();
    void waitersJoinTheRunningComputation();

private:
    QString m_pg;
};

void TestHttpCoalescing::initTestCase()
{
    TM_REQUIRE_SERVICE(pg, "TM_TEST_DATABASE_URL");
    m_pg = pg;
}

void TestHttpCoalescing::burstComputesOnce_data()
{
    QTest::addColumn<bool>("postgres");
    QTest::newRow("sqlite") << false;
    QTest::newRow("postgres") << true;
}

void TestHttpCoalescing::burstComputesOnce()
{
    QFETCH(bool, postgres);
    Scene scene;
    const QString failed = scene.start(
        postgres ? QStringList {QStringLiteral("--database-url"), test::freshPostgresUrl(m_pg)} : QStringList {});
    QVERIFY2(failed.isEmpty(), qPrintable(failed));
    ApiClient &api = *scene.api;
    for (int round = 0; round < 2; ++round) {
        const QString text = QStringLiteral("message %1").arg(round);
        QCOMPARE(scene.post(text), 201);
        const Counts before = counts(api);
        const QList<BurstReply> replies = scene.burst.get(scene.page, {scene.owner.token, scene.member.token});
        const Counts after = counts(api);
        QVERIFY(sameBodies(replies));
        QVERIFY2(replies.constFirst().body.contains(text.toUtf8()), replies.constFirst().body.constData());
        QCOMPARE(after.computations - before.computations, 1.0);
        // Every miss but the one that computed waited for it; the others were hits of its value.
        QCOMPARE(after.coalesced - before.coalesced, double(misses(replies) - 1));
        qInfo("round %d: %d requests, 1 computation, %d coalesced, %d hits", round, kBurst, misses(replies) - 1,
              kBurst - misses(replies));
    }
}

void TestHttpCoalescing::waitersJoinTheRunningComputation()
{
    const QString databaseUrl = test::freshPostgresUrl(m_pg);
    Scene scene;
    const QString failed = scene.start({QStringLiteral("--database-url"), databaseUrl});
    QVERIFY2(failed.isEmpty(), qPrintable(failed));
    ApiClient &api = *scene.api;
    const QString lockName = QStringLiteral("coalescing-lock");
    {
        QSqlDatabase lock = test::openPostgres(databaseUrl, lockName);
        QVERIFY(lock.isOpen());
        QSqlQuery q(lock);
        for (int round = 0; round < 2; ++round) {
            const QString text = QStringLiteral("locked %1").arg(round);
            QCOMPARE(scene.post(text), 201);
            const Counts before = counts(api);
            // The members table locked: the first miss's computation waits in the database.
            QVERIFY(lock.transaction());
            QVERIFY(q.exec(QStringLiteral("LOCK TABLE room_members IN ACCESS EXCLUSIVE MODE")));
            scene.burst.send(scene.page, {scene.owner.token, scene.member.token});
            // Every other request has joined the computation.
            QVERIFY(QTest::qWaitFor([&] { return counts(api).coalesced - before.coalesced == kBurst - 1; }, 20000));
            if (round == 0) {
                // Released: the one computation answers everyone.
                QVERIFY(lock.rollback());
                const QList<BurstReply> replies = scene.burst.wait();
                QVERIFY(sameBodies(replies));
                QVERIFY(replies.constFirst().body.contains(text.toUtf8()));
                QCOMPARE(misses(replies), kBurst);
                QCOMPARE(counts(api).computations - before.computations, 1.0);
            } else {
                // The computation cancelled in the database: its error is everyone's answer.
                // The requests have joined before the computation's query reaches the lock: cancel it
                // once it waits there. Only the server's client backends: an autovacuum worker
                // waiting on the table too cannot be cancelled by this role, and the error would
                // abort the lock's transaction (every later poll failing until the deadline). The
                // polls run on a connection of their own for the same reason.
                QSqlDatabase canceller = test::openPostgres(databaseUrl, lockName + QStringLiteral("-cancel"));
                QVERIFY(canceller.isOpen());
                QSqlQuery cancel(canceller);
                QVERIFY(QTest::qWaitFor(
                    [&] {
                        return cancel.exec(QStringLiteral(
                                   "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = "
                                   "current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                                   "AND wait_event_type = 'Lock'"))
                            && cancel.next() && cancel.value(0).toBool();
                    },
                    20000));
                cancel.finish();
                const QList<BurstReply> replies = scene.burst.wait();
                QVERIFY(lock.rollback());
                for (const BurstReply &r : replies) {
                    QVERIFY2(r.status >= 500, r.body.constData());
                    QCOMPARE(r.status, replies.constFirst().status);
                    QCOMPARE(r.body, replies.constFirst().body);
                }
                // The flight ended with its error: the next read computes again and succeeds.
                const test::ApiReply again = api.get(scene.page, scene.member.token);
                QCOMPARE(again.status, 200);
                QVERIFY(again.body.contains(text.toUtf8()));
            }
        }
    }
    QSqlDatabase::removeDatabase(lockName + QStringLiteral("-cancel"));
    QSqlDatabase::removeDatabase(lockName);
}

QTEST_GUILESS_MAIN(TestHttpCoalescing)
#include "tst_http_coalescing.moc"
