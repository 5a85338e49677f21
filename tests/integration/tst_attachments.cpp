// Attachments (docs/protocol.md section 6.8) through the real server binary, on SQLite (files
// under the data dir) and on PostgreSQL (chunked rows): upload and download with every header of
// the contract, the same bytes stored once, a table of bad uploads (sizes, names, types, missing
// length, no token) each with its error, who may read (uploader yes, anyone else 404), Range and
// If-None-Match, the upload rate and quota (429), and a 200 MB upload and download streamed from
// and to the test without holding it, with the server's peak RSS (VmHWM) checked to stay flat.
// Every attachment answer closes its connection: the raw client here reads each to the end.
#include "tests/support/api_client.h"
#include "tests/support/server_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"
#include "tests/support/ws_client.h"

#include <QBuffer>
#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QTcpSocket>
#include <QTest>

#include <map>
#include <memory>

using namespace taskmaster;
using namespace taskmaster::test;

namespace {

struct RawReply {
    int status = 0; // 0: no answer
    QList<std::pair<QByteArray, QByteArray>> headers;
    QByteArray body; // at most what the caller kept
    qint64 bodyBytes = 0;
    QByteArray bodySha256; // hex, of every body byte

    [[nodiscard]] QByteArray header(const QByteArray &name) const
    {
        for (const auto &[n, v] : headers) {
            if (n.compare(name, Qt::CaseInsensitive) == 0)
                return v;
        }
        return {};
    }
    [[nodiscard]] QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    [[nodiscard]] QString errorCode() const
    {
        return json().value(QLatin1String("error")).toObject().value(QLatin1String("code")).toString();
    }
    [[nodiscard]] QString errorField() const
    {
        return json().value(QLatin1String("error")).toObject().value(QLatin1String("field")).toString();
    }
    [[nodiscard]] QJsonObject attachment() const { return json().value(QLatin1String("attachment")).toObject(); }
};

// Bytes made on the fly (a pattern that depends on the position), so a large body is never held.
class PatternSource {
public:
    explicit PatternSource(qint64 size) : m_size(size) { }
    [[nodiscard]] bool atEnd() const { return m_pos >= m_size; }
    QByteArray next(qint64 max)
    {
        const qint64 n = std::min(max, m_size - m_pos);
        QByteArray out(n, Qt::Uninitialized);
        char *d = out.data();
        for (qint64 i = 0; i < n; ++i) {
            const qint64 p = m_pos + i;
            d[i] = char((p * 31 + (p >> 12)) & 0xff);
        }
        m_pos += n;
        m_hash.addData(out);
        return out;
    }
    [[nodiscard]] QByteArray sha256() const { return m_hash.result().toHex(); }

private:
    qint64 m_size;
    qint64 m_pos = 0;
    QCryptographicHash m_hash {QCryptographicHash::Sha256};
};

// Sends head (without its blank line) and a body (given, or `source`), reads the answer to the
// connection's end; keeps at most keepBody bytes of the body (all are hashed).
RawReply rawRequest(quint16 port, const QByteArray &head, const QByteArray &body = {}, PatternSource *source = nullptr,
                    qint64 keepBody = 1 << 20, int timeoutMs = 120000)
{
    RawReply reply;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return reply;
    socket.write(head + "\r\n\r\n" + body);
    QByteArray in;
    bool headDone = false;
    QCryptographicHash hash(QCryptographicHash::Sha256);
    QElapsedTimer clock;
    clock.start();
    auto consume = [&] {
        in += socket.readAll();
        if (!headDone) {
            qsizetype end = in.indexOf("\r\n\r\n");
            while (end >= 0 && in.startsWith("HTTP/1.1 100 ")) { // an interim answer
                in.remove(0, end + 4);
                end = in.indexOf("\r\n\r\n");
            }
            if (end < 0)
                return;
            const QList<QByteArray> lines = in.left(end).split('\n');
            reply.status = lines.value(0).split(' ').value(1).toInt();
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const QByteArray line = lines.at(i).trimmed();
                const qsizetype colon = line.indexOf(':');
                if (colon > 0)
                    reply.headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
            }
            in.remove(0, end + 4);
            headDone = true;
        }
        reply.bodyBytes += in.size();
        hash.addData(in);
        if (reply.body.size() < keepBody)
            reply.body += in.left(keepBody - reply.body.size());
        in.clear();
    };
    while (clock.elapsed() < timeoutMs) {
        if (source && !source->atEnd() && socket.state() == QAbstractSocket::ConnectedState
            && socket.bytesToWrite() < (1 << 20)) {
            socket.write(source->next(256 * 1024));
        }
        if (socket.bytesAvailable() > 0)
            consume();
        if (socket.state() == QAbstractSocket::UnconnectedState)
            break;
        const bool sending = source && !source->atEnd();
        if (sending)
            socket.waitForBytesWritten(50);
        if (!socket.waitForReadyRead(sending ? 1 : 1000) && socket.state() == QAbstractSocket::UnconnectedState)
            break;
    }
    consume();
    reply.bodySha256 = hash.result().toHex();
    return reply;
}

QByteArray uploadHead(const QByteArray &filenameQuery, const QByteArray &token, qint64 length,
                      const QByteArray &contentType = "application/octet-stream")
{
    QByteArray h = "POST /api/v1/uploads" + filenameQuery + " HTTP/1.1\r\nHost: t";
    if (!token.isEmpty())
        h += "\r\nAuthorization: Bearer " + token;
    if (!contentType.isEmpty())
        h += "\r\nContent-Type: " + contentType;
    if (length >= 0)
        h += "\r\nContent-Length: " + QByteArray::number(length);
    return h;
}

QByteArray getHead(const QByteArray &path, const QByteArray &token, const QByteArray &extra = {})
{
    QByteArray h = "GET " + path + " HTTP/1.1\r\nHost: t";
    if (!token.isEmpty())
        h += "\r\nAuthorization: Bearer " + token;
    if (!extra.isEmpty())
        h += "\r\n" + extra;
    return h;
}

