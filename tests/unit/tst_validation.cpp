// Field rules of docs/protocol.md as tables: each row a value and the error (or none) it must give.
#include "shared/domain/types.h"
#include "shared/domain/validation.h"

#include <QTest>

using namespace taskmaster;

class TestValidation final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void username_data();
    void username();
    void password_data();
    void password();
    void text_data();
    void text();
    void messageBody_data();
    void messageBody();
    void clientId_data();
    void clientId();
    void resources();
    void channel_data();
    void channel();
    void timestamps_data();
    void timestamps();
    void dates_data();
    void dates();
    void enums();
    void errorCodes();
};

void TestValidation::username_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<bool>("valid");
    QTest::newRow("simple") << QStringLiteral("alice") << true;
    QTest::newRow("min 3") << QStringLiteral("abc") << true;
    QTest::newRow("max 32") << QString(32, QLatin1Char('a')) << true;
    QTest::newRow("symbols") << QStringLiteral("a_b.c-d9") << true;
    QTest::newRow("folded upper") << QStringLiteral("ALICE") << true;
    QTest::newRow("too short") << QStringLiteral("ab") << false;
    QTest::newRow("too long") << QString(33, QLatin1Char('a')) << false;
    QTest::newRow("space") << QStringLiteral("al ice") << false;
    QTest::newRow("sql") << QStringLiteral("a';drop") << false;
    QTest::newRow("unicode") << QStringLiteral("al\u00e9ce") << false;
    QTest::newRow("empty") << QString() << false;
    QTest::newRow("newline") << QStringLiteral("alice\n") << false;
}

void TestValidation::username()
{
    QFETCH(QString, input);
    QFETCH(bool, valid);
    const MaybeError e = validateUsername(foldUsername(input));
    QCOMPARE(!e.has_value(), valid);
    if (e) {
        QCOMPARE(e->code, ErrorCode::ValidationFailed);
        QCOMPARE(e->field, QStringLiteral("username"));
    }
}

void TestValidation::password_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<bool>("valid");
    QTest::newRow("8") << QStringLiteral("12345678") << true;
    QTest::newRow("7") << QStringLiteral("1234567") << false;
    QTest::newRow("256") << QString(256, QLatin1Char('x')) << true;
    QTest::newRow("257") << QString(257, QLatin1Char('x')) << false;
    QTest::newRow("8 emoji (16 utf-16 units)") << QString::fromUtf8("\xF0\x9F\x98\x80").repeated(8) << true;
    QTest::newRow("lone surrogate") << (QStringLiteral("abcdefgh") + QChar(0xD800)) << false;
}

void TestValidation::password()
{
    QFETCH(QString, input);
    QFETCH(bool, valid);
    const MaybeError e = validatePassword(input);
    QCOMPARE(!e.has_value(), valid);
    if (e)
        QCOMPARE(e->field, QStringLiteral("password"));
}

