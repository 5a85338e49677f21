// The online count of a big room in the client (RoomMembersModel) against a real taskmaster-server
// with --presence-room-limit 2 (SQLite in a temporary directory): the server pushes no presence
// of a room of three, so the count and the online rows come from the `roomPresence` the model asks
// when the room is opened (and again when it is opened anew); a room at the limit is counted from
// the pushed presence as before.
#include "client-qml/controllers/room_members_model.h"
#include "client-qml/net/connection.h"
#include "tests/gui/client_test_support.h"
#include "tests/support/api_client.h"
#include "tests/support/server_process.h"
#include "tests/support/ws_client.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using taskmaster::Id;
using taskmaster::client::Connection;
using taskmaster::client::RoomMembersModel;
using taskmaster::client::RoomsController;
using taskmaster::test::ApiClient;
using taskmaster::test::ServerProcess;
using taskmaster::test::WsClient;

namespace {
constexpr int kWaitMs = 15000;
} // namespace

class TestClientRoomPresence final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void bigRoomCountFromRoomPresence();

private:
    Id createRoom(const QString &name, const QVariantList &members);

    ServerProcess m_server;
    QTemporaryDir m_dir;
    std::unique_ptr<Connection> m_alice;
};

void TestClientRoomPresence::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY2(m_server.start({QStringLiteral("--presence-room-limit"), QStringLiteral("2"),
                             QStringLiteral("--presence-grace-ms"), QStringLiteral("100")}),
             qPrintable(m_server.errorText()));
    m_alice = taskmaster::test::makeTestClient(m_dir, QStringLiteral("alice"), m_server.url(), false);
    QVERIFY(taskmaster::test::loginAndWait(*m_alice, QStringLiteral("alice"), true, kWaitMs));
    QCOMPARE(m_alice->realtime()->presenceRoomLimit(), qint64(2));
}

void TestClientRoomPresence::cleanupTestCase()
{
    m_alice.reset();
    m_server.stop();
}

Id TestClientRoomPresence::createRoom(const QString &name, const QVariantList &members)
{
    QSignalSpy created(m_alice->rooms(), &RoomsController::roomCreated);
    m_alice->rooms()->createRoom(name, members);
    if (!created.wait(kWaitMs) && created.isEmpty())
        return 0;
    return created.constFirst().at(0).toLongLong();
}

void TestClientRoomPresence::bigRoomCountFromRoomPresence()
{
    ApiClient api(m_server.url());
    const auto bob = api.registerUser(QStringLiteral("bob"));
    const auto carol = api.registerUser(QStringLiteral("carol"));
    const auto dave = api.registerUser(QStringLiteral("dave"));
    QVERIFY(bob.first > 0 && carol.first > 0 && dave.first > 0);
    const Id big = createRoom(QStringLiteral("all-hands"), {bob.first, carol.first, dave.first}); // 4 > 2
    const Id pair = createRoom(QStringLiteral("pair"), {bob.first}); // 2: pushed
    QVERIFY(big > 0 && pair > 0);
    WsClient cb, cc, cd;
    QVERIFY(cb.connectAs(m_server.wsUrl(), bob.second));
    QVERIFY(cc.connectAs(m_server.wsUrl(), carol.second));
    QVERIFY(cd.connectAs(m_server.wsUrl(), dave.second));

    RoomMembersModel model;
    model.setConnection(m_alice.get());
    model.setRoomId(big);
    QTRY_COMPARE_WITH_TIMEOUT(model.count(), 4, kWaitMs);
    // All four, as the server counts them: her directory knows Bob only (through "pair").
    QTRY_COMPARE_WITH_TIMEOUT(model.onlineCount(), 4, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(m_alice->users()->isOnline(bob.first), kWaitMs);
    QVERIFY(!m_alice->users()->isOnline(carol.first));
    QVERIFY(!m_alice->users()->isOnline(dave.first));
    for (int row = 0; row < model.count(); ++row)
        QVERIFY2(model.get(row).value(QStringLiteral("online")).toBool(), qPrintable(QString::number(row)));

    // Dave leaves: nothing is pushed to Alice. Once the server counts three (asked over Bob's
    // socket), the room opened anew asks again and shows three, Dave offline.
    cd.close();
    qint64 frameId = 0;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            cb.send(taskmaster::ws::RoomPresenceRequest {++frameId, big, 100});
            const auto r = cb.take<taskmaster::ws::RoomPresence>(
                [&](const taskmaster::ws::RoomPresence &p) { return p.id == frameId; });
            return r && r->online == 3;
        }(),
        kWaitMs);
    model.setRoomId(0);
    model.setRoomId(big);
    QTRY_COMPARE_WITH_TIMEOUT(model.onlineCount(), 3, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!model.get(model.count() - 1).value(QStringLiteral("online")).toBool(), kWaitMs);
    QCOMPARE(model.get(model.count() - 1).value(QStringLiteral("userId")).toLongLong(), dave.first);

    // The room at the limit counts from the pushed presence: Alice and Bob.
    model.setRoomId(pair);
    QTRY_COMPARE_WITH_TIMEOUT(model.count(), 2, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(model.onlineCount(), 2, kWaitMs);
}

QTEST_MAIN(TestClientRoomPresence)
#include "tst_client_room_presence.moc"
