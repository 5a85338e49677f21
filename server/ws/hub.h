// Hub: the real-time side of one instance (PROTOCOL.md, "WebSocket: GET /ws"). It owns every
// WebSocket connection and its protocol state (hello/welcome, subscriptions with the last seq
// written per channel, resume and catch-up replays from the database, rate limit, malformed
// frame count, keepalive), the subscriptions of channels to connections, the order of durable
// events per channel (ChannelOrder, gaps filled from the database), the group commit of sends,
// volatile events (typing, read markers, presence with a grace period) and the hub's metrics.
// A durable event is encoded once and the same QString is written to every subscriber.
// It is the EventSink REST writes report to.
// Thread: network thread; EventSink functions may be called from any thread.
#pragma once

#include "server/storage/db_pool.h"
#include "server/ws/channel_order.h"
#include "server/ws/event_sink.h"
#include "server/ws/group_commit.h"
#include "shared/codec/ws_frames.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

class QWebSocket;

namespace taskmaster::server {

class Histogram;
class MetricsRegistry;

struct HubOptions {
    QString instance;
    // Outbound queue per connection: above half of it volatile events are dropped; above it for
    // longer than slowConsumerGraceMs, or above 8 times it at once, the connection is closed
    // with 4008 (bursts such as a replay or a group commit's fan-out pass).
    qint64 outboundLimitBytes = 1 << 20;
    int slowConsumerGraceMs = 2000;
    int replayLimit = 1000; // a resume further behind gets resync
    int helloTimeoutMs = 10000;
    int idleTimeoutMs = 60000; // nothing received for this long: closed (pinged at half)
    double rateFramesPerSecond = 100; // per connection, token bucket
    double rateBurst = 200;
    int rateGraceMs = 5000; // throttled for longer than this: closed with 4029
    int presenceGraceMs = 5000; // offline announced only after this long without a connection
    int typingIntervalMs = 1000; // at most one typing event per user and room in this time
    int gapWaitMs = 50; // an out-of-order event waits this long before the gap is read from the db
    bool groupCommit = true;
    int maxBatch = 1000;
    qint64 sessionTtlMs = 30LL * 24 * 3600 * 1000;
    std::function<qint64()> nowMs; // wall clock for stored times
};

struct HubStats {
    qint64 connectionsActive = 0; // open sockets, before or after hello
    qint64 connectionsAccepted = 0;
    qint64 eventsFannedOut = 0; // durable frames written to sockets
    qint64 volatileSent = 0;
    qint64 volatileDropped = 0;
    qint64 slowConsumerCloses = 0;
    qint64 malformedFrames = 0;
    qint64 rateLimitedFrames = 0;
    qint64 replayedEvents = 0;
    qint64 resyncs = 0;
    qint64 gapFills = 0;
    GroupCommitStats groupCommit;
};

class Hub final : public QObject, public EventSink {
    Q_OBJECT
public:
    // Registers the hub's metrics in `metrics` (which must outlive the hub).
    Hub(DbPool *db, HubOptions options, MetricsRegistry &metrics, QObject *parent = nullptr);
    ~Hub() override;

    // Takes a socket that completed the WebSocket upgrade on /ws.
    void accept(std::unique_ptr<QWebSocket> socket);
    // Draining: every connection gets a `reconnect` frame and is closed with 1001.
    void drain(const QString &reason, qint64 retryAfterMs);

    // EventSink: writes of this instance (REST). Passed on to the relay as well.
    void publish(QList<ChannelEvent> events) override;
    void subscribe(const Channel &channel, const QList<Id> &userIds, Seq seq) override;
    void closeChannel(const Channel &channel, const QList<Id> &userIds) override;
    void revokeToken(const QByteArray &tokenDigest) override;

