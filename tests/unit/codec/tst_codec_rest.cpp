// REST bodies: round trips of every request and response, the rows a server must refuse (code and
// field as docs/protocol.md's error table says), PATCH tri-state fields, the exact error body of
// docs/protocol.md, query parameters and the page cursor.
#include "codec_fixtures.h"
#include "shared/codec/rest_json.h"

#include <QTest>

using namespace taskmaster;
using namespace taskmaster::fixtures;

Q_DECLARE_METATYPE(taskmaster::TaskListQuery)
Q_DECLARE_METATYPE(taskmaster::HistoryQuery)

namespace {
CreateTaskRequest titled(const QString &title)
{
    CreateTaskRequest r;
    r.title = title;
    return r;
}
} // namespace

class TestRestJson final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTrips_data();
    void roundTrips();
    void malformed_data();
    void malformed();
    void accepted();
    void patchTriState();
    void exactBytes_data();
    void exactBytes();
    void taskListQuery_data();
    void taskListQuery();
    void historyQuery_data();
    void historyQuery();
    void searchQuery();
    void queryRoundTrip();
    void cursor();
    void badCursor_data();
    void badCursor();
};

void TestRestJson::roundTrips_data()
{
    QTest::addColumn<RoundTrip>("check");
    QTest::newRow("register") << jsonRoundTrip(
        RegisterRequest {QStringLiteral("alice"), QStringLiteral("correct horse \u00e9"), QStringLiteral("Alice")});
    QTest::newRow("login") << jsonRoundTrip(LoginRequest {QStringLiteral("alice"), QStringLiteral("pw")});
    QTest::newRow("create project") << jsonRoundTrip(CreateProjectRequest {QStringLiteral("P"), QStringLiteral("d\n")});
    QTest::newRow("patch project name") << jsonRoundTrip(PatchProjectRequest {QStringLiteral("N"), std::nullopt});
    QTest::newRow("patch project description to empty") << jsonRoundTrip(PatchProjectRequest {std::nullopt, QString()});
    QTest::newRow("add member") << jsonRoundTrip(AddMemberRequest {42});
    QTest::newRow("create task, defaults") << jsonRoundTrip(titled(QStringLiteral("T")));
    QTest::newRow("create task, full") << jsonRoundTrip(CreateTaskRequest {
        QStringLiteral("T"), QStringLiteral("d"), TaskStatus::Review, TaskPriority::Low, 7, QDate(2028, 2, 29)});
    PatchTaskRequest everything {
        QStringLiteral("t"), QStringLiteral("d"),         TaskStatus::Done,
        TaskPriority::High,  Patch<Id>(std::in_place, 3), Patch<QDate>(std::in_place, QDate(2026, 1, 2))};
    QTest::newRow("patch task, every field") << jsonRoundTrip(everything);
    PatchTaskRequest clear;
    clear.assigneeId.emplace();
    clear.dueDate.emplace();
    QTest::newRow("patch task, clear assignee and date") << jsonRoundTrip(clear);
    PatchTaskRequest status;
    status.status = TaskStatus::InProgress;
    QTest::newRow("patch task, status only") << jsonRoundTrip(status);
    QTest::newRow("create room") << jsonRoundTrip(CreateRoomRequest {QStringLiteral("r"), {1, 2, 3}});
    QTest::newRow("create room, no members") << jsonRoundTrip(CreateRoomRequest {QStringLiteral("r"), {}});
    QTest::newRow("send message") << jsonRoundTrip(SendMessageRequest {message().body, QStringLiteral("c-1")});
    QTest::newRow("send message, no clientId") << jsonRoundTrip(SendMessageRequest {QStringLiteral("x"), std::nullopt});
    QTest::newRow("edit message") << jsonRoundTrip(EditMessageRequest {QStringLiteral("edited")});
    QTest::newRow("read marker") << jsonRoundTrip(ReadMarkerRequest {345});
    QTest::newRow("read marker 0") << jsonRoundTrip(ReadMarkerRequest {0});
    QTest::newRow("auth response") << jsonRoundTrip(AuthResponse {alice(), QStringLiteral("tok_abc-123")});
    QTest::newRow("error body with field") << jsonRoundTrip(
        ErrorBody {Error::validation(QStringLiteral("title"), QStringLiteral("title must be 1..200 characters"))});
    QTest::newRow("error body without field")
        << jsonRoundTrip(ErrorBody {Error {ErrorCode::RateLimited, QStringLiteral("slow down"), QString()}});
    QTest::newRow("error body internal") << jsonRoundTrip(
        ErrorBody {Error {ErrorCode::Internal, QStringLiteral("internal error"), QString()}});
    QTest::newRow("page of projects, last") << jsonRoundTrip(Page<Project> {{project(), project()}, std::nullopt});
    QTest::newRow("page of tasks, more") << jsonRoundTrip(
        Page<Task> {{task(), bareTask()}, encodeCursor({at(20, 10, 0, 0, 0), 78})});
    QTest::newRow("page of users, empty") << jsonRoundTrip(Page<User> {});
    QTest::newRow("page of rooms") << jsonRoundTrip(Page<Room> {{room()}, QStringLiteral("x")});
    QTest::newRow("history page") << jsonRoundTrip(HistoryPage {{message(), tombstone()}, true});
    QTest::newRow("history page, empty") << jsonRoundTrip(HistoryPage {{}, false});
    QTest::newRow("search result") << jsonRoundTrip(SearchResult {{message()}, {task(), bareTask()}});
    QTest::newRow("health ok") << jsonRoundTrip(HealthBody {QStringLiteral("ok"), {}});
    QTest::newRow("health with checks") << jsonRoundTrip(HealthBody {
        QStringLiteral("degraded"),
        {{QStringLiteral("database"), QStringLiteral("ok")}, {QStringLiteral("redis"), QStringLiteral("down")}}});
}

