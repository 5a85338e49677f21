// The standard Prometheus process metrics of this process (process_resident_memory_bytes,
// process_cpu_seconds_total, ...), read from /proc (process_stats.h) when /metrics is rendered.
// Owns: nothing. Thread: the callbacks run where the registry renders (network thread).
#pragma once

namespace taskmaster::server {

class MetricsRegistry;

// Registers callback metrics for this process: process_resident_memory_bytes,
// process_virtual_memory_bytes, process_cpu_seconds_total, process_open_fds, process_max_fds,
// process_start_time_seconds, process_threads. Values are read at render time (NaN if /proc
// cannot be read).
void registerProcessMetrics(MetricsRegistry &registry);

} // namespace taskmaster::server
