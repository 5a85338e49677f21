// Server configuration: precedence (command line > environment > default) and bad values.
#include "server/config/config.h"

#include <QTest>

using namespace taskmaster;
using namespace taskmaster::server;

class TestConfig final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void defaults();
    void precedence();
    void badValues_data();
    void badValues();
    void help();
};

void TestConfig::defaults()
{
    auto c = loadConfig({QStringLiteral("taskmaster-server")}, {});
    QVERIFY(c);
    QCOMPARE(c->listenHost, QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(c->listenPort, quint16(8080));
    QVERIFY(c->databaseUrl.isEmpty());
    QVERIFY(c->redisUrl.isEmpty());
    QVERIFY(c->instanceName.startsWith(QLatin1String("tm-")));
}

void TestConfig::precedence()
{
    const QStringList env {QStringLiteral("TM_LISTEN=127.0.0.2:9000"), QStringLiteral("TM_INSTANCE_NAME=from-env"),
                           QStringLiteral("TM_REDIS_URL=redis://127.0.0.1:6400")};
    auto c = loadConfig({QStringLiteral("s"), QStringLiteral("--listen"), QStringLiteral("[::1]:0")}, env);
    QVERIFY(c);
    QCOMPARE(c->listenHost, QHostAddress(QHostAddress::LocalHostIPv6)); // command line wins
    QCOMPARE(c->listenPort, quint16(0));
    QCOMPARE(c->instanceName, QStringLiteral("from-env")); // environment beats default
    QCOMPARE(c->redisUrl, QStringLiteral("redis://127.0.0.1:6400"));
}

void TestConfig::badValues_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("listen without port") << QStringList {QStringLiteral("--listen"), QStringLiteral("127.0.0.1")}
                                         << "listen";
    QTest::newRow("listen port too big") << QStringList {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:70000")}
                                         << "listen";
    QTest::newRow("listen host name") << QStringList {QStringLiteral("--listen"), QStringLiteral("example:80")}
                                      << "listen";
    QTest::newRow("database url scheme") << QStringList {QStringLiteral("--database-url"), QStringLiteral("mysql://x")}
                                         << "database-url";
    QTest::newRow("redis url scheme") << QStringList {QStringLiteral("--redis-url"), QStringLiteral("http://x")}
                                      << "redis-url";
    QTest::newRow("unknown option") << QStringList {QStringLiteral("--frobnicate")} << "frobnicate";
    QTest::newRow("missing value") << QStringList {QStringLiteral("--listen")} << "listen";
    QTest::newRow("positional") << QStringList {QStringLiteral("extra")} << "extra";
}

void TestConfig::badValues()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    args.prepend(QStringLiteral("taskmaster-server"));
    auto c = loadConfig(args, {});
    QVERIFY(!c);
    QCOMPARE(c.error().code, ErrorCode::BadRequest);
    QVERIFY2(c.error().message.contains(mentions), qPrintable(c.error().message));
}

void TestConfig::help()
{
    auto c = loadConfig({QStringLiteral("s"), QStringLiteral("--help")}, {});
    QVERIFY(!c);
    for (const char *opt :
         {"--listen", "--data-dir", "--database-url", "--redis-url", "--instance-name", "--config", "TM_LISTEN"})
        QVERIFY2(c.error().message.contains(QLatin1String(opt)), opt);
}

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"