void TestRestJson::roundTrips()
{
    QFETCH(RoundTrip, check);
    const QString problem = check.run();
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestRestJson::malformed_data()
{
    QTest::addColumn<DecodeCheck>("decode");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");

    const auto row
        = [](const char *name, DecodeCheck decode, const QByteArray &input, const QString &code, const char *field) {
              QTest::newRow(name) << std::move(decode) << input << code << QString::fromLatin1(field);
          };
    const auto reg = decoderOf<RegisterRequest>();
    const QByteArray goodReg = R"({"username":"alice","password":"12345678","displayName":"Alice"})";
    row("register: not json", reg, "{username}", bad(), "");
    row("register: array", reg, "[" + goodReg + "]", bad(), "");
    row("register: empty body", reg, "", bad(), "");
    row("register: bad utf-8", reg, replaced(goodReg, "Alice", "Al\xe9"), bad(), "");
    row("register: over 1 MiB", reg,
        QByteArray(goodReg).replace("\"Alice\"",
                                    QByteArray("\"Alice\",\"pad\":\"" + repeat('x', limits::kBodyBytesMax) + '"')),
        tooLarge(), "");
    row("register: username missing", reg, R"({"password":"12345678","displayName":"A"})", invalid(), "username");
    row("register: username short", reg, replaced(goodReg, "alice", "al"), invalid(), "username");
    row("register: username space", reg, replaced(goodReg, "alice", "al ice"), invalid(), "username");
    row("register: username number", reg, replaced(goodReg, "\"alice\"", "12345"), invalid(), "username");
    row("register: password short", reg, replaced(goodReg, "12345678", "1234567"), invalid(), "password");
    row("register: password null", reg, replaced(goodReg, "\"12345678\"", "null"), invalid(), "password");
    row("register: displayName empty", reg, replaced(goodReg, "\"Alice\"", "\"\""), invalid(), "displayName");
    row("register: displayName newline", reg, replaced(goodReg, "Alice", "Al\\nice"), invalid(), "displayName");
    row("register: first error wins", reg, R"({"username":"x","password":"1"})", invalid(), "username");
    row("login: password number", decoderOf<LoginRequest>(), R"({"username":"alice","password":12345678})", invalid(),
        "password");
    row("login: username missing", decoderOf<LoginRequest>(), R"({"password":"x"})", invalid(), "username");

    const auto proj = decoderOf<CreateProjectRequest>();
    row("project: name missing", proj, R"({"description":"d"})", invalid(), "name");
    row("project: name blank", proj, R"({"name":"   "})", invalid(), "name");
    row("project: name 101 chars", proj, "{\"name\":\"" + repeat('n', 101) + "\"}", invalid(), "name");
    row("project: description null", proj, R"({"name":"n","description":null})", invalid(), "description");
    row("project: description too long", proj, "{\"name\":\"n\",\"description\":\"" + repeat('d', 10001) + "\"}",
        invalid(), "description");
    const auto patchProj = decoderOf<PatchProjectRequest>();
    row("patch project: no field", patchProj, "{}", invalid(), "");
    row("patch project: only unknown fields", patchProj, R"({"nmae":"typo"})", invalid(), "");
    row("patch project: name null", patchProj, R"({"name":null})", invalid(), "name");
    row("patch project: name empty", patchProj, R"({"name":""})", invalid(), "name");
    row("add member: userId 1.5", decoderOf<AddMemberRequest>(), R"({"userId":1.5})", invalid(), "userId");
    row("add member: userId string", decoderOf<AddMemberRequest>(), R"({"userId":"5"})", invalid(), "userId");
    row("add member: userId -1", decoderOf<AddMemberRequest>(), R"({"userId":-1})", invalid(), "userId");

    const auto createTask = decoderOf<CreateTaskRequest>();
    row("task: title missing", createTask, R"({"status":"todo"})", invalid(), "title");
    row("task: title 201 chars", createTask, "{\"title\":\"" + repeat('t', 201) + "\"}", invalid(), "title");
    row("task: status wrong case", createTask, R"({"title":"t","status":"In_Progress"})", invalid(), "status");
    row("task: status null", createTask, R"({"title":"t","status":null})", invalid(), "status");
    row("task: priority upper", createTask, R"({"title":"t","priority":"URGENT"})", invalid(), "priority");
    row("task: dueDate 2026-02-30", createTask, R"({"title":"t","dueDate":"2026-02-30"})", invalid(), "dueDate");
    row("task: dueDate timestamp", createTask, R"({"title":"t","dueDate":"2026-02-03T00:00:00Z"})", invalid(),
        "dueDate");
    row("task: assigneeId 0", createTask, R"({"title":"t","assigneeId":0})", invalid(), "assigneeId");
    row("task: assigneeId string", createTask, R"({"title":"t","assigneeId":"3"})", invalid(), "assigneeId");
    const auto patchTask = decoderOf<PatchTaskRequest>();
    row("patch task: no field", patchTask, "{}", invalid(), "");
    row("patch task: title null", patchTask, R"({"title":null})", invalid(), "title");
    row("patch task: status null", patchTask, R"({"status":null})", invalid(), "status");
    row("patch task: assigneeId false", patchTask, R"({"assigneeId":false})", invalid(), "assigneeId");
    row("patch task: dueDate bad", patchTask, R"({"dueDate":"31/12/2026"})", invalid(), "dueDate");

    const auto createRoom = decoderOf<CreateRoomRequest>();
    row("room: name missing", createRoom, R"({"memberIds":[1]})", invalid(), "name");
    row("room: memberIds with string", createRoom, R"({"name":"r","memberIds":[1,"2"]})", invalid(), "memberIds");
    row("room: memberIds with 0", createRoom, R"({"name":"r","memberIds":[0]})", invalid(), "memberIds");
    row("room: memberIds object", createRoom, R"({"name":"r","memberIds":{"1":1}})", invalid(), "memberIds");
    QByteArray many = R"({"name":"r","memberIds":[)";
    for (int i = 1; i <= limits::kRoomMembersMax + 1; ++i)
        many += QByteArray::number(i) + ',';
    many.chop(1);
    many += "]}";
    row("room: 1001 members", createRoom, many, invalid(), "memberIds");

    const auto send = decoderOf<SendMessageRequest>();
    row("send: body missing", send, R"({"clientId":"c"})", invalid(), "body");
    row("send: body empty", send, R"({"body":""})", invalid(), "body");
    row("send: body number", send, R"({"body":5})", invalid(), "body");
    row("send: body 8193 chars", send, "{\"body\":\"" + repeat('b', limits::kMessageBodyMax + 1) + "\"}", tooLarge(),
        "body");
    row("send: clientId 65 chars", send, "{\"body\":\"b\",\"clientId\":\"" + repeat('c', 65) + "\"}", invalid(),
        "clientId");
    row("send: clientId empty", send, R"({"body":"b","clientId":""})", invalid(), "clientId");
    row("send: clientId with space", send, R"({"body":"b","clientId":"a b"})", invalid(), "clientId");
    row("edit: body too long", decoderOf<EditMessageRequest>(),
        "{\"body\":\"" + repeat('b', limits::kMessageBodyMax + 1) + "\"}", tooLarge(), "body");
    row("edit: body missing", decoderOf<EditMessageRequest>(), "{}", invalid(), "body");
    row("read: seq -1", decoderOf<ReadMarkerRequest>(), R"({"seq":-1})", invalid(), "seq");
    row("read: seq 2.5", decoderOf<ReadMarkerRequest>(), R"({"seq":2.5})", invalid(), "seq");

    row("error body: unknown code", decoderOf<ErrorBody>(), R"({"error":{"code":"teapot","message":"m"}})", invalid(),
        "error.code");
    row("error body: flat", decoderOf<ErrorBody>(), R"({"code":"not_found","message":"m"})", invalid(), "error");
    row("page: nextCursor number", decoderOf<Page<Task>>(), R"({"items":[],"nextCursor":5})", invalid(), "nextCursor");
    row("page: item not an object", decoderOf<Page<Task>>(), R"({"items":[1],"nextCursor":null})", invalid(),
        "items[0]");
    row("history page: hasMore missing", decoderOf<HistoryPage>(), R"({"items":[]})", invalid(), "hasMore");
    row("health: check not a string", decoderOf<HealthBody>(), R"({"status":"ok","checks":{"db":true}})", invalid(),
        "checks.db");
}

void TestRestJson::malformed()
{
    QFETCH(DecodeCheck, decode);
    QFETCH(QByteArray, input);
    QFETCH(QString, code);
    QFETCH(QString, field);
    expectError(decode(input), code, field);
}

void TestRestJson::accepted()
{
    // Unknown fields are ignored; usernames are folded; absent optional fields take their defaults.
    const auto reg = fromJson<RegisterRequest>(
        R"({"username":"ALICE","password":"12345678","displayName":"A","captcha":{"x":[1,2]},"extra":null})");
    QVERIFY(reg.ok());
    QCOMPARE(reg->username, QStringLiteral("alice"));

    const auto t = fromJson<CreateTaskRequest>(R"({"title":"t","assigneeId":null,"dueDate":null})");
    QVERIFY(t.ok());
    QVERIFY(*t == titled(QStringLiteral("t")));

    const auto send = fromJson<SendMessageRequest>(R"({"body":"b","clientId":null})");
    QVERIFY(send.ok());
    QVERIFY(!send->clientId);

    // 8192 code points are fine even when they take 16384 UTF-16 units.
    QString emoji;
    for (int i = 0; i < limits::kMessageBodyMax; ++i)
        emoji += QStringLiteral("\U0001F600");
    const auto big = fromJson<SendMessageRequest>(toJson(SendMessageRequest {emoji, std::nullopt}));
    QVERIFY(big.ok());
    QCOMPARE(big->body, emoji);

    const auto room = fromJson<CreateRoomRequest>(R"({"name":"r"})");
    QVERIFY(room.ok());
    QVERIFY(room->memberIds.isEmpty());
}

void TestRestJson::patchTriState()
{
    const auto absent = fromJson<PatchTaskRequest>(R"({"title":"t"})");
    QVERIFY(absent.ok());
    QVERIFY(!absent->assigneeId.has_value()); // unchanged
    QVERIFY(!absent->dueDate.has_value());

    const auto cleared = fromJson<PatchTaskRequest>(R"({"assigneeId":null,"dueDate":null})");
    QVERIFY(cleared.ok());
    QVERIFY(cleared->assigneeId.has_value() && !cleared->assigneeId->has_value()); // set to null
    QVERIFY(cleared->dueDate.has_value() && !cleared->dueDate->has_value());

    const auto set = fromJson<PatchTaskRequest>(R"({"assigneeId":9,"dueDate":"2026-03-01"})");
    QVERIFY(set.ok());
    QCOMPARE(**set->assigneeId, Id(9));
    QCOMPARE(**set->dueDate, QDate(2026, 3, 1));

    // The encoder keeps the distinction.
    QCOMPARE(toJson(*absent), QByteArray(R"({"title":"t"})"));
    QCOMPARE(toJson(*cleared), QByteArray(R"({"assigneeId":null,"dueDate":null})"));
}

void TestRestJson::exactBytes_data()
{
    QTest::addColumn<QByteArray>("actual");
    QTest::addColumn<QByteArray>("expected");
    // docs/protocol.md, "Errors (REST)".
    QTest::newRow("error body")
        << toJson(ErrorBody {
               Error::validation(QStringLiteral("title"), QStringLiteral("title must be 1..200 characters"))})
        << QByteArray(
               R"({"error": {"code": "validation_failed", "message": "title must be 1..200 characters", "field": "title"}})")
               .replace(": ", ":")
               .replace(", ", ",");
    QTest::newRow("error body, no field")
        << toJson(ErrorBody {Error {ErrorCode::NotFound, QStringLiteral("no such room"), QString()}})
        << QByteArray(R"({"error":{"code":"not_found","message":"no such room"}})");
    // docs/protocol.md, "Operations".
    QTest::newRow("health") << toJson(HealthBody {QStringLiteral("ok"), {}}) << QByteArray(R"({"status":"ok"})");
    QTest::newRow("empty page") << toJson(Page<Task> {}) << QByteArray(R"({"items":[],"nextCursor":null})");
    QTest::newRow("empty history") << toJson(HistoryPage {}) << QByteArray(R"({"items":[],"hasMore":false})");
    QTest::newRow("empty search") << toJson(SearchResult {}) << QByteArray(R"({"messages":[],"tasks":[]})");
    QTest::newRow("create task") << toJson(titled(QStringLiteral("T")))
                                 << QByteArray(R"({"title":"T","description":"","status":"todo",)"
                                               R"("priority":"medium","assigneeId":null,"dueDate":null})");
}

void TestRestJson::exactBytes()
{
    QFETCH(QByteArray, actual);
    QFETCH(QByteArray, expected);
    QCOMPARE(actual, expected);
}

void TestRestJson::taskListQuery_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<QString>("field"); // empty: accepted
    QTest::addColumn<TaskListQuery>("expected");

    const PageCursor cursor {at(20, 10, 0, 0, 5), 78};
    const auto ok = [](const char *name, const QString &query, TaskListQuery expected) {
        QTest::newRow(name) << query << QString() << expected;
    };
    const auto fails = [](const char *name, const QString &query, const char *field) {
        QTest::newRow(name) << query << QString::fromLatin1(field) << TaskListQuery {};
    };
    ok("nothing", QString(), TaskListQuery {});
    ok("empty values", QStringLiteral("status=&assigneeId=&cursor=&limit="), TaskListQuery {});
    ok("limit 10", QStringLiteral("limit=10"), TaskListQuery {std::nullopt, std::nullopt, std::nullopt, 10});
    ok("limit 200", QStringLiteral("limit=200"), TaskListQuery {std::nullopt, std::nullopt, std::nullopt, 200});
    ok("limit 500 clamped", QStringLiteral("limit=500"), TaskListQuery {std::nullopt, std::nullopt, std::nullopt, 200});
    ok("limit huge clamped", QStringLiteral("limit=99999999999999999999999"),
       TaskListQuery {std::nullopt, std::nullopt, std::nullopt, 200});
    ok("everything", QStringLiteral("status=in_progress&assigneeId=5&cursor=%1&limit=20").arg(encodeCursor(cursor)),
       TaskListQuery {TaskStatus::InProgress, 5, cursor, 20});
    fails("limit 0", QStringLiteral("limit=0"), "limit");
    fails("limit -5", QStringLiteral("limit=-5"), "limit");
    fails("limit abc", QStringLiteral("limit=abc"), "limit");
    fails("limit 1.5", QStringLiteral("limit=1.5"), "limit");
    fails("limit +5", QStringLiteral("limit=%2B5"), "limit");
    fails("limit with space", QStringLiteral("limit=%205"), "limit");
    fails("limit twice", QStringLiteral("limit=5&limit=6"), "limit");
    fails("status wrong case", QStringLiteral("status=Done"), "status");
    fails("status unknown", QStringLiteral("status=doing"), "status");
    fails("assigneeId 0", QStringLiteral("assigneeId=0"), "assigneeId");
    fails("assigneeId text", QStringLiteral("assigneeId=me"), "assigneeId");
    fails("assigneeId overflow", QStringLiteral("assigneeId=9223372036854775808"), "assigneeId");
    fails("cursor garbage", QStringLiteral("cursor=!!!"), "cursor");
}