// The server's peak resident set (VmHWM) in KiB, from /proc.
qint64 peakRssKib(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QList<QByteArray> lines = f.readAll().split('\n');
    for (const QByteArray &line : lines) {
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

struct Backend {
    std::unique_ptr<ServerProcess> server;
    std::unique_ptr<ApiClient> api;
};
} // namespace

class TestAttachments final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanupTestCase();
    void uploadAndDownload_data() { backendRows(); }
    void uploadAndDownload();
    void badUploads_data();
    void badUploads();
    void whoMayRead_data();
    void whoMayRead();
    void rangesAndConditionals_data();
    void rangesAndConditionals();
    void rateAndQuota();
    void onMessages_data() { backendRows(); }
    void onMessages();
    void badAttachmentIds_data();
    void badAttachmentIds();
    void onWebSocketSends_data() { backendRows(); }
    void onWebSocketSends();
    void onTasks_data() { backendRows(); }
    void onTasks();
    void thumbnails_data();
    void thumbnails();

    void largeTransferKeepsMemoryFlat_data() { backendRows(); }
    void largeTransferKeepsMemoryFlat();
    void transferBudgetHolds_data() { backendRows(); }
    void transferBudgetHolds();
    void uploadLimits_data();
    void uploadLimits();

private:
    // Uploads `body` as name; returns the reply.
    RawReply upload(const QByteArray &name, const QByteArray &body, const QByteArray &token,
                    const QByteArray &type = "application/octet-stream")
    {
        return rawRequest(
            m_server->port(),
            uploadHead("?filename=" + QUrl::toPercentEncoding(QString::fromUtf8(name)), token, body.size(), type),
            body);
    }

    std::map<QString, Backend> m_backends;
    ServerProcess *m_server = nullptr;
    ApiClient *m_api = nullptr;
    Account m_alice, m_bob;
};

namespace {
QJsonObject obj(std::initializer_list<std::pair<QString, QJsonValue>> fields)
{
    QJsonObject o;
    for (const auto &[k, v] : fields)
        o.insert(k, v);
    return o;
}
} // namespace

// Uploads up to 8 MiB here (the large transfer test raises it), no upload rate (rateAndQuota
// starts its own server).
static const QStringList kServerArgs {QStringLiteral("--max-upload-mib"), QStringLiteral("8"),
                                      QStringLiteral("--rate-upload"), QStringLiteral("0")};

void TestAttachments::initTestCase()
{
    TM_REQUIRE_SERVICE(url, "TM_TEST_DATABASE_URL");
    for (const auto &[name, extra] :
         {std::pair {QStringLiteral("sqlite"), QStringList {}},
          std::pair {QStringLiteral("postgres"),
                     QStringList {QStringLiteral("--database-url"), freshPostgresUrl(url)}}}) {
        Backend &b = m_backends[name];
        b.server = std::make_unique<ServerProcess>();
        QVERIFY2(b.server->start(kServerArgs + extra), qPrintable(b.server->errorText()));
        b.api = std::make_unique<ApiClient>(b.server->url());
    }
}

void TestAttachments::init()
{
    Backend &b = m_backends.at(rowBackend());
    m_server = b.server.get();
    m_api = b.api.get();
    m_alice = m_api->signUp("alice");
    m_bob = m_api->signUp("bob");
}

void TestAttachments::cleanupTestCase()
{
    for (auto &[name, b] : m_backends) {
        if (b.server)
            QCOMPARE(b.server->stop(), 0);
    }
}

void TestAttachments::uploadAndDownload()
{
    const QByteArray bytes = QByteArray("\x89PNG\r\n\x1a\n", 8) + QByteArray(300000, 'x') + "end";
    const QByteArray name = "Früh \"plan\" 100%.png";
    RawReply up = upload(name, bytes, m_alice.token, "image/png");
    QCOMPARE(up.status, 201);
    QCOMPARE(up.header("Connection"), QByteArray("close"));
    const QJsonObject a = up.attachment();
    const qint64 id = a.value(QLatin1String("id")).toInteger();
    QVERIFY(id > 0);
    QCOMPARE(a.value(QLatin1String("name")).toString(), QString::fromUtf8(name));
    QCOMPARE(a.value(QLatin1String("size")).toInteger(), qint64(bytes.size()));
    QCOMPARE(a.value(QLatin1String("contentType")).toString(), QStringLiteral("image/png"));
    const QByteArray sha = QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex();
    QCOMPARE(a.value(QLatin1String("sha256")).toString().toLatin1(), sha);
    QCOMPARE(a.value(QLatin1String("uploaderId")).toInteger(), m_alice.id);
    QVERIFY(a.value(QLatin1String("createdAt")).toString().endsWith(QLatin1Char('Z')));
    QCOMPARE(a.value(QLatin1String("url")).toString(), QStringLiteral("/api/v1/attachments/%1").arg(id));
    QCOMPARE(a.value(QLatin1String("thumbnailUrl")).toString(),
             QStringLiteral("/api/v1/attachments/%1/thumbnail").arg(id));

    RawReply down
        = rawRequest(m_server->port(), getHead("/api/v1/attachments/" + QByteArray::number(id), m_alice.token));
    QCOMPARE(down.status, 200);
    QCOMPARE(down.body, bytes);
    QCOMPARE(down.header("Content-Type"), QByteArray("image/png"));
    QCOMPARE(down.header("Content-Length"), QByteArray::number(bytes.size()));
    QCOMPARE(down.header("ETag"), QByteArray('"' + sha + '"'));
    QCOMPARE(down.header("Cache-Control"), QByteArray("private, max-age=31536000, immutable"));
    QCOMPARE(down.header("X-Content-Type-Options"), QByteArray("nosniff"));
    QCOMPARE(down.header("Accept-Ranges"), QByteArray("bytes"));
    QCOMPARE(
        down.header("Content-Disposition"),
        QByteArray("inline; filename=\"Fr_h _plan_ 100%.png\"; filename*=UTF-8''Fr%C3%BCh%20%22plan%22%20100%25.png"));

    // HEAD: the same head, no body.
    RawReply head = rawRequest(m_server->port(),
                               "HEAD /api/v1/attachments/" + QByteArray::number(id)
                                   + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + m_alice.token);
    QCOMPARE(head.status, 200);
    QCOMPARE(head.header("Content-Length"), QByteArray::number(bytes.size()));
    QCOMPARE(head.bodyBytes, qint64(0));

    // Not an image: an attachment, no thumbnail. An empty file is a file.
    RawReply doc = upload("notes.txt", "plain words", m_alice.token, "text/plain; charset=utf-8");
    QCOMPARE(doc.status, 201);
    QCOMPARE(doc.attachment().value(QLatin1String("contentType")).toString(), QStringLiteral("text/plain"));
    QVERIFY(doc.attachment().value(QLatin1String("thumbnailUrl")).isNull());
    RawReply docDown = rawRequest(
        m_server->port(),
        getHead("/api/v1/attachments/" + QByteArray::number(doc.attachment().value(QLatin1String("id")).toInteger()),
                m_alice.token));
    QCOMPARE(docDown.status, 200);
    QCOMPARE(docDown.body, QByteArray("plain words"));
    QVERIFY(docDown.header("Content-Disposition").startsWith("attachment; filename=\"notes.txt\""));
    RawReply empty = upload("empty.bin", {}, m_alice.token);
    QCOMPARE(empty.status, 201);
    QCOMPARE(empty.attachment().value(QLatin1String("size")).toInteger(), qint64(0));

    // The same bytes again, by someone else: a new attachment, the same blob (one file on SQLite).
    RawReply again = upload("copy.png", bytes, m_bob.token, "image/png");
    QCOMPARE(again.status, 201);
    QVERIFY(again.attachment().value(QLatin1String("id")).toInteger() != id);
    QCOMPARE(again.attachment().value(QLatin1String("sha256")).toString().toLatin1(), sha);
    if (rowBackend() == QLatin1String("sqlite")) {
        int copies = 0;
        QDirIterator it(m_server->dataDir() + QStringLiteral("/attachments/blobs"), QDir::Files,
                        QDirIterator::Subdirectories);
        while (it.hasNext())
            copies += it.next().endsWith(QString::fromLatin1(sha)) ? 1 : 0;
        QCOMPARE(copies, 1);
    }
    // Bob may read his own copy, not Alice's.
    QCOMPARE(rawRequest(m_server->port(), getHead("/api/v1/attachments/" + QByteArray::number(id), m_bob.token)).status,
             404);
}

