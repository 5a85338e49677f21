// Attachments in the loopback cluster of scripts/cluster/cluster.sh (docs/protocol.md section 6.8,
// PostgreSQL storage: no shared volume): an image uploaded through one instance is read back
// through another instance directly and through nginx (the whole file, a Range, If-None-Match),
// its thumbnail made on a third instance and served the same by the others; a file over nginx's
// 1 MiB limit of other bodies uploaded through nginx and read back through an instance; a
// non-member gets 404 everywhere. Runs under scripts/cluster/with-cluster.sh, which exports
// TM_CLUSTER_URL and the instances' URLs. Thread: the test's thread.
#include "tests/support/api_client.h"
#include "tests/support/test_env.h"

#include <QBuffer>
#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QHostAddress>
#include <QImage>
#include <QJsonArray>
#include <QTcpSocket>
#include <QTest>

using namespace taskmaster;
using taskmaster::test::Account;
using taskmaster::test::ApiClient;
using taskmaster::test::ApiReply;

namespace {

struct RawReply {
    int status = 0; // 0: no answer
    QList<std::pair<QByteArray, QByteArray>> headers;
    QByteArray body;

    [[nodiscard]] QByteArray header(const QByteArray &name) const
    {
        for (const auto &[k, v] : headers) {
            if (k.compare(name, Qt::CaseInsensitive) == 0)
                return v;
        }
        return {};
    }
    [[nodiscard]] QJsonObject attachment() const
    {
        return QJsonDocument::fromJson(body).object().value(QLatin1String("attachment")).toObject();
    }
};

// One request (head without its blank line, then body) with "Connection: close" to
// 127.0.0.1:port; reads the answer until the server closes, with a deadline. Every attachment
// answer closes its connection (section 6.8, "Connections").
RawReply rawRequest(quint16 port, QByteArray head, const QByteArray &body = {})
{
    RawReply r;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
    if (!socket.waitForConnected(5000))
        return r;
    head += "\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    socket.write(head);
    qsizetype sent = 0;
    QByteArray data;
    const QDeadlineTimer deadline(60000);
    while (!deadline.hasExpired() && socket.state() == QAbstractSocket::ConnectedState) {
        if (sent < body.size() && socket.bytesToWrite() < (1 << 20)) {
            const qsizetype n = std::min<qsizetype>(256 * 1024, body.size() - sent);
            socket.write(body.constData() + sent, n);
            sent += n;
        }
        if (sent < body.size())
            socket.waitForBytesWritten(50);
        socket.waitForReadyRead(sent < body.size() ? 1 : 500);
        data += socket.readAll();
    }
    data += socket.readAll();
    qsizetype end = data.indexOf("\r\n\r\n");
    while (end >= 0 && data.startsWith("HTTP/1.1 100 ")) { // an interim answer
        data.remove(0, end + 4);
        end = data.indexOf("\r\n\r\n");
    }
    if (end < 0)
        return r;
    const QList<QByteArray> lines = data.left(end).split('\n');
    r.status = lines.value(0).trimmed().split(' ').value(1).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines.at(i).indexOf(':');
        if (colon > 0)
            r.headers.append({lines.at(i).left(colon).trimmed(), lines.at(i).mid(colon + 1).trimmed()});
    }
    r.body = data.mid(end + 4);
    return r;
}

QByteArray auth(const QByteArray &token)
{
    return "Authorization: Bearer " + token;
}

// A PNG of 900 x 600 noise (a pattern that compresses badly): over 1 MiB, several storage chunks.
QByteArray noisePng()
{
    QImage image(900, 600, QImage::Format_RGB32);
    quint32 x = 2463534242u;
    for (int row = 0; row < image.height(); ++row) {
        auto *line = reinterpret_cast<QRgb *>(image.scanLine(row));
        for (int col = 0; col < image.width(); ++col) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            line[col] = qRgb(int(x & 0xff), int((x >> 8) & 0xff), int((x >> 16) & 0xff));
        }
    }
    QByteArray png;
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    return png;
}

QByteArray sha256Hex(const QByteArray &bytes)
{
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex();
}

} // namespace

class TestClusterAttachments final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();

    void uploadOnOneDownloadOnAnother();
    void downloadThroughNginx_data();
    void downloadThroughNginx();
    void thumbnailOnAnotherInstance();
    void largeUploadThroughNginx();
    void nonMemberGets404_data();
    void nonMemberGets404();

