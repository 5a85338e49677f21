// No N+1: every list a route serves costs the same number of statements for a small and for a
// large result (5 items vs 200), on both back ends. Counted with sql::queriesOnThisThread()
// inside the database job that runs the store function.
// A group-commit batch (store::insertMessages) costs PostgreSQL a fixed number of round trips,
// counted on the wire: libpq's trace of the connection, one request per Query or Sync message.
#include "server/attachments/attachment_store.h"
#include "server/storage/db_pool.h"
#include "server/storage/project_store.h"
#include "server/storage/room_store.h"
#include "server/storage/search_store.h"
#include "server/storage/sql.h"
#include "server/storage/task_store.h"
#include "server/storage/user_store.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"

#include <QFile>
#include <QSqlDriver>
#include <QTemporaryDir>
#include <QTest>

#include <cstdio>
#include <libpq-fe.h>

using namespace taskmaster;
using namespace taskmaster::server;

class TestQueryCounts final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void lists_data();
    void lists();
    void batchRoundTrips();

private:
    QTemporaryDir m_dir;
    QString m_pgUrl;
};

void TestQueryCounts::initTestCase()
{
    TM_REQUIRE_SERVICE(url, "TM_TEST_DATABASE_URL");
    m_pgUrl = url;
}

void TestQueryCounts::lists_data()
{
    QTest::addColumn<QString>("backend");
    QTest::addColumn<QString>("list");
    for (const char *b : {"sqlite", "postgres"}) {
        for (const char *l : {"rooms", "history", "projects", "tasks", "users", "search"})
            QTest::addRow("%s %s", b, l) << QString::fromLatin1(b) << QString::fromLatin1(l);
    }
}

void TestQueryCounts::lists()
{
    QFETCH(QString, backend);
    QFETCH(QString, list);
    // Statements one list call costs when the user has n of everything.
    auto cost = [&](int n) -> std::pair<qint64, qsizetype> {
        DbPool pool(test::freshDatabase(backend, m_dir, m_pgUrl));
        return pool
            .run([&](QSqlDatabase &db) -> std::pair<qint64, qsizetype> {
                const Id me
                    = store::createUser(db, QStringLiteral("me"), QStringLiteral("Me"), QStringLiteral("h"), 1)->id;
                for (int i = 0; i < n; ++i)
                    (void)store::createUser(db, QStringLiteral("user%1").arg(i), QStringLiteral("U"),
                                            QStringLiteral("h"), 1);
                const Id room = store::createRoom(db, me, QStringLiteral("r"), {}, 1)->room.id;
                QList<store::NewMessage> batch;
                for (int i = 0; i < n; ++i) {
                    (void)store::createRoom(db, me, QStringLiteral("room %1").arg(i), {}, 1);
                    batch.append(store::NewMessage {room, me, QStringLiteral("word %1").arg(i), std::nullopt});
                }
                (void)store::insertMessages(db, batch, 2);
                const Id project = store::createProject(db, me, QStringLiteral("p"), QString(), 1)->id;
                for (int i = 0; i < n; ++i) {
                    (void)store::createProject(db, me, QStringLiteral("p%1").arg(i), QString(), 1);
                    store::NewTask t;
                    t.title = QStringLiteral("word task %1").arg(i);
                    (void)store::createTask(db, project, me, t, 1 + i);
                }
                const qint64 before = sql::queriesOnThisThread();
                qsizetype items = 0;
                if (list == QLatin1String("rooms"))
                    items = store::roomsForUser(db, me)->size();
                else if (list == QLatin1String("history"))
                    items = store::history(db, room, me, std::nullopt, std::nullopt, 200)->items.size();
                else if (list == QLatin1String("projects"))
                    items = store::projectsForUser(db, me)->size();
                else if (list == QLatin1String("tasks"))
                    items = store::listTasks(db, project, me, store::TaskListFilter {{}, {}, {}, 200})->items.size();
                else if (list == QLatin1String("users"))
                    items = store::searchUsers(db, QStringLiteral("user"), 200)->size();
                else {
                    const auto hits = store::search(db, me, QStringLiteral("word"), 200);
                    items = hits->messages.size() + hits->tasks.size();
                }
                return {sql::queriesOnThisThread() - before, items};
            })
            .result();
    };
    const auto [fewQueries, fewItems] = cost(5);
    const auto [manyQueries, manyItems] = cost(200);
    QVERIFY2(manyItems >= 40 * fewItems / 5 || manyItems >= 200, "the large case must return many more items");
    QCOMPARE(manyQueries, fewQueries);
    QVERIFY(fewQueries <= 3);
}