void TestRestJson::taskListQuery()
{
    QFETCH(QString, query);
    QFETCH(QString, field);
    QFETCH(TaskListQuery, expected);
    const Result<TaskListQuery> r = parseTaskListQuery(QUrlQuery(query));
    if (field.isEmpty()) {
        QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
        QVERIFY(*r == expected);
    } else {
        QVERIFY(!r.ok());
        QCOMPARE(errorCodeName(r.error().code), bad());
        QCOMPARE(r.error().field, field);
    }
}

void TestRestJson::historyQuery_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<QString>("field");
    QTest::addColumn<HistoryQuery>("expected");
    QTest::newRow("latest") << QString() << QString() << HistoryQuery {};
    QTest::newRow("before") << QStringLiteral("before=340&limit=20") << QString()
                            << HistoryQuery {340, std::nullopt, 20};
    QTest::newRow("after 0") << QStringLiteral("after=0") << QString() << HistoryQuery {std::nullopt, 0, 50};
    QTest::newRow("both") << QStringLiteral("before=1&after=2") << QStringLiteral("after") << HistoryQuery {};
    QTest::newRow("before negative") << QStringLiteral("before=-1") << QStringLiteral("before") << HistoryQuery {};
    QTest::newRow("after text") << QStringLiteral("after=x") << QStringLiteral("after") << HistoryQuery {};
    QTest::newRow("limit bad") << QStringLiteral("after=1&limit=0") << QStringLiteral("limit") << HistoryQuery {};
}

