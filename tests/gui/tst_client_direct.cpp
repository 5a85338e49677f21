// Direct messages, mentions and notifications in the client against a real taskmaster-server
// (SQLite in a temporary directory): a direct room opened from a user's name (RoomsController and
// the RoomsPage's "New direct message" dialog) reaches the other user live and shows each the other
// one's name, and opening it again gives the same room; the room list puts rooms with news first
// and marks a mention until it is read; the notifier's decision on live messages (a mention, a
// direct message; not the user's own, not with the window focused, not in do-not-disturb, which
// is kept in the settings file) through a recording sink instead of a desktop popup; and the
// composer's `@name` completion. Plus the mention rules themselves (Mentions), data-driven.
#include "client-qml/app/qml_plugins.h"
#include "client-qml/controllers/mentions.h"
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
using taskmaster::RoomKind;
using taskmaster::RoomListModel;
using taskmaster::UserListModel;
using taskmaster::client::ChatController;
using taskmaster::client::ChatNotifier;
using taskmaster::client::Connection;
using taskmaster::client::NotificationSink;
using taskmaster::client::RealtimeSession;
using taskmaster::client::RoomsController;
using taskmaster::test::ApiClient;
using taskmaster::test::ServerProcess;
namespace mentions = taskmaster::client::mentions;

namespace {

constexpr int kWaitMs = 15000;

// Records what would have been shown.
class RecordingSink final : public NotificationSink {
public:
    struct Shown {
        QString title;
        QString body;
        Id roomId = 0;
    };
    [[nodiscard]] bool available() const override { return true; }
    void notify(const QString &title, const QString &body, Id roomId) override { shown.append({title, body, roomId}); }
    QList<Shown> shown;
};

// Every item below root (visual children, popups' content included: they sit in the overlay, a
// child of the window's content item) with this objectName.
QList<QQuickItem *> itemsNamed(QQuickItem *root, const QString &name)
{
    QList<QQuickItem *> out;
    if (root->objectName() == name)
        out.append(root);
    const QList<QQuickItem *> children = root->childItems();
    for (QQuickItem *child : children)
        out.append(itemsNamed(child, name));
    return out;
}

QList<Id> roomOrder(const RoomListModel &m)
{
    QList<Id> out;
    for (int r = 0; r < m.count(); ++r)
        out.append(m.roomAt(r).id);
    return out;
}

} // namespace

class TestClientDirect final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void mentionRules_data();
    void mentionRules();
    void completion_data();
    void completion();
    void directRoomFromName();
    void directRoomFromDialog();
    void newsFirstAndMentions();
    void notificationDecision();
    void doNotDisturbPersists();
    void composerCompletesMention();
    void completionRanksRoomMembersFirst();
    void mentionKeptAcrossRestart();
    void mentionWhileSocketDown();

private:
    std::unique_ptr<Connection> makeClient(const QString &name);
    bool loginAs(Connection &c, const QString &user, bool registerFirst);
    // A group room of Alice with Bob (and Carol when asked); its id once both see it.
    Id groupRoom(const QString &name);
    // Bob sends body to room and Alice's list has it.
    bool bobSends(Id room, const QString &body);

    ServerProcess m_server;
    QTemporaryDir m_dir;
    std::unique_ptr<Connection> m_alice;
    std::unique_ptr<Connection> m_bob;
    std::unique_ptr<Connection> m_carol;
};

std::unique_ptr<Connection> TestClientDirect::makeClient(const QString &name)
{
    return taskmaster::test::makeTestClient(m_dir, name, m_server.url());
}

bool TestClientDirect::loginAs(Connection &c, const QString &user, bool registerFirst)
{
    return taskmaster::test::loginAndWait(c, user, registerFirst, kWaitMs);
}

