// The pure rules of attachments (server/attachments/attachment.h): the filename check, the stored
// media type, Content-Disposition (RFC 6266 / 8187), Range parsing and If-None-Match matching.
#include "server/attachments/attachment.h"

#include <QTest>

using namespace taskmaster;
using namespace taskmaster::server;

class TestAttachmentRules final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void filenames_data();
    void filenames();
    void mediaTypes();
    void disposition();
    void ranges_data();
    void ranges();
    void etags();
};

void TestAttachmentRules::filenames_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("ok");
    QTest::newRow("plain") << QStringLiteral("report.pdf") << true;
    QTest::newRow("unicode") << QStringLiteral("Früh 🚀.png") << true;
    QTest::newRow("255 bytes") << QString(255, QLatin1Char('a')) << true;
    QTest::newRow("256 bytes") << QString(256, QLatin1Char('a')) << false;
    QTest::newRow("128 two-byte characters") << QString(128, QChar(0xe9)) << false;
    QTest::newRow("empty") << QString() << false;
    QTest::newRow("slash") << QStringLiteral("a/b") << false;
    QTest::newRow("backslash") << QStringLiteral("a\\b") << false;
    QTest::newRow("newline") << QStringLiteral("a\nb") << false;
    QTest::newRow("DEL") << QStringLiteral("a\x7f") << false;
    QTest::newRow("C1") << QString(QChar(0x85)) << false;
    QTest::newRow("dot") << QStringLiteral(".") << false;
    QTest::newRow("dot dot") << QStringLiteral("..") << false;
    QTest::newRow("dot file") << QStringLiteral(".env") << true;
    QTest::newRow("replacement char") << QString(QChar(0xfffd)) << false;
    QTest::newRow("lone surrogate") << QString(QChar(0xd800)) << false;
}

void TestAttachmentRules::filenames()
{
    QFETCH(QString, name);
    QFETCH(bool, ok);
    const MaybeError e = checkFilename(name);
    QCOMPARE(!e, ok);
    if (e) {
        QCOMPARE(e->code, ErrorCode::ValidationFailed);
        QCOMPARE(e->field, QStringLiteral("filename"));
    }
}

void TestAttachmentRules::mediaTypes()
{
    QCOMPARE(mediaType(""), std::optional<QString>(QStringLiteral("application/octet-stream")));
    QCOMPARE(mediaType("Text/Plain; charset=UTF-8"), std::optional<QString>(QStringLiteral("text/plain")));
    QCOMPARE(mediaType("image/svg+xml"), std::optional<QString>(QStringLiteral("image/svg+xml")));
    QVERIFY(!mediaType("text"));
    QVERIFY(!mediaType("text/"));
    QVERIFY(!mediaType("a b/c"));
    QVERIFY(isInlineImage(QStringLiteral("image/png")));
    QVERIFY(!isInlineImage(QStringLiteral("image/svg+xml")));
    QVERIFY(!isInlineImage(QStringLiteral("text/html")));
}

void TestAttachmentRules::disposition()
{
    Attachment a;
    a.name = QStringLiteral("naïve \"x\"\\y 50%.txt");
    a.contentType = QStringLiteral("text/plain");
    QCOMPARE(contentDisposition(a),
             QByteArray("attachment; filename=\"na_ve _x__y 50%.txt\"; "
                        "filename*=UTF-8''na%C3%AFve%20%22x%22%5Cy%2050%25.txt"));
    a.name = QStringLiteral("a.png");
    a.contentType = QStringLiteral("image/png");
    QCOMPARE(contentDisposition(a), QByteArray("inline; filename=\"a.png\"; filename*=UTF-8''a.png"));
}

void TestAttachmentRules::ranges_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<qint64>("size");
    QTest::addColumn<int>("kind"); // ByteRange::Kind
    QTest::addColumn<qint64>("first");
    QTest::addColumn<qint64>("last");
    const int whole = int(ByteRange::Kind::Whole), part = int(ByteRange::Kind::Part),
              none = int(ByteRange::Kind::Unsatisfiable);
    QTest::newRow("absent") << QByteArray() << qint64(10) << whole << qint64(0) << qint64(-1);
    QTest::newRow("0-0") << QByteArray("bytes=0-0") << qint64(10) << part << qint64(0) << qint64(0);
    QTest::newRow("open end") << QByteArray("bytes=3-") << qint64(10) << part << qint64(3) << qint64(9);
    QTest::newRow("suffix") << QByteArray("bytes=-4") << qint64(10) << part << qint64(6) << qint64(9);
    QTest::newRow("suffix over size") << QByteArray("bytes=-40") << qint64(10) << part << qint64(0) << qint64(9);
    QTest::newRow("end clamped") << QByteArray("bytes=5-99") << qint64(10) << part << qint64(5) << qint64(9);
    QTest::newRow("start at size") << QByteArray("bytes=10-") << qint64(10) << none << qint64(0) << qint64(-1);
    QTest::newRow("suffix zero") << QByteArray("bytes=-0") << qint64(10) << none << qint64(0) << qint64(-1);
    QTest::newRow("empty file") << QByteArray("bytes=0-") << qint64(0) << none << qint64(0) << qint64(-1);
    QTest::newRow("reversed") << QByteArray("bytes=5-2") << qint64(10) << whole << qint64(0) << qint64(-1);
    QTest::newRow("two ranges") << QByteArray("bytes=0-1,3-4") << qint64(10) << whole << qint64(0) << qint64(-1);
    QTest::newRow("other unit") << QByteArray("lines=0-1") << qint64(10) << whole << qint64(0) << qint64(-1);
    QTest::newRow("sign") << QByteArray("bytes=+1-2") << qint64(10) << whole << qint64(0) << qint64(-1);
    QTest::newRow("huge") << QByteArray("bytes=99999999999999999999-") << qint64(10) << whole << qint64(0)
                          << qint64(-1);
}

void TestAttachmentRules::ranges()
{
    QFETCH(QByteArray, header);
    QFETCH(qint64, size);
    QFETCH(int, kind);
    QFETCH(qint64, first);
    QFETCH(qint64, last);
    const ByteRange r = parseRange(header, size);
    QCOMPARE(int(r.kind), kind);
    if (r.kind == ByteRange::Kind::Part) {
        QCOMPARE(r.first, first);
        QCOMPARE(r.last, last);
    }
}

void TestAttachmentRules::etags()
{
    const QByteArray sha = "abc123";
    QVERIFY(etagListMatches("\"abc123\"", sha));
    QVERIFY(etagListMatches("W/\"abc123\"", sha));
    QVERIFY(etagListMatches("\"x\", \"abc123\"", sha));
    QVERIFY(etagListMatches("*", sha));
    QVERIFY(!etagListMatches("\"abc1234\"", sha));
    QVERIFY(!etagListMatches("abc123", sha));
}

QTEST_APPLESS_MAIN(TestAttachmentRules)
#include "tst_attachment_rules.moc"
