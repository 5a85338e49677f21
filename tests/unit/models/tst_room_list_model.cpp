// RoomListModel under QAbstractItemModelTester (Fatal): rooms with news (unread, a mention) first,
// then order by last activity, moves to the
// top on a message, unread counting (not for own messages), markRead, the server's read marker
// (kept, never moved back by an older snapshot), totalUnread notification.
#include "shared/domain/types.h"
#include "shared/models/room_list_model.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace taskmaster;
using Roles = RoomListModel::Roles;

namespace {

constexpr Id kSelf = 1;
constexpr Id kBob = 2;

QDateTime at(int minutes)
{
    return QDateTime(QDate(2025, 6, 16), QTime(9, 0), Qt::UTC).addSecs(minutes * 60);
}

Room makeRoom(Id id, int createdMinutes, Seq lastSeq = 0, qint64 unread = 0)
{
    Room r;
    r.id = id;
    r.name = QStringLiteral("room %1").arg(id);
    r.kind = id % 2 == 0 ? RoomKind::Direct : RoomKind::Group;
    r.createdAt = at(createdMinutes);
    r.lastSeq = lastSeq;
    r.unread = unread;
    r.memberIds = {kSelf, kBob};
    return r;
}

QList<qint64> ids(const RoomListModel &model)
{
    QList<qint64> out;
    for (int row = 0; row < model.rowCount(); ++row)
        out.append(model.data(model.index(row), Roles::IdRole).toLongLong());
    return out;
}

qint64 unreadOf(const RoomListModel &model, Id room)
{
    return model.data(model.index(model.rowForId(room)), Roles::UnreadRole).toLongLong();
}

struct Fixture {
    RoomListModel model;
    QAbstractItemModelTester tester {&model, QAbstractItemModelTester::FailureReportingMode::Fatal};
};

} // namespace

class TestRoomListModel final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roleNames();
    void roles();
    void orderByActivity();
    void messageMovesRoomToTop();
    void unreadBump_data();
    void unreadBump();
    void duplicateMessageIgnored();
    void markRead_data();
    void markRead();
    void markReadOnlyForward();
    void newsFirst();
    void mentions();
    void readMarkerFromServer();
    void totalUnreadNotifies();
    void upsertAndRemove();
    void lastMessagePreview();
};

void TestRoomListModel::roleNames()
{
    const RoomListModel model;
    const QHash<int, QByteArray> expected {
        {Roles::IdRole, "roomId"},
        {Roles::NameRole, "name"},
        {Roles::KindRole, "kind"},
        {Roles::UnreadRole, "unread"},
        {Roles::LastSeqRole, "lastSeq"},
        {Roles::LastActivityRole, "lastActivity"},
        {Roles::MemberCountRole, "memberCount"},
        {Roles::MemberIdsRole, "memberIds"},
        {Roles::LastMessageRole, "lastMessage"},
        {Roles::LastAuthorIdRole, "lastAuthorId"},
        {Roles::LastMessageAtRole, "lastMessageAt"},
        {Roles::MentionedRole, "mentioned"},
    };
    QCOMPARE(model.roleNames(), expected);
}

void TestRoomListModel::roles()
{
    Fixture f;
    Room r = makeRoom(4, 10, 12, 3);
    r.memberIds = {1, 2, 3};
    f.model.reset({r});
    const QModelIndex idx = f.model.index(0);
    QCOMPARE(idx.data(Roles::IdRole).toLongLong(), 4);
    QCOMPARE(idx.data(Roles::NameRole).toString(), QStringLiteral("room 4"));
    QCOMPARE(idx.data(Qt::DisplayRole).toString(), QStringLiteral("room 4"));
    QCOMPARE(idx.data(Roles::KindRole).toString(), QStringLiteral("direct"));
    QCOMPARE(idx.data(Roles::UnreadRole).toLongLong(), 3);
    QCOMPARE(idx.data(Roles::LastSeqRole).toLongLong(), 12);
    QCOMPARE(idx.data(Roles::LastActivityRole).toDateTime(), at(10)); // createdAt until a message
    QCOMPARE(idx.data(Roles::MemberCountRole).toInt(), 3);
    QCOMPARE(idx.data(Roles::MemberIdsRole).toList(),
             (QVariantList {QVariant(qint64(1)), QVariant(qint64(2)), QVariant(qint64(3))}));
    QCOMPARE(f.model.roomAt(0), r);
    QCOMPARE(f.model.room(4), std::optional<Room>(r));
    QVERIFY(!f.model.room(5));
}

