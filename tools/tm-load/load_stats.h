// The figures tm-load computes, as plain values that the worker threads fill and the main thread
// merges: latency samples with exact percentiles, the seq accounting of one channel on one
// connection (lost, duplicated, out of order, against the welcome's seq), the counters of a run,
// and per-second timeline points. No Qt objects, no I/O, so the unit tests drive them with
// tables. Thread: any; each value is owned by one thread at a time (a worker fills it, the main
// thread reads it after the worker handed it over).
#pragma once

#include "shared/domain/types.h"
#include "shared/models/seq_gap_tracker.h"

#include <QMap>
#include <QString>

#include <algorithm>
#include <utility>
#include <vector>

namespace taskmaster::load {

// Latency samples in nanoseconds. Percentiles are exact (nearest rank on the sorted samples):
// fine up to a few million samples (8 bytes each).
class LatencySamples final {
public:
    void add(qint64 ns)
    {
        m_ns.push_back(ns);
        m_sorted = false;
    }
    void merge(const LatencySamples &other);
    void merge(std::vector<qint64> &&other);
    void clear() { m_ns.clear(); }
    [[nodiscard]] qsizetype count() const { return qsizetype(m_ns.size()); }
    [[nodiscard]] bool isEmpty() const { return m_ns.empty(); }
    [[nodiscard]] const std::vector<qint64> &samples() const { return m_ns; }
    [[nodiscard]] std::vector<qint64> take() { return std::exchange(m_ns, {}); }

    struct Summary {
        qint64 count = 0;
        double minMs = 0;
        double meanMs = 0;
        double p50Ms = 0;
        double p95Ms = 0;
        double p99Ms = 0;
        double p999Ms = 0;
        double maxMs = 0;
        friend bool operator==(const Summary &, const Summary &) = default;
    };
    // Sorts the samples (once; later calls without new samples reuse the order). All zero when empty.
    [[nodiscard]] Summary summary();

    // Nearest-rank percentile (0 < p <= 100) of ascending `sorted`: the smallest sample such
    // that at least p % of the samples are <= it. 0 for an empty list.
    [[nodiscard]] static qint64 percentile(const std::vector<qint64> &sorted, double p);

private:
    std::vector<qint64> m_ns;
    bool m_sorted = true;
};

// What one durable event did to a channel's account.
enum class Arrival {
    Fresh, // the next seq, or a later one (a gap opens)
    Late, // fresh but arrived after a higher seq: out of order (it may fill a gap)
    Duplicate, // already seen, or at/below the seq the account started from
};

// The seq accounting of one channel on one simulated connection, from the welcome's seq on.
// Every seq above the start up to the channel's final seq (the highest seq anyone saw or got
// acked) is expected exactly once and in order.
class ChannelAccount final {
public:
    explicit ChannelAccount(Seq start = 0);

    // A durable event that arrived on the live stream (or a resume replay).
    Arrival receive(Seq seq);
    // An event read to fill a known hole (history after a resync): counted as delivered or as a
    // duplicate, never as out of order.
    Arrival fill(Seq seq);

    [[nodiscard]] Seq start() const { return m_start; }
    [[nodiscard]] Seq lastSeq() const { return m_tracker.lastSeq(); }
    [[nodiscard]] Seq contiguousSeq() const { return m_tracker.contiguousSeq(); }
    [[nodiscard]] bool caughtUp(Seq finalSeq) const { return contiguousSeq() >= finalSeq; }

    [[nodiscard]] qint64 delivered() const { return m_delivered; }
    [[nodiscard]] qint64 duplicates() const { return m_duplicates; }
    [[nodiscard]] qint64 outOfOrder() const { return m_outOfOrder; }
    // Seqs start+1..finalSeq: how many were expected, and how many never arrived.
    [[nodiscard]] qint64 expected(Seq finalSeq) const;
    [[nodiscard]] qint64 lost(Seq finalSeq) const;
    // The seqs counted by lost(), as ranges.
    [[nodiscard]] QList<SeqRange> missing(Seq finalSeq) const;

private:
    Arrival feed(Seq seq, bool live);

