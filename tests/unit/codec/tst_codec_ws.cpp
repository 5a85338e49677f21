// WebSocket frames: round trips of every frame in both directions, docs/protocol.md's examples byte
// for byte, the malformed client frames a server must refuse (code and field), frames it must
// accept, malformed server frames, and frameId() recovery.
#include "codec_fixtures.h"
#include "shared/codec/resource_json.h"
#include "shared/codec/ws_frames.h"

#include <QTest>

#include <limits>

using namespace taskmaster;
using namespace taskmaster::fixtures;

Q_DECLARE_METATYPE(taskmaster::ws::ClientFrame)
Q_DECLARE_METATYPE(taskmaster::ws::FrameId)

namespace {

RoundTrip clientRoundTrip(const ws::ClientFrame &frame)
{
    return roundTrip(frame, &ws::encodeClientFrame, [](const QByteArray &b) { return ws::decodeClientFrame(b); });
}

RoundTrip serverRoundTrip(const ws::ServerFrame &frame)
{
    return roundTrip(frame, &ws::encodeServerFrame, [](const QByteArray &b) { return ws::decodeServerFrame(b); });
}

MaybeError clientError(const QByteArray &bytes)
{
    const auto r = ws::decodeClientFrame(bytes);
    return r.ok() ? MaybeError() : MaybeError(r.error());
}

MaybeError serverError(const QByteArray &bytes)
{
    const auto r = ws::decodeServerFrame(bytes);
    return r.ok() ? MaybeError() : MaybeError(r.error());
}

// {"type":"send","id":1,"roomId":<roomId>,"body":<body>}
QByteArray send(const QByteArray &roomId, const QByteArray &body = "\"hi\"")
{
    return R"({"type":"send","id":1,"roomId":)" + roomId + R"(,"body":)" + body + '}';
}

QByteArray history(const QByteArray &channel, const QByteArray &after = "0", const QByteArray &limitField = {})
{
    return R"({"type":"history","id":2,"channel":)" + channel + R"(,"after":)" + after + limitField + '}';
}

QByteArray hello(const QByteArray &resume)
{
    return R"({"type":"hello","token":"t","resume":)" + resume + '}';
}

} // namespace

class TestWsFrames final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void clientRoundTrips_data();
    void clientRoundTrips();
    void serverRoundTrips_data();
    void serverRoundTrips();
    void protocolExamples_data();
    void protocolExamples();
    void malformedClientFrames_data();
    void malformedClientFrames();
    void acceptedClientFrames_data();
    void acceptedClientFrames();
    void malformedServerFrames_data();
    void malformedServerFrames();
    void frameIds_data();
    void frameIds();
    void eventFrameIsTheServerFrame();
};

void TestWsFrames::clientRoundTrips_data()
{
    QTest::addColumn<RoundTrip>("check");
    ws::SeqMap resume;
    resume.insert(Channel::room(12), 340);
    resume.insert(Channel::project(3), 17);
    resume.insert(Channel::room(9223372036854775807), 0);
    QTest::newRow("hello") << clientRoundTrip(ws::Hello {QStringLiteral("tok"), resume, false});
    QTest::newRow("hello, no token, no resume") << clientRoundTrip(ws::Hello {});
    QTest::newRow("hello asking for the presence list")
        << clientRoundTrip(ws::Hello {QStringLiteral("tok"), resume, true});
    QTest::newRow("send") << clientRoundTrip(ws::Send {7, 12, message().body, QStringLiteral("c-1")});
    QTest::newRow("send, no id, no clientId") << clientRoundTrip(ws::Send {std::nullopt, 12, QStringLiteral("x"), {}});
    QTest::newRow("send, negative id") << clientRoundTrip(ws::Send {-5, 12, QStringLiteral("x"), {}});
    QTest::newRow("edit") << clientRoundTrip(ws::Edit {8, 1001, QStringLiteral("edited")});
    QTest::newRow("delete") << clientRoundTrip(ws::Delete {9, 1001});
    QTest::newRow("typing") << clientRoundTrip(ws::Typing {12});
    QTest::newRow("read") << clientRoundTrip(ws::Read {12, 345});
    QTest::newRow("history") << clientRoundTrip(ws::HistoryRequest {10, Channel::project(3), 17, 100});
    QTest::newRow("ping") << clientRoundTrip(ws::Ping {11, 1795435200123.5});
    QTest::newRow("ping, tiny t") << clientRoundTrip(ws::Ping {11, 5e-324});
    QTest::newRow("ping, bare") << clientRoundTrip(ws::Ping {});
    QTest::newRow("roomPresence") << clientRoundTrip(ws::RoomPresenceRequest {7, 12, 1000});
    QTest::newRow("roomPresence, no id") << clientRoundTrip(ws::RoomPresenceRequest {std::nullopt, 12, 1});
}

