// RequestFraming: follows the HTTP/1.1 request framing of one connection's raw bytes (request line
// and headers, then a Content-Length or chunked body, request after request) without keeping
// them: only the head of the current request is buffered (at most maxHeaderBytes). It is what
// FrontGuard checks before QtHttpServer 6.4, which has no limits of its own, sees the bytes:
// a head over maxHeaderBytes or with more than maxHeaders fields -> 431; a Content-Length over
// maxBodyBytes -> 413 as soon as the head ends (before any of the body is read); a chunked body
// whose encoded size passes maxBodyBytes -> 413 at that byte; a malformed head or framing -> 400.
// After a WebSocket upgrade head it stops (the bytes are WebSocket frames from there on). So it
// does after the head of a diverted request (FramingLimits::divert: the attachment routes, which
// stream their bodies themselves): the head is kept (DivertedHead), its body limit is the
// route's own, and the bytes after the head belong to whoever the request was diverted to.
// Owns: the parse state of one connection. Thread: the connection's (network) thread.
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

#include <optional>
#include <utility>

namespace taskmaster::server {

// An answer the front gives by itself: the HTTP status and the error code of docs/protocol.md
// (400 bad_request, 408 request_timeout, 413 payload_too_large, 431 headers_too_large,
// 503 unavailable).
struct FrontError {
    int status = 400;
    const char *code = "bad_request";
    QString message;
};

// The head of a request taken from QtHttpServer (FramingLimits::divert).
struct DivertedHead {
    QByteArray method; // "POST"
    QByteArray target; // "/api/v1/uploads?filename=a.png"
    QList<std::pair<QByteArray, QByteArray>> fields; // names lower-cased, values trimmed
    qint64 contentLength = -1; // -1: none given
    bool chunked = false;

    // The first field of that (lower-case) name; empty when absent.
    [[nodiscard]] QByteArray field(QByteArrayView name) const;
};

struct FramingLimits {
    qint64 maxBodyBytes = 1024 * 1024;
    qint64 maxHeaderBytes = 16 * 1024; // request line and header fields together
    int maxHeaders = 100;
    // Requests (method, path without the query) that bypass QtHttpServer; null: none.
    bool (*divert)(QByteArrayView method, QByteArrayView path) = nullptr;
};

class RequestFraming final {
public:
    enum class Phase {
        BetweenRequests, // nothing of the next request seen yet
        Head, // inside a request line or header fields
        Body, // inside a body (Content-Length or chunked)
        Upgraded, // a WebSocket upgrade head was seen: no more HTTP on this connection
        Diverted, // a diverted head was seen: divertedHead() and the bytes after it are someone else's
        Failed, // a limit or the framing was broken: error() says which
    };

    explicit RequestFraming(FramingLimits limits) : m_limits(limits) { }

    // Follows `bytes`, the next bytes of the connection. Returns false when the request broke a
    // limit or the framing (then error() holds the answer and nothing more is followed).
    bool feed(QByteArrayView bytes);

    [[nodiscard]] Phase phase() const { return m_phase; }
    [[nodiscard]] const std::optional<FrontError> &error() const { return m_error; }
    // Heads and whole requests completed so far.
    [[nodiscard]] qint64 headsSeen() const { return m_heads; }
    [[nodiscard]] qint64 requestsSeen() const { return m_requests; }
    // X-Forwarded-For of the last complete head (empty when absent).
    [[nodiscard]] const QByteArray &forwardedFor() const { return m_forwardedFor; }
    // In phase Diverted: the head, and where its body starts in the bytes of the last feed().
    [[nodiscard]] const DivertedHead &divertedHead() const { return m_diverted; }
    [[nodiscard]] qsizetype divertedBodyOffset() const { return m_divertedBodyOffset; }

private:
    enum class Chunk { Size, Data, DataEnd, Trailer };

    bool fail(FrontError error);
    qsizetype failAt(FrontError error); // fail(), then -1
    bool endHead(); // the head in m_head is complete
    void endRequest();
    // Consumes from bytes[at..]; returns the new position or -1 on failure.
    qsizetype feedHead(QByteArrayView bytes, qsizetype at);
    qsizetype feedChunked(QByteArrayView bytes, qsizetype at);

    FramingLimits m_limits;
    Phase m_phase = Phase::BetweenRequests;
    std::optional<FrontError> m_error;
    QByteArray m_head; // the current head (or chunk-size / trailer line), bounded
    qsizetype m_headLines = 0; // line ends in the current head so far, while it has not ended
    qint64 m_bodyLeft = 0; // Content-Length body bytes still to come
    bool m_chunked = false;
    Chunk m_chunk = Chunk::Size;
    qint64 m_chunkLeft = 0;
    qint64 m_bodySeen = 0; // encoded body bytes of the current request (chunked)
    qint64 m_trailerBytes = 0;
    bool m_upgrade = false;
    qint64 m_heads = 0;
    qint64 m_requests = 0;
    QByteArray m_forwardedFor;
    DivertedHead m_diverted;
    qsizetype m_divertedBodyOffset = 0;
};

} // namespace taskmaster::server
