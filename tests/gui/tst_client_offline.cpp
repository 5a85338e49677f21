// The client's local store against a real taskmaster-server: a start with the server down shows
// the rooms, the last opened room's messages, the authors' names, the projects and a task board
// from the store
// (offline, logged in from the saved token); a message written offline stays in the outbox across a restart of the
// client (a new Connection on the same settings and store) and goes out once the server is back, exactly once
// (clientId); a logout deletes the account's store. HTTP revalidation: a repeated GET sends the
// ETag of the last answer (If-None-Match), a 304 gives the kept body, and the counts of 304s and
// bytes saved (shown on the admin page) grow; a change on the server gets a 200 again. Resume:
// the seqs seen by a run are in the store, so the next start resumes the channels from there and
// the messages written meanwhile arrive as a replay, not a reload. Revalidation across runs: the
// ETags and bodies are in the store too, so the next run's GETs get 304s and the same data.
// Task changes made offline: a move made with the server down is pending on the board, kept in the
// store across a restart and saved on the server by the next run (with If-Match of the version it
// was made on); an offline edit of a task someone else changed meanwhile gets a 412 there, is
// dropped and the board shows their version; a pending change whose earlier try reached the server
// (its answer lost) gets a 412 too, but the server's version carries it: done, nobody told. The
// board (TaskBoard.qml) shows a pending card "Not sent yet" until the server has its change.
#include "client-qml/app/qml_plugins.h"
#include "client-qml/net/client_setup.h"
#include "client-qml/net/connection.h"
#include "client-qml/store/local_store.h"
#include "tests/gui/client_test_support.h"
#include "tests/support/api_client.h"
#include "tests/support/server_process.h"

#include <QFile>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QQmlEngine>
#include <QQuickItem>
#include <QQuickStyle>
#include <QQuickView>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <tuple>

using taskmaster::client::ChatController;
using taskmaster::client::Connection;
using taskmaster::client::LocalStore;
using taskmaster::client::RealtimeSession;
using taskmaster::client::RoomsController;
using taskmaster::test::ApiClient;
using taskmaster::test::ServerProcess;

namespace {

constexpr int kWaitMs = 15000;
constexpr int kMessages = 30;

QStringList bodies(const taskmaster::MessageListModel &m)
{
    QStringList out;
    for (int r = 0; r < m.count(); ++r)
        out << m.messageAt(r).body;
    return out;
}

// The client's "304 for <path>" debug lines (tm.client.rest) while a RestLog lives: which GETs got
// a 304, whatever else the client revalidates meanwhile.
class RestLog {
public:
    RestLog()
    {
        s_lines.clear();
        QLoggingCategory::setFilterRules(QStringLiteral("tm.client.rest.debug=true"));
        s_previous = qInstallMessageHandler(&RestLog::handle);
    }
    ~RestLog()
    {
        qInstallMessageHandler(s_previous);
        QLoggingCategory::setFilterRules(QString());
    }
    RestLog(const RestLog &) = delete;
    RestLog &operator=(const RestLog &) = delete;
    [[nodiscard]] static int notModified(const QString &path)
    {
        return int(s_lines.count(QStringLiteral("304 for \"%1\"").arg(path)));
    }

private:
    static void handle(QtMsgType type, const QMessageLogContext &context, const QString &message)
    {
        if (context.category && qstrcmp(context.category, "tm.client.rest") == 0) {
            if (message.startsWith(QLatin1String("304 for ")))
                s_lines.append(message.section(QLatin1Char(' '), 0, 2)); // up to the (quoted) path
            return;
        }
        s_previous(type, context, message);
    }
    static inline QStringList s_lines;
    static inline QtMessageHandler s_previous = nullptr;
};

} // namespace

class TestClientOffline final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void offlineStartAndOutboxAcrossRestart();
    void revalidation();
    void revalidationAcrossRestart();
    void resumeFromStoredSeqs();
    void offlineTaskMoveAcrossRestart();
    void offlineTaskChangeConflict();
    void offlineTaskChangeAnswerLost();
    void pendingTaskCard();

private:
    // A run online that opens the task project (its board goes to the store) and quits.
    void openBoardOnline();
    void stopServer();
    void startServerAgain();
    [[nodiscard]] QJsonObject serverTask();
    std::unique_ptr<Connection> makeClient();
    [[nodiscard]] QStringList serverBodies();

    ServerProcess m_server;
    QTemporaryDir m_dir;
    QByteArray m_bobToken;
    QByteArray m_hanaToken;
    qint64 m_bobId = 0;
    qint64 m_projectId = 0;
    qint64 m_hanaId = 0;
    qint64 m_roomId = 0;
    QString m_listen;
    qint64 m_taskProjectId = 0;
    qint64 m_taskId = 0;
};

