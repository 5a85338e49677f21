// Storage benchmarks (issue: server core): a 1000-message batch insert through the group-commit
// path, and the latest history page of a room on a large messages table, on SQLite and
// PostgreSQL. TM_BENCH_ROWS sets the table size (default 10,000,000; the test suite runs a
// quick 20,000 to prove the benchmark works).
#include "server/storage/db_pool.h"
#include "server/storage/room_store.h"
#include "server/storage/user_store.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <map>

using namespace taskmaster;
using namespace taskmaster::server;
using taskmaster::test::backendRows;

class BenchStorage final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void batchInsert1000_data() { backendRows(); }
    void batchInsert1000();
    void historyLatestPage_data() { backendRows(); }
    void historyLatestPage();

private:
    void backends();
    struct Fixture {
        std::unique_ptr<DbPool> pool;
        Id user = 0;
        Id room = 0;
    };
    Fixture fixture(const QString &backend);
    void measureHistory(const Fixture &f);

    QTemporaryDir m_dir;
    QString m_pgUrl;
    // QtTest calls a benchmark function again until it has measured long enough: the filled
    // tables are kept per back end so that the fill runs once.
    std::map<QString, Fixture> m_filled;
    std::map<QString, Fixture> m_batch;
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
    // One database per back end for every rerun QtTest makes of this function.
    auto it = m_batch.find(backend);
    if (it == m_batch.end())
        it = m_batch.emplace(backend, fixture(backend)).first;
    Fixture &f = it->second;
    static int round = 0;
    const auto insertBatch = [&f] {
        QList<store::NewMessage> batch;
        batch.reserve(1000);
        for (int i = 0; i < 1000; ++i) {
            batch.append(store::NewMessage {f.room, f.user, QStringLiteral("benchmark message body number %1").arg(i),
                                            QStringLiteral("r%1-%2").arg(round).arg(i)});
        }
        ++round;
        const auto r = f.pool->run([&](QSqlDatabase &db) { return store::insertMessages(db, batch, 2); }).result();
        return r && r->size() == 1000 && r->constLast();
    };
    // Warm-up outside the measurement: the first batch prepares the statements.
    QVERIFY(insertBatch());
    QBENCHMARK
    {
        QVERIFY(insertBatch());
    }
}

void BenchStorage::historyLatestPage()
{
    QFETCH(QString, backend);
    const qint64 rows
        = qEnvironmentVariableIsSet("TM_BENCH_ROWS") ? qEnvironmentVariable("TM_BENCH_ROWS").toLongLong() : 10'000'000;
    if (const auto it = m_filled.find(backend); it != m_filled.end()) {
        measureHistory(it->second);
        return;
    }
    Fixture f = fixture(backend);
    // Fill with SQL: 100 rooms, the benchmarked one among them, each room's rows contiguous (as a
    // real table grows: appended in seq order). On SQLite the per-row FTS5 trigger is replaced by
    // one 'rebuild' of the index after the fill, which gives the same table 20x faster.
    const qint64 perRoom = std::max<qint64>(1, rows / 100);
    const bool filled
        = f.pool
              ->run([&](QSqlDatabase &db) {
                  QSqlQuery q(db);
                  const bool pg = backend == QLatin1String("postgres");
                  const auto series = [pg](qint64 n) {
                      return pg ? QStringLiteral("generate_series(1, %1) AS g(n)").arg(n)
                                : QStringLiteral("(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL "
                                                 "SELECT n + 1 FROM s WHERE n < %1) SELECT n FROM s) g")
                                      .arg(n);
                  };
                  bool ok = db.transaction();
                  ok = ok
                      && q.exec(QStringLiteral("INSERT INTO rooms (name, created_at) SELECT 'r', 1 FROM ")
                                + series(99));
                  QString trigger; // the schema's own definition, put back after the fill
                  if (!pg) {
                      ok = ok
                          && q.exec(QStringLiteral(
                              "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'messages_fts_insert'"))
                          && q.next();
                      trigger = ok ? q.value(0).toString() : QString();
                      ok = ok && q.exec(QStringLiteral("DROP TRIGGER messages_fts_insert"));
                  }
                  ok = ok
                      && q.exec(
                          QStringLiteral("INSERT INTO messages (room_id, seq, author_id, body, created_at) "
                                         "SELECT %1 + (g.n - 1) / %3, (g.n - 1) % %3 + 1, %2, 'body ' || g.n, g.n "
                                         "FROM ")
                              .arg(f.room)
                              .arg(f.user)
                              .arg(perRoom)
                          + series(perRoom * 100));
                  if (!pg) {
                      ok = ok && q.exec(QStringLiteral("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')"));
                      ok = ok && q.exec(trigger);
                  }
                  ok = ok && q.exec(QStringLiteral("UPDATE rooms SET last_seq = %1").arg(perRoom));
                  ok = ok && db.commit();
                  ok = ok && q.exec(QStringLiteral("ANALYZE"));
                  if (!ok)
                      qWarning() << "fill failed:" << q.lastError().text();
                  return ok;
              })
              .result();
    QVERIFY(filled);
    measureHistory(m_filled.emplace(backend, std::move(f)).first->second);
}

void BenchStorage::measureHistory(const Fixture &f)
{
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
