// The room header (RoomHeader.qml over a RoomMembersModel) against a real taskmaster-server
// (SQLite in a temporary directory, presence grace 100 ms): the member and online counts of the
// open room, a second user going online and offline changing the online count, their presence dot
// and their place in the member list (online first), a click on a member in the member drawer
// opening the direct room with them (whose header then says whether they are online), nobody shown
// online while the client's own socket is down, and the header fitting phone widths.
#include "client-qml/app/qml_plugins.h"
#include "client-qml/controllers/room_members_model.h"
#include "client-qml/net/client_setup.h"
#include "client-qml/net/connection.h"
#include "tests/gui/client_test_support.h"
#include "tests/support/api_client.h"
#include "tests/support/server_process.h"

#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickStyle>
#include <QQuickWindow>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using taskmaster::Id;
using taskmaster::client::Connection;
using taskmaster::client::RealtimeSession;
using taskmaster::client::RoomMembersModel;
using taskmaster::client::RoomsController;
using taskmaster::test::ApiClient;
using taskmaster::test::ServerProcess;

namespace {

constexpr int kWaitMs = 15000;

// Every visible item below root (popups' content included: the overlay is a child of the window's
// content item) with this objectName.
QList<QQuickItem *> itemsNamed(QQuickItem *root, const QString &name)
{
    QList<QQuickItem *> out;
    if (root->objectName() == name && root->isVisible())
        out.append(root);
    const QList<QQuickItem *> children = root->childItems();
    for (QQuickItem *child : children)
        out.append(itemsNamed(child, name));
    return out;
}

// The header's "3 members, 2 online" as the loaded translations (if any) write it.
QString summary(int members, int online)
{
    return QCoreApplication::translate("RoomHeader", "%n member(s)", nullptr, members)
        + QCoreApplication::translate("RoomHeader", ", %n online", nullptr, online);
}

} // namespace

class TestClientMembers final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void countsAndPresence();
    void memberOpensDirectRoom();
    void nobodyOnlineWhileDisconnected();
    void phoneWidths_data();
    void phoneWidths();

private:
    std::unique_ptr<Connection> makeClient(const QString &name);
    bool loginAs(Connection &c, const QString &user, bool registerFirst);
    // The window with a RoomPage of Alice's connection, at this size.
    bool showRoomPage(QSize size);
    [[nodiscard]] QQuickItem *header() const;
    [[nodiscard]] RoomMembersModel *members() const;
    // The member drawer's row of a user (nullptr when not shown).
    [[nodiscard]] QQuickItem *memberRow(Id userId) const;
    [[nodiscard]] bool openDrawer();
    // Rows of the member list in order (user ids).
    [[nodiscard]] QList<Id> memberOrder() const;

    ServerProcess m_server;
    QTemporaryDir m_dir;
    std::unique_ptr<Connection> m_alice;
    std::unique_ptr<Connection> m_bob;
    std::unique_ptr<Connection> m_carol;
    Id m_carolId = 0;
    Id m_roomId = 0;
    std::unique_ptr<QQmlApplicationEngine> m_engine;
    QQuickWindow *m_window = nullptr;
};

std::unique_ptr<Connection> TestClientMembers::makeClient(const QString &name)
{
    return taskmaster::test::makeTestClient(m_dir, name, m_server.url());
}

bool TestClientMembers::loginAs(Connection &c, const QString &user, bool registerFirst)
{
    return taskmaster::test::loginAndWait(c, user, registerFirst, kWaitMs);
}

void TestClientMembers::initTestCase()
{
    QQuickStyle::setStyle(QStringLiteral("Basic")); // before any QML with Qt Quick Controls
    QVERIFY(m_dir.isValid());
    // Offline is announced 100 ms after the last socket closed (instead of 5 s).
    QVERIFY2(m_server.start({QStringLiteral("--presence-grace-ms"), QStringLiteral("100")}),
             qPrintable(m_server.errorText()));
    m_alice = makeClient(QStringLiteral("alice"));
    QVERIFY(loginAs(*m_alice, QStringLiteral("alice"), true));
    ApiClient api(m_server.url());
    const Id bobId = api.registerUser(QStringLiteral("bob")).first;
    m_carolId = api.registerUser(QStringLiteral("carol")).first;
    QVERIFY(bobId > 0 && m_carolId > 0);

    QSignalSpy created(m_alice->rooms(), &RoomsController::roomCreated);
    m_alice->rooms()->createRoom(QStringLiteral("team"), {bobId, m_carolId});
    QVERIFY(created.wait(kWaitMs) || !created.isEmpty());
    m_roomId = created.constFirst().at(0).toLongLong();
    QVERIFY(m_roomId > 0);
    m_alice->chat()->openRoom(m_roomId);
    // Bob starts his client (Carol has none running yet). (The server tells presence when someone
    // connects and in the snapshot after a welcome, to those who share a room with them then.)
    m_bob = makeClient(QStringLiteral("bob"));
    QVERIFY(loginAs(*m_bob, QStringLiteral("bob"), false));
    QVERIFY(showRoomPage(QSize(1000, 700)));
}