std::unique_ptr<Connection> TestClientOffline::makeClient()
{
    auto c = std::make_unique<Connection>();
    c->setSettingsFile(m_dir.filePath(QStringLiteral("hana.ini")));
    c->setServerUrl(m_server.url().toString());
    c->setStoreDirectory(m_dir.filePath(QStringLiteral("store")));
    c->realtime()->setReconnectLimits(100, 800);
    return c;
}

QStringList TestClientOffline::serverBodies()
{
    ApiClient api(m_server.url());
    QStringList out;
    const auto reply = api.get(QStringLiteral("/api/v1/rooms/%1/messages?limit=200").arg(m_roomId), m_bobToken);
    for (const QJsonValue &m : reply.items())
        out << m.toObject().value(QLatin1String("body")).toString();
    return out;
}

void TestClientOffline::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY2(m_server.start(), qPrintable(m_server.errorText()));
    ApiClient api(m_server.url());
    std::tie(m_bobId, m_bobToken) = api.registerUser(QStringLiteral("bob"));
    std::tie(m_hanaId, m_hanaToken) = api.registerUser(QStringLiteral("hana"));
    const auto room = api.post(
        QStringLiteral("/api/v1/rooms"),
        {{QStringLiteral("name"), QStringLiteral("notes")}, {QStringLiteral("memberIds"), QJsonArray {m_hanaId}}},
        m_bobToken);
    QCOMPARE(room.status, 201);
    m_roomId = room.id();
    for (int i = 1; i <= kMessages; ++i) {
        const auto r = api.post(QStringLiteral("/api/v1/rooms/%1/messages").arg(m_roomId),
                                {{QStringLiteral("body"), QStringLiteral("note %1").arg(i)},
                                 {QStringLiteral("clientId"), QStringLiteral("note-%1").arg(i)}},
                                m_bobToken);
        QCOMPARE(r.status, 201);
    }
}

void TestClientOffline::cleanupTestCase()
{
    m_server.stop();
}

