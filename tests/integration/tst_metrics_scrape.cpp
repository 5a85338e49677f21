// /metrics from the first scrape (issue 15): a fresh server's very first /metrics already holds
// every metric family it will ever show, and every counter and gauge series with a known label
// value (cache kinds, rate limit scopes, circuit breaker dependencies and states) at its start
// value, so that rates, ratios and alerts are defined before the first event. Checked by scraping
// a fresh server, then driving REST traffic (writes, cached reads and hits, errors, a 404) and
// scraping again: nothing in the second scrape may be new, except histogram series whose labels
// come from the traffic (method, route and status; query names), whose families must be there.
// Embedded (SQLite, in-process cache) and clustered (PostgreSQL with a read replica, Redis).
// Thread: the test's thread.
#include "tests/support/api_client.h"
#include "tests/support/redis_process.h"
#include "tests/support/server_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"

#include <QSqlDatabase>
#include <QTest>

#include <map>
#include <set>

using namespace taskmaster;
using taskmaster::test::ApiClient;
using taskmaster::test::ServerProcess;

namespace {

struct Scrape {
    std::map<QByteArray, QByteArray> types; // family -> counter, gauge, histogram
    std::map<QByteArray, QByteArray> series; // name{labels} -> value
    std::map<QByteArray, QByteArray> familyOf; // name{labels} -> family
};

Scrape parse(const QByteArray &text)
{
    Scrape s;
    QByteArray family;
    for (const QByteArray &line : text.split('\n')) {
        if (line.startsWith("# TYPE ")) {
            const QList<QByteArray> parts = line.split(' ');
            if (parts.size() == 4) {
                family = parts.at(2);
                s.types[family] = parts.at(3);
            }
            continue;
        }
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        const qsizetype space = line.lastIndexOf(' ');
        if (space <= 0)
            continue;
        const QByteArray name = line.left(space);
        s.series[name] = line.mid(space + 1);
        s.familyOf[name] = family;
    }
    return s;
}

} // namespace

class TestMetricsScrape final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void firstScrape_data();
    void firstScrape();

private:
    QString m_pg;
    QString m_replica;
    test::RedisProcess m_redis;
};

void TestMetricsScrape::initTestCase()
{
    TM_REQUIRE_SERVICE(pg, "TM_TEST_DATABASE_URL");
    TM_REQUIRE_SERVICE(replica, "TM_TEST_DATABASE_REPLICA_URL");
    m_pg = pg;
    m_replica = replica;
    const QString started = m_redis.start();
    QVERIFY2(started.isEmpty(), qPrintable(started));
}

void TestMetricsScrape::firstScrape_data()
{
    QTest::addColumn<bool>("cluster");
    // Series the first scrape must hold with this value, beyond the generic check.
    QTest::addColumn<QList<QByteArray>>("expected");
    const QList<QByteArray> common {
        "cache_hits_total{cache=\"messages\"} 0",
        "cache_misses_total{cache=\"user\"} 0",
        "rate_limited_requests_total{scope=\"api\"} 0",
        "rate_limited_requests_total{scope=\"auth\"} 0",
        "circuit_breaker_state{dependency=\"postgres\"} 0",
        "circuit_breaker_transitions_total{dependency=\"postgres\",to=\"open\"} 0",
    };
    QTest::newRow("embedded") << false << common;
    QTest::newRow("PostgreSQL, replica and Redis")
        << true
        << (common
            + QList<QByteArray> {
                "circuit_breaker_state{dependency=\"redis\"} 0",
                "circuit_breaker_transitions_total{dependency=\"redis\",to=\"half_open\"} 0",
                "circuit_breaker_state{dependency=\"replica\"} 0",
                "circuit_breaker_transitions_total{dependency=\"replica\",to=\"closed\"} 0",
            });
}

