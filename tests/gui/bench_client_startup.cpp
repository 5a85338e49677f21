// Start-up benchmark of the client (issue 16): the app's Main.qml (desktop size, software
// renderer, offscreen) restoring a saved session against a real taskmaster-server, timed from
// loading Main.qml to the first rendered frame that shows
//   room list:      the room list with its rooms
//   first message:  the messages of the room the user had open (the timeline with its rows)
// cold: an empty local store, everything from the network (the bench opens the room as soon as
// the room list has it, as the app does with the store's "last room"); warm: the store of the
// previous run (the app opens that room itself and shows its cached messages before the server
// answers). Process start (QGuiApplication, Qt's plugins, the QML types' first use) is not in it:
// a first run is thrown away and every measured run is a new QQmlApplicationEngine in the same
// process. The store's size on disk for 100 rooms x 1,000 messages (it keeps the last 200 per
// room) is measured on its own.
// Environment: TM_BENCH_RUNS (default 7), TM_BENCH_ROOMS (20) and TM_BENCH_MESSAGES (60) for the
// server's data, TM_BENCH_STORE_ROOMS (100) and TM_BENCH_STORE_MESSAGES (1000).
// Prints RESULT lines.
#include "client-qml/net/client_setup.h"
#include "client-qml/net/connection.h"
#include "client-qml/store/local_store.h"
#include "tests/support/api_client.h"
#include "tests/support/server_process.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickStyle>
#include <QQuickWindow>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <memory>

using taskmaster::Message;
using taskmaster::client::Connection;
using taskmaster::client::LocalStore;
using taskmaster::test::ApiClient;
using taskmaster::test::ServerProcess;

namespace {

constexpr int kWaitMs = 30000;

int envInt(const char *name, int fallback)
{
    bool ok = false;
    const int v = qEnvironmentVariableIntValue(name, &ok);
    return ok && v > 0 ? v : fallback;
}

struct Timing {
    double roomListMs = -1;
    double firstMessageMs = -1;
};

QString stats(QList<double> v)
{
    std::sort(v.begin(), v.end());
    if (v.isEmpty())
        return QStringLiteral("-");
    return QStringLiteral("median %1 / min %2 / max %3 ms")
        .arg(v.at(v.size() / 2), 0, 'f', 1)
        .arg(v.first(), 0, 'f', 1)
        .arg(v.last(), 0, 'f', 1);
}

qint64 dirBytes(const QString &dir)
{
    qint64 total = 0;
    QDirIterator it(dir, QDir::Files);
    while (it.hasNext()) {
        it.next();
        total += it.fileInfo().size();
    }
    return total;
}

} // namespace

class BenchClientStartup final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void startup();
    void storeSize();

private:
    // One start: a new engine with Main.qml, the saved session restored; false on a timeout.
    bool run(bool cold, Timing *out);

    ServerProcess m_server;
    QTemporaryDir m_dir;
    qint64 m_lastRoom = 0;
    int m_rooms = 0;
};

void BenchClientStartup::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY2(m_server.start(), qPrintable(m_server.errorText()));
    m_rooms = envInt("TM_BENCH_ROOMS", 20);
    const int messages = envInt("TM_BENCH_MESSAGES", 60);
    ApiClient api(m_server.url());
    const QByteArray writer = api.registerUser(QStringLiteral("writer")).second;
    const qint64 readerId = api.registerUser(QStringLiteral("reader")).first;
    for (int r = 1; r <= m_rooms; ++r) {
        const auto room = api.post(QStringLiteral("/api/v1/rooms"),
                                   {{QStringLiteral("name"), QStringLiteral("room %1").arg(r)},
                                    {QStringLiteral("memberIds"), QJsonArray {readerId}}},
                                   writer);
        QCOMPARE(room.status, 201);
        m_lastRoom = room.id();
        for (int m = 1; m <= messages; ++m) {
            const auto sent
                = api.post(QStringLiteral("/api/v1/rooms/%1/messages").arg(m_lastRoom),
                           {{QStringLiteral("body"),
                             QStringLiteral("message %1 of room %2, a line of ordinary chat text").arg(m).arg(r)},
                            {QStringLiteral("clientId"), QStringLiteral("r%1-m%2").arg(r).arg(m)}},
                           writer);
            QCOMPARE(sent.status, 201);
        }
    }
    // The session to restore: a login saves the token in the settings file (no keychain here) or the keychain.
    Connection c;
    c.setSettingsFile(m_dir.filePath(QStringLiteral("reader.ini")));
    c.setServerUrl(m_server.url().toString());
    c.login(QStringLiteral("reader"), QStringLiteral("password123"));
    QTRY_VERIFY_WITH_TIMEOUT(c.loggedIn() && c.tokenStorage() != Connection::TokenStorage::Saving, kWaitMs);
    QQuickStyle::setStyle(QStringLiteral("Basic"));
    Timing ignored;
    QVERIFY(run(true, &ignored)); // the first use of every QML type, thrown away
}

void BenchClientStartup::cleanupTestCase()
{
    m_server.stop();
}