void TestAttachments::badUploads_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<qint64>("length"); // -1: no Content-Length (chunked)
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<bool>("withToken");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");
    const QByteArray octet = "application/octet-stream";
    struct Row {
        const char *tag;
        QByteArray query;
        qint64 length;
        QByteArray type;
        bool token;
        QByteArray method;
        int status;
        const char *code;
        const char *field;
    };
    const QByteArray long256 = "?filename=" + QByteArray(252, 'a') + ".txt"; // 256 bytes
    const QByteArray ok255 = "?filename=" + QByteArray(251, 'a') + ".txt";
    const Row rows[] = {
        {"no length (chunked)", "?filename=a.bin", -1, octet, true, "POST", 411, "length_required", ""},
        {"over the limit", "?filename=a.bin", (8LL << 20) + 1, octet, true, "POST", 413, "too_large", ""},
        {"far over the limit", "?filename=a.bin", 1LL << 40, octet, true, "POST", 413, "too_large", ""},
        {"no filename", "", 10, octet, true, "POST", 422, "validation_failed", "filename"},
        {"empty filename", "?filename=", 10, octet, true, "POST", 422, "validation_failed", "filename"},
        {"slash", "?filename=..%2Fetc%2Fpasswd", 10, octet, true, "POST", 422, "validation_failed", "filename"},
        {"backslash", "?filename=a%5Cb.txt", 10, octet, true, "POST", 422, "validation_failed", "filename"},
        {"control character", "?filename=a%0Ab.txt", 10, octet, true, "POST", 422, "validation_failed", "filename"},
        {"nul", "?filename=a%00b.txt", 10, octet, true, "POST", 422, "validation_failed", "filename"},
        {"dot dot", "?filename=..", 10, octet, true, "POST", 422, "validation_failed", "filename"},
        {"not UTF-8", "?filename=%FF%FE.txt", 10, octet, true, "POST", 422, "validation_failed", "filename"},
        {"256 bytes", long256, 10, octet, true, "POST", 422, "validation_failed", "filename"},
        {"filename twice", "?filename=a.txt&filename=b.txt", 10, octet, true, "POST", 400, "bad_request", "filename"},
        {"html", "?filename=a.html", 10, "text/html; charset=utf-8", true, "POST", 415, "unsupported_media_type", ""},
        {"svg", "?filename=a.svg", 10, "image/svg+xml", true, "POST", 415, "unsupported_media_type", ""},
        {"malformed type", "?filename=a.bin", 10, "not a type", true, "POST", 415, "unsupported_media_type", ""},
        {"no token", "?filename=a.bin", 10, octet, false, "POST", 401, "unauthorized", ""},
        {"PUT", "?filename=a.bin", 0, octet, true, "PUT", 405, "method_not_allowed", ""},
        {"255 bytes is fine", ok255, 10, octet, true, "POST", 201, "", ""},
        {"no type is fine", "?filename=a", 10, "", true, "POST", 201, "", ""},
    };
    for (const char *backend : {"sqlite", "postgres"}) {
        for (const Row &r : rows) {
            QTest::addRow("%s: %s", backend, r.tag) << r.query << r.length << r.type << r.token << r.method << r.status
                                                    << QString::fromLatin1(r.code) << QString::fromLatin1(r.field);
        }
    }
}

void TestAttachments::badUploads()
{
    QFETCH(QByteArray, query);
    QFETCH(qint64, length);
    QFETCH(QByteArray, contentType);
    QFETCH(bool, withToken);
    QFETCH(QByteArray, method);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, field);
    QByteArray head = uploadHead(query, withToken ? m_alice.token : QByteArray(), length, contentType);
    head.replace(0, 4, method);
    QByteArray body;
    if (length < 0) {
        head += "\r\nTransfer-Encoding: chunked";
        body = "a\r\n0123456789\r\n0\r\n\r\n";
    } else if (status == 201) {
        body = QByteArray(length, 'z');
    }
    // Errors come before the body: none is sent (a 413 with a terabyte announced answers at once).
    const RawReply reply = rawRequest(m_server->port(), head, body, nullptr, 1 << 20, 20000);
    QCOMPARE(reply.status, status);
    QCOMPARE(reply.errorCode(), code);
    QCOMPARE(reply.errorField(), field);
    if (status >= 400)
        QCOMPARE(reply.header("Content-Type"), QByteArray("application/json"));
}

