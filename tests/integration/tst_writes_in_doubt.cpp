// Writes in doubt, end to end (server/ws/group_commit.h): a message write whose database
// connection breaks while PostgreSQL commits it. The server reaches PostgreSQL through a TcpProxy;
// a deferred trigger the test installs on channel_events makes every COMMIT sleep a second, and
// the test cuts the link while it sleeps. The commit goes through on the orphaned connection, the
// writer gets `unavailable`, and once the link is back the other member's socket still gets the
// event (before, it waited for a later event of the room to show the gap). Rows: a REST send, a
// REST edit, a REST delete and a WebSocket send.
#include "tests/support/api_client.h"
#include "tests/support/metrics_text.h"
#include "tests/support/raw_wire.h"
#include "tests/support/server_process.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"
#include "tests/support/ws_client.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlQuery>
#include <QTest>
#include <QUrl>

using namespace taskmaster;
using taskmaster::test::Account;
using taskmaster::test::ApiClient;
using taskmaster::test::ServerProcess;
using taskmaster::test::WsClient;

class TestWritesInDoubt final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void committedWriteReachesTheRoom_data();
    void committedWriteReachesTheRoom();

private:
    QString m_pg;
};

void TestWritesInDoubt::initTestCase()
{
    TM_REQUIRE_SERVICE(pg, "TM_TEST_DATABASE_URL");
    m_pg = pg;
}

void TestWritesInDoubt::committedWriteReachesTheRoom_data()
{
    QTest::addColumn<QByteArray>("write"); // "rest send", "rest edit", "rest delete", "ws send"
    for (const char *w : {"rest send", "rest edit", "rest delete", "ws send"})
        QTest::newRow(w) << QByteArray(w);
}

void TestWritesInDoubt::committedWriteReachesTheRoom()
{
    QFETCH(QByteArray, write);
    const QString url = test::freshPostgresUrl(m_pg);
    QUrl direct(url);
    test::TcpProxy proxy(direct.host() == QLatin1String("localhost") ? QStringLiteral("127.0.0.1") : direct.host(),
                         direct.port(5432));
    QVERIFY(proxy.ok());
    QUrl proxied = direct;
    proxied.setPort(proxy.port());
    ServerProcess server;
    QVERIFY2(server.start({QStringLiteral("--database-url"), proxied.toString(), QStringLiteral("--rate-api"),
                           QStringLiteral("0")}),
             qPrintable(server.errorText()));
    ApiClient api(server.url());
    const Account owner = api.signUp("owner");
    const Account member = api.signUp("member");
    const qint64 room = api.createRoom(owner, {member});
    QVERIFY(room > 0);
    const QString messages = QStringLiteral("/api/v1/rooms/%1/messages").arg(room);
    qint64 earlier = 0; // the message an edit or delete changes
    if (write == "rest edit" || write == "rest delete") {
        const test::ApiReply sent
            = api.post(messages, QJsonObject {{QStringLiteral("body"), QStringLiteral("before")}}, owner.token);
        QCOMPARE(sent.status, 201);
        earlier = QJsonDocument::fromJson(sent.body).object().value(QLatin1String("id")).toInteger();
        QVERIFY(earlier > 0);
    }
    WsClient watcher;
    QVERIFY(watcher.connectAs(server.wsUrl(), member.token));
    WsClient writer;
    if (write == "ws send")
        QVERIFY(writer.connectAs(server.wsUrl(), owner.token));

    const QString dbName = QStringLiteral("in-doubt-%1").arg(QString::fromLatin1(write).replace(u' ', u'-'));
    {
        QSqlDatabase db = test::openPostgres(url, dbName);
        QVERIFY(db.isOpen());
        QSqlQuery q(db);
        QVERIFY(q.exec(QStringLiteral("CREATE FUNCTION tm_test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS "
                                      "$$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$")));
        QVERIFY(q.exec(QStringLiteral("CREATE CONSTRAINT TRIGGER tm_test_slow_commit AFTER INSERT ON channel_events "
                                      "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "
                                      "tm_test_slow_commit()")));

        // The write; a REST one on a raw socket, so the test goes on while it is in the database.
        std::unique_ptr<QTcpSocket> rest;
        const QString body = QStringLiteral("in doubt");
        if (write == "ws send") {
            writer.send(ws::Send {1, room, body, QStringLiteral("doubt-1")});
        } else {
            QByteArray method = "POST";
            QByteArray path = messages.toUtf8();
            QByteArray json
                = QJsonDocument(QJsonObject {{QStringLiteral("body"), body}}).toJson(QJsonDocument::Compact);
            if (write != "rest send") {
                method = write == "rest edit" ? "PATCH" : "DELETE";
                path = "/api/v1/messages/" + QByteArray::number(earlier);
                if (write == "rest delete")
                    json.clear();
            }
            rest = test::connectFrom(QStringLiteral("127.0.0.1"), server.port());
            QVERIFY(rest);
            rest->write(method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + owner.token
                        + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(json.size())
                        + "\r\nConnection: close\r\n\r\n" + json);
        }
        // Its COMMIT runs the deferred trigger: the link is cut while it sleeps.
        QVERIFY(QTest::qWaitFor(
            [&] {
                return q.exec(QStringLiteral("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                                             "AND wait_event = 'PgSleep'"))
                    && q.next();
            },
            10000));
        proxy.setLinkUp(false);
        // The writer is told the database is unavailable.
        if (write == "ws send") {
            const auto error = writer.take<ws::ErrorFrame>();
            QVERIFY(error);
            QCOMPARE(error->error.code, ErrorCode::Unavailable);
        } else {
            const test::RawResponse answer = test::parseResponse(test::readUntil(*rest, test::isWholeResponse, 10000));
            QCOMPARE(answer.status, 503);
            QCOMPARE(answer.errorCode(), QStringLiteral("unavailable"));
        }
        // Yet it committed, once the sleep ended on the orphaned connection.
        QVERIFY(QTest::qWaitFor(
            [&] {
                const QString stored = write == "rest delete"
                    ? QStringLiteral("SELECT 1 FROM messages WHERE id = %1 AND deleted").arg(earlier)
                    : QStringLiteral("SELECT 1 FROM messages WHERE room_id = %1 AND body = 'in doubt'").arg(room);
                return q.exec(stored) && q.next();
            },
            10000));
        QVERIFY(q.exec(QStringLiteral("DROP TRIGGER tm_test_slow_commit ON channel_events")));
        db.close();
    }
    QSqlDatabase::removeDatabase(dbName);
    proxy.setLinkUp(true);

    // The other member gets the event once the server can read it back.
    const auto event = watcher.take<ChannelEvent>(
        [&](const ChannelEvent &e) {
            if (!e.message || e.message->body != (write == "rest delete" ? QString() : QStringLiteral("in doubt")))
                return false;
            return write == "rest delete" ? e.message->deleted : !e.message->deleted;
        },
        20000);
    QVERIFY(event);
    QCOMPARE(event->channel, Channel::room(room));
    QCOMPARE(event->type,
             write == "rest send" || write == "ws send" ? EventType::MessageCreated : EventType::MessageUpdated);
    QCOMPARE(test::metricSample(api.metrics(), "writes_in_doubt_events_published_total").value_or(0), 1.0);
    QCOMPARE(test::metricSample(api.metrics(), "writes_in_doubt_unchecked_total"), 0.0);
}

QTEST_GUILESS_MAIN(TestWritesInDoubt)
#include "tst_writes_in_doubt.moc"
