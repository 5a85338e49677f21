// Backoff: the delay before the next reconnect attempt of a supervised connection (the server's
// Redis links, the client's realtime session). Exponential with equal jitter: attempt n waits a
// random time in [d/2, d], d = min(max, base * 2^(n-1)). Equal jitter (not full jitter, which
// draws from [0, d]) keeps at least half of the delay, so a peer that is down is not hammered by
// near-zero delays, while the random half spreads clients that lost it at the same moment.
// Owns: the attempt count. Thread: the owner's (no locking).
#pragma once

#include <QRandomGenerator>
#include <QtGlobal>

#include <algorithm>

namespace taskmaster {

class Backoff final {
public:
    Backoff(qint64 baseMs, qint64 maxMs) { setLimits(baseMs, maxMs); }

    // base at least 1 ms, max at least base.
    void setLimits(qint64 baseMs, qint64 maxMs)
    {
        m_baseMs = std::max<qint64>(1, baseMs);
        m_maxMs = std::max(m_baseMs, maxMs);
    }
    [[nodiscard]] qint64 baseMs() const { return m_baseMs; }
    [[nodiscard]] qint64 maxMs() const { return m_maxMs; }

    // Counts an attempt and returns its delay (ms).
    [[nodiscard]] qint64 next()
    {
        ++m_attempts;
        const qint64 ceiling = ceilingMs(m_attempts);
        return ceiling / 2 + qint64(QRandomGenerator::global()->bounded(quint64(ceiling / 2 + 1)));
    }
    // d for attempt n (>= 1), before the jitter.
    [[nodiscard]] qint64 ceilingMs(int attempt) const
    {
        qint64 d = m_baseMs;
        for (int i = 1; i < attempt && d < m_maxMs; ++i)
            d *= 2;
        return std::min(d, m_maxMs);
    }
    // Attempts since the last reset().
    [[nodiscard]] int attempts() const { return m_attempts; }
    // The connection is up: the next failure starts from base again.
    void reset() { m_attempts = 0; }

private:
    qint64 m_baseMs = 1;
    qint64 m_maxMs = 1;
    int m_attempts = 0;
};

} // namespace taskmaster