void TestWsFrames::clientRoundTrips()
{
    QFETCH(RoundTrip, check);
    const QString problem = check.run();
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestWsFrames::serverRoundTrips_data()
{
    QTest::addColumn<RoundTrip>("check");
    ws::SeqMap channels;
    channels.insert(Channel::room(12), 345);
    channels.insert(Channel::project(3), 17);
    QTest::newRow("welcome") << serverRoundTrip(ws::Welcome {5, QStringLiteral("tm-2"), channels, {}, {}});
    QTest::newRow("welcome, no channels") << serverRoundTrip(ws::Welcome {5, QStringLiteral("tm-1"), {}, {}, {}});
    QTest::newRow("welcome, reconnect window")
        << serverRoundTrip(ws::Welcome {5, QStringLiteral("tm-1"), channels, 5555, {}});
    QTest::newRow("welcome, presence room limit")
        << serverRoundTrip(ws::Welcome {5, QStringLiteral("tm-1"), channels, {}, 1000});
    QTest::newRow("ack") << serverRoundTrip(ws::Ack {7, message()});
    QTest::newRow("ack of a delete, no id") << serverRoundTrip(ws::Ack {std::nullopt, tombstone()});
    QTest::newRow("event message") << serverRoundTrip(messageEvent());
    QTest::newRow("event message_updated") << serverRoundTrip(messageEvent(EventType::MessageUpdated, tombstone()));
    QTest::newRow("event task_created") << serverRoundTrip(taskEvent(EventType::TaskCreated));
    QTest::newRow("event task_updated") << serverRoundTrip(taskEvent(EventType::TaskUpdated, bareTask()));
    QTest::newRow("event task_deleted") << serverRoundTrip(taskEvent(EventType::TaskDeleted));
    QTest::newRow("event member_joined") << serverRoundTrip(
        memberEvent(EventType::MemberJoined, Channel::project(3), 8));
    QTest::newRow("event member_left") << serverRoundTrip(memberEvent(EventType::MemberLeft, Channel::room(12), 8));
    QTest::newRow("typing") << serverRoundTrip(ws::TypingEvent {12, 5});
    QTest::newRow("read") << serverRoundTrip(ws::ReadEvent {12, 5, 345});
    QTest::newRow("presence online") << serverRoundTrip(ws::Presence {5, ws::PresenceStatus::Online, {}});
    QTest::newRow("presence offline") << serverRoundTrip(ws::Presence {5, ws::PresenceStatus::Offline, {}});
    QTest::newRow("presence list") << serverRoundTrip(ws::Presence {0, ws::PresenceStatus::Online, {3, 7, 9}});
    QTest::newRow("error with id and field") << serverRoundTrip(
        ws::ErrorFrame {3, Error::validation(QStringLiteral("roomId"), QStringLiteral("roomId must be ..."))});
    QTest::newRow("error, no id") << serverRoundTrip(
        ws::ErrorFrame {std::nullopt, Error {ErrorCode::RateLimited, QStringLiteral("slow down"), QString()}});
    QTest::newRow("reconnect") << serverRoundTrip(ws::Reconnect {QStringLiteral("draining"), 1500});
    QTest::newRow("resumed") << serverRoundTrip(ws::Resumed {Channel::room(12), 341, 345});
    QTest::newRow("resync") << serverRoundTrip(ws::Resync {Channel::project(3)});
    QTest::newRow("history reply") << serverRoundTrip(
        ws::HistoryReply {4,
                          Channel::room(12),
                          {messageEvent(), messageEvent(EventType::MessageUpdated, tombstone()),
                           memberEvent(EventType::MemberJoined, Channel::room(12), 9)}});
    QTest::newRow("history reply, empty") << serverRoundTrip(ws::HistoryReply {std::nullopt, Channel::project(3), {}});
    QTest::newRow("pong") << serverRoundTrip(ws::Pong {11, -42.25, {}});
    QTest::newRow("pong, bare") << serverRoundTrip(ws::Pong {});
    QTest::newRow("pong, reconnect window") << serverRoundTrip(ws::Pong {11, {}, 0});
    QTest::newRow("roomPresence") << serverRoundTrip(ws::RoomPresence {7, 12, 1234, {3, 7, 9}});
    QTest::newRow("roomPresence, nobody, no id") << serverRoundTrip(ws::RoomPresence {std::nullopt, 12, 0, {}});
}

void TestWsFrames::serverRoundTrips()
{
    QFETCH(RoundTrip, check);
    const QString problem = check.run();
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

// The examples of docs/protocol.md's WebSocket section, encoded byte for byte.
void TestWsFrames::protocolExamples_data()
{
    QTest::addColumn<QByteArray>("actual");
    QTest::addColumn<QByteArray>("expected");
    ws::SeqMap resume;
    resume.insert(Channel::room(12), 340);
    resume.insert(Channel::project(3), 17);
    QTest::newRow("hello") << ws::encodeClientFrame(ws::Hello {QStringLiteral("..."), resume, false})
                           << QByteArray(R"({"type":"hello","token":"...","resume":{"room:12":340,"project:3":17}})");
    ws::SeqMap channels;
    channels.insert(Channel::room(12), 345);
    channels.insert(Channel::project(3), 17);
    QTest::newRow("welcome")
        << ws::encodeServerFrame(ws::Welcome {5, QStringLiteral("tm-2"), channels, {}, {}})
        << QByteArray(R"({"type":"welcome","userId":5,"instance":"tm-2","channels":{"room:12":345,"project:3":17}})");
    QTest::newRow("resumed") << ws::encodeServerFrame(ws::Resumed {Channel::room(12), 341, 345})
                             << QByteArray(R"({"type":"resumed","channel":"room:12","from":341,"to":345})");
    QTest::newRow("resync") << ws::encodeServerFrame(ws::Resync {Channel::room(12)})
                            << QByteArray(R"({"type":"resync","channel":"room:12"})");
    QTest::newRow("send") << ws::encodeClientFrame(ws::Send {1, 12, QStringLiteral("hi"), QStringLiteral("c1")})
                          << QByteArray(R"({"type":"send","id":1,"roomId":12,"body":"hi","clientId":"c1"})");
    QTest::newRow("typing") << ws::encodeServerFrame(ws::TypingEvent {12, 5})
                            << QByteArray(R"({"type":"typing","roomId":12,"userId":5})");
    QTest::newRow("presence") << ws::encodeServerFrame(ws::Presence {5, ws::PresenceStatus::Offline, {}})
                              << QByteArray(R"({"type":"presence","userId":5,"status":"offline"})");
    QTest::newRow("presence list") << ws::encodeServerFrame(ws::Presence {0, ws::PresenceStatus::Online, {3, 7}})
                                   << QByteArray(R"({"type":"presence","userIds":[3,7],"status":"online"})");
    QTest::newRow("hello asking for the presence list")
        << ws::encodeClientFrame(ws::Hello {QStringLiteral("..."), {}, true})
        << QByteArray(R"({"type":"hello","token":"...","presenceList":true})");
    QTest::newRow("error") << ws::encodeServerFrame(
        ws::ErrorFrame {1, Error {ErrorCode::NotFound, QStringLiteral("no such room"), QString()}})
                           << QByteArray(R"({"type":"error","id":1,"code":"not_found","message":"no such room"})");
    QTest::newRow("pong") << ws::encodeServerFrame(ws::Pong {3, 1.5, {}})
                          << QByteArray(R"({"type":"pong","id":3,"t":1.5})");
    QTest::newRow("welcome with a reconnect window")
        << ws::encodeServerFrame(ws::Welcome {5, QStringLiteral("tm-2"), {}, 5555, {}})
        << QByteArray(R"({"type":"welcome","userId":5,"instance":"tm-2","channels":{},"reconnectWindowMs":5555})");
    QTest::newRow("pong with a reconnect window")
        << ws::encodeServerFrame(ws::Pong {3, 1.5, 4000})
        << QByteArray(R"({"type":"pong","id":3,"t":1.5,"reconnectWindowMs":4000})");
    QTest::newRow("welcome with a presence room limit")
        << ws::encodeServerFrame(ws::Welcome {5, QStringLiteral("tm-2"), {}, {}, 1000})
        << QByteArray(R"({"type":"welcome","userId":5,"instance":"tm-2","channels":{},"presenceRoomLimit":1000})");
    QTest::newRow("roomPresence") << ws::encodeClientFrame(ws::RoomPresenceRequest {7, 12, 100})
                                  << QByteArray(R"({"type":"roomPresence","id":7,"roomId":12,"limit":100})");
    QTest::newRow("roomPresence reply")
        << ws::encodeServerFrame(ws::RoomPresence {7, 12, 1234, {3, 7, 9}})
        << QByteArray(R"({"type":"roomPresence","id":7,"roomId":12,"online":1234,"userIds":[3,7,9]})");
}

void TestWsFrames::protocolExamples()
{
    QFETCH(QByteArray, actual);
    QFETCH(QByteArray, expected);
    QCOMPARE(actual, expected);
}

void TestWsFrames::malformedClientFrames_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");
    const auto row = [](const char *name, const QByteArray &input, const QString &code, const char *field) {
        QTest::newRow(name) << input << code << QString::fromLatin1(field);
    };

    // Not a frame at all: 400 / close 4000; over 64 KiB: 413 / close 1009.
    row("not json", "hello", bad(), "");
    row("empty", "", bad(), "");
    row("json array", "[{\"type\":\"ping\"}]", bad(), "");
    row("json string", "\"ping\"", bad(), "");
    row("json null", "null", bad(), "");
    row("truncated", "{\"type\":\"ping\"", bad(), "");
    row("trailing garbage", "{\"type\":\"ping\"}x", bad(), "");
    row("bad utf-8", send("12", "\"h\xff\""), bad(), "");
    row("NaN", R"({"type":"ping","t":NaN})", bad(), "");
    row("1e400", R"({"type":"ping","t":1e400})", bad(), "");
    row("60k nested arrays", repeat('[', 60000), bad(), ""); // under 64 KiB: reaches the parser
    row("60k nested in a field", R"({"type":"ping","x":)" + repeat('[', 60000), bad(), "");
    row("100k nested arrays", repeat('[', 100000), tooLarge(), "");
    row("nested 2000 deep, closed", R"({"type":"ping","x":)" + repeat('[', 2000) + repeat(']', 2000) + '}', bad(), "");
    row("oversized", send("12", '"' + repeat('a', limits::kFrameBytesMax) + '"'), tooLarge(), "");
    row("oversized padding", QByteArray(limits::kFrameBytesMax + 1, ' '), tooLarge(), "");

    // The type.
    row("missing type", R"({"id":1,"roomId":12})", invalid(), "type");
    row("type number", R"({"type":1})", invalid(), "type");
    row("type null", R"({"type":null})", invalid(), "type");
    row("unknown type", R"({"type":"shout"})", bad(), "type");
    row("type wrong case", R"({"type":"Send","roomId":1,"body":"x"})", bad(), "type");
    row("server type from a client", R"({"type":"welcome","userId":5})", bad(), "type");
    row("event type from a client", R"({"type":"message"})", bad(), "type");

    // Fields: 422 with the field (the WebSocket layer answers error {id, ...}).
    row("id as string", R"({"type":"send","id":"1","roomId":12,"body":"x"})", invalid(), "id");
    row("id 1.5", R"({"type":"ping","id":1.5})", invalid(), "id");
    row("id null", R"({"type":"ping","id":null})", invalid(), "id");
    row("roomId 0", send("0"), invalid(), "roomId");
    row("roomId negative", send("-12"), invalid(), "roomId");
    row("roomId 1.5", send("1.5"), invalid(), "roomId");
    row("roomId 1e300", send("1e300"), invalid(), "roomId");
    row("roomId 2^63", send("9223372036854775808"), invalid(), "roomId");
    row("roomId string", send("\"7\""), invalid(), "roomId");
    row("roomId null", send("null"), invalid(), "roomId");
    row("roomId true", send("true"), invalid(), "roomId");
    row("roomId array", send("[7]"), invalid(), "roomId");
    row("roomId missing", R"({"type":"send","body":"x"})", invalid(), "roomId");
    row("body empty", send("12", "\"\""), invalid(), "body");
    row("body blank", send("12", "\" \\n \""), invalid(), "body");
    row("body too long", send("12", '"' + repeat('b', limits::kMessageBodyMax + 1) + '"'), tooLarge(), "body");
    row("body number", send("12", "5"), invalid(), "body");
    row("body null", send("12", "null"), invalid(), "body");
    row("body lone surrogate", send("12", "\"a\\udc00\""), invalid(), "body");
    row("body control char", send("12", "\"a\\u0007\""), invalid(), "body");
    row("clientId too long", R"({"type":"send","roomId":1,"body":"x","clientId":")" + repeat('c', 65) + "\"}",
        invalid(), "clientId");
    row("clientId number", R"({"type":"send","roomId":1,"body":"x","clientId":5})", invalid(), "clientId");
    row("edit: messageId missing", R"({"type":"edit","id":1,"body":"x"})", invalid(), "messageId");
    row("edit: body too long", R"({"type":"edit","messageId":1,"body":")" + repeat('b', 8193) + "\"}", tooLarge(),
        "body");
    row("delete: messageId string", R"({"type":"delete","messageId":"x"})", invalid(), "messageId");
    row("typing: roomId missing", R"({"type":"typing"})", invalid(), "roomId");
    row("read: seq negative", R"({"type":"read","roomId":1,"seq":-1})", invalid(), "seq");
    row("read: seq 1.5", R"({"type":"read","roomId":1,"seq":1.5})", invalid(), "seq");
    row("history: channel room:abc", history("\"room:abc\""), invalid(), "channel");
    row("history: channel room:0", history("\"room:0\""), invalid(), "channel");
    row("history: channel Room:1", history("\"Room:1\""), invalid(), "channel");
    row("history: channel room:-1", history("\"room:-1\""), invalid(), "channel");
    row("history: channel number", history("12"), invalid(), "channel");
    row("history: channel missing", R"({"type":"history","after":0})", invalid(), "channel");
    row("history: after negative", history("\"room:1\"", "-1"), invalid(), "after");
    row("history: after missing", R"({"type":"history","channel":"room:1"})", invalid(), "after");
    row("history: limit 0", history("\"room:1\"", "0", ",\"limit\":0"), invalid(), "limit");
    row("history: limit -5", history("\"room:1\"", "0", ",\"limit\":-5"), invalid(), "limit");
    row("history: limit string", history("\"room:1\"", "0", ",\"limit\":\"10\""), invalid(), "limit");
    row("hello: resume seq string", hello(R"({"room:12":"340"})"), invalid(), "resume");
    row("hello: resume seq 1.5", hello(R"({"room:12":1.5})"), invalid(), "resume");
    row("hello: resume seq negative", hello(R"({"room:12":-1})"), invalid(), "resume");
    row("hello: resume bad channel", hello(R"({"room:abc":1})"), invalid(), "resume");
    row("hello: resume array", hello(R"([["room:12",340]])"), invalid(), "resume");
    row("hello: resume null", hello("null"), invalid(), "resume");
    row("hello: token number", R"({"type":"hello","token":12345})", invalid(), "token");
    row("hello: presenceList a string", R"({"type":"hello","presenceList":"yes"})", invalid(), "presenceList");
    row("roomPresence: roomId missing", R"({"type":"roomPresence","id":1})", invalid(), "roomId");
    row("roomPresence: roomId 0", R"({"type":"roomPresence","roomId":0})", invalid(), "roomId");
    row("roomPresence: roomId string", R"({"type":"roomPresence","roomId":"12"})", invalid(), "roomId");
    row("roomPresence: limit 0", R"({"type":"roomPresence","roomId":12,"limit":0})", invalid(), "limit");
    row("roomPresence: limit -1", R"({"type":"roomPresence","roomId":12,"limit":-1})", invalid(), "limit");
    row("roomPresence: limit 1001", R"({"type":"roomPresence","roomId":12,"limit":1001})", invalid(), "limit");
    row("roomPresence: limit 2.5", R"({"type":"roomPresence","roomId":12,"limit":2.5})", invalid(), "limit");
    row("roomPresence: limit string", R"({"type":"roomPresence","roomId":12,"limit":"5"})", invalid(), "limit");
    row("roomPresence: limit null", R"({"type":"roomPresence","roomId":12,"limit":null})", invalid(), "limit");
    row("ping: t string", R"({"type":"ping","id":1,"t":"now"})", invalid(), "t");
    row("ping: t null", R"({"type":"ping","id":1,"t":null})", invalid(), "t");
}