void TestRestJson::historyQuery()
{
    QFETCH(QString, query);
    QFETCH(QString, field);
    QFETCH(HistoryQuery, expected);
    const Result<HistoryQuery> r = parseHistoryQuery(QUrlQuery(query));
    if (field.isEmpty()) {
        QVERIFY(r.ok());
        QVERIFY(*r == expected);
    } else {
        QVERIFY(!r.ok());
        QCOMPARE(errorCodeName(r.error().code), bad());
        QCOMPARE(r.error().field, field);
    }
}

void TestRestJson::searchQuery()
{
    const auto ok = parseSearchQuery(QUrlQuery(QStringLiteral("q=hello%20world&limit=5")));
    QVERIFY(ok.ok());
    QVERIFY(*ok == (SearchQuery {QStringLiteral("hello world"), 5}));
    const auto none = parseSearchQuery(QUrlQuery());
    QVERIFY(none.ok());
    QVERIFY(none->q.isEmpty());
    const auto tooLong = parseSearchQuery(QUrlQuery(QStringLiteral("q=") + QString(201, QLatin1Char('q'))));
    QVERIFY(!tooLong.ok());
    QCOMPARE(errorCodeName(tooLong.error().code), bad()); // a query parameter: 400, not 422
    QCOMPARE(tooLong.error().field, QStringLiteral("q"));
}

