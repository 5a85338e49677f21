// Breaker metrics: the circuit_breaker_state{dependency} gauge (0 closed, 1 open, 2 half-open)
// and the circuit_breaker_transitions_total{dependency,to} counters of one dependency
// ("postgres", "replica", "redis"), every series present at 0 from the first scrape, plus a log
// line per transition. breakerObserver() registers them and returns the breaker's observer.
// Owns: nothing (the registry owns the families). Thread: registration on the caller's; the
// observer records lock-free and may run on any thread.
#pragma once

#include "server/metrics/metrics.h"
#include "shared/core/circuit_breaker.h"

#include <QString>

namespace taskmaster::server {

CircuitBreaker::Observer breakerObserver(MetricsRegistry &registry, const QString &dependency);

} // namespace taskmaster::server
