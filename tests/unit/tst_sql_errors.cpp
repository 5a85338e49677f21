// sql::toError: driver errors map to the right typed error (what the client sees: 409, 503, 500).
#include "server/storage/sql.h"

#include <QTest>

using namespace taskmaster;
using namespace taskmaster::server;

class TestSqlErrors final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void mapping_data();
    void mapping();
    void rowChunks_data();
    void rowChunks();
};

void TestSqlErrors::mapping_data()
{
    QTest::addColumn<QString>("code");
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("expected");
    const int stmt = QSqlError::StatementError;
    const int conn = QSqlError::ConnectionError;
    QTest::newRow("pg unique") << QStringLiteral("23505") << stmt << int(ErrorCode::Conflict);
    QTest::newRow("sqlite unique") << QStringLiteral("2067") << conn << int(ErrorCode::Conflict);
    QTest::newRow("sqlite primary key") << QStringLiteral("1555") << conn << int(ErrorCode::Conflict);
    QTest::newRow("pg not null") << QStringLiteral("23502") << stmt << int(ErrorCode::Internal);
    QTest::newRow("sqlite not null, labelled connection") << QStringLiteral("1299") << conn << int(ErrorCode::Internal);
    QTest::newRow("sqlite foreign key") << QStringLiteral("787") << conn << int(ErrorCode::Internal);
    QTest::newRow("pg connection failure") << QStringLiteral("08006") << conn << int(ErrorCode::Unavailable);
    QTest::newRow("pg admin shutdown") << QStringLiteral("57P01") << stmt << int(ErrorCode::Unavailable);
    QTest::newRow("pg statement timeout") << QStringLiteral("57014") << stmt << int(ErrorCode::Unavailable);
    QTest::newRow("sqlite busy") << QStringLiteral("5") << conn << int(ErrorCode::Unavailable);
    QTest::newRow("lost, no code") << QString() << conn << int(ErrorCode::Unavailable);
    QTest::newRow("pg syntax") << QStringLiteral("42601") << stmt << int(ErrorCode::Internal);
}

void TestSqlErrors::mapping()
{
    QFETCH(QString, code);
    QFETCH(int, type);
    QFETCH(int, expected);
    const Error e = sql::toError(
        QSqlError(QStringLiteral("driver"), QStringLiteral("db"), QSqlError::ErrorType(type), code), "test");
    QCOMPARE(int(e.code), expected);
    QVERIFY(!e.message.contains(QLatin1String("driver"))); // no internals reach the client
}

void TestSqlErrors::rowChunks_data()
{
    QTest::addColumn<int>("n");
    QTest::addColumn<QList<int>>("chunks");
    QTest::newRow("0") << 0 << QList<int> {};
    QTest::newRow("1") << 1 << QList<int> {1};
    QTest::newRow("5") << 5 << QList<int> {4, 1};
    QTest::newRow("1000") << 1000 << QList<int> {256, 256, 256, 64, 64, 64, 16, 16, 4, 4};
    QTest::newRow("257") << 257 << QList<int> {256, 1};
}

void TestSqlErrors::rowChunks()
{
    QFETCH(int, n);
    QFETCH(QList<int>, chunks);
    QCOMPARE(sql::rowChunks(n), chunks);
}

QTEST_APPLESS_MAIN(TestSqlErrors)
#include "tst_sql_errors.moc"
