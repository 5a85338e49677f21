// AttachmentService: the attachment routes of docs/protocol.md section 6.8, which stream bodies
// of any size and so bypass QtHttpServer (it reads whole bodies into memory): the HTTP front
// diverts every request whose path is /api/v1/uploads or under /api/v1/attachments/ at the end of
// its head (FrontGuard, DivertedRequest), and the service answers it on the raw socket:
// - POST /api/v1/uploads?filename=NAME: UploadSession (checks before the body, then the body
//   into the BlobStore in chunks, the metadata row, 201);
// - GET|HEAD /api/v1/attachments/{id}[/thumbnail]: DownloadSession (ETag, Range, streaming).
// Each transfer owns at most two chunks (BlobStore::kChunkBytes) and the socket's read buffer,
// whatever the file's size. The connection is closed after each of these answers.
// Also collects unused uploads (older than a day, used by no message or task) every hour.
// Owns: the BlobStore, the upload settings and rate limit, the transfer budget (bytes a second,
// TransferBudget), the transfers (children of their
// sockets), the image pool (one thread: thumbnails are decoded there, not on a database worker).
// Thread: network thread; blob and SQL work runs on the DbPool's workers.
#pragma once

#include "server/attachments/blob_store.h"
#include "server/attachments/transfer_budget.h"
#include "server/http/api.h"
#include "server/http/front_guard.h"
#include "server/http/rate_limit.h"
#include "shared/domain/types.h"

#include <QElapsedTimer>
#include <QObject>
#include <QStringList>
#include <QThreadPool>
#include <QTimer>

#include <functional>
#include <memory>

namespace taskmaster::server {

class Authenticator;
class DbPool;

struct AttachmentOptions {
    qint64 maxUploadBytes = 25LL << 20; // --max-upload-mib: larger is 413 too_large before the body
    QStringList denyTypes; // --upload-deny-types: media types answered 415
    qint64 quotaBytesPerDay = 1LL << 30; // --upload-quota-mib: a user's uploads in 24 h; over it 429
    qint64 unusedTtlMs = 24LL * 3600 * 1000; // unused uploads older than this are deleted
    qint64 bytesPerSecond = 16LL << 20; // --attachment-mib-per-s: uploads and downloads together; 0: no limit
    std::function<qint64()> nowMs; // wall clock (empty: the real one)
};

class AttachmentService final : public QObject {
    Q_OBJECT
public:
    // uploadRate: the "upload" scope, per user (--rate-upload).
    AttachmentService(DbPool &db, std::unique_ptr<BlobStore> blobs, Authenticator &authenticator, RateLimit uploadRate,
                      AttachmentOptions options, QObject *parent = nullptr);
    ~AttachmentService() override;

    // Whether the front diverts this request to accept() (FramingLimits::divert).
    [[nodiscard]] static bool isRoute(QByteArrayView method, QByteArrayView path);
    // Answers a diverted request.
    void accept(DivertedRequest request);
    // Deletes unused uploads older than unusedTtlMs and staged uploads that never finished;
    // done gets the number of attachments deleted (tests; the timer runs it hourly).
    void collectGarbage(std::function<void(int)> done = {});

    [[nodiscard]] DbPool &db() { return m_db; }
    [[nodiscard]] BlobStore &blobs() { return *m_blobs; }
    [[nodiscard]] Authenticator &authenticator() { return m_authenticator; }
    [[nodiscard]] QThreadPool &imagePool() { return m_imagePool; }
    [[nodiscard]] const RateLimit &uploadRate() const { return m_uploadRate; }
    [[nodiscard]] const AttachmentOptions &options() const { return m_options; }
    [[nodiscard]] qint64 nowMs() const { return m_options.nowMs(); }
    // A transfer moved a chunk of `bytes`, charged to the instance's budget (TransferBudget): true
    // when it waits before moving more (`more`: it has more to move); `waiting` is then set until
    // the budget covers the chunk, when it is cleared and `resume` runs (not if `transfer` is
    // gone by then). False: it goes on at once.
    bool pace(QObject *transfer, qint64 bytes, bool more, bool &waiting, std::function<void()> resume);

private:
    DbPool &m_db;
    std::unique_ptr<BlobStore> m_blobs;
    Authenticator &m_authenticator;
    RateLimit m_uploadRate;
    AttachmentOptions m_options;
    QTimer m_gcTimer;
    QThreadPool m_imagePool;
    TransferBudget m_budget;
    QElapsedTimer m_clock; // the budget's
};

// The raw answers of a diverted request (they all carry `Connection: close`).
namespace raw {
using Headers = QList<std::pair<QByteArray, QByteArray>>;
// Status line and header fields (with the blank line), without body.
[[nodiscard]] QByteArray head(int status, const Headers &headers);
// A JSON answer: Content-Type, Content-Length, X-Content-Type-Options, then the body.
[[nodiscard]] QByteArray json(int status, const QByteArray &body, Headers headers = {});
// docs/protocol.md's error body for an Error (its status and code, Retry-After for 429/503).
[[nodiscard]] QByteArray error(const Error &error);
// An error with a status and code of its own (411 length_required, 413 too_large,
// 416 range_not_satisfiable).
[[nodiscard]] QByteArray error(int status, const char *code, const QString &message, Headers headers = {});
// The Call the Authenticator reads (bearer token, peer, X-Forwarded-For) from a diverted head.
[[nodiscard]] Call callOf(const DivertedRequest &request);
} // namespace raw

} // namespace taskmaster::server
