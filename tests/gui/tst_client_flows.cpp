// The client's Connection against a real taskmaster-server started by the test (SQLite in a
// temporary directory): register and log in, rooms, open a room, send with a pending state until
// the ack, receive from a second client, unread counts, typing, edit and delete, user search (and
// its errors), a saved session restored from the settings and revoked by a logout elsewhere, tasks
// updated live, a room opened with unread messages (the RoomPage's "N unread - jump" loads history
// back to the read marker and shows the first unread message), a task move whose PATCH fails going
// back, and a server restart on the same port: the client reconnects by itself (backoff), and
// messages sent while it was away arrive through resume (a replay, not a reload), as does its own
// send queued while offline.
#include "client-qml/app/qml_plugins.h"
#include "client-qml/net/client_setup.h"
#include "client-qml/net/connection.h"
#include "shared/domain/validation.h"
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

#include <algorithm>
#include <memory>

using taskmaster::MessageListModel;
using taskmaster::TaskListModel;
using taskmaster::UserListModel;
using taskmaster::client::ChatController;
using taskmaster::client::Connection;
using taskmaster::client::ProjectsController;
using taskmaster::client::RealtimeSession;
using taskmaster::client::RoomsController;
using taskmaster::client::TaskBoardController;
using taskmaster::test::ApiClient;
using taskmaster::test::ServerProcess;

namespace {

constexpr int kWaitMs = 15000;
// Reconnect limits for "stays offline until reconnectNow()": the first automatic attempt is drawn
// from [0, base] (full jitter), so the base must make an attempt within a test's minutes
// practically impossible (about 1 in 10^7 per minute).
constexpr qint64 kNoAutoReconnectMs = qint64(1) << 40;

// Bodies of the confirmed rows, oldest first.
QStringList bodies(const MessageListModel &m)
{
    QStringList out;
    for (int r = 0; r < m.count(); ++r)
        out << m.messageAt(r).body;
    return out;
}

bool seqsStrictlyIncrease(const MessageListModel &m)
{
    for (int r = 1; r < m.confirmedCount(); ++r) {
        if (m.messageAt(r).seq <= m.messageAt(r - 1).seq)
            return false;
    }
    return true;
}

} // namespace

class TestClientFlows final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void loginFailures_data();
    void loginFailures();
    void loginSendReceive();
    void typingEditDelete();
    void userSearch();
    void sessionRestoredAndRevoked();
    void tasksLive();
    void firstUnreadJump();
    void reconnectAfterServerRestart();
    void failedSendAndRetry();
    void taskMoveOfflineThenConflict();

private:
    std::unique_ptr<Connection> makeClient(const QString &name);
    bool loginAs(Connection &c, const QString &user, bool registerFirst = false);
    // SIGTERM and wait (the server drains: `reconnect` to every socket). What matters here is
    // that it is down; a drain that overran is reported, not failed on.
    bool stopServer();

    ServerProcess m_server;
    QTemporaryDir m_dir;
    std::unique_ptr<Connection> m_alice;
    std::unique_ptr<Connection> m_bob;
    qint64 m_bobId = 0;
    QByteArray m_bobToken;
    qint64 m_roomId = 0;
};

std::unique_ptr<Connection> TestClientFlows::makeClient(const QString &name)
{
    return taskmaster::test::makeTestClient(m_dir, name, m_server.url(), false);
}

bool TestClientFlows::loginAs(Connection &c, const QString &user, bool registerFirst)
{
    return taskmaster::test::loginAndWait(c, user, registerFirst, kWaitMs);
}

bool TestClientFlows::stopServer()
{
    const int code = m_server.stop(30000);
    if (code != 0) {
        qWarning("server exit code %d after SIGTERM; its last output:\n%s", code,
                 m_server.process().readAllStandardOutput().right(3000).constData());
    }
    return m_server.process().state() == QProcess::NotRunning;
}

void TestClientFlows::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY2(m_server.start(), qPrintable(m_server.errorText()));
    ApiClient api(m_server.url());
    m_alice = makeClient(QStringLiteral("alice"));
    QVERIFY(loginAs(*m_alice, QStringLiteral("alice"), true));
    QVERIFY(m_alice->isAdmin()); // first user of the database
    std::tie(m_bobId, m_bobToken) = api.registerUser(QStringLiteral("bob"));
    m_bob = makeClient(QStringLiteral("bob"));
    QVERIFY(loginAs(*m_bob, QStringLiteral("bob")));
    QVERIFY(!m_bob->isAdmin());
}

void TestClientFlows::cleanupTestCase()
{
    m_alice.reset();
    m_bob.reset();
    m_server.stop();
}

