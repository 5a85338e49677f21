// UploadSession: one POST /api/v1/uploads?filename=NAME (docs/protocol.md section 6.8), or a GET of
// the caller's upload limits and usage. Before
// any of the body is read, in the contract's order: method (405), Content-Length (411), size
// (413 too_large), filename (422), content type (415), token (401) and API rate (429), upload
// rate and daily quota (429); then `100 Continue` when the client asked for it. The body is then
// read as it arrives into a buffer of one chunk, hashed (sha256) and written to a staging area of
// the BlobStore chunk by chunk; while a chunk is being written the socket is not read (its read
// buffer is bounded, so TCP holds the client back), and after each chunk for as long as the
// instance's transfer budget asks (AttachmentService::pace). At the end the staged bytes are committed
// under their sha256 (stored once), the attachments row inserted and 201 answered.
// An upload abandoned half-way (the client went, the body deadline passed) is discarded.
// Owns: one chunk of the body and the staging key. Thread: network thread (a child of the socket).
#pragma once

#include "server/attachments/attachment.h"
#include "server/http/front_guard.h"

#include <QCryptographicHash>
#include <QObject>
#include <QPointer>

namespace taskmaster::server {

class AttachmentService;

class UploadSession final : public QObject {
    Q_OBJECT
public:
    UploadSession(AttachmentService &service, DivertedRequest request);
    ~UploadSession() override;
    void start();

private:
    // GET /api/v1/uploads: the limits an upload of the caller meets and their day's usage.
    void describeLimits();
    void authenticated(const User &user);
    void readBody();
    void writeChunk();
    void finish();
    void fail(const Error &error);
    void answer(const QByteArray &response);

    AttachmentService &m_service;
    DivertedRequest m_request;
    QPointer<FrontGuard> m_guard;
    Attachment m_attachment; // what is being uploaded
    qint64 m_length = 0;
    qint64 m_received = 0;
    qint64 m_chunks = 0; // chunks written
    QByteArray m_buffer; // the chunk being filled
    QCryptographicHash m_hash {QCryptographicHash::Sha256};
    QString m_staging; // the BlobStore's staging key, once staged
    bool m_reading = false; // the body is being read (not waiting on a job)
    bool m_jobInFlight = false;
    bool m_waiting = false; // for the instance's transfer budget (TransferBudget)
    bool m_done = false; // answered (or committed): nothing to discard
};

} // namespace taskmaster::server
