// CircuitBreaker: whether a call may go to a dependency (PostgreSQL, the read replica, Redis) or
// should fail at once because the dependency is known to be down. Three states:
// - Closed: calls go through. failureThreshold failures in a row (no success between) open it.
// - Open: calls are refused (the caller answers 503 `unavailable` with Retry-After:
//   retryAfterMs()) until openFor has passed since it opened.
// - HalfOpen: the first call allowed after that is the probe; other calls are refused until the
//   probe's outcome: a success closes the breaker, a failure opens it again for openFor. A probe
//   that reports nothing within openFor is given up and the next call probes again. With
//   firstOpenFor, the open times back off instead: firstOpenFor, doubled after each failed probe,
//   at most openFor.
// A success reported in any state closes the breaker (the dependency answered). open() forces the
// Open state for a given time (a supervised connection that was lost and knows its reconnect
// delay). Times are monotonic milliseconds passed by the caller, so the logic is testable without
// clocks. The observer sees every transition (metrics, logs) as it happens.
// Owns: the state and the failure count. Thread: the owner's (no locking; DbPool guards its own
// with a mutex).
#pragma once

#include <QtGlobal>

#include <algorithm>
#include <functional>
#include <utility>

namespace taskmaster {

struct CircuitBreakerOptions {
    int failureThreshold = 3; // failures in a row that open a closed breaker (at least 1)
    qint64 openForMs = 2000; // how long an open breaker refuses calls before it lets a probe through
    // When set (1..openForMs), the first opening after Closed lasts this long and each failed probe
    // doubles it, up to openForMs: a dependency back within a second is probed within a second.
    qint64 firstOpenForMs = 0;
};

class CircuitBreaker final {
public:
    // The values are those of the circuit_breaker_state gauge.
    enum class State { Closed = 0, Open = 1, HalfOpen = 2 };
    using Observer = std::function<void(State from, State to)>;

    explicit CircuitBreaker(CircuitBreakerOptions options = {}) : m_options(options)
    {
        m_options.failureThreshold = std::max(1, m_options.failureThreshold);
        m_options.openForMs = std::max<qint64>(1, m_options.openForMs);
        m_options.firstOpenForMs = m_options.firstOpenForMs > 0
            ? std::min(m_options.firstOpenForMs, m_options.openForMs)
            : m_options.openForMs;
    }

    void setObserver(Observer observer) { m_observer = std::move(observer); }
    [[nodiscard]] const CircuitBreakerOptions &options() const { return m_options; }
    [[nodiscard]] State state() const { return m_state; }
    [[nodiscard]] int failures() const { return m_failures; }

    // May a call go to the dependency now? True when Closed; when Open and openFor has passed,
    // true for this one call, the probe (the breaker goes HalfOpen); otherwise false.
    [[nodiscard]] bool allow(qint64 nowMs)
    {
        switch (m_state) {
        case State::Closed:
            return true;
        case State::Open:
            if (nowMs < m_reopenAtMs)
                return false;
            m_probeDeadlineMs = nowMs + m_options.openForMs;
            moveTo(State::HalfOpen);
            return true;
        case State::HalfOpen:
            if (nowMs < m_probeDeadlineMs)
                return false;
            m_probeDeadlineMs = nowMs + m_options.openForMs; // the last probe got lost: another one
            return true;
        }
        return false;
    }

    // The call answered (the dependency is reachable): Closed, failure count reset.
    void succeeded()
    {
        m_failures = 0;
        if (m_state != State::Closed)
            moveTo(State::Closed);
    }

    // The call failed because of the dependency (unreachable, connection lost), not because of
    // the request. Opens a closed breaker at the threshold and a half-open one at once.
    void failed(qint64 nowMs)
    {
        ++m_failures;
        if (m_state == State::HalfOpen) {
            m_openForMs = std::min(m_options.openForMs, std::max(m_options.firstOpenForMs, m_openForMs * 2));
            open(nowMs, m_openForMs);
        } else if (m_state == State::Closed && m_failures >= m_options.failureThreshold) {
            m_openForMs = m_options.firstOpenForMs;
            open(nowMs, m_openForMs);
        }
    }

    // Opens (or keeps open) the breaker until nowMs + forMs.
    void open(qint64 nowMs, qint64 forMs)
    {
        m_reopenAtMs = nowMs + std::max<qint64>(0, forMs);
        if (m_state != State::Open)
            moveTo(State::Open);
    }

    // Until a probe may go (0 when calls go through now): the Retry-After of a refused call.
    [[nodiscard]] qint64 retryAfterMs(qint64 nowMs) const
    {
        switch (m_state) {
        case State::Closed:
            return 0;
        case State::Open:
            return std::max<qint64>(0, m_reopenAtMs - nowMs);
        case State::HalfOpen:
            return std::max<qint64>(0, m_probeDeadlineMs - nowMs);
        }
        return 0;
    }

    // "closed", "open", "half_open": the `to` label of circuit_breaker_transitions_total.
    [[nodiscard]] static const char *name(State s)
    {
        switch (s) {
        case State::Closed:
            return "closed";
        case State::Open:
            return "open";
        case State::HalfOpen:
            return "half_open";
        }
        return "closed";
    }

private:
    void moveTo(State to)
    {
        const State from = std::exchange(m_state, to);
        if (m_observer)
            m_observer(from, to);
    }

    CircuitBreakerOptions m_options;
    State m_state = State::Closed;
    int m_failures = 0;
    qint64 m_reopenAtMs = 0;
    qint64 m_openForMs = 0; // the current opening's length (backing off from firstOpenForMs)
    qint64 m_probeDeadlineMs = 0;
    Observer m_observer;
};

} // namespace taskmaster
