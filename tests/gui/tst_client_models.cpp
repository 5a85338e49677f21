// Client-side model pieces the QML views rely on: ReversedListProxy over MessageListModel
// (row mapping, inserts at both ends, the move of an acknowledged send, fetchMore forwarding, all
// under QAbstractItemModelTester) and TaskListModel's priority filter.
#include "shared/models/message_list_model.h"
#include "shared/models/reversed_list_proxy.h"
#include "shared/models/task_list_model.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace taskmaster;

namespace {

Message message(Seq seq, Id author = 1, const QString &body = {})
{
    Message m;
    m.id = seq * 10;
    m.roomId = 7;
    m.seq = seq;
    m.authorId = author;
    m.body = body.isEmpty() ? QStringLiteral("m%1").arg(seq) : body;
    m.createdAt = QDateTime(QDate(2026, 11, 23), QTime(12, 0), Qt::UTC).addSecs(seq);
    return m;
}

QList<Message> messages(Seq from, Seq to)
{
    QList<Message> list;
    for (Seq s = from; s <= to; ++s)
        list.append(message(s));
    return list;
}

Task task(Id id, TaskPriority priority, TaskStatus status = TaskStatus::Todo)
{
    Task t;
    t.id = id;
    t.projectId = 3;
    t.title = QStringLiteral("t%1").arg(id);
    t.priority = priority;
    t.status = status;
    t.createdAt = QDateTime(QDate(2026, 11, 1), QTime(9, 0), Qt::UTC).addSecs(id);
    t.updatedAt = t.createdAt;
    return t;
}

// Seqs shown by the proxy, top row first.
QList<qint64> proxySeqs(const ReversedListProxy &proxy)
{
    QList<qint64> seqs;
    const int role = MessageListModel::SeqRole;
    for (int r = 0; r < proxy.rowCount(); ++r)
        seqs.append(proxy.index(r, 0).data(role).toLongLong());
    return seqs;
}

} // namespace

class TestClientModels final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void reversedMapping();
    void reversedEdits_data();
    void reversedEdits();
    void reversedAckMove();
    void reversedFetchMore();
    void priorityFilter_data();
    void priorityFilter();
};

void TestClientModels::reversedMapping()
{
    MessageListModel model;
    model.setRoomId(7);
    ReversedListProxy proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    model.prependPage(messages(1, 5), false);
    QCOMPARE(proxy.count(), 5);
    QCOMPARE(proxySeqs(proxy), (QList<qint64> {5, 4, 3, 2, 1}));
    QCOMPARE(proxy.roleNames(), model.roleNames());
    for (int r = 0; r < 5; ++r) {
        QCOMPARE(proxy.sourceRow(r), 4 - r);
        QCOMPARE(proxy.proxyRow(proxy.sourceRow(r)), r);
        QCOMPARE(proxy.mapFromSource(proxy.mapToSource(proxy.index(r, 0))), proxy.index(r, 0));
    }
    QCOMPARE(proxy.sourceRow(-1), -1);
}

void TestClientModels::reversedEdits_data()
{
    QTest::addColumn<QString>("operation");
    QTest::addColumn<QList<qint64>>("expected"); // proxy seqs after it, top first
    QTest::addColumn<int>("insertedFirst"); // proxy rows of the insert signal (-1: none)
    QTest::addColumn<int>("insertedLast");
    QTest::newRow("append live") << "append" << QList<qint64> {11, 10, 9, 8, 7, 6} << 0 << 0;
    QTest::newRow("prepend page") << "prepend" << QList<qint64> {10, 9, 8, 7, 6, 5, 4, 3} << 5 << 7;
    QTest::newRow("delete tombstone") << "delete" << QList<qint64> {10, 9, 8, 7, 6} << -1 << -1;
    QTest::newRow("clear") << "clear" << QList<qint64> {} << -1 << -1;
}

void TestClientModels::reversedEdits()
{
    QFETCH(QString, operation);
    QFETCH(QList<qint64>, expected);
    QFETCH(int, insertedFirst);
    QFETCH(int, insertedLast);
    MessageListModel model;
    model.setRoomId(7);
    model.prependPage(messages(6, 10), true);
    ReversedListProxy proxy;
    proxy.setSourceModel(&model);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&proxy, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&proxy, &QAbstractItemModel::dataChanged);

    if (operation == QLatin1String("append")) {
        model.appendLive(message(11));
    } else if (operation == QLatin1String("prepend")) {
        if (proxy.canFetchMore({})) // the tester may have asked already
            proxy.fetchMore({});
        QVERIFY(model.fetchingOlder());
        model.prependPage(messages(3, 5), true);
    } else if (operation == QLatin1String("delete")) {
        Message gone = message(8);
        gone.deleted = true;
        gone.body.clear();
        model.applyUpdate(gone, 12);
        QVERIFY(!changed.isEmpty());
        // The changed row is reported at its proxy position (seq 8 is proxy row 2).
        const auto args = changed.constFirst();
        QVERIFY(args.at(0).toModelIndex().row() <= 2 && args.at(1).toModelIndex().row() >= 2);
        QCOMPARE(proxy.index(2, 0).data(MessageListModel::DeletedRole).toBool(), true);
    } else {
        model.clear();
    }
    QCOMPARE(proxySeqs(proxy), expected);
    if (insertedFirst < 0) {
        QVERIFY(inserted.isEmpty());
    } else {
        QCOMPARE(inserted.size(), 1);
        QCOMPARE(inserted.constFirst().at(1).toInt(), insertedFirst);
        QCOMPARE(inserted.constFirst().at(2).toInt(), insertedLast);
    }
}