void TestClientDirect::initTestCase()
{
    QQuickStyle::setStyle(QStringLiteral("Basic")); // before any QML with Qt Quick Controls
    QVERIFY(m_dir.isValid());
    QVERIFY2(m_server.start(), qPrintable(m_server.errorText()));
    m_alice = makeClient(QStringLiteral("alice"));
    QVERIFY(loginAs(*m_alice, QStringLiteral("alice"), true));
    m_bob = makeClient(QStringLiteral("bob"));
    QVERIFY(loginAs(*m_bob, QStringLiteral("bob"), true));
    m_carol = makeClient(QStringLiteral("carol"));
    QVERIFY(loginAs(*m_carol, QStringLiteral("carol"), true));
    // Alice's window never has the focus here unless a test says so.
    m_alice->notifier()->setFocusProbe([] { return false; });
}

void TestClientDirect::cleanupTestCase()
{
    m_alice.reset();
    m_bob.reset();
    m_carol.reset();
    m_server.stop();
}

Id TestClientDirect::groupRoom(const QString &name)
{
    QSignalSpy created(m_alice->rooms(), &RoomsController::roomCreated);
    m_alice->rooms()->createRoom(name, {m_bob->userId()});
    if (!created.wait(kWaitMs) && created.isEmpty())
        return 0;
    const Id id = created.constFirst().at(0).toLongLong();
    QDeadlineTimer deadline(kWaitMs);
    while (!deadline.hasExpired() && m_bob->rooms()->model()->rowForId(id) < 0)
        QTest::qWait(20);
    return m_bob->rooms()->model()->rowForId(id) >= 0 ? id : 0;
}

bool TestClientDirect::bobSends(Id room, const QString &body)
{
    const auto lastSeq = [&] {
        const auto r = m_alice->rooms()->model()->room(room);
        return r ? r->lastSeq : -1;
    };
    const qint64 before = lastSeq();
    m_bob->chat()->openRoom(room);
    m_bob->chat()->sendMessage(body);
    QDeadlineTimer deadline(kWaitMs);
    while (!deadline.hasExpired() && lastSeq() <= before)
        QTest::qWait(20);
    return lastSeq() > before;
}

void TestClientDirect::mentionRules_data()
{
    QTest::addColumn<QString>("body");
    QTest::addColumn<QString>("username");
    QTest::addColumn<bool>("mentioned");
    QTest::newRow("alone") << "@alice"
                           << "alice" << true;
    QTest::newRow("in a sentence") << "hi @alice, look"
                                   << "alice" << true;
    QTest::newRow("sentence end") << "ask @alice."
                                  << "alice" << true;
    QTest::newRow("case-insensitive") << "hi @Alice"
                                      << "alice" << true;
    QTest::newRow("after a line break") << "x\n@alice"
                                        << "alice" << true;
    QTest::newRow("in brackets") << "(@alice)"
                                 << "alice" << true;
    QTest::newRow("longer name") << "@alicex"
                                 << "alice" << false;
    QTest::newRow("dotted longer name") << "@alice.smith"
                                        << "alice" << false;
    QTest::newRow("dotted name") << "hey @alice.smith!"
                                 << "alice.smith" << true;
    QTest::newRow("e-mail address") << "mail bob@alice"
                                    << "alice" << false;
    QTest::newRow("double at") << "@@alice"
                               << "alice" << false;
    QTest::newRow("no at") << "alice"
                           << "alice" << false;
    QTest::newRow("someone else") << "@bob"
                                  << "alice" << false;
    QTest::newRow("empty username") << "@"
                                    << "" << false;
}

void TestClientDirect::mentionRules()
{
    QFETCH(QString, body);
    QFETCH(QString, username);
    QFETCH(bool, mentioned);
    QCOMPARE(mentions::mentions(body, username), mentioned);
    // The highlighted text marks exactly the mentions, escaped.
    const QString styled = mentions::toStyledText(body + QStringLiteral(" <b>"), username, QStringLiteral("#f00"),
                                                  QStringLiteral("#00f"));
    QVERIFY(styled.endsWith(QStringLiteral(" &lt;b&gt;")));
    QCOMPARE(styled.contains(QStringLiteral("\"#f00\"")), mentioned);
}

