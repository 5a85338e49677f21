// The Redis layer (server/redis) against real Redis servers: the one of with-services.sh
// (TM_TEST_REDIS_URL) for replies of every type, binary values, pipelining, pub/sub, host names
// and destruction; and a redis-server of the suite's own (killed and restarted on the same port)
// for the faults: fail-fast while down, reconnect and re-subscribe after a restart, callbacks of
// a pipeline cut by a crash, command timeout, handshake timeout, AUTH/SELECT, EVALSHA + NOSCRIPT.
#include "server/redis/redis_connection.h"
#include "server/redis/redis_subscriber.h"
#include "tests/support/redis_process.h"
#include "tests/support/test_env.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QProcess>
#include <QRandomGenerator>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <optional>

using namespace taskmaster;
using namespace taskmaster::server;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(taskmaster::server::RedisReply)

namespace {

using MaybeReply = std::optional<Result<RedisReply>>;

// Sends a command and waits (event loop running) for its callback.
MaybeReply runSync(RedisConnection &c, QList<QByteArray> args, int timeoutMs = 5000)
{
    auto out = std::make_shared<MaybeReply>();
    c.command(std::move(args), [out](Result<RedisReply> r) { *out = std::move(r); });
    (void)QTest::qWaitFor([&] { return out->has_value(); }, timeoutMs);
    return *out;
}

QByteArray describe(const MaybeReply &r)
{
    if (!r)
        return "no callback";
    if (!*r)
        return "error: " + r->error().message.toUtf8();
    return r->value().describe().toUtf8();
}

using taskmaster::test::freePort;

// The suite's own redis-server (tests/support/redis_process.h), with its URL as the client takes it.
class OwnRedis : public taskmaster::test::RedisProcess {
public:
    [[nodiscard]] RedisUrl url() const
    {
        RedisUrl u;
        u.host = QStringLiteral("127.0.0.1");
        u.port = port();
        return u;
    }
};

} // namespace

class TestRedis final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void url_data();
    void url();
    void replyHelpers();
    // the shared Redis of with-services.sh
    void replies_data();
    void replies();
    void binarySafe_data();
    void binarySafe();
    void pipelineInOrder();
    void pubSub();
    void hostName();
    void destroyWithCommandsInFlight();
    void destroyInsideCallback();
    void modeSwitchingCommandsRefused();
    // the suite's own redis-server
    void failFastWhileDown();
    void reconnectsAndResubscribesAfterRestart();
    void crashMidPipelineCallsEveryCallbackOnce();
    void commandTimeoutDropsAndReconnects();
    void handshakeTimeoutRetriesWithBackoff();
    void authSelectAndClientName();
    void evalShaReloadsAfterScriptFlush();

private:
    bool sharedUrl(RedisUrl &out);
    QByteArray key(const QByteArray &name) const { return m_prefix + name; }
    // Up connection to u; nullptr (and a failed test) otherwise.
    std::unique_ptr<RedisConnection> connectTo(const RedisUrl &u, RedisOptions o = {});

    QByteArray m_prefix;
    OwnRedis m_own;
};

void TestRedis::initTestCase()
{
    m_prefix = "tm:test:redis:" + QByteArray::number(QRandomGenerator::global()->generate64(), 16) + ":";
    if (QStandardPaths::findExecutable(QStringLiteral("redis-server")).isEmpty()) {
        if (qEnvironmentVariableIntValue("TM_TEST_REQUIRE_SERVICES") == 1)
            QFAIL("redis-server is not installed");
        QSKIP("redis-server is not installed");
    }
    const QString error = m_own.start();
    QVERIFY2(error.isEmpty(), qPrintable(error));
}

bool TestRedis::sharedUrl(RedisUrl &out)
{
    const QString text = qEnvironmentVariable("TM_TEST_REDIS_URL");
    if (text.isEmpty())
        return false;
    auto parsed = parseRedisUrl(text);
    if (!parsed)
        return false;
    out = *parsed;
    return true;
}

#define TM_SHARED_REDIS(var)                                                                                           \
    RedisUrl var;                                                                                                      \
    {                                                                                                                  \
        TM_REQUIRE_SERVICE(text_, "TM_TEST_REDIS_URL");                                                                \
        QVERIFY2(sharedUrl(var), qPrintable(text_));                                                                   \
    }

