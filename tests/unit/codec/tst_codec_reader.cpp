// The building blocks of the codecs: parseObject (limits, malformed JSON), the field kinds of
// JsonReader (what counts as an integer, an id, a date...), presence rules (required / optional /
// nullable / patch), error paths of nested objects, and JsonWriter's escaping and numbers.
#include "codec_fixtures.h"
#include "shared/codec/json_reader.h"
#include "shared/codec/json_writer.h"
#include "shared/codec/resource_json.h"
#include "shared/codec/rest_json.h"

#include <QJsonDocument>
#include <QTest>

#include <limits>

using namespace taskmaster;
using namespace taskmaster::fixtures;

namespace {

// One field "v" holding `valueJson`, read as kind K; answers the value or the error.
template<typename K> Result<typename K::Type> readV(const QByteArray &valueJson)
{
    const Result<QJsonObject> o = parseObject(QByteArray("{\"v\":" + valueJson + '}'), limits::kBodyBytesMax);
    if (!o)
        return o.error();
    JsonReader r(*o);
    auto v = r.required<K>("v");
    return r.finish(std::move(v));
}

} // namespace

class TestJsonReader final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void parseObjectErrors_data();
    void parseObjectErrors();
    void parseObjectAccepts_data();
    void parseObjectAccepts();
    void integers_data();
    void integers();
    void kinds_data();
    void kinds();
    void presence();
    void nestedPaths();
    void firstErrorWins();
    void writerStrings_data();
    void writerStrings();
    void writerNumbers_data();
    void writerNumbers();
    void writerStructure();
};

void TestJsonReader::parseObjectErrors_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<qint64>("limit");
    QTest::addColumn<QString>("code");

    const qint64 rest = limits::kBodyBytesMax;
    QTest::newRow("empty") << QByteArray() << rest << bad();
    QTest::newRow("whitespace only") << QByteArray(" \n\t") << rest << bad();
    QTest::newRow("not json") << QByteArray("hello") << rest << bad();
    QTest::newRow("array at top") << QByteArray("[1,2]") << rest << bad();
    QTest::newRow("string at top") << QByteArray("\"x\"") << rest << bad();
    QTest::newRow("number at top") << QByteArray("42") << rest << bad();
    QTest::newRow("null at top") << QByteArray("null") << rest << bad();
    QTest::newRow("truncated") << QByteArray("{\"a\":1") << rest << bad();
    QTest::newRow("trailing garbage") << QByteArray("{} {}") << rest << bad();
    QTest::newRow("single quotes") << QByteArray("{'a':1}") << rest << bad();
    QTest::newRow("trailing comma") << QByteArray("{\"a\":1,}") << rest << bad();
    QTest::newRow("bad utf-8 in value") << QByteArray("{\"a\":\"x\xff\xfey\"}") << rest << bad();
    QTest::newRow("bad utf-8 in key") << QByteArray("{\"\xc3\x28\":1}") << rest << bad();
    QTest::newRow("utf-8 encoded surrogate") << QByteArray("{\"a\":\"\xed\xa0\x80\"}") << rest << bad();
    QTest::newRow("overlong utf-8") << QByteArray("{\"a\":\"\xc0\xaf\"}") << rest << bad();
    QTest::newRow("NaN") << QByteArray("{\"a\":NaN}") << rest << bad();
    QTest::newRow("Infinity") << QByteArray("{\"a\":Infinity}") << rest << bad();
    QTest::newRow("1e400") << QByteArray("{\"a\":1e400}") << rest << bad();
    QTest::newRow("100k [") << repeat('[', 100000) << rest << bad();
    QTest::newRow("100k { in object") << QByteArray("{\"a\":" + repeat('[', 100000)) << rest << bad();
    QTest::newRow("2000 nested, closed") << QByteArray("{\"a\":" + repeat('[', 2000) + repeat(']', 2000) + '}') << rest
                                         << bad();
    QTest::newRow("over the limit") << QByteArray("{\"a\":\"" + repeat('x', 100) + "\"}") << qint64(50) << tooLarge();
    QTest::newRow("1 MiB + 1") << QByteArray("{\"a\":\"" + repeat('x', limits::kBodyBytesMax) + "\"}") << rest
                               << tooLarge();
    QTest::newRow("64 KiB + 1 frame") << QByteArray(limits::kFrameBytesMax + 1, ' ') << qint64(limits::kFrameBytesMax)
                                      << tooLarge();
}

