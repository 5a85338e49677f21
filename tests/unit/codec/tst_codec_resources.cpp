// Resources and durable events: round trips, the exact bytes of docs/protocol.md's field lists, and
// the rows a decoder must refuse (with the field it names).
#include "codec_fixtures.h"
#include "shared/codec/resource_json.h"

#include <QTest>

using namespace taskmaster;
using namespace taskmaster::fixtures;

class TestResourceJson final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTrips_data();
    void roundTrips();
    void exactBytes_data();
    void exactBytes();
    void nullableFields();
    void malformed_data();
    void malformed();
};

void TestResourceJson::roundTrips_data()
{
    QTest::addColumn<RoundTrip>("check");
    QTest::newRow("user") << jsonRoundTrip(alice());
    User member = alice();
    member.role = Role::Member;
    QTest::newRow("member user") << jsonRoundTrip(member);
    QTest::newRow("project") << jsonRoundTrip(project());
    QTest::newRow("task") << jsonRoundTrip(task());
    QTest::newRow("task with nulls") << jsonRoundTrip(bareTask());
    QTest::newRow("room") << jsonRoundTrip(room());
    Room direct = room();
    direct.kind = RoomKind::Direct;
    direct.memberIds.clear();
    direct.lastSeq = 0;
    direct.unread = 0;
    QTest::newRow("direct room, no members") << jsonRoundTrip(direct);
    Room marked = room();
    marked.readSeq = 340;
    QTest::newRow("room with readSeq") << jsonRoundTrip(marked);
    marked.readSeq = 0;
    QTest::newRow("room with readSeq 0") << jsonRoundTrip(marked);
    QTest::newRow("message") << jsonRoundTrip(message());
    QTest::newRow("tombstone") << jsonRoundTrip(tombstone());
    Message huge = message();
    huge.body = QString(limits::kMessageBodyMax, QChar(0x4e2d));
    QTest::newRow("message of 8192 CJK characters") << jsonRoundTrip(huge);
    QTest::newRow("event message") << jsonRoundTrip(messageEvent());
    QTest::newRow("event message_updated") << jsonRoundTrip(messageEvent(EventType::MessageUpdated, tombstone()));
    QTest::newRow("event task_created") << jsonRoundTrip(taskEvent(EventType::TaskCreated));
    QTest::newRow("event task_updated") << jsonRoundTrip(taskEvent(EventType::TaskUpdated, bareTask()));
    QTest::newRow("event task_deleted") << jsonRoundTrip(taskEvent(EventType::TaskDeleted));
    QTest::newRow("event member_joined room")
        << jsonRoundTrip(memberEvent(EventType::MemberJoined, Channel::room(12), 9));
    QTest::newRow("event member_left project")
        << jsonRoundTrip(memberEvent(EventType::MemberLeft, Channel::project(3), 9));
}