std::unique_ptr<RedisConnection> TestRedis::connectTo(const RedisUrl &u, RedisOptions o)
{
    auto c = std::make_unique<RedisConnection>(u, o);
    c->start();
    if (!QTest::qWaitFor([&] { return c->isUp(); }, 10000)) {
        QTest::qFail(qPrintable(QStringLiteral("no connection to %1: %2").arg(u.display(), c->lastError())), __FILE__,
                     __LINE__);
        return nullptr;
    }
    return c;
}

void TestRedis::url_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<int>("db");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("password");
    const QString none;
    QTest::newRow("host and port") << QStringLiteral("redis://127.0.0.1:6380") << true << QStringLiteral("127.0.0.1")
                                   << 6380 << 0 << none << none;
    QTest::newRow("default port") << QStringLiteral("redis://localhost") << true << QStringLiteral("localhost") << 6379
                                  << 0 << none << none;
    QTest::newRow("password and db") << QStringLiteral("redis://:s%40cret@h:1/3") << true << QStringLiteral("h") << 1
                                     << 3 << none << QStringLiteral("s@cret");
    QTest::newRow("acl user") << QStringLiteral("redis://app:pw@h/0") << true << QStringLiteral("h") << 6379 << 0
                              << QStringLiteral("app") << QStringLiteral("pw");
    QTest::newRow("ipv6") << QStringLiteral("redis://[::1]:7000/2") << true << QStringLiteral("::1") << 7000 << 2
                          << none << none;
    QTest::newRow("trailing slash") << QStringLiteral("redis://h:2/") << true << QStringLiteral("h") << 2 << 0 << none
                                    << none;
    QTest::newRow("wrong scheme") << QStringLiteral("http://h:1") << false << none << 0 << 0 << none << none;
    QTest::newRow("tls unsupported") << QStringLiteral("rediss://h:1") << false << none << 0 << 0 << none << none;
    QTest::newRow("db not a number") << QStringLiteral("redis://h/x") << false << none << 0 << 0 << none << none;
    QTest::newRow("negative db") << QStringLiteral("redis://h/-1") << false << none << 0 << 0 << none << none;
    QTest::newRow("no host") << QStringLiteral("redis:///0") << false << none << 0 << 0 << none << none;
    QTest::newRow("port too large") << QStringLiteral("redis://h:99999") << false << none << 0 << 0 << none << none;
    QTest::newRow("query") << QStringLiteral("redis://h?timeout=1") << false << none << 0 << 0 << none << none;
    QTest::newRow("user without password") << QStringLiteral("redis://u@h") << false << none << 0 << 0 << none << none;
    QTest::newRow("empty") << QString() << false << none << 0 << 0 << none << none;
    QTest::newRow("garbage") << QStringLiteral("not a url") << false << none << 0 << 0 << none << none;
}

void TestRedis::url()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    const auto u = parseRedisUrl(text);
    QCOMPARE(bool(u), valid);
    if (!valid) {
        QCOMPARE(u.error().field, QStringLiteral("redis-url"));
        return;
    }
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(int, db);
    QFETCH(QString, user);
    QFETCH(QString, password);
    QCOMPARE(u->host, host);
    QCOMPARE(u->port, port);
    QCOMPARE(u->db, db);
    QCOMPARE(u->user, user);
    QCOMPARE(u->password, password);
    QVERIFY(!u->display().contains(QStringLiteral("cret")));
}

void TestRedis::replyHelpers()
{
    QCOMPARE(RedisReply::integer(-7).toInteger(), std::optional<qint64>(-7));
    QCOMPARE(RedisReply::string("41").toInteger(), std::optional<qint64>(41));
    QCOMPARE(RedisReply::string("4x").toInteger(), std::nullopt);
    QCOMPARE(RedisReply::nil().toInteger(), std::nullopt);
    QCOMPARE(RedisReply::error("NOSCRIPT No matching script").errorCode(), QByteArray("NOSCRIPT"));
    QCOMPARE(RedisReply::error("ERR").errorCode(), QByteArray("ERR"));
    QCOMPARE(RedisReply::string("ERR x").errorCode(), QByteArray());
    QVERIFY(RedisReply::status("OK").isOk());
    QVERIFY(!RedisReply::string("OK").isOk());
    QVERIFY(RedisReply() == RedisReply::nil());
    QVERIFY(RedisReply::string("1") != RedisReply::status("1"));
    const auto nested = RedisReply::array({RedisReply::integer(1), RedisReply::array({RedisReply::string("a\0b")})});
    QCOMPARE(nested.size(), 2);
    QCOMPARE(nested.at(1).at(0).toByteArray(), QByteArray("a\0b"));
    QCOMPARE(nested.describe(), QStringLiteral("[(integer) 1, [\"a\"]]"));
    QCOMPARE(RedisReply::string(QByteArray("a\0b", 3)).describe(), QStringLiteral("\"a%00b\""));
}

