#include "server/http/front_guard.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSocketNotifier>
#include <QTcpSocket>

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace taskmaster::server {

namespace {

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 400:
        return QByteArrayLiteral("Bad Request");
    case 404:
        return QByteArrayLiteral("Not Found");
    case 408:
        return QByteArrayLiteral("Request Timeout");
    case 413:
        return QByteArrayLiteral("Payload Too Large");
    case 429:
        return QByteArrayLiteral("Too Many Requests");
    case 431:
        return QByteArrayLiteral("Request Header Fields Too Large");
    case 503:
        return QByteArrayLiteral("Service Unavailable");
    default:
        return QByteArrayLiteral("Error");
    }
}

// One client over its connection cap: 429, not 503. The instance is not unavailable, this client
// has its share: behind nginx a 503 would be tried on the next instance and counted as the
// instance failing (proxy_next_upstream http_503, max_fails), so one client retrying over its cap
// took every instance out of nginx's rotation for everyone (tst_cluster_hostile).
FrontError overAddressCap()
{
    return FrontError {429, "rate_limited", QStringLiteral("too many connections from this address")};
}
} // namespace

// The end of a WebSocket's TCP connection after the WebSocket layer closed it (QWebSocket writes
// its close frame and closes the socket at once; closing a socket with unread input makes the
// kernel answer with a reset, which can destroy the close frame before the client reads it, so
// the client saw 1006). A duplicate of the descriptor keeps the connection alive past Qt's
// close: once Qt has written everything it half-closes, reads and drops the client's frames
// until the client closes too (it does right after the close frame) or lingerMs pass.
// Owned by the server socket that accepted the connection (the socket itself may be gone long
// before): the ones still lingering when the server is torn down close with it.
class LingeringClose final : public QObject {
public:
    LingeringClose(int fd, int lingerMs, QObject *owner) : QObject(owner), m_fd(fd), m_lingerMs(lingerMs) { }
    ~LingeringClose() override
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }

    void begin()
    {
        if (m_started)
            return;
        m_started = true;
        ::shutdown(m_fd, SHUT_WR);
        m_notifier = new QSocketNotifier(qintptr(m_fd), QSocketNotifier::Read, this);
        connect(m_notifier, &QSocketNotifier::activated, this, &LingeringClose::drain);
        QTimer::singleShot(m_lingerMs, this, &LingeringClose::finish);
        drain();
    }

private:
    void drain()
    {
        char buffer[16384];
        while (m_fd >= 0) {
            const ssize_t n = ::read(m_fd, buffer, sizeof buffer);
            if (n > 0)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                return;
            finish(); // the client closed (or the connection broke)
        }
    }

    void finish()
    {
        if (m_fd < 0)
            return;
        if (m_notifier)
            m_notifier->setEnabled(false);
        ::close(m_fd);
        m_fd = -1;
        deleteLater();
    }

    int m_fd;
    int m_lingerMs;
    bool m_started = false;
    QSocketNotifier *m_notifier = nullptr;
};

bool ConnectionCounts::addConnection()
{
    if (m_total >= m_limits.maxConnections)
        return false;
    ++m_total;
    return true;
}

bool ConnectionCounts::addAddress(const QHostAddress &address)
{
    if (address.isNull())
        return true;
    int &n = m_perAddress[address];
    if (m_limits.maxConnectionsPerAddress > 0 && n >= m_limits.maxConnectionsPerAddress) {
        if (n == 0)
            m_perAddress.remove(address);
        return false;
    }
    ++n;
    return true;
}

void ConnectionCounts::removeAddress(const QHostAddress &address)
{
    if (address.isNull())
        return;
    auto it = m_perAddress.find(address);
    if (it != m_perAddress.end() && --*it <= 0)
        m_perAddress.erase(it);
}

FrontGuard::FrontGuard(QTcpSocket *socket, const FrontLimits &limits, ConnectionCounts &counts,
                       const TrustedProxies &proxies)
    : QObject(socket), m_socket(socket), m_acceptedBy(socket->parent()), m_limits(limits), m_counts(counts),
      m_proxies(proxies), m_framing(limits.framing)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &FrontGuard::onDeadline);
}

FrontGuard *FrontGuard::admit(QTcpSocket *socket, const FrontLimits &limits, ConnectionCounts &counts,
                              const TrustedProxies &proxies)
{
    auto *guard = new FrontGuard(socket, limits, counts, proxies);
    const QHostAddress peer = plainAddress(socket->peerAddress());
    guard->m_viaProxy = proxies.isTrusted(peer);
    // QtHttpServer keeps a request's bytes until it is complete: its buffer never needs more than
    // one head and one body, and the guard sees what arrives before it piles up further.
    socket->setReadBufferSize(limits.framing.maxHeaderBytes + limits.framing.maxBodyBytes + 64 * 1024);
    connect(socket, &QIODevice::readyRead, guard, &FrontGuard::beforeServerRead);
    connect(socket, &QIODevice::bytesWritten, guard, &FrontGuard::onWritten);
    // A refused socket never reaches QtHttpServer: it goes when its close is done.
    auto refuseAtAccept = [socket, guard](const FrontError &error) -> FrontGuard * {
        connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
        guard->refuse(error);
        return nullptr;
    };
    guard->m_counted = counts.addConnection();
    if (!guard->m_counted)
        return refuseAtAccept(FrontError {503, "unavailable", QStringLiteral("too many connections")});
    if (!guard->m_viaProxy) {
        if (!counts.addAddress(peer))
            return refuseAtAccept(overAddressCap());
        guard->m_address = peer;
    }
    guard->arm(Deadline::Head);
    return guard;
}