namespace {

// The requests (round trips) `job` sends on db's PostgreSQL connection: the frontend's Query
// (simple protocol) and Sync (extended protocol) messages in libpq's trace of the connection.
// -1 when the connection or the trace file is not there.
template<typename Job> qint64 roundTrips(QSqlDatabase &db, const QString &traceFile, Job &&job)
{
    const QVariant handle = db.driver()->handle();
    if (qstrcmp(handle.typeName(), "pg_conn*") != 0 && qstrcmp(handle.typeName(), "PGconn*") != 0)
        return -1;
    PGconn *conn = *static_cast<PGconn *const *>(handle.constData());
    FILE *trace = std::fopen(QFile::encodeName(traceFile).constData(), "w");
    if (!conn || !trace)
        return -1;
    PQtrace(conn, trace);
    PQsetTraceFlags(conn, PQTRACE_SUPPRESS_TIMESTAMPS);
    job();
    PQuntrace(conn);
    std::fclose(trace);
    QFile f(traceFile);
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    qint64 requests = 0;
    while (!f.atEnd()) {
        const QList<QByteArray> fields = f.readLine().split('\t');
        if (fields.size() >= 3 && fields[0] == "F" && (fields[2] == "Query" || fields[2].startsWith("Sync")))
            ++requests;
    }
    return requests;
}

} // namespace

void TestQueryCounts::batchRoundTrips()
{
    // BEGIN, one statement that locks the rooms and reads memberships and stored clientIds, one
    // that reserves the seqs, inserts the rows and records their events, COMMIT: 4 round trips for
    // one message or for 200 in 40 rooms (it was 8). A batch of duplicates writes nothing and reads
    // the stored messages' attachments instead: 4 again. A batch with an attachment also reads the
    // uploads and links them: 6.
    DbPool pool(test::freshDatabase(QStringLiteral("postgres"), m_dir, m_pgUrl));
    const QString traceFile = m_dir.filePath(QStringLiteral("libpq-trace.txt"));
    const auto counts
        = pool.run([&](QSqlDatabase &db) -> QList<qint64> {
                  const Id me
                      = store::createUser(db, QStringLiteral("me"), QStringLiteral("Me"), QStringLiteral("h"), 1)->id;
                  const Id other
                      = store::createUser(db, QStringLiteral("other"), QStringLiteral("O"), QStringLiteral("h"), 1)->id;
                  QList<Id> rooms;
                  for (int i = 0; i < 40; ++i)
                      rooms << store::createRoom(db, me, QStringLiteral("r"), {other}, 1)->room.id;
                  const auto batch = [&](int n, const QString &prefix) {
                      QList<store::NewMessage> b;
                      for (int i = 0; i < n; ++i)
                          b.append(store::NewMessage {rooms[i % rooms.size()], i % 3 ? me : other, QStringLiteral("m"),
                                                      prefix + QString::number(i)});
                      return b;
                  };
                  const auto send = [&](const QList<store::NewMessage> &b) {
                      const auto r = store::insertMessages(db, b, 2);
                      if (!r || r->size() != b.size() || !r->constLast())
                          qFatal("insertMessages failed");
                  };
                  send(batch(3, QStringLiteral("warm"))); // prepares the statements
                  QList<qint64> out;
                  out << roundTrips(db, traceFile, [&] { send(batch(1, QStringLiteral("one"))); });
                  out << roundTrips(db, traceFile, [&] { send(batch(200, QStringLiteral("many"))); });
                  send(batch(200, QStringLiteral("many"))); // prepares the attachments' read
                  out << roundTrips(db, traceFile, [&] { send(batch(200, QStringLiteral("many"))); });
                  Attachment file;
                  file.name = QStringLiteral("f.bin");
                  file.size = 3;
                  file.contentType = QStringLiteral("application/octet-stream");
                  file.sha256 = QString(64, QLatin1Char('a'));
                  file.createdAt = QDateTime::fromMSecsSinceEpoch(1, Qt::UTC);
                  file.uploaderId = me;
                  const auto withFile = [&](const QString &prefix) {
                      auto b = batch(1, prefix);
                      b[0].authorId = me;
                      b[0].attachmentIds = {store::insertAttachment(db, file)->id};
                      return b;
                  };
                  send(withFile(QStringLiteral("warm file"))); // prepares the attachments' statements
                  const auto second = withFile(QStringLiteral("file"));
                  out << roundTrips(db, traceFile, [&] { send(second); });
                  return out;
              })
              .result();
    QCOMPARE(counts, (QList<qint64> {4, 4, 4, 6}));
}

QTEST_GUILESS_MAIN(TestQueryCounts)
#include "tst_query_counts.moc"
