#include "server/attachments/download_session.h"

#include "server/attachments/attachment_service.h"
#include "server/attachments/attachment_store.h"
#include "server/attachments/thumbnailer.h"
#include "server/http/authenticator.h"
#include "server/log/json_log.h"
#include "server/storage/db_pool.h"

#include <QDir>
#include <QFile>
#include <QTcpSocket>
#include <QTemporaryFile>
#include <QtConcurrent/QtConcurrentRun>

namespace taskmaster::server {

namespace {
// An id in a path: decimal digits without sign or leading zero (docs/protocol.md section 1).
Id pathId(QByteArrayView s)
{
    if (s.isEmpty() || s.size() > 18 || s.front() == '0')
        return 0;
    Id v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return 0;
        v = v * 10 + (c - '0');
    }
    return v;
}
} // namespace

DownloadSession::DownloadSession(AttachmentService &service, DivertedRequest request)
    : QObject(request.socket), m_service(service), m_request(std::move(request)), m_guard(m_request.guard)
{
    connect(m_request.guard, &FrontGuard::closing, this, [this] { m_streaming = false; });
}

void DownloadSession::answer(const QByteArray &response)
{
    m_streaming = false;
    if (m_guard)
        m_guard->answerAndClose(response);
}

void DownloadSession::fail(const Error &error)
{
    if (error.code == ErrorCode::Internal || error.code == ErrorCode::Unavailable) {
        logEvent(lcServer(), QtWarningMsg, QStringLiteral("download failed"),
                 {{QStringLiteral("error"), error.message}, {QStringLiteral("attachment"), m_id}});
    }
    answer(raw::error(error));
}

void DownloadSession::start()
{
    const DivertedHead &head = m_request.head;
    if (m_guard)
        m_guard->bodyDone(); // nothing of a body is read
    const qsizetype q = head.target.indexOf('?');
    QByteArrayView path = QByteArrayView(head.target).first(q < 0 ? head.target.size() : q);
    path = path.sliced(qsizetype(sizeof "/api/v1/attachments/" - 1));
    if (path.endsWith(QByteArrayView("/thumbnail"))) {
        m_thumbnail = true;
        path.chop(qsizetype(sizeof "/thumbnail" - 1));
    }
    m_id = pathId(path);
    if (m_id == 0) {
        fail(Error {ErrorCode::NotFound, QStringLiteral("no such resource"), {}});
        return;
    }
    if (head.method != "GET" && head.method != "HEAD") {
        fail(Error {ErrorCode::MethodNotAllowed, QStringLiteral("attachments are read with GET"), {}});
        return;
    }
    QPointer<DownloadSession> self(this);
    m_service.authenticator().authenticate(raw::callOf(m_request), [self](Result<User> user) {
        if (!self)
            return;
        if (!user) {
            self->fail(user.error());
            return;
        }
        self->m_service.db()
            .query([id = self->m_id, userId = user->id](QSqlDatabase &db) {
                return store::readableAttachment(db, id, userId);
            })
            .then([self](const Result<std::optional<Attachment>> &found) {
                if (!self)
                    return;
                if (!found) {
                    self->fail(found.error());
                } else if (!found->has_value()) {
                    self->fail(Error {ErrorCode::NotFound, QStringLiteral("no such attachment"), {}});
                } else if (self->m_thumbnail && !isInlineImage((*found)->contentType)) {
                    self->fail(Error {ErrorCode::NotFound, QStringLiteral("no thumbnail for this file"), {}});
                } else if (self->m_thumbnail) {
                    self->thumbnail(**found);
                } else {
                    self->authorized(**found);
                }
            });
    });
}

void DownloadSession::thumbnail(const Attachment &image)
{
    // 1. On a database worker: the stored thumbnail, or (none yet) the image's bytes copied into a
    //    temporary file; 2. render() decodes and scales it on the image pool, so neither a
    //    database worker nor its connection waits for the decoder; 3. stored on a worker.
    m_scratch = std::make_unique<QTemporaryFile>(QDir::tempPath() + QStringLiteral("/tm-thumbnail-XXXXXX"));
    if (!m_scratch->open()) {
        fail(Error {ErrorCode::Internal, QStringLiteral("cannot create a temporary file"), {}});
        return;
    }
    const QString path = m_scratch->fileName();
    m_scratch->close();
    BlobStore *blobs = &m_service.blobs();
    QPointer<DownloadSession> self(this);
    m_service.db()
        .query([blobs, image, path](QSqlDatabase &db) -> Result<std::optional<Thumbnail>> {
            auto stored = storedThumbnail(db, image.sha256);
            if (!stored || stored->has_value())
                return stored;
            QFile out(path);
            if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate))
                return Error {ErrorCode::Internal, QStringLiteral("cannot write a temporary file"), {}};
            if (auto e = copyBlob(db, *blobs, image, out))
                return *e;
            return std::optional<Thumbnail>();
        })
        .then([self, image, path](const Result<std::optional<Thumbnail>> &stored) {
            if (!self)
                return;
            if (!stored)
                self->fail(stored.error());
            else if (stored->has_value())
                self->serveThumbnail(image, **stored);
            else
                self->render(image, path);
        });
}

namespace {
struct Rendered {
    std::optional<QByteArray> bytes; // nullopt: not a decodable image
    QString contentType;
};
} // namespace

