// Server configuration: precedence (command line > environment > default) and bad values.
#include "server/config/config.h"
#include "shared/core/version.h"

#include <QRegularExpression>
#include <QTemporaryDir>
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
    void version();
    void configFile();
    void badConfigFile_data();
    void badConfigFile();
    void scaleOutOptions();
    void frontLimits();
    void uploadOptions();
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
    QCOMPARE(c->listenBacklog, 4096);
    auto e = loadConfig({QStringLiteral("taskmaster-server")}, {QStringLiteral("TM_LISTEN_BACKLOG=128")});
    QVERIFY(e);
    QCOMPARE(e->listenBacklog, 128);
    QCOMPARE(c->wsHelloConcurrency, 0); // a quarter of the database pool
    QCOMPARE(c->wsHelloQueue, 10000);
    auto h = loadConfig(
        {QStringLiteral("taskmaster-server"), QStringLiteral("--ws-hello-concurrency"), QStringLiteral("3")},
        {QStringLiteral("TM_WS_HELLO_CONCURRENCY=5"), QStringLiteral("TM_WS_HELLO_QUEUE=0")});
    QVERIFY(h);
    QCOMPARE(h->wsHelloConcurrency, 3); // the option wins over the environment
    QCOMPARE(h->wsHelloQueue, 0); // 0: refuse whatever cannot start at once
    QCOMPARE(c->wsReconnectRate, 600);
    auto r = loadConfig({QStringLiteral("taskmaster-server")}, {QStringLiteral("TM_WS_RECONNECT_RATE=0")});
    QVERIFY(r);
    QCOMPARE(r->wsReconnectRate, 0); // 0: no reconnectWindowMs hint
    QCOMPARE(c->wsRebalanceRate, 50);
    QCOMPARE(c->wsDrainRate, 150);
    auto b = loadConfig({QStringLiteral("taskmaster-server")}, {QStringLiteral("TM_WS_REBALANCE_RATE=0")});
    QVERIFY(b);
    QCOMPARE(b->wsRebalanceRate, 0); // 0: never sends connections elsewhere
    QCOMPARE(c->presenceBatchMs, 100);
    auto p = loadConfig({QStringLiteral("taskmaster-server")}, {QStringLiteral("TM_PRESENCE_BATCH_MS=0")});
    QVERIFY(p);
    QCOMPARE(p->presenceBatchMs, 0); // 0: each presence change at once
    QCOMPARE(c->presenceRoomLimit, 1000);
    auto l = loadConfig({QStringLiteral("taskmaster-server")}, {QStringLiteral("TM_PRESENCE_ROOM_LIMIT=0")});
    QVERIFY(l);
    QCOMPARE(l->presenceRoomLimit, 0); // 0: every room's presence pushed
}

void TestConfig::scaleOutOptions()
{
    auto d = loadConfig({QStringLiteral("s")}, {});
    QVERIFY(d);
    QCOMPARE(d->cacheMib, 64);
    QCOMPARE(d->rateApi, (RateRule {100, 200}));
    QCOMPARE(d->rateAuth, (RateRule {2, 30}));
    QVERIFY(d->trustedProxies.isEmpty());
    QVERIFY(d->databaseReplicaUrl.isEmpty());
    auto c = loadConfig({QStringLiteral("s"), QStringLiteral("--rate-api"), QStringLiteral("0"),
                         QStringLiteral("--trusted-proxies"), QStringLiteral("127.0.0.1, 10.0.0.0/8,::1"),
                         QStringLiteral("--database-url"), QStringLiteral("postgres://u@h/db")},
                        {QStringLiteral("TM_RATE_AUTH=0.5/5"), QStringLiteral("TM_CACHE_MIB=0"),
                         QStringLiteral("TM_DATABASE_REPLICA_URL=postgres://u@h:5433/db"),
                         QStringLiteral("TM_REPLICA_FRESH_MS=250")});
    QVERIFY2(c, c ? "" : qPrintable(c.error().message));
    QVERIFY(!c->rateApi.enabled());
    QCOMPARE(c->rateAuth, (RateRule {0.5, 5}));
    QCOMPARE(c->cacheMib, 0);
    QCOMPARE(c->trustedProxies.size(), 3);
    QVERIFY(QHostAddress(QStringLiteral("10.200.1.1")).isInSubnet(c->trustedProxies.at(1)));
    QVERIFY(!QHostAddress(QStringLiteral("127.0.0.2")).isInSubnet(c->trustedProxies.at(0)));
    QCOMPARE(c->trustedProxies.at(2).second, 128);
    QCOMPARE(c->databaseReplicaUrl, QStringLiteral("postgres://u@h:5433/db"));
    QCOMPARE(c->replicaFreshMs, 250);
}

