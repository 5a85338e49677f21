// DownloadSession: one GET (or HEAD) /api/v1/attachments/{id} (docs/protocol.md section 6.8):
// token (401) and API rate (429), the attachment as the caller may see it (404), then
// If-None-Match (304), Range / If-Range (206, 416), and the bytes streamed from the BlobStore one
// chunk at a time: the next chunk is read only once the socket's output has drained below a
// chunk, so a slow client holds at most two chunks in the server whatever the file's size.
// GET .../thumbnail of an image: the stored thumbnail (Thumbnailer; made on the first request:
// copied to a temporary file on a database worker, decoded on the service's image pool), served
// the same way under its own ETag.
// Owns: the chunk being written, the temporary file of a thumbnail being made. Thread: network
// thread (a child of the socket).
#pragma once

#include "server/attachments/attachment.h"
#include "server/http/front_guard.h"

#include <QObject>
#include <QPointer>
#include <QTemporaryFile>

#include <memory>

namespace taskmaster::server {

class AttachmentService;
struct Thumbnail;

class DownloadSession final : public QObject {
    Q_OBJECT
public:
    DownloadSession(AttachmentService &service, DivertedRequest request);
    void start();

private:
    void authorized(const Attachment &attachment);
    void thumbnail(const Attachment &image);
    void render(const Attachment &image, const QString &path);
    void serveThumbnail(const Attachment &image, const Thumbnail &thumbnail);
    void pump();
    void fail(const Error &error);
    void answer(const QByteArray &response);

    AttachmentService &m_service;
    DivertedRequest m_request;
    QPointer<FrontGuard> m_guard;
    Id m_id = 0;
    bool m_thumbnail = false;
    Attachment m_attachment;
    qint64 m_pos = 0; // next byte to send
    qint64 m_end = 0; // one past the last byte to send
    bool m_jobInFlight = false;
    bool m_streaming = false;
    bool m_waiting = false; // for the instance's transfer budget (TransferBudget)
    std::unique_ptr<QTemporaryFile> m_scratch; // the image being thumbnailed (removed with it)
};

} // namespace taskmaster::server
