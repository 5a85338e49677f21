// AdmissionGate: how many hellos this instance works on at once (the session lookup and the
// channel list read from the database, up to `welcome`), the FIFO of hellos waiting for a turn,
// and when a hello is refused instead: the queue is full. When an instance dies, its clients
// reconnect to the others all at once; without the gate each survivor would put thousands of
// hello queries into the database pool at the same moment, ahead of the sends of the clients
// it already serves, whose acks and deliveries would then wait behind all of them. With it, the
// sends wait behind at most `concurrency` hellos, and a hello that would wait too long is told
// to come back later (`reconnect` with retryAfterMs, close 4013) instead of timing out.
// retryAfterMs is the time the queue needs to drain at the measured pace: the mean time of the
// recent admissions (exponentially weighted) times the queue length over the concurrency,
// clamped to [kMinRetryMs, kMaxRetryMs]. Pure bookkeeping: no sockets, no clock of its own.
// Owns: the queue of connection ids and the counts. Thread: network thread.
#pragma once

#include <QtGlobal>

#include <algorithm>
#include <deque>
#include <optional>

namespace taskmaster::server {

class AdmissionGate final {
public:
    static constexpr qint64 kMinRetryMs = 1000;
    static constexpr qint64 kMaxRetryMs = 10000; // clients spread it over [N, 2N]

    enum class Decision {
        Start, // work on it now (counted as in flight)
        Queue, // wait for a turn (pop() hands it out later)
        Refuse, // the queue is full: tell the client to come back after retryAfterMs()
    };

    // concurrency at least 1; queueMax 0 refuses whatever cannot start at once.
    AdmissionGate(int concurrency, int queueMax)
        : m_concurrency(std::max(1, concurrency)), m_queueMax(std::max(0, queueMax))
    {
    }

    [[nodiscard]] Decision arrive(quint64 id)
    {
        if (m_inFlight < m_concurrency && m_queue.empty()) {
            ++m_inFlight;
            return Decision::Start;
        }
        if (qsizetype(m_queue.size()) >= m_queueMax)
            return Decision::Refuse;
        m_queue.push_back(id);
        return Decision::Queue;
    }

    // An admission in flight ended after `tookMs` (welcome, or refused by the lookup).
    void finished(qint64 tookMs)
    {
        m_inFlight = std::max(0, m_inFlight - 1);
        const double took = double(std::max<qint64>(0, tookMs));
        m_meanMs = m_samples == 0 ? took : m_meanMs + kWeight * (took - m_meanMs);
        ++m_samples;
    }
    // An admission in flight ended without a result worth timing (its socket went away).
    void cancelled() { m_inFlight = std::max(0, m_inFlight - 1); }

    // The next queued id when there is room (counted as in flight), else nullopt. The caller
    // checks that the connection still waits; if not, it calls cancelled() and pops again.
    [[nodiscard]] std::optional<quint64> pop()
    {
        if (m_inFlight >= m_concurrency || m_queue.empty())
            return std::nullopt;
        const quint64 id = m_queue.front();
        m_queue.pop_front();
        ++m_inFlight;
        return id;
    }

    // How long a client refused now should wait: the queue's drain time at the recent pace.
    [[nodiscard]] qint64 retryAfterMs() const
    {
        const double mean = m_samples == 0 ? 10.0 : std::max(1.0, m_meanMs);
        const double drain = mean * double(m_queue.size() + qsizetype(m_inFlight)) / double(m_concurrency);
        return std::clamp(qint64(drain), kMinRetryMs, kMaxRetryMs);
    }

    [[nodiscard]] int inFlight() const { return m_inFlight; }
    [[nodiscard]] qsizetype queued() const { return qsizetype(m_queue.size()); }
    [[nodiscard]] double meanMs() const { return m_meanMs; }

private:
    static constexpr double kWeight = 0.05; // of each new admission time in the mean

    int m_concurrency;
    qsizetype m_queueMax;
    int m_inFlight = 0;
    std::deque<quint64> m_queue;
    double m_meanMs = 0;
    qint64 m_samples = 0;
};

} // namespace taskmaster::server
