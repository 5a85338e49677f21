// Migrations on both back ends: a fresh database reaches the bundled version with every table
// and search index usable; a second run changes nothing; instances migrating the same database
// at once all succeed; the statement splitter keeps trigger bodies whole.
#include "server/storage/db_pool.h"
#include "server/storage/migrator.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using taskmaster::test::backendRows;
using namespace taskmaster;
using namespace taskmaster::server;

class TestMigrations final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void split_data();
    void split();
    void freshDatabase_data() { backendRows(); }
    void freshDatabase();
    void concurrentInstances_data() { backendRows(); }
    void concurrentInstances();

private:
    DbPoolOptions emptyDatabase(const QString &backend) { return test::freshDatabase(backend, m_dir, m_pgUrl, false); }

    QTemporaryDir m_dir;
    QString m_pgUrl;
};

void TestMigrations::initTestCase()
{
    QVERIFY(!Migrator::bundled(Migrator::Backend::Sqlite).isEmpty());
    QCOMPARE(Migrator::bundled(Migrator::Backend::Sqlite).constLast().version,
             Migrator::bundled(Migrator::Backend::Postgres).constLast().version);
    TM_REQUIRE_SERVICE(url, "TM_TEST_DATABASE_URL");
    m_pgUrl = url;
}

void TestMigrations::split_data()
{
    QTest::addColumn<QString>("sql");
    QTest::addColumn<int>("count");
    QTest::newRow("two") << QStringLiteral("CREATE TABLE a (x int);\nCREATE TABLE b (y int);\n") << 2;
    QTest::newRow("comments dropped") << QStringLiteral("-- a; comment;\nCREATE TABLE a (x int);\n-- trailing\n") << 1;
    QTest::newRow("multi-line") << QStringLiteral("CREATE TABLE a (\n  x int,\n  y int\n);\nSELECT 1;") << 2;
    QTest::newRow("trigger kept whole") << QStringLiteral("CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  INSERT INTO b "
                                                          "VALUES (1);\n  INSERT INTO b VALUES (2);\nEND;\nSELECT 1;\n")
                                        << 2;
    QTest::newRow("no final semicolon") << QStringLiteral("SELECT 1") << 1;
    QTest::newRow("empty") << QString() << 0;
}

void TestMigrations::split()
{
    QFETCH(QString, sql);
    QFETCH(int, count);
    const QStringList statements = Migrator::splitStatements(sql);
    QCOMPARE(statements.size(), count);
    for (const QString &s : statements)
        QVERIFY(!s.startsWith(QLatin1String("--")));
}

void TestMigrations::freshDatabase()
{
    QFETCH(QString, backend);
    const DbPoolOptions o = emptyDatabase(backend);
    DbPool pool(o);
    const int expected = Migrator::bundled(o.backend).constLast().version;

    auto first
        = pool.run([&](QSqlDatabase &db) { return Migrator::migrate(db, o.backend, Migrator::bundled(o.backend)); })
              .result();
    QVERIFY2(first, first ? "" : qPrintable(first.error().message));
    QCOMPARE(*first, expected);
    auto again
        = pool.run([&](QSqlDatabase &db) { return Migrator::migrate(db, o.backend, Migrator::bundled(o.backend)); })
              .result();
    QVERIFY(again);
    QCOMPARE(*again, expected);

    // The schema holds a user, a room, a message and its event, and full-text search finds it.
    const QString error
        = pool.run([&](QSqlDatabase &db) -> QString {
                  QSqlQuery q(db);
                  const QStringList statements {
                      QStringLiteral("INSERT INTO users (username, display_name, password_hash, created_at) VALUES "
                                     "('alice', 'Alice', 'x', 1)"),
                      QStringLiteral("INSERT INTO rooms (name, created_at) VALUES ('general', 1)"),
                      QStringLiteral("INSERT INTO room_members (room_id, user_id, joined_at) VALUES (1, 1, 1)"),
                      QStringLiteral("INSERT INTO messages (room_id, seq, author_id, body, client_id, created_at) "
                                     "VALUES (1, 1, 1, 'deploy the rocket', 'c1', 1)"),
                      QStringLiteral("INSERT INTO channel_events (channel_kind, channel_id, seq, type, entity_id, "
                                     "created_at) VALUES (0, 1, 1, 0, 1, 1)"),
                  };
                  for (const QString &s : statements) {
                      if (!q.exec(s))
                          return s + QStringLiteral(": ") + q.lastError().text();
                  }
                  // Idempotency key: the same author and clientId cannot insert twice.
                  if (q.exec(QStringLiteral("INSERT INTO messages (room_id, seq, author_id, body, client_id, "
                                            "created_at) VALUES (1, 2, 1, 'dup', 'c1', 1)")))
                      return QStringLiteral("duplicate clientId accepted");
                  // Seq is unique per room.
                  if (q.exec(QStringLiteral("INSERT INTO messages (room_id, seq, author_id, body, created_at) VALUES "
                                            "(1, 1, 1, 'dup seq', 1)")))
                      return QStringLiteral("duplicate seq accepted");
                  const QString search = o.backend == DbPoolOptions::Backend::Sqlite
                      ? QStringLiteral("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'rocket'")
                      : QStringLiteral("SELECT id FROM messages WHERE search @@ plainto_tsquery('simple', 'rocket')");
                  if (!q.exec(search) || !q.next() || q.value(0).toLongLong() != 1)
                      return QStringLiteral("search did not find the message: ") + q.lastError().text();
                  return {};
              })
              .result();
    QVERIFY2(error.isEmpty(), qPrintable(error));
}

void TestMigrations::concurrentInstances()
{
    QFETCH(QString, backend);
    const DbPoolOptions o = emptyDatabase(backend);
    // Four pools stand for four instances starting at the same moment.
    std::vector<std::unique_ptr<DbPool>> instances;
    QList<QFuture<Result<int>>> results;
    for (int i = 0; i < 4; ++i) {
        instances.push_back(std::make_unique<DbPool>(o));
        results << instances.back()->run(
            [&](QSqlDatabase &db) { return Migrator::migrate(db, o.backend, Migrator::bundled(o.backend)); });
    }
    const int expected = Migrator::bundled(o.backend).constLast().version;
    for (auto &f : results) {
        const Result<int> r = f.result();
        QVERIFY2(r, r ? "" : qPrintable(r.error().message));
        QCOMPARE(*r, expected);
    }
    const int rows = instances.front()
                         ->run([](QSqlDatabase &db) {
                             QSqlQuery q(db);
                             q.exec(QStringLiteral("SELECT count(*) FROM schema_migrations"));
                             return q.next() ? q.value(0).toInt() : -1;
                         })
                         .result();
    QCOMPARE(rows, int(Migrator::bundled(o.backend).size()));
}

QTEST_GUILESS_MAIN(TestMigrations)
#include "tst_migrations.moc"