void TestWsFrames::malformedClientFrames()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, code);
    QFETCH(QString, field);
    expectError(clientError(input), code, field);
}

void TestWsFrames::acceptedClientFrames_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<ws::ClientFrame>("expected");
    QTest::newRow("unknown fields ignored")
        << QByteArray(R"({"type":"send","roomId":12,"body":"hi","v":2,"meta":{"a":[1,{"b":null}]}})")
        << ws::ClientFrame(ws::Send {std::nullopt, 12, QStringLiteral("hi"), {}});
    QTest::newRow("duplicate key: last wins")
        << QByteArray(R"({"type":"typing","roomId":1,"roomId":2})") << ws::ClientFrame(ws::Typing {2});
    QTest::newRow("key order free") << QByteArray(R"({"roomId":3,"type":"typing"})") << ws::ClientFrame(ws::Typing {3});
    QTest::newRow("id 5.0 is 5") << QByteArray(R"({"type":"delete","id":5.0,"messageId":1e3})")
                                 << ws::ClientFrame(ws::Delete {5, 1000});
    QTest::newRow("roomId int64 max") << QByteArray(R"({"type":"typing","roomId":9223372036854775807})")
                                      << ws::ClientFrame(ws::Typing {std::numeric_limits<qint64>::max()});
    QTest::newRow("clientId null") << QByteArray(R"({"type":"send","roomId":1,"body":"x","clientId":null})")
                                   << ws::ClientFrame(ws::Send {std::nullopt, 1, QStringLiteral("x"), {}});
    QTest::newRow("body of exactly 8192")
        << send("1", '"' + repeat('b', limits::kMessageBodyMax) + '"')
        << ws::ClientFrame(ws::Send {1, 1, QString(limits::kMessageBodyMax, QLatin1Char('b')), {}});
    QTest::newRow("roomPresence limit defaults to 100") << QByteArray(R"({"type":"roomPresence","id":3,"roomId":12})")
                                                        << ws::ClientFrame(ws::RoomPresenceRequest {3, 12, 100});
    QTest::newRow("roomPresence limit 1000") << QByteArray(R"({"type":"roomPresence","roomId":12,"limit":1000})")
                                             << ws::ClientFrame(ws::RoomPresenceRequest {std::nullopt, 12, 1000});
    QTest::newRow("history limit defaults")
        << history("\"room:1\"", "5") << ws::ClientFrame(ws::HistoryRequest {2, Channel::room(1), 5, 50});
    QTest::newRow("history limit clamped") << history("\"room:1\"", "5", ",\"limit\":100000")
                                           << ws::ClientFrame(ws::HistoryRequest {2, Channel::room(1), 5, 200});
    QTest::newRow("hello without resume") << QByteArray(R"({"type":"hello"})") << ws::ClientFrame(ws::Hello {});
    QTest::newRow("hello with empty resume")
        << hello("{}") << ws::ClientFrame(ws::Hello {QStringLiteral("t"), {}, false});
    QTest::newRow("ping with a huge t") << QByteArray(R"({"type":"ping","t":1e300})")
                                        << ws::ClientFrame(ws::Ping {std::nullopt, 1e300});
    QTest::newRow("whitespace and BOM") << QByteArray("\xef\xbb\xbf \n{ \"type\" : \"typing\" , \"roomId\" : 4 }\n")
                                        << ws::ClientFrame(ws::Typing {4});
}

