// RunReport: everything one tm-load run measured, merged from the workers, with the samples of
// the watched server processes; rendered as a table for people and as JSON for machines, and
// checked against the thresholds of the command line.
// Thread: main.
#pragma once

#include "tools/tm-load/db_verify.h"
#include "tools/tm-load/load_config.h"
#include "tools/tm-load/load_stats.h"
#include "tools/tm-load/rest_load.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QStringList>

#include <optional>

namespace taskmaster::load {

struct ProcessSample {
    double atSeconds = 0; // since the run started
    qint64 rssBytes = 0;
    double cpuSeconds = 0;
    int openFds = -1; // -1: /proc/PID/fd could not be listed
};

// RSS and CPU of one process over the run. The marks are the samples taken when sending (or the
// idle wait) started and ended, and at the very start and end.
struct ProcessSeries {
    qint64 pid = 0;
    bool vanished = false; // the process was gone at some sample
    QList<ProcessSample> samples;
    std::optional<ProcessSample> start, loadStart, loadEnd, end;

    [[nodiscard]] qint64 maxRssBytes() const;
    // CPU use between loadStart and loadEnd, in percent of one core; nullopt without both marks.
    [[nodiscard]] std::optional<double> loadCpuPercent() const;
    // CPU seconds between loadStart and loadEnd; nullopt without both marks.
    [[nodiscard]] std::optional<double> loadCpuSeconds() const;
};

// What a run's work cost in CPU: the CPU seconds of a group of processes over the measured window
// per 1,000 messages sent and per 100,000 deliveries received in that window (comparable across
// rates and room sizes). known is false when no process of the group had both marks; complete is
// false when some had not (a process killed or restarted in the window: its CPU is missing).
struct CpuCost {
    bool known = false;
    bool complete = true;
    double cpuSeconds = 0;
    std::optional<double> perThousandMessages; // nullopt when nothing was sent
    std::optional<double> perHundredThousandDeliveries; // nullopt when nothing was received
};
// The cost of the processes' CPU over the window for that many messages and deliveries.
[[nodiscard]] CpuCost cpuCost(const QList<ProcessSeries> &processes, qint64 messages, qint64 deliveries);

// One step of a scenario as it went.
struct StageReport {
    LoadStage stage;
    double fromSeconds = 0; // since sending started
    qint64 sent = 0;
    LatencySamples::Summary delivery; // of the messages sent in the step
    LatencySamples::Summary connect; // of the connections opened in the step
};

// The injected fault (--fault-command).
struct FaultReport {
    bool started = false;
    double startedAt = 0; // seconds since sending started
    double endedAt = -1; // -1: still running when the run ended (killed then)
    int exitCode = -1;
    QString output; // its last lines
};

struct RestRouteReport {
    QString route;
    qint64 requests = 0;
    qint64 errors = 0;
    QMap<int, qint64> statuses;
    LatencySamples::Summary latency;
};

// --period-seconds: one period of the send phase.
struct PeriodReport {
    double fromSeconds = 0; // since sending started
    double toSeconds = 0;
    qint64 sent = 0;
    qint64 acked = 0;
    qint64 delivered = 0;
    LatencySamples::Summary delivery; // of the deliveries received in the period
    QList<ProcessSample> servers; // each --server-pid process's last sample in the period (as listed)
};

// What one run measured: a plain value (over 20 public fields on purpose: every figure the table,
// the RESULT line and the JSON report print), filled by LoadRun and read by the writers below.
struct RunReport {
    LoadConfig config;
    QString runId;
    QDateTime startedAt;
    int rooms = 0;
    double seedSeconds = 0;
    double connectSeconds = 0;
    double connectServerCpuSeconds = 0; // the --server-pid processes' CPU during the connect phase
    double connectProxyCpuSeconds = 0; // the --proxy-pid processes' CPU during the connect phase
    double sendSeconds = 0; // warm-up + measured
    double drainSeconds = 0;
    bool drained = true; // every ack and every expected event arrived before the drain deadline
    bool aborted = false; // the hard cap stopped the run
    QString setupError; // seeding or start failed
    Counters counters;
    LatencySamples::Summary delivery;
    LatencySamples::Summary deliverySame; // sender and receiver on one instance
    LatencySamples::Summary deliveryCross; // on different instances
    LatencySamples::Summary deliveryKept; // received on a connection never lost
    LatencySamples::Summary deliveryKeptFault; // of which sent after the fault started
    // Received on a kept connection, sent again after the sender's own reconnect (not in the two
    // above: their latency is the sender's outage)
    LatencySamples::Summary deliveryResent;
    LatencySamples::Summary deliveryResumed; // received after the receiver's reconnect
    // --big-room-members: the big room's id, its sends and its deliveries (none of the delivery
    // figures above counts them).
    Id bigRoomId = 0;
    qint64 bigRoomSent = 0;
    LatencySamples::Summary deliveryBig;
    LatencySamples::Summary ack;
    LatencySamples::Summary connect; // first attempt to first welcome
    LatencySamples::Summary reconnect; // an open connection lost to welcome again, per reconnect
    QList<StageReport> stages;
    FaultReport fault;
    DbVerification verification;
    QList<RestRouteReport> rest;
    double restSeconds = 0; // how long the REST mix ran
    QList<TimelinePoint> timeline;
    QList<PeriodReport> periods; // --period-seconds
    QList<LostDetail> lostDetails; // the first few channels with losses
    QList<ProcessSeries> servers;
    QList<ProcessSeries> proxies; // --proxy-pid: the balancer's workers
    ProcessSeries self; // tm-load itself
    // Counted between the loadStart and loadEnd marks (the window of the CPU figures): send
    // frames written and fresh durable events received.
    qint64 windowSent = 0;
    qint64 windowDelivered = 0;
    [[nodiscard]] CpuCost serverCost() const { return cpuCost(servers, windowSent, windowDelivered); }
    [[nodiscard]] CpuCost proxyCost() const { return cpuCost(proxies, windowSent, windowDelivered); }

    // Idle mode: the servers' RSS (summed) before the connections opened and at the end.
    qint64 idleRssBeforeBytes = 0;
    qint64 idleRssAfterBytes = 0;
    [[nodiscard]] std::optional<double> kbPerConnection() const;
    // Messages per second sent inside the measurement window.
    [[nodiscard]] double measuredRate() const;

    // The thresholds this run missed, as sentences; empty when it passed.
    [[nodiscard]] QStringList failures() const;
    // 0 passed, 1 a threshold missed, 2 setup failed, 3 aborted by the hard cap.
    [[nodiscard]] int exitStatus() const;

    [[nodiscard]] QString table() const;
    // One line for scripts: "RESULT key=value ..." (connected, sent, rate, ackP50, ackP99, p50, p95,
    // p99, max, lost, dup, ooo, unacked, rateLimited, disconnects, serverRssStart/EndKb,
    // serverCpu, loadCpu, kbPerConn, connectP95, reconnects, reconnectP50/P95/Max, ..., exit); -1
    // where a figure does not apply.
    [[nodiscard]] QString resultLine() const;
    [[nodiscard]] QJsonObject toJson() const;
};

// v with that many decimals: how the table, the RESULT line and the plot data print figures.
[[nodiscard]] QString fixedPoint(double v, int decimals = 2);

// Draws the timeline (latency p50/p95/p99 and max, messages sent and delivered per second,
// connections, REST requests per second) into a PNG with gnuplot; the data file sits beside it.
[[nodiscard]] MaybeError writePlot(const RunReport &report, const QString &pngFile);

} // namespace taskmaster::load
