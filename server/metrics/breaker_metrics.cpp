#include "server/metrics/breaker_metrics.h"

#include "server/log/json_log.h"

#include <QJsonObject>

namespace taskmaster::server {

CircuitBreaker::Observer breakerObserver(MetricsRegistry &registry, const QString &dependency)
{
    using State = CircuitBreaker::State;
    Gauge *state = &registry
                        .gaugeFamily("circuit_breaker_state",
                                     "Circuit breaker of a dependency: 0 closed, 1 open (calls fail at once), "
                                     "2 half-open (one probe call).",
                                     {"dependency"})
                        .labels({dependency});
    CounterFamily &transitions = registry.counterFamily(
        "circuit_breaker_transitions_total", "Circuit breaker transitions of a dependency, by the state entered.",
        {"dependency", "to"});
    Counter *to[3] {};
    for (State s : {State::Closed, State::Open, State::HalfOpen})
        to[int(s)] = &transitions.labels({dependency, QLatin1StringView(CircuitBreaker::name(s))});
    state->set(0);
    return [state, toClosed = to[0], toOpen = to[1], toHalfOpen = to[2], dependency](State from, State next) {
        state->set(double(int(next)));
        (next == State::Closed ? toClosed : next == State::Open ? toOpen : toHalfOpen)->inc();
        logEvent(lcServer(), next == State::Open ? QtWarningMsg : QtInfoMsg,
                 QStringLiteral("circuit breaker ") + QLatin1StringView(CircuitBreaker::name(next)),
                 {{QStringLiteral("dependency"), dependency},
                  {QStringLiteral("from"), QLatin1StringView(CircuitBreaker::name(from))}});
    };
}

} // namespace taskmaster::server
