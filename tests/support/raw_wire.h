// Hand-written HTTP and WebSocket bytes on plain sockets, for the suites that play hostile or
// broken clients (tst_http_limits and tst_ws_close against one instance, tst_cluster_hostile
// through nginx): a connection from a chosen loopback address, reading until a condition, the
// first HTTP response in what was read, an attack's bytes sent on until the server closes, a
// masked client frame, the close code among server frames, and a process's /proc figures.
// Thread: the test's.
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QHostAddress>
#include <QJsonObject>
#include <QString>
#include <QTcpSocket>

#include <functional>
#include <memory>

namespace taskmaster::test {

// The first HTTP response in some bytes read (status 0: no complete head yet).
struct RawResponse {
    int status = 0;
    QByteArray head; // up to the blank line, without it
    QByteArray body; // what came after the head (complete or not)
    // The JSON error object of the body ({"error": {...}}), and its code.
    [[nodiscard]] QJsonObject error() const;
    [[nodiscard]] QString errorCode() const;
};
[[nodiscard]] RawResponse parseResponse(const QByteArray &bytes);
// Whether bytes hold a whole response: the head, and the body as long as its Content-Length.
[[nodiscard]] bool isWholeResponse(const QByteArray &bytes);

// A connection to 127.0.0.1:port from the source address (any 127.0.0.x); null when it failed.
[[nodiscard]] std::unique_ptr<QTcpSocket> connectFrom(const QHostAddress &source, quint16 port);
[[nodiscard]] inline std::unique_ptr<QTcpSocket> connectFrom(const QString &source, quint16 port)
{
    return connectFrom(QHostAddress(source), port);
}
// Reads from s until done(bytes so far) holds, the socket closes or timeoutMs pass; all read.
QByteArray readUntil(QTcpSocket &s, const std::function<bool(const QByteArray &)> &done, int timeoutMs = 5000);
// One GET (Connection: close) on a fresh connection from source: the status (0: none came).
[[nodiscard]] int getStatus(const QHostAddress &source, quint16 port, const QByteArray &path = "/health");
[[nodiscard]] inline int getStatus(const QString &source, quint16 port, const QByteArray &path = "/health")
{
    return getStatus(QHostAddress(source), port, path);
}

// What a hostile HTTP client goes on sending after its request head, a turn at a time while the
// server has not closed: nothing; a body of `bytes` in 1 MiB writes, at most 4 MiB queued ahead of
// the kernel (a huge Content-Length); 16 KiB chunks without end, at most 256 KiB queued (a chunked
// body over the limit); or piece(i) every intervalMs from the attack's start, `count` times (-1:
// without end; a slow head or body).
class AttackFeed {
public:
    AttackFeed() = default;
    [[nodiscard]] static AttackFeed body(qint64 bytes);
    [[nodiscard]] static AttackFeed chunked();
    [[nodiscard]] static AttackFeed trickle(std::function<QByteArray(int)> piece, int intervalMs, int count = -1);
    [[nodiscard]] static AttackFeed trickle(const QByteArray &piece, int intervalMs, int count = -1);
    // This turn's bytes to s, elapsedMs after the attack started.
    void turn(QTcpSocket &s, qint64 elapsedMs);
    // The body bytes written so far (body()).
    [[nodiscard]] qint64 sent() const { return m_sent; }

private:
    enum class Kind { None, Body, Chunked, Trickle };
    Kind m_kind = Kind::None;
    qint64 m_bytes = 0;
    qint64 m_sent = 0;
    std::function<QByteArray(int)> m_piece;
    int m_intervalMs = 0;
    int m_count = -1;
    int m_pieces = 0;
};

// How an attack ended: all that was read, when (ms after its start), and whether the server had
// closed the connection by then.
struct AttackEnd {
    QByteArray read;
    qint64 afterMs = 0;
    bool closed = false;
    // "still open after N ms; got: ..." for a failed check of closed.
    [[nodiscard]] QByteArray stillOpen() const;
};
// Runs an attack on s until the server closes it or deadline passes: each turn feed's bytes, up to
// 10 ms each to write and to read, then eachTurn(all read so far) (a bystander served meanwhile,
// the time the answer came). clock runs from the attack's start.
AttackEnd driveAttack(QTcpSocket &s, AttackFeed &feed, const QElapsedTimer &clock, const QDeadlineTimer &deadline,
                      const std::function<void(const QByteArray &)> &eachTurn);

// The WebSocket upgrade request for /ws (a fixed key).
[[nodiscard]] QByteArray wsUpgradeRequest();
// A masked client frame with the first byte given (FIN, RSV bits, opcode: 0x81 for a text frame).
[[nodiscard]] QByteArray maskedFrame(quint8 first, const QByteArray &payload);
// The close code among server frames read after the 101 head (-1: no complete close frame).
[[nodiscard]] int closeCodeIn(const QByteArray &frames);

// A "Field:  N kB" figure of /proc/<pid>/status (VmHWM: the peak RSS) in KiB; -1 if unknown.
[[nodiscard]] qint64 procStatusKib(qint64 pid, QByteArrayView field);

} // namespace taskmaster::test
