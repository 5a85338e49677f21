// Hub: the real-time side of one instance (docs/protocol.md 9, "WebSocket: GET /ws"). It builds
// and wires the parts and handles what a welcomed client sends:
//   ClientConnections  every socket and its protocol state machine (hello, auth, limits);
//   SubscriptionTable  channel -> connections (by user, by token), ChannelOrder, the fan-out;
//   ChannelReplay      resume and catch-up replays, gap fills, verification after the bus;
//   PresenceTracker    local and remote presence;
//   HubMetrics         the Prometheus metrics, HubStats and the admin stats object;
//   GroupCommit        the write path of sends, edits and deletes;
//   Rebalancer         this instance's share of the cluster's connections (the others' reports).
// Here: sends, edits and deletes go to the group commit (ack or error to the sender), typing
// (at most one per user and room every typingIntervalMs) and read markers (written, then told
// to the room) to the room, history requests to the database, roomPresence requests to the
// PresenceTracker. It is the EventSink REST writes report to (passed on to the relay, the
// cluster bus) and the RemoteEventSink the bus reports the other instances' writes to.
// Owns: the parts above and the typing throttle. Thread: network thread; EventSink functions
// may be called from any thread.
#pragma once

#include "server/storage/db_pool.h"
#include "server/ws/event_sink.h"
#include "server/ws/hub_metrics.h"
#include "server/ws/hub_options.h"
#include "server/ws/rebalancer.h"
#include "server/ws/remote_event_sink.h"
#include "shared/codec/ws_frames.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QThread>
#include <QTimer>

#include <memory>

class QWebSocket;

namespace taskmaster::server {

class ChannelReplay;
class ClientConnections;
class PresenceTracker;
class SubscriptionTable;
struct ClientConnection;

class Hub final : public QObject, public EventSink, public RemoteEventSink {
    Q_OBJECT
public:
    // Registers the hub's metrics in `metrics` (which must outlive the hub).
    Hub(DbPool *db, HubOptions options, MetricsRegistry &metrics, QObject *parent = nullptr);
    ~Hub() override;

    // Takes a socket that completed the WebSocket upgrade on /ws.
    void accept(std::unique_ptr<QWebSocket> socket);
    // Draining: every connection gets a `reconnect` frame and is closed with 1001. Their
    // retryAfterMs go from `retryAfterMs` up to half of the drain window (connections over
    // HubOptions::drainRate), one step per connection: the clients spread each over [N, 2N], so
    // the whole instance comes back to the others over about that window instead of within
    // 2 x 500 ms.
    void drain(const QString &reason, qint64 retryAfterMs);

    // EventSink: writes of this instance (REST). Passed on to the relay as well.
    void publish(QList<ChannelEvent> events) override;
    void subscribe(const Channel &channel, const QList<Id> &userIds, Seq seq) override;
    void closeChannel(const Channel &channel, const QList<Id> &userIds) override;
    void revokeToken(const QByteArray &tokenDigest) override;
    void writeInDoubt(const QList<Id> &roomIds, const QList<Id> &messageIds, qint64 sinceMs) override;

    // Where this instance's writes go for the other instances (the cluster bus); null alone.
    void setRelay(EventSink *relay);
    // The REST cache whose room versions the write path bumps before acknowledging.
    void setCache(Cache *cache);
    // Read-your-writes marks of the write path (read replica).
    void setReadRouting(ReadRouting *reads);
    // Starts the periodic presence snapshot for the relay (cluster mode).
    void startPresenceRelay();

    // RemoteEventSink: what the other instances wrote, applied here only. Network thread.
    void remoteEvents(QList<ChannelEvent> events) override;
    void remoteSubscribe(const Channel &channel, const QList<Id> &userIds, Seq seq) override;
    void remoteCloseChannel(const Channel &channel, const QList<Id> &userIds) override;
    void remoteRevokeToken(const QByteArray &tokenDigest) override;
    void remoteVolatile(const Channel &room, const QString &frame, Id exceptUser) override;
    void remotePresence(const QString &instance, Id userId, bool online, const QList<Id> &roomIds) override;
    void remotePresenceSnapshot(const QString &instance, const QList<Id> &online, qint64 graceMs) override;
    void remotePresenceSnapshotRequested() override;
    void remotePresenceRooms(const QString &instance, const QHash<Id, QList<Id>> &roomsByUser) override;
    void remoteLoad(const QString &instance, qint64 connections, bool draining) override;
    void verifyChannels() override;

    [[nodiscard]] HubStats stats() const;
    // stats() and the delivery-time summary as a JSON object, for the admin stats route.
    [[nodiscard]] QByteArray statsJson() const;

private:
    static constexpr qint64 kMaxReconnectWindowMs = 60000;
    // The EventSink calls come from database workers and HTTP threads. Each starts with
    //   if (offNetworkThread()) return requeue([this, args] { call(args); });
    // the same call queued to the network thread with its arguments (tested first, so that an
    // argument moved into the lambda is moved only when the call does hop).
    [[nodiscard]] bool offNetworkThread() const { return QThread::currentThread() != thread(); }
    template<typename F> void requeue(F &&again)
    {
        QMetaObject::invokeMethod(this, std::forward<F>(again), Qt::QueuedConnection);
    }
    // The hint of welcome and pong: this instance's connections over HubOptions::reconnectRate.
    [[nodiscard]] std::optional<qint64> reconnectWindowMs() const;
    // This instance's connections over `rate` a second (> 0), at most kMaxReconnectWindowMs.
    [[nodiscard]] qint64 windowMs(int rate) const;
    void welcomed(ClientConnection &c, const ws::Hello &hello, const User &user, const ws::SeqMap &channels,
                  const QHash<Id, int> &roomMembers);
    void closed(ClientConnection &c);
    void handle(ClientConnection &c, const ws::ClientFrame &frame, qint64 arrivalNs);
    void submitWrite(ClientConnection &c, WriteOp op, ws::FrameId frameId, qint64 arrivalNs);
    void typing(ClientConnection &c, Id roomId);
    void markRead(ClientConnection &c, Id roomId, Seq seq);
    void history(ClientConnection &c, const ws::HistoryRequest &request);
    // Who of a room is online, on demand (rooms over presenceRoomLimit push none).
    void roomPresence(ClientConnection &c, const ws::RoomPresenceRequest &request);
    void committed(QList<Outgoing> events);
    void revokeTokenHere(const QByteArray &tokenDigest);
    void sweep();
    // Every second: tell the others this instance's load; send over its share elsewhere.
    void rebalance(qint64 nowMs);

    DbPool *m_db;
    HubOptions m_options;
    QElapsedTimer m_clock; // monotonic, for deadlines and latencies (shared by the parts)
    EventSink *m_relay = nullptr;
    ReadRouting *m_reads = nullptr; // read markers are writes too (read-your-writes)
    std::unique_ptr<GroupCommit> m_commit;
    std::unique_ptr<HubMetrics> m_metrics;
    std::unique_ptr<ClientConnections> m_connections;
    std::unique_ptr<SubscriptionTable> m_subscriptions;
    std::unique_ptr<ChannelReplay> m_replay;
    std::unique_ptr<PresenceTracker> m_presence;
    QHash<std::pair<Id, Id>, qint64> m_lastTyping; // (user, room) -> ms
    QTimer m_sweepTimer;
    Rebalancer m_rebalancer;
    bool m_draining = false;
    qint64 m_lastLoadReportMs = -1;
    qint64 m_lastRebalanceMs = 0;
};

} // namespace taskmaster::server
