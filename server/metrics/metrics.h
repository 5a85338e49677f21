// Metrics: a MetricsRegistry owns named metric families (Counter, Gauge, Histogram), each with a
// fixed list of label names, and renders them in the Prometheus text exposition format 0.0.4 for
// GET /metrics. Histograms also give quantile estimates (HistogramSnapshot) for the admin stats
// JSON and the client's dashboard.
// Owns: the families, their children (one per label value set) and the callbacks of callback
// children. Threads: any. Recording (Counter::inc, Gauge::set/inc/dec, Histogram::observe) is
// lock-free (relaxed atomics, no allocation) and may run on the network thread and the database
// workers at once. labels() finds an existing child without a lock or an allocation; the first
// use of a label value set creates the child under the family's mutex. References handed out stay
// valid for the registry's lifetime, so callers look a child up once and keep it. Registration,
// render(), snapshots and callbacks take mutexes; callbacks run on the thread that calls render()
// and must neither block for long nor call back into the registry.
#pragma once

#include <QAnyStringView>
#include <QByteArray>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QString>
#include <QStringList>
#include <QtGlobal>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace taskmaster::server {

Q_DECLARE_LOGGING_CATEGORY(lcMetrics)

// Counter and Gauge carry no options; this gives every metric type a T::Options.
struct NoOptions { };

// A monotonically increasing integer.
class Counter final {
public:
    using Options = NoOptions;
    explicit Counter(NoOptions = {}) { }
    Counter(const Counter &) = delete;
    Counter &operator=(const Counter &) = delete;

    void inc(quint64 n = 1) noexcept { m_value.fetch_add(n, std::memory_order_relaxed); }
    [[nodiscard]] quint64 value() const noexcept { return m_value.load(std::memory_order_relaxed); }

private:
    std::atomic<quint64> m_value {0};
};

// A value that goes up and down.
class Gauge final {
public:
    using Options = NoOptions;
    explicit Gauge(NoOptions = {}) { }
    Gauge(const Gauge &) = delete;
    Gauge &operator=(const Gauge &) = delete;

    void set(double v) noexcept { m_value.store(v, std::memory_order_relaxed); }
    void inc(double n = 1) noexcept { m_value.fetch_add(n, std::memory_order_relaxed); }
    void dec(double n = 1) noexcept { m_value.fetch_sub(n, std::memory_order_relaxed); }
    [[nodiscard]] double value() const noexcept { return m_value.load(std::memory_order_relaxed); }

private:
    static_assert(std::atomic<double>::is_always_lock_free);
    std::atomic<double> m_value {0.0};
};

// A copy of a histogram's state at one moment, with the estimates computed from it.
struct HistogramSnapshot {
    std::vector<double> bounds; // finite upper bounds (le), ascending; +Inf is implied
    std::vector<quint64> counts; // per bucket, not cumulative: bounds.size() + 1 entries, the last is +Inf
    quint64 count = 0; // always the sum of counts
    double sum = 0;
    double min = 0; // smallest and largest observation; 0 when count == 0
    double max = 0;

    // The q-quantile (0 <= q <= 1) by linear interpolation inside the bucket that holds it, as
    // Prometheus' histogram_quantile() does, with the bucket's edges narrowed to [min, max] (so
    // the first bucket starts at min and the +Inf bucket ends at max). 0 when empty.
    [[nodiscard]] double quantile(double q) const;
    [[nodiscard]] double mean() const { return count ? sum / double(count) : 0.0; }
    // What was recorded between earlier and this snapshot (of the same histogram): counts and sum
    // are exact; min and max are narrowed to the edges of the outermost buckets that changed.
    [[nodiscard]] HistogramSnapshot since(const HistogramSnapshot &earlier) const;
    // Adds another histogram's snapshot (e.g. every child of a family). False, and nothing
    // changes, if the bucket bounds differ; an empty default snapshot takes the other's bounds.
    bool merge(const HistogramSnapshot &other);
    // {"count","sum","min","max","mean","p50","p95","p99"} in the histogram's unit.
    [[nodiscard]] QJsonObject toJson() const;
};

// Observations counted into fixed buckets, Prometheus style: a value v lands in the first bucket
// whose upper bound le satisfies v <= le, or in +Inf. NaN observations are ignored.
class Histogram final {
public:
    // The unit, from the metric's name: *_seconds, *_ms / *_milliseconds, anything else.
    enum class Unit { Seconds, Milliseconds, Other };
    struct Options {
        std::shared_ptr<const std::vector<double>> bounds; // finite, strictly ascending
        Unit unit = Unit::Other;
    };

    explicit Histogram(Options options);
    Histogram(const Histogram &) = delete;
    Histogram &operator=(const Histogram &) = delete;