void TestRoomListModel::orderByActivity()
{
    Fixture f;
    f.model.reset({makeRoom(1, 0), makeRoom(2, 20), makeRoom(3, 10), makeRoom(4, 20), makeRoom(2, 20)});
    QCOMPARE(ids(f.model), (QList<qint64> {2, 4, 3, 1})); // newest first; 2 and 4 tie: lower id
    // Own messages: activity without news (newsFirst() has the others').
    f.model.onMessage(1, 1, at(15), kSelf, kSelf);
    QCOMPARE(ids(f.model), (QList<qint64> {2, 4, 1, 3}));
    f.model.onMessage(3, 1, at(30), kSelf, kSelf);
    QCOMPARE(ids(f.model), (QList<qint64> {3, 2, 4, 1}));
    // An older message (a late gap fill) does not move activity backwards.
    f.model.onMessage(3, 2, at(5), kSelf, kSelf);
    QCOMPARE(ids(f.model), (QList<qint64> {3, 2, 4, 1}));
    QCOMPARE(f.model.lastActivity(3), at(30));
}

void TestRoomListModel::messageMovesRoomToTop()
{
    Fixture f;
    f.model.reset({makeRoom(1, 0), makeRoom(2, 10), makeRoom(3, 20)});
    QCOMPARE(ids(f.model), (QList<qint64> {3, 2, 1}));
    QSignalSpy moved(&f.model, &QAbstractItemModel::rowsMoved);
    QSignalSpy resetSpy(&f.model, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&f.model, &QAbstractItemModel::dataChanged);
    const QPersistentModelIndex room1(f.model.index(2));
    f.model.onMessage(1, 5, at(30), kBob, kSelf);
    QCOMPARE(ids(f.model), (QList<qint64> {1, 3, 2}));
    QCOMPARE(moved.count(), 1);
    QCOMPARE(moved.at(0).at(1).toInt(), 2); // from row 2
    QCOMPARE(moved.at(0).at(4).toInt(), 0); // to the top
    QCOMPARE(resetSpy.count(), 0);
    QCOMPARE(room1.row(), 0);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).value<QModelIndex>().row(), 0);
    const QModelIndex top = f.model.index(0);
    QCOMPARE(top.data(Roles::LastSeqRole).toLongLong(), 5);
    QCOMPARE(top.data(Roles::UnreadRole).toLongLong(), 1);
    QCOMPARE(top.data(Roles::LastActivityRole).toDateTime(), at(30));
    // Already on top: no move, just data.
    f.model.onMessage(1, 6, at(31), kBob, kSelf);
    QCOMPARE(moved.count(), 1);
    QCOMPARE(changed.count(), 2);
    // Unknown rooms are ignored.
    f.model.onMessage(99, 1, at(40), kBob, kSelf);
    QCOMPARE(ids(f.model), (QList<qint64> {1, 3, 2}));
}

void TestRoomListModel::unreadBump_data()
{
    QTest::addColumn<qint64>("author");
    QTest::addColumn<qint64>("expectedUnread");
    QTest::newRow("someone else's message") << kBob << qint64(3);
    QTest::newRow("own message") << kSelf << qint64(2);
}

void TestRoomListModel::unreadBump()
{
    QFETCH(qint64, author);
    QFETCH(qint64, expectedUnread);
    Fixture f;
    f.model.reset({makeRoom(1, 0, 10, 2), makeRoom(2, 5)});
    QSignalSpy totalSpy(&f.model, &RoomListModel::totalUnreadChanged);
    f.model.onMessage(1, 11, at(10), author, kSelf);
    QCOMPARE(unreadOf(f.model, 1), expectedUnread);
    QCOMPARE(f.model.totalUnread(), expectedUnread);
    QCOMPARE(totalSpy.count(), expectedUnread == 2 ? 0 : 1);
    QCOMPARE(ids(f.model), (QList<qint64> {1, 2})); // moved to the top either way
}

void TestRoomListModel::duplicateMessageIgnored()
{
    Fixture f;
    f.model.reset({makeRoom(1, 0, 10, 0)});
    f.model.onMessage(1, 11, at(1), kBob, kSelf);
    f.model.onMessage(1, 11, at(1), kBob, kSelf); // same event again
    f.model.onMessage(1, 9, at(1), kBob, kSelf); // already counted in the REST snapshot
    QCOMPARE(unreadOf(f.model, 1), 1);
    QCOMPARE(f.model.totalUnread(), 1);
}