FrontGuard::~FrontGuard()
{
    m_counts.removeAddress(m_address);
    if (m_counted)
        m_counts.removeConnection();
}

void FrontGuard::watchAfterServer()
{
    connect(m_socket, &QIODevice::readyRead, this, &FrontGuard::afterServerRead);
}

void FrontGuard::beforeServerRead()
{
    if (m_closing || m_framing.phase() == RequestFraming::Phase::Upgraded)
        return;
    // Only what QtHttpServer has not read yet is visible here; the first m_unreadSeen bytes of it
    // were followed at an earlier readyRead.
    const qint64 unread = m_socket->bytesAvailable();
    if (unread <= m_unreadSeen) {
        m_unreadSeen = unread;
        return;
    }
    const QByteArray fresh = m_socket->peek(unread).mid(m_unreadSeen);
    const qint64 seenBefore = m_unreadSeen;
    m_unreadSeen = unread;
    const qint64 heads = m_framing.headsSeen();
    const qint64 requests = m_framing.requestsSeen();
    const bool ok = m_framing.feed(fresh);
    if (m_viaProxy && m_framing.headsSeen() > heads) {
        // Behind nginx: the request names its client; the connection counts for it from now on.
        const QHostAddress client
            = m_proxies.clientAddress(plainAddress(m_socket->peerAddress()), m_framing.forwardedFor());
        if (client != m_address) {
            m_counts.removeAddress(m_address);
            m_address = QHostAddress();
            if (!m_counts.addAddress(client)) {
                refuse(overAddressCap());
                return;
            }
            m_address = client;
        }
    }
    if (!ok) {
        refuse(*m_framing.error());
        return;
    }
    switch (m_framing.phase()) {
    case RequestFraming::Phase::Upgraded:
        arm(Deadline::None); // the WebSocket layer has its own timeouts
        // QtHttpServer disconnects everything from the socket when it hands it on (after this
        // returns): watch for the WebSocket's close from the event loop on.
        QMetaObject::invokeMethod(this, &FrontGuard::watchWebSocketClose, Qt::QueuedConnection);
        break;
    case RequestFraming::Phase::Diverted:
        if (m_framing.requestsSeen() > requests) {
            // QtHttpServer has not read the request before it yet, and would never answer it.
            refuse(FrontError {400, "bad_request",
                               QStringLiteral("an attachment transfer must not be pipelined behind another request")});
            return;
        }
        divert(seenBefore + m_framing.divertedBodyOffset());
        break;
    case RequestFraming::Phase::Head:
        if (m_deadline != Deadline::Head)
            arm(Deadline::Head);
        break;
    case RequestFraming::Phase::Body:
        if (m_deadline != Deadline::Body || m_framing.headsSeen() > heads)
            arm(Deadline::Body);
        break;
    case RequestFraming::Phase::BetweenRequests:
        if (m_framing.requestsSeen() > requests)
            arm(Deadline::None); // the answer is being worked on; idle counts once it is written
        break;
    case RequestFraming::Phase::Failed:
        break;
    }
}

void FrontGuard::divert(qint64 bodyStart)
{
    if (!m_limits.onDiverted) {
        refuse(FrontError {404, "not_found", QStringLiteral("no such resource")});
        return;
    }
    m_diverted = true;
    // QtHttpServer reads nothing more of this connection (what it kept of this head is dropped);
    // the handler reads the body from its first byte.
    disconnect(m_socket, &QIODevice::readyRead, nullptr, nullptr);
    if (m_socket->isTransactionStarted())
        m_socket->commitTransaction();
    m_socket->skip(bodyStart);
    m_unreadSeen = 0;
    arm(Deadline::Body);
    m_limits.onDiverted(
        DivertedRequest {m_socket, this, m_framing.divertedHead(), plainAddress(m_socket->peerAddress())});
}

void FrontGuard::bodyProgress()
{
    if (!m_closing)
        arm(Deadline::Body);
}

void FrontGuard::bodyDone()
{
    if (!m_closing)
        arm(Deadline::None);
}

void FrontGuard::answerAndClose(const QByteArray &response)
{
    if (m_closing)
        return;
    closeWith(response);
}