void TestRestJson::queryRoundTrip()
{
    // Through the wire form of a URL, as a client would send it.
    const auto wire = [](const QUrlQuery &q) { return QUrlQuery(q.toString(QUrl::FullyEncoded)); };
    const TaskListQuery tasks {TaskStatus::Review, 9, PageCursor {at(1, 2, 3, 4, 5), 6}, 7};
    QVERIFY(*parseTaskListQuery(wire(toQuery(tasks))) == tasks);
    const HistoryQuery history {std::nullopt, 41, 200};
    QVERIFY(*parseHistoryQuery(wire(toQuery(history))) == history);
    const SearchQuery search {QStringLiteral("a&b=c+d #%\u00e9"), 3};
    const auto decoded = parseSearchQuery(wire(toQuery(search)));
    QVERIFY(decoded.ok());
    QCOMPARE(decoded->q, search.q);
    // Text that looks like escapes stays text (fuzz_query found "%00" arriving as a NUL).
    const SearchQuery escapes {QStringLiteral("50%25 off %41 hlo%00-229"), 3};
    const auto kept = parseSearchQuery(wire(toQuery(escapes)));
    QVERIFY(kept.ok());
    QCOMPARE(kept->q, escapes.q);
    QCOMPARE(parseSearchQuery(toQuery(escapes))->q, escapes.q); // and without the wire form
}

