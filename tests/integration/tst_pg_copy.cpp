// sql::pgCopy and sql::appendCopyField (issue 18: COPY for batch inserts and seeding): rows with
// tabs, newlines, carriage returns, backslashes, quotes and non-Latin text round-trip through
// COPY's text format into messages, inside the caller's transaction (rolled back: nothing
// stays); a duplicate (room, seq) is a Conflict like run()'s; on SQLite it refuses cleanly.
#include "server/storage/db_pool.h"
#include "server/storage/room_store.h"
#include "server/storage/sql.h"
#include "server/storage/user_store.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"

#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace taskmaster;
using namespace taskmaster::server;

class TestPgCopy final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void roundTrip();
    void sqliteRefused();

private:
    QTemporaryDir m_dir;
    QString m_pgUrl;
};

void TestPgCopy::initTestCase()
{
    TM_REQUIRE_SERVICE(url, "TM_TEST_DATABASE_URL");
    m_pgUrl = url;
}

void TestPgCopy::roundTrip()
{
    DbPool pool(test::freshDatabase(QStringLiteral("postgres"), m_dir, m_pgUrl));
    const QStringList bodies {QStringLiteral("plain"),
                              QStringLiteral("tab\there"),
                              QStringLiteral("two\nlines\r\nand CR"),
                              QStringLiteral("back\\slash \\N \\t literal"),
                              QStringLiteral("quotes ' \" and , ;"),
                              QStringLiteral("Grüße, 日本語, emoji 🚀"),
                              QString()};
    const bool ok
        = pool.run([&](QSqlDatabase &db) {
                  const Id user
                      = store::createUser(db, QStringLiteral("copy"), QStringLiteral("C"), QStringLiteral("h"), 1)->id;
                  const Id room = store::createRoom(db, user, QStringLiteral("r"), {}, 1)->room.id;
                  const auto rowsFor = [&](qint64 firstSeq) {
                      QByteArray rows;
                      for (qsizetype i = 0; i < bodies.size(); ++i) {
                          rows += QByteArray::number(room) + '\t' + QByteArray::number(firstSeq + i) + '\t'
                              + QByteArray::number(user) + '\t';
                          sql::appendCopyField(rows, bodies[i]);
                          rows += "\t\\N\t7\n";
                      }
                      return rows;
                  };
                  const char *copy = "COPY messages (room_id, seq, author_id, body, client_id, created_at) FROM STDIN";
                  {
                      sql::Transaction tx(db);
                      const auto copied = sql::pgCopy(db, "test.copy", copy, rowsFor(1));
                      if (!copied || *copied != bodies.size() || tx.commit())
                          return false;
                  }
                  QSqlQuery q(db);
                  if (!q.exec(QStringLiteral("SELECT body, client_id IS NULL, created_at FROM messages "
                                             "WHERE room_id = %1 ORDER BY seq")
                                  .arg(room)))
                      return false;
                  for (const QString &expected : bodies) {
                      if (!q.next() || q.value(0).toString() != expected || !q.value(1).toBool()
                          || q.value(2).toLongLong() != 7) {
                          qWarning() << "row differs:" << q.value(0).toString() << "expected" << expected;
                          return false;
                      }
                  }
                  // In a transaction rolled back: nothing stays.
                  {
                      sql::Transaction tx(db);
                      const auto copied = sql::pgCopy(db, "test.copy", copy, rowsFor(100));
                      if (!copied || *copied != bodies.size())
                          return false;
                  }
                  if (!q.exec(QStringLiteral("SELECT count(*) FROM messages WHERE room_id = %1").arg(room)) || !q.next()
                      || q.value(0).toLongLong() != bodies.size())
                      return false;
                  // A duplicate (room, seq): Conflict, and the connection still works.
                  {
                      sql::Transaction tx(db);
                      const auto copied = sql::pgCopy(db, "test.copy", copy, rowsFor(1));
                      if (copied || copied.error().code != ErrorCode::Conflict) {
                          qWarning() << "duplicate copy not refused as Conflict";
                          return false;
                      }
                  }
                  return q.exec(QStringLiteral("SELECT 1")) && q.next();
              })
              .result();
    QVERIFY(ok);
}

void TestPgCopy::sqliteRefused()
{
    DbPool pool(test::freshDatabase(QStringLiteral("sqlite"), m_dir, m_pgUrl));
    const auto copied = pool.run([](QSqlDatabase &db) {
                                return sql::pgCopy(db, "test.copy", "COPY messages (body) FROM STDIN", "x\n");
                            })
                            .result();
    QVERIFY(!copied);
}

QTEST_GUILESS_MAIN(TestPgCopy)
#include "tst_pg_copy.moc"
