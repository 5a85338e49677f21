// Proves the real services of the test command are reachable: PostgreSQL through Qt's QPSQL
// driver (as the server will use it) and Redis through hiredis.
#include "server/storage/database_url.h"
#include "tests/support/test_env.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>
#include <QUrl>

#include <hiredis/hiredis.h>
#include <memory>

using namespace taskmaster;

class TestServices final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void postgresql();
    void redis();
    void databaseUrl_data();
    void databaseUrl();
};

void TestServices::postgresql()
{
    TM_REQUIRE_SERVICE(url, "TM_TEST_DATABASE_URL");
    auto parsed = server::parseDatabaseUrl(url);
    QVERIFY2(parsed, qPrintable(parsed ? QString() : parsed.error().message));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), QStringLiteral("probe"));
        db.setHostName(parsed->host);
        db.setPort(parsed->port);
        db.setUserName(parsed->user);
        db.setPassword(parsed->password);
        db.setDatabaseName(parsed->database);
        QVERIFY2(db.open(), qPrintable(db.lastError().text()));
        QSqlQuery q(db);
        QVERIFY2(q.exec(QStringLiteral("SELECT current_setting('server_version_num')::int, current_database()")),
                 qPrintable(q.lastError().text()));
        QVERIFY(q.next());
        QVERIFY2(q.value(0).toInt() >= 150000, "PostgreSQL 15 or later expected");
        QCOMPARE(q.value(1).toString(), parsed->database);
        // A round trip through a temporary table, with text that needs quoting.
        QVERIFY(q.exec(QStringLiteral("CREATE TEMP TABLE probe (v text)")));
        QVERIFY(q.prepare(QStringLiteral("INSERT INTO probe VALUES (?)")));
        q.addBindValue(QStringLiteral("'; DROP TABLE probe; --"));
        QVERIFY(q.exec());
        QVERIFY(q.exec(QStringLiteral("SELECT v FROM probe")));
        QVERIFY(q.next());
        QCOMPARE(q.value(0).toString(), QStringLiteral("'; DROP TABLE probe; --"));
    }
    QSqlDatabase::removeDatabase(QStringLiteral("probe"));
}

void TestServices::redis()
{
    TM_REQUIRE_SERVICE(url, "TM_TEST_REDIS_URL");
    const QUrl u(url);
    QCOMPARE(u.scheme(), QStringLiteral("redis"));
    const timeval timeout {5, 0};
    std::unique_ptr<redisContext, decltype(&redisFree)> ctx(
        redisConnectWithTimeout(u.host().toUtf8().constData(), u.port(6379), timeout), &redisFree);
    QVERIFY(ctx);
    QVERIFY2(ctx->err == 0, ctx->errstr);
    auto command = [&](const char *fmt, auto... args) {
        return std::unique_ptr<redisReply, decltype(&freeReplyObject)>(
            static_cast<redisReply *>(redisCommand(ctx.get(), fmt, args...)), &freeReplyObject);
    };
    auto pong = command("PING");
    QVERIFY(pong);
    QCOMPARE(pong->type, REDIS_REPLY_STATUS);
    QCOMPARE(QByteArray(pong->str, qsizetype(pong->len)), QByteArray("PONG"));
    auto incr = command("INCR %s", "tm:test:probe");
    QVERIFY(incr);
    QCOMPARE(incr->type, REDIS_REPLY_INTEGER);
    QVERIFY(incr->integer >= 1);
}

void TestServices::databaseUrl_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("database");
    QTest::newRow("full") << QStringLiteral("postgres://tm:secret@127.0.0.1:5433/taskmaster") << true
                          << QStringLiteral("127.0.0.1") << 5433 << QStringLiteral("tm")
                          << QStringLiteral("taskmaster");
    QTest::newRow("default port") << QStringLiteral("postgresql://u@db.local/x") << true << QStringLiteral("db.local")
                                  << 5432 << QStringLiteral("u") << QStringLiteral("x");
    QTest::newRow("no database") << QStringLiteral("postgres://u@h:1/") << false << QString() << 0 << QString()
                                 << QString();
    QTest::newRow("wrong scheme") << QStringLiteral("mysql://u@h/x") << false << QString() << 0 << QString()
                                  << QString();
    QTest::newRow("garbage") << QStringLiteral("not a url") << false << QString() << 0 << QString() << QString();
    // Found by fuzz_urls: QPSQL's connect options are "key=value;key=value", so a ';' in a query
    // item smuggled in another libpq parameter (fuzz/corpus/fuzz_urls/regress-option-semicolon).
    QTest::newRow("';' in an option's value") << QStringLiteral("postgres://u@h/x?application_name=a;password=b")
                                              << false << QString() << 0 << QString() << QString();
    QTest::newRow("';' in an option's name")
        << QStringLiteral("postgres://u@h/x?sslm;ode=disable") << false << QString() << 0 << QString() << QString();
    QTest::newRow("option without a name")
        << QStringLiteral("postgres://u@h/x?=disable") << false << QString() << 0 << QString() << QString();
    QTest::newRow("option encoded ';'") << QStringLiteral("postgres://u@h/x?application_name=a%3Bb") << false
                                        << QString() << 0 << QString() << QString();
    QTest::newRow("options") << QStringLiteral("postgres://u@h/x?sslmode=disable&connect_timeout=5") << true
                             << QStringLiteral("h") << 5432 << QStringLiteral("u") << QStringLiteral("x");
    QTest::newRow("port 0") << QStringLiteral("postgres://u@h:0/x") << false << QString() << 0 << QString()
                            << QString();
}

void TestServices::databaseUrl()
{
    QFETCH(QString, url);
    QFETCH(bool, valid);
    auto d = server::parseDatabaseUrl(url);
    QCOMPARE(bool(d), valid);
    if (!d) {
        QCOMPARE(d.error().field, QStringLiteral("database-url"));
        return;
    }
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(QString, user);
    QFETCH(QString, database);
    QCOMPARE(d->host, host);
    QCOMPARE(d->port, port);
    QCOMPARE(d->user, user);
    QCOMPARE(d->database, database);
}

QTEST_GUILESS_MAIN(TestServices)
#include "tst_services.moc"