void TestClientModels::reversedAckMove()
{
    // A pending send sits below everything (proxy row 0); when its ack carries a seq lower than
    // messages that arrived meanwhile, the source moves it and the proxy follows.
    MessageListModel model;
    model.setRoomId(7);
    model.prependPage(messages(1, 3), false);
    ReversedListProxy proxy;
    proxy.setSourceModel(&model);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.addPending(QStringLiteral("c1"), QStringLiteral("mine"), 1);
    QCOMPARE(proxy.index(0, 0).data(MessageListModel::PendingRole).toBool(), true);
    model.appendLive(message(5, 2));
    QCOMPARE(proxy.index(0, 0).data(MessageListModel::PendingRole).toBool(), true); // local rows stay last
    Message acked = message(4, 1, QStringLiteral("mine"));
    acked.clientId = QStringLiteral("c1");
    model.acknowledge(QStringLiteral("c1"), acked);
    QCOMPARE(proxySeqs(proxy), (QList<qint64> {5, 4, 3, 2, 1}));
    QCOMPARE(proxy.index(1, 0).data(MessageListModel::BodyRole).toString(), QStringLiteral("mine"));
    QCOMPARE(proxy.index(1, 0).data(MessageListModel::PendingRole).toBool(), false);
}

void TestClientModels::reversedFetchMore()
{
    MessageListModel model;
    ReversedListProxy proxy;
    proxy.setSourceModel(&model);
    QVERIFY(!proxy.canFetchMore({})); // no room
    model.setRoomId(7);
    QSignalSpy asked(&model, &MessageListModel::fetchOlderRequested);
    QVERIFY(proxy.canFetchMore({}));
    proxy.fetchMore({});
    QCOMPARE(asked.size(), 1);
    QCOMPARE(asked.constFirst().at(0).toLongLong(), 0);
    QVERIFY(!proxy.canFetchMore({})); // one request at a time
    model.prependPage(messages(10, 12), true);
    proxy.fetchMore({});
    QCOMPARE(asked.size(), 2);
    QCOMPARE(asked.at(1).at(0).toLongLong(), 10);
    model.prependPage(messages(8, 9), false);
    QVERIFY(!proxy.canFetchMore({})); // the whole room is loaded
    proxy.setSourceModel(nullptr);
    QCOMPARE(proxy.rowCount(), 0);
    QVERIFY(!proxy.canFetchMore({}));
}

void TestClientModels::priorityFilter_data()
{
    QTest::addColumn<QString>("priority");
    QTest::addColumn<QString>("status");
    QTest::addColumn<QList<qint64>>("expected"); // ids, newest first
    QTest::newRow("any") << ""
                         << "" << QList<qint64> {5, 4, 3, 2, 1};
    QTest::newRow("urgent") << "urgent"
                            << "" << QList<qint64> {4, 1};
    QTest::newRow("low") << "low"
                         << "" << QList<qint64> {2};
    QTest::newRow("urgent and done") << "urgent"
                                     << "done" << QList<qint64> {4};
    QTest::newRow("unknown means any") << "nonsense"
                                       << "" << QList<qint64> {5, 4, 3, 2, 1};
}

void TestClientModels::priorityFilter()
{
    QFETCH(QString, priority);
    QFETCH(QString, status);
    QFETCH(QList<qint64>, expected);
    TaskListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.reset({task(1, TaskPriority::Urgent), task(2, TaskPriority::Low), task(3, TaskPriority::Medium),
                 task(4, TaskPriority::Urgent, TaskStatus::Done), task(5, TaskPriority::High)});
    QSignalSpy filterChanged(&model, &TaskListModel::filterChanged);
    model.setPriorityFilterWire(priority);
    model.setStatusFilterWire(status);
    QCOMPARE(filterChanged.isEmpty(), !taskPriorityFromWire(priority) && status.isEmpty());
    QList<qint64> ids;
    for (int r = 0; r < model.count(); ++r)
        ids.append(model.taskAt(r).id);
    QCOMPARE(ids, expected);
    QCOMPARE(model.priorityFilterWire(), taskPriorityFromWire(priority) ? priority : QString());
    // A live change into and out of the filter.
    if (priority == QLatin1String("low")) {
        Task t = task(3, TaskPriority::Low);
        t.version = 2;
        model.upsert(t);
        QCOMPARE(model.count(), 2);
        t.priority = TaskPriority::High;
        t.version = 3;
        model.upsert(t);
        QCOMPARE(model.count(), 1);
    }
}

QTEST_GUILESS_MAIN(TestClientModels)
#include "tst_client_models.moc"
