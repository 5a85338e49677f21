// Rebalancer: how many of this instance's WebSocket connections to send elsewhere so that every
// instance of a cluster carries about its share. WebSocket connections live for hours: after a
// restart the restarted instance stays empty while the others carry its clients, and in a
// rolling restart the next instance's clients then all land on that empty one at once (a
// balancer picking the least busy instance, nginx least_conn, sends every one of them there).
// Every instance reports its connection count over the cluster bus each second; one holding
// more than its share by over the slack asks some of its clients to reconnect (a `reconnect`
// frame, docs/protocol.md 9.8), at most `rate` a second, until it is within half the slack of
// its share. Reports older than the staleness limit (a dead instance) and those of draining
// instances do not count. The connections it sent away count as elsewhere until the others'
// reports show them (the reports lag a second and a reconnect takes a while: without it the
// instance would overshoot; counted twice once arrived, it would stop short), for at most
// kInFlightMs: what the others gained since the oldest such send is taken as arrived.
// Shedding must have an effect: when the instance with the fewest connections gained less than a
// quarter of what this one sent within the staleness limit, the balancer does not send clients
// there (nginx holds an instance out of rotation after failed connects until a request to it
// completes, and a WebSocket completes only when it closes; ip_hash pins clients), so the sent
// clients only bounce between the others: it pauses, 5 s then doubling up to a minute. So that
// a balancer that does not route there costs little, each run of shedding starts with a probe of
// kProbe connections and goes on at the rate only once they arrived. Nothing is shed while this
// instance's own count grew by more than half the slack within kSettleMs (a reconnect storm after
// another instance died, a wave of logins): the others' reports are a second old while every
// count moves fast, so this one looks over its share when it is not, and what it sent away would
// only add reconnects to the storm (bench:storm counted 400-600 such moves after a kill -9). Pure
// arithmetic, no I/O: the hub feeds it and acts on its answer.
// Owns: the last report of every other instance. Thread: the hub's (network thread).
#pragma once

#include <QHash>
#include <QList>
#include <QString>

#include <algorithm>
#include <utility>

namespace taskmaster::server {

class Rebalancer final {
public:
    struct Peer {
        qint64 connections = 0;
        bool draining = false;
        qint64 reportedMs = 0;
    };

    // rate: connections a second at most sent elsewhere (0: never); slack: connections over
    // the share tolerated (and half of it kept after shedding), at least a tenth of the share.
    Rebalancer(int rate, int slack, qint64 staleMs = 3000) : m_rate(rate), m_slack(slack), m_staleMs(staleMs) { }

    void report(const QString &instance, qint64 connections, bool draining, qint64 nowMs)
    {
        m_peers.insert(instance, Peer {connections, draining, nowMs});
    }

    // This instance's fair share with `mine` connections: the cluster's connections over the
    // instances that take clients (this one and every peer reporting in time, not draining).
    [[nodiscard]] qint64 share(qint64 mine, qint64 nowMs) const
    {
        qint64 instances = 1;
        const qint64 others = othersConnections(nowMs, &instances);
        const qint64 total = mine + others + inFlight(others, nowMs);
        return (total + instances - 1) / instances;
    }

    // Connections to send elsewhere now, `elapsedMs` after the last call (the rate's budget).
    [[nodiscard]] qint64 shed(qint64 mine, qint64 nowMs, qint64 elapsedMs)
    {
        if (m_rate <= 0)
            return 0;
        forgetStale(nowMs);
        m_budget = std::min<double>(m_budget + double(m_rate) * double(std::max<qint64>(0, elapsedMs)) / 1000.0,
                                    double(m_rate));
        m_own.append({nowMs, mine});
        while (nowMs - m_own.constFirst().ms > kSettleMs)
            m_own.removeFirst();
        qint64 lowest = mine;
        for (const Own &o : std::as_const(m_own))
            lowest = std::min(lowest, o.connections);
        const qint64 fair = share(mine, nowMs);
        const qint64 slack = std::max<qint64>(m_slack, fair / 10);
        if (m_shedding ? mine <= fair + slack / 2 : mine <= fair + slack) {
            m_shedding = false;
            m_confirmed = false;
            m_check = {};
            return 0;
        }
        if (nowMs < m_pausedUntilMs || mine - lowest > slack / 2)
            return 0;
        if (!m_shedding || m_check.startMs < 0)
            startCheck(nowMs);
        m_shedding = true;
        if (!checkEffect(nowMs))
            return 0;
        qint64 n = std::min<qint64>(mine - (fair + slack / 2), qint64(m_budget));
        if (!m_confirmed) // the probe: no more until it arrived
            n = std::clamp<qint64>(kProbe - (m_sentTotal - m_check.sentTotal), 0, n);
        m_budget -= double(n);
        if (n > 0) {
            m_sent.append({nowMs, n, othersConnections(nowMs)});
            m_sentTotal += n;
        }
        return n;
    }

