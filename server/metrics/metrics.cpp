// Metrics registry, families and the Prometheus text writer. See metrics.h for the threading
// contract: recording is lock-free; registration, child creation and rendering take mutexes.
#include "server/metrics/metrics.h"

#include <QJsonValue>
#include <QVarLengthArray>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace taskmaster::server {

Q_LOGGING_CATEGORY(lcMetrics, "tm.metrics")

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::size_t kInitialTableSize = 16; // a power of two

// FNV-1a over UTF-16 code units, with each value's length mixed in as a separator.
constexpr std::uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr std::uint64_t kFnvPrime = 1099511628211ULL;
inline void mix(std::uint64_t &h, std::uint32_t unit) noexcept
{
    h ^= unit;
    h *= kFnvPrime;
}

// Hashes label values the same way whatever their encoding. A UTF-8 view holding non-ASCII
// bytes gives false: the caller converts it to a QString first (slow path).
bool hashValues(std::span<const QAnyStringView> values, std::size_t &out) noexcept
{
    std::uint64_t h = kFnvOffset;
    for (const QAnyStringView &v : values) {
        mix(h, std::uint32_t(v.size()) | 0x80000000U);
        const bool ok = v.visit([&h](auto s) noexcept {
            using View = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<View, QStringView>) {
                for (QChar c : s)
                    mix(h, c.unicode());
                return true;
            } else {
                constexpr bool utf8 = !std::is_same_v<View, QLatin1StringView>;
                for (auto c : s) {
                    const auto byte = static_cast<unsigned char>(c);
                    if (utf8 && byte >= 0x80)
                        return false;
                    mix(h, byte);
                }
                return true;
            }
        });
        if (!ok)
            return false;
    }
    out = std::size_t(h);
    return true;
}

bool sameValues(const QStringList &stored, std::span<const QAnyStringView> values) noexcept
{
    if (std::size_t(stored.size()) != values.size())
        return false;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (!QAnyStringView::equal(stored[qsizetype(i)], values[i]))
            return false;
    }
    return true;
}

using Views = QVarLengthArray<QAnyStringView, 8>;
Views viewsOf(const QStringList &values)
{
    Views views;
    for (const QString &v : values)
        views.append(v);
    return views;
}
std::span<const QAnyStringView> spanOf(const Views &views)
{
    return {views.constData(), std::size_t(views.size())};
}

bool isNameStart(QChar c, bool colon)
{
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || c == u'_' || (colon && c == u':');
}
bool isNameChar(QChar c, bool colon)
{
    return isNameStart(c, colon) || (c >= u'0' && c <= u'9');
}
bool validName(const QString &name, bool colon)
{
    if (name.isEmpty() || !isNameStart(name.front(), colon))
        return false;
    return std::all_of(name.begin(), name.end(), [colon](QChar c) { return isNameChar(c, colon); });
}

const char *typeName(detail::FamilyBase::Type type)
{
    switch (type) {
    case detail::FamilyBase::Type::Counter:
        return "counter";
    case detail::FamilyBase::Type::Gauge:
        return "gauge";
    case detail::FamilyBase::Type::Histogram:
        return "histogram";
    }
    return "untyped";
}

// The sample names a family writes: histograms add _bucket, _sum and _count.
QStringList exposedNames(const QString &name, detail::FamilyBase::Type type)
{
    if (type != detail::FamilyBase::Type::Histogram)
        return {name};
    return {name, name + QLatin1String("_bucket"), name + QLatin1String("_sum"), name + QLatin1String("_count")};
}

bool sameOptions(const NoOptions &, const NoOptions &)
{
    return true;
}
bool sameOptions(const Histogram::Options &a, const Histogram::Options &b)
{
    return *a.bounds == *b.bounds && a.unit == b.unit;
}