void FrontGuard::closeWhenWritten()
{
    if (m_closing)
        return;
    m_closing = true;
    Q_EMIT closing();
    disconnect(m_socket, &QIODevice::readyRead, nullptr, nullptr);
    m_socket->skip(m_socket->bytesAvailable());
    connect(m_socket, &QIODevice::readyRead, this, [this] { m_socket->skip(m_socket->bytesAvailable()); });
    m_deadline = Deadline::None;
    // A client that stops reading the rest of the answer is dropped after the idle timeout.
    m_timer.start(m_limits.idleTimeoutMs);
    onWritten();
}

void FrontGuard::watchWebSocketClose()
{
    connect(m_socket, &QIODevice::aboutToClose, this, [this] {
        if (m_closing)
            return;
        m_closing = true;
        const int fd = m_socket->socketDescriptor() >= 0 ? ::dup(int(m_socket->socketDescriptor())) : -1;
        if (fd < 0)
            return;
        auto *linger = new LingeringClose(fd, m_limits.lingerMs, m_acceptedBy);
        // Qt closes its descriptor once its output is written, then reports disconnected.
        connect(m_socket, &QAbstractSocket::disconnected, linger, &LingeringClose::begin);
        connect(m_socket, &QObject::destroyed, linger, &LingeringClose::begin);
    });
}

void FrontGuard::afterServerRead()
{
    if (!m_closing)
        m_unreadSeen = m_socket->bytesAvailable();
}

void FrontGuard::onWritten()
{
    if (m_socket->bytesToWrite() > 0)
        return;
    if (m_closing) {
        // The answer is out: no more from this side; the client's input is drained until it
        // closes too or the linger time is over.
        if (m_socket->state() == QAbstractSocket::ConnectedState)
            ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
        m_timer.start(m_limits.lingerMs);
        return;
    }
    if (m_framing.phase() == RequestFraming::Phase::BetweenRequests && m_framing.requestsSeen() > 0)
        arm(Deadline::Idle);
}

void FrontGuard::arm(Deadline deadline)
{
    m_deadline = deadline;
    switch (deadline) {
    case Deadline::None:
        m_timer.stop();
        return;
    case Deadline::Head:
        m_timer.start(m_limits.headTimeoutMs);
        return;
    case Deadline::Body:
        m_timer.start(m_limits.bodyTimeoutMs);
        return;
    case Deadline::Idle:
        m_timer.start(m_limits.idleTimeoutMs);
        return;
    }
}

void FrontGuard::onDeadline()
{
    if (m_closing) {
        finishClose();
        return;
    }
    if (m_diverted) {
        if (m_deadline == Deadline::Body)
            refuse(FrontError {408, "request_timeout", QStringLiteral("request body too slow")});
        return;
    }
    const bool midRequest
        = m_framing.phase() == RequestFraming::Phase::Head || m_framing.phase() == RequestFraming::Phase::Body;
    if (midRequest) {
        refuse(FrontError {408, "request_timeout",
                           m_framing.phase() == RequestFraming::Phase::Head ? QStringLiteral("request head too slow")
                                                                            : QStringLiteral("request body too slow")});
        return;
    }
    // Nothing of a request on the way (a new or an idle keep-alive connection): just close.
    m_closing = true;
    disconnect(m_socket, &QIODevice::readyRead, nullptr, nullptr);
    m_socket->disconnectFromHost();
}

void FrontGuard::refuse(const FrontError &error)
{
    if (m_closing)
        return;

    // The error body of docs/protocol.md, section 2.
    const QByteArray body
        = QJsonDocument(QJsonObject {{QStringLiteral("error"),
                                      QJsonObject {{QStringLiteral("code"), QLatin1String(error.code)},
                                                   {QStringLiteral("message"), error.message}}}})
              .toJson(QJsonDocument::Compact);
    QByteArray response = "HTTP/1.1 " + QByteArray::number(error.status) + ' ' + reasonPhrase(error.status)
        + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size())
        + "\r\nConnection: close\r\n";
    if (error.status == 503 || error.status == 429)
        response += "Retry-After: 1\r\n";
    response += "\r\n" + body;
    closeWith(response);
}

void FrontGuard::closeWith(const QByteArray &response)
{
    m_closing = true;
    Q_EMIT closing();
    // QtHttpServer (or the diverted request's handler) reads no more of this socket; what it kept
    // of the request is dropped.
    disconnect(m_socket, &QIODevice::readyRead, nullptr, nullptr);
    if (m_socket->isTransactionStarted())
        m_socket->commitTransaction();
    m_socket->skip(m_socket->bytesAvailable());
    connect(m_socket, &QIODevice::readyRead, this, [this] { m_socket->skip(m_socket->bytesAvailable()); });
    m_deadline = Deadline::None;
    m_timer.start(m_limits.lingerMs);
    m_socket->write(response);
    m_socket->flush();
    onWritten();
}

void FrontGuard::finishClose()
{
    m_socket->abort();
}

} // namespace taskmaster::server
