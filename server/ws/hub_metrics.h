// HubMetrics: the figures of the real-time layer. It registers the hub's Prometheus metrics
// (websocket_*, channel_gap_fills_total, group_commit_batches_total, messages_written_total,
// message_delivery_time_ms, group_commit_stage_ms), holds the counters the hub's parts increment (HubStats) and writes
// the JSON object of the admin stats route.
// Owns: the counters and the delivery-time histogram (registered in the MetricsRegistry).
// Thread: network thread.
#pragma once

#include "server/metrics/metrics.h"
#include "server/ws/group_commit.h"

#include <QByteArray>
#include <QJsonObject>

#include <array>
#include <functional>

namespace taskmaster::server {

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
    qint64 hellosWaiting = 0; // now, in the AdmissionGate's queue
    qint64 hellosQueued = 0; // hellos that had to wait for a turn
    qint64 hellosRefused = 0; // hellos answered with `reconnect` + 4013 (the queue was full)
    qint64 rebalanced = 0; // connections sent elsewhere: this instance held over its share
    GroupCommitStats groupCommit;
};

class HubMetrics final {
public:
    // Registers the metrics in `registry` (which must outlive this object); openConnections
    // counts the sockets for the websocket_active_connections gauge.
    HubMetrics(MetricsRegistry &registry, const GroupCommit &commit, std::function<qint64()> openConnections);
    HubMetrics(const HubMetrics &) = delete;
    HubMetrics &operator=(const HubMetrics &) = delete;

    // The counters, for the parts that count (connectionsActive and groupCommit are not kept
    // here: stats() reads them when asked).
    [[nodiscard]] HubStats &counters() { return m_stats; }
    // A send frame's delivery: from its arrival (monotonic ns) to the write to its last local
    // recipient (now).
    void observeDelivery(qint64 arrivalNs, qint64 nowNs) { m_delivery->observe(double(nowNs - arrivalNs) / 1e6); }
    // A stage of the write path (GroupCommit::observeStages).
    void observeCommitStage(CommitStage stage, double ms) { m_stages[int(stage)]->observe(ms); }

    [[nodiscard]] HubStats stats() const;
    // stats() and the delivery-time summary as a JSON object, for the admin stats route.
    // rebalance: the share and the other instances' reports (Hub), with `sent` added here.
    [[nodiscard]] QByteArray statsJson(qint64 users, qint64 channels, const QJsonObject &rebalance = {}) const;

private:
    const GroupCommit &m_commit;
    std::function<qint64()> m_openConnections;
    Histogram *m_delivery;
    std::array<Histogram *, 5> m_stages {}; // by CommitStage
    HubStats m_stats;
};

} // namespace taskmaster::server
