// The client's LocalStore (client-qml/store): rooms, messages (the last 200 per room), users,
// projects, tasks, channel seqs, values, the outbox and GET answers (ETag and body, bounded, least
// recently used dropped first) survive closing and reopening; the file is per account and server;
// a fresh file and one of version 1 are migrated to the current schema version; a file that is
// not a database, a truncated one, or one of a newer schema is discarded with a log line and
// starts empty (never a crash); a store that cannot be created leaves every call a no-op; remove()
// deletes it.
#include "client-qml/store/local_store.h"

#include <QFile>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using taskmaster::Id;
using taskmaster::Message;
using taskmaster::Project;
using taskmaster::Room;
using taskmaster::Task;
using taskmaster::User;
using taskmaster::client::LocalStore;

namespace {

Message message(Id roomId, qint64 seq)
{
    Message m;
    m.id = seq * 10;
    m.roomId = roomId;
    m.seq = seq;
    m.authorId = 7;
    m.body = QStringLiteral("message %1").arg(seq);
    m.createdAt = QDateTime(QDate(2026, 12, 1), QTime(9, 0), Qt::UTC).addSecs(seq);
    return m;
}

Room room(Id id)
{
    Room r;
    r.id = id;
    r.name = QStringLiteral("room %1").arg(id);
    r.createdAt = QDateTime(QDate(2026, 11, 1), QTime(8, 0), Qt::UTC);
    r.lastSeq = 42;
    r.unread = 3;
    r.memberIds = {7, 8};
    r.readSeq = 39;
    return r;
}

} // namespace

class TestClientStore final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init() { QVERIFY(m_dir.isValid()); }
    void fileForAccountAndServer();
    void roundTrip();
    void messagesCapped();
    void httpAnswers();
    void migratedFromVersion1();
    void discardedWhenUnreadable_data();
    void discardedWhenUnreadable();
    void cannotCreate();
    void removed();

private:
    [[nodiscard]] QString file(const QString &name) const { return m_dir.filePath(name); }
    QTemporaryDir m_dir;
};

void TestClientStore::fileForAccountAndServer()
{
    const QString a = LocalStore::fileFor(m_dir.path(), QStringLiteral("http://a.example:8080"), 1);
    QCOMPARE(a, LocalStore::fileFor(m_dir.path(), QStringLiteral("http://a.example:8080"), 1));
    QVERIFY(a != LocalStore::fileFor(m_dir.path(), QStringLiteral("http://a.example:8080"), 2));
    QVERIFY(a != LocalStore::fileFor(m_dir.path(), QStringLiteral("http://b.example:8080"), 1));
    QVERIFY(a.startsWith(m_dir.path()));
    QVERIFY(LocalStore::defaultDirectory().endsWith(QStringLiteral("/store")));
}

void TestClientStore::roundTrip()
{
    const QString path = file(QStringLiteral("round.sqlite"));
    User self {};
    self.id = 7;
    self.username = QStringLiteral("alice");
    self.displayName = QStringLiteral("Alice");
    self.createdAt = QDateTime(QDate(2026, 10, 1), QTime(8, 0), Qt::UTC);
    Project p {};
    p.id = 3;
    p.name = QStringLiteral("Launch");
    p.ownerId = 7;
    p.createdAt = QDateTime(QDate(2026, 11, 2), QTime(8, 0), Qt::UTC);
    p.updatedAt = p.createdAt;
    Task t {};
    t.id = 9;
    t.projectId = 3;
    t.title = QStringLiteral("Write the docs");
    t.createdAt = p.createdAt;
    t.updatedAt = p.createdAt;
    t.version = 2;
    t.createdBy = 7;
    {
        LocalStore s(path);
        QVERIFY(s.open());
        QVERIFY(s.discardedReason().isEmpty());
        QVERIFY(!s.self());
        s.saveSelf(self);
        s.saveRooms({room(1), room(2)});
        s.saveMessages(1, {message(1, 5), message(1, 6)});
        s.saveMessages(1, {message(1, 6), message(1, 7)}); // 6 replaced, 7 added
        s.saveUsers({self});
        s.saveProjects({p});
        s.saveTasks(3, {t});
        s.setChannelSeq(QStringLiteral("room:1"), 7);
        s.setValue(QStringLiteral("lastRoom"), QStringLiteral("1"));
        s.saveOutbox({{1, QStringLiteral("c-1"), QStringLiteral("offline hello"), false},
                      {2, QStringLiteral("c-2"), QStringLiteral("failed one"), true}});
    }
    LocalStore s(path);
    QVERIFY(s.open());
    QCOMPARE(s.self().value_or(User {}).username, QStringLiteral("alice"));
    QCOMPARE(s.rooms(), QList<Room>({room(1), room(2)}));
    QCOMPARE(s.messages(1), QList<Message>({message(1, 5), message(1, 6), message(1, 7)}));
    QVERIFY(s.messages(2).isEmpty());
    QCOMPARE(s.users().size(), 1);
    QCOMPARE(s.projects().value(0).name, QStringLiteral("Launch"));
    QCOMPARE(s.tasks(3).value(0).title, QStringLiteral("Write the docs"));
    QCOMPARE(s.tasks(3).value(0).version, 2);
    QCOMPARE(s.channelSeqs().value(QStringLiteral("room:1")), 7);
    QCOMPARE(s.value(QStringLiteral("lastRoom")), QStringLiteral("1"));
    const auto outbox = s.outbox();
    QCOMPARE(outbox.size(), 2);
    QCOMPARE(outbox.at(0).clientId, QStringLiteral("c-1"));
    QCOMPARE(outbox.at(0).body, QStringLiteral("offline hello"));
    QVERIFY(!outbox.at(0).failed);
    QVERIFY(outbox.at(1).failed);
    s.saveRooms({room(2)}); // replaces the list
    QCOMPARE(s.rooms(), QList<Room>({room(2)}));

    // The schema version is recorded.
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("peek"));
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery q(db);
        QVERIFY(q.exec(QStringLiteral("PRAGMA user_version")) && q.next());
        QCOMPARE(q.value(0).toInt(), LocalStore::kSchemaVersion);
    }
    QSqlDatabase::removeDatabase(QStringLiteral("peek"));
}