    [[nodiscard]] const QHash<QString, Peer> &peers() const { return m_peers; }
    // Shedding paused (it had no effect) until then; 0: never paused.
    [[nodiscard]] qint64 pausedUntilMs() const { return m_pausedUntilMs; }

private:
    struct Check {
        QString target; // the peer with the fewest connections when the check started
        qint64 targetConnections = 0;
        qint64 sentTotal = 0;
        qint64 startMs = -1; // -1: no check running
    };

    void startCheck(qint64 nowMs)
    {
        m_check = {};
        for (auto it = m_peers.cbegin(); it != m_peers.cend(); ++it) {
            if (!takesClients(*it, nowMs))
                continue;
            if (m_check.target.isEmpty() || it->connections < m_check.targetConnections) {
                m_check.target = it.key();
                m_check.targetConnections = it->connections;
            }
        }
        m_check.sentTotal = m_sentTotal;
        m_check.startMs = nowMs;
    }

    // False (and paused) when what was sent since the check started did not arrive.
    bool checkEffect(qint64 nowMs)
    {
        if (nowMs - m_check.startMs < m_staleMs)
            return true;
        const qint64 sent = m_sentTotal - m_check.sentTotal;
        const auto target = m_peers.constFind(m_check.target);
        const qint64 gained = target == m_peers.cend() ? 0 : target->connections - m_check.targetConnections;
        if (sent > 0 && gained * 4 < sent) {
            m_pausedUntilMs = nowMs + m_backoffMs;
            m_backoffMs = std::min<qint64>(2 * m_backoffMs, kMaxBackoffMs);
            m_check = {};
            m_confirmed = false;
            return false;
        }
        if (sent > 0) {
            m_backoffMs = kFirstBackoffMs;
            m_confirmed = true;
        }
        startCheck(nowMs);
        return true;
    }

    struct Sent {
        qint64 ms = 0;
        qint64 n = 0;
        qint64 others = 0; // the others' connections when they were sent
    };

    // A peer that takes clients: reporting in time, not draining.
    [[nodiscard]] bool takesClients(const Peer &p, qint64 nowMs) const
    {
        return nowMs - p.reportedMs <= m_staleMs && !p.draining;
    }

    // The connections of the instances that take clients.
    [[nodiscard]] qint64 othersConnections(qint64 nowMs, qint64 *instances = nullptr) const
    {
        qint64 total = 0;
        for (const Peer &p : m_peers) {
            if (!takesClients(p, nowMs))
                continue;
            total += p.connections;
            if (instances)
                ++*instances;
        }
        return total;
    }

    // Sent within kInFlightMs and not yet in the others' reports.
    [[nodiscard]] qint64 inFlight(qint64 others, qint64 nowMs) const
    {
        qint64 sent = 0;
        qint64 base = -1;
        for (const Sent &s : m_sent) {
            if (nowMs - s.ms > kInFlightMs)
                continue;
            sent += s.n;
            if (base < 0)
                base = s.others;
        }
        return base < 0 ? 0 : std::max<qint64>(0, sent - std::max<qint64>(0, others - base));
    }

    struct Own {
        qint64 ms = 0;
        qint64 connections = 0;
    };

    static constexpr qint64 kProbe = 20;
    static constexpr qint64 kSettleMs = 5000;
    static constexpr qint64 kInFlightMs = 10000;
    static constexpr qint64 kFirstBackoffMs = 5000;
    static constexpr qint64 kMaxBackoffMs = 60000;
    void forgetStale(qint64 nowMs)
    {
        while (!m_sent.isEmpty() && nowMs - m_sent.constFirst().ms > kInFlightMs)
            m_sent.removeFirst();
        for (auto it = m_peers.begin(); it != m_peers.end();) {
            if (nowMs - it->reportedMs > 10 * m_staleMs)
                it = m_peers.erase(it);
            else
                ++it;
        }
    }

    int m_rate;
    int m_slack;
    qint64 m_staleMs;
    double m_budget = 0;
    bool m_shedding = false; // over the slack once: shed down to half of it (no flapping)
    qint64 m_sentTotal = 0;
    Check m_check;
    bool m_confirmed = false; // the balancer sends clients where this one's went: full rate
    qint64 m_pausedUntilMs = 0;
    qint64 m_backoffMs = kFirstBackoffMs;
    QHash<QString, Peer> m_peers;
    QList<Sent> m_sent; // sent elsewhere within kInFlightMs, oldest first
    QList<Own> m_own; // this instance's count at each call within kSettleMs, oldest first
};

} // namespace taskmaster::server