// The HTTP front's limits: defaults, and option > environment > file for each.
void TestConfig::frontLimits()
{
    auto d = loadConfig({QStringLiteral("s")}, {});
    QVERIFY(d);
    QCOMPARE(d->httpMaxBodyKib, 1024);
    QCOMPARE(d->httpMaxHeaderKib, 16);
    QCOMPARE(d->httpMaxHeaders, 100);
    QCOMPARE(d->httpHeadTimeoutMs, 10000);
    QCOMPARE(d->httpBodyTimeoutMs, 30000);
    QCOMPARE(d->httpIdleTimeoutMs, 60000);
    QCOMPARE(d->maxConnections, 0); // the open-files limit less 512 (HttpFront)
    QCOMPARE(d->maxConnectionsPerAddress, 1000);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("tm.conf"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("http-max-body-kib = 64\nhttp-max-header-kib = 4\nhttp-max-headers = 20\n"
            "http-head-timeout-ms = 700\nhttp-body-timeout-ms = 800\nhttp-idle-timeout-ms = 900\n"
            "max-connections = 50\nmax-connections-per-address = 5\n");
    f.close();
    auto c = loadConfig({QStringLiteral("s"), QStringLiteral("--config"), path, QStringLiteral("--max-connections"),
                         QStringLiteral("60"), QStringLiteral("--http-head-timeout-ms"), QStringLiteral("600")},
                        {QStringLiteral("TM_MAX_CONNECTIONS=70"), QStringLiteral("TM_MAX_CONNECTIONS_PER_ADDRESS=0"),
                         QStringLiteral("TM_HTTP_IDLE_TIMEOUT_MS=1000")});
    QVERIFY2(c, c ? "" : qPrintable(c.error().message));
    QCOMPARE(c->maxConnections, 60); // option over environment over file
    QCOMPARE(c->httpHeadTimeoutMs, 600); // option over file
    QCOMPARE(c->maxConnectionsPerAddress, 0); // environment over file; 0 turns the cap off
    QCOMPARE(c->httpIdleTimeoutMs, 1000);
    QCOMPARE(c->httpMaxBodyKib, 64); // file over default
    QCOMPARE(c->httpMaxHeaderKib, 4);
    QCOMPARE(c->httpMaxHeaders, 20);
    QCOMPARE(c->httpBodyTimeoutMs, 800);
}

void TestConfig::uploadOptions()
{
    auto d = loadConfig({QStringLiteral("s")}, {});
    QVERIFY(d);
    QCOMPARE(d->maxUploadMib, 25);
    QCOMPARE(d->uploadQuotaMib, 1024);
    QCOMPARE(d->attachmentMibPerS, 16);
    QCOMPARE(d->rateUpload.perSecond, 1.0);
    QVERIFY(d->uploadDenyTypes.contains(QStringLiteral("text/html")));
    QVERIFY(d->uploadDenyTypes.contains(QStringLiteral("image/svg+xml")));
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("tm.conf"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(
        "max-upload-mib = 5\nupload-quota-mib = 50\nupload-deny-types = application/x-sh\nattachment-mib-per-s = 0\n");
    f.close();
    auto c = loadConfig({QStringLiteral("s"), QStringLiteral("--config"), path, QStringLiteral("--max-upload-mib"),
                         QStringLiteral("7")},
                        {QStringLiteral("TM_MAX_UPLOAD_MIB=6"), QStringLiteral("TM_RATE_UPLOAD=0")});
    QVERIFY2(c, c ? "" : qPrintable(c.error().message));
    QCOMPARE(c->maxUploadMib, 7); // option over environment over file
    QCOMPARE(c->uploadQuotaMib, 50); // file over default
    QCOMPARE(c->attachmentMibPerS, 0); // no limit
    QCOMPARE(c->uploadDenyTypes, QStringList {QStringLiteral("application/x-sh")}); // replaces the default
    QVERIFY(!c->rateUpload.enabled());
    auto e = loadConfig({QStringLiteral("s"), QStringLiteral("--upload-deny-types"), QString()}, {});
    QVERIFY(e);
    QVERIFY(e->uploadDenyTypes.isEmpty()); // set to nothing: nothing is refused
    QVERIFY(!loadConfig({QStringLiteral("s"), QStringLiteral("--upload-deny-types"), QStringLiteral("html")}, {}));
    QVERIFY(!loadConfig({QStringLiteral("s"), QStringLiteral("--max-upload-mib"), QStringLiteral("0")}, {}));
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
    auto n = loadConfig({QStringLiteral("s"), QStringLiteral("--db-pool-max"), QStringLiteral("7")},
                        {QStringLiteral("TM_DB_POOL_MIN=3"), QStringLiteral("TM_STATEMENT_TIMEOUT_MS=2500")});
    QVERIFY(n);
    QCOMPARE(n->dbPoolMin, 3);
    QCOMPARE(n->dbPoolMax, 7);
    QCOMPARE(n->statementTimeoutMs, 2500);
    QCOMPARE(n->slowQueryMs, 200);
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
    QTest::newRow("pool min not a number")
        << QStringList {QStringLiteral("--db-pool-min"), QStringLiteral("many")} << "db-pool-min";
    QTest::newRow("pool max zero") << QStringList {QStringLiteral("--db-pool-max"), QStringLiteral("0")}
                                   << "db-pool-max";
    QTest::newRow("pool min above max") << QStringList {QStringLiteral("--db-pool-min"), QStringLiteral("9"),
                                                        QStringLiteral("--db-pool-max"), QStringLiteral("3")}
                                        << "db-pool-min";
    QTest::newRow("statement timeout too small")
        << QStringList {QStringLiteral("--statement-timeout-ms"), QStringLiteral("5")} << "statement-timeout-ms";
    QTest::newRow("slow query negative") << QStringList {QStringLiteral("--slow-query-ms"), QStringLiteral("-1")}
                                         << "slow-query-ms";
    QTest::newRow("session ttl text") << QStringList {QStringLiteral("--session-ttl-hours"), QStringLiteral("1d")}
                                      << "session-ttl-hours";
    const auto row = [](const char *name, std::initializer_list<const char *> args, const char *mentions) {
        QStringList list;
        for (const char *a : args)
            list << QString::fromLatin1(a);
        QTest::newRow(name) << list << QString::fromLatin1(mentions);
    };
    row("cache size negative", {"--cache-mib", "-1"}, "cache-mib");
    row("cache ttl zero", {"--cache-ttl-s", "0"}, "cache-ttl-s");
    row("api rate words", {"--rate-api", "fast"}, "rate-api");
    row("api rate negative", {"--rate-api", "-5/10"}, "rate-api");
    row("auth rate burst below one", {"--rate-auth", "1/0"}, "rate-auth");
    row("trusted proxy name", {"--trusted-proxies", "nginx.local"}, "trusted-proxies");
    row("trusted proxy bad subnet", {"--trusted-proxies", "10.0.0.0/99"}, "trusted-proxies");
    row("replica scheme", {"--database-url", "postgres://a@b/c", "--database-replica-url", "mysql://x"},
        "database-replica-url");
    row("replica without primary", {"--database-replica-url", "postgres://a@b/c"}, "database-replica-url");
    row("replica fresh negative", {"--replica-fresh-ms", "-1"}, "replica-fresh-ms");
    row("listen backlog zero", {"--listen-backlog", "0"}, "listen-backlog");
    row("listen backlog over 65535", {"--listen-backlog", "70000"}, "listen-backlog");
    row("listen backlog text", {"--listen-backlog", "many"}, "listen-backlog");
    row("hello concurrency negative", {"--ws-hello-concurrency", "-1"}, "ws-hello-concurrency");
    row("hello concurrency over 10000", {"--ws-hello-concurrency", "10001"}, "ws-hello-concurrency");
    row("hello queue negative", {"--ws-hello-queue", "-1"}, "ws-hello-queue");
    row("hello queue text", {"--ws-hello-queue", "lots"}, "ws-hello-queue");
    row("reconnect rate negative", {"--ws-reconnect-rate", "-1"}, "ws-reconnect-rate");
    row("reconnect rate too high", {"--ws-reconnect-rate", "1000001"}, "ws-reconnect-rate");
    row("rebalance rate negative", {"--ws-rebalance-rate", "-5"}, "ws-rebalance-rate");
    row("rebalance rate not a number", {"--ws-rebalance-rate", "fast"}, "ws-rebalance-rate");
    row("drain rate negative", {"--ws-drain-rate", "-1"}, "ws-drain-rate");
    row("attachment rate negative", {"--attachment-mib-per-s", "-1"}, "attachment-mib-per-s");
    row("attachment rate over 1 TiB/s", {"--attachment-mib-per-s", "1048577"}, "attachment-mib-per-s");
    row("presence batch negative", {"--presence-batch-ms", "-1"}, "presence-batch-ms");
    row("presence batch over 10 s", {"--presence-batch-ms", "10001"}, "presence-batch-ms");
    row("presence room limit negative", {"--presence-room-limit", "-1"}, "presence-room-limit");
    row("presence room limit over a million", {"--presence-room-limit", "1000001"}, "presence-room-limit");
    row("presence room limit text", {"--presence-room-limit", "big"}, "presence-room-limit");
    row("cache coalesce 2", {"--cache-coalesce", "2"}, "cache-coalesce");
    row("max body zero", {"--http-max-body-kib", "0"}, "http-max-body-kib");
    row("max body over 1 GiB", {"--http-max-body-kib", "1048577"}, "http-max-body-kib");
    row("max header zero", {"--http-max-header-kib", "0"}, "http-max-header-kib");
    row("max header over 1 MiB", {"--http-max-header-kib", "1025"}, "http-max-header-kib");
    row("max headers zero", {"--http-max-headers", "0"}, "http-max-headers");
    row("head timeout below 100 ms", {"--http-head-timeout-ms", "99"}, "http-head-timeout-ms");
    row("body timeout text", {"--http-body-timeout-ms", "soon"}, "http-body-timeout-ms");
    row("idle timeout negative", {"--http-idle-timeout-ms", "-1"}, "http-idle-timeout-ms");
    row("max connections negative", {"--max-connections", "-1"}, "max-connections");
    row("per-address cap negative", {"--max-connections-per-address", "-1"}, "max-connections-per-address");
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

// --version: the version of project(VERSION) (a dotted number), as a message to print, code
// Unavailable like --help (exit 0, nothing started).
void TestConfig::version()
{
    QVERIFY2(QRegularExpression(QStringLiteral("^\\d+\\.\\d+\\.\\d+$")).match(QLatin1String(kVersion)).hasMatch(),
             kVersion);
    auto c = loadConfig({QStringLiteral("s"), QStringLiteral("--version")}, {});
    QVERIFY(!c);
    QCOMPARE(c.error().code, ErrorCode::Unavailable);
    QCOMPARE(c.error().message, QStringLiteral("taskmaster-server %1\n").arg(QLatin1String(kVersion)));
}

namespace {
QString writeFile(const QTemporaryDir &dir, const QByteArray &content)
{
    const QString path = dir.filePath(QStringLiteral("tm.conf"));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        qFatal("cannot write the config file");
    f.write(content);
    return path;
}
} // namespace

void TestConfig::configFile()
{
    QTemporaryDir dir;
    const QString path = writeFile(dir,
                                   "# comment\n\nlisten = 127.0.0.3:9100\ninstance-name = from-file\n"
                                   "redis-url = redis://127.0.0.1:7000\n");
    // The file sits between the environment and the defaults.
    auto c = loadConfig({QStringLiteral("s"), QStringLiteral("--config"), path},
                        {QStringLiteral("TM_INSTANCE_NAME=from-env")});
    QVERIFY2(c, c ? "" : qPrintable(c.error().message));
    QCOMPARE(c->listenHost, QHostAddress(QStringLiteral("127.0.0.3")));
    QCOMPARE(c->listenPort, quint16(9100));
    QCOMPARE(c->instanceName, QStringLiteral("from-env"));
    QCOMPARE(c->redisUrl, QStringLiteral("redis://127.0.0.1:7000"));
    QCOMPARE(c->configFile, path);
    // TM_CONFIG names the file too; the command line still wins over it.
    c = loadConfig({QStringLiteral("s"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:1")},
                   {QStringLiteral("TM_CONFIG=") + path});
    QVERIFY(c);
    QCOMPARE(c->listenPort, quint16(1));
    QCOMPARE(c->instanceName, QStringLiteral("from-file"));
}

void TestConfig::badConfigFile_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("unknown setting") << QByteArray("listen = 127.0.0.1:1\nfrobnicate = 1\n") << "frobnicate";
    QTest::newRow("no equals") << QByteArray("listen 127.0.0.1:1\n") << ":1:";
    QTest::newRow("bad value") << QByteArray("listen = 127.0.0.1:99999\n") << "listen";
    QTest::newRow("nested config") << QByteArray("config = other.conf\n") << "config";
}

void TestConfig::badConfigFile()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, mentions);
    QTemporaryDir dir;
    auto c = loadConfig({QStringLiteral("s"), QStringLiteral("--config"), writeFile(dir, content)}, {});
    QVERIFY(!c);
    QCOMPARE(c.error().code, ErrorCode::BadRequest);
    QVERIFY2(c.error().message.contains(mentions), qPrintable(c.error().message));
    // A missing file is an error too, naming the file.
    c = loadConfig({QStringLiteral("s"), QStringLiteral("--config"), dir.filePath(QStringLiteral("missing.conf"))}, {});
    QVERIFY(!c);
    QVERIFY(c.error().message.contains(QLatin1String("missing.conf")));
}

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"