void TestClientStore::messagesCapped()
{
    LocalStore s(file(QStringLiteral("cap.sqlite")));
    QVERIFY(s.open());
    QList<Message> page;
    for (int seq = 1; seq <= 250; ++seq)
        page << message(4, seq);
    s.saveMessages(4, page);
    const QList<Message> kept = s.messages(4);
    QCOMPARE(kept.size(), LocalStore::kMessagesPerRoom);
    QCOMPARE(kept.first().seq, 51);
    QCOMPARE(kept.last().seq, 250);
    s.saveMessages(4, {message(4, 251)});
    QCOMPARE(s.messages(4).size(), LocalStore::kMessagesPerRoom);
    QCOMPARE(s.messages(4).first().seq, 52);
}

void TestClientStore::httpAnswers()
{
    const QString path = file(QStringLiteral("http.sqlite"));
    {
        LocalStore s(path);
        QVERIFY(s.open());
        QVERIFY(!s.httpAnswer(QStringLiteral("/api/v1/rooms")));
        s.saveHttpAnswer(QStringLiteral("/api/v1/rooms"), {"W/\"v1\"", "{\"items\":[]}"});
        s.saveHttpAnswer(QStringLiteral("/api/v1/rooms?x=1"), {"\"h2\"", QByteArray("\0binary\xff", 8)});
    }
    LocalStore s(path);
    QVERIFY(s.open());
    auto a = s.httpAnswer(QStringLiteral("/api/v1/rooms"));
    QVERIFY(a);
    QCOMPARE(a->etag, QByteArray("W/\"v1\""));
    QCOMPARE(a->body, QByteArray("{\"items\":[]}"));
    QCOMPARE(s.httpAnswer(QStringLiteral("/api/v1/rooms?x=1"))->body, QByteArray("\0binary\xff", 8));
    // Replaced by the next 200 of the path; removed.
    s.saveHttpAnswer(QStringLiteral("/api/v1/rooms"), {"W/\"v2\"", "{}"});
    QCOMPARE(s.httpAnswer(QStringLiteral("/api/v1/rooms"))->etag, QByteArray("W/\"v2\""));
    s.removeHttpAnswer(QStringLiteral("/api/v1/rooms?x=1"));
    QVERIFY(!s.httpAnswer(QStringLiteral("/api/v1/rooms?x=1")));

    // Bounded: beyond kHttpAnswerBytes of bodies the least recently used go (a touch counts as a use).
    const qint64 chunk = LocalStore::kHttpAnswerBytes / 4 - 1024; // four of them and a small one fit
    const QByteArray body(chunk, 'b');
    for (int i = 0; i < 4; ++i)
        s.saveHttpAnswer(QStringLiteral("/p/%1").arg(i), {"e", body}); // with "/api/v1/rooms": full but within
    QVERIFY(s.httpAnswer(QStringLiteral("/api/v1/rooms")));
    s.touchHttpAnswer(QStringLiteral("/p/0"));
    s.saveHttpAnswer(QStringLiteral("/p/4"), {"e", body});
    QVERIFY(!s.httpAnswer(QStringLiteral("/api/v1/rooms"))); // the oldest
    QVERIFY(!s.httpAnswer(QStringLiteral("/p/1"))); // the next oldest, /p/0 was used since
    for (const int i : {0, 2, 3, 4})
        QVERIFY2(s.httpAnswer(QStringLiteral("/p/%1").arg(i)), qPrintable(QString::number(i)));
}