void TestClientDirect::completion_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("cursor");
    QTest::addColumn<QVariant>("prefix"); // null: none
    QTest::addColumn<QString>("completed"); // with "bob"
    QTest::addColumn<int>("cursorAfter");
    QTest::newRow("just the at") << "@" << 1 << QVariant(QString()) << "@bob " << 5;
    QTest::newRow("partial") << "hi @Bo" << 6 << QVariant(QStringLiteral("bo")) << "hi @bob " << 8;
    QTest::newRow("inside a word") << "hi @bo there" << 5 << QVariant(QStringLiteral("b")) << "hi @bob there" << 8;
    QTest::newRow("e-mail") << "a@b" << 3 << QVariant() << "a@b" << 3;
    QTest::newRow("no at") << "hello" << 5 << QVariant() << "hello" << 5;
    QTest::newRow("after a space") << "@bob x" << 6 << QVariant() << "@bob x" << 6;
}

void TestClientDirect::completion()
{
    QFETCH(QString, text);
    QFETCH(int, cursor);
    QFETCH(QVariant, prefix);
    QFETCH(QString, completed);
    QFETCH(int, cursorAfter);
    const auto p = mentions::prefixAt(text, cursor);
    QCOMPARE(p.has_value(), prefix.isValid());
    if (p)
        QCOMPARE(*p, prefix.toString());
    const auto c = mentions::complete(text, cursor, QStringLiteral("bob"));
    QCOMPARE(c.text, completed);
    QCOMPARE(c.cursor, cursorAfter);
}

void TestClientDirect::directRoomFromName()
{
    Connection &a = *m_alice;
    Connection &b = *m_bob;
    QSignalSpy opened(a.rooms(), &RoomsController::directRoomOpened);
    a.rooms()->openDirectRoom(b.userId());
    QVERIFY(opened.wait(kWaitMs) || !opened.isEmpty());
    const Id id = opened.constFirst().at(0).toLongLong();
    QVERIFY(id > 0);
    // Opened for Alice, shown by Bob's name.
    QCOMPARE(a.chat()->roomId(), id);
    const auto room = a.rooms()->model()->room(id);
    QVERIFY(room);
    QCOMPARE(room->kind, RoomKind::Direct);
    QCOMPARE(a.rooms()->directPeer(id), b.userId());
    QTRY_COMPARE_WITH_TIMEOUT(a.rooms()->title(id), QStringLiteral("@Bob"), kWaitMs);

    // Bob's list gets it live (member_joined), shown by Alice's name; not opened for him.
    QTRY_VERIFY_WITH_TIMEOUT(b.rooms()->model()->rowForId(id) >= 0, kWaitMs);
    QCOMPARE(b.rooms()->model()->room(id)->kind, RoomKind::Direct);
    QTRY_COMPARE_WITH_TIMEOUT(b.rooms()->title(id), QStringLiteral("@Alice"), kWaitMs);
    QVERIFY(b.chat()->roomId() != id);

    // Bob opening it from his side: the same room, nothing new in either list.
    const int aliceRooms = a.rooms()->model()->count();
    const int bobRooms = b.rooms()->model()->count();
    QSignalSpy bobOpened(b.rooms(), &RoomsController::directRoomOpened);
    b.rooms()->openDirectRoom(a.userId());
    QVERIFY(bobOpened.wait(kWaitMs) || !bobOpened.isEmpty());
    QCOMPARE(bobOpened.constFirst().at(0).toLongLong(), id);
    QCOMPARE(b.chat()->roomId(), id);
    QCOMPARE(b.rooms()->model()->count(), bobRooms);
    QCOMPARE(a.rooms()->model()->count(), aliceRooms);

    // Messages go both ways.
    b.chat()->sendMessage(QStringLiteral("hello alice"));
    QTRY_COMPARE_WITH_TIMEOUT(a.chat()->messages()->count(), 1, kWaitMs);
    QCOMPARE(a.chat()->messages()->messageAt(0).body, QStringLiteral("hello alice"));

    // Oneself: nothing is asked.
    opened.clear();
    a.rooms()->openDirectRoom(a.userId());
    QTest::qWait(0);
    QCOMPARE(opened.size(), 0);
}