void TestRoomListModel::markRead_data()
{
    // The room: lastSeq 10, unread 5.
    QTest::addColumn<qint64>("readSeq");
    QTest::addColumn<qint64>("expectedUnread");
    QTest::newRow("at lastSeq") << qint64(10) << qint64(0);
    QTest::newRow("beyond lastSeq") << qint64(12) << qint64(0);
    QTest::newRow("two seqs behind: at most two unread") << qint64(8) << qint64(2);
    QTest::newRow("far behind: unchanged") << qint64(3) << qint64(5);
}

void TestRoomListModel::markRead()
{
    QFETCH(qint64, readSeq);
    QFETCH(qint64, expectedUnread);
    Fixture f;
    f.model.reset({makeRoom(1, 0, 10, 5), makeRoom(2, 0, 4, 1)});
    QSignalSpy changed(&f.model, &QAbstractItemModel::dataChanged);
    QSignalSpy totalSpy(&f.model, &RoomListModel::totalUnreadChanged);
    f.model.markRead(1, readSeq);
    QCOMPARE(unreadOf(f.model, 1), expectedUnread);
    QCOMPARE(f.model.totalUnread(), expectedUnread + 1);
    const bool changes = expectedUnread != 5;
    QCOMPARE(changed.count(), changes ? 1 : 0);
    QCOMPARE(totalSpy.count(), changes ? 1 : 0);
    // Read to the end, room 1 has no news left and goes below room 2 (same activity), which has.
    QCOMPARE(ids(f.model), expectedUnread == 0 ? (QList<qint64> {2, 1}) : (QList<qint64> {1, 2}));
}

void TestRoomListModel::newsFirst()
{
    Fixture f;
    // Room 1 is the oldest but has unread messages: it leads; then by activity.
    f.model.reset({makeRoom(1, 0, 3, 2), makeRoom(2, 10), makeRoom(3, 20), makeRoom(4, 5, 1, 1)});
    QCOMPARE(ids(f.model), (QList<qint64> {4, 1, 3, 2}));
    QSignalSpy moved(&f.model, &QAbstractItemModel::rowsMoved);
    // Reading room 4 moves it down among the rooms without news.
    f.model.markRead(4, 1);
    QCOMPARE(ids(f.model), (QList<qint64> {1, 3, 2, 4}));
    QCOMPARE(moved.count(), 1);
    // An own message moves a room up by activity but not above rooms with news.
    f.model.onMessage(2, 1, at(30), kSelf, kSelf);
    QCOMPARE(ids(f.model), (QList<qint64> {1, 2, 3, 4}));
    // Someone else's message gives it news: above room 1 (newer activity).
    f.model.onMessage(3, 1, at(31), kBob, kSelf);
    QCOMPARE(ids(f.model), (QList<qint64> {3, 1, 2, 4}));
}

void TestRoomListModel::mentions()
{
    Fixture f;
    f.model.reset({makeRoom(1, 0, 4, 0), makeRoom(2, 10, 3, 0)});
    f.model.markRead(1, 4);
    f.model.markRead(2, 3);
    QCOMPARE(ids(f.model), (QList<qint64> {2, 1}));
    const auto mentioned
        = [&](Id room) { return f.model.data(f.model.index(f.model.rowForId(room)), Roles::MentionedRole).toBool(); };
    QVERIFY(!mentioned(1));
    QSignalSpy changed(&f.model, &QAbstractItemModel::dataChanged);
    f.model.setMention(1, 3); // at or below the read marker: already read
    QVERIFY(!mentioned(1));
    QCOMPARE(changed.count(), 0);
    f.model.onMessage(1, 5, at(1), kBob, kSelf);
    f.model.setMention(1, 5);
    QVERIFY(mentioned(1));
    QCOMPARE(ids(f.model), (QList<qint64> {1, 2}));
    f.model.markRead(1, 5);
    QVERIFY(!mentioned(1));
    QCOMPARE(ids(f.model), (QList<qint64> {2, 1}));
    QCOMPARE(f.model.roleNames().value(Roles::MentionedRole), QByteArray("mentioned"));
}

void TestRoomListModel::markReadOnlyForward()
{
    Fixture f;
    f.model.reset({makeRoom(1, 0, 10, 5)});
    f.model.markRead(1, 10);
    QCOMPARE(unreadOf(f.model, 1), 0);
    f.model.onMessage(1, 11, at(1), kBob, kSelf);
    f.model.onMessage(1, 12, at(2), kBob, kSelf);
    QCOMPARE(unreadOf(f.model, 1), 2);
    f.model.markRead(1, 4); // behind the marker: ignored
    QCOMPARE(unreadOf(f.model, 1), 2);
    f.model.markRead(1, 11);
    QCOMPARE(unreadOf(f.model, 1), 1);
    // Read on another device ahead of the live stream: messages up to the marker are read.
    f.model.markRead(1, 14);
    f.model.onMessage(1, 13, at(3), kBob, kSelf);
    f.model.onMessage(1, 14, at(4), kBob, kSelf);
    QCOMPARE(unreadOf(f.model, 1), 0);
    f.model.onMessage(1, 15, at(5), kBob, kSelf);
    QCOMPARE(unreadOf(f.model, 1), 1);
}