private:
    // The port of instance i (1-based), or of nginx for 0.
    [[nodiscard]] quint16 port(int i) const;

    QUrl m_url;
    int m_instances = 0;
    std::unique_ptr<ApiClient> m_api;
    Account m_alice, m_bob, m_carol; // alice uploads; bob shares her room; carol does not
    qint64 m_roomId = 0;
    QByteArray m_png;
    qint64 m_imageId = 0;
    QByteArray m_thumbnail;
};

void TestClusterAttachments::initTestCase()
{
    TM_REQUIRE_CLUSTER(url, "TM_CLUSTER_URL");
    m_url = QUrl(url);
    m_instances = qEnvironmentVariableIntValue("TM_CLUSTER_INSTANCES");
    QVERIFY2(m_instances >= 3, "this test needs 3 instances");
    for (int i = 0; i <= 3; ++i)
        QVERIFY2(port(i) != 0, qPrintable(QStringLiteral("no port for instance %1").arg(i)));
    m_api = std::make_unique<ApiClient>(m_url);
    m_alice = m_api->signUp("alice");
    m_bob = m_api->signUp("bob");
    m_carol = m_api->signUp("carol");
    QVERIFY(!m_alice.token.isEmpty() && !m_bob.token.isEmpty() && !m_carol.token.isEmpty());
    m_roomId = m_api->createRoom(m_alice, {m_bob});
    QVERIFY(m_roomId > 0);
    m_png = noisePng();
    QVERIFY2(m_png.size() > (1 << 20), qPrintable(QString::number(m_png.size())));
}

quint16 TestClusterAttachments::port(int i) const
{
    if (i == 0)
        return quint16(m_url.port());
    return quint16(QUrl(qEnvironmentVariable(qPrintable(QStringLiteral("TM_INSTANCE_%1_URL").arg(i)))).port());
}

void TestClusterAttachments::uploadOnOneDownloadOnAnother()
{
    // Upload through instance 1 directly, and use it in a message there.
    const RawReply up
        = rawRequest(port(1),
                     "POST /api/v1/uploads?filename=noise.png HTTP/1.1\r\n" + auth(m_alice.token)
                         + "\r\nContent-Type: image/png\r\nContent-Length: " + QByteArray::number(m_png.size()),
                     m_png);
    QCOMPARE(up.status, 201);
    m_imageId = up.attachment().value(QLatin1String("id")).toInteger();
    QVERIFY(m_imageId > 0);
    QCOMPARE(up.attachment().value(QLatin1String("sha256")).toString().toLatin1(), sha256Hex(m_png));

    ApiClient one(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port(1))));
    const ApiReply sent = one.post(QStringLiteral("/api/v1/rooms/%1/messages").arg(m_roomId),
                                   QJsonObject {{QStringLiteral("body"), QStringLiteral("a picture")},
                                                {QStringLiteral("attachmentIds"), QJsonArray {m_imageId}}},
                                   m_alice.token);
    QCOMPARE(sent.status, 201);
    const QJsonArray carried = sent.json().value(QLatin1String("attachments")).toArray();
    QCOMPARE(carried.size(), 1);
    QCOMPARE(carried.at(0).toObject().value(QLatin1String("id")).toInteger(), m_imageId);

    // Bob, a member of the room, reads it through instance 2 directly: every byte.
    const QByteArray path = "/api/v1/attachments/" + QByteArray::number(m_imageId);
    const RawReply down = rawRequest(port(2), "GET " + path + " HTTP/1.1\r\n" + auth(m_bob.token));
    QCOMPARE(down.status, 200);
    QCOMPARE(down.header("Content-Length"), QByteArray::number(m_png.size()));
    QCOMPARE(down.header("Content-Type"), QByteArray("image/png"));
    QCOMPARE(down.header("ETag"), QByteArray('"' + sha256Hex(m_png) + '"'));
    QCOMPARE(down.header("X-Content-Type-Options"), QByteArray("nosniff"));
    QCOMPARE(down.body.size(), m_png.size());
    QCOMPARE(sha256Hex(down.body), sha256Hex(m_png));
    // And the message, with its attachment, in the history that instance 3 serves.
    ApiClient three(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port(3))));
    const ApiReply history = three.get(QStringLiteral("/api/v1/rooms/%1/messages?limit=5").arg(m_roomId), m_bob.token);
    QCOMPARE(history.status, 200);
    bool found = false;
    for (const QJsonValue &m : history.items()) {
        const QJsonArray a = m.toObject().value(QLatin1String("attachments")).toArray();
        found = found || (a.size() == 1 && a.at(0).toObject().value(QLatin1String("id")).toInteger() == m_imageId);
    }
    QVERIFY(found);
}