void TestAttachments::whoMayRead_data()
{
    QTest::addColumn<QString>("who");
    QTest::addColumn<QByteArray>("path"); // {id}: the attachment's id
    QTest::addColumn<int>("status");
    for (const char *backend : {"sqlite", "postgres"}) {
        QTest::addRow("%s: uploader", backend) << "alice" << QByteArray("/api/v1/attachments/{id}") << 200;
        QTest::addRow("%s: someone else", backend) << "bob" << QByteArray("/api/v1/attachments/{id}") << 404;
        QTest::addRow("%s: no token", backend) << "" << QByteArray("/api/v1/attachments/{id}") << 401;
        QTest::addRow("%s: bad token", backend) << "nobody" << QByteArray("/api/v1/attachments/{id}") << 401;
        QTest::addRow("%s: unknown id", backend) << "alice" << QByteArray("/api/v1/attachments/999999999") << 404;
        QTest::addRow("%s: leading zero", backend) << "alice" << QByteArray("/api/v1/attachments/0{id}") << 404;
        QTest::addRow("%s: not a number", backend) << "alice" << QByteArray("/api/v1/attachments/abc") << 404;
        QTest::addRow("%s: thumbnail of a non-image", backend)
            << "alice" << QByteArray("/api/v1/attachments/{id}/thumbnail") << 404;
        QTest::addRow("%s: someone else's thumbnail", backend)
            << "bob" << QByteArray("/api/v1/attachments/{id}/thumbnail") << 404;
    }
}

void TestAttachments::whoMayRead()
{
    QFETCH(QString, who);
    QFETCH(QByteArray, path);
    QFETCH(int, status);
    const RawReply up = upload("secret.pdf", "%PDF-1.4 secret", m_alice.token, "application/pdf");
    QCOMPARE(up.status, 201);
    path.replace("{id}", QByteArray::number(up.attachment().value(QLatin1String("id")).toInteger()));
    const QByteArray token = who == QLatin1String("alice") ? m_alice.token
        : who == QLatin1String("bob")                      ? m_bob.token
        : who.isEmpty()                                    ? QByteArray()
                                                           : QByteArray("not-a-token");
    const RawReply reply = rawRequest(m_server->port(), getHead(path, token));
    QCOMPARE(reply.status, status);
    QCOMPARE(reply.header("X-Content-Type-Options"), QByteArray("nosniff"));
    if (status == 200)
        QCOMPARE(reply.body, QByteArray("%PDF-1.4 secret"));
    else
        QCOMPARE(reply.errorCode(), status == 404 ? QStringLiteral("not_found") : QStringLiteral("unauthorized"));
}

void TestAttachments::rangesAndConditionals_data()
{
    QTest::addColumn<QByteArray>("headers"); // {etag}: the attachment's ETag
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("contentRange");
    QTest::addColumn<QByteArray>("body"); // of "0123456789abcdefghij" (empty for 304 and 416)
    for (const char *backend : {"sqlite", "postgres"}) {
        auto row = [backend](const char *tag) -> QTestData & { return QTest::addRow("%s: %s", backend, tag); };
        row("first ten") << QByteArray("Range: bytes=0-9") << 206 << QByteArray("bytes 0-9/20")
                         << QByteArray("0123456789");
        row("from 15") << QByteArray("Range: bytes=15-") << 206 << QByteArray("bytes 15-19/20") << QByteArray("fghij");
        row("last 3") << QByteArray("Range: bytes=-3") << 206 << QByteArray("bytes 17-19/20") << QByteArray("hij");
        row("end past the size") << QByteArray("Range: bytes=18-100") << 206 << QByteArray("bytes 18-19/20")
                                 << QByteArray("ij");
        row("start past the size") << QByteArray("Range: bytes=20-") << 416 << QByteArray("bytes */20") << QByteArray();
        row("several ranges: whole") << QByteArray("Range: bytes=0-1,5-6") << 200 << QByteArray()
                                     << QByteArray("0123456789abcdefghij");
        row("other unit: whole") << QByteArray("Range: items=0-1") << 200 << QByteArray()
                                 << QByteArray("0123456789abcdefghij");
        row("If-None-Match matches") << QByteArray("If-None-Match: {etag}") << 304 << QByteArray() << QByteArray();
        row("If-None-Match in a list") << QByteArray("If-None-Match: \"x\", W/{etag}") << 304 << QByteArray()
                                       << QByteArray();
        row("If-None-Match star") << QByteArray("If-None-Match: *") << 304 << QByteArray() << QByteArray();
        row("If-None-Match other") << QByteArray("If-None-Match: \"abc\"") << 200 << QByteArray()
                                   << QByteArray("0123456789abcdefghij");
        row("If-Range matches") << QByteArray("If-Range: {etag}\r\nRange: bytes=0-1") << 206
                                << QByteArray("bytes 0-1/20") << QByteArray("01");
        row("If-Range other: whole") << QByteArray("If-Range: \"old\"\r\nRange: bytes=0-1") << 200 << QByteArray()
                                     << QByteArray("0123456789abcdefghij");
    }
}

void TestAttachments::rangesAndConditionals()
{
    QFETCH(QByteArray, headers);
    QFETCH(int, status);
    QFETCH(QByteArray, contentRange);
    QFETCH(QByteArray, body);
    const QByteArray bytes = "0123456789abcdefghij";
    const RawReply up = upload("r.bin", bytes, m_alice.token);
    QCOMPARE(up.status, 201);
    const QByteArray etag = '"' + up.attachment().value(QLatin1String("sha256")).toString().toLatin1() + '"';
    headers.replace("{etag}", etag);
    const RawReply reply = rawRequest(
        m_server->port(),
        getHead("/api/v1/attachments/" + QByteArray::number(up.attachment().value(QLatin1String("id")).toInteger()),
                m_alice.token, headers));
    QCOMPARE(reply.status, status);
    QCOMPARE(reply.header("Content-Range"), contentRange);
    QCOMPARE(reply.header("ETag"), status == 416 ? QByteArray() : etag);
    if (status == 416) {
        QCOMPARE(reply.errorCode(), QStringLiteral("range_not_satisfiable"));
    } else {
        QCOMPARE(reply.body, body);
        QCOMPARE(reply.header("Cache-Control"), QByteArray("private, max-age=31536000, immutable"));
    }
}