void TestRedis::replies_data()
{
    QTest::addColumn<QList<QByteArrayList>>("setup");
    QTest::addColumn<QByteArrayList>("command");
    QTest::addColumn<RedisReply>("expected");
    using R = RedisReply;
    QTest::newRow("status") << QList<QByteArrayList> {} << QByteArrayList {"SET", "k:a", "v"} << R::status("OK");
    QTest::newRow("bulk string") << QList<QByteArrayList> {{"SET", "k:b", "hello"}} << QByteArrayList {"GET", "k:b"}
                                 << R::string("hello");
    QTest::newRow("empty bulk string") << QList<QByteArrayList> {{"SET", "k:e", ""}} << QByteArrayList {"GET", "k:e"}
                                       << R::string("");
    QTest::newRow("nil") << QList<QByteArrayList> {} << QByteArrayList {"GET", "k:missing"} << R::nil();
    QTest::newRow("integer") << QList<QByteArrayList> {{"SET", "k:n", "41"}} << QByteArrayList {"INCR", "k:n"}
                             << R::integer(42);
    QTest::newRow("negative integer") << QList<QByteArrayList> {} << QByteArrayList {"DECRBY", "k:neg", "5"}
                                      << R::integer(-5);
    QTest::newRow("64-bit integer") << QList<QByteArrayList> {}
                                    << QByteArrayList {"INCRBY", "k:big", "9223372036854775806"}
                                    << R::integer(9223372036854775806LL);
    QTest::newRow("error") << QList<QByteArrayList> {{"SET", "k:s", "abc"}} << QByteArrayList {"INCR", "k:s"}
                           << R::error("ERR value is not an integer or out of range");
    QTest::newRow("wrong type") << QList<QByteArrayList> {{"LPUSH", "k:l", "x"}} << QByteArrayList {"GET", "k:l"}
                                << R::error("WRONGTYPE Operation against a key holding the wrong kind of value");
    QTest::newRow("array") << QList<QByteArrayList> {{"RPUSH", "k:list", "a", "b", "c"}}
                           << QByteArrayList {"LRANGE", "k:list", "0", "-1"}
                           << R::array({R::string("a"), R::string("b"), R::string("c")});
    QTest::newRow("empty array") << QList<QByteArrayList> {} << QByteArrayList {"LRANGE", "k:none", "0", "-1"}
                                 << R::array({});
    QTest::newRow("array with nil") << QList<QByteArrayList> {{"SET", "k:m1", "x"}}
                                    << QByteArrayList {"MGET", "k:m1", "k:m2"} << R::array({R::string("x"), R::nil()});
    QTest::newRow("nested array") << QList<QByteArrayList> {}
                                  << QByteArrayList {"EVAL", "return {1, {'x', 2}, 'y'}", "0"}
                                  << R::array(
                                         {R::integer(1), R::array({R::string("x"), R::integer(2)}), R::string("y")});
    QTest::newRow("script status") << QList<QByteArrayList> {}
                                   << QByteArrayList {"EVAL", "return redis.status_reply('FINE')", "0"}
                                   << R::status("FINE");
    QTest::newRow("script error") << QList<QByteArrayList> {}
                                  << QByteArrayList {"EVAL", "return redis.error_reply('MYERR custom')", "0"}
                                  << R::error("MYERR custom");
    QTest::newRow("script nil") << QList<QByteArrayList> {} << QByteArrayList {"EVAL", "return false", "0"} << R::nil();
    QTest::newRow("hash") << QList<QByteArrayList> {{"HSET", "k:h", "f", "1"}} << QByteArrayList {"HGETALL", "k:h"}
                          << R::array({R::string("f"), R::string("1")});
}

void TestRedis::replies()
{
    TM_SHARED_REDIS(u);
    QFETCH(QList<QByteArrayList>, setup);
    QFETCH(QByteArrayList, command);
    QFETCH(RedisReply, expected);
    auto c = connectTo(u);
    QVERIFY(c);
    const auto keyed = [this](QByteArrayList args) {
        for (QByteArray &a : args) {
            if (a.startsWith("k:"))
                a = key(QTest::currentDataTag() + a);
        }
        return args;
    };
    for (const QByteArrayList &s : setup) {
        const auto r = runSync(*c, keyed(s));
        QVERIFY2(r && *r && !r->value().isError(), describe(r).constData());
    }
    const auto r = runSync(*c, keyed(command));
    QVERIFY2(r && *r, describe(r).constData());
    QCOMPARE(r->value().type(), expected.type());
    QCOMPARE(r->value(), expected);
}