void TestWsFrames::acceptedClientFrames()
{
    QFETCH(QByteArray, input);
    QFETCH(ws::ClientFrame, expected);
    const auto r = ws::decodeClientFrame(input);
    QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().field + QLatin1String(": ") + r.error().message));
    QCOMPARE(ws::encodeClientFrame(*r), ws::encodeClientFrame(expected));
    QVERIFY(*r == expected);
}

void TestWsFrames::malformedServerFrames_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");
    const auto row = [](const char *name, const QByteArray &input, const QString &code, const char *field) {
        QTest::newRow(name) << input << code << QString::fromLatin1(field);
    };
    const QByteArray event = ws::encodeEventFrame(messageEvent());
    row("not an object", "[]", bad(), "");
    row("unknown type", R"({"type":"message_deleted","channel":"room:1","seq":1})", bad(), "type");
    row("client type from a server", R"({"type":"send","roomId":1,"body":"x"})", bad(), "type");
    row("event: seq missing", replaced(event, "\"seq\":345,\"message\"", "\"message\""), invalid(), "seq");
    row("event: nested message id", replaced(event, "\"id\":1001", "\"id\":-1"), invalid(), "message.id");
    row("event: task in a room", R"({"type":"task_created","channel":"room:3","seq":1,"task":)" + toJson(task()) + '}',
        invalid(), "channel");
    row("ack: no message", R"({"type":"ack","id":1})", invalid(), "message");
    row("ack: bad createdAt",
        R"({"type":"ack","message":)" + replaced(toJson(message()), "T12:00:00.000Z", " 12:00") + '}', invalid(),
        "message.createdAt");
    row("welcome: channels bad key", R"({"type":"welcome","userId":5,"instance":"i","channels":{"x":1}})", invalid(),
        "channels");
    row("welcome: channels missing", R"({"type":"welcome","userId":5,"instance":"i"})", invalid(), "channels");
    row("welcome: negative reconnect window",
        R"({"type":"welcome","userId":5,"instance":"i","channels":{},"reconnectWindowMs":-1})", invalid(),
        "reconnectWindowMs");
    row("welcome: reconnect window not a number",
        R"({"type":"welcome","userId":5,"instance":"i","channels":{},"reconnectWindowMs":"5s"})", invalid(),
        "reconnectWindowMs");
    row("pong: fractional reconnect window", R"({"type":"pong","reconnectWindowMs":1.5})", invalid(),
        "reconnectWindowMs");
    row("presence: away", R"({"type":"presence","userId":5,"status":"away"})", invalid(), "status");
    row("presence: userIds not an array", R"({"type":"presence","userIds":5,"status":"online"})", invalid(), "userIds");
    row("presence: userIds with a zero", R"({"type":"presence","userIds":[3,0],"status":"online"})", invalid(),
        "userIds");
    row("presence: neither userId nor userIds", R"({"type":"presence","status":"online"})", invalid(), "userId");
    row("error: unknown code", R"({"type":"error","code":"oops","message":"m"})", invalid(), "code");
    row("reconnect: negative delay", R"({"type":"reconnect","reason":"r","retryAfterMs":-1})", invalid(),
        "retryAfterMs");
    row("resumed: to before from", R"({"type":"resumed","channel":"room:1","from":5,"to":4})", invalid(), "to");
    row("resync: project:x", R"({"type":"resync","channel":"project:x"})", invalid(), "channel");
    row("history: event of another channel", R"({"type":"history","channel":"room:13","events":[)" + event + "]}",
        invalid(), "events[0].channel");
    row("history: nested field path",
        R"({"type":"history","channel":"room:12","events":[)" + event + ','
            + replaced(event, "\"body\":", "\"body\":1,\"x\":") + "]}",
        invalid(), "events[1].message.body");
    row("pong: t string", R"({"type":"pong","t":"x"})", invalid(), "t");
}