    Seq m_start = 0;
    SeqGapTracker m_tracker;
    qint64 m_delivered = 0;
    qint64 m_duplicates = 0;
    qint64 m_outOfOrder = 0;
};

// Counters of a run (per worker, merged by adding).
struct Counters {
    qint64 sent = 0; // send frames written (first attempts)
    qint64 sentMeasured = 0; // of which sent inside the measurement window
    qint64 resent = 0; // unacknowledged sends written again after a reconnect (same clientId)
    qint64 notSent = 0; // sends the schedule asked for when no connected sender could make them (a fault)
    qint64 lateDropped = 0; // sends dropped because the tool fell more than 250 ms behind its schedule
    qint64 acked = 0;
    qint64 sendErrors = 0; // error frames answering a send
    qint64 rateLimited = 0; // of which rate_limited
    qint64 errorFrames = 0; // error frames answering nothing of ours
    qint64 delivered = 0; // fresh durable events received
    qint64 fanoutDelivered = 0; // of which this run's messages sent by another connection
    qint64 duplicates = 0;
    qint64 outOfOrder = 0;
    qint64 expected = 0; // filled at the end from the final seqs
    qint64 lost = 0; // filled at the end
    qint64 volatileEvents = 0; // typing, read, presence
    qint64 presenceOnline = 0; // of which presence frames saying one user came online
    qint64 presenceOffline = 0; // one user went offline
    qint64 presenceLists = 0; // the list form (the snapshot after welcome, gathered changes)
    qint64 connected = 0; // first welcomes
    qint64 connectFailures = 0; // attempts that did not reach welcome
    qint64 disconnects = 0; // closed by the server or the network while open
    qint64 reconnects = 0; // welcomes after a disconnect
    qint64 resumedEvents = 0; // events the server reported replayed ("resumed" from..to)
    qint64 resyncs = 0;
    qint64 historyFilled = 0; // events read with the history frame after a resync
    qint64 undecodable = 0; // frames the shared codec refused
    QMap<int, qint64> closeCodes; // close code -> times
    QMap<QString, qint64> welcomesByInstance; // the welcome's instance name -> welcomes (reconnects too)

    Counters &operator+=(const Counters &o);
};

// Where events went missing: one channel of one connection (the report keeps the first few).
struct LostDetail {
    int connection = 0;
    Id userId = 0;
    Channel channel;
    Seq start = 0; // the welcome's seq
    Seq contiguous = 0;
    Seq last = 0;
    Seq finalSeq = 0;
    QList<SeqRange> missing;
};

// How late a periodic timer fired: tick() on every timeout with the time and the interval; take()
// returns the longest lateness since the previous take(). A worker whose thread is busy (thousands
// of closes or handshakes at once, or the machine's other processes) neither sends nor reads
// meanwhile, and every latency it measures across that time includes it.
class StallMeter final {
public:
    void tick(qint64 nowNs, qint64 intervalNs)
    {
        if (m_lastNs > 0)
            m_maxNs = std::max(m_maxNs, nowNs - m_lastNs - intervalNs);
        m_lastNs = nowNs;
    }
    void restart() { m_lastNs = 0; } // the timer was stopped: the gap is no stall
    qint64 take() { return std::exchange(m_maxNs, 0); }

private:
    qint64 m_lastNs = 0;
    qint64 m_maxNs = 0;
};

// One second of the run, for the progress line and the JSON timeline.
struct TimelinePoint {
    double atSeconds = 0; // since sending started
    qint64 connected = 0;
    double sentPerSecond = 0;
    double deliveredPerSecond = 0;
    double ackedPerSecond = 0;
    LatencySamples::Summary latency; // delivery latency of the samples of this second
    LatencySamples::Summary keptLatency; // of them, to clients that never lost their connection
    double stallMaxMs = 0; // the longest a worker thread of the load tool was late (WorkerSnapshot)
    qint64 errors = 0; // cumulative: send errors + connection failures + disconnects
    double restPerSecond = 0; // REST requests answered in this second
    double restP95Ms = 0;
    qint64 restErrors = 0; // cumulative
};

} // namespace taskmaster::load