void TestClientMembers::cleanupTestCase()
{
    m_engine.reset();
    m_alice.reset();
    m_bob.reset();
    m_carol.reset();
    m_server.stop();
}

bool TestClientMembers::showRoomPage(QSize size)
{
    if (!m_engine) {
        m_engine = std::make_unique<QQmlApplicationEngine>();
        taskmaster::client::prepareEngine(*m_engine);
        m_engine->setInitialProperties(
            {{QStringLiteral("connection"), QVariant::fromValue(static_cast<QObject *>(m_alice.get()))}});
        m_engine->loadData(R"(
            import QtQuick
            import TaskMaster.Net
            import TaskMaster.Chat
            Window {
                id: window
                visible: true
                required property Connection connection
                RoomPage { objectName: "roomPage"; anchors.fill: parent; connection: window.connection; showBack: window.width < 600 }
            })");
        if (m_engine->rootObjects().size() != 1)
            return false;
        m_window = qobject_cast<QQuickWindow *>(m_engine->rootObjects().constFirst());
        if (!m_window || !QTest::qWaitForWindowExposed(m_window))
            return false;
    }
    m_window->resize(size);
    QDeadlineTimer deadline(kWaitMs);
    while (QSizeF(m_window->contentItem()->size()).toSize() != size && !deadline.hasExpired())
        QTest::qWait(10);
    return QSizeF(m_window->contentItem()->size()).toSize() == size;
}

QQuickItem *TestClientMembers::header() const
{
    return m_window->findChild<QQuickItem *>(QStringLiteral("roomHeader"));
}

RoomMembersModel *TestClientMembers::members() const
{
    return header()->property("members").value<RoomMembersModel *>();
}

QQuickItem *TestClientMembers::memberRow(Id userId) const
{
    for (QQuickItem *row : itemsNamed(m_window->contentItem(), QStringLiteral("memberRow"))) {
        if (row->property("userId").toLongLong() == userId)
            return row;
    }
    return nullptr;
}

bool TestClientMembers::openDrawer()
{
    QQuickItem *button = m_window->findChild<QQuickItem *>(QStringLiteral("membersButton"));
    QObject *drawer = m_window->findChild<QObject *>(QStringLiteral("membersDrawer"));
    if (!button || !drawer || !button->isVisible())
        return false;
    QTest::mouseClick(m_window, Qt::LeftButton, {}, button->mapToScene(button->boundingRect().center()).toPoint());
    QDeadlineTimer deadline(kWaitMs);
    while (!drawer->property("opened").toBool() && !deadline.hasExpired())
        QTest::qWait(10);
    return drawer->property("opened").toBool();
}

QList<Id> TestClientMembers::memberOrder() const
{
    QList<std::pair<qreal, Id>> rows;
    for (QQuickItem *row : itemsNamed(m_window->contentItem(), QStringLiteral("memberRow")))
        rows.append({row->mapToScene(QPointF(0, 0)).y(), row->property("userId").toLongLong()});
    std::sort(rows.begin(), rows.end());
    QList<Id> out;
    for (const auto &r : rows)
        out.append(r.second);
    return out;
}