void TestRoomListModel::readMarkerFromServer()
{
    Fixture f;
    const auto readSeqOf = [&](Id room) { return f.model.room(room)->readSeq.value_or(-1); };
    Room snapshot = makeRoom(1, 0, 10, 3);
    snapshot.readSeq = 7;
    f.model.reset({snapshot, makeRoom(2, 0, 4, 1)});
    QCOMPARE(readSeqOf(1), qint64(7));
    QVERIFY(!f.model.room(2)->readSeq); // an older server sent none
    // Messages at or below the server's marker are read.
    f.model.onMessage(1, 11, at(1), kBob, kSelf);
    QCOMPARE(unreadOf(f.model, 1), 4);
    f.model.markRead(1, 10);
    QCOMPARE(readSeqOf(1), qint64(10));
    QCOMPARE(unreadOf(f.model, 1), 1);
    // A snapshot taken before that markRead (marker 7) keeps the local marker and bounds its count.
    snapshot.lastSeq = 11;
    snapshot.unread = 4;
    f.model.upsert(snapshot);
    QCOMPARE(readSeqOf(1), qint64(10));
    QCOMPARE(unreadOf(f.model, 1), 1);
    QCOMPARE(f.model.totalUnread(), 2);
    // One without a marker (older server) does not reset it either; a newer one moves it.
    snapshot.readSeq.reset();
    f.model.upsert(snapshot);
    QCOMPARE(readSeqOf(1), qint64(10));
    snapshot.readSeq = 11;
    snapshot.unread = 0;
    f.model.upsert(snapshot);
    QCOMPARE(readSeqOf(1), qint64(11));
    QCOMPARE(unreadOf(f.model, 1), 0);
    QCOMPARE(f.model.totalUnread(), 1);
    // The marker counts for live messages too: a seq at or below it is not unread.
    f.model.markRead(2, 6);
    f.model.onMessage(2, 5, at(2), kBob, kSelf);
    f.model.onMessage(2, 6, at(3), kBob, kSelf);
    QCOMPARE(unreadOf(f.model, 2), 0);
}

void TestRoomListModel::totalUnreadNotifies()
{
    Fixture f;
    QSignalSpy totalSpy(&f.model, &RoomListModel::totalUnreadChanged);
    f.model.reset({makeRoom(1, 0, 10, 2), makeRoom(2, 1, 5, 3)});
    QCOMPARE(f.model.totalUnread(), 5);
    QCOMPARE(f.model.property("totalUnread").toLongLong(), 5);
    QCOMPARE(totalSpy.count(), 1);
    f.model.onMessage(2, 6, at(10), kBob, kSelf);
    QCOMPARE(f.model.totalUnread(), 6);
    QCOMPARE(totalSpy.count(), 2);
    f.model.onMessage(2, 7, at(11), kSelf, kSelf);
    QCOMPARE(totalSpy.count(), 2); // own message: no change, no signal
    f.model.markRead(1, 10);
    QCOMPARE(f.model.totalUnread(), 4);
    QCOMPARE(totalSpy.count(), 3);
    f.model.remove(2);
    QCOMPARE(f.model.totalUnread(), 0);
    QCOMPARE(totalSpy.count(), 4);
    f.model.upsert(makeRoom(3, 2, 3, 3));
    QCOMPARE(f.model.totalUnread(), 3);
    QCOMPARE(totalSpy.count(), 5);
    f.model.reset({makeRoom(3, 2, 3, 3)});
    QCOMPARE(totalSpy.count(), 5); // same total: no signal
    f.model.reset({});
    QCOMPARE(f.model.totalUnread(), 0);
    QCOMPARE(totalSpy.count(), 6);
}