void TestClientDirect::directRoomFromDialog()
{
    Connection &a = *m_alice;
    Connection &c = *m_carol;
    QQmlApplicationEngine engine;
    taskmaster::client::prepareEngine(engine);
    engine.setInitialProperties({{QStringLiteral("connection"), QVariant::fromValue(static_cast<QObject *>(&a))}});
    engine.loadData(R"(
        import QtQuick
        import TaskMaster.Net
        import TaskMaster.Chat
        Window {
            id: window
            width: 480
            height: 640
            visible: true
            required property Connection connection
            RoomsPage { anchors.fill: parent; connection: window.connection }
        })");
    QCOMPARE(engine.rootObjects().size(), 1);
    auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
    QVERIFY(window);
    QVERIFY(QTest::qWaitForWindowExposed(window));
    auto *button = window->findChild<QQuickItem *>(QStringLiteral("newDirectButton"));
    QVERIFY(button);
    QVERIFY(QMetaObject::invokeMethod(button, "clicked"));
    auto *dialog = window->findChild<QObject *>(QStringLiteral("newDirectDialog"));
    QVERIFY(dialog);
    QTRY_VERIFY_WITH_TIMEOUT(dialog->property("opened").toBool(), kWaitMs);
    const auto fields = itemsNamed(window->contentItem(), QStringLiteral("directSearchField"));
    QCOMPARE(fields.size(), 1);
    QQuickItem *field = fields.constFirst();
    field->forceActiveFocus();
    taskmaster::test::typeText(window, "car");
    // Carol among the matches: click her.
    QQuickItem *candidate = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (auto *item : itemsNamed(window->contentItem(), QStringLiteral("directCandidate"))) {
                if (item->property("userId").toLongLong() == c.userId() && item->isVisible())
                    candidate = item;
            }
            return candidate != nullptr;
        }(),
        kWaitMs);
    QSignalSpy opened(a.rooms(), &RoomsController::directRoomOpened);
    QVERIFY(QMetaObject::invokeMethod(candidate, "clicked"));
    QVERIFY(opened.wait(kWaitMs) || !opened.isEmpty());
    const Id id = opened.constFirst().at(0).toLongLong();
    QCOMPARE(a.chat()->roomId(), id);
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->property("visible").toBool(), kWaitMs);
    // The list shows it by Carol's name.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (auto *t : itemsNamed(window->contentItem(), QStringLiteral("roomTitle"))) {
                if (t->property("text").toString() == QStringLiteral("@Carol"))
                    return true;
            }
            return false;
        }(),
        kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(c.rooms()->model()->rowForId(id) >= 0, kWaitMs);
}

void TestClientDirect::newsFirstAndMentions()
{
    Connection &a = *m_alice;
    const Id older = groupRoom(QStringLiteral("older"));
    const Id newer = groupRoom(QStringLiteral("newer"));
    QVERIFY(older > 0 && newer > 0);
    a.chat()->closeRoom();
    RoomListModel &list = *a.rooms()->model();
    // Read everything there is, so only what follows is news.
    for (int r = 0; r < list.count(); ++r)
        list.markRead(list.roomAt(r).id, list.roomAt(r).lastSeq);
    QVERIFY(roomOrder(list).indexOf(newer) < roomOrder(list).indexOf(older));

    // A message in the older room: news, so it leads.
    QVERIFY(bobSends(older, QStringLiteral("news")));
    QTRY_COMPARE_WITH_TIMEOUT(list.roomAt(0).id, older, kWaitMs);
    QCOMPARE(list.roomAt(0).unread, 1);
    const auto mentioned
        = [&](Id room) { return list.index(list.rowForId(room)).data(RoomListModel::MentionedRole).toBool(); };
    QVERIFY(!mentioned(older));
    // A mention in the newer room: news and mentioned; newer activity, so first.
    QVERIFY(bobSends(newer, QStringLiteral("@alice look")));
    QTRY_COMPARE_WITH_TIMEOUT(list.roomAt(0).id, newer, kWaitMs);
    QVERIFY(mentioned(newer));
    QCOMPARE(list.roomAt(1).id, older);

    // Alice reads the newer room: the mention goes, the room goes below the one with news.
    QSignalSpy loaded(a.chat(), &ChatController::historyLoaded);
    a.chat()->openRoom(newer);
    QVERIFY(loaded.wait(kWaitMs) || !loaded.isEmpty());
    a.chat()->markRead();
    QTRY_VERIFY_WITH_TIMEOUT(!mentioned(newer), kWaitMs);
    QCOMPARE(list.roomAt(0).id, older);
    QVERIFY(roomOrder(list).indexOf(newer) > 0);
    a.chat()->closeRoom();
}