void TestRestJson::cursor()
{
    const PageCursor c {at(23, 12, 0, 0, 123), 9007199254740993};
    const QString text = encodeCursor(c);
    for (QChar ch : text) // URL-safe without escaping
        QVERIFY(ch.isLetterOrNumber() || ch == QLatin1Char('-') || ch == QLatin1Char('_'));
    const Result<PageCursor> back = decodeCursor(text);
    QVERIFY(back.ok());
    QVERIFY(*back == c);
}

void TestRestJson::badCursor_data()
{
    QTest::addColumn<QString>("text");
    const auto b64 = [](const char *raw) {
        return QString::fromLatin1(
            QByteArray(raw).toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
    };
    QTest::newRow("not base64") << QStringLiteral("!!!");
    QTest::newRow("standard base64 alphabet") << QStringLiteral("ab+/");
    QTest::newRow("no separator") << b64("12345");
    QTest::newRow("id 0") << b64("1700000000000|0");
    QTest::newRow("negative ms") << b64("-1|5");
    QTest::newRow("text id") << b64("1700000000000|x");
    QTest::newRow("empty parts") << b64("|");
    QTest::newRow("year 10000") << b64("253402300800000|1");
    QTest::newRow("too long") << QString(100, QLatin1Char('A'));
    QTest::newRow("non-latin") << QStringLiteral("\u00e9\u4e2d");
}

void TestRestJson::badCursor()
{
    QFETCH(QString, text);
    const Result<PageCursor> r = decodeCursor(text);
    QVERIFY(!r.ok());
    QCOMPARE(errorCodeName(r.error().code), bad());
    QCOMPARE(r.error().field, QStringLiteral("cursor"));
}

QTEST_APPLESS_MAIN(TestRestJson)
#include "tst_codec_rest.moc"
