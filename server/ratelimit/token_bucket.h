// TokenBucket and RateRule: the one rate-limit primitive of the server. perSecond tokens flow
// into a bucket that holds at most burst; an action takes one. The RateLimiter keeps buckets per
// user or client address (in process, or in Redis with the same arithmetic in Lua), the WebSocket
// layer one per connection, the attachments' TransferBudget one per instance (in bytes).
// Owns: nothing (plain values). Thread: the owner's.
#pragma once

#include <QtGlobal>

#include <algorithm>
#include <cmath>

namespace taskmaster::server {

// perSecond tokens flow into a bucket holding at most burst; 0 disables the limit.
struct RateRule {
    double perSecond = 0;
    double burst = 0;
    [[nodiscard]] bool enabled() const { return perSecond > 0; }
    friend bool operator==(const RateRule &, const RateRule &) = default;
};

struct TokenBucket {
    double tokens = 0;
    qint64 atMs = 0; // when tokens was last brought up to date (monotonic ms)

    [[nodiscard]] static TokenBucket full(const RateRule &rule, qint64 nowMs) { return {rule.burst, nowMs}; }

    // Adds what flowed in since atMs (at most up to burst).
    void refill(const RateRule &rule, qint64 nowMs)
    {
        if (nowMs <= atMs)
            return;
        tokens = std::min(rule.burst, tokens + double(nowMs - atMs) * rule.perSecond / 1000.0);
        atMs = nowMs;
    }
    // Takes one token when there is one.
    [[nodiscard]] bool take()
    {
        if (tokens < 1)
            return false;
        tokens -= 1;
        return true;
    }
    // Would be full at nowMs: holds nothing a new bucket would not.
    [[nodiscard]] bool fullAt(const RateRule &rule, qint64 nowMs) const
    {
        return tokens + double(std::max<qint64>(0, nowMs - atMs)) * rule.perSecond / 1000.0 >= rule.burst;
    }
    // Takes n tokens whether the bucket holds them or not: what it lacks is a debt the flow pays
    // back first (TransferBudget charges the bytes a chunk moved so).
    void spend(double n) { tokens -= n; }
    // Time until the bucket holds `needed` tokens (0 when it does).
    [[nodiscard]] qint64 msUntil(const RateRule &rule, double needed) const
    {
        return tokens >= needed ? 0 : qint64(std::ceil((needed - tokens) * 1000.0 / rule.perSecond));
    }
    // Time until one token is back (0 when there is one).
    [[nodiscard]] qint64 msUntilToken(const RateRule &rule) const { return msUntil(rule, 1); }
};

} // namespace taskmaster::server
