// SeqGapTracker: follows the seqs of one channel's durable events (docs/protocol.md "Channels and
// seq") and says which ones are missing. Owns nothing but a few integers and the set of seqs
// seen above the first hole. Plain value class, no signals: MessageListModel wraps it and emits
// gapDetected(); the client can use it directly for project channels. Thread: the owner's (GUI).
#pragma once

#include "shared/domain/types.h"

#include <QList>

#include <optional>
#include <set>

namespace taskmaster {

// An inclusive range of seqs, from <= to.
struct SeqRange {
    Seq from = 0;
    Seq to = 0;
    friend bool operator==(const SeqRange &, const SeqRange &) = default;
};

class SeqGapTracker final {
public:
    struct FeedResult {
        bool fresh = false; // false for a duplicate (already seen, or <= contiguousSeq())
        std::optional<SeqRange> newGap; // seqs first known to be missing because of this one
    };

    // Not started: the first feed() or setSynced() sets the starting point.
    [[nodiscard]] bool started() const { return m_started; }
    void reset();

    // Every event up to `synced` is reflected (a REST reload, the channel seq of `welcome`
    // after a resync). Never moves backwards once started; closes any hole at or below it.
    void setSynced(Seq synced);

    // One durable event of the channel. Reports each missing seq once: the range between the
    // highest seq seen so far and this one, when this one is more than one ahead. A fill never
    // re-reports. When not started, `seq` becomes the starting point (no gap can be known yet).
    FeedResult feed(Seq seq);

    // Highest seq such that every event up to it has been seen (0 when not started). Resume a
    // channel from here: the replay then covers every hole; duplicates are harmless.
    [[nodiscard]] Seq contiguousSeq() const { return m_synced; }
    // Highest seq seen (>= contiguousSeq()).
    [[nodiscard]] Seq lastSeq() const { return m_last; }
    [[nodiscard]] bool hasGap() const { return m_last > m_synced; }
    // The holes still open, ascending.
    [[nodiscard]] QList<SeqRange> missingRanges() const;

private:
    void absorb();

    bool m_started = false;
    Seq m_synced = 0;
    Seq m_last = 0;
    std::set<Seq> m_ahead; // seen seqs > m_synced + 1 (only while there is a hole)
};

} // namespace taskmaster