void TestRedis::binarySafe_data()
{
    QTest::addColumn<QByteArray>("value");
    QByteArray all;
    for (int i = 0; i < 256; ++i)
        all.append(char(i));
    QByteArray big(1 << 20, Qt::Uninitialized);
    for (qsizetype i = 0; i < big.size(); ++i)
        big[i] = char(QRandomGenerator::global()->bounded(256));
    QTest::newRow("nul and CRLF") << QByteArray("a\0b\r\n$3\r\nc*", 12);
    QTest::newRow("all 256 bytes") << all;
    QTest::newRow("1 MiB random") << big;
    QTest::newRow("empty") << QByteArray();
}

void TestRedis::binarySafe()
{
    TM_SHARED_REDIS(u);
    QFETCH(QByteArray, value);
    auto c = connectTo(u);
    QVERIFY(c);
    const QByteArray k = key(QByteArray("bin\0\r\n", 6) + QTest::currentDataTag());
    auto r = runSync(*c, {"SET", k, value});
    QVERIFY2(r && *r && r->value().isOk(), describe(r).constData());
    r = runSync(*c, {"STRLEN", k});
    QVERIFY2(r && *r, describe(r).constData());
    QCOMPARE(r->value().toInteger(), std::optional<qint64>(value.size()));
    r = runSync(*c, {"GET", k});
    QVERIFY2(r && *r && r->value().isString(), describe(r).constData());
    QCOMPARE(r->value().toByteArray(), value);
}

void TestRedis::pipelineInOrder()
{
    TM_SHARED_REDIS(u);
    auto c = connectTo(u);
    QVERIFY(c);
    const QByteArray k = key("pipeline");
    constexpr int n = 10000;
    QList<qint64> seen;
    seen.reserve(n);
    int failures = 0;
    for (int i = 0; i < n; ++i) {
        c->command({"INCR", k}, [&](Result<RedisReply> r) {
            if (r && r->isInteger())
                seen.append(*r->toInteger());
            else
                ++failures;
        });
    }
    QCOMPARE(c->inFlight(), qsizetype(n)); // all sent before the first reply: pipelined
    QTRY_COMPARE_WITH_TIMEOUT(seen.size() + failures, n, 10000);
    QCOMPARE(failures, 0);
    for (int i = 0; i < n; ++i)
        QCOMPARE(seen.at(i), qint64(i + 1));
    QCOMPARE(c->inFlight(), qsizetype(0));
}

