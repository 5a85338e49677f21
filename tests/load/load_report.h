// RunReport: everything one tm-load run measured, merged from the workers, with the samples of
// the watched server processes; rendered as a table for people and as JSON for machines, and
// checked against the thresholds of the command line.
// Thread: main.
#pragma once

#include "tests/load/load_config.h"
#include "tests/load/load_stats.h"

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
};

struct RunReport {
    LoadConfig config;
    QString runId;
    QDateTime startedAt;
    int rooms = 0;
    double seedSeconds = 0;
    double connectSeconds = 0;
    double sendSeconds = 0; // warm-up + measured
    double drainSeconds = 0;
    bool drained = true; // every ack and every expected event arrived before the drain deadline
    bool aborted = false; // the hard cap stopped the run
    QString setupError; // seeding or start failed
    Counters counters;
    LatencySamples::Summary delivery;
    LatencySamples::Summary ack;
    QList<TimelinePoint> timeline;
    QList<LostDetail> lostDetails; // the first few channels with losses
    QList<ProcessSeries> servers;
    ProcessSeries self; // tm-load itself

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
    // serverCpu, loadCpu, kbPerConn, exit); -1 where a figure does not apply.
    [[nodiscard]] QString resultLine() const;
    [[nodiscard]] QJsonObject toJson() const;
};

} // namespace taskmaster::load