void TestResourceJson::roundTrips()
{
    QFETCH(RoundTrip, check);
    const QString problem = check.run();
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestResourceJson::exactBytes_data()
{
    QTest::addColumn<QByteArray>("actual");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("user") << toJson(alice())
                          << QByteArray(R"({"id":5,"username":"alice","displayName":"Alice )"
                                        "\xc3\x85"
                                        R"(berg","role":"admin","createdAt":"2026-11-23T12:00:00.000Z"})");
    QTest::newRow("project") << toJson(project())
                             << QByteArray(R"({"id":3,"name":"Launch","description":"Line one\nline \"two\"\ttabbed",)"
                                           R"("ownerId":5,"createdAt":"2026-11-01T08:30:00.001Z",)"
                                           R"("updatedAt":"2026-11-02T09:00:59.999Z","version":4})");
    QTest::newRow("task with nulls")
        << toJson(bareTask())
        << QByteArray(R"({"id":78,"projectId":3,"title":"t","description":"","status":"todo","priority":"medium",)"
                      R"("assigneeId":null,"dueDate":null,"createdBy":5,"createdAt":"2026-11-20T10:00:00.000Z",)"
                      R"("updatedAt":"2026-11-20T10:00:00.000Z","version":1,"attachments":[]})");
    Task t = task();
    t.title = QStringLiteral("x");
    t.description.clear();
    QTest::newRow("task") << toJson(t)
                          << QByteArray(
                                 R"({"id":77,"projectId":3,"title":"x","description":"","status":"in_progress",)"
                                 R"("priority":"urgent","assigneeId":5,"dueDate":"2026-12-31","createdBy":6,)"
                                 R"("createdAt":"2026-11-20T10:00:00.005Z","updatedAt":"2026-11-21T10:00:00.050Z",)"
                                 R"("version":2,"attachments":[]})");
    QTest::newRow("room") << toJson(room())
                          << QByteArray(
                                 R"({"id":12,"name":"general","kind":"group","createdAt":"2026-11-01T00:00:00.000Z",)"
                                 R"("lastSeq":345,"unread":3,"memberIds":[5,6,9007199254740993]})");
    Room marked = room();
    marked.readSeq = 342;
    QTest::newRow("room with readSeq")
        << toJson(marked)
        << QByteArray(R"({"id":12,"name":"general","kind":"group","createdAt":"2026-11-01T00:00:00.000Z",)"
                      R"("lastSeq":345,"unread":3,"readSeq":342,"memberIds":[5,6,9007199254740993]})");
    Message m = message();
    m.body = QStringLiteral("hi");
    m.clientId.reset();
    m.editedAt.reset();
    QTest::newRow("message") << toJson(m)
                             << QByteArray(R"({"id":1001,"roomId":12,"seq":345,"authorId":5,"body":"hi",)"
                                           R"("clientId":null,"createdAt":"2026-11-23T12:00:00.000Z",)"
                                           R"("editedAt":null,"deleted":false,"attachments":[]})");
    Message withFile = m;
    Attachment file;
    file.id = 9;
    file.name = QStringLiteral("a.png");
    file.size = 3;
    file.contentType = QStringLiteral("image/png");
    file.sha256 = QStringLiteral("ab");
    file.createdAt = QDateTime::fromMSecsSinceEpoch(0, Qt::UTC);
    file.uploaderId = 5;
    withFile.attachments = {file};
    QTest::newRow("message with an attachment")
        << toJson(withFile)
        << QByteArray(
               R"({"id":1001,"roomId":12,"seq":345,"authorId":5,"body":"hi",)"
               R"("clientId":null,"createdAt":"2026-11-23T12:00:00.000Z",)"
               R"("editedAt":null,"deleted":false,"attachments":[{"id":9,"name":"a.png","size":3,)"
               R"("contentType":"image/png","sha256":"ab","createdAt":"1970-01-01T00:00:00.000Z",)"
               R"("uploaderId":5,"url":"/api/v1/attachments/9","thumbnailUrl":"/api/v1/attachments/9/thumbnail"}]})");
    QTest::newRow("member event") << toJson(memberEvent(EventType::MemberJoined, Channel::room(12), 9))
                                  << QByteArray(R"({"type":"member_joined","channel":"room:12","seq":18,"userId":9})");
    QTest::newRow("message event") << toJson(messageEvent(EventType::MessageCreated, m))
                                   << QByteArray(R"({"type":"message","channel":"room:12","seq":345,"message":)"
                                                 + toJson(m) + '}');
}

void TestResourceJson::exactBytes()
{
    QFETCH(QByteArray, actual);
    QFETCH(QByteArray, expected);
    QCOMPARE(actual, expected);
}