void TestMetricsScrape::firstScrape()
{
    QFETCH(bool, cluster);
    QFETCH(QList<QByteArray>, expected);
    QStringList args {QStringLiteral("--rate-api"), QStringLiteral("5/10")}; // so that a 429 happens
    if (cluster) {
        const QString db = test::freshPostgresUrl(m_pg);
        QUrl replica(m_replica);
        replica.setPath(QUrl(db).path());
        // The new database reaches the replica by streaming: wait until it can be opened there.
        QVERIFY(QTest::qWaitFor(
            [&] {
                bool open = false;
                {
                    QSqlDatabase c = test::openPostgres(replica.toString(), QStringLiteral("probe"));
                    open = c.isOpen();
                }
                QSqlDatabase::removeDatabase(QStringLiteral("probe"));
                return open;
            },
            20000));
        args << QStringLiteral("--database-url") << db << QStringLiteral("--database-replica-url") << replica.toString()
             << QStringLiteral("--redis-url") << m_redis.url();
    }
    ServerProcess server;
    QVERIFY2(server.start(args), qPrintable(server.errorText()));
    ApiClient api(server.url());

    // The very first request the server answers.
    const test::ApiReply first = api.get(QStringLiteral("/metrics"), {});
    QCOMPARE(first.status, 200);
    const Scrape before = parse(first.body);
    for (const QByteArray &line : std::as_const(expected)) {
        const qsizetype space = line.lastIndexOf(' ');
        const auto it = before.series.find(line.left(space));
        QVERIFY2(it != before.series.end(), line.constData());
        QCOMPARE(it->second, line.mid(space + 1));
    }

    // Traffic that moves every family: accounts, a room, messages (writes that bump the cache),
    // cached reads twice (misses, then hits), a task list, a 404, the rate limit (429).
    const auto [aliceId, alice] = api.registerUser(test::uniqueName("alice"));
    const auto [bobId, bob] = api.registerUser(test::uniqueName("bob"));
    QVERIFY(aliceId > 0 && bobId > 0);
    const test::Account a {aliceId, alice};
    const test::Account b {bobId, bob};
    const qint64 room = api.createRoom(a, {b});
    QVERIFY(room > 0);
    const QString page = QStringLiteral("/api/v1/rooms/%1/messages").arg(room);
    for (int i = 0; i < 3; ++i) {
        const QString body = QStringLiteral("m%1").arg(i);
        QCOMPARE(api.post(page, {{QStringLiteral("body"), body}, {QStringLiteral("clientId"), body}}, alice).status,
                 201);
    }
    for (const QString &path : {page, QStringLiteral("/api/v1/users/%1").arg(aliceId)}) {
        QCOMPARE(api.get(path, bob).status, 200); // a miss
        QCOMPARE(api.get(path, bob).status, 200); // a hit
    }
    QCOMPARE(api.get(QStringLiteral("/api/v1/nope"), bob).status, 404);
    // A third user over the API rate limit (5/s, bursts of 10).
    const QByteArray carol = api.registerUser(test::uniqueName("carol")).second;
    QVERIFY(QTest::qWaitFor([&] { return api.get(QStringLiteral("/api/v1/rooms"), carol).status == 429; }, 10000));
    const test::ApiReply second = api.get(QStringLiteral("/metrics"), {});
    QCOMPARE(second.status, 200);
    const Scrape after = parse(second.body);
    QVERIFY(after.series.size() > before.series.size() / 2);

    // Every family of the second scrape was in the first, with its type.
    for (const auto &[family, type] : after.types) {
        const auto it = before.types.find(family);
        QVERIFY2(it != before.types.end(), QByteArray(family + " appeared only after traffic").constData());
        QCOMPARE(it->second, type);
    }
    // Every counter and gauge series too: their label values are known from the start. Histogram
    // series may be new where a label names the traffic (route, status, query).
    QStringList late;
    for (const auto &[name, value] : after.series) {
        const QByteArray family = after.familyOf.at(name);
        if (after.types.at(family) == "histogram")
            continue;
        if (!before.series.contains(name))
            late << QString::fromUtf8(name);
    }
    QVERIFY2(late.isEmpty(), qPrintable(QStringLiteral("series absent from the first scrape: ") + late.join(u' ')));
    // The traffic moved the known series it should have (they were there to move).
    QVERIFY(after.series.at("cache_hits_total{cache=\"messages\"}").toLongLong() > 0);
    QVERIFY(after.series.at("cache_misses_total{cache=\"messages\"}").toLongLong() > 0);
    QVERIFY(after.series.at("rate_limited_requests_total{scope=\"api\"}").toLongLong() > 0);
    QCOMPARE(server.stop(), 0);
}

QTEST_GUILESS_MAIN(TestMetricsScrape)
#include "tst_metrics_scrape.moc"
