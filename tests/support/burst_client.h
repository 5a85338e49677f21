// BurstClient: many keep-alive HTTP/1.1 connections to one server that send one request each at
// the same moment (all connected first, then every request written in one pass), to measure what
// concurrent requests cost (request coalescing). QNetworkAccessManager opens at most six
// connections per host, so this speaks HTTP itself: GET only, answers with Content-Length.
// Owns: its sockets. Thread: the test's (the event loop runs while it waits, with a deadline).
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QTcpSocket>

#include <memory>
#include <utility>
#include <vector>

namespace taskmaster::test {

struct BurstReply {
    int status = 0; // 0: no complete answer before the deadline
    QByteArray body;
    QList<std::pair<QByteArray, QByteArray>> headers; // names lower case
    [[nodiscard]] QByteArray header(const QByteArray &name) const;
};

class BurstClient {
public:
    // Opens `connections` connections to 127.0.0.1:port; false when one did not connect in time.
    [[nodiscard]] bool connect(quint16 port, int connections, int timeoutMs = 10000);
    // GET path on every connection at once, connection i with tokens[i % tokens.size()] as
    // bearer token; waits for every answer (or the deadline) and returns them in order.
    [[nodiscard]] QList<BurstReply> get(const QString &path, const QList<QByteArray> &tokens, int timeoutMs = 30000);
    // get() in two halves: send() writes the requests, wait() collects the answers.
    void send(const QString &path, const QList<QByteArray> &tokens);
    [[nodiscard]] QList<BurstReply> wait(int timeoutMs = 30000);
    [[nodiscard]] int size() const { return int(m_sockets.size()); }

private:
    std::vector<std::unique_ptr<QTcpSocket>> m_sockets;
    std::vector<QByteArray> m_buffers;
};

} // namespace taskmaster::test