void TestResourceJson::nullableFields()
{
    // A server may leave a nullable field out instead of writing null: both read as "none".
    const auto decoded = fromJson<Message>(
        R"({"id":1,"roomId":2,"seq":3,"authorId":4,"body":"b","createdAt":"2026-11-23T12:00:00Z","deleted":false})");
    QVERIFY(decoded.ok());
    QVERIFY(!decoded->clientId);
    QVERIFY(!decoded->editedAt);
    // A timestamp with an offset is normalised to UTC.
    const auto offset = fromJson<User>(
        R"({"id":1,"username":"bob","displayName":"Bob","role":"member","createdAt":"2026-11-23T13:00:00.5+01:00"})");
    QVERIFY(offset.ok());
    QCOMPARE(offset->createdAt, at(23, 12, 0, 0, 500));
    QCOMPARE(formatTimestamp(offset->createdAt), QStringLiteral("2026-11-23T12:00:00.500Z"));
    // Room readSeq: servers before it was added leave it out; it reads as unknown.
    const auto oldServer
        = fromJson<Room>(R"({"id":12,"name":"general","kind":"group","createdAt":"2026-11-01T00:00:00.000Z",)"
                         R"("lastSeq":345,"unread":3,"memberIds":[5]})");
    QVERIFY(oldServer.ok());
    QVERIFY(!oldServer->readSeq);
    const auto newServer
        = fromJson<Room>(R"({"id":12,"name":"general","kind":"group","createdAt":"2026-11-01T00:00:00.000Z",)"
                         R"("lastSeq":345,"unread":3,"readSeq":342,"memberIds":[5]})");
    QVERIFY(newServer.ok());
    QCOMPARE(newServer->readSeq.value_or(-1), qint64(342));
}