void TestRedis::pubSub()
{
    TM_SHARED_REDIS(u);
    auto pub = connectTo(u);
    QVERIFY(pub);
    RedisSubscriber sub(u);
    QSignalSpy messages(&sub, &RedisSubscriber::message);
    QSignalSpy patternMessages(&sub, &RedisSubscriber::patternMessage);
    QSignalSpy subscribed(&sub, &RedisSubscriber::subscribed);
    QSignalSpy resubscribed(&sub, &RedisSubscriber::resubscribed);
    const QByteArray ch = key("ch:one");
    const QByteArray pattern = key("pat:*");
    sub.subscribe(ch); // before start: subscribed when the connection comes up
    sub.psubscribe(pattern);
    sub.start();
    QTRY_COMPARE(resubscribed.count(), 1);
    QVERIFY(sub.isUp());
    QCOMPARE(subscribed.count(), 1);
    QCOMPARE(subscribed.at(0).at(0).toByteArray(), ch);

    const QByteArray payload("bin\0ary\r\n", 9);
    auto r = runSync(*pub, {"PUBLISH", ch, payload});
    QVERIFY2(r && *r, describe(r).constData());
    QCOMPARE(r->value(), RedisReply::integer(1)); // one receiver: our subscriber
    QTRY_COMPARE(messages.count(), 1);
    QCOMPARE(messages.at(0).at(0).toByteArray(), ch);
    QCOMPARE(messages.at(0).at(1).toByteArray(), payload);

    r = runSync(*pub, {"PUBLISH", key("pat:x"), "p"});
    QVERIFY2(r && *r, describe(r).constData());
    QTRY_COMPARE(patternMessages.count(), 1);
    QCOMPARE(patternMessages.at(0).at(0).toByteArray(), pattern);
    QCOMPARE(patternMessages.at(0).at(1).toByteArray(), key("pat:x"));
    QCOMPARE(patternMessages.at(0).at(2).toByteArray(), QByteArray("p"));
    QCOMPARE(messages.count(), 1);

    // A subscription added while up; 1000 messages arrive in publish order.
    const QByteArray ch2 = key("ch:two");
    sub.subscribe(ch2);
    QTRY_COMPARE(subscribed.count(), 2);
    QCOMPARE(subscribed.at(1).at(0).toByteArray(), ch2);
    messages.clear();
    for (int i = 0; i < 1000; ++i)
        pub->command({"PUBLISH", ch2, QByteArray::number(i)}, [](Result<RedisReply>) {});
    QTRY_COMPARE(messages.count(), 1000);
    for (int i = 0; i < 1000; ++i)
        QCOMPARE(messages.at(i).at(1).toByteArray(), QByteArray::number(i));

    // Unsubscribed: Redis stops counting us as a receiver, and nothing more is emitted.
    sub.unsubscribe(ch);
    sub.punsubscribe(pattern);
    messages.clear();
    patternMessages.clear();
    QVERIFY(QTest::qWaitFor(
        [&] {
            const auto n = runSync(*pub, {"PUBLISH", ch, "late"});
            return n && *n && n->value() == RedisReply::integer(0);
        },
        5000));
    r = runSync(*pub, {"PUBLISH", key("pat:y"), "late"});
    QVERIFY2(r && *r, describe(r).constData());
    QCOMPARE(r->value(), RedisReply::integer(0));
    r = runSync(*pub, {"PUBLISH", ch2, "still"}); // ch2 is still subscribed: the marker arrives
    QVERIFY2(r && *r, describe(r).constData());
    QCOMPARE(r->value(), RedisReply::integer(1));
    QTRY_COMPARE(messages.count(), 1);
    QCOMPARE(messages.at(0).at(0).toByteArray(), ch2);
    QCOMPARE(patternMessages.count(), 0);
    QCOMPARE(resubscribed.count(), 1);
}

void TestRedis::hostName()
{
    TM_SHARED_REDIS(u);
    if (u.host != QLatin1String("127.0.0.1"))
        QSKIP("the shared Redis is not on 127.0.0.1");
    RedisUrl named = u;
    named.host = QStringLiteral("localhost"); // resolved with QHostInfo, IPv4 preferred
    auto c = connectTo(named);
    QVERIFY(c);
    const auto r = runSync(*c, {"PING"});
    QVERIFY2(r && *r, describe(r).constData());
    QCOMPARE(r->value(), RedisReply::status("PONG"));
}

void TestRedis::destroyWithCommandsInFlight()
{
    TM_SHARED_REDIS(u);
    auto c = connectTo(u);
    QVERIFY(c);
    QSignalSpy downs(c.get(), &RedisConnection::down);
    constexpr int n = 1000;
    QList<int> calls(n, 0);
    int unavailable = 0;
    for (int i = 0; i < n; ++i) {
        c->command({"INCR", key("destroy")}, [&, i](Result<RedisReply> r) {
            ++calls[i];
            if (!r && r.error().code == ErrorCode::Unavailable)
                ++unavailable;
        });
    }
    c.reset(); // every callback runs before the destructor returns
    QCOMPARE(unavailable, n);
    QCOMPARE(downs.count(), 0); // no signal from the destructor
    for (int i = 0; i < n; ++i)
        QCOMPARE(calls.at(i), 1);
}

void TestRedis::destroyInsideCallback()
{
    TM_SHARED_REDIS(u);
    auto owned = connectTo(u);
    QVERIFY(owned);
    RedisConnection *c = owned.release();
    constexpr int n = 1000;
    constexpr int deleteAt = 10;
    QList<int> calls(n, 0);
    QList<bool> ok(n, false);
    for (int i = 0; i < n; ++i) {
        c->command({"INCR", key("destroy-inside")}, [&, i](Result<RedisReply> r) {
            ++calls[i];
            ok[i] = bool(r);
            if (i == deleteAt - 1)
                delete c; // the remaining callbacks run right after this one returns
        });
    }
    QTRY_VERIFY(calls.at(n - 1) == 1);
    for (int i = 0; i < n; ++i) {
        QCOMPARE(calls.at(i), 1);
        QCOMPARE(ok.at(i), i < deleteAt);
    }
}

