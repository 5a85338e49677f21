// Backoff: the delay before the next reconnect attempt of a supervised connection (the server's
// Redis links, the client's realtime session, tm-load's simulated users). Exponential: attempt n
// waits a random time drawn below d = min(max, base * 2^(n-1)).
// - The first attempt draws from the whole of [0, d] (full jitter): when a server dies, all its
//   clients lose it in the same millisecond, and the whole window spreads their first attempts
//   evenly instead of landing them at once on the servers that are left (docs/cluster.md,
//   "Reconnect storms"). The server widens that window with its size (setFirstWindow(): the
//   reconnectWindowMs of welcome and pong), so thousands spread over seconds, a few over base.
// - Later attempts draw from [d/2, d] (equal jitter): the peer is evidently down or overloaded,
//   and keeping at least half of the delay stops near-zero delays from hammering it, while the
//   random half keeps the clients apart.
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

    // The server's reconnectWindowMs (welcome, pong): the first attempt after the connection
    // dropped draws from [0, max(base, window)], so that an instance's thousands of clients come
    // back to the others over the window it asked for. Capped at max; 0 or less: none. Kept
    // across reset() until the server says otherwise.
    void setFirstWindow(qint64 windowMs) { m_firstWindowMs = std::clamp<qint64>(windowMs, 0, m_maxMs); }
    [[nodiscard]] qint64 firstWindowMs() const { return m_firstWindowMs; }

    // Counts an attempt and returns its delay (ms): in [0, d] for the first (d at least the first
    // window), [d/2, d] later.
    [[nodiscard]] qint64 next()
    {
        ++m_attempts;
        const qint64 ceiling = m_attempts == 1 ? std::max(ceilingMs(1), m_firstWindowMs) : ceilingMs(m_attempts);
        const qint64 floor = m_attempts == 1 ? 0 : ceiling / 2;
        return floor + qint64(QRandomGenerator::global()->bounded(quint64(ceiling - floor + 1)));
    }
    // The delay after a server's hint (`reconnect` frame, Retry-After): never before the hint,
    // spread over [hint, 2 * hint] so that all the clients told the same thing at the same moment
    // come back apart. Counts as an attempt.
    [[nodiscard]] qint64 afterHint(qint64 hintMs)
    {
        ++m_attempts;
        const auto hint = quint64(std::max<qint64>(0, hintMs));
        return qint64(hint + QRandomGenerator::global()->bounded(hint + 1));
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
    qint64 m_firstWindowMs = 0;
    int m_attempts = 0;
};

} // namespace taskmaster