void appendLabels(QByteArray &out, const QByteArray &labelText, const char *extraName = nullptr,
                  const QByteArray &extraValue = {})
{
    if (labelText.isEmpty() && !extraName)
        return;
    out += '{';
    out += labelText;
    if (extraName) {
        if (!labelText.isEmpty())
            out += ',';
        out += extraName;
        out += "=\"";
        out += extraValue;
        out += '"';
    }
    out += '}';
}

} // namespace

// ---- text format helpers ----

QByteArray formatMetricValue(double v)
{
    if (std::isnan(v))
        return QByteArrayLiteral("NaN");
    if (std::isinf(v))
        return v > 0 ? QByteArrayLiteral("+Inf") : QByteArrayLiteral("-Inf");
    // Go's strconv.FormatFloat(v, 'g', -1, 64): the shortest digits that read back as v, in
    // exponent form when the decimal exponent is below -4 or at least 6 (e.g. 1e+06, 1e-05).
    char sci[40];
    const auto s = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
    const std::string_view sciText(sci, std::size_t(s.ptr - sci));
    const auto e = sciText.find('e');
    int exponent = 0;
    std::from_chars(sciText.data() + e + 1 + (sciText[e + 1] == '+' ? 1 : 0), sciText.data() + sciText.size(),
                    exponent);
    if (exponent < -4 || exponent >= 6)
        return QByteArray(sciText.data(), qsizetype(sciText.size()));
    char fixed[40];
    const auto f = std::to_chars(fixed, fixed + sizeof fixed, v, std::chars_format::fixed);
    return QByteArray(fixed, qsizetype(f.ptr - fixed));
}

QByteArray escapeLabelValue(QStringView value)
{
    const QByteArray utf8 = value.toUtf8();
    QByteArray out;
    out.reserve(utf8.size());
    for (char c : utf8) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '"':
            out += "\\\"";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            out += c;
        }
    }
    return out;
}