void TestRedis::modeSwitchingCommandsRefused()
{
    TM_SHARED_REDIS(u);
    auto c = connectTo(u);
    QVERIFY(c);
    for (const QByteArray &name : {QByteArray("SUBSCRIBE"), QByteArray("psubscribe"), QByteArray("MONITOR")}) {
        bool called = false;
        c->command({name, "x"}, [&](Result<RedisReply> r) {
            called = true;
            QVERIFY(!r);
            QCOMPARE(r.error().code, ErrorCode::Internal);
        });
        QVERIFY(called); // at once
    }
    bool called = false;
    c->command({}, [&](Result<RedisReply> r) { called = !r; });
    QVERIFY(called);
    const auto r = runSync(*c, {"PING"}); // the connection is unaffected
    QVERIFY2(r && *r && r->value() == RedisReply::status("PONG"), describe(r).constData());
}

void TestRedis::failFastWhileDown()
{
    RedisUrl nowhere;
    nowhere.port = freePort(); // nobody listens there
    RedisConnection c(nowhere);
    QCOMPARE(c.state(), RedisConnection::State::Down);
    c.start();
    QVERIFY(QTest::qWaitFor([&] { return !c.lastError().isEmpty(); }, 5000));
    QVERIFY(!c.isUp());
    QElapsedTimer t;
    t.start();
    for (int i = 0; i < 100; ++i) {
        bool called = false;
        c.command({"PING"}, [&](Result<RedisReply> r) {
            called = true;
            QVERIFY(!r);
            QCOMPARE(r.error().code, ErrorCode::Unavailable);
        });
        QVERIFY(called); // before command() returned
    }
    QVERIFY2(t.elapsed() < 100, qPrintable(QString::number(t.elapsed())));
    QCOMPARE(c.upCount(), 0);
}

