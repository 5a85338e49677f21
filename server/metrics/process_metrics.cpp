#include "server/metrics/process_metrics.h"

#include "server/metrics/metrics.h"
#include "server/metrics/process_stats.h"

#include <limits>

namespace taskmaster::server {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
} // namespace

void registerProcessMetrics(MetricsRegistry &registry)
{
    // Each callback reads only what it needs; a scrape reads /proc/self/stat a few times, which
    // costs microseconds.
    const auto fromStat = [](double (*pick)(const ProcessStats &)) {
        return [pick] {
            ProcessStats stats;
            return readStatInto(0, stats) ? pick(stats) : kNaN;
        };
    };
    registry.counterCallback(QLatin1String("process_cpu_seconds_total"),
                             QLatin1String("Total user and system CPU time spent in seconds."),
                             fromStat([](const ProcessStats &s) { return s.cpuSeconds(); }));
    registry.gaugeCallback(QLatin1String("process_resident_memory_bytes"),
                           QLatin1String("Resident memory size in bytes."),
                           fromStat([](const ProcessStats &s) { return double(s.residentBytes); }));
    registry.gaugeCallback(QLatin1String("process_virtual_memory_bytes"),
                           QLatin1String("Virtual memory size in bytes."),
                           fromStat([](const ProcessStats &s) { return double(s.virtualBytes); }));
    registry.gaugeCallback(QLatin1String("process_start_time_seconds"),
                           QLatin1String("Start time of the process since unix epoch in seconds."),
                           fromStat([](const ProcessStats &s) { return s.startTimeSeconds; }));
    registry.gaugeCallback(QLatin1String("process_threads"), QLatin1String("Number of OS threads in the process."),
                           fromStat([](const ProcessStats &s) { return double(s.threads); }));
    registry.gaugeCallback(QLatin1String("process_open_fds"), QLatin1String("Number of open file descriptors."), [] {
        const int n = countOpenFds(0);
        return n < 0 ? kNaN : double(n);
    });
    registry.gaugeCallback(QLatin1String("process_max_fds"), QLatin1String("Maximum number of open file descriptors."),
                           [] {
                               const qint64 n = readMaxFds(0);
                               return n < 0 ? kNaN : double(n);
                           });
}

} // namespace taskmaster::server
