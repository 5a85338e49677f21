#include "server/ratelimit/rate_limiter.h"

#include "server/metrics/metrics.h"
#include "server/redis/redis_connection.h"

#include <cmath>

namespace taskmaster::server {

namespace {

// KEYS[1] bucket; ARGV rate per second, burst. Returns {allowed 0|1, retry-after ms}.
const RedisScript &bucketScript()
{
    static const RedisScript script(QByteArrayLiteral(R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
end
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(math.max(now, at)))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, wait}
)lua"));
    return script;
}

constexpr qsizetype kLocalMax = 100000; // buckets kept in process before full ones are pruned

QByteArray number(double v)
{
    return QByteArray::number(v, 'g', 12);
}

} // namespace

namespace {
CounterFamily &refusedFamily(MetricsRegistry &metrics)
{
    return metrics.counterFamily("rate_limited_requests_total", "Requests refused with 429 by a rate limit",
                                 {QStringLiteral("scope")});
}
} // namespace

RateLimiter::RateLimiter(RedisConnection *redis, MetricsRegistry *metrics, QObject *parent)
    : QObject(parent), m_redis(redis), m_metrics(metrics)
{
    m_clock.start();
    m_nowMs = [this] { return m_clock.elapsed(); };
    // The series of both scopes exist from the start at 0, so a rate of refusals is 0 (not absent)
    // before the first 429.
    if (m_metrics) {
        for (const QByteArray &scope : scopes())
            refusedFamily(*m_metrics).labels({QAnyStringView(scope)});
    }
}

QList<QByteArray> RateLimiter::scopes()
{
    return {QByteArrayLiteral("api"), QByteArrayLiteral("auth"), QByteArrayLiteral("upload")};
}

void RateLimiter::refused(const QByteArray &scope)
{
    if (m_metrics)
        refusedFamily(*m_metrics).labels({QAnyStringView(scope)}).inc();
}

RateDecision RateLimiter::takeLocal(const QByteArray &scope, const QByteArray &key, const RateRule &rule)
{
    if (!rule.enabled())
        return {};
    const qint64 now = m_nowMs();
    if (m_local.size() > kLocalMax) {
        // Drop the buckets that have refilled: they hold nothing a new bucket would not.
        for (auto it = m_local.begin(); it != m_local.end();)
            it = it->fullAt(rule, now) ? m_local.erase(it) : std::next(it);
    }
    const QByteArray id = scope + ':' + key;
    auto it = m_local.find(id);
    if (it == m_local.end())
        it = m_local.insert(id, TokenBucket::full(rule, now));
    TokenBucket &b = *it;
    b.refill(rule, now);
    if (b.take())
        return {};
    refused(scope);
    return RateDecision {false, b.msUntilToken(rule)};
}

void RateLimiter::take(const QByteArray &scope, const QByteArray &key, const RateRule &rule,
                       std::function<void(RateDecision)> done)
{
    if (!rule.enabled()) {
        done({});
        return;
    }
    if (!m_redis || !m_redis->isUp()) {
        done(takeLocal(scope, key, rule));
        return;
    }
    QPointer<RateLimiter> self(this);
    m_redis->evalSha(bucketScript(), {QByteArrayLiteral("tm:rl:") + scope + ':' + key},
                     {number(rule.perSecond), number(rule.burst)},
                     [self, scope, key, rule, done = std::move(done)](Result<RedisReply> reply) {
                         if (!self) {
                             done({});
                             return;
                         }
                         if (!reply || !reply->isArray() || reply->size() != 2) {
                             done(self->takeLocal(scope, key, rule)); // Redis failed: this instance decides
                             return;
                         }
                         const bool allowed = reply->at(0).toInteger().value_or(1) != 0;
                         if (allowed) {
                             done({});
                             return;
                         }
                         self->refused(scope);
                         done(RateDecision {false, std::max<qint64>(1, reply->at(1).toInteger().value_or(1000))});
                     });
}

} // namespace taskmaster::server