// One table for the single- and multi-line text rules of every resource field.
void TestValidation::text_data()
{
    QTest::addColumn<QString>("rule");
    QTest::addColumn<QString>("input");
    QTest::addColumn<bool>("valid");
    const QString tab = QStringLiteral("a\tb");
    const QString nl = QStringLiteral("a\nb");
    QTest::newRow("displayName ok") << "displayName" << QStringLiteral("Alice A.") << true;
    QTest::newRow("displayName empty") << "displayName" << QString() << false;
    QTest::newRow("displayName blank") << "displayName" << QStringLiteral("   ") << false;
    QTest::newRow("displayName 64") << "displayName" << QString(64, QLatin1Char('d')) << true;
    QTest::newRow("displayName 65") << "displayName" << QString(65, QLatin1Char('d')) << false;
    QTest::newRow("displayName newline") << "displayName" << nl << false;
    QTest::newRow("displayName NUL") << "displayName" << QString(QChar(0)) << false;
    QTest::newRow("title 200") << "title" << QString(200, QLatin1Char('t')) << true;
    QTest::newRow("title 201") << "title" << QString(201, QLatin1Char('t')) << false;
    QTest::newRow("title sql verbatim") << "title" << QStringLiteral("'; DROP TABLE tasks; --") << true;
    QTest::newRow("title tab") << "title" << tab << false;
    QTest::newRow("description empty") << "description" << QString() << true;
    QTest::newRow("description newline") << "description" << nl << true;
    QTest::newRow("description tab") << "description" << tab << true;
    QTest::newRow("description 10000") << "description" << QString(10000, QLatin1Char('x')) << true;
    QTest::newRow("description 10001") << "description" << QString(10001, QLatin1Char('x')) << false;
    QTest::newRow("description bell") << "description" << QString(QChar(7)) << false;
    QTest::newRow("project name 100") << "name" << QString(100, QLatin1Char('p')) << true;
    QTest::newRow("project name 101") << "name" << QString(101, QLatin1Char('p')) << false;
    QTest::newRow("room name ok") << "room" << QStringLiteral("general") << true;
    QTest::newRow("room name empty") << "room" << QString() << false;
    QTest::newRow("search 1") << "q" << QStringLiteral("a") << true;
    QTest::newRow("search 201") << "q" << QString(201, QLatin1Char('q')) << false;
}

void TestValidation::text()
{
    QFETCH(QString, rule);
    QFETCH(QString, input);
    QFETCH(bool, valid);
    MaybeError e;
    if (rule == QLatin1String("displayName"))
        e = validateDisplayName(input);
    else if (rule == QLatin1String("title"))
        e = validateTaskTitle(input);
    else if (rule == QLatin1String("description"))
        e = validateDescription(input);
    else if (rule == QLatin1String("name"))
        e = validateProjectName(input);
    else if (rule == QLatin1String("room"))
        e = validateRoomName(input, QStringLiteral("name"));
    else
        e = validateSearchQuery(input);
    QCOMPARE(!e.has_value(), valid);
    if (e) {
        QCOMPARE(e->code, ErrorCode::ValidationFailed);
        QCOMPARE(e->field, rule == QLatin1String("room") ? QStringLiteral("name") : rule);
        QVERIFY(!e->message.isEmpty());
    }
}

void TestValidation::messageBody_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<int>("expected"); // -1 valid, else an ErrorCode
    QTest::newRow("hello") << QStringLiteral("hello") << -1;
    QTest::newRow("multi-line") << QStringLiteral("a\nb") << -1;
    QTest::newRow("empty") << QString() << int(ErrorCode::ValidationFailed);
    QTest::newRow("blank") << QStringLiteral(" \n ") << int(ErrorCode::ValidationFailed);
    QTest::newRow("8192") << QString(8192, QLatin1Char('m')) << -1;
    QTest::newRow("8193 is too large") << QString(8193, QLatin1Char('m')) << int(ErrorCode::PayloadTooLarge);
    QTest::newRow("8192 emoji") << QString::fromUtf8("\xF0\x9F\x98\x80").repeated(8192) << -1;
    QTest::newRow("8193 emoji") << QString::fromUtf8("\xF0\x9F\x98\x80").repeated(8193)
                                << int(ErrorCode::PayloadTooLarge);
    QTest::newRow("escape char") << QString(QChar(0x1b)) << int(ErrorCode::ValidationFailed);
    QTest::newRow("lone low surrogate") << QString(QChar(0xDC00)) << int(ErrorCode::ValidationFailed);
}

void TestValidation::messageBody()
{
    QFETCH(QString, input);
    QFETCH(int, expected);
    const MaybeError e = validateMessageBody(input);
    if (expected < 0) {
        QVERIFY2(!e, e ? qPrintable(e->message) : "");
    } else {
        QVERIFY(e);
        QCOMPARE(int(e->code), expected);
        QCOMPARE(e->field, QStringLiteral("body"));
    }
}