void TestAttachments::rateAndQuota()
{
    // A server of its own (SQLite): 2 uploads at once per user then one every 100 s, 1 MiB a day.
    ServerProcess server;
    QVERIFY2(server.start({QStringLiteral("--rate-upload"), QStringLiteral("0.01/2"),
                           QStringLiteral("--upload-quota-mib"), QStringLiteral("1")}),
             qPrintable(server.errorText()));
    ApiClient api(server.url());
    const Account carol = api.signUp("carol");
    const Account dave = api.signUp("dave");
    auto send = [&](const Account &who, qint64 size) {
        return rawRequest(server.port(), uploadHead("?filename=f.bin", who.token, size), QByteArray(size, 'q'));
    };
    QCOMPARE(send(carol, 10).status, 201);
    QCOMPARE(send(carol, 10).status, 201);
    const RawReply limited = send(carol, 10);
    QCOMPARE(limited.status, 429);
    QCOMPARE(limited.errorCode(), QStringLiteral("rate_limited"));
    QVERIFY(limited.header("Retry-After").toInt() >= 1);
    // The quota: 700 KiB fits, 700 KiB more would pass 1 MiB in the day.
    QCOMPARE(send(dave, 700 * 1024).status, 201);
    const RawReply over = send(dave, 700 * 1024);
    QCOMPARE(over.status, 429);
    QCOMPARE(over.errorCode(), QStringLiteral("rate_limited"));
    QVERIFY(over.header("Retry-After").toInt() > 3600); // the day's first upload leaves the window then
    QCOMPARE(server.stop(), 0);
}

void TestAttachments::onMessages()
{
    const Account carol = m_api->signUp("carol");
    const qint64 room = m_api->createRoom(m_alice, {m_bob});
    QVERIFY(room > 0);
    const RawReply a = upload("plan.pdf", "%PDF plan", m_alice.token, "application/pdf");
    const RawReply b = upload("shot.png", "\x89PNG shot", m_alice.token, "image/png");
    QCOMPARE(a.status, 201);
    QCOMPARE(b.status, 201);
    const qint64 idA = a.attachment().value(QLatin1String("id")).toInteger();
    const qint64 idB = b.attachment().value(QLatin1String("id")).toInteger();
    const QByteArray pathA = "/api/v1/attachments/" + QByteArray::number(idA);
    QCOMPARE(rawRequest(m_server->port(), getHead(pathA, m_bob.token)).status, 404); // not used yet

    const QString messages = QStringLiteral("/api/v1/rooms/%1/messages").arg(room);
    const ApiReply sent = m_api->post(messages,
                                      obj({{QStringLiteral("body"), QStringLiteral("see these")},
                                           {QStringLiteral("clientId"), QStringLiteral("att-1")},
                                           {QStringLiteral("attachmentIds"), QJsonArray {idB, idA}}}),
                                      m_alice.token);
    QCOMPARE(sent.status, 201);
    const QJsonArray carried = sent.json().value(QLatin1String("attachments")).toArray();
    QCOMPARE(carried.size(), 2);
    QCOMPARE(carried.at(0).toObject(), b.attachment()); // in the order given, the upload's object
    QCOMPARE(carried.at(1).toObject(), a.attachment());
    // A repeat (same clientId) answers the first message with its attachments.
    const ApiReply repeat = m_api->post(
        messages,
        obj({{QStringLiteral("body"), QStringLiteral("x")}, {QStringLiteral("clientId"), QStringLiteral("att-1")}}),
        m_alice.token);
    QCOMPARE(repeat.status, 200);
    QCOMPARE(repeat.json(), sent.json());
    // History carries them; a message without any carries [].
    QCOMPARE(m_api->post(messages, obj({{QStringLiteral("body"), QStringLiteral("plain")}}), m_bob.token).status, 201);
    const ApiReply history = m_api->get(messages, m_bob.token);
    QCOMPARE(history.status, 200);
    const QJsonArray items = history.items();
    QCOMPARE(items.at(items.size() - 2).toObject().value(QLatin1String("attachments")).toArray(), carried);
    QCOMPARE(items.last().toObject().value(QLatin1String("attachments")).toArray(), QJsonArray());
    // Room members may read them now; others still may not.
    const RawReply bobReads = rawRequest(m_server->port(), getHead(pathA, m_bob.token));
    QCOMPARE(bobReads.status, 200);
    QCOMPARE(bobReads.body, QByteArray("%PDF plan"));
    QCOMPARE(rawRequest(m_server->port(), getHead(pathA, carol.token)).status, 404);
    // Search results carry them too.
    const ApiReply found = m_api->get(QStringLiteral("/api/v1/search?q=these"), m_bob.token);
    QCOMPARE(found.status, 200);
    const QJsonArray hits = found.json().value(QLatin1String("messages")).toArray();
    QCOMPARE(hits.size(), 1);
    QCOMPARE(hits.at(0).toObject().value(QLatin1String("attachments")).toArray(), carried);
    // Deleted: the tombstone has none, and the members' access goes with the last use.
    const qint64 messageId = sent.json().value(QLatin1String("id")).toInteger();
    const ApiReply tombstone = m_api->del(QStringLiteral("/api/v1/messages/%1").arg(messageId), m_alice.token);
    QCOMPARE(tombstone.status, 200);
    QCOMPARE(tombstone.json().value(QLatin1String("attachments")).toArray(), QJsonArray());
    QCOMPARE(rawRequest(m_server->port(), getHead(pathA, m_bob.token)).status, 404);
    QCOMPARE(rawRequest(m_server->port(), getHead(pathA, m_alice.token)).status, 200); // the uploader still may
}

