#include "server/ws/hub.h"

#include "server/auth/credentials.h"
#include "server/log/json_log.h"
#include "server/metrics/metrics.h"
#include "server/storage/event_store.h"
#include "server/storage/read_routing.h"
#include "server/storage/room_store.h"
#include "server/storage/user_store.h"
#include "shared/core/overloaded.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QThread>
#include <QUrlQuery>
#include <QWebSocket>

#include <algorithm>

namespace taskmaster::server {

namespace {
constexpr int kMalformedInRowMax = 10; // PROTOCOL.md: closed with 4000 after 10 in a row
constexpr int kEarlyFramesMax = 64; // frames accepted between hello and welcome
constexpr qint64 kCloseGraceMs = 5000; // a peer that does not finish the close handshake is cut
constexpr int kSweepIntervalMs = 250;
constexpr int kPresenceSnapshotMs = 30000; // who is online here, to the other instances

QString encoded(const ws::ServerFrame &frame)
{
    return QString::fromUtf8(ws::encodeServerFrame(frame));
}

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

struct Hub::Connection {
    enum class State { AwaitingHello, Authenticating, Open, Closing };
    ConnId id = 0;
    std::unique_ptr<QWebSocket> socket;
    State state = State::AwaitingHello;
    bool welcomed = false;
    QByteArray upgradeToken;
    QByteArray tokenDigest;
    Id userId = 0;
    qint64 openedMs = 0;
    qint64 lastReceivedMs = 0;
    qint64 closingSinceMs = 0;
    qint64 overLimitSinceMs = -1; // outbound queue over its limit since then
    bool pinged = false;
    int malformedInRow = 0;
    double tokens = 0;
    qint64 refillMs = 0;
    qint64 throttledSinceMs = -1;
    QHash<Channel, Cursor> channels;
    QList<std::pair<QByteArray, qint64>> early; // (frame, arrival ns) between hello and welcome
    QHash<Id, Seq> readPending; // room -> newest marker asked while one is being written
    QSet<Id> readInFlight;
};

Hub::Hub(DbPool *db, HubOptions options, MetricsRegistry &metrics, QObject *parent)
    : QObject(parent), m_db(db), m_options(std::move(options))
{
    m_clock.start();
    m_commit = std::make_unique<GroupCommit>(
        db, m_options.groupCommit, m_options.maxBatch, m_options.nowMs,
        [this](QList<Outgoing> events) {
            if (m_relay) {
                QList<ChannelEvent> plain;
                plain.reserve(events.size());
                for (const Outgoing &o : events)
                    plain.append(o.event);
                m_relay->publish(std::move(plain));
            }
            publishHere(std::move(events));
        },
        this);
    m_delivery = &metrics.histogram("message_delivery_time_ms",
                                    "Time from a send frame's arrival to the write to its last local recipient.");
    metrics.gaugeCallback("websocket_active_connections", "Open WebSocket connections.",
                          [this] { return double(m_connections.size()); });
    const auto counter = [&metrics](const char *name, const char *help, const qint64 HubStats::*field, const Hub *hub) {
        metrics.counterCallback(QLatin1String(name), QLatin1String(help),
                                [hub, field] { return double(hub->m_stats.*field); });
    };
    counter("websocket_connections_accepted_total", "WebSocket connections accepted.", &HubStats::connectionsAccepted,
            this);
    counter("websocket_events_fanned_out_total", "Durable event frames written to sockets.", &HubStats::eventsFannedOut,
            this);
    counter("websocket_volatile_sent_total", "Volatile frames (typing, read, presence) written.",
            &HubStats::volatileSent, this);
    counter("websocket_volatile_dropped_total", "Volatile frames dropped for a full outbound queue.",
            &HubStats::volatileDropped, this);
    counter("websocket_slow_consumer_closes_total", "Connections closed with 4008 (outbound queue over its limit).",
            &HubStats::slowConsumerCloses, this);
    counter("websocket_malformed_frames_total", "Client frames answered with an error.", &HubStats::malformedFrames,
            this);
    counter("websocket_rate_limited_frames_total", "Client frames refused by the per-connection rate limit.",
            &HubStats::rateLimitedFrames, this);
    counter("websocket_replayed_events_total", "Durable events replayed from the database (resume, catch-up).",
            &HubStats::replayedEvents, this);
    counter("websocket_resyncs_total", "Resumes answered with resync.", &HubStats::resyncs, this);
    counter("channel_gap_fills_total", "Out-of-order gaps filled from the database.", &HubStats::gapFills, this);
    metrics.counterCallback(QStringLiteral("group_commit_batches_total"), QStringLiteral("Group commit batches."),
                            [this] { return double(m_commit->stats().batches); });
    metrics.counterCallback(QStringLiteral("messages_written_total"),
                            QStringLiteral("WebSocket sends, edits and deletes written."),
                            [this] { return double(m_commit->stats().writes); });

    m_sweepTimer.setInterval(kSweepIntervalMs);
    connect(&m_sweepTimer, &QTimer::timeout, this, &Hub::sweep);
    m_sweepTimer.start();
    m_gapTimer.setInterval(std::max(1, m_options.gapWaitMs / 2));
    connect(&m_gapTimer, &QTimer::timeout, this, &Hub::fillGaps);
}

Hub::~Hub()
{
    for (auto &[id, c] : m_connections) {
        c->socket->disconnect(this);
        c->socket->abort();
    }
}

Hub::Connection *Hub::find(ConnId id) const
{
    const auto it = m_connections.find(id);
    return it == m_connections.end() ? nullptr : it->second.get();
}

HubStats Hub::stats() const
{
    m_stats.connectionsActive = qint64(m_connections.size());
    m_stats.groupCommit = m_commit->stats();
    return m_stats;
}

QByteArray Hub::statsJson() const
{
    const HubStats s = stats();
    QJsonObject o {
        {QStringLiteral("connections"), s.connectionsActive},
        {QStringLiteral("connectionsAccepted"), s.connectionsAccepted},
        {QStringLiteral("users"), qint64(m_byUser.size())},
        {QStringLiteral("channels"), qint64(m_subscribers.size())},
        {QStringLiteral("eventsFannedOut"), s.eventsFannedOut},
        {QStringLiteral("volatileSent"), s.volatileSent},
        {QStringLiteral("volatileDropped"), s.volatileDropped},
        {QStringLiteral("slowConsumerCloses"), s.slowConsumerCloses},
        {QStringLiteral("malformedFrames"), s.malformedFrames},
        {QStringLiteral("rateLimitedFrames"), s.rateLimitedFrames},
        {QStringLiteral("replayedEvents"), s.replayedEvents},
        {QStringLiteral("resyncs"), s.resyncs},
        {QStringLiteral("gapFills"), s.gapFills},
        {QStringLiteral("groupCommit"),
         QJsonObject {{QStringLiteral("enabled"), m_commit->enabled()},
                      {QStringLiteral("batches"), s.groupCommit.batches},
                      {QStringLiteral("writes"), s.groupCommit.writes},
                      {QStringLiteral("largestBatch"), s.groupCommit.largestBatch}}},
        {QStringLiteral("deliveryMs"), m_delivery->snapshot().toJson()},
    };
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

// ---- Connections ---------------------------------------------------------------------------

void Hub::accept(std::unique_ptr<QWebSocket> socket)
{
    auto c = std::make_unique<Connection>();
    c->id = ++m_nextId;
    c->upgradeToken = upgradeToken(*socket);
    c->openedMs = c->lastReceivedMs = c->refillMs = m_clock.elapsed();
    c->tokens = m_options.rateBurst;
    socket->setMaxAllowedIncomingFrameSize(quint64(limits::kFrameBytesMax));
    socket->setMaxAllowedIncomingMessageSize(quint64(limits::kFrameBytesMax));
    const ConnId id = c->id;
    QWebSocket *s = socket.get();
    connect(s, &QWebSocket::textMessageReceived, this, [this, id](const QString &text) { onText(id, text); });
    connect(s, &QWebSocket::binaryMessageReceived, this, [this, id](const QByteArray &) {
        if (Connection *conn = find(id)) {
            ++m_stats.malformedFrames;
            if (conn->state == Connection::State::Open)
                sendError(*conn, {}, Error::badRequest(QStringLiteral("binary frames are not accepted")));
            else
                closeWith(*conn, 4001, QStringLiteral("the first frame must be hello"));
        }
    });
    connect(s, &QWebSocket::pong, this, [this, id](quint64, const QByteArray &) {
        if (Connection *conn = find(id)) {
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

void Hub::dropConnection(ConnId id)
{
    const auto it = m_connections.find(id);
    if (it == m_connections.end())
        return;
    Connection &c = *it->second;
    QSet<Channel> rooms;
    for (auto ch = c.channels.cbegin(); ch != c.channels.cend(); ++ch) {
        if (ch.key().kind == ChannelKind::Room)
            rooms.insert(ch.key());
        const auto subs = m_subscribers.find(ch.key());
        if (subs != m_subscribers.end()) {
            subs->remove(id);
            if (subs->isEmpty()) {
                m_subscribers.erase(subs);
                m_order.forget(ch.key());
            }
        }
    }
    if (c.welcomed) {
        const auto user = m_byUser.find(c.userId);
        if (user != m_byUser.end()) {
            user->remove(id);
            if (user->isEmpty()) {
                m_byUser.erase(user);
                m_goingOffline.insert(c.userId, {m_clock.elapsed() + m_options.presenceGraceMs, rooms});
            }
        }
        const auto token = m_byToken.find(c.tokenDigest);
        if (token != m_byToken.end()) {
            token->remove(id);
            if (token->isEmpty())
                m_byToken.erase(token);
        }
    }
    c.socket->disconnect(this);
    c.socket.release()->deleteLater();
    m_connections.erase(it);
}

void Hub::closeWith(Connection &c, int code, const QString &reason)
{
    if (c.state == Connection::State::Closing)
        return;
    c.state = Connection::State::Closing;
    c.closingSinceMs = m_clock.elapsed();
    c.socket->close(QWebSocketProtocol::CloseCode(code), reason);
}

void Hub::sweep()
{
    const qint64 now = m_clock.elapsed();
    QList<std::pair<ConnId, int>> toClose;
    QList<ConnId> toAbort;
    for (auto &[id, c] : m_connections) {
        switch (c->state) {
        case Connection::State::AwaitingHello:
            if (now - c->openedMs > m_options.helloTimeoutMs)
                toClose.append({id, 4001});
            break;
        case Connection::State::Authenticating:
            break;
        case Connection::State::Open: {
            const qint64 idle = now - c->lastReceivedMs;
            if (c->overLimitSinceMs >= 0) {
                if (c->socket->bytesToWrite() <= m_options.outboundLimitBytes) {
                    c->overLimitSinceMs = -1;
                } else if (now - c->overLimitSinceMs > m_options.slowConsumerGraceMs) {
                    toClose.append({id, 4008});
                    break;
                }
            }
            if (idle > m_options.idleTimeoutMs) {
                toClose.append({id, 1001});
            } else if (idle > m_options.idleTimeoutMs / 2 && !c->pinged) {
                c->pinged = true;
                c->socket->ping();
            }
            break;
        }
        case Connection::State::Closing:
            if (now - c->closingSinceMs > kCloseGraceMs)
                toAbort.append(id);
            break;
        }
    }
    for (const auto &[id, code] : toClose) {
        Connection *c = find(id);
        if (!c)
            continue;
        if (code == 4008) {
            ++m_stats.slowConsumerCloses;
            closeWith(*c, code, QStringLiteral("slow consumer: resume later"));
        } else {
            closeWith(*c, code, code == 4001 ? QStringLiteral("no hello in time") : QStringLiteral("idle timeout"));
        }
    }
    for (ConnId id : toAbort) {
        if (Connection *c = find(id))
            c->socket->abort();
    }
    for (auto it = m_goingOffline.begin(); it != m_goingOffline.end();) {
        if (it->first <= now) {
            const Id user = it.key();
            const QSet<Channel> rooms = it->second;
            it = m_goingOffline.erase(it);
            presenceChanged(user, rooms, ws::PresenceStatus::Offline);
        } else {
            ++it;
        }
    }
    for (auto it = m_lastTyping.begin(); it != m_lastTyping.end();) {
        if (now - *it >= m_options.typingIntervalMs)
            it = m_lastTyping.erase(it);
        else
            ++it;
    }
}

void Hub::drain(const QString &reason, qint64 retryAfterMs)
{
    QList<ConnId> ids;
    for (const auto &[id, c] : m_connections)
        ids.append(id);
    for (ConnId id : ids) {
        Connection *c = find(id);
        if (!c)
            continue;
        if (c->state == Connection::State::Open)
            c->socket->sendTextMessage(encoded(ws::Reconnect {reason, retryAfterMs}));
        closeWith(*c, 1001, reason);
    }
}

// ---- Inbound frames ------------------------------------------------------------------------

void Hub::onText(ConnId id, const QString &text)
{
    Connection *c = find(id);
    if (!c || c->state == Connection::State::Closing)
        return;
    c->lastReceivedMs = m_clock.elapsed();
    c->pinged = false;
    const QByteArray bytes = text.toUtf8();
    switch (c->state) {
    case Connection::State::AwaitingHello: {
        auto frame = ws::decodeClientFrame(bytes);
        if (frame && std::holds_alternative<ws::Hello>(*frame)) {
            startHello(*c, std::get<ws::Hello>(*frame));
        } else {
            if (!frame)
                ++m_stats.malformedFrames;
            closeWith(*c, 4001, QStringLiteral("the first frame must be hello"));
        }
        return;
    }
    case Connection::State::Authenticating:
        if (c->early.size() >= kEarlyFramesMax)
            closeWith(*c, 4029, QStringLiteral("too many frames before welcome"));
        else
            c->early.append({bytes, m_clock.nsecsElapsed()});
        return;
    case Connection::State::Open:
        m_arrivalNs = m_clock.nsecsElapsed();
        onFrame(*c, bytes);
        return;
    case Connection::State::Closing:
        return;
    }
}

void Hub::onFrame(Connection &c, const QByteArray &bytes)
{
    const qint64 now = m_clock.elapsed();
    c.tokens
        = std::min(m_options.rateBurst, c.tokens + double(now - c.refillMs) * m_options.rateFramesPerSecond / 1000.0);
    c.refillMs = now;
    if (c.tokens < 1) {
        ++m_stats.rateLimitedFrames;
        if (c.throttledSinceMs < 0) {
            c.throttledSinceMs = now;
        } else if (now - c.throttledSinceMs > m_options.rateGraceMs) {
            closeWith(c, 4029, QStringLiteral("over the rate limit for too long"));
            return;
        }
        sendError(c, ws::frameId(bytes), Error {ErrorCode::RateLimited, QStringLiteral("too many frames"), {}});
        return;
    }
    // Throttling ends when the client is really below the rate again (tokens saved up), not when
    // one frame squeezes through a refill.
    if (c.tokens >= 2)
        c.throttledSinceMs = -1;
    c.tokens -= 1;
    auto frame = ws::decodeClientFrame(bytes);
    if (!frame) {
        ++m_stats.malformedFrames;
        sendError(c, ws::frameId(bytes), frame.error());
        if (++c.malformedInRow >= kMalformedInRowMax && c.state == Connection::State::Open)
            closeWith(c, 4000, QStringLiteral("too many malformed frames"));
        return;
    }
    c.malformedInRow = 0;
    handle(c, *frame);
}

void Hub::handle(Connection &c, const ws::ClientFrame &frame)
{
    std::visit(Overloaded {
                   [&](const ws::Hello &) {
                       sendError(c, {}, Error::badRequest(QStringLiteral("hello was already received")));
                   },
                   [&](const ws::Send &f) {
                       WriteOp op;
                       op.kind = WriteOp::Kind::Send;
                       op.roomId = f.roomId;
                       op.body = f.body;
                       op.clientId = f.clientId;
                       submitWrite(c, std::move(op), f.id);
                   },
                   [&](const ws::Edit &f) {
                       WriteOp op;
                       op.kind = WriteOp::Kind::Edit;
                       op.messageId = f.messageId;
                       op.body = f.body;
                       submitWrite(c, std::move(op), f.id);
                   },
                   [&](const ws::Delete &f) {
                       WriteOp op;
                       op.kind = WriteOp::Kind::Delete;
                       op.messageId = f.messageId;
                       submitWrite(c, std::move(op), f.id);
                   },
                   [&](const ws::Typing &f) { typing(c, f.roomId); },
                   [&](const ws::Read &f) { markRead(c, f.roomId, f.seq); },
                   [&](const ws::HistoryRequest &f) { history(c, f); },
                   [&](const ws::Ping &f) {
                       writeFrame(c, ws::Pong {f.id, f.t});
                   },
               },
               frame);
}

void Hub::startHello(Connection &c, const ws::Hello &hello)
{
    const QByteArray token = hello.token ? hello.token->toUtf8() : c.upgradeToken;
    if (token.isEmpty()) {
        closeWith(c, 4001, QStringLiteral("missing token"));
        return;
    }
    c.state = Connection::State::Authenticating;
    c.tokenDigest = Credentials::tokenDigest(QString::fromUtf8(token));
    const qint64 now = m_options.nowMs();
    const qint64 ttl = m_options.sessionTtlMs;
    const ConnId id = c.id;
    m_db->query([digest = c.tokenDigest, now, ttl](QSqlDatabase &db) -> Result<std::pair<User, ws::SeqMap>> {
            auto user = store::sessionUser(db, digest, now, ttl);
            if (!user)
                return user.error();
            if (!user->has_value())
                return Error {ErrorCode::Unauthorized, QStringLiteral("unknown or expired token"), {}};
            auto channels = store::channelsForUser(db, (*user)->id);
            if (!channels)
                return channels.error();
            return std::pair {**user, *channels};
        })
        .then(this, [this, id, hello](const Result<std::pair<User, ws::SeqMap>> &r) {
            Connection *conn = find(id);
            if (!conn || conn->state != Connection::State::Authenticating)
                return;
            if (!r) {
                const bool auth = r.error().code == ErrorCode::Unauthorized;
                closeWith(*conn, auth ? 4001 : 1011, r.error().message);
                return;
            }
            welcomed(id, hello, r->first, r->second);
        });
}

void Hub::welcomed(ConnId id, const ws::Hello &hello, const User &user, const ws::SeqMap &channels)
{
    Connection &c = *find(id);
    c.userId = user.id;
    c.state = Connection::State::Open;
    c.welcomed = true;
    auto &mine = m_byUser[user.id];
    const bool firstConnection = mine.isEmpty();
    mine.insert(id);
    m_byToken[c.tokenDigest].insert(id);
    writeFrame(c, ws::Welcome {user.id, m_options.instance, channels});
    for (auto it = channels.cbegin(); it != channels.cend(); ++it) {
        const Channel &ch = it.key();
        const Seq current = it.value();
        Seq start = current;
        Seq announce = -1;
        if (const auto r = hello.resume.constFind(ch); r != hello.resume.cend()) {
            if (*r > current || current - *r > m_options.replayLimit) {
                ++m_stats.resyncs;
                writeFrame(c, ws::Resync {ch});
            } else if (*r < current) {
                start = *r;
                announce = *r;
            }
        }
        m_order.track(ch, current);
        addSubscription(c, ch, start);
        c.channels[ch].announceFrom = announce;
        if (start < std::max(current, m_order.delivered(ch)))
            catchUp(id, ch);
    }
    QSet<Channel> rooms;
    for (auto it = channels.cbegin(); it != channels.cend(); ++it) {
        if (it.key().kind == ChannelKind::Room)
            rooms.insert(it.key());
    }
    // Who is online already, among the members of the user's rooms (on any instance).
    QSet<Id> online;
    for (const Channel &ch : std::as_const(rooms)) {
        const QSet<ConnId> subs = m_subscribers.value(ch);
        for (ConnId sub : subs) {
            if (const Connection *o = find(sub); o && o->userId != user.id && o->state == Connection::State::Open)
                online.insert(o->userId);
        }
    }
    for (auto it = m_goingOffline.cbegin(); it != m_goingOffline.cend(); ++it) {
        if (it.key() != user.id && it->second.intersects(rooms))
            online.insert(it.key());
    }
    for (auto it = m_remoteOnline.cbegin(); it != m_remoteOnline.cend(); ++it) {
        if (it.key() == user.id || online.contains(it.key()))
            continue;
        for (const QSet<Channel> &announced : *it) {
            if (announced.intersects(rooms)) {
                online.insert(it.key());
                break;
            }
        }
    }
    for (Id other : std::as_const(online))
        writeVolatile(c, encoded(ws::Presence {other, ws::PresenceStatus::Online}));
    if (firstConnection && !m_goingOffline.remove(user.id))
        presenceChanged(user.id, rooms, ws::PresenceStatus::Online);
    const auto early = std::exchange(c.early, {});
    for (const auto &[bytes, arrivalNs] : early) {
        Connection *conn = find(id);
        if (!conn || conn->state != Connection::State::Open)
            break;
        m_arrivalNs = arrivalNs;
        onFrame(*conn, bytes);
    }
}

void Hub::submitWrite(Connection &c, WriteOp op, ws::FrameId frameId)
{
    op.userId = c.userId;
    op.arrivalNs = m_arrivalNs;
    const ConnId id = c.id;
    m_commit->submit(std::move(op), [this, id, frameId](const Result<WriteOutcome> &r) {
        Connection *conn = find(id);
        if (!conn || conn->state != Connection::State::Open)
            return;
        if (!r)
            sendError(*conn, frameId, r.error());
        else
            writeFrame(*conn, ws::Ack {frameId, r->message});
    });
}

void Hub::typing(Connection &c, Id roomId)
{
    const Channel ch = Channel::room(roomId);
    if (!c.channels.contains(ch)) {
        sendError(c, {}, Error {ErrorCode::NotFound, QStringLiteral("room not found"), QStringLiteral("roomId")});
        return;
    }
    const qint64 now = m_clock.elapsed();
    const auto key = std::pair {c.userId, roomId};
    if (const auto last = m_lastTyping.constFind(key);
        last != m_lastTyping.cend() && now - *last < m_options.typingIntervalMs) {
        return;
    }
    m_lastTyping.insert(key, now);
    const QString text = encoded(ws::TypingEvent {roomId, c.userId});
    const QSet<ConnId> subs = m_subscribers.value(ch);
    for (ConnId sub : subs) {
        Connection *other = find(sub);
        if (other && other->userId != c.userId)
            writeVolatile(*other, text);
    }
    if (m_relay)
        m_relay->relayVolatile(ch, text.toUtf8(), c.userId);
}

void Hub::markRead(Connection &c, Id roomId, Seq seq)
{
    const Channel ch = Channel::room(roomId);
    if (!c.channels.contains(ch)) {
        sendError(c, {}, Error {ErrorCode::NotFound, QStringLiteral("room not found"), QStringLiteral("roomId")});
        return;
    }
    if (c.readInFlight.contains(roomId)) {
        c.readPending[roomId] = std::max(c.readPending.value(roomId), seq);
        return;
    }
    c.readInFlight.insert(roomId);
    const ConnId id = c.id;
    const Id userId = c.userId;
    m_db->query(
            [roomId, userId, seq](QSqlDatabase &db) -> Result<Seq> { return store::markRead(db, roomId, userId, seq); })
        .then(this, [this, id, roomId, userId](const Result<Seq> &r) {
            Connection *conn = find(id);
            if (conn)
                conn->readInFlight.remove(roomId);
            if (!r) {
                if (conn && conn->state == Connection::State::Open)
                    sendError(*conn, {}, r.error());
                return;
            }
            if (m_reads) // the reader's next GET /rooms (readSeq, unread) comes from the primary
                m_reads->wrote({userId}, {});
            const QString text = encoded(ws::ReadEvent {roomId, userId, *r});
            const QSet<ConnId> subs = m_subscribers.value(Channel::room(roomId));
            for (ConnId sub : subs) {
                if (Connection *other = find(sub); other && other->state == Connection::State::Open)
                    writeVolatile(*other, text);
            }
            if (m_relay)
                m_relay->relayVolatile(Channel::room(roomId), text.toUtf8(), 0); // the reader's devices too
            if (conn && conn->state == Connection::State::Open) {
                if (const auto pending = conn->readPending.take(roomId); pending > *r)
                    markRead(*conn, roomId, pending);
            }
        });
}

void Hub::history(Connection &c, const ws::HistoryRequest &request)
{
    if (!c.channels.contains(request.channel)) {
        sendError(c, request.id,
                  Error {ErrorCode::NotFound, QStringLiteral("channel not found"), QStringLiteral("channel")});
        return;
    }
    const ConnId id = c.id;
    m_db->query([request](QSqlDatabase &db) -> Result<QList<ChannelEvent>> {
            return store::eventsAfter(db, request.channel, request.after, request.limit);
        })
        .then(this, [this, id, request](const Result<QList<ChannelEvent>> &r) {
            Connection *conn = find(id);
            if (!conn || conn->state != Connection::State::Open)
                return;
            if (!r)
                sendError(*conn, request.id, r.error());
            else
                writeFrame(*conn, ws::HistoryReply {request.id, request.channel, *r});
        });
}

// ---- Durable events ------------------------------------------------------------------------

void Hub::publish(QList<ChannelEvent> events)
{
    if (QThread::currentThread() != thread()) {
        QMetaObject::invokeMethod(
            this, [this, events = std::move(events)]() mutable { publish(std::move(events)); }, Qt::QueuedConnection);
        return;
    }
    if (m_relay)
        m_relay->publish(events);
    remoteEvents(std::move(events));
}

void Hub::remoteEvents(QList<ChannelEvent> events)
{
    QList<Outgoing> out;
    out.reserve(events.size());
    for (ChannelEvent &e : events)
        out.append(Outgoing {std::move(e), 0});
    publishHere(std::move(out));
}

void Hub::subscribe(const Channel &channel, const QList<Id> &userIds, Seq seq)
{
    if (QThread::currentThread() != thread()) {
        QMetaObject::invokeMethod(
            this, [this, channel, userIds, seq] { subscribe(channel, userIds, seq); }, Qt::QueuedConnection);
        return;
    }
    if (m_relay)
        m_relay->subscribe(channel, userIds, seq);
    subscribeHere(channel, userIds, seq);
}

void Hub::remoteSubscribe(const Channel &channel, const QList<Id> &userIds, Seq seq)
{
    subscribeHere(channel, userIds, seq);
}

void Hub::subscribeHere(const Channel &channel, const QList<Id> &userIds, Seq seq)
{
    for (Id user : userIds) {
        const QSet<ConnId> ids = m_byUser.value(user);
        for (ConnId id : ids) {
            Connection *c = find(id);
            if (c && c->state == Connection::State::Open && !c->channels.contains(channel)) {
                m_order.track(channel, seq);
                addSubscription(*c, channel, seq);
            }
        }
    }
}

void Hub::closeChannel(const Channel &channel, const QList<Id> &userIds)
{
    if (QThread::currentThread() != thread()) {
        QMetaObject::invokeMethod(
            this, [this, channel, userIds] { closeChannel(channel, userIds); }, Qt::QueuedConnection);
        return;
    }
    if (m_relay)
        m_relay->closeChannel(channel, userIds);
    closeChannelHere(channel, userIds);
}

void Hub::remoteCloseChannel(const Channel &channel, const QList<Id> &userIds)
{
    closeChannelHere(channel, userIds);
}

void Hub::closeChannelHere(const Channel &channel, const QList<Id> &userIds)
{
    for (Id user : userIds) {
        const QSet<ConnId> ids = m_byUser.value(user);
        for (ConnId id : ids) {
            if (Connection *c = find(id))
                removeSubscription(*c, channel);
        }
    }
}

void Hub::revokeToken(const QByteArray &tokenDigest)
{
    if (QThread::currentThread() != thread()) {
        QMetaObject::invokeMethod(
            this, [this, tokenDigest] { revokeToken(tokenDigest); }, Qt::QueuedConnection);
        return;
    }
    if (m_relay)
        m_relay->revokeToken(tokenDigest);
    revokeTokenHere(tokenDigest);
}

void Hub::remoteRevokeToken(const QByteArray &tokenDigest)
{
    revokeTokenHere(tokenDigest);
}

void Hub::revokeTokenHere(const QByteArray &tokenDigest)
{
    const QSet<ConnId> ids = m_byToken.value(tokenDigest);
    for (ConnId id : ids) {
        if (Connection *c = find(id))
            closeWith(*c, 4003, QStringLiteral("token revoked"));
    }
}

void Hub::publishHere(QList<Outgoing> events)
{
    const qint64 now = m_clock.elapsed();
    for (Outgoing &out : events) {
        const Channel ch = out.event.channel;
        if (!m_order.isTracked(ch)) {
            // No local subscriber; a member joining who is connected here makes one.
            const bool localJoin
                = out.event.type == EventType::MemberJoined && out.event.userId && m_byUser.contains(*out.event.userId);
            if (!localJoin)
                continue;
            m_order.track(ch, out.event.seq - 1);
        }
        const QList<Outgoing> released = m_order.offer(std::move(out), now);
        for (const Outgoing &r : released)
            release(r);
    }
    if (m_order.hasHeld() && !m_gapTimer.isActive())
        m_gapTimer.start();
}

void Hub::release(const Outgoing &out)
{
    const ChannelEvent &e = out.event;
    const Channel &ch = e.channel;
    if (e.type == EventType::MemberJoined && e.userId) {
        const QSet<ConnId> ids = m_byUser.value(*e.userId);
        for (ConnId id : ids) {
            Connection *c = find(id);
            if (c && c->state == Connection::State::Open && !c->channels.contains(ch))
                addSubscription(*c, ch, e.seq - 1);
        }
    }
    const QSet<ConnId> subs = m_subscribers.value(ch);
    if (!subs.isEmpty()) {
        const QString text = QString::fromUtf8(ws::encodeEventFrame(e));
        for (ConnId id : subs) {
            if (Connection *c = find(id); c && c->state == Connection::State::Open)
                deliver(*c, ch, e.seq, text);
        }
    }
    if (out.arrivalNs > 0)
        m_delivery->observe(double(m_clock.nsecsElapsed() - out.arrivalNs) / 1e6);
    if (e.type == EventType::MemberLeft && e.userId) {
        const QSet<ConnId> ids = m_byUser.value(*e.userId);
        for (ConnId id : ids) {
            if (Connection *c = find(id))
                removeSubscription(*c, ch);
        }
    }
}

void Hub::deliver(Connection &c, const Channel &channel, Seq seq, const QString &text)
{
    const auto it = c.channels.find(channel);
    if (it == c.channels.end())
        return;
    Cursor &cur = *it;
    if (cur.catchingUp) {
        cur.waiting.emplace(seq, text);
        return;
    }
    if (seq <= cur.sent)
        return;
    if (seq == cur.sent + 1) {
        if (writeDurable(c, text)) {
            cur.sent = seq;
            ++m_stats.eventsFannedOut;
        }
        return;
    }
    // This connection missed something (it subscribed while events were on their way): read
    // the missing ones from the database, keep the live ones until then.
    cur.waiting.emplace(seq, text);
    catchUp(c.id, channel);
}

void Hub::catchUp(ConnId id, const Channel &channel)
{
    Connection *c = find(id);
    if (!c)
        return;
    const auto it = c->channels.find(channel);
    if (it == c->channels.end() || it->catchingUp)
        return;
    it->catchingUp = true;
    const Seq after = it->sent;
    const int limit = m_options.replayLimit;
    m_db->query([channel, after, limit](QSqlDatabase &db) -> Result<QList<ChannelEvent>> {
            return store::eventsAfter(db, channel, after, limit);
        })
        .then(this, [this, id, channel, limit](const Result<QList<ChannelEvent>> &r) {
            Connection *conn = find(id);
            if (!conn || conn->state != Connection::State::Open)
                return;
            const auto cit = conn->channels.find(channel);
            if (cit == conn->channels.end())
                return;
            Cursor &cur = *cit;
            if (!r) {
                // The client resumes from what it has when it comes back.
                closeWith(*conn, 1011, QStringLiteral("replay failed: ") + r.error().message);
                return;
            }
            for (const ChannelEvent &e : *r) {
                if (e.seq != cur.sent + 1)
                    continue;
                if (!writeDurable(*conn, QString::fromUtf8(ws::encodeEventFrame(e))))
                    return;
                cur.sent = e.seq;
                ++m_stats.replayedEvents;
            }
            cur.catchingUp = false;
            const bool more = r->size() >= limit;
            if (more && (cur.waiting.empty() || cur.waiting.begin()->first > cur.sent + 1)) {
                catchUp(id, channel);
                return;
            }
            if (cur.announceFrom >= 0) {
                if (cur.sent > cur.announceFrom)
                    writeFrame(*conn, ws::Resumed {channel, cur.announceFrom + 1, cur.sent});
                cur.announceFrom = -1;
            }
            std::map<Seq, QString> waiting = std::exchange(cur.waiting, {});
            for (auto w = waiting.begin(); w != waiting.end(); ++w) {
                if (w->first <= cur.sent)
                    continue;
                if (w->first != cur.sent + 1) {
                    cur.waiting.insert(w, waiting.end());
                    catchUp(id, channel);
                    return;
                }
                if (!writeDurable(*conn, w->second))
                    return;
                cur.sent = w->first;
                ++m_stats.eventsFannedOut;
            }
        });
}

void Hub::fillGaps()
{
    const QList<ChannelOrder::Gap> gaps = m_order.stalled(m_clock.elapsed(), m_options.gapWaitMs);
    for (const ChannelOrder::Gap &gap : gaps) {
        if (m_filling.contains(gap.channel))
            continue;
        m_filling.insert(gap.channel);
        ++m_stats.gapFills;
        const int limit = int(std::min<qint64>(gap.before - gap.after - 1, m_options.replayLimit));
        m_db->query([gap, limit](QSqlDatabase &db) -> Result<QList<ChannelEvent>> {
                return store::eventsAfter(db, gap.channel, gap.after, limit);
            })
            .then(this, [this, channel = gap.channel](const Result<QList<ChannelEvent>> &r) {
                m_filling.remove(channel);
                if (!r) {
                    qCWarning(lcServer) << "gap fill failed for" << channel.toString() << r.error().message;
                    return;
                }
                QList<Outgoing> out;
                for (const ChannelEvent &e : *r)
                    out.append(Outgoing {e, 0});
                publishHere(std::move(out));
            });
    }
    if (!m_order.hasHeld())
        m_gapTimer.stop();
}

void Hub::verifyChannels()
{
    QList<std::pair<Channel, Seq>> tracked;
    for (auto it = m_subscribers.cbegin(); it != m_subscribers.cend(); ++it)
        tracked.append({it.key(), m_order.delivered(it.key())});
    if (tracked.isEmpty())
        return;
    const int limit = m_options.replayLimit;
    m_db->query([tracked, limit](QSqlDatabase &db) -> Result<QList<ChannelEvent>> {
            QList<ChannelEvent> missing;
            for (const auto &[channel, delivered] : tracked) {
                auto seq = store::channelSeq(db, channel);
                if (!seq || *seq <= delivered)
                    continue; // gone (a deleted project) or up to date
                auto events = store::eventsAfter(db, channel, delivered, limit);
                if (!events)
                    return events.error();
                missing += *events;
            }
            return missing;
        })
        .then(this, [this](const Result<QList<ChannelEvent>> &r) {
            if (!r) {
                qCWarning(lcServer) << "channel verification failed:" << r.error().message;
                return;
            }
            if (!r->isEmpty()) {
                ++m_stats.gapFills;
                remoteEvents(*r);
            }
        });
}

void Hub::addSubscription(Connection &c, const Channel &channel, Seq sent)
{
    m_order.track(channel, sent);
    c.channels.insert(channel, Cursor {sent, false, -1, {}});
    m_subscribers[channel].insert(c.id);
}

void Hub::removeSubscription(Connection &c, const Channel &channel)
{
    if (!c.channels.remove(channel))
        return;
    const auto it = m_subscribers.find(channel);
    if (it == m_subscribers.end())
        return;
    it->remove(c.id);
    if (it->isEmpty()) {
        m_subscribers.erase(it);
        m_order.forget(channel);
    }
}

// ---- Volatile events -----------------------------------------------------------------------

void Hub::presenceChanged(Id userId, const QSet<Channel> &rooms, ws::PresenceStatus status)
{
    const bool online = status == ws::PresenceStatus::Online;
    if (m_relay) {
        QList<Id> roomIds;
        for (const Channel &ch : rooms)
            roomIds.append(ch.id);
        m_relay->relayPresence(userId, online, roomIds);
    }
    if (!online && onlineElsewhere(userId))
        return; // still online for everyone through another instance
    presenceHere(userId, rooms, status);
}

void Hub::presenceHere(Id userId, const QSet<Channel> &rooms, ws::PresenceStatus status)
{
    QSet<ConnId> targets;
    for (const Channel &ch : rooms)
        targets.unite(m_subscribers.value(ch));
    if (targets.isEmpty())
        return;
    const QString text = encoded(ws::Presence {userId, status});
    for (ConnId id : std::as_const(targets)) {
        Connection *c = find(id);
        if (c && c->userId != userId && c->state == Connection::State::Open)
            writeVolatile(*c, text);
    }
}

bool Hub::onlineHere(Id userId) const
{
    return m_byUser.contains(userId) || m_goingOffline.contains(userId);
}

bool Hub::onlineElsewhere(Id userId) const
{
    const auto it = m_remoteOnline.constFind(userId);
    return it != m_remoteOnline.cend() && !it->isEmpty();
}

void Hub::remoteVolatile(const Channel &room, const QString &frame, Id exceptUser)
{
    const QSet<ConnId> subs = m_subscribers.value(room);
    for (ConnId sub : subs) {
        Connection *c = find(sub);
        if (c && c->userId != exceptUser && c->state == Connection::State::Open)
            writeVolatile(*c, frame);
    }
}

void Hub::remotePresence(const QString &instance, Id userId, bool online, const QList<Id> &roomIds)
{
    m_remoteSeen.insert(instance, m_clock.elapsed());
    QSet<Channel> rooms;
    for (Id id : roomIds)
        rooms.insert(Channel::room(id));
    const bool wasOnline = onlineHere(userId) || onlineElsewhere(userId);
    if (online) {
        m_remoteOnline[userId].insert(instance, rooms);
        if (!wasOnline)
            presenceHere(userId, rooms, ws::PresenceStatus::Online);
        return;
    }
    auto it = m_remoteOnline.find(userId);
    if (it == m_remoteOnline.end())
        return;
    it->remove(instance);
    if (it->isEmpty())
        m_remoteOnline.erase(it);
    if (!onlineHere(userId) && !onlineElsewhere(userId))
        presenceHere(userId, rooms, ws::PresenceStatus::Offline);
}

void Hub::remotePresenceSnapshot(const QString &instance, const QList<Id> &online)
{
    m_remoteSeen.insert(instance, m_clock.elapsed());
    const QSet<Id> now(online.cbegin(), online.cend());
    // Users the instance no longer has (a missed offline, or a restart: an empty snapshot).
    QList<std::pair<Id, QSet<Channel>>> gone;
    for (auto it = m_remoteOnline.begin(); it != m_remoteOnline.end();) {
        auto inst = it->find(instance);
        if (inst != it->end() && !now.contains(it.key())) {
            gone.append({it.key(), *inst});
            it->erase(inst);
        }
        it = it->isEmpty() ? m_remoteOnline.erase(it) : std::next(it);
    }
    for (const auto &[user, rooms] : std::as_const(gone)) {
        if (!onlineHere(user) && !onlineElsewhere(user))
            presenceHere(user, rooms, ws::PresenceStatus::Offline);
    }
}

void Hub::expireRemotePresence()
{
    // An instance silent for three snapshot periods is gone (killed): its users are offline
    // unless another instance has them.
    const qint64 now = m_clock.elapsed();
    QStringList silent;
    for (auto it = m_remoteSeen.cbegin(); it != m_remoteSeen.cend(); ++it) {
        if (now - it.value() > 3 * kPresenceSnapshotMs + 5000)
            silent.append(it.key());
    }
    for (const QString &instance : std::as_const(silent)) {
        remotePresenceSnapshot(instance, {});
        m_remoteSeen.remove(instance);
    }
}

void Hub::startPresenceRelay()
{
    if (!m_relay)
        return;
    m_relay->relayPresenceSnapshot({}); // a restart under the same name: forget the old one
    m_presenceTimer.setInterval(kPresenceSnapshotMs);
    connect(&m_presenceTimer, &QTimer::timeout, this, [this] {
        if (!m_relay)
            return;
        QList<Id> online;
        online.reserve(m_byUser.size() + m_goingOffline.size());
        for (auto it = m_byUser.cbegin(); it != m_byUser.cend(); ++it)
            online.append(it.key());
        for (auto it = m_goingOffline.cbegin(); it != m_goingOffline.cend(); ++it)
            online.append(it.key());
        m_relay->relayPresenceSnapshot(online);
        expireRemotePresence();
    });
    m_presenceTimer.start();
}

// ---- Writing -------------------------------------------------------------------------------

bool Hub::writeDurable(Connection &c, const QString &text)
{
    const qint64 queued = c.socket->bytesToWrite() + text.size();
    if (queued > 8 * m_options.outboundLimitBytes) {
        ++m_stats.slowConsumerCloses;
        closeWith(c, 4008, QStringLiteral("slow consumer: resume later"));
        return false;
    }
    if (queued > m_options.outboundLimitBytes && c.overLimitSinceMs < 0)
        c.overLimitSinceMs = m_clock.elapsed(); // the sweep closes it if it stays over
    c.socket->sendTextMessage(text);
    return true;
}

void Hub::writeVolatile(Connection &c, const QString &text)
{
    if (c.state != Connection::State::Open)
        return;
    if (c.socket->bytesToWrite() + text.size() > m_options.outboundLimitBytes / 2) {
        ++m_stats.volatileDropped;
        return;
    }
    c.socket->sendTextMessage(text);
    ++m_stats.volatileSent;
}

void Hub::writeFrame(Connection &c, const ws::ServerFrame &frame)
{
    if (c.state == Connection::State::Open)
        writeDurable(c, encoded(frame));
}

void Hub::sendError(Connection &c, ws::FrameId id, const Error &error)
{
    writeFrame(c, ws::ErrorFrame {id, error});
}

} // namespace taskmaster::server