    void observe(double v) noexcept;
    // Records a duration in the histogram's unit (seconds for Unit::Other).
    void observeDuration(std::chrono::nanoseconds d) noexcept;
    [[nodiscard]] HistogramSnapshot snapshot() const;
    [[nodiscard]] const std::vector<double> &bounds() const noexcept { return *m_options.bounds; }
    [[nodiscard]] Unit unit() const noexcept { return m_options.unit; }

    // 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000 (milliseconds).
    static std::vector<double> defaultMillisecondBuckets();
    // The same edges in seconds: 0.00025 ... 5.
    static std::vector<double> defaultSecondBuckets();
    static Unit unitFor(QAnyStringView metricName);
    // The seconds set for Unit::Seconds, else the millisecond set.
    static std::vector<double> defaultBucketsFor(QAnyStringView metricName);

private:
    Options m_options;
    std::unique_ptr<std::atomic<quint64>[]> m_counts; // bounds().size() + 1
    std::atomic<double> m_sum {0.0};
    std::atomic<double> m_min;
    std::atomic<double> m_max;
};

namespace detail {

// The parts of a family that do not depend on the metric type: identity, the child table and
// the text writer. The child table is an open-addressing hash table of child pointers that only
// grows: lookups read it without a lock; inserts and growth happen under m_mutex, and a grown
// table replaces the old one, which stays alive for readers still inside it.
class FamilyBase {
public:
    enum class Type { Counter, Gauge, Histogram };
    FamilyBase(Type type, QString name, QString help, QStringList labelNames);
    virtual ~FamilyBase();
    FamilyBase(const FamilyBase &) = delete;
    FamilyBase &operator=(const FamilyBase &) = delete;

    // One label value set: the base of MetricFamily<T>'s entries.
    struct Child {
        virtual ~Child() = default;
        QStringList values;
        QByteArray labelText; // name="value",... escaped, without braces
        std::size_t hash = 0;
        std::function<double()> callback; // guarded by m_mutex
    };

    [[nodiscard]] Type type() const noexcept { return m_type; }
    [[nodiscard]] const QString &name() const noexcept { return m_name; }
    [[nodiscard]] const QString &help() const noexcept { return m_help; }
    [[nodiscard]] const QStringList &labelNames() const noexcept { return m_labelNames; }
    [[nodiscard]] std::size_t childCount() const;
    // New label value sets beyond this many share one child whose every value is "_overflow"
    // (a warning is logged once). Default 5000.
    void setMaxChildren(std::size_t n);
    // Appends # HELP, # TYPE and every child's samples, children sorted by label values.
    void render(QByteArray &out) const;

protected:
    Child &child(std::span<const QAnyStringView> values);
    void setCallback(std::span<const QAnyStringView> values, std::function<double()> fn);
    [[nodiscard]] std::vector<const Child *> sortedChildrenLocked() const;
    virtual std::unique_ptr<Child> makeChild() const = 0;
    virtual void renderChild(QByteArray &out, const Child &c) const = 0;
    [[nodiscard]] const QByteArray &nameBytes() const noexcept { return m_nameBytes; }
    mutable std::mutex m_mutex;

private:
    struct Table;
    Child *find(std::size_t hash, std::span<const QAnyStringView> values) const noexcept;
    Child &createLocked(const QStringList &values);
    Child &newChildLocked(const QStringList &values);
    void insertLocked(Child *c);

    Type m_type;
    QString m_name;
    QString m_help;
    QStringList m_labelNames;
    QByteArray m_nameBytes;
    std::atomic<const Table *> m_table {nullptr};
    std::vector<std::unique_ptr<Table>> m_tables; // the current one is back()
    std::vector<std::unique_ptr<Child>> m_children; // creation order
    std::size_t m_maxChildren = 5000;
    Child *m_overflow = nullptr;
    std::atomic<bool> m_warnedLabelCount {false};
};

template<typename T> struct MetricTraits;
template<> struct MetricTraits<Counter> {
    static constexpr FamilyBase::Type type = FamilyBase::Type::Counter;
};
template<> struct MetricTraits<Gauge> {
    static constexpr FamilyBase::Type type = FamilyBase::Type::Gauge;
};
template<> struct MetricTraits<Histogram> {
    static constexpr FamilyBase::Type type = FamilyBase::Type::Histogram;
};

} // namespace detail