void TestValidation::clientId_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<bool>("valid");
    QTest::newRow("uuid") << QStringLiteral("3f2c9a7e-1b2d-4c5e-8f90-123456789abc") << true;
    QTest::newRow("64") << QString(64, QLatin1Char('c')) << true;
    QTest::newRow("65") << QString(65, QLatin1Char('c')) << false;
    QTest::newRow("empty") << QString() << false;
    QTest::newRow("space") << QStringLiteral("a b") << false;
    QTest::newRow("non-ascii") << QStringLiteral("\u00e9") << false;
}

void TestValidation::clientId()
{
    QFETCH(QString, input);
    QFETCH(bool, valid);
    QCOMPARE(!validateClientId(input).has_value(), valid);
}

void TestValidation::resources()
{
    Task t;
    t.title = QStringLiteral("Write tests");
    QVERIFY(!validate(t));
    t.assigneeId = 0;
    QCOMPARE(validate(t)->field, QStringLiteral("assigneeId"));
    t.assigneeId = 5;
    t.version = 0;
    QCOMPARE(validate(t)->field, QStringLiteral("version"));

    Room r;
    r.name = QStringLiteral("general");
    r.memberIds = {1, 2, 3};
    QVERIFY(!validate(r));
    r.memberIds.append(-4);
    QCOMPARE(validate(r)->field, QStringLiteral("memberIds"));

    Message m;
    m.body = QStringLiteral("hi");
    m.clientId = QStringLiteral("c1");
    QVERIFY(!validate(m));
    m.deleted = true;
    QCOMPARE(validate(m)->field, QStringLiteral("body")); // tombstones have an empty body
    m.body.clear();
    QVERIFY(!validate(m));

    User u {1, QStringLiteral("alice"), QStringLiteral("Alice"), Role::Admin, {}};
    QVERIFY(!validate(u));
    u.username = QStringLiteral("Alice"); // stored names are folded
    QCOMPARE(validate(u)->field, QStringLiteral("username"));

    Project p;
    p.name = QStringLiteral("Apollo");
    QVERIFY(!validate(p));
    p.name.clear();
    QCOMPARE(validate(p)->field, QStringLiteral("name"));
}

void TestValidation::channel_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<int>("kind");
    QTest::addColumn<qint64>("id");
    QTest::newRow("room") << QStringLiteral("room:12") << true << int(ChannelKind::Room) << qint64(12);
    QTest::newRow("project") << QStringLiteral("project:3") << true << int(ChannelKind::Project) << qint64(3);
    QTest::newRow("max id") << QStringLiteral("room:9223372036854775807") << true << int(ChannelKind::Room)
                            << std::numeric_limits<qint64>::max();
    QTest::newRow("overflow") << QStringLiteral("room:9223372036854775808") << false << 0 << qint64(0);
    QTest::newRow("zero") << QStringLiteral("room:0") << false << 0 << qint64(0);
    QTest::newRow("negative") << QStringLiteral("room:-1") << false << 0 << qint64(0);
    QTest::newRow("plus") << QStringLiteral("room:+1") << false << 0 << qint64(0);
    QTest::newRow("leading zero") << QStringLiteral("room:01") << false << 0 << qint64(0);
    QTest::newRow("unknown kind") << QStringLiteral("user:1") << false << 0 << qint64(0);
    QTest::newRow("no id") << QStringLiteral("room:") << false << 0 << qint64(0);
    QTest::newRow("no colon") << QStringLiteral("room12") << false << 0 << qint64(0);
    QTest::newRow("space") << QStringLiteral("room: 1") << false << 0 << qint64(0);
    QTest::newRow("upper") << QStringLiteral("ROOM:1") << false << 0 << qint64(0);
}

void TestValidation::channel()
{
    QFETCH(QString, input);
    QFETCH(bool, valid);
    QFETCH(int, kind);
    QFETCH(qint64, id);
    const auto c = Channel::parse(input);
    QCOMPARE(c.has_value(), valid);
    if (c) {
        QCOMPARE(int(c->kind), kind);
        QCOMPARE(c->id, id);
        QCOMPARE(c->toString(), input);
    }
}

