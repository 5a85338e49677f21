// ClientConnections: every WebSocket connection of this instance and its protocol state machine
// (docs/protocol.md 9; the limits in 9.9, the close codes in 9.10): hello within helloTimeoutMs;
// the token checked through the session lookup, at most helloConcurrency at once (the others
// queued by the AdmissionGate, refused with `reconnect` + 4013 when its queue is full); at most
// 64 early frames between hello and welcome; the per-connection frame rate (TokenBucket; closed
// with 4029 when throttled past rateGraceMs); the malformed-frame count (4000 after 10 in a row);
// keepalive (ping at half the idle timeout, closed when idle); the close handshake (a peer that
// does not finish it is cut after 5 s) and the outbound queue (volatile frames dropped above half
// its limit; 4008 for a slow consumer).
// What a welcomed connection sends is handed on, decoded, to the hub (ConnectionHandlers).
// Owns: the sockets and their ClientConnection state. Thread: network thread.
#pragma once

#include "server/ratelimit/token_bucket.h"
#include "server/storage/db_pool.h"
#include "server/ws/admission_gate.h"
#include "server/ws/hub_options.h"
#include "shared/codec/ws_frames.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QSet>
#include <QWebSocket>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

namespace taskmaster::server {

struct HubStats;

using ConnId = quint64;

// Where a connection is in one of its subscribed channels.
struct Cursor {
    Seq sent = 0; // last durable seq written on this connection
    bool catchingUp = false; // a replay runs: live events wait in `waiting`
    Seq announceFrom = -1; // >= 0: a hello resume; send `resumed` when the replay ends
    std::map<Seq, QString> waiting;
};

// One client socket and its protocol state.
struct ClientConnection {
    enum class State { AwaitingHello, Queued, Authenticating, Open, Closing };
    ConnId id = 0;
    std::unique_ptr<QWebSocket> socket;
    State state = State::AwaitingHello;
    bool welcomed = false;
    QByteArray upgradeToken;
    QByteArray tokenDigest;
    ws::Hello queuedHello; // State::Queued: the hello waiting for its turn
    qint64 admissionStartMs = 0; // when its session lookup started
    Id userId = 0;
    qint64 openedMs = 0;
    qint64 lastReceivedMs = 0;
    qint64 closingSinceMs = 0;
    qint64 overLimitSinceMs = -1; // outbound queue over its limit since then
    bool pinged = false;
    int malformedInRow = 0;
    TokenBucket frames; // the frame rate
    qint64 throttledSinceMs = -1;
    QHash<Channel, Cursor> channels; // kept by SubscriptionTable
    QList<std::pair<QByteArray, qint64>> early; // (frame, arrival ns) between hello and welcome
    QHash<Id, Seq> readPending; // room -> newest marker asked while one is being written
    QSet<Id> readInFlight;
    bool presenceList = false; // its hello asked for the list form of `presence`
    quint64 presenceFrom = 0; // PresenceTracker: its snapshot had the presence changes up to this
};

// A server frame as the text a socket writes.
[[nodiscard]] inline QString encodedText(const ws::ServerFrame &frame)
{
    return QString::fromUtf8(ws::encodeServerFrame(frame));
}

// What the state machine hands on. Called on the network thread.
struct ConnectionHandlers {
    // The session lookup accepted the hello: the connection is Open, its userId set; the early
    // frames are handled after this returns.
    // roomMembers: room id -> its member count up to HubOptions::presenceRoomLimit + 1, for each
    // of the user's rooms (empty when there is no limit).
    std::function<void(ClientConnection &, const ws::Hello &, const User &, const ws::SeqMap &channels,
                       const QHash<Id, int> &roomMembers)>
        welcomed;
    // A decoded frame of an Open connection (within the rate limit), with its arrival time (ns).
    std::function<void(ClientConnection &, const ws::ClientFrame &, qint64 arrivalNs)> frame;
    // The socket is gone; the connection is deleted after this returns.
    std::function<void(ClientConnection &)> closed;
    // The rooms whose member count the hub has (PresenceTracker): a hello reads the counts only
    // when one of the user's rooms is not among them. Called on the network thread; the hash is
    // read on a database worker (an implicitly shared copy).
    std::function<QHash<Channel, int>()> memberCounts;
};

class ClientConnections final : public QObject {
    Q_OBJECT
public:
    // `clock` (monotonic) and `stats` must outlive this object.
    ClientConnections(DbPool *db, const HubOptions &options, const QElapsedTimer &clock, HubStats &stats,
                      ConnectionHandlers handlers, QObject *parent = nullptr);
    ~ClientConnections() override;

