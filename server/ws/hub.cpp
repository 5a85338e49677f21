#include "server/ws/hub.h"

#include "server/storage/event_store.h"
#include "server/storage/read_routing.h"
#include "server/storage/room_store.h"
#include "server/ws/channel_replay.h"
#include "server/ws/client_connections.h"
#include "server/ws/presence_tracker.h"
#include "server/ws/subscription_table.h"
#include "shared/core/overloaded.h"
#include "shared/core/poll_until.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QThread>
#include <QTimer>
#include <QWebSocket>

#include <memory>

namespace taskmaster::server {

namespace {
constexpr int kSweepIntervalMs = 250;
} // namespace

Hub::Hub(DbPool *db, HubOptions options, MetricsRegistry &metrics, QObject *parent)
    : QObject(parent), m_db(db), m_options(std::move(options)),
      m_rebalancer(m_options.rebalanceRate, m_options.rebalanceSlack)
{
    m_clock.start();
    m_commit = std::make_unique<GroupCommit>(
        db, m_options.groupCommit, m_options.maxBatch, m_options.nowMs,
        [this](QList<Outgoing> events) { committed(std::move(events)); }, this);
    m_metrics = std::make_unique<HubMetrics>(metrics, *m_commit, [this] { return m_connections->size(); });
    m_commit->observeStages(&m_clock,
                            [m = m_metrics.get()](CommitStage stage, double ms) { m->observeCommitStage(stage, ms); });
    m_connections = std::make_unique<ClientConnections>(
        db, m_options, m_clock, m_metrics->counters(),
        ConnectionHandlers {
            [this](ClientConnection &c, const ws::Hello &hello, const User &user, const ws::SeqMap &channels,
                   const QHash<Id, int> &roomMembers) { welcomed(c, hello, user, channels, roomMembers); },
            [this](ClientConnection &c, const ws::ClientFrame &frame, qint64 arrivalNs) {
                handle(c, frame, arrivalNs);
            },
            [this](ClientConnection &c) { closed(c); }, [this] { return m_presence->memberCountsHere(); }},
        this);
    m_subscriptions = std::make_unique<SubscriptionTable>(*m_connections, *m_metrics, m_clock);
    m_replay = std::make_unique<ChannelReplay>(db, m_options, m_clock, *m_connections, *m_subscriptions,
                                               m_metrics->counters(), this);
    m_subscriptions->setReplay(m_replay.get());
    m_presence = std::make_unique<PresenceTracker>(m_options, m_clock, *m_connections, *m_subscriptions, this);
    m_subscriptions->setJoined([this](Id userId, const Channel &room, Seq seq, const QList<ConnId> &joined) {
        m_presence->memberJoined(userId, room, seq, joined);
    });
    m_subscriptions->setLeft([this](Id userId, const Channel &room) { m_presence->memberLeft(userId, room); });
    m_presence->setCountMembers([this](Id roomId, int cap, std::function<void(std::optional<int>)> done) {
        m_db->query([roomId, cap](QSqlDatabase &conn) { return store::roomMemberCount(conn, roomId, cap); })
            .then(this,
                  [done = std::move(done)](const Result<int> &r) { done(r ? std::optional<int>(*r) : std::nullopt); });
    });

    m_sweepTimer.setInterval(kSweepIntervalMs);
    connect(&m_sweepTimer, &QTimer::timeout, this, &Hub::sweep);
    m_sweepTimer.start();
}

// The sockets are aborted first (~ClientConnections), before the parts that refer to them.
Hub::~Hub()
{
    m_connections.reset();
}

void Hub::setRelay(EventSink *relay)
{
    m_relay = relay;
    m_presence->setRelay(relay);
}

void Hub::setCache(Cache *cache)
{
    m_commit->setCache(cache);
}

void Hub::setReadRouting(ReadRouting *reads)
{
    m_reads = reads;
    m_commit->setReadRouting(reads);
}

void Hub::startPresenceRelay()
{
    m_presence->startRelay();
}

HubStats Hub::stats() const
{
    return m_metrics->stats();
}

QByteArray Hub::statsJson() const
{
    const qint64 now = m_clock.elapsed();
    QJsonObject peers;
    const auto &reports = m_rebalancer.peers();
    for (auto it = reports.cbegin(); it != reports.cend(); ++it) {
        peers.insert(it.key(),
                     QJsonObject {{QStringLiteral("connections"), it->connections},
                                  {QStringLiteral("draining"), it->draining},
                                  {QStringLiteral("ageMs"), now - it->reportedMs}});
    }
    const QJsonObject rebalance {
        {QStringLiteral("rate"), m_options.rebalanceRate},
        {QStringLiteral("share"), m_rebalancer.share(m_connections->staying(), now)},
        {QStringLiteral("pausedForMs"), std::max<qint64>(0, m_rebalancer.pausedUntilMs() - now)},
        {QStringLiteral("peers"), peers}};
    return m_metrics->statsJson(m_subscriptions->userCount(), m_subscriptions->channelCount(), rebalance);
}

void Hub::accept(std::unique_ptr<QWebSocket> socket)
{
    m_connections->accept(std::move(socket));
}

void Hub::drain(const QString &reason, qint64 retryAfterMs)
{
    m_draining = true;
    if (m_relay) // the others stop counting this instance's clients in their share at once
        m_relay->relayLoad(m_connections->size(), true);
    const int rate = m_options.drainRate > 0 ? m_options.drainRate : m_options.reconnectRate;
    const qint64 window = rate > 0 ? windowMs(rate) : 0;
    // The clients come back through the other instances over about the window (their retry
    // delays reach half of it, then the others' hello queues, slower on a loaded machine): keep
    // them online meanwhile, with room to spare; a user who really left shows offline later.
    m_presence->handOff(2 * window + m_options.presenceGraceMs);
    // Closing thousands of sockets holds this thread for seconds: the hand-off goes out first
    // (it was lost when the Redis command timed out behind the closes), for at most 1 s.
    pollUntil(
        this, 5, 1000, [this] { return !m_relay || m_relay->relaying() == 0; },
        [this, reason, retryAfterMs, window](qint64, bool) { m_connections->drain(reason, retryAfterMs, window / 2); });
}

void Hub::sweep()
{
    const qint64 now = m_clock.elapsed();
    rebalance(now);
    m_connections->sweep(now);
    m_presence->sweep(now);
    for (auto it = m_lastTyping.begin(); it != m_lastTyping.end();) {
        if (now - *it >= m_options.typingIntervalMs)
            it = m_lastTyping.erase(it);
        else
            ++it;
    }
}

void Hub::rebalance(qint64 nowMs)
{
    if (!m_relay)
        return;
    if (m_lastLoadReportMs < 0 || nowMs - m_lastLoadReportMs >= 1000) {
        m_lastLoadReportMs = nowMs;
        m_relay->relayLoad(m_connections->staying(), m_draining);
    }
    const qint64 elapsed = nowMs - m_lastRebalanceMs;
    m_lastRebalanceMs = nowMs;
    if (m_draining)
        return;
    if (const qint64 n = m_rebalancer.shed(m_connections->staying(), nowMs, elapsed); n > 0) {
        // Back within half a second (each client waits the hint to twice it): through the
        // balancer, to an instance with fewer connections.
        m_metrics->counters().rebalanced += m_connections->shed(n, QStringLiteral("rebalancing"), 250);
    }
}

void Hub::remoteLoad(const QString &instance, qint64 connections, bool draining)
{
    m_rebalancer.report(instance, connections, draining, m_clock.elapsed());
}

// ---- A connection's life -------------------------------------------------------------------

void Hub::welcomed(ClientConnection &c, const ws::Hello &hello, const User &user, const ws::SeqMap &channels,
                   const QHash<Id, int> &roomMembers)
{
    const bool firstConnection = m_subscriptions->opened(c);
    const std::optional<qint64> roomLimit
        = m_options.presenceRoomLimit > 0 ? std::optional<qint64>(m_options.presenceRoomLimit) : std::nullopt;
    m_connections->writeFrame(c, ws::Welcome {user.id, m_options.instance, channels, reconnectWindowMs(), roomLimit});
    m_presence->memberCounts(roomMembers);
    m_replay->resume(c, hello.resume, channels);
    QSet<Channel> rooms;
    for (auto it = channels.cbegin(); it != channels.cend(); ++it) {
        if (it.key().kind == ChannelKind::Room)
            rooms.insert(it.key());
    }
    m_presence->opened(c, rooms, firstConnection, hello.presenceList);
}

std::optional<qint64> Hub::reconnectWindowMs() const
{
    // Should this instance die, its clients come back to the others over this window, at about
    // reconnectRate a second: spread wider, a storm's hellos, resumes and handshakes (nginx's,
    // PostgreSQL's and the clients' own) stay within what the machines have spare, and the clients
    // that were not cut off keep their latency (docs/cluster.md, "Reconnect storms").
    if (m_options.reconnectRate <= 0)
        return std::nullopt;
    return windowMs(m_options.reconnectRate);
}

qint64 Hub::windowMs(int rate) const
{
    return std::min<qint64>(kMaxReconnectWindowMs, m_connections->size() * 1000 / rate);
}

void Hub::closed(ClientConnection &c)
{
    if (auto rooms = m_subscriptions->closed(c))
        m_presence->lastConnectionClosed(c.userId, *rooms);
}

// ---- Client frames -------------------------------------------------------------------------

void Hub::handle(ClientConnection &c, const ws::ClientFrame &frame, qint64 arrivalNs)
{
    std::visit(Overloaded {
                   [&](const ws::Hello &) {
                       m_connections->sendError(c, {}, Error::badRequest(QStringLiteral("hello was already received")));
                   },
                   [&](const ws::Send &f) {
                       WriteOp op;
                       op.kind = WriteOp::Kind::Send;
                       op.roomId = f.roomId;
                       op.body = f.body;
                       op.clientId = f.clientId;
                       op.attachmentIds = f.attachmentIds;
                       submitWrite(c, std::move(op), f.id, arrivalNs);
                   },
                   [&](const ws::Edit &f) {
                       WriteOp op;
                       op.kind = WriteOp::Kind::Edit;
                       op.messageId = f.messageId;
                       op.body = f.body;
                       submitWrite(c, std::move(op), f.id, arrivalNs);
                   },
                   [&](const ws::Delete &f) {
                       WriteOp op;
                       op.kind = WriteOp::Kind::Delete;
                       op.messageId = f.messageId;
                       submitWrite(c, std::move(op), f.id, arrivalNs);
                   },
                   [&](const ws::Typing &f) { typing(c, f.roomId); },
                   [&](const ws::Read &f) { markRead(c, f.roomId, f.seq); },
                   [&](const ws::HistoryRequest &f) { history(c, f); },
                   [&](const ws::RoomPresenceRequest &f) { roomPresence(c, f); },
                   [&](const ws::Ping &f) {
                       m_connections->writeFrame(c, ws::Pong {f.id, f.t, reconnectWindowMs()});
                   },
               },
               frame);
}

void Hub::submitWrite(ClientConnection &c, WriteOp op, ws::FrameId frameId, qint64 arrivalNs)
{
    op.userId = c.userId;
    op.arrivalNs = arrivalNs;
    const ConnId id = c.id;
    m_commit->submit(std::move(op), [this, id, frameId](const Result<WriteOutcome> &r) {
        ClientConnection *conn = m_connections->find(id);
        if (!conn || conn->state != ClientConnection::State::Open)
            return;
        if (!r)
            m_connections->sendError(*conn, frameId, r.error());
        else
            m_connections->writeFrame(*conn, ws::Ack {frameId, r->message});
    });
}

void Hub::typing(ClientConnection &c, Id roomId)
{
    const Channel ch = Channel::room(roomId);
    if (!c.channels.contains(ch)) {
        m_connections->sendError(
            c, {}, Error {ErrorCode::NotFound, QStringLiteral("room not found"), QStringLiteral("roomId")});
        return;
    }
    const qint64 now = m_clock.elapsed();
    const auto key = std::pair {c.userId, roomId};
    if (const auto last = m_lastTyping.constFind(key);
        last != m_lastTyping.cend() && now - *last < m_options.typingIntervalMs) {
        return;
    }
    m_lastTyping.insert(key, now);
    const QString text = encodedText(ws::TypingEvent {roomId, c.userId});
    m_subscriptions->sendVolatile(ch, text, c.userId);
    if (m_relay)
        m_relay->relayVolatile(ch, text.toUtf8(), c.userId);
}

void Hub::markRead(ClientConnection &c, Id roomId, Seq seq)
{
    const Channel ch = Channel::room(roomId);
    if (!c.channels.contains(ch)) {
        m_connections->sendError(
            c, {}, Error {ErrorCode::NotFound, QStringLiteral("room not found"), QStringLiteral("roomId")});
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
            ClientConnection *conn = m_connections->find(id);
            if (conn)
                conn->readInFlight.remove(roomId);
            if (!r) {
                if (conn && conn->state == ClientConnection::State::Open)
                    m_connections->sendError(*conn, {}, r.error());
                return;
            }
            if (m_reads) // the reader's next GET /rooms (readSeq, unread) comes from the primary
                m_reads->wrote({userId}, {});
            const QString text = encodedText(ws::ReadEvent {roomId, userId, *r});
            // To every subscriber: the reader's other devices too.
            m_subscriptions->sendVolatile(Channel::room(roomId), text, 0);
            if (m_relay)
                m_relay->relayVolatile(Channel::room(roomId), text.toUtf8(), 0);
            if (conn && conn->state == ClientConnection::State::Open) {
                if (const auto pending = conn->readPending.take(roomId); pending > *r)
                    markRead(*conn, roomId, pending);
            }
        });
}

