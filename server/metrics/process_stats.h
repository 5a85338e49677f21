// Process statistics from /proc/<pid> (Linux): resident and virtual memory, CPU time, threads,
// open and maximum file descriptors, start time. readProcessStats(pid) serves the load tool,
// which watches server processes; process_metrics.h exposes this process's figures under the
// standard Prometheus names. Part of tm_server_runtime (no metrics, no Qt beyond QtCore).
// Owns: nothing (every call reads /proc afresh). Threads: any; each call is a few small file
// reads, so keep it off hot paths (the registered callbacks run at render time).
#pragma once

#include <QtGlobal>

#include <optional>

namespace taskmaster::server {

struct ProcessStats {
    qint64 pid = 0;
    qint64 residentBytes = 0; // RSS
    qint64 virtualBytes = 0;
    double userCpuSeconds = 0;
    double systemCpuSeconds = 0;
    int threads = 0;
    int openFds = -1; // -1 when /proc/<pid>/fd cannot be listed (another user's process)
    qint64 maxFds = -1; // the soft limit; -1 when unlimited or unknown
    double startTimeSeconds = 0; // since the Unix epoch

    [[nodiscard]] double cpuSeconds() const { return userCpuSeconds + systemCpuSeconds; }
};

// nullopt when the process does not exist or /proc/<pid>/stat cannot be read.
std::optional<ProcessStats> readProcessStats(qint64 pid);
// This process.
std::optional<ProcessStats> readProcessStats();
// Open file descriptors of a process, or -1. For this process the descriptor used to list the
// directory is not counted.
int countOpenFds(qint64 pid);

// Raises this process's soft limit of open files to the hard one (every socket is a descriptor;
// the usual soft limit of 1024 refuses connections long before memory or CPU run out). Returns
// the limit now in force, -1 when it cannot be read.
qint64 raiseOpenFilesLimit();
// The fields that come from /proc/<pid>/stat alone (memory, CPU, threads, start time; see
// proc(5)); pid 0 means this process. False when the file cannot be read or parsed.
bool readStatInto(qint64 pid, ProcessStats &stats);
// The soft "Max open files" limit from /proc/<pid>/limits, or -1.
qint64 readMaxFds(qint64 pid);

} // namespace taskmaster::server