void TestClientOffline::offlineStartAndOutboxAcrossRestart()
{
    const QString storeFile
        = LocalStore::fileFor(m_dir.filePath(QStringLiteral("store")), m_server.url().toString(), m_hanaId);
    // A first run, online: Hana opens the room (its messages go to the store) and quits.
    {
        auto c = makeClient();
        c->login(QStringLiteral("hana"), QStringLiteral("password123"));
        QTRY_VERIFY_WITH_TIMEOUT(c->loggedIn() && c->realtime()->state() == RealtimeSession::Online, kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(c->rooms()->model()->rowForId(m_roomId) >= 0, kWaitMs);
        QSignalSpy loaded(c->chat(), &ChatController::historyLoaded);
        c->chat()->openRoom(m_roomId);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.size(), 1, kWaitMs);
        QCOMPARE(c->chat()->messages()->count(), kMessages);
        QTRY_VERIFY_WITH_TIMEOUT(c->users()->user(m_bobId).has_value(), kWaitMs); // the author's name
        QSignalSpy projectCreated(c->projects(), &taskmaster::client::ProjectsController::projectCreated);
        c->projects()->createProject(QStringLiteral("Plans"), QString());
        QTRY_COMPARE_WITH_TIMEOUT(projectCreated.size(), 1, kWaitMs);
        m_projectId = projectCreated.constFirst().at(0).toLongLong();
        QTRY_COMPARE_WITH_TIMEOUT(c->projects()->model()->count(), 1, kWaitMs);
        QSignalSpy tasksLoaded(c->board(), &taskmaster::client::TaskBoardController::tasksLoaded);
        c->board()->openProject(m_projectId);
        QTRY_COMPARE_WITH_TIMEOUT(tasksLoaded.size(), 1, kWaitMs);
        c->board()->createTask({{QStringLiteral("title"), QStringLiteral("Plan the launch")}});
        QTRY_COMPARE_WITH_TIMEOUT(c->board()->tasks()->count(), 1, kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(c->tokenStorage() != Connection::TokenStorage::Saving, kWaitMs);
    }
    QVERIFY(QFile::exists(storeFile));

    // The server is down; the next start shows what the store has.
    const QString listen = QStringLiteral("127.0.0.1:%1").arg(m_server.port());
    QCOMPARE(m_server.stop(30000), 0);
    QString clientId;
    {
        auto c = makeClient();
        QVERIFY(taskmaster::test::restoreAndWait(*c, false, kWaitMs));
        QCOMPARE(c->userId(), m_hanaId);
        QVERIFY(c->realtime()->state() != RealtimeSession::Online);
        QCOMPARE(c->rooms()->model()->count(), 1);
        QCOMPARE(c->rooms()->model()->roomAt(0).name, QStringLiteral("notes"));
        QCOMPARE(c->chat()->roomId(), m_roomId); // the room open when it quit
        QCOMPARE(c->chat()->messages()->count(), kMessages);
        QCOMPARE(c->chat()->messages()->messageAt(kMessages - 1).body, QStringLiteral("note %1").arg(kMessages));
        QCOMPARE(c->users()->userName(m_bobId), c->users()->user(m_bobId).value_or(taskmaster::User {}).displayName);
        QVERIFY(c->users()->userName(m_bobId) != QStringLiteral("…"));
        QCOMPARE(c->projects()->model()->count(), 1);
        c->board()->openProject(m_projectId); // its board from the store
        QCOMPARE(c->board()->tasks()->count(), 1);
        QCOMPARE(c->board()->tasks()->taskAt(0).title, QStringLiteral("Plan the launch"));
        QCOMPARE(c->projects()
                     ->model()
                     ->project(c->projects()
                                   ->model()
                                   ->data(c->projects()->model()->index(0), taskmaster::ProjectListModel::ProjectIdRole)
                                   .toLongLong())
                     .value_or(taskmaster::Project {})
                     .name,
                 QStringLiteral("Plans"));
        // Written offline: pending, and on disk before the app quits.
        clientId = c->chat()->sendMessage(QStringLiteral("written offline"));
        QVERIFY(!clientId.isEmpty());
        QCOMPARE(c->outbox()->pendingCount(), 1);
        QCOMPARE(c->chat()->messages()->count(), kMessages + 1);
        QVERIFY(c->chat()->messages()->messageAt(kMessages).clientId.has_value());
    }
    {
        LocalStore peek(storeFile);
        QVERIFY(peek.open());
        QCOMPARE(peek.outbox().size(), 1);
        QCOMPARE(peek.outbox().constFirst().clientId, clientId);
    }

    // The server is back; another start sends it, once.
    QVERIFY2(m_server.start({QStringLiteral("--listen"), listen}), qPrintable(m_server.errorText()));
    auto c = makeClient();
    QVERIFY(taskmaster::test::restoreAndWait(*c, false, kWaitMs));
    QTRY_VERIFY_WITH_TIMEOUT(c->realtime()->state() == RealtimeSession::Online, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(c->outbox()->pendingCount(), 0, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(serverBodies().count(QStringLiteral("written offline")), 1, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(c->chat()->messages()->count() == kMessages + 1
                                 && c->chat()->messages()->confirmedCount() == kMessages + 1,
                             kWaitMs);
    QVERIFY(c->store());
    QTRY_VERIFY_WITH_TIMEOUT(c->store()->outbox().isEmpty(), kWaitMs);

    // Logout deletes the account's store.
    c->logout();
    QVERIFY(!c->store());
    QVERIFY(!QFile::exists(storeFile));
}

void TestClientOffline::revalidation()
{
    auto c = makeClient();
    c->login(QStringLiteral("hana"), QStringLiteral("password123"));
    QTRY_VERIFY_WITH_TIMEOUT(c->loggedIn() && c->realtime()->state() == RealtimeSession::Online, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(c->rooms()->model()->rowForId(m_roomId) >= 0, kWaitMs); // GET /rooms: 200
    QCOMPARE(c->admin()->notModifiedCount(), 0);

    // Unchanged: 304, the kept body, the same list.
    QSignalSpy updated(c->rooms(), &RoomsController::roomsUpdated);
    c->rooms()->reload();
    QTRY_COMPARE_WITH_TIMEOUT(updated.size(), 1, kWaitMs);
    QCOMPARE(c->admin()->notModifiedCount(), 1);
    const qint64 saved = c->admin()->bytesSaved();
    QVERIFY(saved > 0);
    QCOMPARE(c->rooms()->model()->count(), 1);
    QCOMPARE(c->rooms()->model()->roomAt(0).name, QStringLiteral("notes"));

    // Changed on the server (a new message: lastSeq, unread): a 200 with the new list.
    ApiClient api(m_server.url());
    QCOMPARE(api.post(QStringLiteral("/api/v1/rooms/%1/messages").arg(m_roomId),
                      {{QStringLiteral("body"), QStringLiteral("news")},
                       {QStringLiteral("clientId"), QStringLiteral("news-1")}},
                      m_bobToken)
                 .status,
             201);
    QTRY_VERIFY_WITH_TIMEOUT(c->rooms()->model()->roomAt(0).unread > 0, kWaitMs); // live
    const qint64 lastSeq = c->rooms()->model()->roomAt(0).lastSeq;
    updated.clear();
    c->rooms()->reload();
    QTRY_COMPARE_WITH_TIMEOUT(updated.size(), 1, kWaitMs);
    QCOMPARE(c->admin()->notModifiedCount(), 1);
    QCOMPARE(c->rooms()->model()->roomAt(0).lastSeq, lastSeq);
    // And unchanged again: 304.
    updated.clear();
    c->rooms()->reload();
    QTRY_COMPARE_WITH_TIMEOUT(updated.size(), 1, kWaitMs);
    QCOMPARE(c->admin()->notModifiedCount(), 2);
    QVERIFY(c->admin()->bytesSaved() > saved);
    c->logout();
}

void TestClientOffline::revalidationAcrossRestart()
{
    // A first run online: the room list and the room's latest page come with 200s; their ETags and
    // bodies go to the account's store.
    QStringList firstBodies;
    {
        auto c = makeClient();
        c->login(QStringLiteral("hana"), QStringLiteral("password123"));
        QTRY_VERIFY_WITH_TIMEOUT(c->loggedIn() && c->realtime()->state() == RealtimeSession::Online, kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(c->rooms()->model()->rowForId(m_roomId) >= 0, kWaitMs);
        QSignalSpy loaded(c->chat(), &ChatController::historyLoaded);
        c->chat()->openRoom(m_roomId);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.size(), 1, kWaitMs);
        firstBodies = bodies(*c->chat()->messages());
        QVERIFY(!firstBodies.isEmpty());
        QCOMPARE(c->admin()->notModifiedCount(), 0);
        QVERIFY(c->store());
        QVERIFY(c->store()->httpAnswer(taskmaster::client::api::rooms().path).has_value());
    } // quits without logging out: the store stays

    // The next run (a new Connection on the same settings and store, as a new process would be):
    // its GETs carry the stored ETags; nothing changed on the server, so 304s and the stored bodies.
    auto c = makeClient();
    QSignalSpy loaded(c->chat(), &ChatController::historyLoaded);
    QVERIFY(taskmaster::test::restoreAndWait(*c, true, kWaitMs));
    // The room open at quit opens again; its latest page is revalidated.
    QTRY_VERIFY_WITH_TIMEOUT(!loaded.isEmpty(), kWaitMs);
    QCOMPARE(loaded.constFirst().at(0).toLongLong(), m_roomId);
    QVERIFY(loaded.constFirst().at(1).toBool());
    QCOMPARE(bodies(*c->chat()->messages()), firstBodies);
    QTRY_VERIFY_WITH_TIMEOUT(c->admin()->notModifiedCount() >= 1, kWaitMs);
    const qint64 before = c->admin()->notModifiedCount();
    const qint64 savedBefore = c->admin()->bytesSaved();
    QVERIFY(savedBefore > 0);
    // The room list: its stored body on a 304 (the counter the admin page shows goes up; other GETs
    // of the start may still come back with 304s meanwhile, so the log says which was the rooms').
    const QString roomsPath = taskmaster::client::api::rooms().path;
    RestLog log;
    QSignalSpy updated(c->rooms(), &RoomsController::roomsUpdated);
    c->rooms()->reload();
    QTRY_COMPARE_WITH_TIMEOUT(updated.size(), 1, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(RestLog::notModified(roomsPath), 1, kWaitMs);
    QVERIFY(c->admin()->notModifiedCount() >= before + 1);
    QVERIFY(c->admin()->bytesSaved() > savedBefore);
    QCOMPARE(c->rooms()->model()->count(), 1);
    QCOMPARE(c->rooms()->model()->roomAt(0).name, QStringLiteral("notes"));
    c->logout();
}

void TestClientOffline::resumeFromStoredSeqs()
{
    const QString storeFile
        = LocalStore::fileFor(m_dir.filePath(QStringLiteral("store")), m_server.url().toString(), m_hanaId);
    {
        auto c = makeClient();
        c->login(QStringLiteral("hana"), QStringLiteral("password123"));
        QTRY_VERIFY_WITH_TIMEOUT(c->loggedIn() && c->realtime()->state() == RealtimeSession::Online, kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(c->rooms()->model()->rowForId(m_roomId) >= 0, kWaitMs);
        QSignalSpy loaded(c->chat(), &ChatController::historyLoaded);
        c->chat()->openRoom(m_roomId);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.size(), 1, kWaitMs);
        // A live message: its seq is seen (and written a moment later, or when the client quits).
        ApiClient api(m_server.url());
        QCOMPARE(api.post(QStringLiteral("/api/v1/rooms/%1/messages").arg(m_roomId),
                          {{QStringLiteral("body"), QStringLiteral("seen live")},
                           {QStringLiteral("clientId"), QStringLiteral("live-1")}},
                          m_bobToken)
                     .status,
                 201);
        QTRY_VERIFY_WITH_TIMEOUT(bodies(*c->chat()->messages()).contains(QStringLiteral("seen live")), kWaitMs);
    }
    {
        LocalStore peek(storeFile);
        QVERIFY(peek.open());
        QVERIFY(peek.channelSeqs().value(QStringLiteral("room:%1").arg(m_roomId)) > 0);
    }
    // While the client is not running, Bob writes.
    ApiClient api(m_server.url());
    for (int i = 1; i <= 3; ++i) {
        QCOMPARE(api.post(QStringLiteral("/api/v1/rooms/%1/messages").arg(m_roomId),
                          {{QStringLiteral("body"), QStringLiteral("while away %1").arg(i)},
                           {QStringLiteral("clientId"), QStringLiteral("away-%1").arg(i)}},
                          m_bobToken)
                     .status,
                 201);
    }
    auto c = makeClient();
    QSignalSpy caughtUp(c->realtime(), &RealtimeSession::channelCaughtUp);
    QVERIFY(taskmaster::test::restoreAndWait(*c, true, kWaitMs));
    QTRY_VERIFY_WITH_TIMEOUT(bodies(*c->chat()->messages()).contains(QStringLiteral("while away 3")), kWaitMs);
    bool replayed = false;
    for (const auto &args : caughtUp) {
        if (args.at(0).value<taskmaster::Channel>() == taskmaster::Channel::room(m_roomId))
            replayed = args.at(1).toBool();
    }
    QVERIFY2(replayed, "the room's channel was not resumed from the stored seq");
    c->logout();
}

void TestClientOffline::openBoardOnline()
{
    auto c = makeClient();
    if (!c->restoreSession())
        c->login(QStringLiteral("hana"), QStringLiteral("password123"));
    QTRY_VERIFY_WITH_TIMEOUT(c->loggedIn() && c->realtime()->state() == RealtimeSession::Online, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(c->projects()->model()->project(m_taskProjectId).has_value(), kWaitMs);
    QSignalSpy tasksLoaded(c->board(), &taskmaster::client::TaskBoardController::tasksLoaded);
    c->board()->openProject(m_taskProjectId);
    QTRY_VERIFY_WITH_TIMEOUT(!tasksLoaded.isEmpty(), kWaitMs);
    QCOMPARE(c->board()->tasks()->count(), 1);
    QCOMPARE(c->board()->pendingCount(), 0);
    QTRY_VERIFY_WITH_TIMEOUT(c->tokenStorage() != Connection::TokenStorage::Saving, kWaitMs);
}

void TestClientOffline::stopServer()
{
    m_listen = QStringLiteral("127.0.0.1:%1").arg(m_server.port());
    QCOMPARE(m_server.stop(30000), 0);
}

void TestClientOffline::startServerAgain()
{
    QVERIFY2(m_server.start({QStringLiteral("--listen"), m_listen}), qPrintable(m_server.errorText()));
}

QJsonObject TestClientOffline::serverTask()
{
    ApiClient api(m_server.url());
    return api.get(QStringLiteral("/api/v1/tasks/%1").arg(m_taskId), m_bobToken).json();
}

void TestClientOffline::offlineTaskMoveAcrossRestart()
{
    // Bob's project with Hana in it and one task.
    ApiClient api(m_server.url());
    const auto project = api.post(QStringLiteral("/api/v1/projects"),
                                  {{QStringLiteral("name"), QStringLiteral("Launch")}}, m_bobToken);
    QCOMPARE(project.status, 201);
    m_taskProjectId = project.id();
    QCOMPARE(api.post(QStringLiteral("/api/v1/projects/%1/members").arg(m_taskProjectId),
                      {{QStringLiteral("userId"), m_hanaId}}, m_bobToken)
                 .status,
             200);
    const auto task = api.post(QStringLiteral("/api/v1/projects/%1/tasks").arg(m_taskProjectId),
                               {{QStringLiteral("title"), QStringLiteral("Book the hall")}}, m_bobToken);
    QCOMPARE(task.status, 201);
    m_taskId = task.id();
    const qint64 version = task.json().value(QLatin1String("version")).toInteger();
    QVERIFY(version > 0);
    const QString storeFile
        = LocalStore::fileFor(m_dir.filePath(QStringLiteral("store")), m_server.url().toString(), m_hanaId);

    openBoardOnline();
    if (QTest::currentTestFailed())
        return;
    stopServer();

    // Offline: the move shows at once and stays pending; it is on disk when the app quits.
    {
        auto c = makeClient();
        QVERIFY(taskmaster::test::restoreOfflineBoard(*c, m_taskProjectId, 1, kWaitMs));
        c->board()->setTaskStatus(m_taskId, QStringLiteral("done"));
        QCOMPARE(c->board()->tasks()->taskAt(0).status, taskmaster::TaskStatus::Done);
        QTRY_COMPARE_WITH_TIMEOUT(c->board()->pendingCount(), 1, kWaitMs); // its PATCH found no server
        QVERIFY(c->board()->isPending(m_taskId));
        QCOMPARE(c->board()->tasks()->taskAt(0).status, taskmaster::TaskStatus::Done); // not moved back
    }
    {
        LocalStore peek(storeFile);
        QVERIFY(peek.open());
        const auto changes = peek.taskChanges();
        QCOMPARE(changes.size(), 1);
        QCOMPARE(changes.constFirst().taskId, m_taskId);
        QCOMPARE(changes.constFirst().baseVersion, version);
    }

    // A run still offline shows it moved and pending, from the store.
    {
        auto c = makeClient();
        QVERIFY(taskmaster::test::restoreAndWait(*c, false, kWaitMs));
        QCOMPARE(c->board()->pendingCount(), 1);
        c->board()->openProject(m_taskProjectId);
        QCOMPARE(c->board()->tasks()->count(), 1);
        QCOMPARE(c->board()->tasks()->taskAt(0).status, taskmaster::TaskStatus::Done);
        QVERIFY(c->board()->isPending(m_taskId));
    }

    // The server is back: the next run saves it there, once, and the store forgets it.
    startServerAgain();
    QCOMPARE(serverTask().value(QLatin1String("status")).toString(), QStringLiteral("todo"));
    auto c = makeClient();
    QVERIFY(taskmaster::test::restoreAndWait(*c, true, kWaitMs));
    QTRY_COMPARE_WITH_TIMEOUT(c->board()->pendingCount(), 0, kWaitMs);
    const QJsonObject saved = serverTask();
    QCOMPARE(saved.value(QLatin1String("status")).toString(), QStringLiteral("done"));
    QCOMPARE(saved.value(QLatin1String("version")).toInteger(), version + 1);
    QVERIFY(c->store());
    QVERIFY(c->store()->taskChanges().isEmpty());
    c->board()->openProject(m_taskProjectId);
    QTRY_VERIFY_WITH_TIMEOUT(c->board()->tasks()->count() == 1 && c->board()->tasks()->taskAt(0).version == version + 1,
                             kWaitMs);
    QCOMPARE(c->board()->tasks()->taskAt(0).status, taskmaster::TaskStatus::Done);
}

void TestClientOffline::offlineTaskChangeConflict()
{
    QVERIFY(m_taskId != 0);
    openBoardOnline();
    if (QTest::currentTestFailed())
        return;
    const qint64 version = serverTask().value(QLatin1String("version")).toInteger();
    stopServer();

    // Offline, Hana renames the task: pending, kept.
    {
        auto c = makeClient();
        QVERIFY(taskmaster::test::restoreOfflineBoard(*c, m_taskProjectId, 1, kWaitMs));
        c->board()->updateTask(m_taskId, {{QStringLiteral("title"), QStringLiteral("Hana's title")}});
        QTRY_COMPARE_WITH_TIMEOUT(c->board()->pendingCount(), 1, kWaitMs);
        QCOMPARE(c->board()->tasks()->taskAt(0).title, QStringLiteral("Hana's title"));
    }

    // Meanwhile Bob renames it on the server.
    startServerAgain();
    ApiClient api(m_server.url());
    QCOMPARE(api.patch(QStringLiteral("/api/v1/tasks/%1").arg(m_taskId),
                       {{QStringLiteral("title"), QStringLiteral("Bob's title")}}, m_bobToken)
                 .status,
             200);

    // Hana's next run: her change was based on the version before Bob's: 412, dropped, his shown.
    auto c = makeClient();
    QSignalSpy rejected(c->board(), &taskmaster::client::TaskBoardController::pendingChangeRejected);
    QVERIFY(c->restoreSession());
    c->board()->openProject(m_taskProjectId);
    QTRY_VERIFY_WITH_TIMEOUT(c->realtime()->state() == RealtimeSession::Online, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(rejected.size(), 1, kWaitMs);
    QCOMPARE(rejected.constFirst().at(0).toLongLong(), m_taskId);
    QCOMPARE(rejected.constFirst().at(1).toInt(), 412);
    QCOMPARE(c->board()->pendingCount(), 0);
    QVERIFY(!c->board()->isPending(m_taskId));
    QVERIFY2(c->lastError().contains(QStringLiteral("someone changed the task first")),
             qPrintable(c->lastError())); // the user is told
    QTRY_VERIFY_WITH_TIMEOUT(c->board()->tasks()->count() == 1
                                 && c->board()->tasks()->taskAt(0).title == QStringLiteral("Bob's title"),
                             kWaitMs);
    QCOMPARE(c->board()->tasks()->taskAt(0).version, version + 1);
    QCOMPARE(serverTask().value(QLatin1String("title")).toString(), QStringLiteral("Bob's title"));
    QVERIFY(c->store());
    QVERIFY(c->store()->taskChanges().isEmpty());
    c->logout();
}

void TestClientOffline::offlineTaskChangeAnswerLost()
{
    QVERIFY(m_taskId != 0);
    openBoardOnline();
    if (QTest::currentTestFailed())
        return;
    stopServer();

    // Offline, Hana gives the task a priority and a new title: pending, kept.
    {
        auto c = makeClient();
        QVERIFY(taskmaster::test::restoreOfflineBoard(*c, m_taskProjectId, 1, kWaitMs));
        c->board()->updateTask(m_taskId,
                               {{QStringLiteral("title"), QStringLiteral("Hall booked")},
                                {QStringLiteral("priority"), QStringLiteral("urgent")}});
        QTRY_COMPARE_WITH_TIMEOUT(c->board()->pendingCount(), 1, kWaitMs);
    }

    // Her change reached the server after all (as an earlier try whose answer was lost does): the
    // same fields, by her, a version further.
    startServerAgain();
    const qint64 version = serverTask().value(QLatin1String("version")).toInteger();
    ApiClient api(m_server.url());
    QCOMPARE(api.patch(QStringLiteral("/api/v1/tasks/%1").arg(m_taskId),
                       {{QStringLiteral("title"), QStringLiteral("Hall booked")},
                        {QStringLiteral("priority"), QStringLiteral("urgent")}},
                       m_hanaToken)
                 .status,
             200);

    // The next run resends it with If-Match of the old version: 412, but the server's version
    // carries it: done, silently (no "someone changed it"), not saved a second time.
    auto c = makeClient();
    QSignalSpy rejected(c->board(), &taskmaster::client::TaskBoardController::pendingChangeRejected);
    QSignalSpy saved(c->board(), &taskmaster::client::TaskBoardController::pendingChangeAlreadySaved);
    QVERIFY(c->restoreSession());
    c->board()->openProject(m_taskProjectId);
    QTRY_COMPARE_WITH_TIMEOUT(saved.size(), 1, kWaitMs);
    QCOMPARE(saved.constFirst().at(0).toLongLong(), m_taskId);
    QCOMPARE(rejected.size(), 0);
    QCOMPARE(c->board()->pendingCount(), 0);
    QVERIFY2(c->lastError().isEmpty(), qPrintable(c->lastError()));
    QTRY_VERIFY_WITH_TIMEOUT(c->board()->tasks()->count() == 1 && c->board()->tasks()->taskAt(0).version == version + 1,
                             kWaitMs);
    QCOMPARE(c->board()->tasks()->taskAt(0).title, QStringLiteral("Hall booked"));
    QCOMPARE(c->board()->tasks()->taskAt(0).priority, taskmaster::TaskPriority::Urgent);
    QCOMPARE(serverTask().value(QLatin1String("version")).toInteger(), version + 1);
    QVERIFY(c->store()->taskChanges().isEmpty());

    // A change the server's version does not carry is still a conflict the user is told of.
    stopServer();
    {
        auto offline = makeClient();
        QVERIFY(taskmaster::test::restoreOfflineBoard(*offline, m_taskProjectId, 1, kWaitMs));
        offline->board()->updateTask(m_taskId,
                                     {{QStringLiteral("title"), QStringLiteral("Hall cancelled")},
                                      {QStringLiteral("priority"), QStringLiteral("low")}});
        QTRY_COMPARE_WITH_TIMEOUT(offline->board()->pendingCount(), 1, kWaitMs);
    }
    startServerAgain();
    QCOMPARE(api.patch(QStringLiteral("/api/v1/tasks/%1").arg(m_taskId),
                       {{QStringLiteral("title"), QStringLiteral("Hall cancelled")}}, m_hanaToken)
                 .status,
             200); // the title only: the priority differs
    c = makeClient();
    QSignalSpy rejectedNow(c->board(), &taskmaster::client::TaskBoardController::pendingChangeRejected);
    QVERIFY(c->restoreSession());
    QTRY_COMPARE_WITH_TIMEOUT(rejectedNow.size(), 1, kWaitMs);
    QCOMPARE(rejectedNow.constFirst().at(1).toInt(), 412);
    QVERIFY2(c->lastError().contains(QStringLiteral("someone changed the task first")), qPrintable(c->lastError()));
    QCOMPARE(serverTask().value(QLatin1String("priority")).toString(), QStringLiteral("urgent"));
}

// The board as the user sees it (TaskBoard.qml): a card changed offline says "Not sent yet"
// (and its `pending` is true) until the server has the change, then not.
void TestClientOffline::pendingTaskCard()
{
    QVERIFY(m_taskId != 0);
    openBoardOnline();
    if (QTest::currentTestFailed())
        return;

    QQuickStyle::setStyle(QStringLiteral("Basic"));
    QQmlEngine engine;
    taskmaster::client::prepareEngine(engine);
    auto c = makeClient();
    QQuickView view(&engine, nullptr);
    view.setInitialProperties({{QStringLiteral("connection"), QVariant::fromValue(c.get())}});
    view.setResizeMode(QQuickView::SizeRootObjectToView);
    view.resize(1100, 700);
    const QString qml = m_dir.filePath(QStringLiteral("board.qml"));
    {
        QFile file(qml);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("import TaskMaster.Tasks\nTaskBoard {}\n");
    }
    view.setSource(QUrl::fromLocalFile(qml));
    QCOMPARE(view.status(), QQuickView::Ready);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));

    QVERIFY(taskmaster::test::restoreAndWait(*c, true, kWaitMs));
    c->board()->openProject(m_taskProjectId);
    QTRY_COMPARE_WITH_TIMEOUT(c->board()->tasks()->count(), 1, kWaitMs);
    // The card of the task in the column of its status on the board (a card leaving a column may
    // linger there a moment), and its "Not sent yet" label.
    const auto card = [&]() -> QQuickItem * {
        const QString status = c->board()->taskInfo(m_taskId).value(QStringLiteral("status")).toString();
        const auto all = taskmaster::test::visualItems(view.rootObject());
        for (QQuickItem *i : all) {
            if (i->property("taskId").toLongLong() == m_taskId && i->property("pending").isValid()
                && i->property("status").toString() == status && i->isVisible())
                return i;
        }
        return nullptr;
    };
    const auto pendingLabelShown = [&] {
        QQuickItem *cardItem = card();
        if (!cardItem)
            return false;
        const auto inCard = taskmaster::test::visualItems(cardItem);
        for (QQuickItem *i : inCard) {
            if (i->objectName() == QLatin1String("pendingLabel"))
                return i->isVisible() && i->property("text").toString() == QStringLiteral("Not sent yet");
        }
        return false;
    };
    QTRY_VERIFY_WITH_TIMEOUT(card() != nullptr, kWaitMs);
    QVERIFY(!card()->property("pending").toBool());
    QVERIFY(!pendingLabelShown());

    // The server goes; the card moved to "review" shows at once and says it is not sent yet.
    stopServer();
    QTRY_VERIFY_WITH_TIMEOUT(c->realtime()->state() != RealtimeSession::Online, kWaitMs);
    c->board()->setTaskStatus(m_taskId, QStringLiteral("review"));
    QTRY_COMPARE_WITH_TIMEOUT(c->board()->pendingCount(), 1, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(card() && card()->property("pending").toBool(), kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(pendingLabelShown(), kWaitMs);
    QCOMPARE(card()->property("status").toString(), QStringLiteral("review")); // moved, not sent

    // The server is back: the change goes out, the label goes away.
    startServerAgain();
    QTRY_COMPARE_WITH_TIMEOUT(c->board()->pendingCount(), 0, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(card() && !card()->property("pending").toBool() && !pendingLabelShown(), kWaitMs);
    QCOMPARE(card()->property("status").toString(), QStringLiteral("review"));
    QCOMPARE(serverTask().value(QLatin1String("status")).toString(), QStringLiteral("review"));
}

QTEST_MAIN(TestClientOffline)
#include "tst_client_offline.moc"
