// MessageListModel under QAbstractItemModelTester (Fatal): dedupe by seq and by clientId, the
// pending/ack/failed life of a send, gap detection on the channel's event seqs, history paging
// (position kept, one request at a time), computed roles and tombstones.
#include "shared/domain/types.h"
#include "shared/models/message_list_model.h"

#include <QAbstractItemModelTester>
#include <QMap>
#include <QSignalSpy>
#include <QTest>

#include <memory>

using namespace taskmaster;
using Roles = MessageListModel::Roles;

namespace {

constexpr Id kRoom = 7;
constexpr Id kAlice = 1;
constexpr Id kBob = 2;

// Local noon of a day with no DST change anywhere near, so day boundaries are predictable.
QDateTime localTime(int day, int hour, int minute, int second = 0)
{
    return QDateTime(QDate(2025, 6, day), QTime(hour, minute, second)).toUTC();
}
QDateTime baseTime()
{
    return localTime(16, 12, 0);
}

// Message `seq` of the room, by `author`, created 10 s after the previous seq by default.
Message makeMessage(Seq seq, Id author = kAlice, QDateTime at = {}, std::optional<QString> clientId = std::nullopt)
{
    Message m;
    m.id = 1000 + seq;
    m.roomId = kRoom;
    m.seq = seq;
    m.authorId = author;
    m.body = QStringLiteral("message %1").arg(seq);
    m.clientId = std::move(clientId);
    m.createdAt = at.isValid() ? at : baseTime().addSecs(seq * 10);
    return m;
}

QList<Message> range(Seq from, Seq to)
{
    QList<Message> page;
    for (Seq s = from; s <= to; ++s)
        page.append(makeMessage(s));
    return page;
}

// Seqs of all rows; a local (pending/failed) row shows as -1.
QList<qint64> seqs(const MessageListModel &model)
{
    QList<qint64> out;
    for (int row = 0; row < model.rowCount(); ++row) {
        const QVariant v = model.data(model.index(row), Roles::SeqRole);
        out.append(v.isNull() ? -1 : v.toLongLong());
    }
    return out;
}

QList<qint64> seqRange(qint64 from, qint64 to)
{
    QList<qint64> out;
    for (qint64 s = from; s <= to; ++s)
        out.append(s);
    return out;
}

QVariant roleAt(const MessageListModel &model, int row, int role)
{
    return model.data(model.index(row), role);
}

bool flagAt(const MessageListModel &model, int row, int role)
{
    return roleAt(model, row, role).toBool();
}

// True when some dataChanged emission covers `row` and names `role` (or all roles).
bool changedRow(const QSignalSpy &spy, int row, int role)
{
    for (const QList<QVariant> &args : spy) {
        const auto topLeft = args.at(0).value<QModelIndex>();
        const auto bottomRight = args.at(1).value<QModelIndex>();
        const auto roles = args.at(2).value<QList<int>>();
        if (topLeft.row() <= row && row <= bottomRight.row() && (roles.isEmpty() || roles.contains(role)))
            return true;
    }
    return false;
}

// The model with its tester attached before anything mutates it.
struct Fixture {
    MessageListModel model;
    QAbstractItemModelTester tester {&model, QAbstractItemModelTester::FailureReportingMode::Fatal};
    explicit Fixture(bool withRoom = true)
    {
        if (withRoom)
            model.setRoomId(kRoom);
    }
};

using GapList = QList<SeqRange>;

// "3-4,6-6" -> {{3,4},{6,6}}
GapList parseRanges(const QString &text)
{
    GapList out;
    for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QStringList ends = part.split(QLatin1Char('-'));
        out.append(SeqRange {ends.at(0).toLongLong(), ends.at(1).toLongLong()});
    }
    return out;
}

} // namespace

class TestMessageListModel final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roleNames();
    void attachmentsRole();
    void appendsInSeqOrder();
    void dedupeSameLiveEventTwice();
    void dedupeHistoryOverlappingLoadedRows();
    void historyPageFillsHole();
    void duplicateKeepsNewerCopy();
    void liveOlderThanLoadedWindowIsLeftToPaging();
    void pendingEventBeforeAck();
    void pendingAckBeforeEvent();
    void ackMovesRowToSeqPosition();
    void pendingFailedRetryDiscard();
    void pendingConfirmedByHistoryPage();
    void gapDetection_data();
    void gapDetection();
    void gapReportedOncePerRange();
    void prependKeepsPosition();
    void fetchMoreOneRequestAtATime();
    void authorGrouping_data();
    void authorGrouping();
    void daySeparators();
    void neighbourChangesAreSignalled();
    void firstUnread();
    void firstUnreadNeedsLoadedHistory();
    void editAndDeleteTombstone();
    void otherRoomsAndClear();
    void manyMessages();
};

void TestMessageListModel::roleNames()
{
    const MessageListModel model;
    const QHash<int, QByteArray> names = model.roleNames();
    const QHash<int, QByteArray> expected {
        {Roles::IdRole, "messageId"},
        {Roles::SeqRole, "seq"},
        {Roles::AuthorIdRole, "authorId"},
        {Roles::BodyRole, "body"},
        {Roles::ClientIdRole, "clientId"},
        {Roles::CreatedAtRole, "createdAt"},
        {Roles::EditedAtRole, "editedAt"},
        {Roles::EditedRole, "edited"},
        {Roles::DeletedRole, "deleted"},
        {Roles::PendingRole, "pending"},
        {Roles::FailedRole, "failed"},
        {Roles::PreviousAuthorSameRole, "previousAuthorSame"},
        {Roles::DayChangedRole, "dayChanged"},
        {Roles::IsFirstUnreadRole, "isFirstUnread"},
        {Roles::AttachmentsRole, "attachments"},
    };
    QCOMPARE(names, expected);
}