void DownloadSession::render(const Attachment &image, const QString &path)
{
    QPointer<DownloadSession> self(this);
    QtConcurrent::run(&m_service.imagePool(), [path] {
        Rendered r;
        QFile in(path);
        if (in.open(QIODevice::ReadOnly))
            r.bytes = renderThumbnail(in, r.contentType);
        return r;
    }).then(&m_service, [self, image](const Rendered &rendered) {
        if (!self)
            return;
        self->m_scratch.reset();
        if (!rendered.bytes) {
            self->fail(Error {ErrorCode::NotFound, QStringLiteral("this image cannot be read"), {}});
            return;
        }
        BlobStore *blobs = &self->m_service.blobs();
        self->m_service.db()
            .query([blobs, image, rendered](QSqlDatabase &db) {
                return storeThumbnail(db, *blobs, image, *rendered.bytes, rendered.contentType);
            })
            .then([self, image](const Result<std::optional<Thumbnail>> &made) {
                if (!self)
                    return;
                if (!made)
                    self->fail(made.error());
                else if (!made->has_value())
                    self->fail(Error {ErrorCode::NotFound, QStringLiteral("this image cannot be read"), {}});
                else
                    self->serveThumbnail(image, **made);
            });
    });
}

void DownloadSession::serveThumbnail(const Attachment &image, const Thumbnail &thumbnail)
{
    // Served like an attachment of its own: its bytes, type, size and ETag.
    m_scratch.reset();
    Attachment t = image;
    const QString suffix
        = thumbnail.contentType == QLatin1String("image/png") ? QStringLiteral(".png") : QStringLiteral(".jpg");
    const qsizetype dot = image.name.lastIndexOf(QLatin1Char('.'));
    t.name = (dot > 0 ? image.name.left(dot) : image.name) + QStringLiteral("-thumbnail") + suffix;
    t.contentType = thumbnail.contentType;
    t.sha256 = thumbnail.sha256;
    t.size = thumbnail.size;
    authorized(t);
}

void DownloadSession::authorized(const Attachment &attachment)
{
    m_attachment = attachment;
    const DivertedHead &head = m_request.head;
    const QByteArray sha256 = attachment.sha256.toLatin1();
    const QByteArray etag = '"' + sha256 + '"';
    raw::Headers headers {
        {"ETag", etag},
        {"Cache-Control", "private, max-age=31536000, immutable"},
        {"X-Content-Type-Options", "nosniff"},
    };
    const QByteArray ifNoneMatch = head.field("if-none-match");
    if (!ifNoneMatch.isEmpty() && etagListMatches(ifNoneMatch, sha256)) {
        answer(raw::head(304, headers));
        return;
    }
    // If-Range with another validator: the whole file, as if no Range had been sent.
    const QByteArray ifRange = head.field("if-range");
    ByteRange range;
    if (ifRange.isEmpty() || ifRange == etag)
        range = parseRange(head.field("range"), attachment.size);
    if (range.kind == ByteRange::Kind::Unsatisfiable) {
        answer(raw::error(416, "range_not_satisfiable",
                          QStringLiteral("the range is outside the file's %1 bytes").arg(attachment.size),
                          {{"Content-Range", "bytes */" + QByteArray::number(attachment.size)}}));
        return;
    }
    int status = 200;
    m_pos = 0;
    m_end = attachment.size;
    if (range.kind == ByteRange::Kind::Part) {
        status = 206;
        m_pos = range.first;
        m_end = range.last + 1;
        headers.append({"Content-Range",
                        "bytes " + QByteArray::number(range.first) + '-' + QByteArray::number(range.last) + '/'
                            + QByteArray::number(attachment.size)});
    }
    headers.prepend({"Accept-Ranges", "bytes"});
    headers.prepend({"Content-Disposition", contentDisposition(attachment)});
    headers.prepend({"Content-Length", QByteArray::number(m_end - m_pos)});
    headers.prepend({"Content-Type", attachment.contentType.toLatin1()});
    if (!m_guard || m_guard->isClosing())
        return;
    m_request.socket->write(raw::head(status, headers));
    if (head.method == "HEAD")
        m_end = m_pos;
    m_streaming = true;
    connect(m_request.socket, &QIODevice::bytesWritten, this, &DownloadSession::pump);
    pump();
}

void DownloadSession::pump()
{
    if (!m_streaming || m_jobInFlight || m_waiting)
        return;
    if (m_pos >= m_end) {
        m_streaming = false;
        if (m_guard)
            m_guard->closeWhenWritten();
        return;
    }
    // The next chunk only once the output is down to less than one.
    if (m_request.socket->bytesToWrite() >= BlobStore::kChunkBytes)
        return;
    const qint64 length = std::min(m_end - m_pos, BlobStore::kChunkBytes - m_pos % BlobStore::kChunkBytes);
    m_jobInFlight = true;
    BlobStore *blobs = &m_service.blobs();
    QPointer<DownloadSession> self(this);
    m_service.db()
        .query([blobs, sha = m_attachment.sha256.toLatin1(), pos = m_pos, length](QSqlDatabase &db) {
            return blobs->read(db, sha, pos, length);
        })
        .then([self](const Result<QByteArray> &bytes) {
            if (!self)
                return;
            self->m_jobInFlight = false;
            if (!self->m_streaming)
                return;
            if (!bytes || bytes->isEmpty()) {
                // The head is out: all that is left is to cut the connection short.
                logEvent(lcServer(), QtWarningMsg, QStringLiteral("download failed"),
                         {{QStringLiteral("attachment"), self->m_id},
                          {QStringLiteral("error"), bytes ? QStringLiteral("empty read") : bytes.error().message}});
                self->m_streaming = false;
                self->m_request.socket->abort();
                return;
            }
            self->m_pos += bytes->size();
            self->m_request.socket->write(*bytes);
            // The instance's transfer budget: the next chunk once it covers this one.
            if (self->m_service.pace(self, bytes->size(), self->m_pos < self->m_end, self->m_waiting,
                                     [self] { self->pump(); }))
                return;
            self->pump();
        });
}

} // namespace taskmaster::server