QByteArray escapeHelp(QStringView help)
{
    const QByteArray utf8 = help.toUtf8();
    QByteArray out;
    out.reserve(utf8.size());
    for (char c : utf8) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

// ---- FamilyBase ----

namespace detail {

struct FamilyBase::Table {
    explicit Table(std::size_t size) : mask(size - 1), slots(std::make_unique<std::atomic<Child *>[]>(size)) { }
    std::size_t mask;
    std::unique_ptr<std::atomic<Child *>[]> slots;
};

FamilyBase::FamilyBase(Type type, QString name, QString help, QStringList labelNames)
    : m_type(type), m_name(std::move(name)), m_help(std::move(help)), m_labelNames(std::move(labelNames)),
      m_nameBytes(m_name.toUtf8())
{
    m_tables.push_back(std::make_unique<Table>(kInitialTableSize));
    m_table.store(m_tables.back().get(), std::memory_order_release);
}

FamilyBase::~FamilyBase() = default;

std::size_t FamilyBase::childCount() const
{
    std::lock_guard lock(m_mutex);
    return m_children.size();
}

void FamilyBase::setMaxChildren(std::size_t n)
{
    std::lock_guard lock(m_mutex);
    m_maxChildren = n;
}

FamilyBase::Child *FamilyBase::find(std::size_t hash, std::span<const QAnyStringView> values) const noexcept
{
    const Table *t = m_table.load(std::memory_order_acquire);
    // The table is never more than half full, so an empty slot ends every probe.
    for (std::size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        Child *c = t->slots[i].load(std::memory_order_acquire);
        if (!c)
            return nullptr;
        if (c->hash == hash && sameValues(c->values, values))
            return c;
    }
}

FamilyBase::Child &FamilyBase::child(std::span<const QAnyStringView> values)
{
    std::size_t hash = 0;
    if (values.size() == std::size_t(m_labelNames.size()) && hashValues(values, hash)) {
        if (Child *c = find(hash, values))
            return *c;
    }
    QStringList owned;
    owned.reserve(m_labelNames.size());
    for (const QAnyStringView &v : values)
        owned.append(v.toString());
    if (owned.size() != m_labelNames.size()) {
        if (!m_warnedLabelCount.exchange(true))
            qCWarning(lcMetrics, "metric %s has %d label names but was given %d values", m_nameBytes.constData(),
                      int(m_labelNames.size()), int(owned.size()));
        owned.resize(m_labelNames.size());
    }
    std::lock_guard lock(m_mutex);
    return createLocked(owned);
}

FamilyBase::Child &FamilyBase::createLocked(const QStringList &values)
{
    const Views views = viewsOf(values);
    std::size_t hash = 0;
    hashValues(spanOf(views), hash); // UTF-16 views always hash
    if (Child *c = find(hash, spanOf(views)))
        return *c;
    if (m_children.size() >= m_maxChildren) {
        if (!m_overflow) {
            qCWarning(lcMetrics, "metric %s has reached %d label value sets; further ones are counted as _overflow",
                      m_nameBytes.constData(), int(m_maxChildren));
            const QStringList overflow(m_labelNames.size(), QStringLiteral("_overflow"));
            const Views overflowViews = viewsOf(overflow);
            std::size_t overflowHash = 0;
            hashValues(spanOf(overflowViews), overflowHash);
            Child *existing = find(overflowHash, spanOf(overflowViews));
            m_overflow = existing ? existing : &newChildLocked(overflow);
        }
        return *m_overflow;
    }
    return newChildLocked(values);
}

FamilyBase::Child &FamilyBase::newChildLocked(const QStringList &values)
{
    std::unique_ptr<Child> c = makeChild();
    c->values = values;
    const Views views = viewsOf(values);
    hashValues(spanOf(views), c->hash);
    for (qsizetype i = 0; i < values.size(); ++i) {
        if (i > 0)
            c->labelText += ',';
        c->labelText += m_labelNames[i].toUtf8() + "=\"" + escapeLabelValue(values[i]) + '"';
    }
    insertLocked(c.get());
    m_children.push_back(std::move(c));
    return *m_children.back();
}

void FamilyBase::insertLocked(Child *c)
{
    const auto place = [](const Table &t, Child *child, std::memory_order order) {
        std::size_t i = child->hash & t.mask;
        while (t.slots[i].load(std::memory_order_relaxed))
            i = (i + 1) & t.mask;
        t.slots[i].store(child, order);
    };
    const Table &current = *m_tables.back();
    if ((m_children.size() + 1) * 2 > current.mask + 1) {
        // Grow: fill a table twice the size, then publish it. Readers still probing the old one
        // may miss the new child and take the locked path, which finds it.
        auto grown = std::make_unique<Table>((current.mask + 1) * 2);
        for (const auto &existing : m_children)
            place(*grown, existing.get(), std::memory_order_relaxed);
        place(*grown, c, std::memory_order_relaxed);
        m_table.store(grown.get(), std::memory_order_release);
        m_tables.push_back(std::move(grown));
        return;
    }
    place(current, c, std::memory_order_release);
}

void FamilyBase::setCallback(std::span<const QAnyStringView> values, std::function<double()> fn)
{
    Child &c = child(values);
    std::lock_guard lock(m_mutex);
    c.callback = std::move(fn);
}

std::vector<const FamilyBase::Child *> FamilyBase::sortedChildrenLocked() const
{
    std::vector<const Child *> sorted;
    sorted.reserve(m_children.size());
    for (const auto &c : m_children)
        sorted.push_back(c.get());
    std::sort(sorted.begin(), sorted.end(), [](const Child *a, const Child *b) { return a->values < b->values; });
    return sorted;
}

void FamilyBase::render(QByteArray &out) const
{
    std::lock_guard lock(m_mutex);
    if (!m_help.isEmpty())
        out += "# HELP " + m_nameBytes + ' ' + escapeHelp(m_help) + '\n';
    out += "# TYPE " + m_nameBytes + ' ' + typeName(m_type) + '\n';
    for (const Child *c : sortedChildrenLocked())
        renderChild(out, *c);
}

} // namespace detail

// ---- MetricFamily ----

template<typename T> T &MetricFamily<T>::labels(const QStringList &values)
{
    const Views views = viewsOf(values);
    return labels(spanOf(views));
}

template<typename T> std::vector<std::pair<QStringList, const T *>> MetricFamily<T>::children() const
{
    std::lock_guard lock(m_mutex);
    std::vector<std::pair<QStringList, const T *>> out;
    for (const Child *c : sortedChildrenLocked())
        out.emplace_back(c->values, &static_cast<const Entry *>(c)->metric);
    return out;
}

template<typename T> HistogramSnapshot MetricFamily<T>::mergedSnapshot() const requires std::is_same_v<T, Histogram>
{
    HistogramSnapshot merged;
    merged.bounds = *m_options.bounds;
    merged.counts.resize(merged.bounds.size() + 1);
    for (const auto &[values, histogram] : children())
        merged.merge(histogram->snapshot());
    return merged;
}

template<typename T> void MetricFamily<T>::renderChild(QByteArray &out, const Child &c) const
{
    const T &metric = static_cast<const Entry &>(c).metric;
    if constexpr (std::is_same_v<T, Histogram>) {
        const HistogramSnapshot s = metric.snapshot();
        quint64 cumulative = 0;
        for (std::size_t i = 0; i < s.counts.size(); ++i) {
            cumulative += s.counts[i];
            out += nameBytes() + "_bucket";
            appendLabels(out, c.labelText, "le",
                         i < s.bounds.size() ? formatMetricValue(s.bounds[i]) : QByteArrayLiteral("+Inf"));
            out += ' ' + QByteArray::number(cumulative) + '\n';
        }
        out += nameBytes() + "_sum";
        appendLabels(out, c.labelText);
        out += ' ' + formatMetricValue(s.sum) + '\n';
        out += nameBytes() + "_count";
        appendLabels(out, c.labelText);
        out += ' ' + QByteArray::number(s.count) + '\n';
    } else {
        out += nameBytes();
        appendLabels(out, c.labelText);
        out += ' ';
        if (c.callback)
            out += formatMetricValue(c.callback());
        else if constexpr (std::is_same_v<T, Counter>)
            out += QByteArray::number(metric.value());
        else
            out += formatMetricValue(metric.value());
        out += '\n';
    }
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

// ---- MetricsRegistry ----

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

template<typename T>
MetricFamily<T> &MetricsRegistry::registerFamily(QAnyStringView name, QAnyStringView help,
                                                 std::initializer_list<QAnyStringView> labelNames,
                                                 typename T::Options options, QString problem)
{
    constexpr detail::FamilyBase::Type type = detail::MetricTraits<T>::type;
    const QString n = name.toString();
    QStringList labels;
    for (const QAnyStringView &l : labelNames)
        labels.append(l.toString());
    if (problem.isEmpty() && !validName(n, true))
        problem = QStringLiteral("the name is not [a-zA-Z_:][a-zA-Z0-9_:]*");
    for (qsizetype i = 0; problem.isEmpty() && i < labels.size(); ++i) {
        const QString &l = labels[i];
        if (!validName(l, false) || l.startsWith(QLatin1String("__")))
            problem = QStringLiteral("label name \"%1\" is not [a-zA-Z_][a-zA-Z0-9_]* or starts with __").arg(l);
        else if (type == detail::FamilyBase::Type::Histogram && l == QLatin1String("le"))
            problem = QStringLiteral("\"le\" is reserved on histograms");
        else if (labels.indexOf(l) != i)
            problem = QStringLiteral("label name \"%1\" appears twice").arg(l);
    }

    std::lock_guard lock(m_mutex);
    if (problem.isEmpty()) {
        const auto it = std::lower_bound(m_families.begin(), m_families.end(), n,
                                         [](const auto &f, const QString &key) { return f->name() < key; });
        if (it != m_families.end() && (*it)->name() == n) {
            if ((*it)->type() == type && (*it)->labelNames() == labels) {
                auto &existing = static_cast<MetricFamily<T> &>(**it);
                if (sameOptions(existing.options(), options))
                    return existing;
            }
            problem = QStringLiteral("it is already registered with another type, label names or buckets");
        } else {
            const QStringList mine = exposedNames(n, type);
            for (const auto &f : m_families) {
                const QStringList theirs = exposedNames(f->name(), f->type());
                const auto clash = std::find_if(mine.begin(), mine.end(),
                                                [&theirs](const QString &s) { return theirs.contains(s); });
                if (clash != mine.end()) {
                    problem = QStringLiteral("its sample name %1 clashes with metric %2").arg(*clash, f->name());
                    break;
                }
            }
            if (problem.isEmpty()) {
                auto family = std::make_unique<MetricFamily<T>>(n, help.toString(), labels, std::move(options));
                MetricFamily<T> &ref = *family;
                m_families.insert(it, std::move(family));
                return ref;
            }
        }
    }
    qCCritical(lcMetrics, "metric %s not registered: %s", qUtf8Printable(n), qUtf8Printable(problem));
    m_rejected.push_back(std::make_unique<MetricFamily<T>>(n, help.toString(), labels, std::move(options)));
    return static_cast<MetricFamily<T> &>(*m_rejected.back());
}

CounterFamily &MetricsRegistry::counterFamily(QAnyStringView name, QAnyStringView help,
                                              std::initializer_list<QAnyStringView> labelNames)
{
    return registerFamily<Counter>(name, help, labelNames, {}, {});
}

GaugeFamily &MetricsRegistry::gaugeFamily(QAnyStringView name, QAnyStringView help,
                                          std::initializer_list<QAnyStringView> labelNames)
{
    return registerFamily<Gauge>(name, help, labelNames, {}, {});
}

HistogramFamily &MetricsRegistry::histogramFamily(QAnyStringView name, QAnyStringView help,
                                                  std::initializer_list<QAnyStringView> labelNames,
                                                  std::vector<double> buckets)
{
    QString problem;
    if (buckets.empty())
        buckets = Histogram::defaultBucketsFor(name);
    if (buckets.back() == kInf)
        buckets.pop_back(); // +Inf is always there
    const bool finite = std::all_of(buckets.begin(), buckets.end(), [](double b) { return std::isfinite(b); });
    const bool ascending = std::adjacent_find(buckets.begin(), buckets.end(), std::greater_equal<>()) == buckets.end();
    if (buckets.empty() || !finite || !ascending) {
        problem = QStringLiteral("its buckets must be finite and strictly ascending");
        buckets = Histogram::defaultBucketsFor(name);
    }
    Histogram::Options options {std::make_shared<const std::vector<double>>(std::move(buckets)),
                                Histogram::unitFor(name)};
    return registerFamily<Histogram>(name, help, labelNames, std::move(options), problem);
}

void MetricsRegistry::counterCallback(QAnyStringView name, QAnyStringView help, std::function<double()> fn)
{
    counterFamily(name, help, {}).setCallback({}, std::move(fn));
}

void MetricsRegistry::gaugeCallback(QAnyStringView name, QAnyStringView help, std::function<double()> fn)
{
    gaugeFamily(name, help, {}).setCallback({}, std::move(fn));
}

detail::FamilyBase *MetricsRegistry::findBase(QAnyStringView name, detail::FamilyBase::Type type) const
{
    std::lock_guard lock(m_mutex);
    const auto it = std::lower_bound(m_families.begin(), m_families.end(), name,
                                     [](const auto &f, QAnyStringView key) { return QAnyStringView(f->name()) < key; });
    if (it == m_families.end() || !QAnyStringView::equal((*it)->name(), name) || (*it)->type() != type)
        return nullptr;
    return it->get();
}

QByteArray MetricsRegistry::render() const
{
    QByteArray out;
    out.reserve(16 * 1024);
    std::lock_guard lock(m_mutex);
    for (const auto &f : m_families)
        f->render(out);
    return out;
}

} // namespace taskmaster::server