void TestClusterAttachments::downloadThroughNginx_data()
{
    QTest::addColumn<QByteArray>("extra");
    QTest::addColumn<int>("status");
    QTest::addColumn<qint64>("from"); // the body is m_png.mid(from, length); -1: no body
    QTest::addColumn<qint64>("length");
    QTest::addColumn<QByteArray>("contentRange");
    QTest::newRow("whole") << QByteArray() << 200 << qint64(0) << qint64(-1) << QByteArray();
    QTest::newRow("range a-b") << QByteArray("Range: bytes=1000-1999") << 206 << qint64(1000) << qint64(1000)
                               << QByteArray("bytes 1000-1999/@");
    QTest::newRow("range a-") << QByteArray("Range: bytes=300000-") << 206 << qint64(300000) << qint64(-1)
                              << QByteArray("bytes 300000-@-1/@");
    QTest::newRow("range -n") << QByteArray("Range: bytes=-100") << 206 << qint64(-100) << qint64(100)
                              << QByteArray("bytes @-100-@-1/@");
    QTest::newRow("range past the end") << QByteArray("Range: bytes=@-") << 416 << qint64(-1) << qint64(0)
                                        << QByteArray("bytes */@");
    QTest::newRow("if-none-match") << QByteArray("If-None-Match: \"#\"") << 304 << qint64(-1) << qint64(0)
                                   << QByteArray();
    QTest::newRow("if-none-match, other tag")
        << QByteArray("If-None-Match: \"0000\"") << 200 << qint64(0) << qint64(-1) << QByteArray();
}

void TestClusterAttachments::downloadThroughNginx()
{
    QFETCH(QByteArray, extra);
    QFETCH(int, status);
    QFETCH(qint64, from);
    QFETCH(qint64, length);
    QFETCH(QByteArray, contentRange);
    QVERIFY2(m_imageId > 0, "uploadOnOneDownloadOnAnother failed");
    const qint64 size = m_png.size();
    // @: the size; @-n: size - n; #: the sha256.
    const auto fill = [size, this](QByteArray s) {
        for (const qint64 n : {100, 1}) {
            s.replace(QByteArray("@-" + QByteArray::number(n)), QByteArray::number(size - n));
        }
        return s.replace(QByteArray("@"), QByteArray::number(size)).replace(QByteArray("#"), sha256Hex(m_png));
    };
    extra = fill(extra);
    QByteArray head = "GET /api/v1/attachments/" + QByteArray::number(m_imageId) + " HTTP/1.1\r\n" + auth(m_bob.token);
    if (!extra.isEmpty())
        head += "\r\n" + extra;
    const RawReply r = rawRequest(port(0), head);
    QCOMPARE(r.status, status);
    QCOMPARE(r.header("X-Content-Type-Options"), QByteArray("nosniff"));
    if (!contentRange.isEmpty())
        QCOMPARE(r.header("Content-Range"), fill(contentRange));
    if (status == 304) {
        QCOMPARE(r.header("ETag"), QByteArray('"' + sha256Hex(m_png) + '"'));
        QVERIFY(r.body.isEmpty());
        return;
    }
    if (from == -1)
        return;
    const QByteArray expected = m_png.mid(from < 0 ? size + from : from, length < 0 ? -1 : length);
    QCOMPARE(r.body.size(), expected.size());
    QCOMPARE(r.body, expected);
    QCOMPARE(r.header("Content-Length"), QByteArray::number(expected.size()));
}

void TestClusterAttachments::thumbnailOnAnotherInstance()
{
    QVERIFY2(m_imageId > 0, "uploadOnOneDownloadOnAnother failed");
    const QByteArray path = "/api/v1/attachments/" + QByteArray::number(m_imageId) + "/thumbnail";
    // Made on instance 3 (first asked there), then the same bytes from instance 2 and nginx.
    const RawReply made = rawRequest(port(3), "GET " + path + " HTTP/1.1\r\n" + auth(m_bob.token));
    QCOMPARE(made.status, 200);
    const QByteArray type = made.header("Content-Type");
    QVERIFY2(type == "image/jpeg" || type == "image/png", type.constData());
    QImage thumb;
    QVERIFY(thumb.loadFromData(made.body));
    QCOMPARE(std::max(thumb.width(), thumb.height()), 320);
    QVERIFY2(std::abs(thumb.height() - 320 * 600 / 900) <= 1, qPrintable(QString::number(thumb.height()))); // aspect
    m_thumbnail = made.body;
    for (const int i : {2, 0}) {
        const RawReply again = rawRequest(port(i), "GET " + path + " HTTP/1.1\r\n" + auth(m_bob.token));
        QCOMPARE(again.status, 200);
        QCOMPARE(again.body, m_thumbnail);
        QCOMPARE(again.header("ETag"), made.header("ETag"));
    }
    const RawReply cached = rawRequest(
        port(1), "GET " + path + " HTTP/1.1\r\n" + auth(m_bob.token) + "\r\nIf-None-Match: " + made.header("ETag"));
    QCOMPARE(cached.status, 304);
}