void TestRoomListModel::upsertAndRemove()
{
    Fixture f;
    f.model.reset({makeRoom(1, 0), makeRoom(2, 10)});
    QSignalSpy inserted(&f.model, &QAbstractItemModel::rowsInserted);
    QSignalSpy countSpy(&f.model, &RoomListModel::countChanged);
    f.model.upsert(makeRoom(3, 5)); // between by activity
    QCOMPARE(ids(f.model), (QList<qint64> {2, 3, 1}));
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.at(0).at(1).toInt(), 1);
    QCOMPARE(countSpy.count(), 1);

    // Live events counted after the REST snapshot are kept when an older snapshot arrives.
    f.model.onMessage(3, 1, at(20), kBob, kSelf);
    f.model.onMessage(3, 2, at(21), kBob, kSelf);
    QCOMPARE(ids(f.model), (QList<qint64> {3, 2, 1}));
    Room renamed = makeRoom(3, 5, 1, 1);
    renamed.name = QStringLiteral("renamed");
    renamed.memberIds = {kSelf, kBob, 9};
    f.model.upsert(renamed);
    QCOMPARE(f.model.room(3)->name, QStringLiteral("renamed"));
    QCOMPARE(f.model.room(3)->lastSeq, 2);
    QCOMPARE(unreadOf(f.model, 3), 2);
    QCOMPARE(f.model.index(0).data(Roles::MemberCountRole).toInt(), 3);
    QCOMPARE(ids(f.model), (QList<qint64> {3, 2, 1})); // activity kept
    // A newer snapshot (the server's count after a read elsewhere) wins.
    f.model.upsert(makeRoom(3, 5, 4, 0));
    QCOMPARE(unreadOf(f.model, 3), 0);
    QCOMPARE(f.model.room(3)->lastSeq, 4);

    QSignalSpy removed(&f.model, &QAbstractItemModel::rowsRemoved);
    f.model.remove(2);
    f.model.remove(99);
    QCOMPARE(ids(f.model), (QList<qint64> {3, 1}));
    QCOMPARE(removed.count(), 1);
    QCOMPARE(f.model.rowForId(2), -1);
}

void TestRoomListModel::lastMessagePreview()
{
    Fixture f;
    f.model.reset({makeRoom(1, 0), makeRoom(3, 10)});
    QCOMPARE(ids(f.model), QList<qint64>({3, 1}));
    const auto data = [&](Id room, int role) { return f.model.data(f.model.index(f.model.rowForId(room)), role); };
    QCOMPARE(data(1, Roles::LastMessageRole).toString(), QString());
    QCOMPARE(data(1, Roles::LastAuthorIdRole).toLongLong(), 0);
    QVERIFY(!data(1, Roles::LastMessageAtRole).toDateTime().isValid());

    Message m;
    m.id = 100;
    m.roomId = 1;
    m.seq = 5;
    m.authorId = kBob;
    m.body = QStringLiteral("hello");
    m.createdAt = at(20);
    f.model.setLastMessage(m);
    QCOMPARE(data(1, Roles::LastMessageRole).toString(), QStringLiteral("hello"));
    QCOMPARE(data(1, Roles::LastAuthorIdRole).toLongLong(), kBob);
    QCOMPARE(data(1, Roles::LastMessageAtRole).toDateTime(), at(20));
    QCOMPARE(ids(f.model), QList<qint64>({1, 3})); // its activity moved it up
    QCOMPARE(unreadOf(f.model, 1), 0); // counts are onMessage()'s

    // An older message does not replace it; an edit of it (same seq) does; a deletion empties it.
    Message older = m;
    older.seq = 4;
    older.body = QStringLiteral("before");
    f.model.setLastMessage(older);
    QCOMPARE(data(1, Roles::LastMessageRole).toString(), QStringLiteral("hello"));
    Message edited = m;
    edited.body = QStringLiteral("hello, edited");
    f.model.setLastMessage(edited);
    QCOMPARE(data(1, Roles::LastMessageRole).toString(), QStringLiteral("hello, edited"));
    Message deleted = m;
    deleted.deleted = true;
    deleted.body.clear();
    f.model.setLastMessage(deleted);
    QCOMPARE(data(1, Roles::LastMessageRole).toString(), QString());
    QCOMPARE(data(1, Roles::LastAuthorIdRole).toLongLong(), kBob);

    // Kept across a snapshot of the room (upsert), and for unknown rooms nothing happens.
    f.model.upsert(makeRoom(1, 0, 9, 2));
    QCOMPARE(data(1, Roles::LastAuthorIdRole).toLongLong(), kBob);
    Message elsewhere = m;
    elsewhere.roomId = 99;
    f.model.setLastMessage(elsewhere);
    QCOMPARE(f.model.count(), 2);
}

QTEST_GUILESS_MAIN(TestRoomListModel)
#include "tst_room_list_model.moc"
