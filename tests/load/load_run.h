// LoadRun: one tm-load run, phase by phase, top to bottom: seed (or reuse the tokens file),
// start the worker threads, connect every user, send at the configured rate (warm-up, then the
// measured window) or stay idle, drain (wait for every ack and every expected event), merge the
// workers' figures, sample the watched processes and report.
// Owns: the worker threads and their LoadWorkers, the report. Thread: main (it runs the event loop
// between the phases' checks).
#pragma once

#include "tests/load/load_config.h"
#include "tests/load/load_report.h"
#include "tests/load/load_worker.h"
#include "tests/load/seeder.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>

#include <memory>
#include <vector>

class QThread;

namespace taskmaster::load {

class LoadRun final {
public:
    explicit LoadRun(LoadConfig config);
    ~LoadRun();
    LoadRun(const LoadRun &) = delete;
    LoadRun &operator=(const LoadRun &) = delete;

    // Runs every phase and returns the report (exitStatus() says how it went).
    RunReport run();

private:
    struct Worker {
        QThread *thread = nullptr;
        LoadWorker *worker = nullptr;
        int clients = 0;
    };

    Status seed();
    void startWorkers();
    void stopWorkers();
    bool connectAll();
    void sendPhase();
    void idlePhase();
    void drainAndFinish();

    // Merged over the workers (blocking calls into their threads).
    WorkerSnapshot snapshot();
    std::map<Channel, Seq> finalSeqs();

    enum class Mark { None, Start, LoadStart, LoadEnd, End };
    void sampleProcesses(Mark mark = Mark::None);
    // One progress line and, while sending, one timeline point.
    void tick(const QString &phase, bool timeline);
    [[nodiscard]] double elapsedSeconds() const { return double(m_clock.nsecsElapsed()) / 1e9; }

    LoadConfig m_config;
    RunReport m_report;
    QDeadlineTimer m_deadline; // the hard cap
    QElapsedTimer m_clock; // since the run started
    SeedData m_seed;
    std::vector<Worker> m_workers;
    qint64 m_sendStartNs = 0;
    // For per-second rates in tick().
    double m_lastTickAt = 0;
    Counters m_lastTickCounters;
};

} // namespace taskmaster::load
