#include "server/attachments/attachment_service.h"

#include "server/attachments/attachment_store.h"
#include "server/attachments/download_session.h"
#include "server/attachments/upload_session.h"
#include "server/log/json_log.h"
#include "server/storage/db_pool.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QTcpSocket>

namespace taskmaster::server {

namespace {
constexpr int kGcIntervalMs = 3600 * 1000;
constexpr int kGcBatch = 500;

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 100:
        return QByteArrayLiteral("Continue");
    case 200:
        return QByteArrayLiteral("OK");
    case 201:
        return QByteArrayLiteral("Created");
    case 206:
        return QByteArrayLiteral("Partial Content");
    case 304:
        return QByteArrayLiteral("Not Modified");
    case 400:
        return QByteArrayLiteral("Bad Request");
    case 401:
        return QByteArrayLiteral("Unauthorized");
    case 404:
        return QByteArrayLiteral("Not Found");
    case 405:
        return QByteArrayLiteral("Method Not Allowed");
    case 411:
        return QByteArrayLiteral("Length Required");
    case 413:
        return QByteArrayLiteral("Payload Too Large");
    case 415:
        return QByteArrayLiteral("Unsupported Media Type");
    case 416:
        return QByteArrayLiteral("Range Not Satisfiable");
    case 422:
        return QByteArrayLiteral("Unprocessable Entity");
    case 429:
        return QByteArrayLiteral("Too Many Requests");
    case 503:
        return QByteArrayLiteral("Service Unavailable");
    default:
        return QByteArrayLiteral("Error");
    }
}

QByteArray errorBody(const QString &code, const QString &message, const QString &field)
{
    QJsonObject e {{QStringLiteral("code"), code}, {QStringLiteral("message"), message}};
    if (!field.isEmpty())
        e.insert(QStringLiteral("field"), field);
    return QJsonDocument(QJsonObject {{QStringLiteral("error"), e}}).toJson(QJsonDocument::Compact);
}
} // namespace

bool AttachmentService::pace(QObject *transfer, qint64 bytes, bool more, bool &waiting, std::function<void()> resume)
{
    const qint64 wait = m_budget.charge(bytes, m_clock.elapsed());
    if (wait <= 0 || !more)
        return false;
    waiting = true;
    // The flag lives in the transfer: the timer does not fire once the transfer is gone.
    QTimer::singleShot(wait, transfer, [flag = &waiting, resume = std::move(resume)] {
        *flag = false;
        resume();
    });
    return true;
}

namespace raw {
QByteArray head(int status, const Headers &headers)
{
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    for (const auto &[name, value] : headers)
        out += name + ": " + value + "\r\n";
    out += "Connection: close\r\n\r\n";
    return out;
}

QByteArray json(int status, const QByteArray &body, Headers headers)
{
    headers.prepend({"X-Content-Type-Options", "nosniff"});
    headers.prepend({"Content-Length", QByteArray::number(body.size())});
    headers.prepend({"Content-Type", "application/json"});
    return head(status, headers) + body;
}

QByteArray error(const Error &e)
{
    Headers headers;
    const int status = httpStatus(e.code);
    if (status == 429 || status == 503)
        headers.append({"Retry-After", QByteArray::number(std::max<qint64>(1, (e.retryAfterMs + 999) / 1000))});
    const QString message = e.code == ErrorCode::Internal ? QStringLiteral("internal error") : e.message;
    return json(status, errorBody(errorCodeName(e.code), message, e.field), headers);
}

QByteArray error(int status, const char *code, const QString &message, Headers headers)
{
    return json(status, errorBody(QLatin1String(code), message, {}), std::move(headers));
}

Call callOf(const DivertedRequest &request)
{
    Call c;
    c.peer = request.peer;
    const QByteArray auth = request.head.field("authorization");
    if (auth.size() > 7 && auth.first(7).compare("bearer ", Qt::CaseInsensitive) == 0)
        c.bearerToken = auth.mid(7).trimmed();
    for (const auto &[name, value] : request.head.fields) {
        if (name == "x-forwarded-for")
            c.forwardedFor = c.forwardedFor.isEmpty() ? value : c.forwardedFor + ", " + value;
    }
    c.contentType = request.head.field("content-type");
    c.ifNoneMatch = request.head.field("if-none-match");
    const QByteArray &target = request.head.target;
    const qsizetype q = target.indexOf('?');
    c.path = QString::fromLatin1(q < 0 ? target : target.left(q));
    if (q >= 0)
        c.query = QUrlQuery(QString::fromLatin1(target.mid(q + 1)));
    return c;
}
} // namespace raw

AttachmentService::AttachmentService(DbPool &db, std::unique_ptr<BlobStore> blobs, Authenticator &authenticator,
                                     RateLimit uploadRate, AttachmentOptions options, QObject *parent)
    : QObject(parent), m_db(db), m_blobs(std::move(blobs)), m_authenticator(authenticator),
      m_uploadRate(std::move(uploadRate)), m_options(std::move(options)),
      m_budget(m_options.bytesPerSecond, BlobStore::kChunkBytes)
{
    m_clock.start();
    if (!m_options.nowMs)
        m_options.nowMs = [] { return QDateTime::currentMSecsSinceEpoch(); };
    // One decoder at a time: thumbnails are made once per image, and a burst of them must not
    // take every core from the network thread and the database workers.
    m_imagePool.setMaxThreadCount(1);
    m_gcTimer.setInterval(kGcIntervalMs);
    connect(&m_gcTimer, &QTimer::timeout, this, [this] { collectGarbage(); });
    m_gcTimer.start();
}

AttachmentService::~AttachmentService() = default;

bool AttachmentService::isRoute(QByteArrayView, QByteArrayView path)
{
    return path == QByteArrayView("/api/v1/uploads") || path.startsWith(QByteArrayView("/api/v1/attachments/"));
}

void AttachmentService::accept(DivertedRequest request)
{
    const QByteArray &target = request.head.target;
    if (target.startsWith("/api/v1/uploads")) {
        auto *upload = new UploadSession(*this, std::move(request));
        upload->start();
    } else {
        auto *download = new DownloadSession(*this, std::move(request));
        download->start();
    }
}

void AttachmentService::collectGarbage(std::function<void(int)> done)
{
    const qint64 olderThan = nowMs() - m_options.unusedTtlMs;
    BlobStore *blobs = m_blobs.get();
    m_db.query([olderThan, blobs](QSqlDatabase &conn) -> Result<int> {
            auto orphans = store::collectUnused(conn, olderThan, kGcBatch);
            if (!orphans)
                return orphans.error();
            for (const QByteArray &sha : *orphans)
                (void)blobs->remove(conn, sha);
            blobs->discardStale(conn, olderThan);
            return int(orphans->size());
        })
        .then([done = std::move(done)](const Result<int> &n) {
            if (n && *n > 0)
                logEvent(lcServer(), QtInfoMsg, QStringLiteral("unused attachments collected"),
                         {{QStringLiteral("blobs"), *n}});
            if (done)
                done(n ? *n : -1);
        });
}

} // namespace taskmaster::server
