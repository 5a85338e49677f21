#include "server/ws/client_connections.h"

#include "server/auth/credentials.h"
#include "server/storage/event_store.h"
#include "server/storage/room_store.h"
#include "server/storage/user_store.h"
#include "server/ws/hub_metrics.h"

#include <QUrlQuery>

namespace taskmaster::server {

namespace {
constexpr int kMalformedInRowMax = 10; // docs/protocol.md 9.2: closed with 4000 after 10 in a row
constexpr int kEarlyFramesMax = 64; // frames accepted between hello and welcome
constexpr qint64 kCloseGraceMs = 5000; // a peer that does not finish the close handshake is cut

// What a hello's session lookup reads (on a database worker).
struct HelloLookup {
    User user;
    ws::SeqMap channels;
    QHash<Id, int> roomMembers; // room id -> members up to the presence room limit + 1
};

// The token of the upgrade request: "Authorization: Bearer ..." or "?token=".
QByteArray upgradeToken(const QWebSocket &socket)
{
    const QNetworkRequest request = socket.request();
    const QByteArray auth = request.rawHeader("Authorization");
    if (auth.startsWith("Bearer "))
        return auth.mid(7).trimmed();
    return QUrlQuery(request.url()).queryItemValue(QStringLiteral("token"), QUrl::FullyDecoded).toUtf8();
}
} // namespace

ClientConnections::ClientConnections(DbPool *db, const HubOptions &options, const QElapsedTimer &clock, HubStats &stats,
                                     ConnectionHandlers handlers, QObject *parent)
    : QObject(parent), m_db(db), m_options(options), m_clock(clock), m_stats(stats),
      m_handlers(std::move(handlers)), m_rate {options.rateFramesPerSecond, options.rateBurst},
      m_gate(options.helloConcurrency, options.helloQueueMax)
{
}

ClientConnections::~ClientConnections()
{
    for (auto &[id, c] : m_connections) {
        c->socket->disconnect(this);
        c->socket->abort();
    }
}

// ---- Lifecycle -----------------------------------------------------------------------------

void ClientConnections::accept(std::unique_ptr<QWebSocket> socket)
{
    auto c = std::make_unique<ClientConnection>();
    c->id = ++m_nextId;
    c->upgradeToken = upgradeToken(*socket);
    c->openedMs = c->lastReceivedMs = m_clock.elapsed();
    c->frames = TokenBucket::full(m_rate, c->openedMs);
    socket->setMaxAllowedIncomingFrameSize(quint64(limits::kFrameBytesMax));
    socket->setMaxAllowedIncomingMessageSize(quint64(limits::kFrameBytesMax));
    const ConnId id = c->id;
    QWebSocket *s = socket.get();
    connect(s, &QWebSocket::textMessageReceived, this, [this, id](const QString &text) { onText(id, text); });
    connect(s, &QWebSocket::binaryMessageReceived, this, [this, id](const QByteArray &) { onBinary(id); });
    connect(s, &QWebSocket::pong, this, [this, id](quint64, const QByteArray &) {
        if (ClientConnection *conn = find(id)) {
            conn->lastReceivedMs = m_clock.elapsed();
            conn->pinged = false;
        }
    });
    // Queued: a socket may report its end from inside close() or a write.
    connect(
        s, &QWebSocket::disconnected, this, [this, id] { dropConnection(id); }, Qt::QueuedConnection);
    c->socket = std::move(socket);
    m_connections.emplace(id, std::move(c));
    ++m_stats.connectionsAccepted;
}

void ClientConnections::dropConnection(ConnId id)
{
    const auto it = m_connections.find(id);
    if (it == m_connections.end())
        return;
    ClientConnection &c = *it->second;
    m_handlers.closed(c);
    c.socket->disconnect(this);
    c.socket.release()->deleteLater();
    if (c.state == ClientConnection::State::Closing)
        --m_closing;
    m_connections.erase(it);
}

void ClientConnections::closeWith(ClientConnection &c, ws::CloseCode code, const QString &reason)
{
    if (c.state == ClientConnection::State::Closing)
        return;
    c.state = ClientConnection::State::Closing;
    ++m_closing;
    c.closingSinceMs = m_clock.elapsed();
    c.socket->close(QWebSocketProtocol::CloseCode(ws::closeCodeValue(code)), reason);
}

void ClientConnections::sweep(qint64 now)
{
    QList<std::pair<ConnId, ws::CloseCode>> toClose;
    QList<ConnId> toAbort;
    [[maybe_unused]] qint64 closing = 0;
    for (auto &[id, c] : m_connections) {
        switch (c->state) {
        case ClientConnection::State::AwaitingHello:
            if (now - c->openedMs > m_options.helloTimeoutMs)
                toClose.append({id, ws::CloseCode::Unauthorized});
            break;
        case ClientConnection::State::Queued: // the client's hello came in time; the wait is ours
        case ClientConnection::State::Authenticating:
            break;
        case ClientConnection::State::Open: {
            const qint64 idle = now - c->lastReceivedMs;
            if (c->overLimitSinceMs >= 0) {
                if (c->socket->bytesToWrite() <= m_options.outboundLimitBytes) {
                    c->overLimitSinceMs = -1;
                } else if (now - c->overLimitSinceMs > m_options.slowConsumerGraceMs) {
                    toClose.append({id, ws::CloseCode::SlowConsumer});
                    break;
                }
            }
            if (idle > m_options.idleTimeoutMs) {
                toClose.append({id, ws::CloseCode::GoingAway});
            } else if (idle > m_options.idleTimeoutMs / 2 && !c->pinged) {
                c->pinged = true;
                c->socket->ping();
            }
            break;
        }
        case ClientConnection::State::Closing:
            ++closing;
            if (now - c->closingSinceMs > kCloseGraceMs)
                toAbort.append(id);
            break;
        }
    }
    Q_ASSERT(closing == m_closing); // staying() counts without walking the connections
    for (const auto &[id, code] : toClose) {
        ClientConnection *c = find(id);
        if (!c)
            continue;
        if (code == ws::CloseCode::SlowConsumer) {
            slowConsumer(*c);
        } else {
            closeWith(*c, code,
                      code == ws::CloseCode::Unauthorized ? QStringLiteral("no hello in time")
                                                          : QStringLiteral("idle timeout"));
        }
    }
    for (ConnId id : toAbort) {
        if (ClientConnection *c = find(id))
            c->socket->abort();
    }
}

void ClientConnections::drain(const QString &reason, qint64 retryAfterMs, qint64 spreadToMs)
{
    QList<ConnId> ids;
    qint64 open = 0;
    for (const auto &[id, c] : m_connections) {
        ids.append(id);
        open += c->state == ClientConnection::State::Open ? 1 : 0;
    }
    const qint64 spread = std::max<qint64>(0, spreadToMs - retryAfterMs);
    qint64 k = 0;
    for (ConnId id : ids) {
        ClientConnection *c = find(id);
        if (!c)
            continue;
        QString reconnect;
        if (c->state == ClientConnection::State::Open)
            reconnect = encodedText(ws::Reconnect {reason, retryAfterMs + spread * k++ / std::max<qint64>(1, open)});
        sendAway(*c, reason, reconnect);
    }
}

qint64 ClientConnections::shed(qint64 n, const QString &reason, qint64 retryAfterMs)
{
    QList<std::pair<qint64, ConnId>> open;
    for (const auto &[id, c] : m_connections) {
        if (c->state == ClientConnection::State::Open)
            open.append({c->openedMs, id});
    }
    n = std::min<qint64>(n, open.size());
    std::partial_sort(open.begin(), open.begin() + n, open.end());
    const QString hint = encodedText(ws::Reconnect {reason, retryAfterMs});
    for (qint64 i = 0; i < n; ++i) {
        if (ClientConnection *c = find(open.at(i).second))
            sendAway(*c, reason, hint);
    }
    return n;
}

void ClientConnections::sendAway(ClientConnection &c, const QString &reason, const QString &reconnectText)
{
    if (!reconnectText.isEmpty())
        c.socket->sendTextMessage(reconnectText);
    closeWith(c, ws::CloseCode::GoingAway, reason);
}

// ---- Inbound frames ------------------------------------------------------------------------

void ClientConnections::onText(ConnId id, const QString &text)
{
    ClientConnection *c = find(id);
    if (!c || c->state == ClientConnection::State::Closing)
        return;
    c->lastReceivedMs = m_clock.elapsed();
    c->pinged = false;
    const QByteArray bytes = text.toUtf8();
    switch (c->state) {
    case ClientConnection::State::AwaitingHello: {
        auto frame = ws::decodeClientFrame(bytes);
        if (frame && std::holds_alternative<ws::Hello>(*frame)) {
            admit(*c, std::move(std::get<ws::Hello>(*frame)));
        } else {
            if (!frame)
                ++m_stats.malformedFrames;
            closeWith(*c, ws::CloseCode::Unauthorized, QStringLiteral("the first frame must be hello"));
        }
        return;
    }
    case ClientConnection::State::Queued:
    case ClientConnection::State::Authenticating:
        if (c->early.size() >= kEarlyFramesMax)
            closeWith(*c, ws::CloseCode::RateLimited, QStringLiteral("too many frames before welcome"));
        else
            c->early.append({bytes, m_clock.nsecsElapsed()});
        return;
    case ClientConnection::State::Open:
        onFrame(*c, bytes, m_clock.nsecsElapsed());
        return;
    case ClientConnection::State::Closing:
        return;
    }
}

// A binary frame is a malformed frame like any other (docs/protocol.md 9.2): before welcome it
// ends the connection (4001), after it it takes its turn in the frame rate and counts towards
// the 10 in a row (4000). Before, it was answered outside both, so a client sending only binary
// frames was never closed nor throttled (tst_cluster_hostile).
void ClientConnections::onBinary(ConnId id)
{
    ClientConnection *c = find(id);
    if (!c || c->state == ClientConnection::State::Closing)
        return;
    c->lastReceivedMs = m_clock.elapsed();
    c->pinged = false;
    if (c->state != ClientConnection::State::Open) {
        ++m_stats.malformedFrames;
        closeWith(*c, ws::CloseCode::Unauthorized, QStringLiteral("the first frame must be hello"));
        return;
    }
    onFrame(*c, {}, m_clock.nsecsElapsed(), FrameKind::Binary);
}

void ClientConnections::onFrame(ClientConnection &c, const QByteArray &bytes, qint64 arrivalNs, FrameKind kind)
{
    const qint64 now = m_clock.elapsed();
    c.frames.refill(m_rate, now);
    // Throttling ends when the client is really below the rate again (tokens saved up), not when
    // one frame squeezes through a refill.
    const bool belowRate = c.frames.tokens >= 2;
    if (!c.frames.take()) {
        ++m_stats.rateLimitedFrames;
        if (c.throttledSinceMs < 0) {
            c.throttledSinceMs = now;
        } else if (now - c.throttledSinceMs > m_options.rateGraceMs) {
            closeWith(c, ws::CloseCode::RateLimited, QStringLiteral("over the rate limit for too long"));
            return;
        }
        sendError(c, ws::frameId(bytes), Error {ErrorCode::RateLimited, QStringLiteral("too many frames"), {}});
        return;
    }
    if (belowRate)
        c.throttledSinceMs = -1;
    Result<ws::ClientFrame> frame = kind == FrameKind::Binary
        ? Result<ws::ClientFrame>(Error::badRequest(QStringLiteral("binary frames are not accepted")))
        : ws::decodeClientFrame(bytes);
    if (!frame) {
        ++m_stats.malformedFrames;
        sendError(c, ws::frameId(bytes), frame.error());
        if (++c.malformedInRow >= kMalformedInRowMax && c.state == ClientConnection::State::Open)
            closeWith(c, ws::CloseCode::Malformed, QStringLiteral("too many malformed frames"));
        return;
    }
    c.malformedInRow = 0;
    m_handlers.frame(c, *frame, arrivalNs);
}

void ClientConnections::admit(ClientConnection &c, ws::Hello hello)
{
    const bool hasToken = hello.token ? !hello.token->isEmpty() : !c.upgradeToken.isEmpty();
    if (!hasToken) {
        closeWith(c, ws::CloseCode::Unauthorized, QStringLiteral("missing token"));
        return;
    }
    switch (m_gate.arrive(c.id)) {
    case AdmissionGate::Decision::Start:
        startHello(c, hello);
        return;
    case AdmissionGate::Decision::Queue:
        ++m_stats.hellosQueued;
        m_stats.hellosWaiting = m_gate.queued();
        c.state = ClientConnection::State::Queued;
        c.queuedHello = std::move(hello);
        return;
    case AdmissionGate::Decision::Refuse:
        ++m_stats.hellosRefused;
        c.socket->sendTextMessage(encodedText(ws::Reconnect {QStringLiteral("server busy"), m_gate.retryAfterMs()}));
        closeWith(c, ws::CloseCode::Busy, QStringLiteral("server busy"));
        return;
    }
}

void ClientConnections::admitQueued()
{
    while (const auto id = m_gate.pop()) {
        ClientConnection *c = find(*id);
        if (!c || c->state != ClientConnection::State::Queued) {
            m_gate.cancelled(); // closed while it waited
            continue;
        }
        startHello(*c, std::exchange(c->queuedHello, {}));
    }
    m_stats.hellosWaiting = m_gate.queued();
}

void ClientConnections::startHello(ClientConnection &c, const ws::Hello &hello)
{
    const QByteArray token = hello.token ? hello.token->toUtf8() : c.upgradeToken;
    c.state = ClientConnection::State::Authenticating;
    c.admissionStartMs = m_clock.elapsed();
    c.tokenDigest = Credentials::tokenDigest(QString::fromUtf8(token));
    const qint64 now = m_options.nowMs();
    const qint64 ttl = m_options.sessionTtlMs;
    const ConnId id = c.id;
    // The rooms' member counts only up to the limit + 1: enough to tell a big room (no presence
    // pushed because of it) for about what a room of the limit costs (store::roomMemberCountsForUser),
    // and only when one of the user's rooms has no count here yet: in a storm of a big room's
    // members only the first hellos read it. (The copy of the counts is shared, not copied.)
    const int memberCap = m_options.presenceRoomLimit > 0 ? m_options.presenceRoomLimit + 1 : 0;
    QHash<Channel, int> counted
        = memberCap > 0 && m_handlers.memberCounts ? m_handlers.memberCounts() : QHash<Channel, int> {};
    m_db->query([digest = c.tokenDigest, now, ttl, memberCap,
                 counted = std::move(counted)](QSqlDatabase &db) -> Result<HelloLookup> {
            auto user = store::sessionUser(db, digest, now, ttl);
            if (!user)
                return user.error();
            if (!user->has_value())
                return Error {ErrorCode::Unauthorized, QStringLiteral("unknown or expired token"), {}};
            auto channels = store::channelsForUser(db, (*user)->id);
            if (!channels)
                return channels.error();
            QHash<Id, int> roomMembers;
            const auto uncounted = [&] {
                return std::any_of(channels->keyBegin(), channels->keyEnd(), [&](const Channel &ch) {
                    return ch.kind == ChannelKind::Room && !counted.contains(ch);
                });
            };
            if (memberCap > 0 && uncounted()) {
                auto counts = store::roomMemberCountsForUser(db, (*user)->id, memberCap);
                if (!counts)
                    return counts.error();
                roomMembers = std::move(*counts);
            }
            return HelloLookup {**user, *channels, std::move(roomMembers)};
        })
        .then(this, [this, id, hello](const Result<HelloLookup> &r) {
            ClientConnection *conn = find(id);
            if (!conn || conn->state != ClientConnection::State::Authenticating) {
                m_gate.cancelled();
                admitQueued();
                return;
            }
            m_gate.finished(m_clock.elapsed() - conn->admissionStartMs);
            admitQueued(); // starts other lookups; removes no connection (drops are queued)
            if (!r) {
                const bool auth = r.error().code == ErrorCode::Unauthorized;
                closeWith(*conn, auth ? ws::CloseCode::Unauthorized : ws::CloseCode::ServerError, r.error().message);
                return;
            }
            welcomed(id, hello, r->user, r->channels, r->roomMembers);
        });
}

void ClientConnections::welcomed(ConnId id, const ws::Hello &hello, const User &user, const ws::SeqMap &channels,
                                 const QHash<Id, int> &roomMembers)
{
    ClientConnection &c = *find(id);
    c.userId = user.id;
    c.state = ClientConnection::State::Open;
    c.welcomed = true;
    m_handlers.welcomed(c, hello, user, channels, roomMembers);
    const auto early = std::exchange(c.early, {});
    for (const auto &[bytes, arrivalNs] : early) {
        ClientConnection *conn = find(id);
        if (!conn || conn->state != ClientConnection::State::Open)
            break;
        onFrame(*conn, bytes, arrivalNs);
    }
}

// ---- Writing -------------------------------------------------------------------------------

void ClientConnections::slowConsumer(ClientConnection &c)
{
    ++m_stats.slowConsumerCloses;
    closeWith(c, ws::CloseCode::SlowConsumer, QStringLiteral("slow consumer: resume later"));
}

void ClientConnections::writeVolatile(ClientConnection &c, const QString &text)
{
    if (c.state != ClientConnection::State::Open)
        return;
    if (c.socket->bytesToWrite() + text.size() > m_options.outboundLimitBytes / 2) {
        ++m_stats.volatileDropped;
        return;
    }
    c.socket->sendTextMessage(text);
    ++m_stats.volatileSent;
}

void ClientConnections::writeFrame(ClientConnection &c, const ws::ServerFrame &frame)
{
    if (c.state == ClientConnection::State::Open)
        writeDurable(c, encodedText(frame));
}

void ClientConnections::sendError(ClientConnection &c, ws::FrameId id, const Error &error)
{
    writeFrame(c, ws::ErrorFrame {id, error});
}

} // namespace taskmaster::server
