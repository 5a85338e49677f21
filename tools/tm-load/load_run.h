// LoadRun: one tm-load run, phase by phase, top to bottom: seed (or reuse the tokens file; one
// project per room for the REST mix), start the worker threads, connect every user (a scenario
// opens them step by step while sending instead), send at the configured rate (warm-up, then the
// measured window; the steps of a scenario; the REST mix on a thread of its own; the fault
// command at its time, sending going on until it ended) or stay idle, drain (wait for every ack
// and every expected event, with --verify-db up to the database's last seqs), check against the
// database, merge the workers' figures, sample the watched processes and report.
// Owns: the worker threads and their LoadWorkers, the REST thread, the fault process, the
// database reader, the report. Thread: main (it runs the event loop between the phases' checks).
#pragma once

#include "tools/tm-load/db_verify.h"
#include "tools/tm-load/load_config.h"
#include "tools/tm-load/load_report.h"
#include "tools/tm-load/load_worker.h"
#include "tools/tm-load/seeder.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>

#include <memory>
#include <vector>

class QProcess;
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
        int bigMembers = 0; // of them, members of the big room (--big-room-members)
    };

    MaybeError seed();
    void startWorkers();
    void startRest();
    void stopRest();
    // The fault command: started once its time has come, its end noted.
    void pollFault(qint64 now);
    void finishFault();
    // Every channel some connection follows.
    std::vector<Channel> followedChannels();
    // The final seq of every channel: the highest any connection saw or an ack reported, and with
    // --verify-db at least the database's last_seq.
    std::map<Channel, Seq> finalSeqsWithDb();
    void verifyWithDb(const std::map<Channel, Seq> &finals);
    // The messages per second a worker sends when `users` connections of the run are meant to be open.
    [[nodiscard]] double workerRate(std::size_t worker, int users, double rate) const;
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
    // sampleProcesses(mark) at the measured window's start or end, with the messages sent and the
    // deliveries received so far (the window's counts for the cost per unit of work).
    void markWindow(Mark mark);
    // --period-seconds: closes the period gathered so far into the report (at `at` seconds since
    // sending started, with these counters) and starts the next.
    void closePeriod(double at, const Counters &counters);
    // Adds to `period` what was sent, acknowledged and delivered from the start of the period being
    // gathered up to `counters`, ends it at `at` and starts the next period there.
    void extendPeriod(PeriodReport &period, double at, const Counters &counters);
    // One progress line and, while sending, one timeline point.
    void tick(const QString &phase, bool timeline);
    [[nodiscard]] double elapsedSeconds() const { return double(m_clock.nsecsElapsed()) / 1e9; }

    LoadConfig m_config;
    RunReport m_report;
    QDeadlineTimer m_deadline; // the hard cap
    QElapsedTimer m_clock; // since the run started
    SeedData m_seed;
    std::vector<Worker> m_workers;
    std::unique_ptr<DbReader> m_db;
    QProcess *m_fault = nullptr;
    qint64 m_faultAtNs = 0;
    qint64 m_faultEndNs = 0;
    QThread *m_restThread = nullptr;
    RestLoad *m_rest = nullptr;
    double m_restStartedAt = 0;
    qint64 m_restErrors = 0; // so far, for the timeline
    qint64 m_sendStartNs = 0;
    // For per-second rates in tick().
    double m_lastTickAt = 0;
    Counters m_lastTickCounters;
    Counters m_windowStartCounters; // at the measured window's start (markWindow)
    // --period-seconds: the period being gathered (since sending started; its counters at the start).
    double m_periodFrom = 0;
    Counters m_periodCounters;
    LatencySamples m_periodDelivery;
};

} // namespace taskmaster::load
