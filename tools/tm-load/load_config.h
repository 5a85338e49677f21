// LoadConfig: the command line of tm-load, checked. Owns the bounds every run keeps: loopback
// targets only, a hard cap on the run's length, sane ranges for every number.
// Thread: main, at start only.
#pragma once

#include "shared/core/error.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>

namespace taskmaster::load {

// One step of a scenario: from its start, `users` connections (the first ones; more are opened
// when the step begins) and `rate` messages per second in total, for `seconds`.
struct LoadStage {
    QString name;
    int users = 0;
    double rate = 0;
    double seconds = 0;
    int connectConcurrency = 64; // handshakes in flight while this step opens its connections
    friend bool operator==(const LoadStage &, const LoadStage &) = default;
};

// The scenarios of issue 6 (durations at --duration-factor 1, "the spec's time"):
//   ramp       100 -> 500 -> 1000 users, 180 s each, the rate following the users
//   burst      0 -> 500 users at once (every handshake in flight together), then 120 s of sending
//   sustained  1000 users at the full rate for 600 s
enum class Scenario { None, Ramp, Burst, Sustained };

// One public field per command-line option (over 20 on purpose: a plain value, checked once by
// parse and read by the run).
struct LoadConfig {
    QUrl baseUrl {QStringLiteral("http://127.0.0.1:8080")}; // REST base; the WebSocket is <base>/ws
    int threads = 2; // event-loop worker threads holding the simulated users
    int users = 50; // simulated users (one connection each)
    int roomSize = 10; // members per room; users i*size .. i*size+size-1 share room i
    // > 0: one more room ("all hands") whose members are users 0 .. bigRoomMembers-1, receiving
    // bigRoomRate messages a second from its members; its delivery latency is reported apart
    // (the other figures do not count it).
    int bigRoomMembers = 0;
    double bigRoomRate = 10;
    double rate = 100; // messages per second, all senders together
    double durationSeconds = 10; // measured sending
    double warmupSeconds = 2; // sending before the measurement starts (not in the latency figures)
    double drainSeconds = 5; // after sending: wait this long at most for acks and deliveries
    qint64 reconnectBaseMs = 500; // the reconnect Backoff: the QML client's defaults
    qint64 reconnectMaxMs = 30000;
    double connectTimeoutSeconds = 60; // every user connected within this, or the run goes on without
    int idleConnections = 0; // > 0: idle mode, this many connections that only say hello
    int bodyBytes = 64; // message body length (at least what the timestamp needs)
    int seedConcurrency = 8; // REST requests in flight while seeding
    int connectConcurrency = 64; // WebSocket handshakes in flight, all threads together
    QString tokensFile; // users, tokens and rooms kept for later runs against the same server
    QString jsonFile; // machine-readable report
    QList<qint64> serverPids; // processes whose RSS and CPU are sampled
    QList<qint64> proxyPids; // the balancer's workers (nginx), sampled and reported apart
    QString label; // free text copied into the report
    bool progress = true; // one line per second on stderr
    bool resultLine = false; // after the table, one "RESULT key=value ..." line for scripts
    // Thresholds: the exit status is 1 when one is missed.
    std::optional<double> maxP95Ms;
    std::optional<double> maxP99Ms;
    qint64 maxLost = 0;
    double maxLatePct = 1; // sends dropped for the tool falling behind, % of the scheduled
    qint64 maxDuplicates = 0;
    qint64 maxOutOfOrder = 0;
    std::optional<double> maxRssPerConnectionKb; // idle mode
    double maxRunSeconds = 1200; // hard cap on the whole run, seeding included; the process ends itself

    // Scenario mode: the send phase is `stages` (users connect as their step begins), with no
    // warm-up; --users, --rate and --duration-factor shape the steps.
    Scenario scenario = Scenario::None;
    double durationFactor = 1;
    QList<LoadStage> stages;

    // A fault injected during the send phase: `faultCommand` runs (/bin/sh -c) `faultAtSeconds`
    // after sending started; sending goes on until it has ended and at least `faultTailSeconds`
    // more, and past the measured window if need be. Its exit status must be 0.
    QString faultCommand;
    double faultAtSeconds = 2;
    double faultTailSeconds = 3;
    // The exact check against PostgreSQL (db_verify.h): every connection's stream of every
    // channel against the stored events, acks against the stored messages.
    QString verifyDbUrl;
    // With it: a send never acknowledged (an error frame, or no answer before its connection or
    // the database went away) may be stored, for faults that can lose an ack after the commit
    // (PostgreSQL killed); such rows are counted, not failures, up to the sends without an ack.
    bool unackedMayBeStored = false;
    QString seedDbUrl; // --seed-db: users inserted into PostgreSQL instead of registered

    // REST traffic next to the WebSocket load: requests per second over the route mix of
    // rest_load.h (rooms, history, tasks), open loop; 0: none.
    double restRate = 0;
    // A PNG of latency percentiles and throughput over time (gnuplot).
    QString plotFile;
    // > 0: the send phase summarised every this many seconds as well (the report's periods:
    // exact latency percentiles, sent/acked/delivered, each process's RSS and open files), for
    // long runs that look for growth or drift (bench-soak.sh: 60).
    double periodSeconds = 0;

    [[nodiscard]] QUrl wsUrl() const; // ws://host:port/ws
    [[nodiscard]] bool idleMode() const { return idleConnections > 0; }
    // Connections the run opens: idleConnections in idle mode, else users.
    [[nodiscard]] int connections() const { return idleMode() ? idleConnections : users; }
    [[nodiscard]] bool hasFault() const { return !faultCommand.isEmpty(); }
    [[nodiscard]] bool scenarioMode() const { return scenario != Scenario::None; }
};

// Highest values accepted, whatever the command line says.
inline constexpr double kMaxRunSecondsCap = 7200;
inline constexpr int kMaxConnections = 60000;
inline constexpr int kMaxThreads = 64;

[[nodiscard]] QString toString(Scenario s);
// The steps of a scenario for `users` (the top), total `rate` at the top and the factor.
[[nodiscard]] QList<LoadStage> scenarioStages(Scenario s, int users, double rate, double factor);

// True for http://127.x.y.z, http://[::1] and http://localhost: the only targets tm-load loads.
[[nodiscard]] bool isLoopbackTarget(const QUrl &url);

// Parses the arguments (program name first). --help (--version) answers an Error with code
// Unavailable whose message is the help text ("tm-load <version>"); a bad value answers
// BadRequest naming the option.
[[nodiscard]] Result<LoadConfig> parseLoadArguments(const QStringList &arguments);

} // namespace taskmaster::load