void TestClusterAttachments::largeUploadThroughNginx()
{
    // 3 MiB, over the 1 MiB nginx allows other bodies, through nginx (unbuffered to an instance),
    // then read back through each instance directly by the uploader.
    QByteArray bytes(3 << 20, Qt::Uninitialized);
    for (qsizetype i = 0; i < bytes.size(); ++i)
        bytes[i] = char((i * 7 + (i >> 10)) & 0xff);
    const RawReply up = rawRequest(port(0),
                                   "POST /api/v1/uploads?filename=big.bin HTTP/1.1\r\n" + auth(m_alice.token)
                                       + "\r\nContent-Type: application/octet-stream\r\nContent-Length: "
                                       + QByteArray::number(bytes.size()),
                                   bytes);
    QCOMPARE(up.status, 201);
    const qint64 id = up.attachment().value(QLatin1String("id")).toInteger();
    QVERIFY(id > 0);
    for (int i = 1; i <= 3; ++i) {
        const RawReply down = rawRequest(
            port(i), "GET /api/v1/attachments/" + QByteArray::number(id) + " HTTP/1.1\r\n" + auth(m_alice.token));
        QCOMPARE(down.status, 200);
        QVERIFY(down.header("Content-Disposition").startsWith("attachment; filename=\"big.bin\""));
        QCOMPARE(sha256Hex(down.body), sha256Hex(bytes));
        // Not used anywhere: only the uploader reads it.
        QCOMPARE(rawRequest(port(i),
                            "GET /api/v1/attachments/" + QByteArray::number(id) + " HTTP/1.1\r\n" + auth(m_bob.token))
                     .status,
                 404);
    }
    // Over the upload limit (25 MiB): nginx answers the server's 413 from the head alone.
    const RawReply tooLarge = rawRequest(port(0),
                                         "POST /api/v1/uploads?filename=huge.bin HTTP/1.1\r\n" + auth(m_alice.token)
                                             + "\r\nContent-Length: " + QByteArray::number((25LL << 20) + 1));
    QCOMPARE(tooLarge.status, 413);
    QVERIFY2(tooLarge.body.contains("\"too_large\""), tooLarge.body.constData());
}

void TestClusterAttachments::nonMemberGets404_data()
{
    QTest::addColumn<int>("instance"); // 0: nginx
    QTest::addColumn<bool>("thumbnail");
    for (int i = 0; i <= 3; ++i) {
        QTest::addRow("file via %d", i) << i << false;
        QTest::addRow("thumbnail via %d", i) << i << true;
    }
}

void TestClusterAttachments::nonMemberGets404()
{
    QFETCH(int, instance);
    QFETCH(bool, thumbnail);
    QVERIFY2(m_imageId > 0, "uploadOnOneDownloadOnAnother failed");
    const QByteArray path
        = "/api/v1/attachments/" + QByteArray::number(m_imageId) + (thumbnail ? "/thumbnail" : QByteArray());
    const RawReply r = rawRequest(port(instance), "GET " + path + " HTTP/1.1\r\n" + auth(m_carol.token));
    QCOMPARE(r.status, 404);
    QCOMPARE(r.header("X-Content-Type-Options"), QByteArray("nosniff"));
    QVERIFY(!r.body.contains("noise.png"));
    // The same answer as an id that does not exist.
    const RawReply unknown = rawRequest(port(instance),
                                        "GET /api/v1/attachments/999999999" + QByteArray(thumbnail ? "/thumbnail" : "")
                                            + " HTTP/1.1\r\n" + auth(m_carol.token));
    QCOMPARE(unknown.status, 404);
    QCOMPARE(r.body, unknown.body);
}

QTEST_GUILESS_MAIN(TestClusterAttachments)
#include "tst_cluster_attachments.moc"
