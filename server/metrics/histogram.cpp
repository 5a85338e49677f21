// Histogram and HistogramSnapshot (declared in metrics.h): lock-free observation into fixed
// buckets, snapshots with quantiles, differences and merges. Thread: see metrics.h.
#include "server/metrics/metrics.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>

#include <algorithm>
#include <cmath>
#include <limits>

namespace taskmaster::server {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
} // namespace

Histogram::Histogram(Options options) : m_options(std::move(options)), m_min(kInf), m_max(-kInf)
{
    if (!m_options.bounds)
        m_options.bounds = std::make_shared<const std::vector<double>>(defaultMillisecondBuckets());
    m_counts = std::make_unique<std::atomic<quint64>[]>(m_options.bounds->size() + 1);
}

void Histogram::observe(double v) noexcept
{
    if (std::isnan(v))
        return;
    const std::vector<double> &b = *m_options.bounds;
    // The first bound >= v: buckets are "less or equal".
    const auto i = std::size_t(std::lower_bound(b.begin(), b.end(), v) - b.begin());
    m_counts[i].fetch_add(1, std::memory_order_relaxed);
    m_sum.fetch_add(v, std::memory_order_relaxed);
    double current = m_min.load(std::memory_order_relaxed);
    while (v < current && !m_min.compare_exchange_weak(current, v, std::memory_order_relaxed)) { }
    current = m_max.load(std::memory_order_relaxed);
    while (v > current && !m_max.compare_exchange_weak(current, v, std::memory_order_relaxed)) { }
}

void Histogram::observeDuration(std::chrono::nanoseconds d) noexcept
{
    const double ns = double(d.count());
    observe(m_options.unit == Unit::Milliseconds ? ns / 1e6 : ns / 1e9);
}

HistogramSnapshot Histogram::snapshot() const
{
    HistogramSnapshot s;
    s.bounds = *m_options.bounds;
    s.counts.resize(s.bounds.size() + 1);
    for (std::size_t i = 0; i < s.counts.size(); ++i) {
        s.counts[i] = m_counts[i].load(std::memory_order_relaxed);
        s.count += s.counts[i];
    }
    if (s.count == 0)
        return s;
    s.sum = m_sum.load(std::memory_order_relaxed);
    s.min = m_min.load(std::memory_order_relaxed);
    s.max = m_max.load(std::memory_order_relaxed);
    if (s.min > s.max) {
        // A concurrent observe() has counted its bucket but not yet its extremes: fall back to
        // the edges of the outermost non-empty buckets.
        const std::size_t n = s.bounds.size();
        const auto first = std::size_t(std::find_if(s.counts.begin(), s.counts.end(), [](quint64 c) { return c > 0; })
                                       - s.counts.begin());
        const auto last = s.counts.size() - 1
            - std::size_t(std::find_if(s.counts.rbegin(), s.counts.rend(), [](quint64 c) { return c > 0; })
                          - s.counts.rbegin());
        const double edge = n == 0 ? 0.0 : s.bounds[std::min(first == 0 ? 0 : first - 1, n - 1)];
        if (s.min == kInf)
            s.min = edge;
        if (s.max == -kInf)
            s.max = n == 0 ? 0.0 : s.bounds[std::min(last, n - 1)];
        if (s.min > s.max)
            s.min = s.max;
    }
    return s;
}

std::vector<double> Histogram::defaultMillisecondBuckets()
{
    return {0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000};
}

std::vector<double> Histogram::defaultSecondBuckets()
{
    return {0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
}

Histogram::Unit Histogram::unitFor(QAnyStringView metricName)
{
    const QString name = metricName.toString();
    if (name.endsWith(QLatin1String("_seconds")))
        return Unit::Seconds;
    if (name.endsWith(QLatin1String("_ms")) || name.endsWith(QLatin1String("_milliseconds")))
        return Unit::Milliseconds;
    return Unit::Other;
}

std::vector<double> Histogram::defaultBucketsFor(QAnyStringView metricName)
{
    return unitFor(metricName) == Unit::Seconds ? defaultSecondBuckets() : defaultMillisecondBuckets();
}

// ---- HistogramSnapshot ----

double HistogramSnapshot::quantile(double q) const
{
    if (count == 0 || counts.size() != bounds.size() + 1 || std::isnan(q))
        return 0.0;
    q = std::clamp(q, 0.0, 1.0);
    const double rank = q * double(count);
    quint64 before = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        const quint64 inBucket = counts[i];
        if (inBucket == 0)
            continue;
        if (double(before + inBucket) >= rank) {
            const double lower = i == 0 ? min : std::max(bounds[i - 1], min);
            double upper = i == bounds.size() ? max : std::min(bounds[i], max);
            if (upper < lower)
                upper = lower;
            return lower + (upper - lower) * ((rank - double(before)) / double(inBucket));
        }
        before += inBucket;
    }
    return max;
}

HistogramSnapshot HistogramSnapshot::since(const HistogramSnapshot &earlier) const
{
    HistogramSnapshot d = *this;
    if (earlier.bounds != bounds || earlier.counts.size() != counts.size())
        return d;
    d.count = 0;
    for (std::size_t i = 0; i < d.counts.size(); ++i) {
        d.counts[i] = d.counts[i] >= earlier.counts[i] ? d.counts[i] - earlier.counts[i] : 0;
        d.count += d.counts[i];
    }
    if (d.count == 0) {
        d.sum = d.min = d.max = 0;
        return d;
    }
    d.sum = sum - earlier.sum;
    const auto first = std::size_t(std::find_if(d.counts.begin(), d.counts.end(), [](quint64 c) { return c > 0; })
                                   - d.counts.begin());
    const auto last = d.counts.size() - 1
        - std::size_t(std::find_if(d.counts.rbegin(), d.counts.rend(), [](quint64 c) { return c > 0; })
                      - d.counts.rbegin());
    d.min = first == 0 ? min : std::max(bounds[first - 1], min);
    d.max = last == bounds.size() ? max : std::min(bounds[last], max);
    return d;
}

bool HistogramSnapshot::merge(const HistogramSnapshot &other)
{
    if (bounds.empty() && counts.empty()) {
        *this = other;
        return true;
    }
    if (bounds != other.bounds || counts.size() != other.counts.size())
        return false;
    if (other.count == 0)
        return true;
    min = count ? std::min(min, other.min) : other.min;
    max = count ? std::max(max, other.max) : other.max;
    for (std::size_t i = 0; i < counts.size(); ++i)
        counts[i] += other.counts[i];
    count += other.count;
    sum += other.sum;
    return true;
}

QJsonObject HistogramSnapshot::toJson() const
{
    return {{QStringLiteral("count"), qint64(count)},
            {QStringLiteral("sum"), sum},
            {QStringLiteral("min"), min},
            {QStringLiteral("max"), max},
            {QStringLiteral("mean"), mean()},
            {QStringLiteral("p50"), quantile(0.50)},
            {QStringLiteral("p95"), quantile(0.95)},
            {QStringLiteral("p99"), quantile(0.99)}};
}

} // namespace taskmaster::server