void TestJsonReader::parseObjectErrors()
{
    QFETCH(QByteArray, input);
    QFETCH(qint64, limit);
    QFETCH(QString, code);
    const Result<QJsonObject> r = parseObject(input, limit);
    QVERIFY(!r.ok());
    QCOMPARE(errorCodeName(r.error().code), code);
    QVERIFY(r.error().field.isEmpty());
    QVERIFY(!r.error().message.isEmpty());
}

void TestJsonReader::parseObjectAccepts_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QJsonValue>("value");
    QTest::newRow("plain") << QByteArray("{\"a\":1}") << QStringLiteral("a") << QJsonValue(1);
    QTest::newRow("whitespace around") << QByteArray(" \r\n{ \"a\" : 1 }\n") << QStringLiteral("a") << QJsonValue(1);
    QTest::newRow("duplicate key: last wins")
        << QByteArray("{\"a\":1,\"a\":2}") << QStringLiteral("a") << QJsonValue(2);
    QTest::newRow("unicode escapes") << QByteArray("{\"a\":\"\\u00e9\\ud83d\\ude00\"}") << QStringLiteral("a")
                                     << QJsonValue(QStringLiteral("\u00e9\U0001F600"));
    QTest::newRow("exactly at the limit") << QByteArray("{\"a\":\"" + repeat('x', 1000) + "\"}") << QStringLiteral("a")
                                          << QJsonValue(QString(1000, QLatin1Char('x')));
    QTest::newRow("1000 nested arrays") << QByteArray("{\"a\":" + repeat('[', 1000) + repeat(']', 1000) + '}')
                                        << QStringLiteral("b") << QJsonValue(QJsonValue::Undefined);
}

void TestJsonReader::parseObjectAccepts()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, key);
    QFETCH(QJsonValue, value);
    const Result<QJsonObject> r = parseObject(input, input.size());
    QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
    QCOMPARE(r->value(key), value);
}

void TestJsonReader::integers_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<qint64>("expected");
    QTest::newRow("5") << QByteArray("5") << true << qint64(5);
    QTest::newRow("0") << QByteArray("0") << true << qint64(0);
    QTest::newRow("-7") << QByteArray("-7") << true << qint64(-7);
    QTest::newRow("-0") << QByteArray("-0") << true << qint64(0);
    QTest::newRow("5.0") << QByteArray("5.0") << true << qint64(5);
    QTest::newRow("1e3") << QByteArray("1e3") << true << qint64(1000);
    QTest::newRow("2^53 + 1") << QByteArray("9007199254740993") << true << qint64(9007199254740993);
    QTest::newRow("int64 max") << QByteArray("9223372036854775807") << true << std::numeric_limits<qint64>::max();
    QTest::newRow("int64 min") << QByteArray("-9223372036854775808") << true << std::numeric_limits<qint64>::min();
    QTest::newRow("2^63") << QByteArray("9223372036854775808") << false << qint64(0);
    QTest::newRow("1.5") << QByteArray("1.5") << false << qint64(0);
    QTest::newRow("0.1") << QByteArray("0.1") << false << qint64(0);
    QTest::newRow("1e300") << QByteArray("1e300") << false << qint64(0);
    QTest::newRow("-1e300") << QByteArray("-1e300") << false << qint64(0);
    QTest::newRow("string 5") << QByteArray("\"5\"") << false << qint64(0);
    QTest::newRow("true") << QByteArray("true") << false << qint64(0);
    QTest::newRow("null") << QByteArray("null") << false << qint64(0);
    QTest::newRow("array") << QByteArray("[5]") << false << qint64(0);
    QTest::newRow("object") << QByteArray("{\"v\":5}") << false << qint64(0);
}

