// The limits at the HTTP front (docs/operations.md, "Limits"), which hold without nginx in front:
// QtHttpServer 6.4 reads whole bodies, has no timeouts and no connection cap, so every accepted
// socket gets a FrontGuard that sees its bytes before QtHttpServer does (it is connected to
// readyRead first and only peeks) and follows the request framing (RequestFraming). On a broken
// limit it takes the socket away from QtHttpServer, answers with the JSON error of
// docs/protocol.md (413, 431, 400, 408; 503 over a connection cap) with `Connection: close`, and
// closes gently: half-close, then the client's remaining input is read and thrown away for a
// short linger time, so the client reads the answer instead of a reset.
// Deadlines: the request head (from the connection's start or the head's first byte), the body
// (from the end of the head), and an idle keep-alive connection (from the last answer written).
// ConnectionCounts keeps open connections per client address and in total. A peer that is one of
// --trusted-proxies (nginx) is counted in the total only at accept (per address it would count
// nginx); each request head on its connections then names the client (X-Forwarded-For), and the
// connection counts for that client from there on (a WebSocket for its whole life).
// After a WebSocket upgrade the guard holds the socket's place in the counts and ends its TCP
// connection gently when the WebSocket layer closes it (LingeringClose): the client reads the
// close frame and its code instead of a reset (1006).
// A diverted request (FramingLimits::divert: the attachment routes, which stream bodies of any
// size) is taken from QtHttpServer at the end of its head: the guard stops following the
// connection, hands the socket, positioned at the body, to FrontLimits::onDiverted, keeps the
// body deadline (re-armed by the handler on every piece of progress) and closes the connection
// after the handler's answer (answerAndClose, closeWhenWritten).
// Owns: one socket's limits (FrontGuard, a child of the socket); the counts (ConnectionCounts,
// owned by HttpFront). Thread: network (main event loop).
#pragma once

#include "server/http/request_framing.h"
#include "server/http/trusted_proxies.h"

#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <functional>

class QTcpSocket;

namespace taskmaster::server {

class FrontGuard;

// A request taken from QtHttpServer: its socket (positioned at the first byte of the body), the
// guard that still watches it, the head, and the peer.
struct DivertedRequest {
    QTcpSocket *socket = nullptr;
    FrontGuard *guard = nullptr;
    DivertedHead head;
    QHostAddress peer;
};

struct FrontLimits {
    FramingLimits framing;
    int headTimeoutMs = 10000;
    int bodyTimeoutMs = 30000;
    int idleTimeoutMs = 60000;
    int maxConnections = 10000; // open sockets in total (HTTP and WebSocket)
    int maxConnectionsPerAddress = 1000; // per client address; 0: no cap
    int lingerMs = 2000; // after an error answer: how long the client's input is drained
    // Takes the requests framing.divert picks (set both or neither).
    std::function<void(DivertedRequest)> onDiverted;
};

class ConnectionCounts final {
public:
    explicit ConnectionCounts(const FrontLimits &limits) : m_limits(limits) { }

    // A new socket: false when the total is at its cap.
    [[nodiscard]] bool addConnection();
    void removeConnection() { --m_total; }
    // The socket counts for `address` (null: for none); false when that address is at its cap.
    [[nodiscard]] bool addAddress(const QHostAddress &address);
    void removeAddress(const QHostAddress &address);

    [[nodiscard]] int total() const { return m_total; }
    [[nodiscard]] int of(const QHostAddress &address) const { return m_perAddress.value(address); }

private:
    const FrontLimits &m_limits;
    int m_total = 0;
    QHash<QHostAddress, int> m_perAddress;
};

class FrontGuard final : public QObject {
    Q_OBJECT
public:
    // Admits a just accepted `socket` (the counts) and watches it: returns the guard (a child
    // of the socket), or null when the socket was refused (then it is answered 503 and closed,
    // and must not be handed to QtHttpServer; it deletes itself).
    static FrontGuard *admit(QTcpSocket *socket, const FrontLimits &limits, ConnectionCounts &counts,
                             const TrustedProxies &proxies);
    ~FrontGuard() override;

    // Called once QtHttpServer has connected to the socket: from then on the guard learns after
    // each readyRead how much QtHttpServer left unread.
    void watchAfterServer();

    // For the handler of a diverted request. bodyProgress: bytes arrived, the body deadline starts
    // again; bodyDone: no more deadline. answerAndClose: writes a whole answer (which must carry
    // `Connection: close`), then closes gently. closeWhenWritten: the handler has written its
    // whole answer itself; close gently once it is out.
    void bodyProgress();
    void bodyDone();
    void answerAndClose(const QByteArray &response);
    void closeWhenWritten();
    [[nodiscard]] bool isClosing() const { return m_closing; }

Q_SIGNALS:
    // The guard answered and closes the connection (a deadline, or the handler's own answer): a
    // diverted request's handler stops there.
    void closing();

private:
    enum class Deadline { None, Head, Body, Idle };

    FrontGuard(QTcpSocket *socket, const FrontLimits &limits, ConnectionCounts &counts, const TrustedProxies &proxies);
    void beforeServerRead();
    void afterServerRead();
    void watchWebSocketClose();
    void onWritten();
    void onDeadline();
    void arm(Deadline deadline);
    // Answers with `error` (Retry-After: 1 on 503), Connection: close, and closes gently.
    void refuse(const FrontError &error);
    // Stops reading (the input is thrown away from now on), writes response, closes gently.
    void closeWith(const QByteArray &response);
    void divert(qint64 bodyStart);
    void finishClose();

    QTcpSocket *m_socket;
    // The socket's parent when accepted (the QTcpServer): owns the lingering end of a WebSocket's
    // connection, which outlives the socket (LingeringClose).
    QPointer<QObject> m_acceptedBy;
    const FrontLimits &m_limits;
    ConnectionCounts &m_counts;
    const TrustedProxies &m_proxies;
    RequestFraming m_framing;
    QTimer m_timer;
    Deadline m_deadline = Deadline::None;
    qint64 m_unreadSeen = 0; // bytes at the front of the socket's unread input already followed
    qint64 m_requestsAnswered = 0; // requests complete when an answer was last flushed
    bool m_counted = false; // in the total
    QHostAddress m_address; // the address it counts for (null: none)
    bool m_viaProxy = false;
    bool m_closing = false;
    bool m_diverted = false;
};

} // namespace taskmaster::server