void TestAttachments::badAttachmentIds_data()
{
    QTest::addColumn<QString>("ids"); // JSON; {own}, {other}: an upload of Alice's, of Bob's
    for (const char *backend : {"sqlite", "postgres"}) {
        QTest::addRow("%s: someone else's upload", backend) << QStringLiteral("[{other}]");
        QTest::addRow("%s: unknown id", backend) << QStringLiteral("[{own}, 999999999]");
        QTest::addRow("%s: twice", backend) << QStringLiteral("[{own}, {own}]");
        QTest::addRow("%s: eleven", backend) << QStringLiteral("[{own},2,3,4,5,6,7,8,9,10,11]");
        QTest::addRow("%s: not ids", backend) << QStringLiteral("[\"a\"]");
        QTest::addRow("%s: not an array", backend) << QStringLiteral("{own}");
    }
}

void TestAttachments::badAttachmentIds()
{
    QFETCH(QString, ids);
    const qint64 room = m_api->createRoom(m_alice, {m_bob});
    const RawReply own = upload("mine.txt", "mine", m_alice.token, "text/plain");
    const RawReply other = upload("bobs.txt", "bobs", m_bob.token, "text/plain");
    ids.replace(QStringLiteral("{own}"), QString::number(own.attachment().value(QLatin1String("id")).toInteger()));
    ids.replace(QStringLiteral("{other}"), QString::number(other.attachment().value(QLatin1String("id")).toInteger()));
    const QByteArray body = R"({"body":"x","attachmentIds":)" + ids.toUtf8() + '}';
    const ApiReply reply = m_api->send("POST", QStringLiteral("/api/v1/rooms/%1/messages").arg(room), body,
                                       RequestOptions {m_alice.token});
    QCOMPARE(reply.status, 422);
    QCOMPARE(reply.errorCode(), QStringLiteral("validation_failed"));
    QCOMPARE(reply.errorField(), QStringLiteral("attachmentIds"));
    // Nothing was stored: the room's history has no message.
    QCOMPARE(m_api->get(QStringLiteral("/api/v1/rooms/%1/messages").arg(room), m_bob.token).items().size(), 0);
}

void TestAttachments::onWebSocketSends()
{
    const qint64 room = m_api->createRoom(m_alice, {m_bob});
    const RawReply up = upload("ws.png", "\x89PNG ws", m_alice.token, "image/png");
    const qint64 id = up.attachment().value(QLatin1String("id")).toInteger();
    const RawReply other = upload("bob.png", "\x89PNG bob", m_bob.token, "image/png");
    WsClient alice, bob;
    QVERIFY(alice.connectAs(m_server->wsUrl(), m_alice.token));
    QVERIFY(bob.connectAs(m_server->wsUrl(), m_bob.token));
    ws::Send send {1, room, QStringLiteral("over the socket"), QStringLiteral("ws-att-1")};
    send.attachmentIds = {id};
    alice.send(send);
    const auto ack = alice.take<ws::Ack>();
    QVERIFY(ack);
    QCOMPARE(ack->message.attachments.size(), 1);
    QCOMPARE(ack->message.attachments.at(0).id, id);
    QCOMPARE(ack->message.attachments.at(0).name, QStringLiteral("ws.png"));
    // Bob's socket gets the event with the attachment.
    const auto event
        = bob.take<ChannelEvent>([](const ChannelEvent &e) { return e.type == EventType::MessageCreated; });
    QVERIFY(event && event->message);
    QCOMPARE(event->message->attachments, ack->message.attachments);
    // Someone else's upload: an error frame naming the field, no message.
    ws::Send bad {2, room, QStringLiteral("theft"), std::nullopt};
    bad.attachmentIds = {other.attachment().value(QLatin1String("id")).toInteger()};
    alice.send(bad);
    const auto error = alice.take<ws::ErrorFrame>();
    QVERIFY(error);
    QCOMPARE(error->id, ws::FrameId(2));
    QCOMPARE(error->error.code, ErrorCode::ValidationFailed);
    QCOMPARE(error->error.field, QStringLiteral("attachmentIds"));
}

void TestAttachments::onTasks()
{
    const ApiReply project = m_api->post(QStringLiteral("/api/v1/projects"),
                                         obj({{QStringLiteral("name"), QStringLiteral("P")}}), m_alice.token);
    QCOMPARE(project.status, 201);
    const qint64 projectId = project.id();
    QCOMPARE(m_api
                 ->post(QStringLiteral("/api/v1/projects/%1/members").arg(projectId),
                        obj({{QStringLiteral("userId"), m_bob.id}}), m_alice.token)
                 .status,
             200);
    const RawReply spec = upload("spec.txt", "the spec", m_alice.token, "text/plain");
    const qint64 id = spec.attachment().value(QLatin1String("id")).toInteger();
    const QByteArray path = "/api/v1/attachments/" + QByteArray::number(id);
    const ApiReply task = m_api->post(QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId),
                                      obj({{QStringLiteral("title"), QStringLiteral("write it")},
                                           {QStringLiteral("attachmentIds"), QJsonArray {id}}}),
                                      m_alice.token);
    QCOMPARE(task.status, 201);
    QCOMPARE(task.json().value(QLatin1String("attachments")).toArray(), QJsonArray {spec.attachment()});
    const qint64 taskId = task.id();
    const ApiReply read = m_api->get(QStringLiteral("/api/v1/tasks/%1").arg(taskId), m_bob.token);
    QCOMPARE(read.json().value(QLatin1String("attachments")).toArray(), QJsonArray {spec.attachment()});
    const ApiReply list = m_api->get(QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId), m_bob.token);
    QCOMPARE(list.items().at(0).toObject().value(QLatin1String("attachments")).toArray(),
             QJsonArray {spec.attachment()});
    QCOMPARE(rawRequest(m_server->port(), getHead(path, m_bob.token)).status, 200); // a project member
    // Bob may not attach Alice's upload; an empty list takes it off (a change: version 2).
    const ApiReply theft = m_api->patch(QStringLiteral("/api/v1/tasks/%1").arg(taskId),
                                        obj({{QStringLiteral("attachmentIds"), QJsonArray {id}}}), m_bob.token);
    QCOMPARE(theft.status, 422);
    QCOMPARE(theft.errorField(), QStringLiteral("attachmentIds"));
    const ApiReply cleared = m_api->patch(QStringLiteral("/api/v1/tasks/%1").arg(taskId),
                                          obj({{QStringLiteral("attachmentIds"), QJsonArray {}}}), m_alice.token);
    QCOMPARE(cleared.status, 200);
    QCOMPARE(cleared.json().value(QLatin1String("version")).toInteger(), qint64(2));
    QCOMPARE(cleared.json().value(QLatin1String("attachments")).toArray(), QJsonArray());
    QCOMPARE(rawRequest(m_server->port(), getHead(path, m_bob.token)).status, 404);
}