bool BenchClientStartup::run(bool cold, Timing *out)
{
    const QString storeDir = m_dir.filePath(QStringLiteral("store"));
    if (cold)
        QDir(storeDir).removeRecursively();
    QElapsedTimer clock;
    clock.start();
    QQmlApplicationEngine engine;
    taskmaster::client::prepareEngine(engine);
    engine.setInitialProperties(
        {{QStringLiteral("autoRestore"), false}, {QStringLiteral("themeMode"), QStringLiteral("light")}});
    engine.load(QUrl(QStringLiteral("qrc:/TaskMaster/App/app/Main.qml")));
    if (engine.rootObjects().isEmpty())
        return false;
    auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
    auto *conn = window->property("connection").value<Connection *>();
    conn->setSettingsFile(m_dir.filePath(QStringLiteral("reader.ini")));
    conn->setStoreDirectory(storeDir);
    auto *roomList = window->findChild<QQuickItem *>(QStringLiteral("roomList"));
    auto *timeline = window->findChild<QQuickItem *>(QStringLiteral("timeline"));
    if (!roomList || !timeline)
        return false;
    // Cold: the room is opened when the list has it (warm: the app opens the store's last room).
    const qint64 room = m_lastRoom;
    QObject::connect(conn->rooms()->model(), &QAbstractItemModel::rowsInserted, conn, [conn, room] {
        if (conn->chat()->roomId() == 0 && conn->rooms()->model()->rowForId(room) >= 0)
            conn->chat()->openRoom(room);
    });
    QObject::connect(conn->rooms()->model(), &QAbstractItemModel::modelReset, conn, [conn, room] {
        if (conn->chat()->roomId() == 0 && conn->rooms()->model()->rowForId(room) >= 0)
            conn->chat()->openRoom(room);
    });
    Timing t;
    QObject::connect(window, &QQuickWindow::frameSwapped, window, [&] {
        const double ms = double(clock.nsecsElapsed()) / 1e6;
        if (t.roomListMs < 0 && roomList->property("count").toInt() >= m_rooms)
            t.roomListMs = ms;
        if (t.firstMessageMs < 0 && conn->chat()->roomId() == room && timeline->property("count").toInt() > 0)
            t.firstMessageMs = ms;
    });
    conn->restoreSession(); // as Main.qml's Component.onCompleted does
    QDeadlineTimer deadline(kWaitMs);
    while (!deadline.hasExpired() && (t.roomListMs < 0 || t.firstMessageMs < 0)) {
        window->requestUpdate();
        QTest::qWait(1);
    }
    // Settle (the latest page, the socket) so that the store is complete for a warm run.
    QDeadlineTimer settle(kWaitMs);
    while (!settle.hasExpired()
           && !(conn->realtime()->state() == taskmaster::client::RealtimeSession::Online
                && !conn->chat()->messages()->fetchingOlder() && conn->chat()->messages()->count() >= 50))
        QTest::qWait(5);
    *out = t;
    return t.roomListMs >= 0 && t.firstMessageMs >= 0;
}

void BenchClientStartup::startup()
{
    const int runs = envInt("TM_BENCH_RUNS", 7);
    QList<double> coldRooms, coldFirst, warmRooms, warmFirst;
    for (int i = 0; i < runs; ++i) {
        Timing cold, warm;
        QVERIFY(run(true, &cold));
        QVERIFY(run(false, &warm));
        coldRooms << cold.roomListMs;
        coldFirst << cold.firstMessageMs;
        warmRooms << warm.roomListMs;
        warmFirst << warm.firstMessageMs;
    }
    qInfo().noquote() << QStringLiteral("RESULT startup cold room list: %1").arg(stats(coldRooms));
    qInfo().noquote() << QStringLiteral("RESULT startup cold first message: %1").arg(stats(coldFirst));
    qInfo().noquote() << QStringLiteral("RESULT startup warm room list: %1").arg(stats(warmRooms));
    qInfo().noquote() << QStringLiteral("RESULT startup warm first message: %1").arg(stats(warmFirst));
    qInfo().noquote() << QStringLiteral("RESULT startup data: %1 rooms x %2 messages on the server, %3 runs each")
                             .arg(m_rooms)
                             .arg(envInt("TM_BENCH_MESSAGES", 60))
                             .arg(runs);
}

void BenchClientStartup::storeSize()
{
    const int rooms = envInt("TM_BENCH_STORE_ROOMS", 100);
    const int perRoom = envInt("TM_BENCH_STORE_MESSAGES", 1000);
    const QString dir = m_dir.filePath(QStringLiteral("size"));
    QDir().mkpath(dir);
    QElapsedTimer clock;
    clock.start();
    qint64 kept = 0;
    {
        LocalStore store(QDir(dir).filePath(QStringLiteral("store.sqlite")));
        QVERIFY(store.open());
        QList<taskmaster::Room> roomList;
        for (int r = 1; r <= rooms; ++r) {
            taskmaster::Room room;
            room.id = r;
            room.name = QStringLiteral("room %1").arg(r);
            room.createdAt = QDateTime::currentDateTimeUtc();
            room.lastSeq = perRoom;
            roomList << room;
            QList<Message> page; // saved as the client does: pages of 50
            for (int m = 1; m <= perRoom; ++m) {
                Message msg;
                msg.id = qint64(r) * 100000 + m;
                msg.roomId = r;
                msg.seq = m;
                msg.authorId = 1 + m % 3;
                msg.body = QStringLiteral("message %1 of room %2, a line of ordinary chat text").arg(m).arg(r);
                msg.clientId = QStringLiteral("c-%1-%2").arg(r).arg(m);
                msg.createdAt = QDateTime::currentDateTimeUtc();
                page << msg;
                if (page.size() == 50) {
                    store.saveMessages(r, page);
                    page.clear();
                }
            }
            store.saveMessages(r, page);
            kept += store.messages(r).size();
        }
        store.saveRooms(roomList);
    }
    const double ms = double(clock.nsecsElapsed()) / 1e6;
    qInfo().noquote() << QStringLiteral(
                             "RESULT store %1 rooms x %2 messages: %3 messages kept, %4 KiB on disk, written in %5 ms")
                             .arg(rooms)
                             .arg(perRoom)
                             .arg(kept)
                             .arg(dirBytes(dir) / 1024)
                             .arg(ms, 0, 'f', 0);
}

QTEST_MAIN(BenchClientStartup)
#include "bench_client_startup.moc"