void TestMessageListModel::attachmentsRole()
{
    Fixture f;
    Message m = makeMessage(1);
    Attachment image;
    image.id = 7;
    image.name = QStringLiteral("plan.png");
    image.size = 1234;
    image.contentType = QStringLiteral("image/png");
    image.sha256 = QStringLiteral("ab");
    Attachment doc = image;
    doc.id = 8;
    doc.name = QStringLiteral("notes.txt");
    doc.contentType = QStringLiteral("text/plain");
    m.attachments = {image, doc};
    f.model.appendLive(m);
    f.model.appendLive(makeMessage(2));
    const QVariantList list = roleAt(f.model, 0, Roles::AttachmentsRole).toList();
    QCOMPARE(list.size(), 2);
    const QVariantMap first = list.at(0).toMap();
    QCOMPARE(first.value(QStringLiteral("attachmentId")).toLongLong(), 7);
    QCOMPARE(first.value(QStringLiteral("name")).toString(), QStringLiteral("plan.png"));
    QCOMPARE(first.value(QStringLiteral("size")).toLongLong(), 1234);
    QCOMPARE(first.value(QStringLiteral("sha256")).toString(), QStringLiteral("ab"));
    QVERIFY(first.value(QStringLiteral("isImage")).toBool());
    QCOMPARE(first.value(QStringLiteral("url")).toString(), QStringLiteral("/api/v1/attachments/7"));
    QCOMPARE(first.value(QStringLiteral("thumbnailUrl")).toString(), QStringLiteral("/api/v1/attachments/7/thumbnail"));
    const QVariantMap second = list.at(1).toMap();
    QVERIFY(!second.value(QStringLiteral("isImage")).toBool());
    QVERIFY(second.value(QStringLiteral("thumbnailUrl")).isNull());
    QVERIFY(roleAt(f.model, 1, Roles::AttachmentsRole).toList().isEmpty());
}

void TestMessageListModel::appendsInSeqOrder()
{
    Fixture f;
    f.model.appendLive(makeMessage(1));
    f.model.appendLive(makeMessage(3, kBob));
    f.model.appendLive(makeMessage(2)); // late: goes between
    QCOMPARE(seqs(f.model), (QList<qint64> {1, 2, 3}));
    QCOMPARE(f.model.count(), 3);
    QCOMPARE(roleAt(f.model, 2, Roles::IdRole).toLongLong(), 1003);
    QCOMPARE(roleAt(f.model, 2, Roles::AuthorIdRole).toLongLong(), kBob);
    QCOMPARE(roleAt(f.model, 2, Roles::BodyRole).toString(), QStringLiteral("message 3"));
    QCOMPARE(roleAt(f.model, 2, Qt::DisplayRole).toString(), QStringLiteral("message 3"));
    QCOMPARE(roleAt(f.model, 2, Roles::CreatedAtRole).toDateTime(), baseTime().addSecs(30));
    QVERIFY(roleAt(f.model, 2, Roles::ClientIdRole).isNull());
    QVERIFY(roleAt(f.model, 2, Roles::EditedAtRole).isNull());
    QVERIFY(!flagAt(f.model, 2, Roles::EditedRole));
    QVERIFY(!flagAt(f.model, 2, Roles::DeletedRole));
    QVERIFY(!flagAt(f.model, 2, Roles::PendingRole));
    QVERIFY(!flagAt(f.model, 2, Roles::FailedRole));
    QCOMPARE(f.model.rowForSeq(2), 1);
    QCOMPARE(f.model.rowForSeq(4), -1);
    QCOMPARE(f.model.lastSeq(), 3);
}

void TestMessageListModel::dedupeSameLiveEventTwice()
{
    Fixture f;
    QSignalSpy inserted(&f.model, &QAbstractItemModel::rowsInserted);
    f.model.appendLive(makeMessage(1));
    f.model.appendLive(makeMessage(1));
    f.model.appendLive(makeMessage(2));
    f.model.appendLive(makeMessage(1));
    f.model.appendLive(makeMessage(2));
    QCOMPARE(seqs(f.model), (QList<qint64> {1, 2}));
    QCOMPARE(inserted.count(), 2);
}

void TestMessageListModel::dedupeHistoryOverlappingLoadedRows()
{
    Fixture f;
    for (Seq s = 10; s <= 14; ++s)
        f.model.appendLive(makeMessage(s));
    QSignalSpy inserted(&f.model, &QAbstractItemModel::rowsInserted);
    f.model.prependPage(range(5, 12), true); // 10..12 are loaded already
    QCOMPARE(seqs(f.model), seqRange(5, 14));
    QCOMPARE(inserted.count(), 1); // 5..9 at the top in one go
    QCOMPARE(inserted.at(0).at(1).toInt(), 0);
    QCOMPARE(inserted.at(0).at(2).toInt(), 4);
    // The very same page again changes nothing.
    f.model.prependPage(range(5, 12), true);
    QCOMPARE(seqs(f.model), seqRange(5, 14));
    QCOMPARE(inserted.count(), 1);
}

void TestMessageListModel::historyPageFillsHole()
{
    Fixture f;
    QSignalSpy gaps(&f.model, &MessageListModel::gapDetected);
    f.model.appendLive(makeMessage(10));
    f.model.appendLive(makeMessage(12));
    QCOMPARE(gaps.count(), 1);
    f.model.prependPage(range(8, 12), true);
    QCOMPARE(seqs(f.model), seqRange(8, 12));
    QVERIFY(!f.model.hasGap()); // seq 11 arrived with the page
    QCOMPARE(gaps.count(), 1);
}

