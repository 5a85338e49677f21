// RealtimeSession: the client's WebSocket to one server (docs/protocol.md, "WebSocket"). Opens
// the socket with the session's token, says hello with the seq up to which every channel was
// seen (resume), keeps each channel's seqs in a SeqGapTracker (a gap asks for history), pings
// every 15 s (no frame for a whole period: the socket is dropped), and reconnects after a loss
// with taskmaster::Backoff (d = min(max, base * 2^(n-1)); the first attempt anywhere in [0, d],
// later ones in [d/2, d]), or when the server asks to (`reconnect`: draining or busy; after
// [retryAfterMs, 2 retryAfterMs]). Closed with
// ws::CloseCode::Unauthorized or Revoked, it does not reconnect: sessionRejected().
// It does not interpret what the frames mean for the user: durable events go out through
// channelEvent(), the other application frames (ack, error, typing, read, presence) through
// frameReceived(); Connection routes both to the feature controllers.
// Owns: the QWebSocket, the reconnect and heartbeat timers, the Backoff, the per-channel seq
// trackers, the frame id counter. Thread: the GUI thread.
//
// State: Offline (stopped, or waiting to reconnect), Connecting (socket opening, waiting for
// welcome), Resyncing (welcomed, replays of channels that were behind not finished yet), Online.
#pragma once

#include "shared/codec/ws_frames.h"
#include "shared/core/backoff.h"
#include "shared/domain/types.h"
#include "shared/models/seq_gap_tracker.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <QWebSocket>
#include <QtQmlIntegration/qqmlintegration.h>

#include <optional>

namespace taskmaster::client {

// What a welcome changed about the channels the session knew.
struct WelcomeOutcome {
    QList<Channel> dropped; // no longer listed: the membership ended while away
    bool newChannels = false; // listed but not seen before (a REST snapshot is the start point)
    bool first = false; // the first welcome of the session (the login loads the lists anyway)
};

class RealtimeSession : public QObject { // not final: Qt 6.4 QML registration derives from it
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("provided by Connection")
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    Q_PROPERTY(QString stateName READ stateName NOTIFY stateChanged)
    // Reconnect attempts since the last welcome.
    Q_PROPERTY(int reconnectAttempt READ reconnectAttempt NOTIFY stateChanged)

public:
    enum State { Offline, Connecting, Resyncing, Online };
    Q_ENUM(State)

    explicit RealtimeSession(QObject *parent = nullptr);
    ~RealtimeSession() override;

    [[nodiscard]] State state() const { return m_state; }
    [[nodiscard]] QString stateName() const;
    [[nodiscard]] int reconnectAttempt() const { return m_backoff.attempts(); }
    // Backoff limits (defaults 500 ms and 30 s).
    void setReconnectLimits(qint64 baseMs, qint64 maxMs) { m_backoff.setLimits(baseMs, maxMs); }

    // Connects to serverUrl's /ws (ws:// or wss://) and keeps connecting until stop().
    void start(const QString &serverUrl, const QByteArray &token);
    // Closes the socket and forgets every channel (logout).
    void stop();
    // While waiting to reconnect: try now instead of at the end of the backoff delay.
    Q_INVOKABLE void reconnectNow();

    // Welcomed on the current socket: frames sent now reach the server as the user.
    [[nodiscard]] bool isWelcomed() const { return m_welcomed; }
    // The welcome's presenceRoomLimit: rooms with more members get no presence pushed (ask with
    // roomPresence); 0: no limit.
    [[nodiscard]] qint64 presenceRoomLimit() const { return m_presenceRoomLimit; }
    [[nodiscard]] qint64 nextFrameId() { return ++m_frameId; }
    // Sent when the socket is open; dropped otherwise (resume covers what was missed).
    void send(const ws::ClientFrame &frame);
    // Asks for up to `limit` (1..200) events of `channel` after `after`.
    void requestHistory(const Channel &channel, Seq after, int limit);
    // The seq up to which every event of the channel was seen; nullopt before its first.
    [[nodiscard]] std::optional<Seq> seenSeq(const Channel &channel) const;
    // Seqs seen by an earlier run (the local store): the next hello resumes these channels from
    // there. Only before start() (stop() forgets them).
    void seedSeen(const QHash<Channel, Seq> &seen);
    // The user left the channel: no resume for it.
    void forgetChannel(const Channel &channel) { m_channels.remove(channel); }

Q_SIGNALS:
    void stateChanged();
    // A welcome arrived; the state changes after the receivers ran (pending sends go out then).
    void welcomed(const taskmaster::client::WelcomeOutcome &outcome);
    // A durable event, live, replayed or from history; fresh: its seq was not seen before.
    void channelEvent(const taskmaster::ChannelEvent &event, bool fresh);
    // ack, error, typing, read and presence frames.
    void frameReceived(const taskmaster::ws::ServerFrame &frame);
    // A channel that was behind at the welcome caught up: replayed (the missed events came
    // through channelEvent) or not (too far behind: the receiver reloads it over REST).
    void channelCaughtUp(const taskmaster::Channel &channel, bool replayed);
    // The socket closed unexpectedly; a reconnect is scheduled.
    void socketLost();
    // Closed with Unauthorized or Revoked: the token is no good any more.
    void sessionRejected();

private:
    void setState(State s);
    void open();
    void onConnected();
    void onSocketState(QAbstractSocket::SocketState state);
    void scheduleReconnect(qint64 hintMs = 0); // hintMs: a `reconnect` frame's retryAfterMs
    void heartbeat();
    void onText(const QString &text);
    void onWelcome(const ws::Welcome &welcome);
    void onEvent(const ChannelEvent &event);
    void onResync(const Channel &channel);
    void onCaughtUp(const Channel &channel);

    QWebSocket m_socket;
    QString m_serverUrl;
    QByteArray m_token;
    State m_state = Offline;
    bool m_wanted = false; // between start() and stop()
    bool m_welcomed = false;
    qint64 m_presenceRoomLimit = 0;
    Backoff m_backoff {500, 30000};
    QTimer m_reconnectTimer;
    QTimer m_heartbeatTimer;
    bool m_awaitingPong = false;
    qint64 m_frameId = 0;

    QHash<Channel, SeqGapTracker> m_channels;
    QHash<Channel, Seq> m_welcomeSeqs;
    QSet<Channel> m_awaitingResume;
};

} // namespace taskmaster::client