void TestRedis::reconnectsAndResubscribesAfterRestart()
{
    QVERIFY(m_own.start().isEmpty());
    auto c = connectTo(m_own.url());
    QVERIFY(c);
    RedisSubscriber sub(m_own.url());
    const QByteArray ch = key("restart");
    sub.subscribe(ch);
    QSignalSpy subUps(&sub, &RedisSubscriber::up);
    QSignalSpy subDowns(&sub, &RedisSubscriber::down);
    QSignalSpy resubscribed(&sub, &RedisSubscriber::resubscribed);
    QSignalSpy messages(&sub, &RedisSubscriber::message);
    QSignalSpy ups(c.get(), &RedisConnection::up);
    QSignalSpy downs(c.get(), &RedisConnection::down);
    sub.start();
    QTRY_COMPARE(resubscribed.count(), 1);

    m_own.kill();
    QTRY_COMPARE(downs.count(), 1);
    QTRY_COMPARE(subDowns.count(), 1);
    QVERIFY(!c->isUp());
    QVERIFY(!sub.isUp());
    bool failedAtOnce = false;
    c->command({"PING"}, [&](Result<RedisReply> r) { failedAtOnce = !r && r.error().code == ErrorCode::Unavailable; });
    QVERIFY(failedAtOnce);

    const QString error = m_own.start();
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(c->isUp(), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(resubscribed.count(), 2, 10000);
    QCOMPARE(ups.count(), 1); // the spy was attached after the first up
    QCOMPARE(subUps.count(), 2);
    QCOMPARE(c->upCount(), 2);
    QCOMPARE(sub.upCount(), 2);
    const auto r = runSync(*c, {"PUBLISH", ch, "after restart"});
    QVERIFY2(r && *r, describe(r).constData());
    QCOMPARE(r->value(), RedisReply::integer(1));
    QTRY_COMPARE(messages.count(), 1);
    QCOMPARE(messages.at(0).at(1).toByteArray(), QByteArray("after restart"));
}

void TestRedis::crashMidPipelineCallsEveryCallbackOnce()
{
    QVERIFY(m_own.start().isEmpty());
    RedisOptions o;
    o.commandTimeout = 30s; // not about timeouts: a slow machine must not time the pipeline out
    auto c = connectTo(m_own.url(), o);
    QVERIFY(c);
    constexpr int n = 100000;
    QList<int> calls(n, 0);
    QList<qint64> values;
    int failedUnavailable = 0;
    int firstFailure = -1;
    bool outOfOrder = false;
    for (int i = 0; i < n; ++i) {
        c->command({"INCR", key("crash")}, [&, i](Result<RedisReply> r) {
            ++calls[i];
            if (r) {
                if (firstFailure >= 0)
                    outOfOrder = true; // a reply after a failure
                values.append(r->toInteger().value_or(-1));
                if (values.size() == 1)
                    m_own.killNoWait(); // Redis dies with most of the pipeline unanswered
            } else {
                if (firstFailure < 0)
                    firstFailure = i;
                if (r.error().code == ErrorCode::Unavailable)
                    ++failedUnavailable;
            }
        });
    }
    QTRY_VERIFY_WITH_TIMEOUT(calls.at(n - 1) > 0, 10000);
    m_own.kill();
    for (int i = 0; i < n; ++i)
        QCOMPARE(calls.at(i), 1);
    QVERIFY(!outOfOrder);
    QVERIFY(!values.isEmpty());
    QVERIFY2(firstFailure > 0, "Redis answered the whole pipeline before dying");
    QCOMPARE(values.size(), firstFailure);
    QCOMPARE(failedUnavailable, n - firstFailure);
    for (qsizetype i = 0; i < values.size(); ++i)
        QCOMPARE(values.at(i), qint64(i + 1));
    QTRY_VERIFY(!c->isUp());
    QCOMPARE(c->inFlight(), qsizetype(0));
}

void TestRedis::commandTimeoutDropsAndReconnects()
{
    QVERIFY(m_own.start().isEmpty());
    RedisOptions o;
    o.commandTimeout = 200ms;
    auto c = connectTo(m_own.url(), o);
    QVERIFY(c);
    QSignalSpy downs(c.get(), &RedisConnection::down);
    QSignalSpy ups(c.get(), &RedisConnection::up);
    std::optional<Error> sleepError;
    std::optional<Error> behindError;
    QElapsedTimer t;
    t.start();
    qint64 timedOutAfter = -1;
    c->command({"DEBUG", "SLEEP", "1"}, [&](Result<RedisReply> r) {
        timedOutAfter = t.elapsed();
        sleepError = r ? Error {ErrorCode::Internal, r->describe(), {}} : r.error();
    });
    c->command({"PING"}, [&](Result<RedisReply> r) {
        behindError = r ? Error {ErrorCode::Internal, r->describe(), {}} : r.error();
    });
    QTRY_VERIFY(sleepError && behindError);
    QCOMPARE(sleepError->code, ErrorCode::Unavailable);
    QVERIFY2(sleepError->message.contains(QStringLiteral("timed out")), qPrintable(sleepError->message));
    QVERIFY2(timedOutAfter >= 190 && timedOutAfter < 800, qPrintable(QString::number(timedOutAfter)));
    QCOMPARE(behindError->code, ErrorCode::Unavailable);
    QCOMPARE(downs.count(), 1);
    // Back by itself once Redis wakes up (the handshake may time out meanwhile and be retried).
    QTRY_VERIFY_WITH_TIMEOUT(c->isUp(), 10000);
    QVERIFY(ups.count() >= 1);
    const auto r = runSync(*c, {"PING"});
    QVERIFY2(r && *r && r->value() == RedisReply::status("PONG"), describe(r).constData());
}

void TestRedis::handshakeTimeoutRetriesWithBackoff()
{
    // A server that accepts connections and never answers: each handshake times out and the
    // connection tries again with backoff.
    QTcpServer mute;
    QVERIFY(mute.listen(QHostAddress::LocalHost, 0));
    QList<QTcpSocket *> accepted;
    connect(&mute, &QTcpServer::newConnection, &mute, [&] {
        while (QTcpSocket *s = mute.nextPendingConnection())
            accepted.append(s);
    });
    RedisUrl u;
    u.port = mute.serverPort();
    RedisOptions o;
    o.commandTimeout = 100ms;
    o.connectTimeout = 300ms;
    o.backoffMin = 20ms;
    o.backoffMax = 100ms;
    RedisConnection c(u, o);
    QElapsedTimer t;
    t.start();
    c.start();
    QTRY_VERIFY_WITH_TIMEOUT(accepted.size() >= 4, 5000);
    QVERIFY2(t.elapsed() < 2000, qPrintable(QString::number(t.elapsed())));
    QVERIFY(!c.isUp());
    QCOMPARE(c.upCount(), 0);
    QVERIFY2(c.lastError().contains(QStringLiteral("timed out")), qPrintable(c.lastError()));
    // Each earlier attempt's socket was closed by the client.
    QTRY_COMPARE(accepted.first()->state(), QAbstractSocket::UnconnectedState);
    qDeleteAll(accepted);
}

void TestRedis::authSelectAndClientName()
{
    QVERIFY(m_own.start().isEmpty());
    auto admin = connectTo(m_own.url());
    QVERIFY(admin);
    auto r = runSync(*admin, {"CONFIG", "SET", "requirepass", "s3cret"});
    QVERIFY2(r && *r && r->value().isOk(), describe(r).constData());
    const auto restore = qScopeGuard([&] { runSync(*admin, {"CONFIG", "SET", "requirepass", ""}); });

    RedisUrl good = m_own.url();
    good.password = QStringLiteral("s3cret");
    good.db = 3;
    RedisOptions o;
    o.clientName = "tm-test-client";
    auto c = connectTo(good, o);
    QVERIFY(c);
    r = runSync(*c, {"CLIENT", "INFO"});
    QVERIFY2(r && *r && r->value().isString(), describe(r).constData());
    const QByteArray info = r->value().toByteArray();
    QVERIFY2(info.contains(" db=3 "), info.constData());
    QVERIFY2(info.contains(" name=tm-test-client "), info.constData());

    RedisConnection noPassword(m_own.url());
    noPassword.start();
    RedisUrl wrong = m_own.url();
    wrong.password = QStringLiteral("wrong");
    RedisConnection wrongPassword(wrong);
    wrongPassword.start();
    QTRY_VERIFY2(noPassword.lastError().contains(QStringLiteral("NOAUTH")), qPrintable(noPassword.lastError()));
    QTRY_VERIFY2(wrongPassword.lastError().contains(QStringLiteral("WRONGPASS")),
                 qPrintable(wrongPassword.lastError()));
    QVERIFY(!noPassword.isUp());
    QVERIFY(!wrongPassword.isUp());
    QCOMPARE(noPassword.upCount() + wrongPassword.upCount(), 0);
}

void TestRedis::evalShaReloadsAfterScriptFlush()
{
    QVERIFY(m_own.start().isEmpty());
    auto c = connectTo(m_own.url());
    QVERIFY(c);
    const RedisScript script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    QCOMPARE(script.sha1().size(), 40);
    auto r = runSync(*c, {"SCRIPT", "LOAD", script.source()});
    QVERIFY2(r && *r, describe(r).constData());
    QCOMPARE(r->value().toByteArray(), script.sha1()); // our SHA1 is the one Redis computes
    r = runSync(*c, {"SCRIPT", "FLUSH"});
    QVERIFY2(r && *r && r->value().isOk(), describe(r).constData());
    r = runSync(*c, {"SCRIPT", "EXISTS", script.sha1()});
    QVERIFY2(r && *r, describe(r).constData());
    QCOMPARE(r->value(), RedisReply::array({RedisReply::integer(0)}));

    // Runs evalSha; then a PING behind it, so that a second call of the callback (it would come
    // before the PING's reply) is counted too.
    const auto evalSync = [&](const RedisScript &s, QByteArrayList keys, QByteArrayList args) {
        auto out = std::make_shared<MaybeReply>();
        auto calls = std::make_shared<int>(0);
        c->evalSha(s, keys, args, [out, calls](Result<RedisReply> res) {
            ++*calls;
            *out = std::move(res);
        });
        (void)QTest::qWaitFor([&] { return out->has_value(); }, 5000);
        const auto ping = runSync(*c, {"PING"});
        return std::pair {*out, (ping && *ping) ? *calls : -1};
    };
    auto [first, firstCalls] = evalSync(script, {key("bucket")}, {"5"});
    QVERIFY2(first && *first, describe(first).constData());
    QCOMPARE(first->value(), RedisReply::integer(5));
    QCOMPARE(firstCalls, 1);
    r = runSync(*c, {"SCRIPT", "EXISTS", script.sha1()});
    QVERIFY2(r && *r, describe(r).constData());
    QCOMPARE(r->value(), RedisReply::array({RedisReply::integer(1)})); // loaded again
    auto [second, secondCalls] = evalSync(script, {key("bucket")}, {"2"});
    QVERIFY2(second && *second, describe(second).constData());
    QCOMPARE(second->value(), RedisReply::integer(7));
    QCOMPARE(secondCalls, 1);

    // A script that does not compile: NOSCRIPT, the load fails, the retry's error is reported once.
    const RedisScript broken("return (");
    auto [bad, badCalls] = evalSync(broken, {}, {});
    QVERIFY2(bad && *bad, describe(bad).constData());
    QVERIFY(bad->value().isError());
    QCOMPARE(bad->value().errorCode(), QByteArray("NOSCRIPT"));
    QCOMPARE(badCalls, 1);
}

QTEST_GUILESS_MAIN(TestRedis)
#include "tst_redis.moc"