void TestAttachments::thumbnails_data()
{
    QTest::addColumn<QString>("format"); // of the upload: PNG, JPEG, or "garbage"
    QTest::addColumn<QSize>("size");
    QTest::addColumn<bool>("alpha");
    QTest::addColumn<QByteArray>("thumbType"); // empty: 404
    QTest::addColumn<QSize>("thumbSize");
    for (const char *backend : {"sqlite", "postgres"}) {
        QTest::addRow("%s: wide JPEG", backend)
            << QStringLiteral("JPEG") << QSize(800, 600) << false << QByteArray("image/jpeg") << QSize(320, 240);
        QTest::addRow("%s: tall PNG with alpha", backend)
            << QStringLiteral("PNG") << QSize(300, 1200) << true << QByteArray("image/png") << QSize(80, 320);
        QTest::addRow("%s: small PNG not enlarged", backend)
            << QStringLiteral("PNG") << QSize(100, 50) << false << QByteArray("image/jpeg") << QSize(100, 50);
        QTest::addRow("%s: not an image", backend)
            << QStringLiteral("garbage") << QSize() << false << QByteArray() << QSize();
    }
}

void TestAttachments::thumbnails()
{
    QFETCH(QString, format);
    QFETCH(QSize, size);
    QFETCH(bool, alpha);
    QFETCH(QByteArray, thumbType);
    QFETCH(QSize, thumbSize);
    QByteArray bytes = "not an image at all";
    if (format != QLatin1String("garbage")) {
        QImage image(size, alpha ? QImage::Format_ARGB32 : QImage::Format_RGB32);
        image.fill(alpha ? QColor(10, 200, 30, 128) : QColor(200, 30, 10));
        QBuffer buffer(&bytes);
        bytes.clear();
        buffer.open(QIODevice::WriteOnly);
        QVERIFY(image.save(&buffer, format.toLatin1().constData()));
    }
    const QByteArray type = format == QLatin1String("JPEG") ? "image/jpeg" : "image/png";
    const RawReply up = upload("picture." + format.toLower().toLatin1(), bytes, m_alice.token, type);
    QCOMPARE(up.status, 201);
    const QByteArray path = up.attachment().value(QLatin1String("thumbnailUrl")).toString().toLatin1();
    QVERIFY(path.endsWith("/thumbnail"));
    const RawReply first = rawRequest(m_server->port(), getHead(path, m_alice.token));
    if (thumbType.isEmpty()) {
        QCOMPARE(first.status, 404);
        return;
    }
    QCOMPARE(first.status, 200);
    QCOMPARE(first.header("Content-Type"), thumbType);
    QVERIFY(first.header("Content-Disposition").startsWith("inline; filename=\"picture-thumbnail."));
    QCOMPARE(first.header("X-Content-Type-Options"), QByteArray("nosniff"));
    const QImage thumb = QImage::fromData(first.body);
    QCOMPARE(thumb.size(), thumbSize);
    QCOMPARE(thumb.hasAlphaChannel(), alpha);
    // Made once: the second answer is the stored one (same ETag, not the original's), and 304 works.
    const QByteArray etag = first.header("ETag");
    QVERIFY(etag != QByteArray('"' + up.attachment().value(QLatin1String("sha256")).toString().toLatin1() + '"'));
    const RawReply second = rawRequest(m_server->port(), getHead(path, m_alice.token));
    QCOMPARE(second.header("ETag"), etag);
    QCOMPARE(second.body, first.body);
    QCOMPARE(rawRequest(m_server->port(), getHead(path, m_alice.token, "If-None-Match: " + etag)).status, 304);
    QCOMPARE(rawRequest(m_server->port(), getHead(path, m_bob.token)).status, 404); // the original's rules
}

void TestAttachments::largeTransferKeepsMemoryFlat()
{
    // Its own server per back end, with the limit raised for a 200 MB file. Under AddressSanitizer
    // (scripts/sanitize.sh) freed memory sits in its quarantine, so the peak says nothing there:
    // 20 MB then, and no bound.
    const bool sanitized = qEnvironmentVariableIsSet("ASAN_OPTIONS");
    const qint64 kSize = sanitized ? 20LL * 1000 * 1000 : 200LL * 1000 * 1000;
    QStringList args {QStringLiteral("--max-upload-mib"),       QStringLiteral("256"),
                      QStringLiteral("--rate-upload"),          QStringLiteral("0"),
                      QStringLiteral("--attachment-mib-per-s"), QStringLiteral("0")};
    if (rowBackend() == QLatin1String("postgres")) {
        TM_REQUIRE_SERVICE(url, "TM_TEST_DATABASE_URL");
        args << QStringLiteral("--database-url") << freshPostgresUrl(url);
    }
    ServerProcess server;
    QVERIFY2(server.start(args), qPrintable(server.errorText()));
    ApiClient api(server.url());
    const Account erin = api.signUp("erin");
    // Warm up (a small upload and download) so the baseline includes what every transfer uses.
    const RawReply small
        = rawRequest(server.port(), uploadHead("?filename=s.bin", erin.token, 600000), QByteArray(600000, 's'));
    QCOMPARE(small.status, 201);
    const qint64 pid = server.process().processId();
    const qint64 before = peakRssKib(pid);
    QVERIFY(before > 0);

    PatternSource source(kSize);
    QElapsedTimer clock;
    clock.start();
    const RawReply up = rawRequest(server.port(), uploadHead("?filename=big.bin", erin.token, kSize), {}, &source);
    const qint64 uploadMs = clock.elapsed();
    QCOMPARE(up.status, 201);
    QCOMPARE(up.attachment().value(QLatin1String("size")).toInteger(), kSize);
    QCOMPARE(up.attachment().value(QLatin1String("sha256")).toString().toLatin1(), source.sha256());
    const qint64 afterUpload = peakRssKib(pid);

    clock.restart();
    const RawReply down = rawRequest(
        server.port(),
        getHead("/api/v1/attachments/" + QByteArray::number(up.attachment().value(QLatin1String("id")).toInteger()),
                erin.token),
        {}, nullptr, 0);
    const qint64 downloadMs = clock.elapsed();
    QCOMPARE(down.status, 200);
    QCOMPARE(down.bodyBytes, kSize);
    QCOMPARE(down.bodySha256, source.sha256());
    const qint64 afterDownload = peakRssKib(pid);
    qInfo("%lld bytes: upload %lld ms, download %lld ms; server VmHWM %lld KiB -> %lld (upload) -> %lld (download)",
          kSize, uploadMs, downloadMs, before, afterUpload, afterDownload);
    // Flat: the peak grows by far less than the file (a few chunks and buffers).
    if (sanitized) {
        QCOMPARE(server.stop(), 0);
        return;
    }
    QVERIFY2(afterUpload - before < 48 * 1024, "the upload raised the server's peak RSS by 48 MiB or more");
    QVERIFY2(afterDownload - before < 48 * 1024, "the download raised the server's peak RSS by 48 MiB or more");
    QCOMPARE(server.stop(), 0);
}