void TestClientStore::migratedFromVersion1()
{
    // A store of the first schema (before the HTTP answers): kept, and migrated on open.
    const QString path = file(QStringLiteral("v1.sqlite"));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("v1"));
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery q(db);
        QVERIFY(q.exec(QStringLiteral("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)")));
        for (const char *table : {"self", "rooms", "users", "projects"})
            QVERIFY(q.exec(QStringLiteral("CREATE TABLE %1 (id INTEGER PRIMARY KEY, json BLOB NOT NULL)")
                               .arg(QLatin1String(table))));
        QVERIFY(q.exec(QStringLiteral("CREATE TABLE messages (room_id INTEGER NOT NULL, seq INTEGER NOT NULL, "
                                      "json BLOB NOT NULL, PRIMARY KEY (room_id, seq))")));
        QVERIFY(q.exec(QStringLiteral("CREATE TABLE tasks (project_id INTEGER NOT NULL, id INTEGER NOT NULL, "
                                      "json BLOB NOT NULL, PRIMARY KEY (project_id, id))")));
        QVERIFY(q.exec(QStringLiteral("CREATE TABLE channels (channel TEXT PRIMARY KEY, seq INTEGER NOT NULL)")));
        QVERIFY(
            q.exec(QStringLiteral("CREATE TABLE outbox (position INTEGER PRIMARY KEY, client_id TEXT NOT NULL "
                                  "UNIQUE, room_id INTEGER NOT NULL, body TEXT NOT NULL, failed INTEGER NOT NULL)")));
        QVERIFY(q.exec(QStringLiteral("INSERT INTO kv (key, value) VALUES ('lastRoom', '12')")));
        QVERIFY(q.exec(QStringLiteral("PRAGMA user_version = 1")));
        q.finish();
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("v1"));
    LocalStore s(path);
    QVERIFY(s.open());
    QVERIFY(s.discardedReason().isEmpty());
    QCOMPARE(s.value(QStringLiteral("lastRoom")), QStringLiteral("12"));
    s.saveHttpAnswer(QStringLiteral("/api/v1/me"), {"e", "{}"});
    QVERIFY(s.httpAnswer(QStringLiteral("/api/v1/me")));
    // Version 3: task changes made offline.
    QVERIFY(s.taskChanges().isEmpty());
    s.saveTaskChanges({{7, 3, 2, R"({"status":"done"})"}});
    QCOMPARE(s.taskChanges().size(), 1);
    QCOMPARE(s.taskChanges().constFirst().baseVersion, 2);
    QCOMPARE(s.taskChanges().constFirst().patch, QByteArray(R"({"status":"done"})"));
}

void TestClientStore::discardedWhenUnreadable_data()
{
    QTest::addColumn<QString>("kind");
    QTest::newRow("not a database") << "garbage";
    QTest::newRow("truncated") << "truncated";
    QTest::newRow("newer schema") << "newer";
}

void TestClientStore::discardedWhenUnreadable()
{
    QFETCH(QString, kind);
    const QString path = file(kind + QStringLiteral(".sqlite"));
    {
        LocalStore s(path);
        QVERIFY(s.open());
        s.saveRooms({room(1)});
    }
    if (kind == QLatin1String("garbage")) {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(QByteArray(8192, 'x'));
    } else if (kind == QLatin1String("truncated")) {
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadWrite));
        QVERIFY(f.size() > 4096);
        QVERIFY(f.resize(1000)); // inside the first page
    } else {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("newer"));
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery q(db);
        QVERIFY(q.exec(QStringLiteral("PRAGMA user_version = %1").arg(LocalStore::kSchemaVersion + 1)));
        q.finish();
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("newer"));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("unreadable .*: discarded, starting empty")));
    LocalStore s(path);
    QVERIFY(s.open());
    QVERIFY(!s.discardedReason().isEmpty());
    QVERIFY(s.rooms().isEmpty());
    s.saveRooms({room(5)}); // usable again
    QCOMPARE(s.rooms().size(), 1);
}

void TestClientStore::cannotCreate()
{
    // A path below a regular file cannot be a directory.
    QFile blocker(file(QStringLiteral("blocker")));
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("no local store at .*running without one")));
    LocalStore s(file(QStringLiteral("blocker/store.sqlite")));
    QVERIFY(!s.open());
    QVERIFY(!s.isOpen());
    s.saveRooms({room(1)});
    QVERIFY(s.rooms().isEmpty());
    QVERIFY(!s.self());
    QVERIFY(s.outbox().isEmpty());
}

void TestClientStore::removed()
{
    const QString path = file(QStringLiteral("gone.sqlite"));
    {
        LocalStore s(path);
        QVERIFY(s.open());
        s.saveRooms({room(1)});
    }
    QVERIFY(QFile::exists(path));
    QVERIFY(LocalStore::remove(path));
    QVERIFY(!QFile::exists(path));
    QVERIFY(!QFile::exists(path + QStringLiteral("-wal")));
    LocalStore s(path);
    QVERIFY(s.open());
    QVERIFY(s.rooms().isEmpty());
}

QTEST_GUILESS_MAIN(TestClientStore)
#include "tst_client_store.moc"