void TestClientFlows::loginFailures_data()
{
    QTest::addColumn<QString>("server");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QString>("error");
    QTest::newRow("wrong password") << ""
                                    << "not-the-password"
                                    << "Wrong username or password.";
    QTest::newRow("no server") << "http://127.0.0.1:1"
                               << "password123"
                               << "Cannot reach the server.";
}

void TestClientFlows::loginFailures()
{
    QFETCH(QString, server);
    QFETCH(QString, password);
    QFETCH(QString, error);
    auto c = makeClient(QStringLiteral("failures"));
    if (!server.isEmpty())
        c->setServerUrl(server);
    c->login(QStringLiteral("alice"), password);
    QVERIFY(c->busy());
    QTRY_VERIFY_WITH_TIMEOUT(!c->busy(), kWaitMs);
    QCOMPARE(c->lastError(), error);
    QVERIFY(!c->loggedIn());
    QCOMPARE(c->realtime()->state(), RealtimeSession::Offline);
}

void TestClientFlows::loginSendReceive()
{
    Connection &a = *m_alice;
    Connection &b = *m_bob;
    QSignalSpy created(a.rooms(), &RoomsController::roomCreated);
    a.rooms()->createRoom(QStringLiteral("general"), {m_bobId});
    QTRY_COMPARE_WITH_TIMEOUT(created.size(), 1, kWaitMs);
    m_roomId = created.constFirst().at(0).toLongLong();
    QVERIFY(m_roomId > 0);
    QTRY_VERIFY_WITH_TIMEOUT(b.rooms()->model()->rowForId(m_roomId) >= 0, kWaitMs);

    QSignalSpy loaded(a.chat(), &ChatController::historyLoaded);
    a.chat()->openRoom(m_roomId);
    QTRY_COMPARE_WITH_TIMEOUT(loaded.size(), 1, kWaitMs);
    QCOMPARE(a.chat()->roomName(), QStringLiteral("general"));
    QCOMPARE(a.chat()->messages()->count(), 0);

    // Pending until the ack, then confirmed with a seq.
    const QString clientId = a.chat()->sendMessage(QStringLiteral("hello bob"));
    QVERIFY(!clientId.isEmpty());
    QCOMPARE(a.chat()->messages()->count(), 1);
    QCOMPARE(a.chat()->messages()->index(0).data(MessageListModel::PendingRole).toBool(), true);
    QCOMPARE(a.outbox()->pendingCount(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(a.chat()->messages()->index(0).data(MessageListModel::PendingRole).toBool(), false,
                              kWaitMs);
    QCOMPARE(a.outbox()->pendingCount(), 0);
    QVERIFY(a.chat()->messages()->messageAt(0).seq > 0);
    QCOMPARE(a.chat()->messages()->messageAt(0).clientId.value_or(QString()), clientId);
    QCOMPARE(a.chat()->messages()->count(), 1); // the event after the ack did not add a row

    // Bob has it unread until he opens the room.
    QTRY_COMPARE_WITH_TIMEOUT(b.rooms()->model()->roomAt(b.rooms()->model()->rowForId(m_roomId)).unread, qint64(1),
                              kWaitMs);
    QCOMPARE(b.rooms()->model()->totalUnread(), qint64(1));
    b.chat()->openRoom(m_roomId);
    QTRY_COMPARE_WITH_TIMEOUT(bodies(*b.chat()->messages()), QStringList {QStringLiteral("hello bob")}, kWaitMs);
    QCOMPARE(b.chat()->messages()->messageAt(0).authorId, a.userId());
    QTRY_COMPARE_WITH_TIMEOUT(b.rooms()->model()->totalUnread(), qint64(0), kWaitMs);
    // The timeline shows it upside down: newest first.
    QCOMPARE(b.chat()->timeline()->count(), 1);

    // Bob answers; Alice, in the room, gets it live.
    b.chat()->sendMessage(QStringLiteral("hi alice"));
    QTRY_COMPARE_WITH_TIMEOUT(bodies(*a.chat()->messages()),
                              (QStringList {QStringLiteral("hello bob"), QStringLiteral("hi alice")}), kWaitMs);
    QCOMPARE(a.chat()->messages()->messageAt(1).authorId, m_bobId);
    QVERIFY(seqsStrictlyIncrease(*a.chat()->messages()));
    QCOMPARE(a.chat()->timeline()->index(0, 0).data(MessageListModel::BodyRole).toString(), QStringLiteral("hi alice"));
    QTRY_COMPARE_WITH_TIMEOUT(a.users()->userName(m_bobId), QStringLiteral("bob"), kWaitMs);
}

void TestClientFlows::typingEditDelete()
{
    QVERIFY(m_roomId > 0);
    Connection &a = *m_alice;
    Connection &b = *m_bob;
    QCOMPARE(a.typing()->text(), QString());
    b.typing()->notify();
    QTRY_COMPARE_WITH_TIMEOUT(a.typing()->text(), QStringLiteral("bob is typing…"), kWaitMs);

    const taskmaster::Message first = a.chat()->messages()->messageAt(0);
    QCOMPARE(first.authorId, a.userId());
    a.chat()->editMessage(first.id, QStringLiteral("hello bob, edited"));
    QTRY_COMPARE_WITH_TIMEOUT(b.chat()->messages()->index(0).data(MessageListModel::BodyRole).toString(),
                              QStringLiteral("hello bob, edited"), kWaitMs);
    QVERIFY(b.chat()->messages()->index(0).data(MessageListModel::EditedRole).toBool());
    a.chat()->deleteMessage(first.id);
    QTRY_VERIFY_WITH_TIMEOUT(b.chat()->messages()->index(0).data(MessageListModel::DeletedRole).toBool(), kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(a.chat()->messages()->index(0).data(MessageListModel::DeletedRole).toBool(), kWaitMs);
    QCOMPARE(b.chat()->messages()->count(), 2); // a tombstone, not a removal

    // Someone else's message cannot be edited: the server refuses, the client says so.
    a.clearError();
    a.chat()->editMessage(a.chat()->messages()->messageAt(1).id, QStringLiteral("not mine"));
    QTRY_VERIFY_WITH_TIMEOUT(!a.lastError().isEmpty(), kWaitMs);
    QCOMPARE(b.chat()->messages()->messageAt(1).body, QStringLiteral("hi alice"));
}

void TestClientFlows::userSearch()
{
    // The assignee picker's search: the matches in a list model; a search the server refuses
    // says why (its error used to be dropped), and the last matches stay.
    Connection &a = *m_alice;
    const UserListModel &matches = *a.users()->matches();
    auto hasBob = [&] {
        for (int row = 0; row < matches.count(); ++row) {
            if (matches.index(row).data(UserListModel::UserIdRole).toLongLong() == m_bobId)
                return matches.index(row).data(UserListModel::UsernameRole).toString() == QStringLiteral("bob");
        }
        return false;
    };
    a.users()->searchUsers(QStringLiteral("bob"));
    QTRY_VERIFY_WITH_TIMEOUT(hasBob(), kWaitMs);
    const int found = matches.count();
    a.clearError();
    a.users()->searchUsers(QString(taskmaster::limits::kSearchQueryMax + 1, QLatin1Char('b')));
    QTRY_VERIFY_WITH_TIMEOUT(!a.lastError().isEmpty(), kWaitMs);
    QCOMPARE(matches.count(), found);
    a.clearError();
}

void TestClientFlows::sessionRestoredAndRevoked()
{
    // Carol logs in; a second client with the same settings file restores the session.
    ApiClient api(m_server.url());
    const auto carolId = api.registerUser(QStringLiteral("carol")).first;
    auto first = makeClient(QStringLiteral("carol"));
    QVERIFY(loginAs(*first, QStringLiteral("carol")));
    auto second = makeClient(QStringLiteral("carol"));
    QVERIFY(!second->loggedIn());
    QVERIFY(second->restoreSession());
    QTRY_VERIFY_WITH_TIMEOUT(second->loggedIn() && second->realtime()->state() == RealtimeSession::Online, kWaitMs);
    QCOMPARE(second->userId(), carolId);
    QCOMPARE(second->token(), first->token());

    // Logging out revokes the token everywhere: the first client's socket is closed (4003).
    second->logout();
    QVERIFY(!second->loggedIn());
    QCOMPARE(second->realtime()->state(), RealtimeSession::Offline);
    QTRY_VERIFY_WITH_TIMEOUT(!first->loggedIn(), kWaitMs);
    QCOMPARE(first->realtime()->state(), RealtimeSession::Offline);
    QVERIFY(!first->lastError().isEmpty());
    auto third = makeClient(QStringLiteral("carol"));
    QVERIFY(!third->restoreSession()); // nothing saved any more
}

void TestClientFlows::tasksLive()
{
    Connection &a = *m_alice;
    Connection &b = *m_bob;
    QSignalSpy created(a.projects(), &ProjectsController::projectCreated);
    a.projects()->createProject(QStringLiteral("Launch"), QStringLiteral("the first release"));
    QTRY_COMPARE_WITH_TIMEOUT(created.size(), 1, kWaitMs);
    const qint64 projectId = created.constFirst().at(0).toLongLong();
    a.projects()->addProjectMember(projectId, m_bobId);
    QTRY_VERIFY_WITH_TIMEOUT(b.projects()->model()->count() > 0, kWaitMs); // member_joined for bob reloads his list

    QSignalSpy aLoaded(a.board(), &TaskBoardController::tasksLoaded);
    QSignalSpy bLoaded(b.board(), &TaskBoardController::tasksLoaded);
    a.board()->openProject(projectId);
    b.board()->openProject(projectId);
    QTRY_COMPARE_WITH_TIMEOUT(aLoaded.size(), 1, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(bLoaded.size(), 1, kWaitMs);
    QCOMPARE(a.board()->projectName(), QStringLiteral("Launch"));

    // A board column of Bob's, attached to the connection.
    TaskListModel inReview;
    inReview.setStatusFilterWire(QStringLiteral("review"));
    b.board()->attachTaskModel(&inReview);

    a.board()->createTask({{QStringLiteral("title"), QStringLiteral("Write the docs")},
                           {QStringLiteral("priority"), QStringLiteral("high")},
                           {QStringLiteral("assigneeId"), m_bobId},
                           {QStringLiteral("dueDate"), QStringLiteral("2026-12-01")}});
    QTRY_COMPARE_WITH_TIMEOUT(b.board()->tasks()->count(), 1, kWaitMs);
    const taskmaster::Task t = b.board()->tasks()->taskAt(0);
    QCOMPARE(t.title, QStringLiteral("Write the docs"));
    QCOMPARE(t.assigneeId.value_or(0), m_bobId);
    QCOMPARE(t.dueDate.value_or(QDate()), QDate(2026, 12, 1));
    QCOMPARE(inReview.count(), 0);

    // Bob moves it to review: Alice sees the move, Bob's review column gets the card.
    b.board()->setTaskStatus(t.id, QStringLiteral("review"));
    QCOMPARE(inReview.count(), 1); // at once (optimistic)
    QTRY_COMPARE_WITH_TIMEOUT(a.board()->tasks()->task(t.id)->status, taskmaster::TaskStatus::Review, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(a.board()->tasks()->task(t.id)->version >= 2, kWaitMs);
    QCOMPARE(a.board()->taskInfo(t.id).value(QStringLiteral("status")).toString(), QStringLiteral("review"));

    a.board()->deleteTask(t.id);
    QTRY_COMPARE_WITH_TIMEOUT(b.board()->tasks()->count(), 0, kWaitMs);
    QCOMPARE(inReview.count(), 0);
    b.board()->detachTaskModel(&inReview);
}

void TestClientFlows::firstUnreadJump()
{
    Connection &a = *m_alice;
    ApiClient api(m_server.url());
    const auto createdRoom = api.post(
        QStringLiteral("/api/v1/rooms"),
        {{QStringLiteral("name"), QStringLiteral("backlog")}, {QStringLiteral("memberIds"), QJsonArray {a.userId()}}},
        m_bobToken);
    QCOMPARE(createdRoom.status, 201);
    const qint64 room = createdRoom.json().value(QLatin1String("id")).toInteger();
    const QString messagesPath = QStringLiteral("/api/v1/rooms/%1/messages").arg(room);
    auto bobWrites = [&](const QString &prefix, int n) {
        for (int i = 1; i <= n; ++i) {
            const auto r = api.post(messagesPath,
                                    {{QStringLiteral("body"), QStringLiteral("%1 %2").arg(prefix).arg(i)},
                                     {QStringLiteral("clientId"), QStringLiteral("%1-%2").arg(prefix).arg(i)}},
                                    m_bobToken);
            if (r.status != 201)
                return false;
        }
        return true;
    };
    QVERIFY(bobWrites(QStringLiteral("read"), 20));
    QTRY_VERIFY_WITH_TIMEOUT(a.rooms()->model()->rowForId(room) >= 0, kWaitMs);

    // Alice reads them: opening the room moves her marker to its latest message, on the server
    // too, where GET /rooms and /rooms/{id} carry it as readSeq.
    QSignalSpy loaded(a.chat(), &ChatController::historyLoaded);
    a.chat()->openRoom(room);
    QTRY_COMPARE_WITH_TIMEOUT(loaded.size(), 1, kWaitMs);
    const qint64 lastRead = a.chat()->messages()->messageAt(a.chat()->messages()->count() - 1).seq;
    QCOMPARE(a.chat()->messages()->messageAt(a.chat()->messages()->count() - 1).body, QStringLiteral("read 20"));
    const QString roomPath = QStringLiteral("/api/v1/rooms/%1").arg(room);
    QTRY_COMPARE_WITH_TIMEOUT(api.get(roomPath, a.token()).json().value(QLatin1String("readSeq")).toInteger(-1),
                              lastRead, kWaitMs);
    qint64 listed = -1;
    for (const QJsonValue &r : api.get(QStringLiteral("/api/v1/rooms"), a.token()).items()) {
        if (r.toObject().value(QLatin1String("id")).toInteger() == room)
            listed = r.toObject().value(QLatin1String("readSeq")).toInteger(-1);
    }
    QCOMPARE(listed, lastRead);
    QCOMPARE(api.get(roomPath, m_bobToken).json().value(QLatin1String("readSeq")).toInteger(-1), 0); // the caller's own

    // Away in another room, Alice misses more than a page of Bob's messages.
    a.chat()->openRoom(m_roomId);
    constexpr int kUnread = 120;
    QVERIFY(bobWrites(QStringLiteral("unread"), kUnread));
    QTRY_COMPARE_WITH_TIMEOUT(a.rooms()->model()->roomAt(a.rooms()->model()->rowForId(room)).unread, qint64(kUnread),
                              kWaitMs);

    // The room page, on a window of its own, low enough that the latest page (50 one-line
    // messages, about 750 px) reaches beyond the view plus its cacheBuffer (400 px): a view
    // creates the delegates of that buffer asynchronously after its first layout, and creating
    // the oldest row's delegate makes the delegate model ask for the next page (fetchMore), which
    // is allowed. At 480 px the page ended about 10 px inside the buffer, so whether a second page
    // came before the checks below depended on the timing of that incubation (issue 16).
    QQuickStyle::setStyle(QStringLiteral("Basic"));
    QQmlApplicationEngine engine;
    taskmaster::client::prepareEngine(engine);
    engine.setInitialProperties({{QStringLiteral("connection"), QVariant::fromValue(static_cast<QObject *>(&a))}});
    engine.loadData(R"(
        import QtQuick
        import TaskMaster.Net
        import TaskMaster.Chat
        Window {
            id: window
            width: 640
            height: 300
            visible: true
            required property Connection connection
            RoomPage { anchors.fill: parent; connection: window.connection }
        })");
    QCOMPARE(engine.rootObjects().size(), 1);
    auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
    QVERIFY(window);
    QVERIFY(QTest::qWaitForWindowExposed(window));
    auto *button = window->findChild<QQuickItem *>(QStringLiteral("firstUnreadButton"));
    auto *timeline = window->findChild<QQuickItem *>(QStringLiteral("timeline"));
    QVERIFY(button && timeline);
    QVERIFY(!button->isVisible());

    loaded.clear();
    a.chat()->openRoom(room);
    QCOMPARE(a.chat()->firstUnreadCount(), qint64(kUnread));
    QVERIFY(button->isVisible());
    QVERIFY2(button->property("text").toString().startsWith(QStringLiteral("120 unread")),
             qPrintable(button->property("text").toString()));
    QTRY_COMPARE_WITH_TIMEOUT(loaded.size(), 1, kWaitMs);
    // Only the latest page is loaded: the first unread message is not there yet.
    QCOMPARE(a.chat()->messages()->count(), 50);
    QCOMPARE(a.chat()->messages()->firstUnreadSeq(), -1);
    QVERIFY(timeline->property("atLatest").toBool());
    // Once the view has filled its buffer above the view (a delegate reaches the buffer's far
    // edge) and drawn a frame after that (the delegate model's request, a posted event, would be
    // out by then), it has not asked for an older page: the oldest loaded row is beyond the view
    // and its cacheBuffer.
    const qreal buffer = timeline->property("cacheBuffer").toReal();
    QVERIFY(buffer > 0);
    auto bufferFilled = [&] {
        const qreal edge = timeline->property("contentY").toReal() - buffer;
        const auto children = timeline->property("contentItem").value<QQuickItem *>()->childItems();
        return std::any_of(children.cbegin(), children.cend(), [&](QQuickItem *d) {
            return d->isVisible() && d->property("isFirstUnread").isValid() && d->y() <= edge + d->height();
        });
    };
    QTRY_VERIFY_WITH_TIMEOUT(bufferFilled(), kWaitMs);
    QSignalSpy frames(window, &QQuickWindow::frameSwapped);
    window->requestUpdate();
    QTRY_VERIFY_WITH_TIMEOUT(frames.size() >= 1, kWaitMs);
    QVERIFY(!a.chat()->messages()->fetchingOlder());
    QCOMPARE(loaded.size(), 1);
    QCOMPARE(a.chat()->messages()->count(), 50);

    QSignalSpy ready(a.chat(), &ChatController::firstUnreadReady);
    QTRY_VERIFY_WITH_TIMEOUT(button->isEnabled() && button->width() > 0, kWaitMs);
    QTest::mouseClick(window, Qt::LeftButton, {}, button->mapToScene(button->boundingRect().center()).toPoint());
    QTRY_COMPARE_WITH_TIMEOUT(ready.size(), 1, kWaitMs);
    // History back to the marker (one page sized to reach it), the line above the first unread.
    const qint64 first = ready.constFirst().at(0).toLongLong();
    QVERIFY(a.chat()->messages()->rowForSeq(lastRead) >= 0);
    QCOMPARE(first, a.chat()->messages()->firstUnreadSeq());
    QCOMPARE(a.chat()->messages()->messageAt(a.chat()->messages()->rowForSeq(first)).body, QStringLiteral("unread 1"));
    QVERIFY(!button->isVisible());
    QCOMPARE(a.chat()->firstUnreadCount(), qint64(0));
    // Positioned: the delegate of the first unread message (with its "new messages" line) is in
    // the view.
    auto firstUnreadShown = [&] {
        const QRectF view(0, 0, timeline->width(), timeline->height());
        const auto children = timeline->property("contentItem").value<QQuickItem *>()->childItems();
        for (QQuickItem *d : children) {
            if (d->isVisible() && d->property("isFirstUnread").toBool())
                return view.intersects(d->mapRectToItem(timeline, d->boundingRect()));
        }
        return false;
    };
    QTRY_VERIFY_WITH_TIMEOUT(firstUnreadShown(), kWaitMs);
    QVERIFY(!timeline->property("atLatest").toBool());
    // Her marker reached the latest message meanwhile (she opened the room at its end); the line
    // stays where it was for this visit.
    QTRY_COMPARE_WITH_TIMEOUT(a.rooms()->model()->roomAt(a.rooms()->model()->rowForId(room)).unread, qint64(0),
                              kWaitMs);
    QCOMPARE(a.chat()->messages()->firstUnreadSeq(), first);
    a.chat()->closeRoom();
}

void TestClientFlows::reconnectAfterServerRestart()
{
    QVERIFY(m_roomId > 0);
    Connection &a = *m_alice;
    a.chat()->openRoom(m_roomId);
    QTRY_VERIFY_WITH_TIMEOUT(a.chat()->messages()->count() >= 2, kWaitMs);
    const QString listen = QStringLiteral("127.0.0.1:%1").arg(m_server.port());

    // 1. The server restarts on the same address: the client comes back by itself (backoff).
    QVERIFY(stopServer());
    QTRY_VERIFY_WITH_TIMEOUT(a.realtime()->state() != RealtimeSession::Online, kWaitMs);
    QVERIFY2(m_server.start({QStringLiteral("--listen"), listen}), qPrintable(m_server.errorText()));
    QTRY_COMPARE_WITH_TIMEOUT(a.realtime()->state(), RealtimeSession::Online, kWaitMs);
    QVERIFY(a.loggedIn()); // the token survived the restart

    // 2. Away long enough to miss messages: they come back through resume, in order, once.
    a.realtime()->setReconnectLimits(kNoAutoReconnectMs, kNoAutoReconnectMs);
    QVERIFY(stopServer());
    QTRY_COMPARE_WITH_TIMEOUT(a.realtime()->state(), RealtimeSession::Offline, kWaitMs);
    const QString queued = a.chat()->sendMessage(QStringLiteral("written while offline"));
    QVERIFY(!queued.isEmpty());
    QVERIFY2(m_server.start({QStringLiteral("--listen"), listen}), qPrintable(m_server.errorText()));
    ApiClient api(m_server.url());
    for (int i = 1; i <= 3; ++i) {
        const auto r = api.post(QStringLiteral("/api/v1/rooms/%1/messages").arg(m_roomId),
                                {{QStringLiteral("body"), QStringLiteral("missed %1").arg(i)},
                                 {QStringLiteral("clientId"), QStringLiteral("missed-%1").arg(i)}},
                                m_bobToken);
        QCOMPARE(r.status, 201);
    }
    QCOMPARE(a.realtime()->state(), RealtimeSession::Offline); // still waiting: nothing arrived live
    QSignalSpy caughtUp(a.realtime(), &RealtimeSession::channelCaughtUp);
    a.realtime()->reconnectNow();
    QTRY_COMPARE_WITH_TIMEOUT(a.realtime()->state(), RealtimeSession::Online, kWaitMs);
    // The room was replayed (resumed), not reloaded (resync).
    auto resumed = [&] {
        int n = 0;
        for (const auto &args : std::as_const(caughtUp))
            n += args.at(1).toBool() ? 1 : 0;
        return n;
    };
    QTRY_VERIFY_WITH_TIMEOUT(resumed() > 0, kWaitMs);
    bool roomResumed = false;
    for (const auto &args : std::as_const(caughtUp))
        roomResumed = roomResumed
            || (args.at(0).value<taskmaster::Channel>() == taskmaster::Channel::room(m_roomId) && args.at(1).toBool());
    QVERIFY(roomResumed);
    QTRY_COMPARE_WITH_TIMEOUT(a.outbox()->pendingCount(), 0, kWaitMs); // the queued send went out and was acked
    QTRY_VERIFY_WITH_TIMEOUT(bodies(*a.chat()->messages()).contains(QStringLiteral("written while offline")), kWaitMs);
    const QStringList got = bodies(*a.chat()->messages());
    for (int i = 1; i <= 3; ++i)
        QCOMPARE(got.count(QStringLiteral("missed %1").arg(i)), 1);
    QCOMPARE(got.count(QStringLiteral("written while offline")), 1);
    QVERIFY(got.indexOf(QStringLiteral("missed 1")) < got.indexOf(QStringLiteral("missed 3")));
    QVERIFY(seqsStrictlyIncrease(*a.chat()->messages()));
    QCOMPARE(a.chat()->messages()->confirmedCount(), a.chat()->messages()->count());
    QVERIFY(!a.chat()->messages()->hasGap());
    QCOMPARE(a.realtime()->seenSeq(taskmaster::Channel::room(m_roomId)).value_or(0), a.chat()->messages()->lastSeq());
    // Bob, who reconnected by himself, sees Alice's queued message too.
    QTRY_VERIFY_WITH_TIMEOUT(bodies(*m_bob->chat()->messages()).contains(QStringLiteral("written while offline")),
                             kWaitMs);
    a.realtime()->setReconnectLimits(100, 800);
}

void TestClientFlows::failedSendAndRetry()
{
    // A send that gets no ack in time turns failed and is not resent by itself after the
    // reconnect; the user's retry sends it again under the same clientId.
    QVERIFY(m_roomId > 0);
    Connection &a = *m_alice;
    a.chat()->openRoom(m_roomId);
    a.outbox()->setSendTimeoutMs(300);
    a.realtime()->setReconnectLimits(kNoAutoReconnectMs, kNoAutoReconnectMs);
    const QString listen = QStringLiteral("127.0.0.1:%1").arg(m_server.port());
    QVERIFY(stopServer());
    QTRY_COMPARE_WITH_TIMEOUT(a.realtime()->state(), RealtimeSession::Offline, kWaitMs);
    const QString clientId = a.chat()->sendMessage(QStringLiteral("retry me"));
    const int row = a.chat()->messages()->rowForClientId(clientId);
    QVERIFY(row >= 0);
    QTRY_VERIFY_WITH_TIMEOUT(a.chat()->messages()->index(row).data(MessageListModel::FailedRole).toBool(), kWaitMs);
    QCOMPARE(a.chat()->messages()->index(row).data(MessageListModel::PendingRole).toBool(), false);
    QCOMPARE(a.outbox()->pendingCount(), 1);

    QVERIFY2(m_server.start({QStringLiteral("--listen"), listen}), qPrintable(m_server.errorText()));
    a.realtime()->reconnectNow();
    QTRY_COMPARE_WITH_TIMEOUT(a.realtime()->state(), RealtimeSession::Online, kWaitMs);
    // A marker sent after the reconnect reaches Bob; the failed send, had it gone out, would
    // have reached him first (one connection's sends are delivered in order).
    a.outbox()->setSendTimeoutMs(15000);
    a.chat()->sendMessage(QStringLiteral("marker"));
    QTRY_VERIFY_WITH_TIMEOUT(bodies(*m_bob->chat()->messages()).contains(QStringLiteral("marker")), kWaitMs);
    QVERIFY(!bodies(*m_bob->chat()->messages()).contains(QStringLiteral("retry me")));
    QVERIFY(a.chat()
                ->messages()
                ->index(a.chat()->messages()->rowForClientId(clientId))
                .data(MessageListModel::FailedRole)
                .toBool());

    a.outbox()->retry(clientId);
    QVERIFY(a.chat()
                ->messages()
                ->index(a.chat()->messages()->rowForClientId(clientId))
                .data(MessageListModel::PendingRole)
                .toBool());
    QTRY_COMPARE_WITH_TIMEOUT(a.outbox()->pendingCount(), 0, kWaitMs);
    QCOMPARE(a.chat()->messages()->rowForClientId(clientId), -1); // confirmed now
    QTRY_VERIFY_WITH_TIMEOUT(bodies(*m_bob->chat()->messages()).contains(QStringLiteral("retry me")), kWaitMs);
    const QStringList got = bodies(*m_bob->chat()->messages());
    QCOMPARE(got.count(QStringLiteral("retry me")), 1);
    QVERIFY(got.indexOf(QStringLiteral("marker")) < got.indexOf(QStringLiteral("retry me")));
    QVERIFY(seqsStrictlyIncrease(*a.chat()->messages()));
    a.realtime()->setReconnectLimits(100, 800);
}

void TestClientFlows::taskMoveOfflineThenConflict()
{
    // A move (the board's keyboard and drag and drop path) shows at once. Offline (no answer at
    // all) it stays, pending, and goes out when the session is welcomed again, with If-Match of the
    // version it was made on; someone else changed the task meanwhile: 412, the pending move is
    // dropped, the user is told and the server's version is shown.
    Connection &a = *m_alice;
    a.realtime()->setReconnectLimits(kNoAutoReconnectMs, kNoAutoReconnectMs);
    QSignalSpy created(a.projects(), &ProjectsController::projectCreated);
    a.projects()->createProject(QStringLiteral("Moves"), QString());
    QTRY_COMPARE_WITH_TIMEOUT(created.size(), 1, kWaitMs);
    const qint64 projectId = created.constFirst().at(0).toLongLong();
    a.projects()->addProjectMember(projectId, m_bobId);
    a.board()->openProject(projectId);
    a.board()->createTask({{QStringLiteral("title"), QStringLiteral("Ship it")}});
    QTRY_COMPARE_WITH_TIMEOUT(a.board()->tasks()->count(), 1, kWaitMs);
    const qint64 taskId = a.board()->tasks()->taskAt(0).id;
    auto statusOf = [&] { return a.board()->taskInfo(taskId).value(QStringLiteral("status")).toString(); };
    TaskListModel done;
    done.setStatusFilterWire(QStringLiteral("done"));
    a.board()->attachTaskModel(&done);
    ApiClient api(m_server.url());
    const QString taskPath = QStringLiteral("/api/v1/tasks/%1").arg(taskId);
    QTRY_COMPARE_WITH_TIMEOUT(api.get(taskPath, m_bobToken).status, 200, kWaitMs); // Bob is a member

    const QString listen = QStringLiteral("127.0.0.1:%1").arg(m_server.port());
    QVERIFY(stopServer());
    QTRY_COMPARE_WITH_TIMEOUT(a.realtime()->state(), RealtimeSession::Offline, kWaitMs);
    a.clearError();
    a.board()->setTaskStatus(taskId, QStringLiteral("done"));
    QCOMPARE(statusOf(), QStringLiteral("done")); // at once
    QCOMPARE(done.count(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(a.board()->isPending(taskId), kWaitMs); // its PATCH found no server
    QCOMPARE(statusOf(), QStringLiteral("done")); // kept
    QCOMPARE(done.count(), 1);
    QVERIFY(a.lastError().isEmpty());

    QVERIFY2(m_server.start({QStringLiteral("--listen"), listen}), qPrintable(m_server.errorText()));
    const auto byBob = api.patch(taskPath, {{QStringLiteral("status"), QStringLiteral("review")}}, m_bobToken);
    QCOMPARE(byBob.status, 200);
    QCOMPARE(a.realtime()->state(), RealtimeSession::Offline); // Alice has not seen Bob's change
    QVERIFY(a.board()->isPending(taskId));
    a.realtime()->reconnectNow(); // welcomed: the pending move goes out with If-Match 1
    QTRY_COMPARE_WITH_TIMEOUT(a.realtime()->state(), RealtimeSession::Online, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!a.lastError().isEmpty(), kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(statusOf(), QStringLiteral("review"), kWaitMs); // Bob's, loaded after the 412
    QVERIFY(!a.board()->isPending(taskId));
    QCOMPARE(done.count(), 0);
    QCOMPARE(a.board()->taskInfo(taskId).value(QStringLiteral("version")).toLongLong(), 2);
    const auto onServer = api.get(taskPath, m_bobToken);
    QCOMPARE(onServer.json().value(QLatin1String("status")).toString(), QStringLiteral("review"));

    // Online, a move goes through with the version it knows now.
    a.board()->setTaskStatus(taskId, QStringLiteral("done"));
    QTRY_COMPARE_WITH_TIMEOUT(api.get(taskPath, m_bobToken).json().value(QLatin1String("status")).toString(),
                              QStringLiteral("done"), kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(a.board()->taskInfo(taskId).value(QStringLiteral("version")).toLongLong(), 3, kWaitMs);
    QCOMPARE(done.count(), 1);
    a.board()->detachTaskModel(&done);
    a.board()->openProject(0);
    a.realtime()->setReconnectLimits(100, 800);
}

QTEST_MAIN(TestClientFlows)
#include "tst_client_flows.moc"