void TestWsFrames::malformedServerFrames()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, code);
    QFETCH(QString, field);
    expectError(serverError(input), code, field);
}

void TestWsFrames::frameIds_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<ws::FrameId>("expected");
    QTest::newRow("good frame") << QByteArray(R"({"type":"ping","id":4})") << ws::FrameId(4);
    QTest::newRow("bad roomId") << send("0") << ws::FrameId(1);
    QTest::newRow("unknown type") << QByteArray(R"({"type":"nope","id":77})") << ws::FrameId(77);
    QTest::newRow("body too long") << send("1", '"' + repeat('b', 9000) + '"') << ws::FrameId(1);
    QTest::newRow("no id") << QByteArray(R"({"type":"typing","roomId":1})") << ws::FrameId();
    QTest::newRow("id string") << QByteArray(R"({"type":"ping","id":"4"})") << ws::FrameId();
    QTest::newRow("id 1.5") << QByteArray(R"({"type":"ping","id":1.5})") << ws::FrameId();
    QTest::newRow("not json") << QByteArray(R"({"type":"ping","id":4)") << ws::FrameId();
    QTest::newRow("oversized") << send("1", '"' + repeat('b', limits::kFrameBytesMax) + '"') << ws::FrameId();
}

void TestWsFrames::frameIds()
{
    QFETCH(QByteArray, input);
    QFETCH(ws::FrameId, expected);
    QVERIFY(ws::frameId(input) == expected);
}

void TestWsFrames::eventFrameIsTheServerFrame()
{
    // The bytes the server sends to every subscriber are the ServerFrame encoding of the event,
    // and every element of a history reply is that same object.
    const ChannelEvent e = taskEvent(EventType::TaskUpdated);
    const QByteArray bytes = ws::encodeEventFrame(e);
    QCOMPARE(bytes, ws::encodeServerFrame(ws::ServerFrame(e)));
    QVERIFY(bytes.startsWith(R"({"type":"task_updated","channel":"project:3","seq":17,"task":{"id":77,)"));
    const QByteArray reply = ws::encodeServerFrame(ws::HistoryReply {1, e.channel, {e}});
    QVERIFY(reply.contains(QByteArray("\"events\":[" + bytes + ']')));
    const auto decoded = ws::decodeServerFrame(bytes);
    QVERIFY(decoded.ok());
    QVERIFY(std::get<ChannelEvent>(*decoded) == e);
}

QTEST_APPLESS_MAIN(TestWsFrames)
#include "tst_codec_ws.moc"