void TestClientDirect::notificationDecision()
{
    Connection &a = *m_alice;
    RecordingSink sink;
    a.notifier()->setSink(&sink);
    a.notifier()->setDoNotDisturb(false);
    bool focused = false;
    a.notifier()->setFocusProbe([&] { return focused; });
    const Id group = groupRoom(QStringLiteral("notify"));
    QVERIFY(group > 0);
    a.chat()->closeRoom();

    // Nothing for a plain group message, or a mention of someone else.
    QVERIFY(bobSends(group, QStringLiteral("plain")));
    QVERIFY(bobSends(group, QStringLiteral("@bob talks to himself")));
    QCOMPARE(sink.shown.size(), 0);
    // A mention: one notification naming the author and the room, with the text.
    QVERIFY(bobSends(group, QStringLiteral("@alice please look")));
    QTRY_COMPARE_WITH_TIMEOUT(sink.shown.size(), 1, kWaitMs);
    QCOMPARE(sink.shown.at(0).roomId, group);
    QCOMPARE(sink.shown.at(0).title, QStringLiteral("Bob mentioned you in #notify"));
    QCOMPARE(sink.shown.at(0).body, QStringLiteral("@alice please look"));
    // Alice's own mention of herself: nothing. (Bob's message after her acked one comes after it
    // in the channel.)
    a.chat()->openRoom(group);
    a.chat()->sendMessage(QStringLiteral("note to @alice"));
    QTRY_COMPARE_WITH_TIMEOUT(a.outbox()->pendingCount(), 0, kWaitMs);
    QVERIFY(bobSends(group, QStringLiteral("sync")));
    QCOMPARE(sink.shown.size(), 1);
    a.chat()->closeRoom();

    // Someone Alice has never heard of opens a direct room and writes at once: the room (over
    // REST) and the author's name come after the message; it notifies once both are known.
    ApiClient api(m_server.url());
    const auto [daveId, daveToken] = api.registerUser(QStringLiteral("dave"));
    const auto dm = api.post(QStringLiteral("/api/v1/direct-rooms"),
                             QJsonObject {{QStringLiteral("userId"), a.userId()}}, daveToken);
    QCOMPARE(dm.status, 201);
    const Id dmId = dm.json().value(QLatin1String("id")).toInteger();
    QCOMPARE(api.post(QStringLiteral("/api/v1/rooms/%1/messages").arg(dmId),
                      QJsonObject {{QStringLiteral("body"), QStringLiteral("psst")}}, daveToken)
                 .status,
             201);
    QTRY_COMPARE_WITH_TIMEOUT(sink.shown.size(), 2, kWaitMs);
    QCOMPARE(sink.shown.at(1).roomId, dmId);
    QCOMPARE(sink.shown.at(1).title, QStringLiteral("dave"));
    QCOMPARE(sink.shown.at(1).body, QStringLiteral("psst"));
    QCOMPARE(a.rooms()->title(dmId), QStringLiteral("@dave"));
    // Clicking it (the tray's messageClicked) opens its room.
    Q_EMIT a.notifier()->openRequested(dmId);
    QCOMPARE(a.chat()->roomId(), dmId);
    a.chat()->closeRoom();

    // Focused window: nothing; do-not-disturb: nothing.
    focused = true;
    QVERIFY(bobSends(group, QStringLiteral("@alice focused")));
    focused = false;
    a.notifier()->setDoNotDisturb(true);
    QVERIFY(bobSends(group, QStringLiteral("@alice quiet")));
    QCOMPARE(sink.shown.size(), 2);
    a.notifier()->setDoNotDisturb(false);
    QVERIFY(bobSends(group, QStringLiteral("@alice again")));
    QTRY_COMPARE_WITH_TIMEOUT(sink.shown.size(), 3, kWaitMs);

    // The decision alone.
    taskmaster::User self;
    self.id = a.userId();
    self.username = QStringLiteral("alice");
    taskmaster::Message m;
    m.authorId = m_bob->userId();
    m.body = QStringLiteral("@ALICE!");
    QCOMPARE(ChatNotifier::decide(m, RoomKind::Group, self, false, false), ChatNotifier::Reason::Mention);
    QCOMPARE(ChatNotifier::decide(m, RoomKind::Direct, self, false, false), ChatNotifier::Reason::Direct);
    QCOMPARE(ChatNotifier::decide(m, RoomKind::Group, self, true, false), ChatNotifier::Reason::None);
    QCOMPARE(ChatNotifier::decide(m, RoomKind::Group, self, false, true), ChatNotifier::Reason::None);
    m.deleted = true;
    QCOMPARE(ChatNotifier::decide(m, RoomKind::Direct, self, false, false), ChatNotifier::Reason::None);
    m.deleted = false;
    m.authorId = self.id;
    QCOMPARE(ChatNotifier::decide(m, RoomKind::Direct, self, false, false), ChatNotifier::Reason::None);

    // Without a recording sink the tray's is used; here (offscreen, a QGuiApplication) it has
    // nothing to show with and says so, and a notification is dropped without harm.
    a.notifier()->setSink(nullptr);
    QVERIFY(!a.notifier()->available());
    QVERIFY(bobSends(group, QStringLiteral("@alice into the void")));
    a.notifier()->setFocusProbe([] { return false; });
}