// One named metric with its label names; children by label values.
template<typename T> class MetricFamily final : public detail::FamilyBase {
public:
    MetricFamily(QString name, QString help, QStringList labelNames, typename T::Options options)
        : FamilyBase(detail::MetricTraits<T>::type, std::move(name), std::move(help), std::move(labelNames)),
          m_options(std::move(options))
    {
    }

    // The child for these label values, in the order of labelNames(). A wrong number of values
    // is a programming error: it is logged once and the values are padded with "" or cut.
    T &labels(std::initializer_list<QAnyStringView> values) { return labels(std::span(values.begin(), values.size())); }
    T &labels(std::span<const QAnyStringView> values) { return static_cast<Entry &>(child(values)).metric; }
    T &labels(const QStringList &values);

    // Counter and Gauge: the child's value comes from fn, evaluated at render time instead of the
    // stored value; an empty fn goes back to the stored value.
    void setCallback(std::initializer_list<QAnyStringView> values,
                     std::function<double()> fn) requires(!std::is_same_v<T, Histogram>)
    {
        FamilyBase::setCallback(std::span(values.begin(), values.size()), std::move(fn));
    }

    // Every child with its label values, sorted by the values.
    [[nodiscard]] std::vector<std::pair<QStringList, const T *>> children() const;
    // Histograms: every child's snapshot added up.
    [[nodiscard]] HistogramSnapshot mergedSnapshot() const requires std::is_same_v<T, Histogram>;

    [[nodiscard]] const typename T::Options &options() const noexcept { return m_options; }

private:
    struct Entry final : Child {
        explicit Entry(const typename T::Options &o) : metric(o) { }
        T metric;
    };
    std::unique_ptr<Child> makeChild() const override { return std::make_unique<Entry>(m_options); }
    void renderChild(QByteArray &out, const Child &c) const override;

    typename T::Options m_options;
};

extern template class MetricFamily<Counter>;
extern template class MetricFamily<Gauge>;
extern template class MetricFamily<Histogram>;

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

class MetricsRegistry final {
public:
    MetricsRegistry();
    ~MetricsRegistry();
    MetricsRegistry(const MetricsRegistry &) = delete;
    MetricsRegistry &operator=(const MetricsRegistry &) = delete;

    // Registration. Asking again for a name with the same type, label names (and buckets) returns
    // the existing family. A bad name or label name, or a clash with an existing family, is a
    // programming error: it is logged as critical and a family that is never rendered comes back,
    // so the caller still records safely.
    // Names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names: [a-zA-Z_][a-zA-Z0-9_]*, not __*, not "le" on
    // histograms.
    CounterFamily &counterFamily(QAnyStringView name, QAnyStringView help,
                                 std::initializer_list<QAnyStringView> labelNames);
    GaugeFamily &gaugeFamily(QAnyStringView name, QAnyStringView help,
                             std::initializer_list<QAnyStringView> labelNames);
    // buckets empty: Histogram::defaultBucketsFor(name).
    HistogramFamily &histogramFamily(QAnyStringView name, QAnyStringView help,
                                     std::initializer_list<QAnyStringView> labelNames,
                                     std::vector<double> buckets = {});

    // Families without labels.
    Counter &counter(QAnyStringView name, QAnyStringView help) { return counterFamily(name, help, {}).labels({}); }
    Gauge &gauge(QAnyStringView name, QAnyStringView help) { return gaugeFamily(name, help, {}).labels({}); }
    Histogram &histogram(QAnyStringView name, QAnyStringView help, std::vector<double> buckets = {})
    {
        return histogramFamily(name, help, {}, std::move(buckets)).labels({});
    }
    // A counter or gauge without labels whose value fn gives at render time.
    void counterCallback(QAnyStringView name, QAnyStringView help, std::function<double()> fn);
    void gaugeCallback(QAnyStringView name, QAnyStringView help, std::function<double()> fn);

    // The registered family of that name and type, or nullptr.
    template<typename T> [[nodiscard]] MetricFamily<T> *find(QAnyStringView name) const
    {
        return static_cast<MetricFamily<T> *>(findBase(name, detail::MetricTraits<T>::type));
    }

    // Every family, sorted by name, in the text exposition format 0.0.4.
    [[nodiscard]] QByteArray render() const;
    // The Content-Type of render()'s output.
    static QByteArray contentType() { return QByteArrayLiteral("text/plain; version=0.0.4; charset=utf-8"); }

private:
    template<typename T>
    MetricFamily<T> &registerFamily(QAnyStringView name, QAnyStringView help,
                                    std::initializer_list<QAnyStringView> labelNames, typename T::Options options,
                                    QString problem);
    detail::FamilyBase *findBase(QAnyStringView name, detail::FamilyBase::Type type) const;

    mutable std::mutex m_mutex;
    std::vector<std::unique_ptr<detail::FamilyBase>> m_families; // sorted by name
    std::vector<std::unique_ptr<detail::FamilyBase>> m_rejected; // never rendered
};

// Prometheus text format helpers, public for tests and other writers.
// A sample value the way Prometheus' Go client writes it (shortest round trip, %e below 1e-4 and
// from 1e6, NaN, +Inf, -Inf).
QByteArray formatMetricValue(double v);
// A label value with backslash, double quote and line feed escaped.
QByteArray escapeLabelValue(QStringView value);
// HELP text with backslash and line feed escaped.
QByteArray escapeHelp(QStringView help);

} // namespace taskmaster::server