void TestClientMembers::countsAndPresence()
{
    const Id alice = m_alice->userId();
    const Id bob = m_bob->userId();
    RoomMembersModel *model = members();
    QVERIFY(model);
    QQuickItem *h = header();
    // Three members; Alice (connected) and Bob online, Carol not.
    QTRY_COMPARE_WITH_TIMEOUT(model->count(), 3, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(model->onlineCount(), 2, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(h->property("subtitle").toString(), summary(3, 2), kWaitMs);
    QCOMPARE(h->property("title").toString(), QStringLiteral("#team"));
    QCOMPARE(m_window->findChild<QQuickItem *>(QStringLiteral("memberCount"))->property("text").toString(),
             QStringLiteral("3"));

    // The drawer: online first (by name), then offline; each row's dot says it.
    QVERIFY(openDrawer());
    QTRY_COMPARE_WITH_TIMEOUT(memberOrder(), (QList<Id> {alice, bob, m_carolId}), kWaitMs);
    const auto dotOnline = [&](Id user) {
        QQuickItem *row = memberRow(user);
        const auto avatars = row ? itemsNamed(row, QStringLiteral("memberAvatar")) : QList<QQuickItem *> {};
        return avatars.size() == 1 && avatars.constFirst()->property("online").toBool();
    };
    QVERIFY(dotOnline(alice));
    QVERIFY(dotOnline(bob));
    QVERIFY(!dotOnline(m_carolId));
    QCOMPARE(itemsNamed(memberRow(alice), QStringLiteral("memberName")).constFirst()->property("text").toString(),
             QStringLiteral("Alice (you)"));
    QTRY_COMPARE_WITH_TIMEOUT(
        itemsNamed(memberRow(m_carolId), QStringLiteral("memberName")).constFirst()->property("text").toString(),
        QStringLiteral("carol"), kWaitMs);

    // Carol starts her client: online; she moves up among the online (Alice, Bob, Carol by name).
    m_carol = makeClient(QStringLiteral("carol"));
    QVERIFY(loginAs(*m_carol, QStringLiteral("carol"), false));
    QTRY_COMPARE_WITH_TIMEOUT(model->onlineCount(), 3, kWaitMs);
    QCOMPARE(h->property("subtitle").toString(), summary(3, 3));
    QTRY_VERIFY_WITH_TIMEOUT(dotOnline(m_carolId), kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(memberOrder(), (QList<Id> {alice, bob, m_carolId}), kWaitMs);
    QCOMPARE(itemsNamed(m_window->contentItem(), QStringLiteral("membersSummary")).constFirst()->property("text"),
             summary(3, 3));

    // Bob quits: offline after the grace; his dot goes grey and he goes to the end.
    m_bob.reset();
    QTRY_COMPARE_WITH_TIMEOUT(model->onlineCount(), 2, kWaitMs);
    QCOMPARE(h->property("subtitle").toString(), summary(3, 2));
    QTRY_VERIFY_WITH_TIMEOUT(!dotOnline(bob), kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(memberOrder(), (QList<Id> {alice, m_carolId, bob}), kWaitMs);

    // And back.
    m_bob = makeClient(QStringLiteral("bob"));
    QVERIFY(loginAs(*m_bob, QStringLiteral("bob"), false));
    QTRY_COMPARE_WITH_TIMEOUT(model->onlineCount(), 3, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(dotOnline(bob), kWaitMs);

    // Typing takes the subtitle's place while it lasts.
    m_bob->chat()->openRoom(m_roomId);
    m_bob->typing()->notify();
    QTRY_COMPARE_WITH_TIMEOUT(h->property("subtitle").toString(), QStringLiteral("bob is typing…"), kWaitMs);
    QObject *drawer = m_window->findChild<QObject *>(QStringLiteral("membersDrawer"));
    QVERIFY(QMetaObject::invokeMethod(drawer, "close"));
    QTRY_VERIFY_WITH_TIMEOUT(!drawer->property("visible").toBool(), kWaitMs);
}

void TestClientMembers::memberOpensDirectRoom()
{
    QVERIFY(m_carol && m_carol->loggedIn());
    m_alice->chat()->openRoom(m_roomId);
    QTRY_COMPARE_WITH_TIMEOUT(members()->count(), 3, kWaitMs);
    QVERIFY(openDrawer());
    QTRY_VERIFY_WITH_TIMEOUT(memberRow(m_carolId), kWaitMs);
    QQuickItem *row = memberRow(m_carolId);
    QSignalSpy opened(m_alice->rooms(), &RoomsController::directRoomOpened);
    QTest::mouseClick(m_window, Qt::LeftButton, {}, row->mapToScene(row->boundingRect().center()).toPoint());
    QVERIFY(opened.wait(kWaitMs) || !opened.isEmpty());
    const Id dm = opened.constFirst().at(0).toLongLong();
    QCOMPARE(m_alice->chat()->roomId(), dm);
    QCOMPARE(m_alice->rooms()->directPeer(dm), m_carolId);
    QObject *drawer = m_window->findChild<QObject *>(QStringLiteral("membersDrawer"));
    QTRY_VERIFY_WITH_TIMEOUT(!drawer->property("visible").toBool(), kWaitMs);
    // The header of the direct room: her name, and whether she is online.
    QQuickItem *h = header();
    QTRY_COMPARE_WITH_TIMEOUT(h->property("title").toString(), QStringLiteral("@carol"), kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(h->property("subtitle").toString(), QStringLiteral("Online"), kWaitMs);
    QCOMPARE(members()->count(), 2);
    m_carol.reset();
    QTRY_COMPARE_WITH_TIMEOUT(h->property("subtitle").toString(), QStringLiteral("Offline"), kWaitMs);
    QCOMPARE(members()->onlineCount(), 1);

    // A click on oneself opens nothing.
    QVERIFY(openDrawer());
    QTRY_VERIFY_WITH_TIMEOUT(memberRow(m_alice->userId()), kWaitMs);
    row = memberRow(m_alice->userId());
    opened.clear();
    QTest::mouseClick(m_window, Qt::LeftButton, {}, row->mapToScene(row->boundingRect().center()).toPoint());
    QTest::qWait(0);
    QCOMPARE(opened.size(), 0);
    QCOMPARE(m_alice->chat()->roomId(), dm);
    QVERIFY(QMetaObject::invokeMethod(drawer, "close"));
    QTRY_VERIFY_WITH_TIMEOUT(!drawer->property("visible").toBool(), kWaitMs);
}

void TestClientMembers::nobodyOnlineWhileDisconnected()
{
    // Alice's socket drops (the server goes away): the presence she had is stale, so nobody is
    // online, herself included; back online with the server, the snapshot after the welcome
    // shows Bob again.
    m_alice->chat()->openRoom(m_roomId);
    RoomMembersModel *model = members();
    QTRY_COMPARE_WITH_TIMEOUT(model->onlineCount(), 2, kWaitMs); // Alice and Bob
    // Again on the same port (and the same data directory: ServerProcess keeps it).
    const QStringList args {QStringLiteral("--presence-grace-ms"), QStringLiteral("100"), QStringLiteral("--listen"),
                            QStringLiteral("127.0.0.1:%1").arg(m_server.port())};
    QCOMPARE(m_server.stop(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(model->onlineCount(), 0, kWaitMs);
    // (Once bob's typing from before has run out.)
    QTRY_COMPARE_WITH_TIMEOUT(header()->property("subtitle").toString(), summary(3, 0), kWaitMs);
    QVERIFY2(m_server.start(args), qPrintable(m_server.errorText()));
    QTRY_COMPARE_WITH_TIMEOUT(m_alice->realtime()->state(), RealtimeSession::Online, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(m_bob->realtime()->state(), RealtimeSession::Online, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(model->onlineCount(), 2, kWaitMs);
}

void TestClientMembers::phoneWidths_data()
{
    QTest::addColumn<QSize>("size");
    QTest::newRow("360x800") << QSize(360, 800);
    QTest::newRow("390x844") << QSize(390, 844);
    QTest::newRow("412x915") << QSize(412, 915);
}

void TestClientMembers::phoneWidths()
{
    QFETCH(QSize, size);
    QVERIFY(showRoomPage(size));
    m_alice->chat()->openRoom(m_roomId);
    QTRY_COMPARE_WITH_TIMEOUT(members()->count(), 3, kWaitMs);
    // The members button is on screen, right of the title, inside the window.
    QQuickItem *button = m_window->findChild<QQuickItem *>(QStringLiteral("membersButton"));
    QTRY_VERIFY_WITH_TIMEOUT(button->isVisible() && button->width() > 0, kWaitMs);
    const QRectF r = button->mapRectToScene(button->boundingRect());
    QVERIFY2(r.left() >= size.width() / 2 && r.right() <= size.width(),
             qPrintable(QStringLiteral("button %1..%2 in %3").arg(r.left()).arg(r.right()).arg(size.width())));
    // The drawer fits and lists everyone, with room for the names.
    QVERIFY(openDrawer());
    QObject *drawer = m_window->findChild<QObject *>(QStringLiteral("membersDrawer"));
    QVERIFY(drawer->property("width").toReal() <= size.width());
    QTRY_COMPARE_WITH_TIMEOUT(memberOrder().size(), 3, kWaitMs);
    for (QQuickItem *name : itemsNamed(m_window->contentItem(), QStringLiteral("memberName"))) {
        QVERIFY(name->width() >= 100);
        QVERIFY(!name->property("truncated").toBool());
    }
    QVERIFY(QMetaObject::invokeMethod(drawer, "close"));
    QTRY_VERIFY_WITH_TIMEOUT(!drawer->property("visible").toBool(), kWaitMs);
}

QTEST_MAIN(TestClientMembers)
#include "tst_client_members.moc"