void TestMessageListModel::duplicateKeepsNewerCopy()
{
    Fixture f;
    Message edited = makeMessage(3);
    edited.body = QStringLiteral("edited");
    edited.editedAt = baseTime().addSecs(600);
    f.model.prependPage({makeMessage(1), makeMessage(2), edited}, true);
    QSignalSpy changed(&f.model, &QAbstractItemModel::dataChanged);
    f.model.appendLive(makeMessage(3)); // a replay of the creation event: older than the edit
    QCOMPARE(roleAt(f.model, 2, Roles::BodyRole).toString(), QStringLiteral("edited"));
    QVERIFY(flagAt(f.model, 2, Roles::EditedRole));
    QCOMPARE(changed.count(), 0);
    // A page bringing a tombstone of a loaded message replaces it.
    Message gone = makeMessage(2);
    gone.deleted = true;
    gone.body.clear();
    f.model.prependPage({makeMessage(1), gone}, true);
    QVERIFY(flagAt(f.model, 1, Roles::DeletedRole));
    QVERIFY(changedRow(changed, 1, Roles::DeletedRole));
    QCOMPARE(f.model.count(), 3);
}

void TestMessageListModel::liveOlderThanLoadedWindowIsLeftToPaging()
{
    Fixture f;
    f.model.prependPage(range(10, 12), true);
    f.model.appendLive(makeMessage(5)); // older history is not loaded: no hole in the middle
    QCOMPARE(seqs(f.model), seqRange(10, 12));
    f.model.prependPage(range(1, 9), false);
    QCOMPARE(seqs(f.model), seqRange(1, 12));

    Fixture all;
    all.model.prependPage(range(10, 12), false); // the whole room is loaded
    all.model.appendLive(makeMessage(5));
    QCOMPARE(seqs(all.model), (QList<qint64> {5, 10, 11, 12}));
}

