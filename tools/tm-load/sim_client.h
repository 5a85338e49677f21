// SimClient: one simulated user on one WebSocket, speaking docs/protocol.md through the shared frame
// codec: hello with the token (and resume after a reconnect), sends that carry this process's
// monotonic send time in the body, acks, the seq accounting of every channel it is subscribed
// to, end-to-end latency of the messages other connections sent, reconnect with resume when the
// server closes it, history reads after a resync.
// WorkerTally: what the clients of one worker thread add up together.
// Owns: its QWebSocket and the channel accounts. Thread: its worker's thread (created there).
#pragma once

#include "shared/codec/ws_frames.h"
#include "shared/core/backoff.h"
#include "tools/tm-load/db_verify.h"
#include "tools/tm-load/load_stats.h"
#include "tools/tm-load/seeder.h"

#include <QHash>
#include <QObject>
#include <QUrl>
#include <QWebSocket>

#include <chrono>
#include <limits>
#include <map>

namespace taskmaster::load {

// Monotonic time of this process in nanoseconds: the same clock on every thread, so a receive
// time minus a send time written by another thread is a latency.
inline qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// The body of a measured message: "<tag><send ns> xxxx..." padded to `bytes` characters, where the
// tag names this run ("tmload <run id> "). parseSendNs() reads the send time back (nullopt when
// the body is not one of this run's).
// The sender's instance (from its welcome) follows the send time as "@<name>" when known, so a
// receiver can tell same-instance from cross-instance deliveries (parseSendInstance; empty when
// absent).
[[nodiscard]] QString messageBody(const QString &tag, qint64 sendNs, int bytes, const QString &instance = {});
[[nodiscard]] std::optional<qint64> parseSendNs(const QString &tag, const QString &body);
[[nodiscard]] QString parseSendInstance(const QString &tag, const QString &body);
// A send that goes out again after its sender's reconnect carries kResentMark after the first
// space: receivers keep its latency (the sender's outage) apart from the delivery latency.
inline constexpr QLatin1StringView kResentMark {"resent "};
[[nodiscard]] QString markResent(const QString &tag, const QString &body);
[[nodiscard]] bool isResent(const QString &tag, const QString &body);

// The figures of one step of a scenario (sends whose send time falls into it).
struct StageTally {
    qint64 fromNs = 0;
    qint64 sent = 0;
    LatencySamples delivery;
    LatencySamples connect; // first connections whose first attempt started in the step
};

struct WorkerTally {
    Counters counters;
    LatencySamples delivery; // receive - send of other connections' messages sent in the window
    LatencySamples deliverySame; // the part of it where sender and receiver were on one instance
    LatencySamples deliveryCross; // ... on different instances (through the bus)
    // The same samples split by the receiving client: on a connection it never lost (kept), and
    // on one that was lost and came back (resumed: catch-up after the outage included). During a
    // fault, kept from the fault's start on is what the clients the fault did not touch saw.
    LatencySamples deliveryKept;
    LatencySamples deliveryKeptFault; // kept, sent at or after faultAtNs
    // Received on a kept connection, but sent again by a sender that lost its own connection
    // before the ack: the latency holds the sender's outage (its reconnect time), not delivery.
    LatencySamples deliveryResent;
    LatencySamples deliveryResumed;
    // --big-room-members: deliveries of the big room's messages (sent in the window), kept apart:
    // none of the samples above has them.
    LatencySamples deliveryBig;
    qint64 bigRoomSent = 0; // sends into the big room (measured or not)
    qint64 faultAtNs = std::numeric_limits<qint64>::max(); // when the fault command starts
    qint64 reconnectBaseMs = 500; // Backoff limits (the QML client's)
    qint64 reconnectMaxMs = 30000;
    LatencySamples ack; // ack - send of own messages sent in the window
    std::vector<qint64> recent; // delivery latencies since the last progress snapshot (any phase)
    std::vector<qint64> recentKept; // those of them on connections never lost (not resent)
    std::map<Channel, Seq> ackedSeq; // highest seq an ack reported, per room channel
    QString runId; // names this run in clientIds
    QString tag; // body prefix of this run's messages: "tmload <runId> "
    qint64 measureFromNs = std::numeric_limits<qint64>::max(); // sends in [from, to) are measured
    qint64 measureToNs = std::numeric_limits<qint64>::max();
    LatencySamples connect; // first attempt to first welcome, per connection
    LatencySamples reconnect; // lost while open to welcome again, per reconnect
    std::vector<StageTally> stages; // scenario steps, by start time
    bool recordAcks = false; // --verify-db: keep every ack
    std::vector<AckRecord> acks;

