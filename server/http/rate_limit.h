// RateLimit: one rate limit of the REST layer: a bucket scope ("api": per user on authenticated
// routes, --rate-api; "auth": per client address on register and login, --rate-auth), its rule,
// and the RateLimiter keeping the buckets (Redis, else this process). A refusal is the 429 error
// carrying the time until a token is back (Retry-After). Without a limiter, or with the rule off,
// everything passes at once.
// Owns: nothing (scope and rule are values). Thread: network thread (done runs on it).
#pragma once

#include "server/http/optional_ref.h"
#include "server/ratelimit/rate_limiter.h"
#include "shared/core/error.h"

#include <QByteArray>

#include <functional>

namespace taskmaster::server {

class RateLimit final {
public:
    RateLimit(OptionalRef<RateLimiter> limiter, QByteArray scope, RateRule rule)
        : m_limiter(limiter), m_scope(std::move(scope)), m_rule(rule)
    {
    }

    [[nodiscard]] bool enabled() const { return m_limiter && m_rule.enabled(); }
    // Takes a token of key's bucket; done gets nothing (go on) or the 429 error.
    void take(const QByteArray &key, std::function<void(MaybeError)> done) const
    {
        if (!m_limiter) {
            done(std::nullopt);
            return;
        }
        m_limiter->take(m_scope, key, m_rule, [done = std::move(done)](RateDecision d) {
            if (d.allowed)
                done(std::nullopt);
            else
                done(
                    Error {ErrorCode::RateLimited, QStringLiteral("too many requests: slow down"), {}, d.retryAfterMs});
        });
    }

private:
    OptionalRef<RateLimiter> m_limiter;
    QByteArray m_scope;
    RateRule m_rule;
};

} // namespace taskmaster::server
