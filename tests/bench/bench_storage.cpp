// Storage benchmarks (issue: server core): a 1000-message batch insert through the group-commit
// path, and the latest history page of a room on a large messages table, on SQLite and
// PostgreSQL. TM_BENCH_ROWS sets the table size (default 10,000,000; the test suite runs a
// quick 20,000 to prove the benchmark works).
#include "server/storage/db_pool.h"
#include "server/storage/room_store.h"
#include "server/storage/user_store.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"

#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace taskmaster;
using namespace taskmaster::server;

class BenchStorage final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void batchInsert1000_data() { backends(); }
    void batchInsert1000();
    void historyLatestPage_data() { backends(); }
    void historyLatestPage();

private:
    void backends();
    struct Fixture {
        std::unique_ptr<DbPool> pool;
        Id user = 0;
        Id room = 0;
    };
    Fixture fixture(const QString &backend);

    QTemporaryDir m_dir;
    QString m_pgUrl;
};

void BenchStorage::initTestCase()
{
    TM_REQUIRE_SERVICE(url, "TM_TEST_DATABASE_URL");
    m_pgUrl = url;
}

void BenchStorage::backends()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite") << QStringLiteral("sqlite");
    QTest::newRow("postgres") << QStringLiteral("postgres");
}

BenchStorage::Fixture BenchStorage::fixture(const QString &backend)
{
    Fixture f;
    DbPoolOptions options = test::freshDatabase(backend, m_dir, m_pgUrl);
    // Filling millions of rows takes far longer than the server's statement timeout.
    options.statementTimeout = std::chrono::hours(1);
    f.pool = std::make_unique<DbPool>(options);
    f.user
        = f.pool
              ->run([](QSqlDatabase &db) {
                  return store::createUser(db, QStringLiteral("bench"), QStringLiteral("Bench"), QStringLiteral("h"), 1)
                      ->id;
              })
              .result();
    f.room = f.pool
                 ->run([&](QSqlDatabase &db) {
                     return store::createRoom(db, f.user, QStringLiteral("bench"), {}, 1)->room.id;
                 })
                 .result();
    return f;
}

void BenchStorage::batchInsert1000()
{
    QFETCH(QString, backend);
    Fixture f = fixture(backend);
    int round = 0;
    QBENCHMARK
    {
        QList<store::NewMessage> batch;
        batch.reserve(1000);
        for (int i = 0; i < 1000; ++i) {
            batch.append(store::NewMessage {f.room, f.user, QStringLiteral("benchmark message body number %1").arg(i),
                                            QStringLiteral("r%1-%2").arg(round).arg(i)});
        }
        ++round;
        const auto r = f.pool->run([&](QSqlDatabase &db) { return store::insertMessages(db, batch, 2); }).result();
        QVERIFY(r && r->size() == 1000 && r->constLast());
    }
}

void BenchStorage::historyLatestPage()
{
    QFETCH(QString, backend);
    const qint64 rows
        = qEnvironmentVariableIsSet("TM_BENCH_ROWS") ? qEnvironmentVariable("TM_BENCH_ROWS").toLongLong() : 10'000'000;
    Fixture f = fixture(backend);
    // Fill with SQL: 100 rooms, the benchmarked one among them, rows spread evenly.
    const bool filled
        = f.pool
              ->run([&](QSqlDatabase &db) {
                  QSqlQuery q(db);
                  const bool pg = backend == QLatin1String("postgres");
                  const QString series = pg ? QStringLiteral("generate_series(1, %1) AS g(n)").arg(rows)
                                            : QStringLiteral("(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL "
                                                             "SELECT n + 1 FROM s WHERE n < %1) SELECT n FROM s) g")
                                                  .arg(rows);
                  bool ok = q.exec(QStringLiteral("INSERT INTO rooms (name, created_at) SELECT 'r', 1 FROM %1")
                                       .arg(pg ? QStringLiteral("generate_series(1, 99)")
                                               : QStringLiteral("(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL "
                                                                "SELECT n + 1 FROM s WHERE n < 99) SELECT n FROM s)")));
                  ok = ok
                      && q.exec(QStringLiteral("INSERT INTO messages (room_id, seq, author_id, body, created_at) "
                                               "SELECT %1 + (g.n % 100), g.n / 100 + 1, %2, 'body ' || g.n, g.n FROM ")
                                    .arg(f.room)
                                    .arg(f.user)
                                + series);
                  ok = ok && q.exec(QStringLiteral("UPDATE rooms SET last_seq = %1").arg(rows / 100 + 1));
                  ok = ok && q.exec(QStringLiteral("ANALYZE"));
                  return ok;
              })
              .result();
    QVERIFY(filled);
    QBENCHMARK
    {
        const auto page = f.pool
                              ->run([&](QSqlDatabase &db) {
                                  return store::history(db, f.room, f.user, std::nullopt, std::nullopt, 50);
                              })
                              .result();
        QVERIFY(page && page->items.size() == 50);
    }
}

QTEST_GUILESS_MAIN(BenchStorage)
#include "bench_storage.moc"
