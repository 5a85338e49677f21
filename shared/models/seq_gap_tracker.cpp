#include "shared/models/seq_gap_tracker.h"

#include <algorithm>

namespace taskmaster {

void SeqGapTracker::reset()
{
    m_started = false;
    m_synced = 0;
    m_last = 0;
    m_ahead.clear();
}

void SeqGapTracker::setSynced(Seq synced)
{
    if (synced < 0)
        return;
    if (m_started && synced <= m_synced)
        return;
    m_started = true;
    m_synced = synced;
    m_last = std::max(m_last, synced);
    m_ahead.erase(m_ahead.begin(), m_ahead.upper_bound(synced));
    absorb();
}

SeqGapTracker::FeedResult SeqGapTracker::feed(Seq seq)
{
    FeedResult result;
    if (seq <= 0)
        return result;
    if (!m_started) {
        m_started = true;
        m_synced = seq;
        m_last = seq;
        result.fresh = true;
        return result;
    }
    if (seq <= m_synced || m_ahead.contains(seq))
        return result;
    result.fresh = true;
    if (seq > m_last + 1)
        result.newGap = SeqRange {m_last + 1, seq - 1};
    m_last = std::max(m_last, seq);
    if (seq == m_synced + 1) {
        m_synced = seq;
        absorb();
    } else {
        m_ahead.insert(seq);
    }
    return result;
}

QList<SeqRange> SeqGapTracker::missingRanges() const
{
    QList<SeqRange> ranges;
    Seq next = m_synced + 1; // first seq not known to be seen
    for (const Seq s : m_ahead) {
        if (s > next)
            ranges.append(SeqRange {next, s - 1});
        next = s + 1;
    }
    if (next <= m_last)
        ranges.append(SeqRange {next, m_last});
    return ranges;
}

void SeqGapTracker::absorb()
{
    auto it = m_ahead.begin();
    while (it != m_ahead.end() && *it == m_synced + 1) {
        m_synced = *it;
        it = m_ahead.erase(it);
    }
}

} // namespace taskmaster