void Hub::history(ClientConnection &c, const ws::HistoryRequest &request)
{
    if (!c.channels.contains(request.channel)) {
        m_connections->sendError(
            c, request.id, Error {ErrorCode::NotFound, QStringLiteral("channel not found"), QStringLiteral("channel")});
        return;
    }
    const ConnId id = c.id;
    m_db->query([request](QSqlDatabase &db) -> Result<QList<ChannelEvent>> {
            return store::eventsAfter(db, request.channel, request.after, request.limit);
        })
        .then(this, [this, id, request](const Result<QList<ChannelEvent>> &r) {
            ClientConnection *conn = m_connections->find(id);
            if (!conn || conn->state != ClientConnection::State::Open)
                return;
            if (!r)
                m_connections->sendError(*conn, request.id, r.error());
            else
                m_connections->writeFrame(*conn, ws::HistoryReply {request.id, request.channel, *r});
        });
}

void Hub::roomPresence(ClientConnection &c, const ws::RoomPresenceRequest &request)
{
    // As typing and read: a room the connection does not follow is not found (never revealing
    // that a room exists to someone who is not a member).
    const Channel room = Channel::room(request.roomId);
    if (!c.channels.contains(room)) {
        m_connections->sendError(
            c, request.id, Error {ErrorCode::NotFound, QStringLiteral("room not found"), QStringLiteral("roomId")});
        return;
    }
    PresenceTracker::RoomOnline online = m_presence->roomOnline(room, request.limit);
    m_connections->writeFrame(c,
                              ws::RoomPresence {request.id, request.roomId, online.online, std::move(online.userIds)});
}