void TestAttachments::transferBudgetHolds()
{
    // --attachment-mib-per-s 1: a client that sends 3 MiB as fast as loopback takes it still moves
    // them at the instance's rate (a quarter of a second's worth, one 256 KiB chunk, at once),
    // up and down; two at once share it. Lower bounds only: a slow machine cannot break them.
    QStringList args {QStringLiteral("--rate-upload"), QStringLiteral("0"), QStringLiteral("--attachment-mib-per-s"),
                      QStringLiteral("1")};
    if (rowBackend() == QLatin1String("postgres")) {
        TM_REQUIRE_SERVICE(url, "TM_TEST_DATABASE_URL");
        args << QStringLiteral("--database-url") << freshPostgresUrl(url);
    }
    ServerProcess server;
    QVERIFY2(server.start(args), qPrintable(server.errorText()));
    ApiClient api(server.url());
    const Account erin = api.signUp("erin");
    constexpr qint64 kSize = 3LL << 20;
    PatternSource source(kSize);
    QElapsedTimer clock;
    clock.start();
    const RawReply up = rawRequest(server.port(), uploadHead("?filename=slow.bin", erin.token, kSize), {}, &source);
    const qint64 uploadMs = clock.elapsed();
    QCOMPARE(up.status, 201);
    QCOMPARE(up.attachment().value(QLatin1String("sha256")).toString().toLatin1(), source.sha256());
    const QByteArray path
        = "/api/v1/attachments/" + QByteArray::number(up.attachment().value(QLatin1String("id")).toInteger());
    clock.restart();
    const RawReply down = rawRequest(server.port(), getHead(path, erin.token), {}, nullptr, 0);
    const qint64 downloadMs = clock.elapsed();
    QCOMPARE(down.status, 200);
    QCOMPARE(down.bodySha256, source.sha256());
    // 12 chunks, 11 of them after the burst: 11 x 250 ms at least.
    QVERIFY2(uploadMs >= 2500, qPrintable(QString::number(uploadMs)));
    QVERIFY2(downloadMs >= 2500, qPrintable(QString::number(downloadMs)));
    // Small answers are not held back: the limits of GET /uploads come at once (no budget).
    const RawReply limits = rawRequest(server.port(), getHead("/api/v1/uploads", erin.token));
    QCOMPARE(limits.status, 200);
    QCOMPARE(limits.json().value(QLatin1String("usedBytesToday")).toInteger(), kSize);
    QCOMPARE(server.stop(), 0);
}

void TestAttachments::uploadLimits_data()
{
    // GET /api/v1/uploads: the limits an upload meets, and the caller's usage of the day.
    QTest::addColumn<QString>("backend");
    QTest::addColumn<QByteArray>("head");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    for (const QString &b : {QStringLiteral("sqlite"), QStringLiteral("postgres")}) {
        const QByteArray p = b.toLatin1();
        QTest::addRow("%s: with a token", p.constData())
            << b << QByteArray("GET /api/v1/uploads HTTP/1.1\r\nHost: t") << 200 << QString();
        QTest::addRow("%s: no token", p.constData())
            << b << QByteArray("GET /api/v1/uploads HTTP/1.1\r\nHost: t") << 401 << QStringLiteral("unauthorized");
        QTest::addRow("%s: bad token", p.constData())
            << b << QByteArray("GET /api/v1/uploads HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer nope") << 401
            << QStringLiteral("unauthorized");
        QTest::addRow("%s: DELETE", p.constData()) << b << QByteArray("DELETE /api/v1/uploads HTTP/1.1\r\nHost: t")
                                                   << 405 << QStringLiteral("method_not_allowed");
    }
}

void TestAttachments::uploadLimits()
{
    QFETCH(QByteArray, head);
    QFETCH(int, status);
    QFETCH(QString, code);
    const bool withToken = QByteArray(QTest::currentDataTag()).endsWith("with a token");
    QByteArray request = head;
    if (withToken) {
        QCOMPARE(upload("one.bin", QByteArray(1000, 'o'), m_alice.token).status, 201);
        request += "\r\nAuthorization: Bearer " + m_alice.token;
    }
    const RawReply r = rawRequest(m_server->port(), request);
    QCOMPARE(r.status, status);
    QCOMPARE(r.errorCode(), code);
    if (!withToken)
        return;
    const QJsonObject o = r.json();
    QCOMPARE(o.value(QLatin1String("maxBytes")).toInteger(), 8LL << 20); // kServerArgs
    QCOMPARE(o.value(QLatin1String("maxPerItem")).toInteger(), 10);
    QCOMPARE(o.value(QLatin1String("quotaBytesPerDay")).toInteger(), 1024LL << 20);
    QCOMPARE(o.value(QLatin1String("usedBytesToday")).toInteger(), 1000); // alice is new (init())
    QVERIFY(o.value(QLatin1String("deniedTypes")).toArray().contains(QStringLiteral("text/html")));
}

QTEST_GUILESS_MAIN(TestAttachments)
#include "tst_attachments.moc"