void TestResourceJson::malformed_data()
{
    QTest::addColumn<DecodeCheck>("decode");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");

    const QByteArray user = toJson(alice());
    const QByteArray msg = toJson(message());
    const QByteArray tsk = toJson(task());
    const QByteArray rm = toJson(room());
    const auto edit = replaced;

    QTest::newRow("user: array at top") << decoderOf<User>() << QByteArray("[]") << bad() << QString();
    QTest::newRow("user: id 0") << decoderOf<User>() << edit(user, "\"id\":5", "\"id\":0") << invalid()
                                << QStringLiteral("id");
    QTest::newRow("user: id as string") << decoderOf<User>() << edit(user, "\"id\":5", "\"id\":\"5\"") << invalid()
                                        << QStringLiteral("id");
    QTest::newRow("user: role Admin") << decoderOf<User>() << edit(user, "\"admin\"", "\"Admin\"") << invalid()
                                      << QStringLiteral("role");
    QTest::newRow("user: no createdAt") << decoderOf<User>()
                                        << edit(user, ",\"createdAt\":\"2026-11-23T12:00:00.000Z\"", "") << invalid()
                                        << QStringLiteral("createdAt");
    QTest::newRow("message: seq -1") << decoderOf<Message>() << edit(msg, "\"seq\":345", "\"seq\":-1") << invalid()
                                     << QStringLiteral("seq");
    QTest::newRow("message: deleted 0") << decoderOf<Message>() << edit(msg, "\"deleted\":false", "\"deleted\":0")
                                        << invalid() << QStringLiteral("deleted");
    QTest::newRow("message: editedAt bad")
        << decoderOf<Message>() << edit(msg, "\"editedAt\":\"2026", "\"editedAt\":\"20X6") << invalid()
        << QStringLiteral("editedAt");
    QTest::newRow("message: clientId number")
        << decoderOf<Message>() << edit(msg, "\"clientId\":\"c-42\"", "\"clientId\":42") << invalid()
        << QStringLiteral("clientId");
    QTest::newRow("task: status Done") << decoderOf<Task>() << edit(tsk, "\"in_progress\"", "\"Done\"") << invalid()
                                       << QStringLiteral("status");
    QTest::newRow("task: dueDate 2026-02-30")
        << decoderOf<Task>() << edit(tsk, "2026-12-31", "2026-02-30") << invalid() << QStringLiteral("dueDate");
    QTest::newRow("task: version 0") << decoderOf<Task>() << edit(tsk, "\"version\":2", "\"version\":0") << invalid()
                                     << QStringLiteral("version");
    QTest::newRow("room: kind channel") << decoderOf<Room>() << edit(rm, "\"group\"", "\"channel\"") << invalid()
                                        << QStringLiteral("kind");
    QTest::newRow("room: memberIds null")
        << decoderOf<Room>() << edit(rm, "[5,6,9007199254740993]", "null") << invalid() << QStringLiteral("memberIds");
    QTest::newRow("room: unread 1.5") << decoderOf<Room>() << edit(rm, "\"unread\":3", "\"unread\":1.5") << invalid()
                                      << QStringLiteral("unread");
    const auto withReadSeq = [&](const char *value) {
        const QByteArray to = QByteArray("\"unread\":3,\"readSeq\":") + value + ',';
        return edit(rm, "\"unread\":3,", to.constData());
    };
    QTest::newRow("room: readSeq -1") << decoderOf<Room>() << withReadSeq("-1") << invalid()
                                      << QStringLiteral("readSeq");
    QTest::newRow("room: readSeq 1.5") << decoderOf<Room>() << withReadSeq("1.5") << invalid()
                                       << QStringLiteral("readSeq");
    QTest::newRow("room: readSeq as string")
        << decoderOf<Room>() << withReadSeq("\"3\"") << invalid() << QStringLiteral("readSeq");
    QTest::newRow("room: readSeq null") << decoderOf<Room>() << withReadSeq("null") << invalid()
                                        << QStringLiteral("readSeq");

    const QByteArray event = toJson(messageEvent());
    QTest::newRow("event: unknown type") << decoderOf<ChannelEvent>()
                                         << edit(event, "\"message\",", "\"message_deleted\",") << invalid()
                                         << QStringLiteral("type");
    QTest::newRow("event: channel room:abc")
        << decoderOf<ChannelEvent>() << edit(event, "room:12", "room:abc") << invalid() << QStringLiteral("channel");
    QTest::newRow("event: channel of another room")
        << decoderOf<ChannelEvent>() << edit(event, "room:12", "room:13") << invalid() << QStringLiteral("channel");
    QTest::newRow("event: message in a project channel")
        << decoderOf<ChannelEvent>() << edit(event, "room:12", "project:12") << invalid() << QStringLiteral("channel");
    QTest::newRow("event: payload missing")
        << decoderOf<ChannelEvent>() << QByteArray(R"({"type":"message","channel":"room:12","seq":1})") << invalid()
        << QStringLiteral("message");
    QTest::newRow("event: payload null") << decoderOf<ChannelEvent>()
                                         << QByteArray(
                                                R"({"type":"task_created","channel":"project:3","seq":1,"task":null})")
                                         << invalid() << QStringLiteral("task");
    QTest::newRow("event: nested field") << decoderOf<ChannelEvent>()
                                         << edit(event, "\"authorId\":5", "\"authorId\":\"5\"") << invalid()
                                         << QStringLiteral("message.authorId");
    QTest::newRow("event: member userId 0")
        << decoderOf<ChannelEvent>() << QByteArray(R"({"type":"member_left","channel":"room:12","seq":1,"userId":0})")
        << invalid() << QStringLiteral("userId");
    QTest::newRow("event: task for another project")
        << decoderOf<ChannelEvent>() << edit(toJson(taskEvent(EventType::TaskDeleted)), "project:3", "project:4")
        << invalid() << QStringLiteral("channel");
}

void TestResourceJson::malformed()
{
    QFETCH(DecodeCheck, decode);
    QFETCH(QByteArray, input);
    QFETCH(QString, code);
    QFETCH(QString, field);
    expectError(decode(input), code, field);
}

QTEST_APPLESS_MAIN(TestResourceJson)
#include "tst_codec_resources.moc"