// ---- Events of this instance (EventSink) and of the others (RemoteEventSink) ---------------

void Hub::committed(QList<Outgoing> events)
{
    if (m_relay) {
        QList<ChannelEvent> plain;
        plain.reserve(events.size());
        for (const Outgoing &o : events)
            plain.append(o.event);
        m_relay->publish(std::move(plain));
    }
    m_subscriptions->publish(std::move(events));
}

void Hub::publish(QList<ChannelEvent> events)
{
    if (offNetworkThread())
        return requeue([this, events = std::move(events)]() mutable { publish(std::move(events)); });
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
    m_subscriptions->publish(std::move(out));
}

void Hub::subscribe(const Channel &channel, const QList<Id> &userIds, Seq seq)
{
    if (offNetworkThread())
        return requeue([this, channel, userIds, seq] { subscribe(channel, userIds, seq); });
    if (m_relay)
        m_relay->subscribe(channel, userIds, seq);
    m_subscriptions->subscribeUsers(channel, userIds, seq);
}

void Hub::remoteSubscribe(const Channel &channel, const QList<Id> &userIds, Seq seq)
{
    m_subscriptions->subscribeUsers(channel, userIds, seq);
}

void Hub::closeChannel(const Channel &channel, const QList<Id> &userIds)
{
    if (offNetworkThread())
        return requeue([this, channel, userIds] { closeChannel(channel, userIds); });
    if (m_relay)
        m_relay->closeChannel(channel, userIds);
    m_subscriptions->unsubscribeUsers(channel, userIds);
}

