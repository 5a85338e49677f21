// parseRateRule and formatRateRule (declared in rate_limiter.h): apart from the RateLimiter so that
// the config parser's fuzz target (fuzz/) links them without the limiter, Redis and metrics.
#include "server/ratelimit/rate_limiter.h"

#include <QStringList>

#include <cmath>

namespace taskmaster::server {

Result<RateRule> parseRateRule(const QString &text, const QString &field)
{
    const QString t = text.trimmed();
    if (t == QLatin1String("0") || t.compare(QLatin1String("off"), Qt::CaseInsensitive) == 0)
        return RateRule {};
    const QStringList parts = t.split(QLatin1Char('/'));
    auto bad = [&] {
        return Error::badRequest(
            QStringLiteral("--%1 must be RATE/BURST (requests per second, e.g. 100/200) or 0 to disable").arg(field),
            field);
    };
    if (parts.size() > 2)
        return bad();
    bool ok = false;
    const double rate = parts.at(0).toDouble(&ok);
    if (!ok || !std::isfinite(rate) || rate <= 0 || rate > 1e6)
        return bad();
    double burst = std::max(1.0, rate);
    if (parts.size() == 2) {
        burst = parts.at(1).toDouble(&ok);
        if (!ok || !std::isfinite(burst) || burst < 1 || burst > 1e7)
            return bad();
    }
    return RateRule {rate, burst};
}

QString formatRateRule(const RateRule &rule)
{
    if (!rule.enabled())
        return QStringLiteral("0");
    return QStringLiteral("%1/%2").arg(rule.perSecond).arg(rule.burst);
}

} // namespace taskmaster::server
