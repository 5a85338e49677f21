// No N+1: every list a route serves costs the same number of statements for a small and for a
// large result (5 items vs 200), on both back ends. Counted with sql::queriesOnThisThread()
// inside the database job that runs the store function.
#include "server/storage/db_pool.h"
#include "server/storage/project_store.h"
#include "server/storage/room_store.h"
#include "server/storage/search_store.h"
#include "server/storage/sql.h"
#include "server/storage/task_store.h"
#include "server/storage/user_store.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"

#include <QTemporaryDir>
#include <QTest>

using namespace taskmaster;
using namespace taskmaster::server;

class TestQueryCounts final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void lists_data();
    void lists();

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

QTEST_GUILESS_MAIN(TestQueryCounts)
#include "tst_query_counts.moc"