    [[nodiscard]] bool measured(qint64 sendNs) const { return sendNs >= measureFromNs && sendNs < measureToNs; }
    // The step a time falls into (nullptr before the first or without steps).
    [[nodiscard]] StageTally *stageAt(qint64 ns)
    {
        for (auto it = stages.rbegin(); it != stages.rend(); ++it) {
            if (ns >= it->fromNs)
                return &*it;
        }
        return nullptr;
    }
};

class SimClient final : public QObject {
    Q_OBJECT
public:
    enum class State {
        Idle, // not opened yet
        Connecting, // TCP and upgrade
        Hello, // hello sent, waiting for welcome
        Open, // welcomed
        Backoff, // waiting to reconnect
        Stopped,
    };

    SimClient(int index, SeededUser user, Id roomId, QUrl wsUrl, WorkerTally &tally, QObject *parent = nullptr);

    void open();
    // Closes for good (the server sees a normal close); no reconnect.
    void stop();
    // Gives up an attempt that has not reached welcome after `timeoutNs`; it counts as a failure
    // and is retried.
    void checkAttempt(qint64 now, qint64 timeoutNs);

    [[nodiscard]] State state() const { return m_state; }
    [[nodiscard]] bool canSend() const { return m_state == State::Open && m_roomId > 0; }
    // --big-room-members: the big room this user is a member of (0: none).
    void setBigRoom(Id roomId) { m_bigRoomId = roomId; }
    [[nodiscard]] bool canSendBig() const { return m_state == State::Open && m_bigRoomId > 0; }
    [[nodiscard]] bool everWelcomed() const { return m_welcomes > 0; }
    [[nodiscard]] int index() const { return m_index; }
    // Writes one send frame to its room, stamped with the current time.
    // One message, its latency counted from dueNs (the schedule's time for it; nowNs() or before).
    // big: into the big room instead of its own.
    void sendMessage(int bodyBytes, qint64 dueNs, bool big = false);
    // A `ping` when open (the QML client's heartbeat; its pong carries reconnectWindowMs).
    void heartbeat();

    [[nodiscard]] qsizetype pendingAcks() const { return qsizetype(m_pending.size()); }
    // Highest seq seen per channel (the welcome's seq counts as seen).
    void collectLastSeqs(std::map<Channel, Seq> &out) const;
    // Channel accounts not yet caught up with the final seqs.
    [[nodiscard]] qint64 lagging(const std::map<Channel, Seq> &finals) const;
    // Adds delivered/duplicates/out-of-order and, against the final seqs, expected and lost.
    // Channels with losses are appended to `lost` while it holds fewer than `maxDetails`.
    void account(const std::map<Channel, Seq> &finals, Counters &c, QList<LostDetail> &lost,
                 qsizetype maxDetails) const;
    // Compares every channel stream with the database's events (channels it lacks are skipped).
    void verify(const std::map<Channel, DbChannel> &db, DbVerification &v) const;

Q_SIGNALS:
    void welcomed(bool first);
    void attemptFailed();

private:
    struct PendingSend {
        ws::Send frame;
        qint64 sendNs = 0;
    };

    void onConnected();
    void onText(const QString &text);
    void onGone();
    void onWelcome(const ws::Welcome &w);
    void onEvent(const ChannelEvent &e, qint64 receivedNs);
    void onHistory(const ws::HistoryReply &h);
    void requestHistory(const Channel &channel, Seq after);
    void scheduleReconnect();
    void write(const ws::ClientFrame &frame);

    int m_index;
    SeededUser m_user;
    QString m_instance; // of the last welcome
    qint64 m_retryAfterMs = 0; // from a `reconnect` frame, for the next reconnect
    Id m_roomId;
    Id m_bigRoomId = 0;
    QUrl m_url;
    WorkerTally &m_tally;
    QWebSocket m_socket;
    State m_state = State::Idle;
    qint64 m_attemptStartNs = 0;
    qint64 m_firstAttemptNs = 0;
    qint64 m_lostAtNs = 0; // when an open connection was lost (0: not waiting to be back)
    Backoff m_backoff;
    int m_welcomes = 0;
    int m_disconnects = 0; // open connections lost
    qint64 m_nextFrameId = 0;
    qint64 m_nextClientId = 0;
    std::map<qint64, PendingSend> m_pending; // by frame id, in send order
    std::map<Channel, ChannelAccount> m_accounts;
    std::map<Channel, Seq> m_historyTarget; // after a resync: read history up to this seq
    QHash<qint64, Channel> m_historyRequests; // frame id -> channel
};

} // namespace taskmaster::load
