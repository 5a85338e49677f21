// Request coalescing (issue 18): TM_BENCH_CLIENTS connections (default 200) ask one real server
// for one cold key at once (a room's latest page right after a message made it stale), in
// TM_BENCH_ROUNDS rounds (default 10), with --cache-coalesce 0 and then 1 on the same database
// (PostgreSQL of the bench command: durable under scripts/bench-seeds.sh). Counted by the
// server's own statement counters (/metrics, database_query_duration_seconds_count): the page's
// computations (its member query) and all statements per burst, and the burst's wall time.
// Prints one "FIGURE | ..." table row per mode (scripts/bench-seeds.sh writes them to
// docs/BENCHMARKS.md); the test suite runs it small to prove it works.
#include "tests/support/api_client.h"
#include "tests/support/burst_client.h"
#include "tests/support/metrics_text.h"
#include "tests/support/server_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QTest>

#include <algorithm>
#include <cstdio>

using namespace taskmaster;
using taskmaster::test::Account;
using taskmaster::test::ApiClient;
using taskmaster::test::BurstClient;
using taskmaster::test::BurstReply;
using taskmaster::test::metricSum;
using taskmaster::test::ServerProcess;

namespace {

int envInt(const char *name, int fallback)
{
    bool ok = false;
    const int v = qEnvironmentVariableIntValue(name, &ok);
    return ok && v > 0 ? v : fallback;
}

struct Sample {
    double computations = 0;
    double statements = 0;
    double coalesced = 0;
};

Sample sample(ApiClient &api)
{
    const QByteArray m = api.metrics();
    return Sample {metricSum(m, "database_query_duration_seconds_count{query=\"room_members.ids\"}"),
                   metricSum(m, "database_query_duration_seconds_count{"), metricSum(m, "cache_coalesced_total ")};
}

} // namespace

class BenchCoalescing final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void coldKeyBurst_data();
    void coldKeyBurst();

private:
    QString m_pg;
    QString m_database; // shared by both modes
};

void BenchCoalescing::initTestCase()
{
    TM_REQUIRE_SERVICE(url, "TM_TEST_DATABASE_URL");
    m_pg = url;
    m_database = test::freshPostgresUrl(m_pg);
}

void BenchCoalescing::coldKeyBurst_data()
{
    QTest::addColumn<int>("coalesce");
    QTest::newRow("coalesce off") << 0;
    QTest::newRow("coalesce on") << 1;
}

void BenchCoalescing::coldKeyBurst()
{
    QFETCH(int, coalesce);
    const int clients = envInt("TM_BENCH_CLIENTS", 200);
    const int rounds = envInt("TM_BENCH_ROUNDS", 10);
    const int users = std::min(clients, 20);
    ServerProcess server;
    QVERIFY2(server.start({QStringLiteral("--database-url"), m_database, QStringLiteral("--rate-api"),
                           QStringLiteral("0"), QStringLiteral("--cache-coalesce"), QString::number(coalesce)}),
             qPrintable(server.errorText()));
    ApiClient api(server.url());
    QList<Account> members;
    QList<QByteArray> tokens;
    for (int i = 0; i < users; ++i) {
        members.append(api.signUp("burst"));
        tokens.append(members.constLast().token);
    }
    const qint64 room = api.createRoom(members.constFirst(), members.mid(1));
    QVERIFY(room > 0);
    const QString page = QStringLiteral("/api/v1/rooms/%1/messages").arg(room);
    BurstClient burst;
    QVERIFY(burst.connect(server.port(), clients));
    // Every token used once: the sessions are known to the instance before the measurement.
    for (const BurstReply &r : burst.get(QStringLiteral("/api/v1/users/%1").arg(members.constFirst().id), tokens))
        QCOMPARE(r.status, 200);
    QList<double> computations, statements, coalesced, wallMs;
    for (int round = 0; round < rounds; ++round) {
        QCOMPARE(api.post(page, QJsonObject {{QStringLiteral("body"), QStringLiteral("round %1").arg(round)}},
                          members.constFirst().token)
                     .status,
                 201);
        const Sample before = sample(api);
        QElapsedTimer timer;
        timer.start();
        const QList<BurstReply> replies = burst.get(page, tokens);
        wallMs.append(double(timer.nsecsElapsed()) / 1e6);
        const Sample after = sample(api);
        for (const BurstReply &r : replies) {
            QCOMPARE(r.status, 200);
            QCOMPARE(r.body, replies.constFirst().body);
        }
        computations.append(after.computations - before.computations);
        // Less the /metrics scrape itself, which runs no statement.
        statements.append(after.statements - before.statements);
        coalesced.append(after.coalesced - before.coalesced);
    }
    const auto mean = [](const QList<double> &v) {
        double s = 0;
        for (double x : v)
            s += x;
        return v.isEmpty() ? 0.0 : s / double(v.size());
    };
    const auto maxOf = [](const QList<double> &v) { return v.isEmpty() ? 0.0 : *std::max_element(v.begin(), v.end()); };
    std::printf("FIGURE | %s | %d | %d | %.1f | %.0f | %.1f | %.1f | %.1f | %.1f |\n", coalesce ? "on" : "off", clients,
                rounds, mean(computations), maxOf(computations), mean(statements), mean(coalesced), mean(wallMs),
                maxOf(wallMs));
    std::fflush(stdout);
    if (coalesce)
        QCOMPARE(maxOf(computations), 1.0);
}

QTEST_GUILESS_MAIN(BenchCoalescing)
#include "bench_coalescing.moc"