void TestValidation::timestamps_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("normalised"); // empty: invalid
    QTest::newRow("canonical") << QStringLiteral("2026-11-23T12:00:00.000Z")
                               << QStringLiteral("2026-11-23T12:00:00.000Z");
    QTest::newRow("no fraction") << QStringLiteral("2026-11-23T12:00:00Z")
                                 << QStringLiteral("2026-11-23T12:00:00.000Z");
    QTest::newRow("micros") << QStringLiteral("2026-11-23T12:00:00.123456Z")
                            << QStringLiteral("2026-11-23T12:00:00.123Z");
    QTest::newRow("offset") << QStringLiteral("2026-11-23T14:30:00.000+02:30")
                            << QStringLiteral("2026-11-23T12:00:00.000Z");
    QTest::newRow("negative offset") << QStringLiteral("2026-11-23T23:00:00-01:00")
                                     << QStringLiteral("2026-11-24T00:00:00.000Z");
    QTest::newRow("no zone") << QStringLiteral("2026-11-23T12:00:00") << QString();
    QTest::newRow("bad month") << QStringLiteral("2026-13-23T12:00:00Z") << QString();
    QTest::newRow("feb 30") << QStringLiteral("2026-02-30T12:00:00Z") << QString();
    QTest::newRow("hour 24") << QStringLiteral("2026-11-23T24:00:00Z") << QString();
    QTest::newRow("garbage") << QStringLiteral("yesterday") << QString();
}

void TestValidation::timestamps()
{
    QFETCH(QString, input);
    QFETCH(QString, normalised);
    const auto t = parseTimestamp(input);
    QCOMPARE(t.has_value(), !normalised.isEmpty());
    if (t)
        QCOMPARE(formatTimestamp(*t), normalised);
}

void TestValidation::dates_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<bool>("valid");
    QTest::newRow("ok") << QStringLiteral("2026-12-31") << true;
    QTest::newRow("leap") << QStringLiteral("2028-02-29") << true;
    QTest::newRow("not leap") << QStringLiteral("2027-02-29") << false;
    QTest::newRow("short") << QStringLiteral("2026-1-1") << false;
    QTest::newRow("with time") << QStringLiteral("2026-12-31T00:00:00Z") << false;
}

void TestValidation::dates()
{
    QFETCH(QString, input);
    QFETCH(bool, valid);
    const auto d = parseDate(input);
    QCOMPARE(d.has_value(), valid);
    if (d)
        QCOMPARE(formatDate(*d), input);
}

void TestValidation::enums()
{
    for (auto s : {TaskStatus::Todo, TaskStatus::InProgress, TaskStatus::Review, TaskStatus::Done})
        QCOMPARE(taskStatusFromWire(toWire(s)), s);
    for (auto p : {TaskPriority::Low, TaskPriority::Medium, TaskPriority::High, TaskPriority::Urgent})
        QCOMPARE(taskPriorityFromWire(toWire(p)), p);
    QCOMPARE(toWire(TaskStatus::InProgress), QStringLiteral("in_progress"));
    QCOMPARE(toWire(EventType::MessageCreated), QStringLiteral("message"));
    QVERIFY(!taskStatusFromWire(QStringLiteral("In_Progress")));
    QVERIFY(!roleFromWire(QStringLiteral("root")));
    QCOMPARE(roomKindFromWire(QStringLiteral("direct")), RoomKind::Direct);
}

void TestValidation::errorCodes()
{
    QCOMPARE(httpStatus(ErrorCode::ValidationFailed), 422);
    QCOMPARE(httpStatus(ErrorCode::PayloadTooLarge), 413);
    QCOMPARE(httpStatus(ErrorCode::Internal), 500);
    QCOMPARE(errorCodeName(ErrorCode::PreconditionFailed), QStringLiteral("precondition_failed"));
    QCOMPARE(errorCodeFromName(QStringLiteral("rate_limited")), ErrorCode::RateLimited);
    QVERIFY(!errorCodeFromName(QStringLiteral("teapot")));
}

QTEST_APPLESS_MAIN(TestValidation)
#include "tst_validation.moc"
