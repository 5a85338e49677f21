// ProjectListModel under QAbstractItemModelTester (Fatal): role names and values, reset, upsert
// (in place for a known id, appended otherwise), lookups by id, count notification.
#include "shared/domain/types.h"
#include "shared/models/project_list_model.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace taskmaster;
using Roles = ProjectListModel::Roles;

namespace {

Project makeProject(Id id, const QString &description = {})
{
    Project p;
    p.id = id;
    p.name = QStringLiteral("project %1").arg(id);
    p.description = description;
    return p;
}

QList<qint64> ids(const ProjectListModel &model)
{
    QList<qint64> out;
    for (int row = 0; row < model.rowCount(); ++row)
        out.append(model.data(model.index(row), Roles::ProjectIdRole).toLongLong());
    return out;
}

struct Fixture {
    ProjectListModel model;
    QAbstractItemModelTester tester {&model, QAbstractItemModelTester::FailureReportingMode::Fatal};
};

} // namespace

class TestProjectListModel final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roleNames();
    void roles();
    void resetKeepsServerOrder();
    void upsert();
    void countNotifies();
};

void TestProjectListModel::roleNames()
{
    const ProjectListModel model;
    const QHash<int, QByteArray> expected {
        {Roles::ProjectIdRole, "projectId"},
        {Roles::NameRole, "name"},
        {Roles::DescriptionRole, "description"},
    };
    QCOMPARE(model.roleNames(), expected);
}

void TestProjectListModel::roles()
{
    Fixture f;
    f.model.reset({makeProject(7, QStringLiteral("the launch"))});
    const QModelIndex idx = f.model.index(0);
    QCOMPARE(idx.data(Roles::ProjectIdRole).toLongLong(), 7);
    QCOMPARE(idx.data(Roles::NameRole).toString(), QStringLiteral("project 7"));
    QCOMPARE(idx.data(Qt::DisplayRole).toString(), QStringLiteral("project 7"));
    QCOMPARE(idx.data(Roles::DescriptionRole).toString(), QStringLiteral("the launch"));
    QVERIFY(!idx.data(Qt::UserRole + 100).isValid());
    QVERIFY(!f.model.index(1).isValid());
}

void TestProjectListModel::resetKeepsServerOrder()
{
    Fixture f;
    f.model.reset({makeProject(3), makeProject(1), makeProject(2)});
    QCOMPARE(ids(f.model), (QList<qint64> {3, 1, 2}));
    QCOMPARE(f.model.rowForId(1), 1);
    QCOMPARE(f.model.rowForId(9), -1);
    QCOMPARE(f.model.project(2)->name, QStringLiteral("project 2"));
    QVERIFY(!f.model.project(9));
    f.model.reset({});
    QCOMPARE(f.model.count(), 0);
}

void TestProjectListModel::upsert()
{
    Fixture f;
    f.model.reset({makeProject(1), makeProject(2)});
    QSignalSpy inserted(&f.model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&f.model, &QAbstractItemModel::dataChanged);
    Project renamed = makeProject(1);
    renamed.name = QStringLiteral("renamed");
    f.model.upsert(renamed);
    QCOMPARE(ids(f.model), (QList<qint64> {1, 2}));
    QCOMPARE(f.model.index(0).data(Roles::NameRole).toString(), QStringLiteral("renamed"));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(inserted.count(), 0);
    f.model.upsert(makeProject(5));
    QCOMPARE(ids(f.model), (QList<qint64> {1, 2, 5})); // a new one at the end
    QCOMPARE(inserted.count(), 1);
}

void TestProjectListModel::countNotifies()
{
    Fixture f;
    QSignalSpy count(&f.model, &ProjectListModel::countChanged);
    f.model.reset({makeProject(1)});
    QCOMPARE(count.count(), 1);
    f.model.upsert(makeProject(2));
    QCOMPARE(count.count(), 2);
    f.model.upsert(makeProject(2));
    QCOMPARE(count.count(), 2); // an update, not a new row
    QCOMPARE(f.model.count(), 2);
}

QTEST_APPLESS_MAIN(TestProjectListModel)
#include "tst_project_list_model.moc"
