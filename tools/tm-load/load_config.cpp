#include "tools/tm-load/load_config.h"

#include "shared/core/version.h"

#include <QCommandLineParser>
#include <QHostAddress>

#include <cmath>
#include <limits>

namespace taskmaster::load {

namespace {

Error badOption(const QString &name, const QString &why)
{
    return Error::badRequest(QStringLiteral("--%1: %2").arg(name, why), name);
}

// Reads option `name` as a number within [lo, hi] into `out` when it was given.
MaybeError readNumber(const QCommandLineParser &p, const QString &name, double lo, double hi, double &out)
{
    if (!p.isSet(name))
        return std::nullopt;
    bool ok = false;
    const double v = p.value(name).toDouble(&ok);
    if (!ok || !std::isfinite(v) || v < lo || v > hi)
        return badOption(
            name, QStringLiteral("expected a number from %1 to %2, got '%3'").arg(lo).arg(hi).arg(p.value(name)));
    out = v;
    return std::nullopt;
}

MaybeError readInt(const QCommandLineParser &p, const QString &name, qint64 lo, qint64 hi, qint64 &out)
{
    if (!p.isSet(name))
        return std::nullopt;
    bool ok = false;
    const qint64 v = p.value(name).toLongLong(&ok);
    if (!ok || v < lo || v > hi)
        return badOption(
            name, QStringLiteral("expected an integer from %1 to %2, got '%3'").arg(lo).arg(hi).arg(p.value(name)));
    out = v;
    return std::nullopt;
}

MaybeError readInt(const QCommandLineParser &p, const QString &name, qint64 lo, qint64 hi, int &out)
{
    qint64 v = out;
    if (auto e = readInt(p, name, lo, hi, v))
        return e;
    out = int(v);
    return std::nullopt;
}

MaybeError readOptional(const QCommandLineParser &p, const QString &name, double lo, double hi,
                        std::optional<double> &out)
{
    if (!p.isSet(name))
        return std::nullopt;
    double v = 0;
    if (auto e = readNumber(p, name, lo, hi, v))
        return e;
    out = v;
    return std::nullopt;
}

} // namespace

QString toString(Scenario s)
{
    switch (s) {
    case Scenario::None:
        return QStringLiteral("none");
    case Scenario::Ramp:
        return QStringLiteral("ramp");
    case Scenario::Burst:
        return QStringLiteral("burst");
    case Scenario::Sustained:
        return QStringLiteral("sustained");
    }
    return {};
}

QList<LoadStage> scenarioStages(Scenario s, int users, double rate, double factor)
{
    QList<LoadStage> stages;
    const auto step = [&](const QString &name, int n, double seconds, int concurrency) {
        n = std::max(1, n);
        stages.append(LoadStage {name, n, rate * double(n) / double(std::max(1, users)),
                                 std::max(0.5, seconds * factor), concurrency});
    };
    switch (s) {
    case Scenario::None:
        break;
    case Scenario::Ramp:
        // 100 -> 500 -> 1000 for the spec's 1000 users: a tenth, a half, all of them.
        step(QStringLiteral("ramp-%1").arg(std::max(1, users / 10)), users / 10, 180, 64);
        step(QStringLiteral("ramp-%1").arg(std::max(1, users / 2)), users / 2, 180, 64);
        step(QStringLiteral("ramp-%1").arg(users), users, 180, 64);
        break;
    case Scenario::Burst:
        step(QStringLiteral("burst-0-%1").arg(users), users, 120, std::max(64, users));
        break;
    case Scenario::Sustained:
        step(QStringLiteral("sustained-%1").arg(users), users, 600, 64);
        break;
    }
    return stages;
}

QUrl LoadConfig::wsUrl() const
{
    QUrl u = baseUrl;
    u.setScheme(baseUrl.scheme() == QLatin1String("https") ? QStringLiteral("wss") : QStringLiteral("ws"));
    QString path = u.path();
    if (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    u.setPath(path + QStringLiteral("/ws"));
    u.setQuery(QString());
    return u;
}

bool isLoopbackTarget(const QUrl &url)
{
    if (!url.isValid() || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
        return false;
    const QString host = url.host();
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

Result<LoadConfig> parseLoadArguments(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "tm-load: load generator and latency meter for taskmaster-server (loopback targets only).\n"
        "Seeds users and rooms over REST, connects them over WebSocket, sends messages at a total rate and\n"
        "measures end-to-end delivery latency, loss, duplicates and order. Exit status: 0 all thresholds met,\n"
        "1 a threshold missed, 2 bad arguments or setup failure, 3 stopped by the hard cap."));
    p.addHelpOption();
    p.addOption(QCommandLineOption(QStringLiteral("version"), QStringLiteral("Show the version and exit.")));
    const auto opt = [&p](const char *name, const char *valueName, const char *help) {
        p.addOption(
            QCommandLineOption(QString::fromLatin1(name), QString::fromLatin1(help), QString::fromLatin1(valueName)));
    };
    opt("url", "URL", "HTTP base of the server (default http://127.0.0.1:8080); WebSocket at <URL>/ws.");
    opt("threads", "N", "Event-loop worker threads holding the users (default 2).");
    opt("users", "N", "Simulated users, one connection each (default 50).");
    opt("room-size", "N", "Members per room (default 10).");
    opt("big-room-members", "N",
        "One more room with the first N users as members (N <= --users, not --room-size), receiving "
        "--big-room-rate messages a second; its delivery latency is reported apart (default 0: none).");
    opt("big-room-rate", "MSG/S", "Messages per second into the big room, from its members (default 10).");
    opt("rate", "MSG/S", "Messages per second, all senders together (default 100; 0: none).");
    opt("duration", "S", "Seconds of measured sending (default 10).");
    opt("warmup", "S", "Seconds of sending before the measurement (default 2).");
    opt("drain", "S", "Most seconds to wait for acks and deliveries after sending (default 5).");
    opt("connect-timeout", "S", "Most seconds for all users to connect (default 60).");
    opt("reconnect-base-ms", "MS",
        "Reconnect backoff as the QML client's: first attempt anywhere in [0, MS], then doubling with "
        "equal jitter (default 500).");
    opt("reconnect-max-ms", "MS", "Longest reconnect backoff (default 30000).");
    opt("idle", "N",
        "Idle mode: N connections that only say hello, for --duration; reports server RSS per "
        "connection. Users are reused round-robin when N > --users.");
    opt("body-bytes", "N", "Message body length (default 64, at least 48).");
    opt("seed-concurrency", "N", "REST requests in flight while seeding (default 8).");
    opt("connect-concurrency", "N", "WebSocket handshakes in flight (default 64).");
    opt("tokens", "FILE", "Keep users, tokens and rooms in FILE and reuse them on later runs.");
    opt("json", "FILE", "Write the report as JSON to FILE.");
    opt("server-pid", "PID", "Sample RSS, CPU and open files of this process (repeatable).");
    opt("proxy-pid", "PID", "Sample this balancer process (an nginx worker) apart from the servers (repeatable).");
    opt("label", "TEXT", "Free text copied into the report.");
    opt("max-p95-ms", "MS", "Fail when the delivery latency p95 is above MS.");
    opt("max-p99-ms", "MS", "Fail when the delivery latency p99 is above MS.");
    opt("max-lost", "N", "Fail when more than N expected events were lost (default 0).");
    opt("max-late-pct", "P",
        "Fail when more than P % of the scheduled sends were dropped because tm-load fell over 250 ms behind "
        "(default 1).");
    opt("max-dup", "N", "Fail when more than N events arrived twice (default 0).");
    opt("max-out-of-order", "N", "Fail when more than N events arrived after a later one (default 0).");
    opt("max-rss-per-conn-kb", "KB", "Idle mode: fail when the server grew by more than KB per connection.");
    opt("max-run", "S", "Hard cap on the whole run, seeding included (default 1200, at most 7200).");
    opt("scenario", "NAME",
        "ramp (users/10 -> users/2 -> users, default 1000 users, 180 s each), burst (0 -> users at once, "
        "default 500, then 120 s) or sustained (default 1000 users, 600 s); the rate (default 0.2 msg/s "
        "per user at the top) follows the connected users. Replaces --duration and --warmup.");
    opt("duration-factor", "F", "Scenario durations times F (default 1 = the spec's time; 0.1 for a smoke run).");
    opt("fault-command", "CMD",
        "Run CMD (/bin/sh -c) during the send phase, e.g. 'cluster.sh kill-instance 2'; sending goes on "
        "until it ended plus --fault-tail. A non-zero exit fails the run.");
    opt("fault-at", "S", "Seconds after sending started to run --fault-command (default 2).");
    opt("fault-tail", "S", "Seconds of sending after --fault-command ended (default 3).");
    opt("seed-db", "URL",
        "Seed users straight into the server's PostgreSQL (loopback) with one REST-registered user's password "
        "hash and a session each: seconds for 10,000 users instead of minutes of hashing.");
    opt("verify-db", "URL",
        "After the drain, check every connection's received seqs and every ack against this PostgreSQL "
        "database (postgres://..., loopback): zero missing, phantom, unacknowledged-but-stored or "
        "duplicated messages, no seq holes.");
    p.addOption(QCommandLineOption(
        QStringLiteral("unacked-may-be-stored"),
        QStringLiteral("With --verify-db: a send that was never acknowledged (error frame, or no answer before its "
                       "connection or the database went away) may be stored; such rows are counted, not failures, "
                       "up to the number of sends without an ack. Their events must still reach every connection.")));
    opt("rest-rate", "REQ/S", "REST requests per second over the route mix (rooms, history, tasks); default 0.");
    opt("plot", "FILE", "Write a PNG of latency percentiles and throughput over time (needs gnuplot).");
    opt("period-seconds", "S",
        "Also summarise every S seconds of sending: latency percentiles, sent/acked/delivered, the "
        "sampled processes' RSS and open files (the JSON report's periods; default 0: none).");
    p.addOption(QCommandLineOption(QStringLiteral("quiet"), QStringLiteral("No progress lines.")));
    p.addOption(
        QCommandLineOption(QStringLiteral("result-line"),
                           QStringLiteral("After the table, print one 'RESULT key=value ...' line for scripts.")));

    if (!p.parse(arguments))
        return Error::badRequest(p.errorText());
    if (p.isSet(QStringLiteral("help")))
        return Error {ErrorCode::Unavailable, p.helpText(), {}};
    if (p.isSet(QStringLiteral("version")))
        return Error {ErrorCode::Unavailable, QStringLiteral("tm-load %1\n").arg(QLatin1String(kVersion)), {}};
    if (!p.positionalArguments().isEmpty())
        return Error::badRequest(QStringLiteral("unexpected argument '%1'").arg(p.positionalArguments().constFirst()));

    LoadConfig c;
    if (p.isSet(QStringLiteral("url"))) {
        c.baseUrl = QUrl(p.value(QStringLiteral("url")), QUrl::StrictMode);
        if (!c.baseUrl.isValid() || c.baseUrl.host().isEmpty())
            return badOption(QStringLiteral("url"),
                             QStringLiteral("not a URL: '%1'").arg(p.value(QStringLiteral("url"))));
    }
    if (!isLoopbackTarget(c.baseUrl))
        return badOption(QStringLiteral("url"),
                         QStringLiteral("tm-load only loads loopback targets (127.0.0.0/8, ::1, "
                                        "localhost) over http; refused '%1'")
                             .arg(c.baseUrl.toString()));

    MaybeError e;
    const auto check = [&e](MaybeError s) {
        if (!e && s)
            e = std::move(s);
    };
    check(readInt(p, QStringLiteral("threads"), 1, kMaxThreads, c.threads));
    check(readInt(p, QStringLiteral("users"), 1, kMaxConnections, c.users));
    check(readInt(p, QStringLiteral("room-size"), 1, kMaxConnections, c.roomSize));
    check(readInt(p, QStringLiteral("big-room-members"), 2, kMaxConnections, c.bigRoomMembers));
    check(readNumber(p, QStringLiteral("big-room-rate"), 0, 1e5, c.bigRoomRate));
    check(readNumber(p, QStringLiteral("rate"), 0, 1e6, c.rate));
    check(readNumber(p, QStringLiteral("duration"), 0.1, kMaxRunSecondsCap, c.durationSeconds));
    check(readNumber(p, QStringLiteral("warmup"), 0, 600, c.warmupSeconds));
    check(readNumber(p, QStringLiteral("drain"), 0, 300, c.drainSeconds));
    check(readNumber(p, QStringLiteral("connect-timeout"), 1, 3600, c.connectTimeoutSeconds));
    check(readInt(p, QStringLiteral("reconnect-base-ms"), 1, 600000, c.reconnectBaseMs));
    check(readInt(p, QStringLiteral("reconnect-max-ms"), 1, 600000, c.reconnectMaxMs));
    check(readInt(p, QStringLiteral("idle"), 1, kMaxConnections, c.idleConnections));
    check(readInt(p, QStringLiteral("body-bytes"), 48, 8192, c.bodyBytes));
    check(readInt(p, QStringLiteral("seed-concurrency"), 1, 256, c.seedConcurrency));
    check(readInt(p, QStringLiteral("connect-concurrency"), 1, 10000, c.connectConcurrency));
    check(readOptional(p, QStringLiteral("max-p95-ms"), 0, 1e9, c.maxP95Ms));
    check(readOptional(p, QStringLiteral("max-p99-ms"), 0, 1e9, c.maxP99Ms));
    check(readInt(p, QStringLiteral("max-lost"), 0, std::numeric_limits<qint64>::max(), c.maxLost));
    check(readNumber(p, QStringLiteral("max-late-pct"), 0, 100, c.maxLatePct));
    check(readInt(p, QStringLiteral("max-dup"), 0, std::numeric_limits<qint64>::max(), c.maxDuplicates));
    check(readInt(p, QStringLiteral("max-out-of-order"), 0, std::numeric_limits<qint64>::max(), c.maxOutOfOrder));
    check(readOptional(p, QStringLiteral("max-rss-per-conn-kb"), 0, 1e9, c.maxRssPerConnectionKb));
    check(readNumber(p, QStringLiteral("max-run"), 1, kMaxRunSecondsCap, c.maxRunSeconds));
    check(readNumber(p, QStringLiteral("duration-factor"), 0.001, 10, c.durationFactor));
    check(readNumber(p, QStringLiteral("fault-at"), 0, 3600, c.faultAtSeconds));
    check(readNumber(p, QStringLiteral("fault-tail"), 0, 600, c.faultTailSeconds));
    check(readNumber(p, QStringLiteral("rest-rate"), 0, 100000, c.restRate));
    check(readNumber(p, QStringLiteral("period-seconds"), 0, 86400, c.periodSeconds));
    if (e)
        return *e;
    if (p.isSet(QStringLiteral("scenario"))) {
        const QString name = p.value(QStringLiteral("scenario"));
        for (Scenario s : {Scenario::Ramp, Scenario::Burst, Scenario::Sustained}) {
            if (name == toString(s))
                c.scenario = s;
        }
        if (c.scenario == Scenario::None)
            return badOption(QStringLiteral("scenario"),
                             QStringLiteral("expected ramp, burst or sustained, got '%1'").arg(name));
        if (c.idleMode())
            return badOption(QStringLiteral("scenario"), QStringLiteral("not with --idle"));
        if (!p.isSet(QStringLiteral("users")))
            c.users = c.scenario == Scenario::Burst ? 500 : 1000;
        if (!p.isSet(QStringLiteral("rate")))
            c.rate = 0.2 * c.users;
        c.stages = scenarioStages(c.scenario, c.users, c.rate, c.durationFactor);
        c.warmupSeconds = 0;
        c.durationSeconds = 0;
        for (const LoadStage &st : std::as_const(c.stages))
            c.durationSeconds += st.seconds;
    } else if (p.isSet(QStringLiteral("duration-factor"))) {
        return badOption(QStringLiteral("duration-factor"), QStringLiteral("only with --scenario"));
    }
    if (c.bigRoomMembers > 0) {
        if (c.idleMode() || c.scenarioMode())
            return badOption(QStringLiteral("big-room-members"), QStringLiteral("not with --idle or --scenario"));
        if (c.bigRoomMembers > c.users || c.bigRoomMembers == c.roomSize)
            return badOption(
                QStringLiteral("big-room-members"),
                QStringLiteral("%1: at most --users (%2) and not --room-size").arg(c.bigRoomMembers).arg(c.users));
    } else if (p.isSet(QStringLiteral("big-room-rate"))) {
        return badOption(QStringLiteral("big-room-rate"), QStringLiteral("only with --big-room-members"));
    }
    c.faultCommand = p.value(QStringLiteral("fault-command"));
    if (c.hasFault() && c.idleMode())
        return badOption(QStringLiteral("fault-command"), QStringLiteral("not with --idle"));
    if (c.hasFault() && c.faultAtSeconds >= c.warmupSeconds + c.durationSeconds)
        return badOption(QStringLiteral("fault-at"),
                         QStringLiteral("%1 s is not within the %2 s of sending")
                             .arg(c.faultAtSeconds)
                             .arg(c.warmupSeconds + c.durationSeconds));
    c.verifyDbUrl = p.value(QStringLiteral("verify-db"));
    c.seedDbUrl = p.value(QStringLiteral("seed-db"));
    if (!c.verifyDbUrl.isEmpty() && c.idleMode())
        return badOption(QStringLiteral("verify-db"), QStringLiteral("not with --idle"));
    c.unackedMayBeStored = p.isSet(QStringLiteral("unacked-may-be-stored"));
    if (c.unackedMayBeStored && c.verifyDbUrl.isEmpty())
        return badOption(QStringLiteral("unacked-may-be-stored"), QStringLiteral("only with --verify-db"));
    c.plotFile = p.value(QStringLiteral("plot"));
    // Idle mode without --users: one user per connection.
    if (c.idleMode() && !p.isSet(QStringLiteral("users")))
        c.users = c.idleConnections;
    for (const char *name : {"server-pid", "proxy-pid"}) {
        const QString option = QLatin1String(name);
        for (const QString &pid : p.values(option)) {
            bool ok = false;
            const qint64 v = pid.toLongLong(&ok);
            if (!ok || v <= 0)
                return badOption(option, QStringLiteral("not a process id: '%1'").arg(pid));
            (option == QLatin1String("server-pid") ? c.serverPids : c.proxyPids).append(v);
        }
    }
    c.tokensFile = p.value(QStringLiteral("tokens"));
    c.jsonFile = p.value(QStringLiteral("json"));
    c.label = p.value(QStringLiteral("label"));
    c.progress = !p.isSet(QStringLiteral("quiet"));
    c.resultLine = p.isSet(QStringLiteral("result-line"));
    const double planned = c.warmupSeconds + c.durationSeconds + c.drainSeconds;
    if (planned > c.maxRunSeconds)
        return badOption(QStringLiteral("max-run"),
                         QStringLiteral("warm-up + duration + drain (%1 s) exceed the hard cap "
                                        "of %2 s")
                             .arg(planned)
                             .arg(c.maxRunSeconds));
    return c;
}

} // namespace taskmaster::load