    // Takes a socket that completed the WebSocket upgrade on /ws.
    void accept(std::unique_ptr<QWebSocket> socket);
    // Every connection gets a `reconnect` frame (when open) and is closed with 1001; the k-th of
    // n open ones is told retryAfterMs + (spreadToMs - retryAfterMs) * k / n (no spread when
    // spreadToMs is not above retryAfterMs).
    void drain(const QString &reason, qint64 retryAfterMs, qint64 spreadToMs = 0);
    // Sends up to n welcomed connections elsewhere (`reconnect` with the hint, then 1001), the
    // longest-open first; returns how many.
    qint64 shed(qint64 n, const QString &reason, qint64 retryAfterMs);
    // Timeouts: hello, idle (ping at half), slow consumer, close handshake.
    void sweep(qint64 nowMs);

    [[nodiscard]] ClientConnection *find(ConnId id) const
    {
        const auto it = m_connections.find(id);
        return it == m_connections.end() ? nullptr : it->second.get();
    }
    [[nodiscard]] qint64 size() const { return qint64(m_connections.size()); }
    // Connections not closing: what the instance carries once those told to go have gone.
    // Connections not closing: counted as they change state (the Rebalancer asks on every sweep;
    // counting 3,000 connections each time showed in the profile).
    [[nodiscard]] qint64 staying() const { return qint64(m_connections.size()) - m_closing; }

    void closeWith(ClientConnection &c, ws::CloseCode code, const QString &reason);
    // A durable frame: false when the connection was closed for a slow consumer instead. Inline:
    // the fan-out calls it once per subscriber.
    bool writeDurable(ClientConnection &c, const QString &text)
    {
        const qint64 queued = c.socket->bytesToWrite() + text.size();
        if (queued > 8 * m_options.outboundLimitBytes) {
            slowConsumer(c);
            return false;
        }
        if (queued > m_options.outboundLimitBytes && c.overLimitSinceMs < 0)
            c.overLimitSinceMs = m_clock.elapsed(); // the sweep closes it if it stays over
        c.socket->sendTextMessage(text);
        return true;
    }
    // A volatile frame: dropped when the outbound queue is over half its limit.
    void writeVolatile(ClientConnection &c, const QString &text);
    void writeFrame(ClientConnection &c, const ws::ServerFrame &frame);
    void sendError(ClientConnection &c, ws::FrameId id, const Error &error);

private:
    // Sends c elsewhere (drain, shed): the `reconnect` frame (when not empty) then 1001.
    void sendAway(ClientConnection &c, const QString &reason, const QString &reconnectText);
    void slowConsumer(ClientConnection &c);
    void onText(ConnId id, const QString &text);
    enum class FrameKind { Text, Binary };
    void onBinary(ConnId id);
    void onFrame(ClientConnection &c, const QByteArray &bytes, qint64 arrivalNs, FrameKind kind = FrameKind::Text);
    // A hello with a token: started, queued or refused by the gate.
    void admit(ClientConnection &c, ws::Hello hello);
    void startHello(ClientConnection &c, const ws::Hello &hello);
    // Starts queued hellos while the gate has room.
    void admitQueued();
    void welcomed(ConnId id, const ws::Hello &hello, const User &user, const ws::SeqMap &channels,
                  const QHash<Id, int> &roomMembers);
    void dropConnection(ConnId id);

    DbPool *m_db;
    const HubOptions &m_options;
    const QElapsedTimer &m_clock;
    HubStats &m_stats;
    ConnectionHandlers m_handlers;
    RateRule m_rate;
    AdmissionGate m_gate;
    std::unordered_map<ConnId, std::unique_ptr<ClientConnection>> m_connections;
    qint64 m_closing = 0; // of m_connections, those in State::Closing
    ConnId m_nextId = 0;
};

} // namespace taskmaster::server