void Hub::remoteCloseChannel(const Channel &channel, const QList<Id> &userIds)
{
    m_subscriptions->unsubscribeUsers(channel, userIds);
}

void Hub::writeInDoubt(const QList<Id> &roomIds, const QList<Id> &messageIds, qint64 sinceMs)
{
    if (offNetworkThread())
        return requeue([this, roomIds, messageIds, sinceMs] { writeInDoubt(roomIds, messageIds, sinceMs); });
    m_commit->putInDoubt(roomIds, messageIds, sinceMs);
}

void Hub::revokeToken(const QByteArray &tokenDigest)
{
    if (offNetworkThread())
        return requeue([this, tokenDigest] { revokeToken(tokenDigest); });
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
    const QSet<ConnId> ids = m_subscriptions->connectionsOfToken(tokenDigest);
    for (ConnId id : ids) {
        if (ClientConnection *c = m_connections->find(id))
            m_connections->closeWith(*c, ws::CloseCode::Revoked, QStringLiteral("token revoked"));
    }
}

void Hub::remoteVolatile(const Channel &room, const QString &frame, Id exceptUser)
{
    m_subscriptions->sendVolatile(room, frame, exceptUser);
}

void Hub::remotePresence(const QString &instance, Id userId, bool online, const QList<Id> &roomIds)
{
    m_presence->remotePresence(instance, userId, online, roomIds);
}

void Hub::remotePresenceSnapshot(const QString &instance, const QList<Id> &online, qint64 graceMs)
{
    m_presence->remotePresenceSnapshot(instance, online, graceMs);
}

void Hub::remotePresenceSnapshotRequested()
{
    m_presence->relayRooms();
}

void Hub::remotePresenceRooms(const QString &instance, const QHash<Id, QList<Id>> &roomsByUser)
{
    for (auto it = roomsByUser.cbegin(); it != roomsByUser.cend(); ++it)
        m_presence->remotePresence(instance, it.key(), true, it.value());
}

void Hub::verifyChannels()
{
    m_replay->verifyChannels();
}

} // namespace taskmaster::server
