// Hand-written HTTP and WebSocket bytes on plain sockets, for the suites that play hostile or
// broken clients (tst_http_limits and tst_ws_close against one instance, tst_cluster_hostile
// through nginx): a connection from a chosen loopback address, reading until a condition, the
// first HTTP response in what was read, a masked client frame, the close code among server
// frames, and a process's /proc figures. Thread: the test's.
#pragma once

#include <QByteArray>
#include <QByteArrayView>
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

// The WebSocket upgrade request for /ws (a fixed key).
[[nodiscard]] QByteArray wsUpgradeRequest();
// A masked client frame with the first byte given (FIN, RSV bits, opcode: 0x81 for a text frame).
[[nodiscard]] QByteArray maskedFrame(quint8 first, const QByteArray &payload);
// The close code among server frames read after the 101 head (-1: no complete close frame).
[[nodiscard]] int closeCodeIn(const QByteArray &frames);

// A "Field:  N kB" figure of /proc/<pid>/status (VmHWM: the peak RSS) in KiB; -1 if unknown.
[[nodiscard]] qint64 procStatusKib(qint64 pid, QByteArrayView field);

} // namespace taskmaster::test
