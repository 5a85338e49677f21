// RateLimiter: token buckets shared by every instance. Each bucket (scope + key, e.g. "auth" +
// client address, "api" + user id) lives in Redis as a hash updated by one Lua script (loaded
// once, run with EVALSHA), which refills by Redis' own clock and takes a token atomically, so N
// instances share one budget. While Redis is down or absent (embedded mode) the same bucket is
// kept in this process instead: limits then hold per instance. Refused requests are counted in
// rate_limited_requests_total{scope}.
// Owns: the local buckets. Thread: network thread (take's callback runs on it).
#pragma once

#include "server/ratelimit/token_bucket.h"
#include "shared/core/error.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>

#include <functional>

namespace taskmaster::server {

class MetricsRegistry;
class RedisConnection;

// "RATE/BURST" (requests per second, decimals allowed, e.g. "100/200", "0.5/10"), "RATE" (burst
// = max(1, RATE)) or "0" / "off" (no limit). Anything else: 400 naming `field`.
[[nodiscard]] Result<RateRule> parseRateRule(const QString &text, const QString &field);
[[nodiscard]] QString formatRateRule(const RateRule &rule);

struct RateDecision {
    bool allowed = true;
    qint64 retryAfterMs = 0; // when refused: until one token is back
};

class RateLimiter final : public QObject {
    Q_OBJECT
public:
    // redis: the command connection, or nullptr for local buckets only.
    RateLimiter(RedisConnection *redis, MetricsRegistry *metrics, QObject *parent = nullptr);

    // Takes one token from bucket (scope, key) under rule and calls done with the decision (at
    // once when the rule is disabled or the bucket is local, else when Redis answers).
    void take(const QByteArray &scope, const QByteArray &key, const RateRule &rule,
              std::function<void(RateDecision)> done);
    // The in-process bucket alone (what take falls back to).
    [[nodiscard]] RateDecision takeLocal(const QByteArray &scope, const QByteArray &key, const RateRule &rule);
    // The scopes the REST layer uses ("api": per user, "auth": per client address, "upload": per
    // user on attachment uploads); their
    // rate_limited_requests_total series exist from the start.
    [[nodiscard]] static QList<QByteArray> scopes();
    // The in-process clock, replaceable in tests (monotonic milliseconds).
    void setClock(std::function<qint64()> nowMs) { m_nowMs = std::move(nowMs); }

private:
    void refused(const QByteArray &scope);

    QPointer<RedisConnection> m_redis;
    MetricsRegistry *m_metrics;
    QHash<QByteArray, TokenBucket> m_local;
    QElapsedTimer m_clock;
    std::function<qint64()> m_nowMs;
};

} // namespace taskmaster::server