void TestMessageListModel::pendingEventBeforeAck()
{
    Fixture f;
    f.model.prependPage(range(1, 3), false);
    f.model.addPending(QStringLiteral("c1"), QStringLiteral("hello"), kAlice);
    QCOMPARE(f.model.count(), 4);
    QVERIFY(flagAt(f.model, 3, Roles::PendingRole));
    QVERIFY(!flagAt(f.model, 3, Roles::FailedRole));
    QVERIFY(roleAt(f.model, 3, Roles::IdRole).isNull());
    QVERIFY(roleAt(f.model, 3, Roles::SeqRole).isNull());
    QCOMPARE(roleAt(f.model, 3, Roles::ClientIdRole).toString(), QStringLiteral("c1"));
    QCOMPARE(roleAt(f.model, 3, Roles::BodyRole).toString(), QStringLiteral("hello"));
    QCOMPARE(f.model.confirmedCount(), 3);

    Message sent = makeMessage(4, kAlice, {}, QStringLiteral("c1"));
    sent.body = QStringLiteral("hello");
    QSignalSpy inserted(&f.model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&f.model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy changed(&f.model, &QAbstractItemModel::dataChanged);
    f.model.appendLive(sent); // the event overtakes the ack
    QCOMPARE(seqs(f.model), seqRange(1, 4));
    QVERIFY(!flagAt(f.model, 3, Roles::PendingRole));
    QCOMPARE(roleAt(f.model, 3, Roles::IdRole).toLongLong(), 1004);
    QCOMPARE(inserted.count(), 0); // replaced in place
    QCOMPARE(removed.count(), 0);
    QVERIFY(changedRow(changed, 3, Roles::PendingRole));
    QCOMPARE(f.model.rowForClientId(QStringLiteral("c1")), -1);

    f.model.acknowledge(QStringLiteral("c1"), sent);
    QCOMPARE(seqs(f.model), seqRange(1, 4));
    QCOMPARE(inserted.count(), 0);
    QCOMPARE(removed.count(), 0);
}

void TestMessageListModel::pendingAckBeforeEvent()
{
    Fixture f;
    f.model.prependPage(range(1, 3), false);
    f.model.addPending(QStringLiteral("c1"), QStringLiteral("hello"), kAlice);
    const Message sent = makeMessage(4, kAlice, {}, QStringLiteral("c1"));
    f.model.acknowledge(QStringLiteral("c1"), sent);
    QCOMPARE(seqs(f.model), seqRange(1, 4));
    QVERIFY(!flagAt(f.model, 3, Roles::PendingRole));
    QCOMPARE(f.model.confirmedCount(), 4);
    QCOMPARE(f.model.lastSeq(), 3); // an ack is not an event of the stream
    QSignalSpy inserted(&f.model, &QAbstractItemModel::rowsInserted);
    f.model.appendLive(sent);
    QCOMPARE(seqs(f.model), seqRange(1, 4));
    QCOMPARE(inserted.count(), 0);
    QCOMPARE(f.model.lastSeq(), 4);
}

void TestMessageListModel::ackMovesRowToSeqPosition()
{
    Fixture f;
    f.model.prependPage(range(1, 3), false);
    f.model.addPending(QStringLiteral("c1"), QStringLiteral("first"), kAlice);
    f.model.addPending(QStringLiteral("c2"), QStringLiteral("second"), kAlice);
    f.model.appendLive(makeMessage(5, kBob)); // Bob's message lands before the local rows
    QCOMPARE(seqs(f.model), (QList<qint64> {1, 2, 3, 5, -1, -1}));

    QSignalSpy moved(&f.model, &QAbstractItemModel::rowsMoved);
    f.model.acknowledge(QStringLiteral("c1"), makeMessage(4, kAlice, {}, QStringLiteral("c1")));
    QCOMPARE(seqs(f.model), (QList<qint64> {1, 2, 3, 4, 5, -1}));
    QCOMPARE(moved.count(), 1);
    QCOMPARE(moved.at(0).at(1).toInt(), 4); // from row 4 ...
    QCOMPARE(moved.at(0).at(4).toInt(), 3); // ... to before row 3
    QCOMPARE(roleAt(f.model, 3, Roles::ClientIdRole).toString(), QStringLiteral("c1"));
    QCOMPARE(roleAt(f.model, 5, Roles::ClientIdRole).toString(), QStringLiteral("c2"));

    // c2's event comes first this time; it is the next seq, so it is replaced in place.
    f.model.appendLive(makeMessage(6, kAlice, {}, QStringLiteral("c2")));
    QCOMPARE(seqs(f.model), seqRange(1, 6));
    QCOMPARE(moved.count(), 1);
    f.model.acknowledge(QStringLiteral("c2"), makeMessage(6, kAlice, {}, QStringLiteral("c2")));
    f.model.appendLive(makeMessage(4, kAlice, {}, QStringLiteral("c1")));
    QCOMPARE(seqs(f.model), seqRange(1, 6));
}

void TestMessageListModel::pendingFailedRetryDiscard()
{
    Fixture f;
    f.model.prependPage(range(1, 2), false);
    f.model.addPending(QStringLiteral("c1"), QStringLiteral("hi"), kAlice);
    QSignalSpy changed(&f.model, &QAbstractItemModel::dataChanged);
    f.model.markFailed(QStringLiteral("c1"));
    QVERIFY(flagAt(f.model, 2, Roles::FailedRole));
    QVERIFY(!flagAt(f.model, 2, Roles::PendingRole));
    QVERIFY(changedRow(changed, 2, Roles::FailedRole));
    QVERIFY(changedRow(changed, 2, Roles::PendingRole));

    // Retry: same clientId, same row, pending again.
    f.model.addPending(QStringLiteral("c1"), QStringLiteral("hi"), kAlice);
    QCOMPARE(f.model.count(), 3);
    QVERIFY(flagAt(f.model, 2, Roles::PendingRole));
    QVERIFY(!flagAt(f.model, 2, Roles::FailedRole));

    f.model.markFailed(QStringLiteral("c1"));
    f.model.markFailed(QStringLiteral("unknown"));
    f.model.discardPending(QStringLiteral("c1"));
    QCOMPARE(seqs(f.model), seqRange(1, 2));

    // A failed send that the server did take after all: its ack still confirms the row.
    f.model.addPending(QStringLiteral("c2"), QStringLiteral("again"), kAlice);
    f.model.markFailed(QStringLiteral("c2"));
    f.model.acknowledge(QStringLiteral("c2"), makeMessage(3, kAlice, {}, QStringLiteral("c2")));
    QCOMPARE(seqs(f.model), seqRange(1, 3));
    QVERIFY(!flagAt(f.model, 2, Roles::FailedRole));
}

void TestMessageListModel::pendingConfirmedByHistoryPage()
{
    Fixture f;
    f.model.prependPage(range(1, 2), true);
    f.model.addPending(QStringLiteral("c1"), QStringLiteral("hi"), kAlice);
    // A reload page already holds the sent message (its clientId is only known to the ack).
    f.model.prependPage(range(1, 3), true);
    QCOMPARE(seqs(f.model), (QList<qint64> {1, 2, 3, -1}));
    f.model.acknowledge(QStringLiteral("c1"), makeMessage(3, kAlice, {}, QStringLiteral("c1")));
    QCOMPARE(seqs(f.model), seqRange(1, 3)); // the local copy is dropped, no duplicate
}

void TestMessageListModel::gapDetection_data()
{
    // ops: mN appendLive(message N), eN noteEventSeq(N), uN applyUpdate(edit of message 1, event
    // seq N), sN setSyncedSeq(N), pA-B prependPage(A..B, hasMore).
    QTest::addColumn<QString>("ops");
    QTest::addColumn<QString>("gaps"); // gapDetected emissions, in order
    QTest::addColumn<QString>("missing"); // missingRanges() at the end
    QTest::addColumn<qint64>("lastSeq");
    QTest::addColumn<qint64>("contiguousSeq");

    QTest::newRow("in order") << "m1 m2 m3"
                              << ""
                              << "" << qint64(3) << qint64(3);
    QTest::newRow("one gap") << "m1 m2 m5"
                             << "3-4"
                             << "3-4" << qint64(5) << qint64(2);
    QTest::newRow("hole filled out of order") << "m1 m3 m2"
                                              << "2-2"
                                              << "" << qint64(3) << qint64(3);
    QTest::newRow("filled, no re-report") << "m1 m3 m2 m3 m2 m4"
                                          << "2-2"
                                          << "" << qint64(4) << qint64(4);
    QTest::newRow("event seqs are part of the stream") << "m1 e2 m3 e4 m5"
                                                       << ""
                                                       << "" << qint64(5) << qint64(5);
    QTest::newRow("event seqs fill a gap") << "m1 m4 e2 e3"
                                           << "2-3"
                                           << "" << qint64(4) << qint64(4);
    QTest::newRow("update event seq") << "m1 u2 m3"
                                      << ""
                                      << "" << qint64(3) << qint64(3);
    QTest::newRow("update reveals gap") << "m1 u4"
                                        << "2-3"
                                        << "2-3" << qint64(4) << qint64(1);
    QTest::newRow("out-of-order duplicates") << "m1 m4 m4 m2 m2 m3 m4"
                                             << "2-3"
                                             << "" << qint64(4) << qint64(4);
    QTest::newRow("partial fill, then new gap") << "m1 m5 m3 m8"
                                                << "2-4,6-7"
                                                << "2-2,4-4,6-7" << qint64(8) << qint64(1);
    QTest::newRow("synced baseline") << "s10 m11 m13"
                                     << "12-12"
                                     << "12-12" << qint64(13) << qint64(11);
    QTest::newRow("gap right after baseline") << "s10 m14"
                                              << "11-13"
                                              << "11-13" << qint64(14) << qint64(10);
    QTest::newRow("first event starts tracking") << "m5 m6"
                                                 << ""
                                                 << "" << qint64(6) << qint64(6);
    QTest::newRow("reload closes hole") << "m1 m4 s4 m5"
                                        << "2-3"
                                        << "" << qint64(5) << qint64(5);
    QTest::newRow("page starts tracking") << "p3-5 m6 m8"
                                          << "7-7"
                                          << "7-7" << qint64(8) << qint64(6);
    QTest::newRow("stale events ignored") << "s10 m3 e9 m11"
                                          << ""
                                          << "" << qint64(11) << qint64(11);
}

void TestMessageListModel::gapDetection()
{
    QFETCH(QString, ops);
    QFETCH(QString, gaps);
    QFETCH(QString, missing);
    QFETCH(qint64, lastSeq);
    QFETCH(qint64, contiguousSeq);

    Fixture f;
    QSignalSpy gapSpy(&f.model, &MessageListModel::gapDetected);
    QList<qint64> messageSeqs;
    for (const QString &op : ops.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        const QChar kind = op.at(0);
        const QString arg = op.mid(1);
        if (kind == QLatin1Char('m')) {
            f.model.appendLive(makeMessage(arg.toLongLong()));
            messageSeqs.append(arg.toLongLong());
        } else if (kind == QLatin1Char('e')) {
            f.model.noteEventSeq(arg.toLongLong());
        } else if (kind == QLatin1Char('u')) {
            Message edit = makeMessage(1);
            edit.body = QStringLiteral("edited");
            edit.editedAt = baseTime().addSecs(3600);
            f.model.applyUpdate(edit, arg.toLongLong());
        } else if (kind == QLatin1Char('s')) {
            f.model.setSyncedSeq(arg.toLongLong());
        } else if (kind == QLatin1Char('p')) {
            const SeqRange r = parseRanges(arg).at(0);
            f.model.prependPage(range(r.from, r.to), true);
        } else {
            QFAIL("bad op");
        }
    }

    GapList reported;
    for (const QList<QVariant> &args : gapSpy)
        reported.append(SeqRange {args.at(0).toLongLong(), args.at(1).toLongLong()});
    QCOMPARE(reported, parseRanges(gaps));
    QCOMPARE(f.model.missingRanges(), parseRanges(missing));
    QCOMPARE(f.model.hasGap(), !missing.isEmpty());
    QCOMPARE(f.model.lastSeq(), lastSeq);
    QCOMPARE(f.model.contiguousSeq(), contiguousSeq);

    // Rows: each message once, ascending (messages below a synced baseline are still shown:
    // the row window, not the tracker, decides what is inserted).
    const QList<qint64> rows = seqs(f.model);
    for (int i = 1; i < rows.size(); ++i)
        QVERIFY(rows.at(i - 1) < rows.at(i));
    for (const qint64 s : std::as_const(messageSeqs))
        QVERIFY(rows.contains(s));
}

void TestMessageListModel::gapReportedOncePerRange()
{
    Fixture f;
    QSignalSpy gapSpy(&f.model, &MessageListModel::gapDetected);
    QSignalSpy syncSpy(&f.model, &MessageListModel::syncStateChanged);
    f.model.appendLive(makeMessage(1));
    f.model.appendLive(makeMessage(5));
    QCOMPARE(gapSpy.count(), 1);
    QVERIFY(f.model.hasGap());
    // The `history` reply: the missing events, a member change among them.
    f.model.appendLive(makeMessage(2));
    f.model.noteEventSeq(3);
    Message deleted = makeMessage(2);
    deleted.deleted = true;
    deleted.body.clear();
    f.model.applyUpdate(deleted, 4);
    QVERIFY(!f.model.hasGap());
    QCOMPARE(f.model.contiguousSeq(), 5);
    QCOMPARE(seqs(f.model), (QList<qint64> {1, 2, 5}));
    QVERIFY(flagAt(f.model, 1, Roles::DeletedRole));
    // Replays of the same events report nothing more.
    f.model.appendLive(makeMessage(2));
    f.model.noteEventSeq(3);
    f.model.appendLive(makeMessage(6));
    QCOMPARE(gapSpy.count(), 1);
    QVERIFY(syncSpy.count() > 0);
}

void TestMessageListModel::prependKeepsPosition()
{
    Fixture f;
    f.model.prependPage(range(100, 104), true);
    const int pageSize = 50;
    const int before = f.model.rowForSeq(102);
    QCOMPARE(before, 2);
    QVERIFY(flagAt(f.model, 0, Roles::DayChangedRole)); // row 0 always starts a day
    QVERIFY(!flagAt(f.model, 0, Roles::PreviousAuthorSameRole));
    QMap<int, QVariant> dataBefore;
    const auto roles = f.model.roleNames().keys();
    for (const int role : roles)
        dataBefore.insert(role, roleAt(f.model, before, role));
    const QPersistentModelIndex persistent(f.model.index(before));

    QSignalSpy aboutToInsert(&f.model, &QAbstractItemModel::rowsAboutToBeInserted);
    QSignalSpy inserted(&f.model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&f.model, &QAbstractItemModel::dataChanged);
    f.model.prependPage(range(50, 99), true);

    QCOMPARE(aboutToInsert.count(), 1);
    QCOMPARE(inserted.count(), 1);
    QVERIFY(!inserted.at(0).at(0).value<QModelIndex>().isValid());
    QCOMPARE(inserted.at(0).at(1).toInt(), 0);
    QCOMPARE(inserted.at(0).at(2).toInt(), pageSize - 1);
    const int after = f.model.rowForSeq(102);
    QCOMPARE(after, before + pageSize);
    QCOMPARE(persistent.row(), after);
    for (const int role : roles)
        QCOMPARE(roleAt(f.model, after, role), dataBefore.value(role));

    // The old row 0 (seq 100) now follows seq 99, same author, 10 s earlier, same day.
    const int boundary = f.model.rowForSeq(100);
    QCOMPARE(boundary, pageSize);
    QVERIFY(!flagAt(f.model, boundary, Roles::DayChangedRole));
    QVERIFY(flagAt(f.model, boundary, Roles::PreviousAuthorSameRole));
    QVERIFY(changedRow(changed, boundary, Roles::DayChangedRole));
    QVERIFY(changedRow(changed, boundary, Roles::PreviousAuthorSameRole));
    QVERIFY(!changedRow(changed, after, Roles::PreviousAuthorSameRole)); // nothing else touched
    QVERIFY(flagAt(f.model, 0, Roles::DayChangedRole));
}

void TestMessageListModel::fetchMoreOneRequestAtATime()
{
    Fixture f(false);
    QVERIFY(!f.model.canFetchMore(QModelIndex())); // no room yet
    QSignalSpy requests(&f.model, &MessageListModel::fetchOlderRequested);
    f.model.fetchMore(QModelIndex());
    QCOMPARE(requests.count(), 0);

    f.model.setRoomId(kRoom);
    // The tester (like a view) may already have asked; however often asked, one request.
    for (int i = 0; i < 3; ++i) {
        if (f.model.canFetchMore(QModelIndex()))
            f.model.fetchMore(QModelIndex());
        f.model.fetchMore(QModelIndex());
    }
    QCOMPARE(requests.count(), 1);
    QCOMPARE(requests.at(0).at(0).toLongLong(), 0); // nothing loaded: the latest page
    QVERIFY(f.model.fetchingOlder());
    QVERIFY(!f.model.canFetchMore(QModelIndex()));

    f.model.prependPage(range(51, 100), true);
    QVERIFY(!f.model.fetchingOlder());
    QVERIFY(f.model.canFetchMore(QModelIndex()));
    for (int i = 0; i < 3; ++i)
        f.model.fetchMore(QModelIndex());
    QCOMPARE(requests.count(), 2);
    QCOMPARE(requests.at(1).at(0).toLongLong(), 51);

    f.model.fetchOlderFailed(); // the request failed: the next fetchMore asks again
    QVERIFY(f.model.canFetchMore(QModelIndex()));
    f.model.fetchMore(QModelIndex());
    f.model.fetchMore(QModelIndex());
    QCOMPARE(requests.count(), 3);
    QCOMPARE(requests.at(2).at(0).toLongLong(), 51);

    f.model.prependPage(range(1, 50), false);
    QVERIFY(!f.model.hasMoreHistory());
    QVERIFY(!f.model.canFetchMore(QModelIndex()));
    f.model.fetchMore(QModelIndex());
    QCOMPARE(requests.count(), 3);
    QCOMPARE(seqs(f.model), seqRange(1, 100));

    f.model.clear(); // a resync: history is unknown again, the latest page is asked for
    if (f.model.canFetchMore(QModelIndex()))
        f.model.fetchMore(QModelIndex());
    QCOMPARE(requests.count(), 4);
    QCOMPARE(requests.at(3).at(0).toLongLong(), 0);
    QVERIFY(f.model.fetchingOlder());
}

void TestMessageListModel::authorGrouping_data()
{
    QTest::addColumn<qint64>("previousAuthor");
    QTest::addColumn<qint64>("author");
    QTest::addColumn<int>("secondsLater");
    QTest::addColumn<bool>("grouped");
    QTest::newRow("same author, 1 min") << kAlice << kAlice << 60 << true;
    QTest::newRow("same author, same second") << kAlice << kAlice << 0 << true;
    QTest::newRow("same author, exactly 5 min") << kAlice << kAlice << 300 << true;
    QTest::newRow("same author, 5 min 1 s") << kAlice << kAlice << 301 << false;
    QTest::newRow("other author, 10 s") << kAlice << kBob << 10 << false;
}

void TestMessageListModel::authorGrouping()
{
    QFETCH(qint64, previousAuthor);
    QFETCH(qint64, author);
    QFETCH(int, secondsLater);
    QFETCH(bool, grouped);
    Fixture f;
    f.model.prependPage(
        {makeMessage(1, previousAuthor, baseTime()), makeMessage(2, author, baseTime().addSecs(secondsLater))}, false);
    QVERIFY(!flagAt(f.model, 0, Roles::PreviousAuthorSameRole));
    QCOMPARE(flagAt(f.model, 1, Roles::PreviousAuthorSameRole), grouped);
    QVERIFY(!flagAt(f.model, 1, Roles::DayChangedRole));
}

void TestMessageListModel::daySeparators()
{
    Fixture f;
    f.model.prependPage({makeMessage(1, kAlice, localTime(16, 23, 58)), makeMessage(2, kAlice, localTime(17, 0, 1)),
                         makeMessage(3, kAlice, localTime(17, 0, 2))},
                        false);
    QVERIFY(flagAt(f.model, 0, Roles::DayChangedRole));
    QVERIFY(flagAt(f.model, 1, Roles::DayChangedRole)); // past local midnight
    QVERIFY(!flagAt(f.model, 1, Roles::PreviousAuthorSameRole)); // 3 minutes, but a new day
    QVERIFY(!flagAt(f.model, 2, Roles::DayChangedRole));
    QVERIFY(flagAt(f.model, 2, Roles::PreviousAuthorSameRole));

    // A late message from the evening before, inserted between: seq 2 still starts the day.
    QSignalSpy changed(&f.model, &QAbstractItemModel::dataChanged);
    f.model.clear();
    f.model.prependPage({makeMessage(1, kAlice, localTime(16, 23, 50)), makeMessage(3, kAlice, localTime(16, 23, 52))},
                        false);
    QVERIFY(flagAt(f.model, 1, Roles::PreviousAuthorSameRole));
    f.model.appendLive(makeMessage(2, kAlice, localTime(17, 0, 1))); // clock skew: a day later
    QCOMPARE(seqs(f.model), seqRange(1, 3));
    QVERIFY(flagAt(f.model, 1, Roles::DayChangedRole));
    QVERIFY(flagAt(f.model, 2, Roles::DayChangedRole)); // back to the 16th after the 17th
    QVERIFY(!flagAt(f.model, 2, Roles::PreviousAuthorSameRole));
    QVERIFY(changedRow(changed, 2, Roles::DayChangedRole));
}

void TestMessageListModel::neighbourChangesAreSignalled()
{
    Fixture f;
    f.model.appendLive(makeMessage(1, kAlice, baseTime()));
    f.model.appendLive(makeMessage(3, kAlice, baseTime().addSecs(60)));
    QVERIFY(flagAt(f.model, 1, Roles::PreviousAuthorSameRole));

    QSignalSpy changed(&f.model, &QAbstractItemModel::dataChanged);
    f.model.appendLive(makeMessage(2, kBob, baseTime().addSecs(30))); // Bob in between
    QCOMPARE(seqs(f.model), seqRange(1, 3));
    QVERIFY(!flagAt(f.model, 2, Roles::PreviousAuthorSameRole));
    QVERIFY(changedRow(changed, 2, Roles::PreviousAuthorSameRole));

    // Removing a row signals its successor too: a local row between two of Alice's.
    Fixture g;
    g.model.prependPage({makeMessage(1, kAlice, QDateTime::currentDateTimeUtc())}, false);
    g.model.addPending(QStringLiteral("c1"), QStringLiteral("x"), kBob);
    g.model.addPending(QStringLiteral("c2"), QStringLiteral("y"), kAlice);
    QVERIFY(!flagAt(g.model, 2, Roles::PreviousAuthorSameRole));
    QSignalSpy gChanged(&g.model, &QAbstractItemModel::dataChanged);
    g.model.discardPending(QStringLiteral("c1"));
    QVERIFY(flagAt(g.model, 1, Roles::PreviousAuthorSameRole));
    QVERIFY(changedRow(gChanged, 1, Roles::PreviousAuthorSameRole));
}

void TestMessageListModel::firstUnread()
{
    Fixture f;
    f.model.prependPage({makeMessage(2), makeMessage(4), makeMessage(6), makeMessage(8)}, false);
    auto firstUnreadRows = [&] {
        QList<int> rows;
        for (int row = 0; row < f.model.count(); ++row) {
            if (flagAt(f.model, row, Roles::IsFirstUnreadRole))
                rows.append(row);
        }
        return rows;
    };
    QVERIFY(firstUnreadRows().isEmpty()); // no marker

    QCOMPARE(f.model.firstUnreadSeq(), -1);
    QSignalSpy changed(&f.model, &QAbstractItemModel::dataChanged);
    QSignalSpy firstChanged(&f.model, &MessageListModel::firstUnreadChanged);
    f.model.setReadSeq(4);
    QCOMPARE(firstUnreadRows(), (QList<int> {2})); // seq 6
    QVERIFY(changedRow(changed, 2, Roles::IsFirstUnreadRole));
    QCOMPARE(f.model.firstUnreadSeq(), 6);
    QCOMPARE(f.model.property("firstUnreadSeq").toLongLong(), 6);
    QCOMPARE(firstChanged.count(), 1);
    f.model.setReadSeq(5); // between messages (an edit had seq 5): still seq 6
    QCOMPARE(firstUnreadRows(), (QList<int> {2}));
    QCOMPARE(firstChanged.count(), 1); // unchanged: no signal
    changed.clear();
    f.model.setReadSeq(8);
    QVERIFY(firstUnreadRows().isEmpty());
    QCOMPARE(f.model.firstUnreadSeq(), -1);
    QCOMPARE(firstChanged.count(), 2);
    QVERIFY(changedRow(changed, 2, Roles::IsFirstUnreadRole)); // the old one is cleared
    f.model.setReadSeq(0);
    QCOMPARE(firstUnreadRows(), (QList<int> {0})); // the whole room is loaded
    f.model.setReadSeq(-1);
    QVERIFY(firstUnreadRows().isEmpty());

    // A new live message after everything read becomes the first unread.
    f.model.setReadSeq(8);
    changed.clear();
    f.model.appendLive(makeMessage(9, kBob));
    QCOMPARE(firstUnreadRows(), (QList<int> {4}));
    QVERIFY(changedRow(changed, 4, Roles::IsFirstUnreadRole));
    // A gap fill before it takes over.
    f.model.setReadSeq(6);
    QCOMPARE(firstUnreadRows(), (QList<int> {3})); // seq 8
    f.model.appendLive(makeMessage(7));
    QCOMPARE(firstUnreadRows(), (QList<int> {3})); // seq 7 at row 3 now
    QCOMPARE(roleAt(f.model, 3, Roles::SeqRole).toLongLong(), 7);
    // Local rows are never unread.
    f.model.setReadSeq(9);
    f.model.addPending(QStringLiteral("c"), QStringLiteral("mine"), kAlice);
    QVERIFY(firstUnreadRows().isEmpty());
}

void TestMessageListModel::firstUnreadNeedsLoadedHistory()
{
    Fixture f;
    f.model.prependPage(range(10, 12), true);
    f.model.setReadSeq(3); // the first unread (after 3) is not loaded yet
    for (int row = 0; row < f.model.count(); ++row)
        QVERIFY(!flagAt(f.model, row, Roles::IsFirstUnreadRole));
    QCOMPARE(f.model.firstUnreadSeq(), -1);
    QSignalSpy changed(&f.model, &QAbstractItemModel::dataChanged);
    f.model.prependPage(range(1, 9), false);
    QVERIFY(flagAt(f.model, f.model.rowForSeq(4), Roles::IsFirstUnreadRole));
    QVERIFY(changedRow(changed, f.model.rowForSeq(4), Roles::IsFirstUnreadRole));
    QCOMPARE(f.model.firstUnreadSeq(), 4);
    // Another room: no first unread until that room's rows arrive.
    QSignalSpy firstChanged(&f.model, &MessageListModel::firstUnreadChanged);
    f.model.setRoomId(f.model.roomId() + 1);
    QCOMPARE(f.model.firstUnreadSeq(), -1);
    QCOMPARE(firstChanged.count(), 1);
}

void TestMessageListModel::editAndDeleteTombstone()
{
    Fixture f;
    f.model.prependPage(range(1, 3), false);
    QSignalSpy changed(&f.model, &QAbstractItemModel::dataChanged);

    Message edit = makeMessage(2);
    edit.body = QStringLiteral("edited");
    edit.editedAt = baseTime().addSecs(3600);
    f.model.applyUpdate(edit, 4);
    QCOMPARE(roleAt(f.model, 1, Roles::BodyRole).toString(), QStringLiteral("edited"));
    QVERIFY(flagAt(f.model, 1, Roles::EditedRole));
    QCOMPARE(roleAt(f.model, 1, Roles::EditedAtRole).toDateTime(), baseTime().addSecs(3600));
    QVERIFY(changedRow(changed, 1, Roles::BodyRole));
    QCOMPARE(f.model.lastSeq(), 4);

    Message tombstone = edit;
    tombstone.deleted = true;
    tombstone.body.clear();
    tombstone.editedAt = baseTime().addSecs(7200);
    f.model.applyUpdate(tombstone, 5);
    QVERIFY(flagAt(f.model, 1, Roles::DeletedRole));
    QVERIFY(!flagAt(f.model, 1, Roles::EditedRole));
    QVERIFY(roleAt(f.model, 1, Roles::BodyRole).toString().isEmpty());
    QCOMPARE(roleAt(f.model, 1, Roles::SeqRole).toLongLong(), 2); // keeps its place
    QCOMPARE(f.model.count(), 3);

    changed.clear();
    f.model.applyUpdate(edit, 0); // a late, older copy (e.g. a slow REST reply): ignored
    QVERIFY(flagAt(f.model, 1, Roles::DeletedRole));
    QCOMPARE(changed.count(), 0);

    Message wrongId = makeMessage(3);
    wrongId.id = 999;
    wrongId.body = QStringLiteral("not me");
    wrongId.editedAt = baseTime().addSecs(9000);
    f.model.applyUpdate(wrongId, 6);
    QCOMPARE(roleAt(f.model, 2, Roles::BodyRole).toString(), QStringLiteral("message 3"));

    // An update of a message older than the loaded history only advances the seq.
    Fixture g;
    g.model.prependPage(range(10, 12), true);
    Message old = makeMessage(3);
    old.deleted = true;
    old.body.clear();
    g.model.applyUpdate(old, 13);
    QCOMPARE(seqs(g.model), seqRange(10, 12));
    QCOMPARE(g.model.lastSeq(), 13);
    // One whose creation was missed (inside the window) shows in its latest state.
    Message missed = makeMessage(11);
    g.model.clear();
    g.model.prependPage({makeMessage(10), makeMessage(12)}, true);
    missed.body = QStringLiteral("fixed typo");
    missed.editedAt = baseTime().addSecs(60);
    g.model.applyUpdate(missed, 14);
    QCOMPARE(seqs(g.model), seqRange(10, 12));
    QCOMPARE(roleAt(g.model, 1, Roles::BodyRole).toString(), QStringLiteral("fixed typo"));
}

void TestMessageListModel::otherRoomsAndClear()
{
    Fixture f;
    QSignalSpy roomSpy(&f.model, &MessageListModel::roomIdChanged);
    Message elsewhere = makeMessage(1);
    elsewhere.roomId = kRoom + 1;
    f.model.appendLive(elsewhere);
    f.model.prependPage({elsewhere}, true);
    QCOMPARE(f.model.count(), 0);
    QCOMPARE(f.model.lastSeq(), 0);

    f.model.prependPage(range(1, 5), false);
    f.model.addPending(QStringLiteral("c"), QStringLiteral("x"), kAlice);
    QSignalSpy countSpy(&f.model, &MessageListModel::countChanged);
    f.model.setRoomId(kRoom + 1);
    QCOMPARE(roomSpy.count(), 1);
    QCOMPARE(f.model.count(), 0);
    QVERIFY(countSpy.count() >= 1);
    QVERIFY(f.model.hasMoreHistory());
    QCOMPARE(f.model.lastSeq(), 0);
    QVERIFY(!f.model.hasGap());
    f.model.appendLive(elsewhere);
    QCOMPARE(f.model.count(), 1);
}

void TestMessageListModel::manyMessages()
{
    // Functional check at a larger size (100,000 rows in pages of 5,000, plus live traffic);
    // no timing assertions.
    Fixture f;
    constexpr int kPages = 20;
    constexpr int kPage = 5000;
    constexpr Seq kTop = kPages * kPage;
    for (int p = kPages - 1; p >= 0; --p) {
        QList<Message> page;
        page.reserve(kPage);
        for (Seq s = p * kPage + 1; s <= (p + 1) * kPage; ++s)
            page.append(makeMessage(s, s % 3 == 0 ? kBob : kAlice));
        f.model.prependPage(page, p > 0);
    }
    QCOMPARE(f.model.count(), kTop);
    QCOMPARE(f.model.rowForSeq(1), 0);
    QCOMPARE(f.model.rowForSeq(kTop), kTop - 1);
    QCOMPARE(f.model.rowForSeq(54321), 54320);
    f.model.addPending(QStringLiteral("c"), QStringLiteral("x"), kAlice);
    f.model.appendLive(makeMessage(kTop + 2));
    QVERIFY(f.model.hasGap()); // kTop + 1, our own message, is still on its way
    f.model.acknowledge(QStringLiteral("c"), makeMessage(kTop + 1, kAlice, {}, QStringLiteral("c")));
    f.model.appendLive(makeMessage(kTop + 1, kAlice, {}, QStringLiteral("c")));
    QCOMPARE(f.model.count(), kTop + 2);
    QCOMPARE(roleAt(f.model, kTop, Roles::SeqRole).toLongLong(), kTop + 1);
    QCOMPARE(roleAt(f.model, kTop + 1, Roles::SeqRole).toLongLong(), kTop + 2);
    QVERIFY(!f.model.hasGap());
}

QTEST_GUILESS_MAIN(TestMessageListModel)
#include "tst_message_list_model.moc"
