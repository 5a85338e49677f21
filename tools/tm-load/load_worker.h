// LoadWorker: one event-loop thread's share of the simulated users. It creates its SimClients in
// its own thread, opens them with a bounded number of handshakes in flight, sends its share of
// the total message rate round-robin over its connected users (a precise timer; the schedule is
// open-loop, so a slow server does not slow the senders down), and hands snapshots and final
// results to the main thread.
// Owns: its clients and their WorkerTally. Thread: the worker thread it was moved to; the main
// thread calls the public functions through QMetaObject::invokeMethod (blocking or queued).
#pragma once

#include "tools/tm-load/sim_client.h"

#include <QList>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <deque>
#include <map>
#include <vector>

namespace taskmaster::load {

struct ClientSpec {
    int index = 0; // connection number, for clientIds
    SeededUser user;
    Id roomId = 0; // 0: never sends
    Id bigRoomId = 0; // --big-room-members: the big room, for its members
};

struct SendPlan {
    double rate = 0; // messages per second of this worker
    double bigRate = 0; // of them apart: into the big room, from its members on this worker
    qint64 startNs = 0; // schedule origin (nowNs() clock)
    qint64 measureFromNs = 0;
    qint64 measureToNs = 0;
    int bodyBytes = 64;
    std::vector<qint64> stageStartsNs; // scenario steps (their figures are kept apart)
    qint64 faultAtNs = std::numeric_limits<qint64>::max(); // the fault command's start (if any)
};

struct WorkerSnapshot {
    Counters counters;
    qint64 open = 0; // welcomed and connected now
    qint64 pendingAcks = 0;
    std::vector<qint64> recent; // delivery latencies since the previous snapshot
    std::vector<qint64> recentKept; // of them, on connections never lost
    // The longest the worker's thread was late for its 2 ms send tick since the previous
    // snapshot: a stall of the load tool itself (its thread busy with closes, handshakes or the
    // machine's other processes), during which it neither sends nor reads; every latency measured
    // across it includes it.
    qint64 stallMaxNs = 0;
};

struct WorkerResult {
    Counters counters;
    QList<LostDetail> lostDetails; // the first few
    LatencySamples delivery;
    LatencySamples deliverySame;
    LatencySamples deliveryCross;
    LatencySamples deliveryKept;
    LatencySamples deliveryKeptFault;
    LatencySamples deliveryResent;
    LatencySamples deliveryResumed;
    LatencySamples deliveryBig;
    qint64 bigRoomSent = 0;
    LatencySamples ack;
    LatencySamples connect;
    LatencySamples reconnect;
    std::vector<StageTally> stages;
};

class LoadWorker final : public QObject {
    Q_OBJECT
public:
    LoadWorker(QUrl wsUrl, QList<ClientSpec> clients, int connectConcurrency, QString runId, QObject *parent = nullptr);
    ~LoadWorker() override;

    // ---- Called in the worker's thread ----
    // Opens the clients whose connection number is below upTo (all: -1) that are not open yet,
    // with at most `concurrency` first handshakes in flight (0: the constructor's).
    void startConnecting(qint64 attemptTimeoutNs, int upTo = -1, int concurrency = 0);
    void startSending(const SendPlan &plan);
    // A new rate from now on (the schedule restarts at the current time).
    void setRate(double rate);
    void stopSending();
    // The clients' reconnect Backoff (before startConnecting()).
    void setReconnectLimits(qint64 baseMs, qint64 maxMs)
    {
        m_tally.reconnectBaseMs = baseMs;
        m_tally.reconnectMaxMs = maxMs;
    }
    // --verify-db: keep every ack for the comparison with the stored messages.
    void recordAcks() { m_tally.recordAcks = true; }
    [[nodiscard]] std::vector<AckRecord> takeAcks() { return std::exchange(m_tally.acks, {}); }
    [[nodiscard]] DbVerification verify(const std::map<Channel, DbChannel> &db) const;
    [[nodiscard]] WorkerSnapshot snapshot();
    [[nodiscard]] qint64 pendingAcks() const;
    [[nodiscard]] std::map<Channel, Seq> lastSeqs() const;
    [[nodiscard]] qint64 lagging(const std::map<Channel, Seq> &finals) const;
    // Closes every connection and returns the figures, lost and expected against `finals`.
    [[nodiscard]] WorkerResult finish(const std::map<Channel, Seq> &finals);

private:
    void openMore();
    void onSendTick();
    SimClient *nextSender(bool big = false);
    // Sends what the schedule of `rate` asks for by now (`scheduled` so far) from nextSender(big).
    void sendDue(qint64 now, double rate, qint64 &scheduled, bool big);

    QUrl m_url;
    QList<ClientSpec> m_specs;
    int m_connectConcurrency;
    WorkerTally m_tally;
    std::vector<SimClient *> m_clients; // children of this object
    std::deque<SimClient *> m_toOpen;
    std::size_t m_queued = 0; // m_clients[0, m_queued) were queued to open
    QSet<SimClient *> m_holdingSlot; // first attempts in flight
    int m_opening = 0;
    qint64 m_attemptTimeoutNs = 0;
    static constexpr std::size_t kHeartbeatSweeps = 60; // sweeps of 250 ms: a ping every 15 s
    std::size_t m_sweeps = 0;
    QTimer m_sweepTimer {this};
    QTimer m_sendTimer {this};
    SendPlan m_plan;
    qint64 m_scheduled = 0; // sends the schedule has asked for so far
    StallMeter m_stall; // of the send tick, since the previous snapshot
    std::size_t m_nextSender = 0;
    qint64 m_bigScheduled = 0; // the big room's sends so far
    std::size_t m_nextBigSender = 0;
};

} // namespace taskmaster::load