    // Where this instance's writes go for the other instances (the cluster bus); null alone.
    void setRelay(EventSink *relay) { m_relay = relay; }
    // The REST cache whose room versions the write path bumps before acknowledging.
    void setCache(Cache *cache) { m_commit->setCache(cache); }
    // Read-your-writes marks of the write path (read replica).
    void setReadRouting(ReadRouting *reads)
    {
        m_reads = reads;
        m_commit->setReadRouting(reads);
    }
    // What the other instances wrote, as the bus receives it: applied here only. Network thread.
    void remoteEvents(QList<ChannelEvent> events);
    void remoteSubscribe(const Channel &channel, const QList<Id> &userIds, Seq seq);
    void remoteCloseChannel(const Channel &channel, const QList<Id> &userIds);
    void remoteRevokeToken(const QByteArray &tokenDigest);
    // Volatile frames and presence from other instances: to this instance's sockets only.
    void remoteVolatile(const Channel &room, const QString &frame, Id exceptUser);
    void remotePresence(const QString &instance, Id userId, bool online, const QList<Id> &roomIds);
    void remotePresenceSnapshot(const QString &instance, const QList<Id> &online);
    // Starts the periodic presence snapshot for the relay (cluster mode).
    void startPresenceRelay();
    // After the bus missed publications (Redis reconnect): every channel with local subscribers
    // is compared with the database and what is missing is delivered.
    void verifyChannels();
    [[nodiscard]] HubStats stats() const;
    // stats() and the delivery-time summary as a JSON object, for the admin stats route.
    [[nodiscard]] QByteArray statsJson() const;
    // Delivery time (ms) from a send frame's arrival to the write to its last local recipient.
    [[nodiscard]] const Histogram &deliveryTimes() const { return *m_delivery; }

private:
    struct Cursor {
        Seq sent = 0; // last durable seq written on this connection
        bool catchingUp = false; // a replay runs: live events wait in `waiting`
        Seq announceFrom = -1; // >= 0: a hello resume; send `resumed` when the replay ends
        std::map<Seq, QString> waiting;
    };
    struct Connection;
    using ConnId = quint64;

    Connection *find(ConnId id) const;
    void onText(ConnId id, const QString &text);
    void onFrame(Connection &c, const QByteArray &bytes);
    void startHello(Connection &c, const ws::Hello &hello);
    void welcomed(ConnId id, const ws::Hello &hello, const User &user, const ws::SeqMap &channels);
    void handle(Connection &c, const ws::ClientFrame &frame);
    void submitWrite(Connection &c, WriteOp op, ws::FrameId frameId);
    void typing(Connection &c, Id roomId);
    void markRead(Connection &c, Id roomId, Seq seq);
    void history(Connection &c, const ws::HistoryRequest &request);

    void publishHere(QList<Outgoing> events);
    void subscribeHere(const Channel &channel, const QList<Id> &userIds, Seq seq);
    void closeChannelHere(const Channel &channel, const QList<Id> &userIds);
    void revokeTokenHere(const QByteArray &tokenDigest);
    void release(const Outgoing &out);
    void deliver(Connection &c, const Channel &channel, Seq seq, const QString &text);
    void catchUp(ConnId id, const Channel &channel);
    void fillGaps();
    void addSubscription(Connection &c, const Channel &channel, Seq sent);
    void removeSubscription(Connection &c, const Channel &channel);
    // A local transition: told to the other instances, fanned out here (offline only when no
    // other instance still has the user).
    void presenceChanged(Id userId, const QSet<Channel> &rooms, ws::PresenceStatus status);
    void presenceHere(Id userId, const QSet<Channel> &rooms, ws::PresenceStatus status);
    [[nodiscard]] bool onlineHere(Id userId) const;
    [[nodiscard]] bool onlineElsewhere(Id userId) const;
    void expireRemotePresence();

    bool writeDurable(Connection &c, const QString &text);
    void writeVolatile(Connection &c, const QString &text);
    void writeFrame(Connection &c, const ws::ServerFrame &frame);
    void sendError(Connection &c, ws::FrameId id, const Error &error);
    void closeWith(Connection &c, int code, const QString &reason);
    void dropConnection(ConnId id);
    void sweep();

    DbPool *m_db;
    EventSink *m_relay = nullptr;
    HubOptions m_options;
    std::unique_ptr<GroupCommit> m_commit;
    Histogram *m_delivery;
    QElapsedTimer m_clock; // monotonic, for deadlines and latencies
    std::unordered_map<ConnId, std::unique_ptr<Connection>> m_connections;
    QHash<Channel, QSet<ConnId>> m_subscribers;
    QHash<Id, QSet<ConnId>> m_byUser; // open connections (after welcome)
    QHash<QByteArray, QSet<ConnId>> m_byToken;
    QHash<Id, std::pair<qint64, QSet<Channel>>> m_goingOffline; // user -> (deadline ms, rooms)
    // Users online on other instances: user -> instance -> the rooms it announced.
    QHash<Id, QHash<QString, QSet<Channel>>> m_remoteOnline;
    QHash<QString, qint64> m_remoteSeen; // instance -> last presence message (ms, m_clock)
    ReadRouting *m_reads = nullptr; // read markers are writes too (read-your-writes)
    QTimer m_presenceTimer;
    QHash<std::pair<Id, Id>, qint64> m_lastTyping; // (user, room) -> ms
    QSet<Channel> m_filling; // gap fills in flight
    ChannelOrder m_order;
    QTimer m_sweepTimer;
    QTimer m_gapTimer;
    ConnId m_nextId = 0;
    qint64 m_arrivalNs = 0; // when the frame being handled arrived (monotonic ns)
    mutable HubStats m_stats;
};

} // namespace taskmaster::server