void TestClientDirect::doNotDisturbPersists()
{
    m_alice->notifier()->setDoNotDisturb(true);
    {
        Connection again;
        again.setSettingsFile(m_dir.filePath(QStringLiteral("alice.ini")));
        QVERIFY(again.notifier()->doNotDisturb());
    }
    m_alice->notifier()->setDoNotDisturb(false);
    Connection again;
    again.setSettingsFile(m_dir.filePath(QStringLiteral("alice.ini")));
    QVERIFY(!again.notifier()->doNotDisturb());
}

void TestClientDirect::composerCompletesMention()
{
    Connection &a = *m_alice;
    QQmlApplicationEngine engine;
    taskmaster::client::prepareEngine(engine);
    engine.setInitialProperties({{QStringLiteral("connection"), QVariant::fromValue(static_cast<QObject *>(&a))}});
    engine.loadData(R"(
        import QtQuick
        import TaskMaster.Net
        import TaskMaster.Chat
        Window {
            id: window
            width: 480
            height: 400
            visible: true
            required property Connection connection
            Composer { anchors.bottom: parent.bottom; width: parent.width; connection: window.connection }
        })");
    QCOMPARE(engine.rootObjects().size(), 1);
    auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
    QVERIFY(window);
    QVERIFY(QTest::qWaitForWindowExposed(window));
    auto *field = window->findChild<QQuickItem *>(QStringLiteral("composerField"));
    auto *popup = window->findChild<QObject *>(QStringLiteral("mentionPopup"));
    QVERIFY(field && popup);
    field->forceActiveFocus();
    taskmaster::test::typeText(window, "hi @ca");
    QTRY_VERIFY_WITH_TIMEOUT(popup->property("visible").toBool(), kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(a.users()->matches()->count(), 1, kWaitMs); // carol
    QTest::keyClick(window, Qt::Key_Tab);
    QCOMPARE(field->property("text").toString(), QStringLiteral("hi @carol "));
    QCOMPARE(field->property("cursorPosition").toInt(), 10);
    QTRY_VERIFY_WITH_TIMEOUT(!popup->property("visible").toBool(), kWaitMs);
    // Enter sends as usual once the list is gone: nothing was sent while completing.
    field->setProperty("text", QString());
}

void TestClientDirect::completionRanksRoomMembersFirst()
{
    // "bea" sorts before "bob" and is in none of Alice's rooms; bob is in the room she writes in.
    auto bea = makeClient(QStringLiteral("bea"));
    QVERIFY(loginAs(*bea, QStringLiteral("bea"), true));
    const Id room = groupRoom(QStringLiteral("ranked"));
    QVERIFY(room > 0);
    Connection &a = *m_alice;
    const UserListModel &matches = *a.users()->matches();
    const auto usernames = [&] {
        QStringList out;
        for (int row = 0; row < matches.count(); ++row)
            out << matches.index(row).data(UserListModel::UsernameRole).toString();
        return out;
    };
    a.users()->searchUsers(QStringLiteral("b"));
    QTRY_COMPARE_WITH_TIMEOUT(usernames(), QStringList({QStringLiteral("bea"), QStringLiteral("bob")}), kWaitMs);
    a.users()->searchUsers(QStringLiteral("b"), a.rooms()->memberIds(room));
    QTRY_COMPARE_WITH_TIMEOUT(usernames(), QStringList({QStringLiteral("bob"), QStringLiteral("bea")}), kWaitMs);
    QCOMPARE(a.rooms()->memberIds(room).size(), 2);
    QVERIFY(a.rooms()->memberIds(987654).isEmpty());
}

void TestClientDirect::mentionKeptAcrossRestart()
{
    // A mention in the room Alice has open (its messages go to her local store), not yet read.
    const Id room = groupRoom(QStringLiteral("restart"));
    QVERIFY(room > 0);
    QSignalSpy loaded(m_alice->chat(), &ChatController::historyLoaded);
    m_alice->chat()->openRoom(room);
    QVERIFY(loaded.wait(kWaitMs) || !loaded.isEmpty());
    QVERIFY(bobSends(room, QStringLiteral("@alice before you quit")));
    const auto mentioned = [](Connection &c, Id id) {
        const RoomListModel &list = *c.rooms()->model();
        const int row = list.rowForId(id);
        return row >= 0 && list.index(row).data(RoomListModel::MentionedRole).toBool();
    };
    QTRY_VERIFY_WITH_TIMEOUT(mentioned(*m_alice, room), kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(m_alice->chat()->messages()->count() == 1, kWaitMs);

    // Quit and start again: the room is marked from the store.
    m_alice.reset();
    m_alice = makeClient(QStringLiteral("alice"));
    QVERIFY(m_alice->restoreSession());
    QTRY_VERIFY_WITH_TIMEOUT(m_alice->loggedIn(), kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(mentioned(*m_alice, room), kWaitMs);
}

// A mention sent while Alice's socket is down reaches her through the resume replay of the next
// connection (not live): it counts as unread and as a mention in the room list and notifies, as a
// live one does. Further behind than the server replays (a resync), the room's unread messages are
// looked through: the mention is marked, without a notification.
void TestClientDirect::mentionWhileSocketDown()
{
    Connection &a = *m_alice;
    RecordingSink sink;
    a.notifier()->setSink(&sink);
    a.notifier()->setDoNotDisturb(false);
    a.notifier()->setFocusProbe([] { return false; });
    const Id room = groupRoom(QStringLiteral("away"));
    QVERIFY(room > 0);
    a.chat()->closeRoom();
    RoomListModel &list = *a.rooms()->model();
    list.markRead(room, list.room(room)->lastSeq);
    const auto mentioned = [&] { return list.index(list.rowForId(room)).data(RoomListModel::MentionedRole).toBool(); };
    QVERIFY(!mentioned());
    QCOMPARE(list.room(room)->unread, 0);

    // The server goes away; Alice's client waits a minute between attempts (so it stays
    // offline until the test says), after one failed attempt.
    a.realtime()->setReconnectLimits(60000, 120000);
    const QString listen = QStringLiteral("127.0.0.1:%1").arg(m_server.port());
    QCOMPARE(m_server.stop(30000), 0);
    QDeadlineTimer deadline(kWaitMs);
    while (!deadline.hasExpired() && a.realtime()->reconnectAttempt() < 2) {
        a.realtime()->reconnectNow();
        QTest::qWait(50);
    }
    QVERIFY(a.realtime()->reconnectAttempt() >= 2);
    QVERIFY(a.realtime()->state() != RealtimeSession::Online);

    // Back; Bob mentions her (over REST) while her socket is still down.
    QVERIFY2(m_server.start({QStringLiteral("--listen"), listen}), qPrintable(m_server.errorText()));
    ApiClient api(m_server.url());
    QCOMPARE(api.post(QStringLiteral("/api/v1/rooms/%1/messages").arg(room),
                      QJsonObject {{QStringLiteral("body"), QStringLiteral("@alice while you were away")}},
                      m_bob->token())
                 .status,
             201);
    QCOMPARE(sink.shown.size(), 0);

    // Her client comes back and resumes: unread, mentioned, notified.
    a.realtime()->setReconnectLimits(100, 800);
    a.realtime()->reconnectNow();
    QTRY_VERIFY_WITH_TIMEOUT(a.realtime()->state() == RealtimeSession::Online, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(mentioned(), kWaitMs);
    QCOMPARE(list.room(room)->unread, 1);
    QTRY_COMPARE_WITH_TIMEOUT(sink.shown.size(), 1, kWaitMs);
    QCOMPARE(sink.shown.at(0).roomId, room);
    QCOMPARE(sink.shown.at(0).title, QStringLiteral("Bob mentioned you in #away"));
    QCOMPARE(sink.shown.at(0).body, QStringLiteral("@alice while you were away"));

    // Alice reads it (the server has her marker), then falls further behind than the server
    // replays (--ws-replay-limit 1): a resync. The room is loaded again and its unread messages
    // looked through: mentioned again, unread 3; no notification (not live).
    QSignalSpy loaded(a.chat(), &ChatController::historyLoaded);
    a.chat()->openRoom(room);
    QVERIFY(loaded.wait(kWaitMs) || !loaded.isEmpty());
    a.chat()->markRead();
    QTRY_VERIFY_WITH_TIMEOUT(!mentioned(), kWaitMs);
    const auto serverReadSeq = [&] {
        return api.get(QStringLiteral("/api/v1/rooms/%1").arg(room), a.token())
            .json()
            .value(QLatin1String("readSeq"))
            .toInteger();
    };
    QTRY_COMPARE_WITH_TIMEOUT(serverReadSeq(), list.room(room)->lastSeq, kWaitMs);
    a.chat()->closeRoom();
    a.realtime()->setReconnectLimits(60000, 120000);
    QCOMPARE(m_server.stop(30000), 0);
    deadline = QDeadlineTimer(kWaitMs);
    while (!deadline.hasExpired() && a.realtime()->reconnectAttempt() < 2) {
        a.realtime()->reconnectNow();
        QTest::qWait(50);
    }
    QVERIFY(a.realtime()->reconnectAttempt() >= 2);
    QVERIFY2(
        m_server.start({QStringLiteral("--listen"), listen, QStringLiteral("--ws-replay-limit"), QStringLiteral("1")}),
        qPrintable(m_server.errorText()));
    for (const QString &body : {QStringLiteral("@alice far behind"), QStringLiteral("one"), QStringLiteral("two")}) {
        QCOMPARE(api.post(QStringLiteral("/api/v1/rooms/%1/messages").arg(room),
                          QJsonObject {{QStringLiteral("body"), body}}, m_bob->token())
                     .status,
                 201);
    }
    a.realtime()->setReconnectLimits(100, 800);
    a.realtime()->reconnectNow();
    QTRY_VERIFY_WITH_TIMEOUT(a.realtime()->state() == RealtimeSession::Online, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(mentioned(), kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(list.room(room)->unread, 3, kWaitMs);
    QCOMPARE(sink.shown.size(), 1);

    a.notifier()->setSink(nullptr);
    // Bob and Carol are back too, for what follows.
    QTRY_VERIFY_WITH_TIMEOUT(m_bob->realtime()->state() == RealtimeSession::Online
                                 && m_carol->realtime()->state() == RealtimeSession::Online,
                             kWaitMs);
}

QTEST_MAIN(TestClientDirect)
#include "tst_client_direct.moc"
