// UserListModel under QAbstractItemModelTester (Fatal): role names and values, reset, count
// notification.
#include "shared/domain/types.h"
#include "shared/models/user_list_model.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace taskmaster;
using Roles = UserListModel::Roles;

namespace {

User makeUser(Id id)
{
    User u;
    u.id = id;
    u.username = QStringLiteral("user%1").arg(id);
    u.displayName = QStringLiteral("User %1").arg(id);
    return u;
}

struct Fixture {
    UserListModel model;
    QAbstractItemModelTester tester {&model, QAbstractItemModelTester::FailureReportingMode::Fatal};
};

} // namespace

class TestUserListModel final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roleNames();
    void roles();
    void resetAndCount();
};

void TestUserListModel::roleNames()
{
    const UserListModel model;
    const QHash<int, QByteArray> expected {
        {Roles::UserIdRole, "userId"},
        {Roles::UsernameRole, "username"},
        {Roles::DisplayNameRole, "displayName"},
    };
    QCOMPARE(model.roleNames(), expected);
}

void TestUserListModel::roles()
{
    Fixture f;
    f.model.reset({makeUser(4), makeUser(2)});
    QCOMPARE(f.model.rowCount(), 2);
    const QModelIndex idx = f.model.index(1);
    QCOMPARE(idx.data(Roles::UserIdRole).toLongLong(), 2);
    QCOMPARE(idx.data(Roles::UsernameRole).toString(), QStringLiteral("user2"));
    QCOMPARE(idx.data(Roles::DisplayNameRole).toString(), QStringLiteral("User 2"));
    QCOMPARE(idx.data(Qt::DisplayRole).toString(), QStringLiteral("User 2"));
    QCOMPARE(f.model.userAt(0), makeUser(4));
    QVERIFY(!idx.data(Qt::UserRole + 100).isValid());
}

void TestUserListModel::resetAndCount()
{
    Fixture f;
    QSignalSpy count(&f.model, &UserListModel::countChanged);
    QSignalSpy reset(&f.model, &QAbstractItemModel::modelReset);
    f.model.reset({makeUser(1), makeUser(2), makeUser(3)});
    QCOMPARE(f.model.count(), 3);
    f.model.reset({makeUser(9)});
    QCOMPARE(f.model.count(), 1);
    QCOMPARE(f.model.index(0).data(Roles::UserIdRole).toLongLong(), 9);
    f.model.reset({});
    QCOMPARE(f.model.count(), 0);
    QCOMPARE(count.count(), 3);
    QCOMPARE(reset.count(), 3);
}

QTEST_APPLESS_MAIN(TestUserListModel)
#include "tst_user_list_model.moc"
