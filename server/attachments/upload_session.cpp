#include "server/attachments/upload_session.h"

#include "server/attachments/attachment_service.h"
#include "server/attachments/attachment_store.h"
#include "server/http/authenticator.h"
#include "server/log/json_log.h"
#include "server/storage/db_pool.h"
#include "shared/codec/json_writer.h"
#include "shared/codec/resource_json.h"
#include "shared/domain/validation.h"

#include <QDateTime>
#include <QTcpSocket>

#include <utility>

namespace taskmaster::server {

namespace {
// The socket's read buffer while a body streams in: with one chunk being filled and one being
// written, an upload holds at most about three chunks, whatever its size.
constexpr qint64 kReadBuffer = BlobStore::kChunkBytes;
constexpr qint64 kDayMs = 24LL * 3600 * 1000;
} // namespace

UploadSession::UploadSession(AttachmentService &service, DivertedRequest request)
    : QObject(request.socket), m_service(service), m_request(std::move(request)), m_guard(m_request.guard)
{
    connect(m_request.guard, &FrontGuard::closing, this, [this] {
        // The guard answered (a deadline) or our answer is out: read nothing more.
        m_reading = false;
        disconnect(m_request.socket, &QIODevice::readyRead, this, nullptr);
    });
}

UploadSession::~UploadSession()
{
    // Abandoned half-way (the client went): the staged bytes go, unless a job still writes them
    // (then its continuation discards them).
    if (!m_done && !m_staging.isEmpty() && !m_jobInFlight) {
        BlobStore *blobs = &m_service.blobs();
        m_service.db().run([blobs, key = m_staging](QSqlDatabase &db) { blobs->discard(db, key); });
    }
}

void UploadSession::answer(const QByteArray &response)
{
    m_done = true;
    m_reading = false;
    if (m_guard)
        m_guard->answerAndClose(response);
}

void UploadSession::fail(const Error &error)
{
    if (!m_staging.isEmpty()) {
        BlobStore *blobs = &m_service.blobs();
        m_service.db().run([blobs, key = m_staging](QSqlDatabase &db) { blobs->discard(db, key); });
    }
    if (error.code == ErrorCode::Internal || error.code == ErrorCode::Unavailable) {
        logEvent(lcServer(), QtWarningMsg, QStringLiteral("upload failed"), {{QStringLiteral("error"), error.message}});
    }
    answer(raw::error(error));
}

void UploadSession::start()
{
    const DivertedHead &head = m_request.head;
    const AttachmentOptions &options = m_service.options();
    // 1. path and method
    const qsizetype q = head.target.indexOf('?');
    if ((q < 0 ? head.target : head.target.left(q)) != "/api/v1/uploads") {
        answer(raw::error(Error {ErrorCode::NotFound, QStringLiteral("no such resource"), {}}));
        return;
    }
    if (head.method == "GET") {
        describeLimits();
        return;
    }
    if (head.method != "POST") {
        answer(raw::error(Error {ErrorCode::MethodNotAllowed, QStringLiteral("uploads are POSTed"), {}}));
        return;
    }
    // 2. the body's size: known before it is read, and within the limit
    if (head.contentLength < 0) {
        answer(raw::error(411, "length_required", QStringLiteral("an upload needs a Content-Length")));
        return;
    }
    if (head.contentLength > options.maxUploadBytes) {
        answer(raw::error(413, "too_large",
                          QStringLiteral("uploads are limited to %1 bytes").arg(options.maxUploadBytes)));
        return;
    }
    m_length = head.contentLength;
    // 3. the file's name and type
    const QList<QString> names = queryValues(q < 0 ? QByteArray() : head.target.mid(q + 1), "filename");
    if (names.size() > 1) {
        answer(raw::error(Error::badRequest(QStringLiteral("filename given twice"), QStringLiteral("filename"))));
        return;
    }
    const QString name = names.value(0);
    if (auto e = checkFilename(name)) {
        answer(raw::error(*e));
        return;
    }
    const auto type = mediaType(head.field("content-type"));
    if (!type) {
        answer(raw::error(Error {ErrorCode::UnsupportedMediaType, QStringLiteral("malformed Content-Type"), {}}));
        return;
    }
    if (options.denyTypes.contains(*type)) {
        answer(raw::error(
            Error {ErrorCode::UnsupportedMediaType, QStringLiteral("uploads of %1 are not accepted").arg(*type), {}}));
        return;
    }
    m_attachment.name = name;
    m_attachment.contentType = *type;
    m_attachment.size = m_length;
    // 4. who (401) and the API rate (429)
    QPointer<UploadSession> self(this);
    m_service.authenticator().authenticate(raw::callOf(m_request), [self](Result<User> user) {
        if (!self)
            return;
        if (!user)
            self->fail(user.error());
        else
            self->authenticated(*user);
    });
}

void UploadSession::describeLimits()
{
    QPointer<UploadSession> self(this);
    m_service.authenticator().authenticate(raw::callOf(m_request), [self](Result<User> user) {
        if (!self)
            return;
        if (!user) {
            self->answer(raw::error(user.error()));
            return;
        }
        const qint64 now = self->m_service.nowMs();
        self->m_jobInFlight = true;
        self->m_service.db()
            .query(
                [uploader = user->id, now](QSqlDatabase &db) { return store::uploadUsage(db, uploader, now - kDayMs); })
            .then([self](const Result<store::UploadUsage> &usage) {
                if (!self)
                    return;
                self->m_jobInFlight = false;
                if (!usage) {
                    self->answer(raw::error(usage.error()));
                    return;
                }
                const AttachmentOptions &o = self->m_service.options();
                JsonWriter w;
                w.beginObject();
                w.key("maxBytes").integer(o.maxUploadBytes);
                w.key("maxPerItem").integer(limits::kAttachmentsMax);
                w.key("deniedTypes").beginArray();
                for (const QString &t : o.denyTypes)
                    w.string(t);
                w.endArray();
                w.key("quotaBytesPerDay").integer(o.quotaBytesPerDay);
                w.key("usedBytesToday").integer(usage->bytes);
                w.endObject();
                self->m_done = true;
                self->answer(raw::json(200, w.take()));
            });
    });
}

void UploadSession::authenticated(const User &user)
{
    m_attachment.uploaderId = user.id;
    QPointer<UploadSession> self(this);
    // 5. the upload rate, then the day's quota (429), then a staging area for the bytes.
    m_service.uploadRate().take(QByteArray::number(user.id), [self](MaybeError refused) {
        if (!self)
            return;
        if (refused) {
            refused->message = QStringLiteral("too many uploads: slow down");
            self->fail(*refused);
            return;
        }
        const qint64 now = self->m_service.nowMs();
        const qint64 quota = self->m_service.options().quotaBytesPerDay;
        const qint64 length = self->m_length;
        const Id uploader = self->m_attachment.uploaderId;
        BlobStore *blobs = &self->m_service.blobs();
        self->m_jobInFlight = true;
        self->m_service.db()
            .query([now, quota, length, uploader, blobs](QSqlDatabase &db) -> Result<QString> {
                auto usage = store::uploadUsage(db, uploader, now - kDayMs);
                if (!usage)
                    return usage.error();
                if (usage->bytes + length > quota) {
                    return Error {ErrorCode::RateLimited,
                                  QStringLiteral("daily upload quota of %1 bytes reached").arg(quota),
                                  {},
                                  std::max<qint64>(1000, usage->oldestMs + kDayMs - now)};
                }
                return blobs->stage(db);
            })
            .then([self, blobs, db = &self->m_service.db()](const Result<QString> &staged) {
                if (!self) {
                    if (staged)
                        db->run([blobs, key = *staged](QSqlDatabase &c) { blobs->discard(c, key); });
                    return;
                }
                self->m_jobInFlight = false;
                if (!staged) {
                    self->fail(staged.error());
                    return;
                }
                self->m_staging = *staged;
                // Every check passed: the client may send the body now.
                if (self->m_request.head.field("expect").compare("100-continue", Qt::CaseInsensitive) == 0)
                    self->m_request.socket->write("HTTP/1.1 100 Continue\r\n\r\n");
                self->m_reading = true;
                self->m_buffer.reserve(BlobStore::kChunkBytes);
                self->m_request.socket->setReadBufferSize(kReadBuffer);
                QObject::connect(self->m_request.socket, &QIODevice::readyRead, self, &UploadSession::readBody);
                self->readBody();
            });
    });
}

void UploadSession::readBody()
{
    if (!m_reading || m_jobInFlight || m_waiting || m_done)
        return;
    QTcpSocket *socket = m_request.socket;
    bool progressed = false;
    while (m_received < m_length && socket->bytesAvailable() > 0) {
        const qint64 want = std::min(BlobStore::kChunkBytes - m_buffer.size(), m_length - m_received);
        const QByteArray part = socket->read(std::min(want, socket->bytesAvailable()));
        if (part.isEmpty())
            break;
        progressed = true;
        m_hash.addData(part);
        m_buffer += part;
        m_received += part.size();
        if (m_buffer.size() == BlobStore::kChunkBytes || m_received == m_length) {
            if (m_guard)
                m_guard->bodyProgress();
            writeChunk();
            return;
        }
    }
    if (progressed && m_guard)
        m_guard->bodyProgress();
    if (m_received == m_length)
        finish(); // an empty file
}

void UploadSession::writeChunk()
{
    if (m_buffer.isEmpty()) {
        finish();
        return;
    }
    m_jobInFlight = true;
    BlobStore *blobs = &m_service.blobs();
    DbPool *db = &m_service.db();
    QPointer<UploadSession> self(this);
    const qint64 size = m_buffer.size();
    db->query([blobs, key = m_staging, n = m_chunks,
               bytes = std::exchange(m_buffer, QByteArray())](QSqlDatabase &c) -> Result<bool> {
          if (auto e = blobs->append(c, key, n, bytes))
              return *e;
          return true;
      }).then([self, blobs, db, key = m_staging, size](const Result<bool> &written) {
        if (!self) {
            db->run([blobs, key](QSqlDatabase &c) { blobs->discard(c, key); });
            return;
        }
        self->m_jobInFlight = false;
        if (!written) {
            self->fail(written.error());
            return;
        }
        ++self->m_chunks;
        self->m_buffer.reserve(BlobStore::kChunkBytes);
        if (self->m_received == self->m_length) {
            self->finish();
            return;
        }
        // The instance's transfer budget: the next chunk once it covers this one.
        if (self->m_service.pace(self, size, true, self->m_waiting, [self] {
                if (self->m_guard)
                    self->m_guard->bodyProgress(); // waiting on us is not the client's stall
                self->readBody();
            })) {
            if (self->m_guard)
                self->m_guard->bodyProgress(); // the body deadline counts from here, not from the chunk's start
            return;
        }
        self->readBody();
    });
}

void UploadSession::finish()
{
    if (m_done || m_jobInFlight)
        return;
    m_reading = false;
    if (m_guard)
        m_guard->bodyDone();
    disconnect(m_request.socket, &QIODevice::readyRead, this, nullptr);
    m_attachment.sha256 = QString::fromLatin1(m_hash.result().toHex());
    m_attachment.createdAt = QDateTime::fromMSecsSinceEpoch(m_service.nowMs(), Qt::UTC);
    m_jobInFlight = true;
    BlobStore *blobs = &m_service.blobs();
    QPointer<UploadSession> self(this);
    m_service.db()
        .query([blobs, key = m_staging, a = m_attachment](QSqlDatabase &db) -> Result<Attachment> {
            if (auto e = blobs->commit(db, key, a.sha256.toLatin1(), a.size))
                return *e;
            return store::insertAttachment(db, a);
        })
        .then([self](const Result<Attachment> &stored) {
            if (!self)
                return; // committed or not, an unused upload is collected later
            self->m_jobInFlight = false;
            if (!stored) {
                // The blob may be committed (and shared by now): left to garbage collection.
                self->m_staging.clear();
                self->fail(stored.error());
                return;
            }
            self->m_staging.clear(); // committed: nothing to discard
            self->m_attachment = *stored;
            JsonWriter w;
            w.beginObject();
            w.key("attachment");
            writeJson(w, *stored);
            w.endObject();
            self->answer(raw::json(201, w.take()));
        });
}

} // namespace taskmaster::server