void TestJsonReader::integers()
{
    QFETCH(QByteArray, json);
    QFETCH(bool, valid);
    QFETCH(qint64, expected);
    const Result<qint64> r = readV<json::Int>(json);
    QCOMPARE(r.ok(), valid);
    if (valid) {
        QCOMPARE(*r, expected);
    } else {
        expectError(r.error(), invalid(), QStringLiteral("v"));
        QCOMPARE(r.error().message, QStringLiteral("v must be an integer"));
    }
}

// Every kind with a sample of good and bad values: the row says whether it reads.
void TestJsonReader::kinds_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<bool>("valid");

    const auto row = [](const char *kind, const char *json, bool valid) {
        QTest::addRow("%s %s", kind, json) << QString::fromLatin1(kind) << QByteArray(json) << valid;
    };
    row("id", "1", true);
    row("id", "0", false);
    row("id", "-1", false);
    row("nonNegative", "0", true);
    row("nonNegative", "-1", false);
    row("string", "\"\"", true);
    row("string", "\"\\ud800\"", false); // lone surrogate through an escape
    row("string", "\"\\ud83d\\ude00\"", true);
    row("string", "5", false);
    row("bool", "true", true);
    row("bool", "0", false);
    row("bool", "\"true\"", false);
    row("number", "1e300", true);
    row("number", "-0.5", true);
    row("number", "\"1\"", false);
    row("timestamp", "\"2026-11-23T12:00:00.000Z\"", true);
    row("timestamp", "\"2026-11-23T13:00:00+01:00\"", true);
    row("timestamp", "\"2026-11-23 12:00:00\"", false);
    row("timestamp", "\"2026-02-30T12:00:00Z\"", false);
    row("timestamp", "1700000000", false);
    row("date", "\"2026-02-28\"", true);
    row("date", "\"2028-02-29\"", true);
    row("date", "\"2026-02-30\"", false);
    row("date", "\"2026-2-3\"", false);
    row("date", "\"2026-02-03T00:00:00Z\"", false);
    row("channel", "\"room:12\"", true);
    row("channel", "\"project:3\"", true);
    row("channel", "\"room:abc\"", false);
    row("channel", "\"room:0\"", false);
    row("channel", "\"room:012\"", false);
    row("channel", "\"Room:1\"", false);
    row("channel", "\"task:1\"", false);
    row("channel", "12", false);
    row("idArray", "[]", true);
    row("idArray", "[1,2,3]", true);
    row("idArray", "[1,\"2\"]", false);
    row("idArray", "[1,0]", false);
    row("idArray", "[1.5]", false);
    row("idArray", "[[1]]", false);
    row("idArray", "1", false);
    row("status", "\"in_progress\"", true);
    row("status", "\"In_Progress\"", false);
    row("status", "\"DONE\"", false);
    row("status", "\"doing\"", false);
    row("priority", "\"urgent\"", true);
    row("priority", "\"Urgent\"", false);
    row("object", "{}", true);
    row("object", "[]", false);
}

void TestJsonReader::kinds()
{
    QFETCH(QString, kind);
    QFETCH(QByteArray, json);
    QFETCH(bool, valid);
    MaybeError error;
    const auto run = [&](auto r) {
        if (!r.ok())
            error = r.error();
    };
    if (kind == QLatin1String("id"))
        run(readV<json::Id>(json));
    else if (kind == QLatin1String("nonNegative"))
        run(readV<json::NonNegative>(json));
    else if (kind == QLatin1String("string"))
        run(readV<json::String>(json));
    else if (kind == QLatin1String("bool"))
        run(readV<json::Bool>(json));
    else if (kind == QLatin1String("number"))
        run(readV<json::Number>(json));
    else if (kind == QLatin1String("timestamp"))
        run(readV<json::Timestamp>(json));
    else if (kind == QLatin1String("date"))
        run(readV<json::Date>(json));
    else if (kind == QLatin1String("channel"))
        run(readV<json::Channel>(json));
    else if (kind == QLatin1String("idArray"))
        run(readV<json::IdArray>(json));
    else if (kind == QLatin1String("status"))
        run(readV<json::TaskStatusEnum>(json));
    else if (kind == QLatin1String("priority"))
        run(readV<json::TaskPriorityEnum>(json));
    else if (kind == QLatin1String("object"))
        run(readV<json::Object>(json));
    else
        QFAIL("unknown kind");
    QCOMPARE(!error.has_value(), valid);
    if (error)
        expectError(error, invalid(), QStringLiteral("v"));
}

