// The client's LocalStore (client-qml/store): rooms, messages (the last 200 per room), users,
// projects, tasks, channel seqs, values and the outbox survive closing and reopening; the file is
// per account and server; a fresh file is migrated to the current schema version; a file that is
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
