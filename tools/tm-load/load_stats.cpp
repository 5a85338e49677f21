#include "tools/tm-load/load_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace taskmaster::load {

// ---- LatencySamples ------------------------------------------------------------------------

void LatencySamples::merge(const LatencySamples &other)
{
    m_ns.insert(m_ns.end(), other.m_ns.begin(), other.m_ns.end());
    m_sorted = m_ns.empty();
}

void LatencySamples::merge(std::vector<qint64> &&other)
{
    if (m_ns.empty())
        m_ns = std::move(other);
    else
        m_ns.insert(m_ns.end(), other.begin(), other.end());
    m_sorted = m_ns.empty();
}

qint64 LatencySamples::percentile(const std::vector<qint64> &sorted, double p)
{
    if (sorted.empty())
        return 0;
    const double n = double(sorted.size());
    // Nearest rank: ceil(p/100 * n), at least 1. The small epsilon keeps 0.95 * 100 = 95.000001
    // from rounding up to 96.
    auto rank = qint64(std::ceil(p / 100.0 * n - 1e-9));
    rank = std::clamp<qint64>(rank, 1, qint64(sorted.size()));
    return sorted[std::size_t(rank - 1)];
}

LatencySamples::Summary LatencySamples::summary()
{
    Summary s;
    if (m_ns.empty())
        return s;
    if (!m_sorted) {
        std::sort(m_ns.begin(), m_ns.end());
        m_sorted = true;
    }
    constexpr double kMs = 1e6;
    s.count = qint64(m_ns.size());
    s.minMs = double(m_ns.front()) / kMs;
    s.maxMs = double(m_ns.back()) / kMs;
    const long double sum = std::accumulate(m_ns.begin(), m_ns.end(), 0.0L);
    s.meanMs = double(sum / static_cast<long double>(m_ns.size())) / kMs;
    s.p50Ms = double(percentile(m_ns, 50)) / kMs;
    s.p95Ms = double(percentile(m_ns, 95)) / kMs;
    s.p99Ms = double(percentile(m_ns, 99)) / kMs;
    s.p999Ms = double(percentile(m_ns, 99.9)) / kMs;
    return s;
}

// ---- ChannelAccount ------------------------------------------------------------------------

ChannelAccount::ChannelAccount(Seq start) : m_start(start)
{
    m_tracker.setSynced(start);
}

Arrival ChannelAccount::receive(Seq seq)
{
    return feed(seq, true);
}

Arrival ChannelAccount::fill(Seq seq)
{
    return feed(seq, false);
}

Arrival ChannelAccount::feed(Seq seq, bool live)
{
    const Seq before = m_tracker.lastSeq();
    if (!m_tracker.feed(seq).fresh) {
        ++m_duplicates;
        return Arrival::Duplicate;
    }
    ++m_delivered;
    if (live && seq < before) {
        ++m_outOfOrder;
        return Arrival::Late;
    }
    return Arrival::Fresh;
}

qint64 ChannelAccount::expected(Seq finalSeq) const
{
    return std::max<qint64>(0, finalSeq - m_start);
}

qint64 ChannelAccount::lost(Seq finalSeq) const
{
    qint64 missing = 0;
    for (const SeqRange &r : m_tracker.missingRanges()) {
        if (r.from > finalSeq)
            break;
        missing += std::min(r.to, finalSeq) - r.from + 1;
    }
    if (finalSeq > m_tracker.lastSeq())
        missing += finalSeq - std::max(m_tracker.lastSeq(), m_start);
    return missing;
}

QList<SeqRange> ChannelAccount::missing(Seq finalSeq) const
{
    QList<SeqRange> out;
    for (const SeqRange &r : m_tracker.missingRanges()) {
        if (r.from > finalSeq)
            break;
        out.append(SeqRange {r.from, std::min(r.to, finalSeq)});
    }
    const Seq tailFrom = std::max(m_tracker.lastSeq(), m_start) + 1;
    if (finalSeq >= tailFrom)
        out.append(SeqRange {tailFrom, finalSeq});
    return out;
}

// ---- Counters ------------------------------------------------------------------------------

Counters &Counters::operator+=(const Counters &o)
{
    sent += o.sent;
    sentMeasured += o.sentMeasured;
    resent += o.resent;
    notSent += o.notSent;
    lateDropped += o.lateDropped;
    acked += o.acked;
    sendErrors += o.sendErrors;
    rateLimited += o.rateLimited;
    errorFrames += o.errorFrames;
    delivered += o.delivered;
    fanoutDelivered += o.fanoutDelivered;
    duplicates += o.duplicates;
    outOfOrder += o.outOfOrder;
    expected += o.expected;
    lost += o.lost;
    volatileEvents += o.volatileEvents;
    presenceOnline += o.presenceOnline;
    presenceOffline += o.presenceOffline;
    presenceLists += o.presenceLists;
    connected += o.connected;
    connectFailures += o.connectFailures;
    disconnects += o.disconnects;
    reconnects += o.reconnects;
    resumedEvents += o.resumedEvents;
    resyncs += o.resyncs;
    historyFilled += o.historyFilled;
    undecodable += o.undecodable;
    for (auto it = o.closeCodes.cbegin(); it != o.closeCodes.cend(); ++it)
        closeCodes[it.key()] += it.value();
    for (auto it = o.welcomesByInstance.cbegin(); it != o.welcomesByInstance.cend(); ++it)
        welcomesByInstance[it.key()] += it.value();
    return *this;
}

} // namespace taskmaster::load