void TestJsonReader::presence()
{
    const QJsonObject o = *parseObject(R"({"n":null,"v":7})", 100);
    {
        JsonReader r(o);
        QCOMPARE(r.required<json::Id>("v"), qint64(7));
        QVERIFY(r.ok());
        QVERIFY(!r.optional<json::Id>("absent"));
        QVERIFY(!r.nullable<json::Id>("n"));
        QVERIFY(!r.nullable<json::Id>("absent"));
        QVERIFY(r.patch<json::Id>("absent") == Patch<Id>());
        QVERIFY(r.patch<json::Id>("n") == Patch<Id>(std::in_place));
        QVERIFY(r.patch<json::Id>("v") == Patch<Id>(std::in_place, 7));
        QVERIFY(r.ok());
    }
    {
        JsonReader r(o);
        (void)r.required<json::Id>("absent");
        QCOMPARE(r.error()->field, QStringLiteral("absent"));
        QCOMPARE(r.error()->message, QStringLiteral("absent is required"));
    }
    {
        JsonReader r(o);
        (void)r.required<json::Id>("n"); // null is not an id
        QCOMPARE(r.error()->message, QStringLiteral("n must be a positive integer"));
    }
    {
        JsonReader r(o);
        (void)r.optional<json::Id>("n"); // optional does not mean nullable
        QCOMPARE(r.error()->field, QStringLiteral("n"));
    }
}

void TestJsonReader::nestedPaths()
{
    Room r = room();
    QByteArray bytes = toJson(r);
    bytes.replace("\"memberIds\":[5,6,9007199254740993]", "\"memberIds\":[5,-6]");
    const QByteArray page = "{\"outer\":{\"items\":[" + toJson(message()) + ',' + bytes + "]}}";
    const QJsonObject o = *parseObject(page, page.size());
    JsonReader top(o);
    JsonReader outer(top, top.required<json::Object>("outer"), QStringLiteral("outer"));
    (void)outer.list<Room>("items");
    QVERIFY(!top.ok()); // the child's error is the parent's
    // The first item is a message, so it already lacks the room's "name".
    QCOMPARE(top.error()->field, QStringLiteral("outer.items[0].name"));
    QCOMPARE(top.error()->message, QStringLiteral("outer.items[0].name is required"));

    const QByteArray second = "{\"items\":[" + toJson(room()) + ',' + bytes + "]}";
    const auto decoded = fromJson<Page<Room>>(second);
    QVERIFY(!decoded.ok());
    QCOMPARE(decoded.error().field, QStringLiteral("items[1].memberIds"));
    QCOMPARE(decoded.error().message, QStringLiteral("items[1].memberIds must be an array of positive integers"));
}

void TestJsonReader::firstErrorWins()
{
    const QJsonObject o = *parseObject(R"({"a":"x","b":-1})", 100);
    JsonReader r(o);
    (void)r.required<json::Id>("a");
    (void)r.required<json::Id>("b");
    r.check(Error::validation(QStringLiteral("c"), QStringLiteral("c is wrong")));
    QCOMPARE(r.error()->field, QStringLiteral("a"));
    const Result<int> done = r.finish(1);
    QVERIFY(!done.ok());
    QCOMPARE(done.error().field, QStringLiteral("a"));
}

