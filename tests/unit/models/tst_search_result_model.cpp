// SearchResultModel under QAbstractItemModelTester (Fatal): role names, tasks before messages,
// each row's roles (the other kind's roles empty), the query and the counts, clear().
#include "shared/domain/types.h"
#include "shared/models/search_result_model.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace taskmaster;
using Roles = SearchResultModel::Roles;

namespace {

Task makeTask(Id id)
{
    Task t;
    t.id = id;
    t.projectId = 3;
    t.title = QStringLiteral("task %1").arg(id);
    t.status = TaskStatus::InProgress;
    t.priority = TaskPriority::High;
    return t;
}

SearchResultModel::MessageHit makeHit(Id id)
{
    Message m;
    m.id = id;
    m.roomId = 12;
    m.authorId = 5;
    m.body = QStringLiteral("message %1").arg(id);
    m.createdAt = QDateTime(QDate(2026, 11, 2), QTime(9, 30), Qt::UTC);
    return {m, QStringLiteral("general")};
}

struct Fixture {
    SearchResultModel model;
    QAbstractItemModelTester tester {&model, QAbstractItemModelTester::FailureReportingMode::Fatal};
};

} // namespace

class TestSearchResultModel final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roleNames();
    void tasksThenMessages();
    void taskRow();
    void messageRow();
    void clearAndNotify();
};

void TestSearchResultModel::roleNames()
{
    const SearchResultModel model;
    const QHash<int, QByteArray> expected {
        {Roles::KindRole, "kind"},           {Roles::TaskIdRole, "taskId"}, {Roles::ProjectIdRole, "projectId"},
        {Roles::TitleRole, "title"},         {Roles::StatusRole, "status"}, {Roles::PriorityRole, "priority"},
        {Roles::MessageIdRole, "messageId"}, {Roles::RoomIdRole, "roomId"}, {Roles::RoomNameRole, "roomName"},
        {Roles::AuthorIdRole, "authorId"},   {Roles::BodyRole, "body"},     {Roles::CreatedAtRole, "createdAt"},
    };
    QCOMPARE(model.roleNames(), expected);
}

void TestSearchResultModel::tasksThenMessages()
{
    Fixture f;
    f.model.reset(QStringLiteral("board"), {makeTask(1), makeTask(2)}, {makeHit(10), makeHit(11), makeHit(12)});
    QCOMPARE(f.model.query(), QStringLiteral("board"));
    QCOMPARE(f.model.count(), 5);
    QCOMPARE(f.model.taskCount(), 2);
    QCOMPARE(f.model.messageCount(), 3);
    QStringList kinds;
    for (int row = 0; row < f.model.rowCount(); ++row)
        kinds << f.model.index(row).data(Roles::KindRole).toString();
    const QString task = QStringLiteral("task");
    const QString message = QStringLiteral("message");
    QCOMPARE(kinds, (QStringList {task, task, message, message, message}));
    QCOMPARE(f.model.index(1).data(Roles::TaskIdRole).toLongLong(), 2);
    QCOMPARE(f.model.index(2).data(Roles::MessageIdRole).toLongLong(), 10);
    QCOMPARE(f.model.index(4).data(Roles::MessageIdRole).toLongLong(), 12);
}

void TestSearchResultModel::taskRow()
{
    Fixture f;
    f.model.reset(QStringLiteral("x"), {makeTask(1)}, {});
    const QModelIndex idx = f.model.index(0);
    QCOMPARE(idx.data(Roles::TaskIdRole).toLongLong(), 1);
    QCOMPARE(idx.data(Roles::ProjectIdRole).toLongLong(), 3);
    QCOMPARE(idx.data(Roles::TitleRole).toString(), QStringLiteral("task 1"));
    QCOMPARE(idx.data(Qt::DisplayRole).toString(), QStringLiteral("task 1"));
    QCOMPARE(idx.data(Roles::StatusRole).toString(), QStringLiteral("in_progress"));
    QCOMPARE(idx.data(Roles::PriorityRole).toString(), QStringLiteral("high"));
    // The message roles are empty, not missing (QML delegates require every role).
    QCOMPARE(idx.data(Roles::RoomIdRole).toLongLong(), 0);
    QCOMPARE(idx.data(Roles::AuthorIdRole).toLongLong(), 0);
    QCOMPARE(idx.data(Roles::RoomNameRole).toString(), QString());
    QCOMPARE(idx.data(Roles::BodyRole).toString(), QString());
}

void TestSearchResultModel::messageRow()
{
    Fixture f;
    f.model.reset(QStringLiteral("x"), {}, {makeHit(10)});
    const QModelIndex idx = f.model.index(0);
    QCOMPARE(idx.data(Roles::KindRole).toString(), QStringLiteral("message"));
    QCOMPARE(idx.data(Roles::MessageIdRole).toLongLong(), 10);
    QCOMPARE(idx.data(Roles::RoomIdRole).toLongLong(), 12);
    QCOMPARE(idx.data(Roles::RoomNameRole).toString(), QStringLiteral("general"));
    QCOMPARE(idx.data(Roles::AuthorIdRole).toLongLong(), 5);
    QCOMPARE(idx.data(Roles::BodyRole).toString(), QStringLiteral("message 10"));
    QCOMPARE(idx.data(Qt::DisplayRole).toString(), QStringLiteral("message 10"));
    QCOMPARE(idx.data(Roles::CreatedAtRole).toDateTime(), QDateTime(QDate(2026, 11, 2), QTime(9, 30), Qt::UTC));
    QCOMPARE(idx.data(Roles::TaskIdRole).toLongLong(), 0);
    QCOMPARE(idx.data(Roles::ProjectIdRole).toLongLong(), 0);
    QCOMPARE(idx.data(Roles::TitleRole).toString(), QString());
    QCOMPARE(idx.data(Roles::StatusRole).toString(), QString());
}

void TestSearchResultModel::clearAndNotify()
{
    Fixture f;
    QSignalSpy changed(&f.model, &SearchResultModel::resultsChanged);
    QSignalSpy reset(&f.model, &QAbstractItemModel::modelReset);
    f.model.reset(QStringLiteral("board"), {makeTask(1)}, {makeHit(2)});
    QCOMPARE(changed.count(), 1);
    f.model.clear();
    QCOMPARE(changed.count(), 2);
    QCOMPARE(reset.count(), 2);
    QCOMPARE(f.model.count(), 0);
    QCOMPARE(f.model.query(), QString());
}

QTEST_APPLESS_MAIN(TestSearchResultModel)
#include "tst_search_result_model.moc"