void TestJsonReader::writerStrings_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("plain") << QStringLiteral("abc") << QByteArray("\"abc\"");
    QTest::newRow("empty") << QString() << QByteArray("\"\"");
    QTest::newRow("quote and backslash") << QStringLiteral("a\"b\\c") << QByteArray("\"a\\\"b\\\\c\"");
    QTest::newRow("short escapes") << QStringLiteral("\n\r\t\b\f") << QByteArray("\"\\n\\r\\t\\b\\f\"");
    QTest::newRow("other controls") << QString(QString(QChar(0)) + QChar(0x1f) + QChar(0x7f))
                                    << QByteArray("\"\\u0000\\u001f\x7f\"");
    QTest::newRow("slash is not escaped") << QStringLiteral("</script>") << QByteArray("\"</script>\"");
    QTest::newRow("latin-1") << QStringLiteral("\u00e9") << QByteArray("\"\xc3\xa9\"");
    QTest::newRow("bmp") << QStringLiteral("\u20ac\u2028") << QByteArray("\"\xe2\x82\xac\xe2\x80\xa8\"");
    QTest::newRow("astral") << QStringLiteral("\U0001F600") << QByteArray("\"\xf0\x9f\x98\x80\"");
    QTest::newRow("lone high surrogate") << QString(QString(QChar(0xd800)) + QLatin1Char('x'))
                                         << QByteArray("\"\xef\xbf\xbdx\"");
    QTest::newRow("lone low surrogate") << QString(QChar(0xdc00)) << QByteArray("\"\xef\xbf\xbd\"");
}

void TestJsonReader::writerStrings()
{
    QFETCH(QString, input);
    QFETCH(QByteArray, expected);
    JsonWriter w;
    w.string(input);
    QCOMPARE(w.bytes(), expected);
    // Qt's parser reads it back (as a value inside an array).
    const QJsonDocument doc = QJsonDocument::fromJson('[' + w.bytes() + ']');
    QVERIFY(doc.isArray());
    if (QStringView(input).isValidUtf16())
        QCOMPARE(doc.array().at(0).toString(), input);
}

void TestJsonReader::writerNumbers_data()
{
    QTest::addColumn<double>("input");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("integral") << 5.0 << QByteArray("5");
    QTest::newRow("fraction") << 1.5 << QByteArray("1.5");
    QTest::newRow("tenth") << 0.1 << QByteArray("0.1");
    QTest::newRow("negative") << -2.25 << QByteArray("-2.25");
    QTest::newRow("huge") << 1e300 << QByteArray("1e+300");
    QTest::newRow("tiny") << 5e-324 << QByteArray("5e-324");
    QTest::newRow("ms clock") << 1795435200123.0 << QByteArray("1795435200123");
    QTest::newRow("NaN is null") << std::numeric_limits<double>::quiet_NaN() << QByteArray("null");
    QTest::newRow("inf is null") << std::numeric_limits<double>::infinity() << QByteArray("null");
}

void TestJsonReader::writerNumbers()
{
    QFETCH(double, input);
    QFETCH(QByteArray, expected);
    JsonWriter w;
    w.number(input);
    QCOMPARE(w.bytes(), expected);
    if (expected != "null") {
        const QJsonDocument doc = QJsonDocument::fromJson('[' + w.bytes() + ']');
        QCOMPARE(doc.array().at(0).toDouble(), input); // exact round trip
    }
}

void TestJsonReader::writerStructure()
{
    JsonWriter w;
    w.beginObject();
    w.key("a").beginArray().integer(std::numeric_limits<qint64>::min()).integer(0).null().boolean(false).endArray();
    w.key("b").beginObject().endObject();
    w.key(QStringLiteral("room:\"1\"")).string(QLatin1StringView("x\xe9"));
    w.key("c").raw("{\"pre\":1}");
    w.key("d").beginArray().beginObject().endObject().beginArray().endArray().endArray();
    w.endObject();
    QCOMPARE(w.bytes(),
             QByteArray("{\"a\":[-9223372036854775808,0,null,false],\"b\":{},\"room:\\\"1\\\"\":\"x\xc3\xa9\","
                        "\"c\":{\"pre\":1},\"d\":[{},[]]}"));
    QVERIFY(QJsonDocument::fromJson(w.bytes()).isObject());
}

QTEST_APPLESS_MAIN(TestJsonReader)
#include "tst_codec_reader.moc"
