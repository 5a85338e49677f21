#include "tools/tm-load/load_report.h"

#include <QJsonArray>
#include <QTextStream>

#include <algorithm>

namespace taskmaster::load {

namespace {

QString mb(qint64 bytes)
{
    return QStringLiteral("%1 MB").arg(double(bytes) / (1024.0 * 1024.0), 0, 'f', 1);
}

QJsonObject summaryJson(const LatencySamples::Summary &s)
{
    return QJsonObject {{QStringLiteral("count"), s.count}, {QStringLiteral("min"), s.minMs},
                        {QStringLiteral("mean"), s.meanMs}, {QStringLiteral("p50"), s.p50Ms},
                        {QStringLiteral("p95"), s.p95Ms},   {QStringLiteral("p99"), s.p99Ms},
                        {QStringLiteral("p999"), s.p999Ms}, {QStringLiteral("max"), s.maxMs}};
}

QJsonValue sampleJson(const std::optional<ProcessSample> &s)
{
    if (!s)
        return QJsonValue::Null;
    return QJsonObject {{QStringLiteral("t"), s->atSeconds},
                        {QStringLiteral("rssBytes"), s->rssBytes},
                        {QStringLiteral("cpuSeconds"), s->cpuSeconds},
                        {QStringLiteral("openFds"), s->openFds}};
}

QJsonValue optionalJson(const std::optional<double> &v)
{
    return v ? QJsonValue(*v) : QJsonValue(QJsonValue::Null);
}

QJsonValue costJson(const CpuCost &c)
{
    if (!c.known)
        return QJsonValue::Null;
    return QJsonObject {{QStringLiteral("cpuSeconds"), c.cpuSeconds},
                        {QStringLiteral("complete"), c.complete},
                        {QStringLiteral("per1000Messages"), optionalJson(c.perThousandMessages)},
                        {QStringLiteral("per100000Deliveries"), optionalJson(c.perHundredThousandDeliveries)}};
}

// "1.23 s per 1,000 messages, 0.45 s per 100,000 deliveries" or "-" parts.
QString costText(const CpuCost &c)
{
    const auto v = [](const std::optional<double> &x) { return x ? fixedPoint(*x, 3) : QStringLiteral("-"); };
    return QStringLiteral("%1 CPU s: %2 s per 1,000 messages, %3 s per 100,000 deliveries%4")
        .arg(fixedPoint(c.cpuSeconds, 1), v(c.perThousandMessages), v(c.perHundredThousandDeliveries),
             c.complete ? QString() : QStringLiteral(" (incomplete: a process left in the window)"));
}

QJsonObject seriesJson(const ProcessSeries &p)
{
    QJsonArray samples;
    for (const ProcessSample &s : p.samples)
        samples.append(QJsonArray {s.atSeconds, s.rssBytes, s.cpuSeconds, s.openFds});
    const auto cpu = p.loadCpuPercent();
    return QJsonObject {{QStringLiteral("pid"), p.pid},
                        {QStringLiteral("vanished"), p.vanished},
                        {QStringLiteral("start"), sampleJson(p.start)},
                        {QStringLiteral("loadStart"), sampleJson(p.loadStart)},
                        {QStringLiteral("loadEnd"), sampleJson(p.loadEnd)},
                        {QStringLiteral("end"), sampleJson(p.end)},
                        {QStringLiteral("rssMaxBytes"), p.maxRssBytes()},
                        {QStringLiteral("loadCpuPercent"), cpu ? QJsonValue(*cpu) : QJsonValue(QJsonValue::Null)},
                        {QStringLiteral("loadCpuSeconds"), optionalJson(p.loadCpuSeconds())},
                        {QStringLiteral("samples"), samples}};
}

QString rangesText(const QList<SeqRange> &ranges)
{
    QStringList parts;
    for (const SeqRange &r : ranges)
        parts << (r.from == r.to ? QString::number(r.from) : QStringLiteral("%1-%2").arg(r.from).arg(r.to));
    return parts.join(QLatin1Char(','));
}

QJsonObject lostJson(const LostDetail &d)
{
    QJsonArray missing;
    for (const SeqRange &r : d.missing)
        missing.append(QJsonArray {r.from, r.to});
    return QJsonObject {{QStringLiteral("connection"), d.connection},
                        {QStringLiteral("userId"), d.userId},
                        {QStringLiteral("channel"), d.channel.toString()},
                        {QStringLiteral("start"), d.start},
                        {QStringLiteral("contiguous"), d.contiguous},
                        {QStringLiteral("last"), d.last},
                        {QStringLiteral("final"), d.finalSeq},
                        {QStringLiteral("missing"), missing}};
}

QString processRow(const QString &name, const ProcessSeries &p)
{
    const auto cpu = p.loadCpuPercent();
    return QStringLiteral("%1 %2 %3 %4 %5 %6\n")
        .arg(name, -10)
        .arg(p.pid, 8)
        .arg(p.start ? mb(p.start->rssBytes) : QStringLiteral("-"), 11)
        .arg(p.end ? mb(p.end->rssBytes) : QStringLiteral("-"), 11)
        .arg(mb(p.maxRssBytes()), 11)
        .arg(cpu ? fixedPoint(*cpu, 1) : QStringLiteral("-"), 13);
}

QString latencyRow(const QString &name, const LatencySamples::Summary &s)
{
    return QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8\n")
        .arg(name, -10)
        .arg(s.count, 9)
        .arg(fixedPoint(s.p50Ms), 8)
        .arg(fixedPoint(s.p95Ms), 8)
        .arg(fixedPoint(s.p99Ms), 8)
        .arg(fixedPoint(s.p999Ms), 8)
        .arg(fixedPoint(s.maxMs), 8)
        .arg(fixedPoint(s.meanMs), 8);
}

} // namespace

QString fixedPoint(double v, int decimals)
{
    return QString::number(v, 'f', decimals);
}

qint64 ProcessSeries::maxRssBytes() const
{
    qint64 m = 0;
    for (const ProcessSample &s : samples)
        m = std::max(m, s.rssBytes);
    return m;
}

std::optional<double> ProcessSeries::loadCpuPercent() const
{
    if (!loadStart || !loadEnd || loadEnd->atSeconds <= loadStart->atSeconds)
        return std::nullopt;
    return (loadEnd->cpuSeconds - loadStart->cpuSeconds) / (loadEnd->atSeconds - loadStart->atSeconds) * 100.0;
}

std::optional<double> ProcessSeries::loadCpuSeconds() const
{
    if (!loadStart || !loadEnd)
        return std::nullopt;
    return loadEnd->cpuSeconds - loadStart->cpuSeconds;
}

CpuCost cpuCost(const QList<ProcessSeries> &processes, qint64 messages, qint64 deliveries)
{
    CpuCost c;
    for (const ProcessSeries &p : processes) {
        if (const auto s = p.loadCpuSeconds()) {
            c.known = true;
            c.cpuSeconds += *s;
        } else {
            c.complete = false;
        }
    }
    if (!c.known)
        return c;
    if (messages > 0)
        c.perThousandMessages = c.cpuSeconds * 1000.0 / double(messages);
    if (deliveries > 0)
        c.perHundredThousandDeliveries = c.cpuSeconds * 100000.0 / double(deliveries);
    return c;
}

std::optional<double> RunReport::kbPerConnection() const
{
    if (!config.idleMode() || servers.isEmpty() || counters.connected <= 0)
        return std::nullopt;
    return double(idleRssAfterBytes - idleRssBeforeBytes) / 1024.0 / double(counters.connected);
}

double RunReport::measuredRate() const
{
    return config.durationSeconds > 0 ? double(counters.sentMeasured) / config.durationSeconds : 0;
}

QStringList RunReport::failures() const
{
    QStringList f;
    if (!setupError.isEmpty())
        f << QStringLiteral("setup failed: %1").arg(setupError);
    if (aborted)
        f << QStringLiteral("stopped by the hard cap of %1 s").arg(config.maxRunSeconds);
    if (!setupError.isEmpty())
        return f;
    const qint64 wanted = config.connections();
    if (counters.connected < wanted)
        f << QStringLiteral("only %1 of %2 connections reached welcome").arg(counters.connected).arg(wanted);
    if (counters.lost > config.maxLost)
        f << QStringLiteral("%1 expected events lost (allowed %2)").arg(counters.lost).arg(config.maxLost);
    const qint64 unacked = counters.sent - counters.acked - counters.sendErrors;
    if (unacked > config.maxLost)
        f << QStringLiteral("%1 sends never acknowledged (allowed %2)").arg(unacked).arg(config.maxLost);
    if (counters.duplicates > config.maxDuplicates)
        f << QStringLiteral("%1 events duplicated (allowed %2)").arg(counters.duplicates).arg(config.maxDuplicates);
    if (counters.outOfOrder > config.maxOutOfOrder)
        f << QStringLiteral("%1 events out of order (allowed %2)").arg(counters.outOfOrder).arg(config.maxOutOfOrder);
    if (counters.undecodable > 0)
        f << QStringLiteral("%1 frames could not be decoded").arg(counters.undecodable);
    const qint64 scheduled = counters.sent + counters.notSent + counters.lateDropped;
    if (scheduled > 0 && double(counters.lateDropped) * 100.0 / double(scheduled) > config.maxLatePct)
        f << QStringLiteral("%1 of %2 scheduled sends dropped: tm-load fell over 250 ms behind (allowed %3 %)")
                 .arg(counters.lateDropped)
                 .arg(scheduled)
                 .arg(config.maxLatePct);
    if (config.hasFault()) {
        if (!fault.started)
            f << QStringLiteral("the fault command did not run");
        else if (fault.endedAt < 0)
            f << QStringLiteral("the fault command did not end");
        else if (fault.exitCode != 0)
            f << QStringLiteral("the fault command exited with %1").arg(fault.exitCode);
    }
    if (!config.verifyDbUrl.isEmpty()) {
        const DbVerification &v = verification;
        const MessageCheck &m = v.messages;
        if (!v.ran)
            f << QStringLiteral("database check did not run: %1").arg(v.error);
        if (v.ran && v.missing > 0)
            f << QStringLiteral("database check: %1 stored events never reached a connection that should have "
                                "them")
                     .arg(v.missing);
        if (v.ran && v.phantom > 0)
            f << QStringLiteral("database check: %1 received events are not in the database").arg(v.phantom);
        if (v.ran && v.seqHoles > 0)
            f << QStringLiteral("database check: %1 holes in channel seqs").arg(v.seqHoles);
        if (v.ran && m.ackedMissing + m.ackMismatch + m.ackedTwiceDifferently > 0)
            f << QStringLiteral("database check: acknowledged messages not stored as acknowledged (%1 missing, %2 "
                                "different, %3 acknowledged twice differently)")
                     .arg(m.ackedMissing)
                     .arg(m.ackMismatch)
                     .arg(m.ackedTwiceDifferently);
        if (v.ran && m.storedNotAcked > 0)
            f << QStringLiteral("database check: %1 stored messages were never acknowledged").arg(m.storedNotAcked);
        if (v.ran && m.storedTwice > 0)
            f << QStringLiteral("database check: %1 messages stored twice for one clientId").arg(m.storedTwice);
    }
    const bool expectSamples = !config.idleMode() && config.rate > 0 && config.roomSize > 1;
    if ((config.maxP95Ms || config.maxP99Ms) && expectSamples && delivery.count == 0)
        f << QStringLiteral("no delivery latency was measured");
    if (config.maxP95Ms && delivery.count > 0 && delivery.p95Ms > *config.maxP95Ms)
        f << QStringLiteral("delivery p95 %1 ms > %2 ms").arg(fixedPoint(delivery.p95Ms)).arg(*config.maxP95Ms);
    if (config.maxP99Ms && delivery.count > 0 && delivery.p99Ms > *config.maxP99Ms)
        f << QStringLiteral("delivery p99 %1 ms > %2 ms").arg(fixedPoint(delivery.p99Ms)).arg(*config.maxP99Ms);
    if (config.maxRssPerConnectionKb) {
        const auto kb = kbPerConnection();
        if (!kb)
            f << QStringLiteral("server RSS per connection unknown (idle mode with --server-pid needed)");
        else if (*kb > *config.maxRssPerConnectionKb)
            f << QStringLiteral("server RSS %1 KB per connection > %2 KB")
                     .arg(fixedPoint(*kb, 1))
                     .arg(*config.maxRssPerConnectionKb);
    }
    return f;
}

int RunReport::exitStatus() const
{
    if (!setupError.isEmpty())
        return 2;
    if (aborted)
        return 3;
    return failures().isEmpty() ? 0 : 1;
}

QString RunReport::table() const
{
    QString out;
    QTextStream t(&out);
    const Counters &c = counters;
    t << "tm-load run " << runId << "  " << startedAt.toString(Qt::ISODate);
    if (!config.label.isEmpty())
        t << "  " << config.label;
    t << '\n';
    t << "target       " << config.wsUrl().toString() << "  threads " << config.threads << '\n';
    if (config.idleMode()) {
        t << "load         idle: " << config.idleConnections << " connections of " << config.users << " users for "
          << config.durationSeconds << " s\n";
    } else {
        t << "load         " << config.users << " users, " << rooms << " rooms of " << config.roomSize << ", "
          << config.rate << " msg/s for " << config.durationSeconds << " s after " << config.warmupSeconds
          << " s warm-up, bodies of " << config.bodyBytes << " chars\n";
        if (config.bigRoomMembers > 0)
            t << "big room     " << config.bigRoomMembers << " members (the first users), " << config.bigRoomRate
              << " msg/s, " << bigRoomSent << " sent; its deliveries only in the 'big room' row\n";
    }
    t << "phases       seed " << fixedPoint(seedSeconds, 1) << " s, connect " << fixedPoint(connectSeconds, 1) << " s"
      << (servers.isEmpty()
              ? QString()
              : QStringLiteral(" (servers' CPU %1 s%2)")
                    .arg(fixedPoint(connectServerCpuSeconds, 1),
                         proxies.isEmpty() ? QString()
                                           : QStringLiteral(", nginx %1 s").arg(fixedPoint(connectProxyCpuSeconds, 1))))
      << ", send " << fixedPoint(sendSeconds, 1) << " s, drain " << fixedPoint(drainSeconds, 1) << " s"
      << (drained ? "" : " (not drained)") << '\n';
    t << '\n';
    t << "messages     sent " << c.sent << " (" << c.sentMeasured << " measured, " << fixedPoint(measuredRate(), 1)
      << "/s)  acked " << c.acked << "  errors " << c.sendErrors << " (rate limited " << c.rateLimited << ")  resent "
      << c.resent << "  not sent " << c.notSent << " (no sender connected), " << c.lateDropped << " (tm-load behind)"
      << '\n';
    t << "events       expected " << c.expected << "  delivered " << c.delivered << "  lost " << c.lost
      << "  duplicated " << c.duplicates << "  out of order " << c.outOfOrder << "  (fan-out " << c.fanoutDelivered
      << ", volatile " << c.volatileEvents << ", other errors " << c.errorFrames << ")\n";
    t << "presence     online " << c.presenceOnline << "  offline " << c.presenceOffline
      << "  lists (snapshots, gathered changes) " << c.presenceLists << '\n';
    t << "connections  " << c.connected << "/" << config.connections() << " connected  failures " << c.connectFailures
      << "  disconnects " << c.disconnects << "  reconnects " << c.reconnects << "  resumed events " << c.resumedEvents
      << "  resyncs " << c.resyncs << "  history filled " << c.historyFilled;
    if (!c.closeCodes.isEmpty()) {
        t << "  close codes";
        for (auto it = c.closeCodes.cbegin(); it != c.closeCodes.cend(); ++it)
            t << ' ' << it.key() << 'x' << it.value();
    }
    t << '\n';
    if (!c.welcomesByInstance.isEmpty()) {
        t << "instances    welcomes";
        for (auto it = c.welcomesByInstance.cbegin(); it != c.welcomesByInstance.cend(); ++it)
            t << ' ' << it.key() << ' ' << it.value();
        t << '\n';
    }
    for (qsizetype i = 0; i < std::min<qsizetype>(lostDetails.size(), 5); ++i) {
        const LostDetail &d = lostDetails.at(i);
        t << "lost         connection " << d.connection << " (user " << d.userId << ") " << d.channel.toString()
          << ": welcome seq " << d.start << ", contiguous to " << d.contiguous << ", last " << d.last << ", final "
          << d.finalSeq << ", missing " << rangesText(d.missing) << '\n';
    }
    if (fault.started) {
        t << "fault        '" << config.faultCommand << "' at " << fixedPoint(fault.startedAt, 1) << " s, ";
        if (fault.endedAt >= 0)
            t << "ended at " << fixedPoint(fault.endedAt, 1) << " s with exit status " << fault.exitCode << '\n';
        else
            t << "still running at the end\n";
    }
    if (verification.ran) {
        const DbVerification &v = verification;
        const MessageCheck &m = v.messages;
        t << "database     " << v.channels << " channels, " << v.dbEvents << " events, seq holes " << v.seqHoles << "; "
          << v.streams << " streams: expected " << v.expected << ", missing " << v.missing << ", phantom " << v.phantom
          << '\n';
        t << "             messages of the run: acknowledged " << m.acked << ", stored " << m.stored
          << ", acknowledged but not stored " << m.ackedMissing << ", stored differently " << m.ackMismatch
          << ", stored but not acknowledged " << m.storedNotAcked << ", stored twice " << m.storedTwice << '\n';
        if (config.unackedMayBeStored)
            t << "             stored without an ack (allowed: --unacked-may-be-stored) " << m.storedUnackedAllowed
              << '\n';
        for (const QString &e : v.examples.mid(0, 5))
            t << "             " << e << '\n';
        for (const QString &e : m.examples.mid(0, 5))
            t << "             " << e << '\n';
    } else if (!config.verifyDbUrl.isEmpty()) {
        t << "database     check did not run: " << verification.error << '\n';
    }
    if (!config.idleMode()) {
        t << '\n';
        t << QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8\n")
                 .arg(QStringLiteral("latency ms"), -10)
                 .arg(QStringLiteral("count"), 9)
                 .arg(QStringLiteral("p50"), 8)
                 .arg(QStringLiteral("p95"), 8)
                 .arg(QStringLiteral("p99"), 8)
                 .arg(QStringLiteral("p99.9"), 8)
                 .arg(QStringLiteral("max"), 8)
                 .arg(QStringLiteral("mean"), 8);
        t << latencyRow(QStringLiteral("delivery"), delivery);
        if (deliveryCross.count > 0) { // several instances: where the time goes
            t << latencyRow(QStringLiteral(" same inst"), deliverySame);
            t << latencyRow(QStringLiteral(" cross inst"), deliveryCross);
        }
        if (deliveryResumed.count > 0) { // some receivers lost their connection: apart from the rest
            t << latencyRow(QStringLiteral(" kept conn"), deliveryKept);
            if (deliveryKeptFault.count > 0)
                t << latencyRow(QStringLiteral("  from fault"), deliveryKeptFault);
            if (deliveryResent.count > 0)
                t << latencyRow(QStringLiteral("  resent"), deliveryResent);
            t << latencyRow(QStringLiteral(" resumed"), deliveryResumed);
        }
        if (config.bigRoomMembers > 0)
            t << latencyRow(QStringLiteral("big room"), deliveryBig);
        t << latencyRow(QStringLiteral("ack"), ack);
        t << latencyRow(QStringLiteral("connect"), connect);
        if (reconnect.count > 0)
            t << latencyRow(QStringLiteral("reconnect"), reconnect);
    }
    if (!stages.isEmpty()) {
        t << '\n';
        t << QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8 %9 %10\n")
                 .arg(QStringLiteral("step"), -16)
                 .arg(QStringLiteral("users"), 6)
                 .arg(QStringLiteral("msg/s"), 8)
                 .arg(QStringLiteral("from s"), 7)
                 .arg(QStringLiteral("sent"), 8)
                 .arg(QStringLiteral("p50"), 8)
                 .arg(QStringLiteral("p95"), 8)
                 .arg(QStringLiteral("p99"), 8)
                 .arg(QStringLiteral("max"), 8)
                 .arg(QStringLiteral("conn p95"), 9);
        for (const StageReport &st : stages) {
            t << QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8 %9 %10\n")
                     .arg(st.stage.name, -16)
                     .arg(st.stage.users, 6)
                     .arg(fixedPoint(st.stage.rate, 1), 8)
                     .arg(fixedPoint(st.fromSeconds, 1), 7)
                     .arg(st.sent, 8)
                     .arg(fixedPoint(st.delivery.p50Ms), 8)
                     .arg(fixedPoint(st.delivery.p95Ms), 8)
                     .arg(fixedPoint(st.delivery.p99Ms), 8)
                     .arg(fixedPoint(st.delivery.maxMs), 8)
                     .arg(fixedPoint(st.connect.p95Ms), 9);
        }
    }
    if (!rest.isEmpty()) {
        t << '\n';
        t << QStringLiteral("%1 %2 %3 %4 %5 %6 %7\n")
                 .arg(QStringLiteral("REST route"), -34)
                 .arg(QStringLiteral("requests"), 9)
                 .arg(QStringLiteral("errors"), 7)
                 .arg(QStringLiteral("p50"), 8)
                 .arg(QStringLiteral("p95"), 8)
                 .arg(QStringLiteral("p99"), 8)
                 .arg(QStringLiteral("max"), 8);
        for (const RestRouteReport &r : rest) {
            t << QStringLiteral("%1 %2 %3 %4 %5 %6 %7\n")
                     .arg(r.route, -34)
                     .arg(r.requests, 9)
                     .arg(r.errors, 7)
                     .arg(fixedPoint(r.latency.p50Ms), 8)
                     .arg(fixedPoint(r.latency.p95Ms), 8)
                     .arg(fixedPoint(r.latency.p99Ms), 8)
                     .arg(fixedPoint(r.latency.maxMs), 8);
        }
    }
    t << '\n';
    t << QStringLiteral("%1 %2 %3 %4 %5 %6\n")
             .arg(QStringLiteral("process"), -10)
             .arg(QStringLiteral("pid"), 8)
             .arg(QStringLiteral("RSS start"), 11)
             .arg(QStringLiteral("RSS end"), 11)
             .arg(QStringLiteral("RSS max"), 11)
             .arg(QStringLiteral("CPU % (load)"), 13);
    for (const ProcessSeries &p : servers)
        t << processRow(QStringLiteral("server"), p);
    for (const ProcessSeries &p : proxies)
        t << processRow(QStringLiteral("nginx"), p);
    t << processRow(QStringLiteral("tm-load"), self);
    if (!config.idleMode() && (serverCost().known || proxyCost().known)) {
        t << "cost         in the measured window (" << windowSent << " messages sent, " << windowDelivered
          << " deliveries received):\n";
        if (serverCost().known)
            t << "             servers " << costText(serverCost()) << '\n';
        if (proxyCost().known)
            t << "             nginx   " << costText(proxyCost()) << '\n';
    }
    if (const auto kb = kbPerConnection()) {
        t << "idle         server RSS " << mb(idleRssBeforeBytes) << " -> " << mb(idleRssAfterBytes) << ": "
          << fixedPoint(*kb, 1) << " KB per connection\n";
    }
    t << '\n';
    const QStringList f = failures();
    if (f.isEmpty())
        t << "result       PASS\n";
    for (const QString &line : f)
        t << "result       FAIL: " << line << '\n';
    return out;
}

QString RunReport::resultLine() const
{
    const Counters &c = counters;
    qint64 rssStart = 0;
    qint64 rssEnd = 0;
    double serverCpu = 0;
    bool cpuKnown = false;
    for (const ProcessSeries &p : servers) {
        rssStart += p.start ? p.start->rssBytes : 0;
        rssEnd += p.loadEnd ? p.loadEnd->rssBytes : (p.end ? p.end->rssBytes : 0);
        if (const auto cpu = p.loadCpuPercent()) {
            serverCpu += *cpu;
            cpuKnown = true;
        }
    }
    const auto selfCpu = self.loadCpuPercent();
    const auto kb = kbPerConnection();
    QStringList f;
    const auto add
        = [&f](const char *key, const QString &value) { f << QLatin1String(key) + QLatin1Char('=') + value; };
    add("connected", QString::number(c.connected));
    add("sent", QString::number(c.sent));
    add("rate", fixedPoint(measuredRate(), 1));
    add("ackP50", fixedPoint(ack.p50Ms));
    add("ackP99", fixedPoint(ack.p99Ms));
    add("p50", fixedPoint(delivery.p50Ms));
    add("p95", fixedPoint(delivery.p95Ms));
    add("p99", fixedPoint(delivery.p99Ms));
    add("max", fixedPoint(delivery.maxMs));
    add("keptP99", fixedPoint(deliveryKept.p99Ms));
    add("keptFaultP99", fixedPoint(deliveryKeptFault.p99Ms));
    add("resumedP99", fixedPoint(deliveryResumed.p99Ms));
    if (config.bigRoomMembers > 0) {
        add("bigP50", fixedPoint(deliveryBig.p50Ms));
        add("bigP99", fixedPoint(deliveryBig.p99Ms));
        add("bigSamples", QString::number(deliveryBig.count));
        add("connectSeconds", fixedPoint(connectSeconds, 2));
    }
    add("samples", QString::number(delivery.count));
    add("lost", QString::number(c.lost));
    add("dup", QString::number(c.duplicates));
    add("ooo", QString::number(c.outOfOrder));
    add("unacked", QString::number(c.sent - c.acked - c.sendErrors));
    add("notSent", QString::number(c.notSent));
    add("lateDropped", QString::number(c.lateDropped));
    add("undecodable", QString::number(c.undecodable));
    add("rateLimited", QString::number(c.rateLimited));
    add("disconnects", QString::number(c.disconnects));
    add("serverRssStartKb", QString::number(rssStart / 1024));
    add("serverRssEndKb", QString::number(rssEnd / 1024));
    add("serverCpu", cpuKnown ? fixedPoint(serverCpu, 1) : QStringLiteral("-1"));
    add("loadCpu", selfCpu ? fixedPoint(*selfCpu, 1) : QStringLiteral("-1"));
    const auto costFigure = [](const std::optional<double> &v) { return v ? fixedPoint(*v, 3) : QStringLiteral("-1"); };
    const CpuCost sc = serverCost();
    add("serverCpuPer1kMsg", costFigure(sc.perThousandMessages));
    add("serverCpuPer100kDel", costFigure(sc.perHundredThousandDeliveries));
    if (!proxies.isEmpty()) {
        const CpuCost pc = proxyCost();
        add("nginxCpuPer1kMsg", costFigure(pc.perThousandMessages));
        add("nginxCpuPer100kDel", costFigure(pc.perHundredThousandDeliveries));
    }
    add("kbPerConn", kb ? fixedPoint(*kb, 1) : QStringLiteral("-1"));
    add("connectP95", fixedPoint(connect.p95Ms));
    add("reconnects", QString::number(c.reconnects));
    add("reconnectP50", fixedPoint(reconnect.p50Ms));
    add("reconnectP95", fixedPoint(reconnect.p95Ms));
    add("reconnectMax", fixedPoint(reconnect.maxMs));
    add("dbChecked", verification.ran ? QStringLiteral("1") : QStringLiteral("0"));
    add("dbMissing", QString::number(verification.missing));
    add("dbPhantom", QString::number(verification.phantom));
    add("dbProblems", QString::number(verification.problems()));
    add("faultExit", fault.started ? QString::number(fault.exitCode) : QStringLiteral("-1"));
    add("exit", QString::number(exitStatus()));
    return QStringLiteral("RESULT ") + f.join(QLatin1Char(' '));
}

QJsonObject RunReport::toJson() const
{
    const Counters &c = counters;
    QJsonObject closeCodes;
    for (auto it = c.closeCodes.cbegin(); it != c.closeCodes.cend(); ++it)
        closeCodes.insert(QString::number(it.key()), it.value());
    QJsonObject welcomes;
    for (auto it = c.welcomesByInstance.cbegin(); it != c.welcomesByInstance.cend(); ++it)
        welcomes.insert(it.key(), it.value());
    QJsonArray serverList;
    for (const ProcessSeries &p : servers)
        serverList.append(seriesJson(p));
    QJsonArray proxyList;
    for (const ProcessSeries &p : proxies)
        proxyList.append(seriesJson(p));
    QJsonArray timelineList;
    for (const TimelinePoint &p : timeline)
        timelineList.append(QJsonObject {{QStringLiteral("t"), p.atSeconds},
                                         {QStringLiteral("connected"), p.connected},
                                         {QStringLiteral("sentPerSecond"), p.sentPerSecond},
                                         {QStringLiteral("deliveredPerSecond"), p.deliveredPerSecond},
                                         {QStringLiteral("ackedPerSecond"), p.ackedPerSecond},
                                         {QStringLiteral("p50"), p.latency.p50Ms},
                                         {QStringLiteral("p95"), p.latency.p95Ms},
                                         {QStringLiteral("p99"), p.latency.p99Ms},
                                         {QStringLiteral("max"), p.latency.maxMs},
                                         {QStringLiteral("keptP50"), p.keptLatency.p50Ms},
                                         {QStringLiteral("keptP99"), p.keptLatency.p99Ms},
                                         {QStringLiteral("stallMaxMs"), p.stallMaxMs},
                                         {QStringLiteral("errors"), p.errors},
                                         {QStringLiteral("restPerSecond"), p.restPerSecond},
                                         {QStringLiteral("restP95"), p.restP95Ms},
                                         {QStringLiteral("restErrors"), p.restErrors}});
    QJsonArray periodList;
    for (const PeriodReport &p : periods) {
        QJsonArray processes;
        for (const ProcessSample &s : p.servers)
            processes.append(QJsonObject {{QStringLiteral("rssBytes"), s.rssBytes},
                                          {QStringLiteral("cpuSeconds"), s.cpuSeconds},
                                          {QStringLiteral("openFds"), s.openFds}});
        periodList.append(QJsonObject {{QStringLiteral("from"), p.fromSeconds},
                                       {QStringLiteral("to"), p.toSeconds},
                                       {QStringLiteral("sent"), p.sent},
                                       {QStringLiteral("acked"), p.acked},
                                       {QStringLiteral("delivered"), p.delivered},
                                       {QStringLiteral("delivery"), summaryJson(p.delivery)},
                                       {QStringLiteral("servers"), processes}});
    }
    QJsonArray lostList;
    for (const LostDetail &d : lostDetails)
        lostList.append(lostJson(d));
    QJsonArray failureList;
    for (const QString &f : failures())
        failureList.append(f);
    QJsonArray pids;
    for (qint64 pid : config.serverPids)
        pids.append(pid);
    const auto kb = kbPerConnection();
    QJsonArray stageList;
    for (const StageReport &st : stages)
        stageList.append(QJsonObject {{QStringLiteral("name"), st.stage.name},
                                      {QStringLiteral("users"), st.stage.users},
                                      {QStringLiteral("rate"), st.stage.rate},
                                      {QStringLiteral("seconds"), st.stage.seconds},
                                      {QStringLiteral("from"), st.fromSeconds},
                                      {QStringLiteral("sent"), st.sent},
                                      {QStringLiteral("delivery"), summaryJson(st.delivery)},
                                      {QStringLiteral("connect"), summaryJson(st.connect)}});
    QJsonArray restList;
    for (const RestRouteReport &r : rest) {
        QJsonObject statuses;
        for (auto it = r.statuses.cbegin(); it != r.statuses.cend(); ++it)
            statuses.insert(QString::number(it.key()), it.value());
        restList.append(
            QJsonObject {{QStringLiteral("route"), r.route},
                         {QStringLiteral("requests"), r.requests},
                         {QStringLiteral("errors"), r.errors},
                         {QStringLiteral("errorRate"), r.requests > 0 ? double(r.errors) / double(r.requests) : 0.0},
                         {QStringLiteral("perSecond"), restSeconds > 0 ? double(r.requests) / restSeconds : 0.0},
                         {QStringLiteral("statuses"), statuses},
                         {QStringLiteral("latencyMs"), summaryJson(r.latency)}});
    }
    const DbVerification &v = verification;
    const QJsonObject verifyJson {
        {QStringLiteral("ran"), v.ran},
        {QStringLiteral("error"), v.error},
        {QStringLiteral("channels"), v.channels},
        {QStringLiteral("dbEvents"), v.dbEvents},
        {QStringLiteral("seqHoles"), v.seqHoles},
        {QStringLiteral("streams"), v.streams},
        {QStringLiteral("expected"), v.expected},
        {QStringLiteral("missing"), v.missing},
        {QStringLiteral("phantom"), v.phantom},
        {QStringLiteral("acked"), v.messages.acked},
        {QStringLiteral("stored"), v.messages.stored},
        {QStringLiteral("ackedMissing"), v.messages.ackedMissing},
        {QStringLiteral("ackMismatch"), v.messages.ackMismatch},
        {QStringLiteral("ackedTwiceDifferently"), v.messages.ackedTwiceDifferently},
        {QStringLiteral("storedNotAcked"), v.messages.storedNotAcked},
        {QStringLiteral("storedTwice"), v.messages.storedTwice},
        {QStringLiteral("storedUnackedAllowed"), v.messages.storedUnackedAllowed},
        {QStringLiteral("problems"), v.problems()},
        {QStringLiteral("examples"), QJsonArray::fromStringList(v.examples + v.messages.examples)}};
    return QJsonObject {
        {QStringLiteral("tool"), QStringLiteral("tm-load")},
        {QStringLiteral("format"), 1},
        {QStringLiteral("runId"), runId},
        {QStringLiteral("label"), config.label},
        {QStringLiteral("startedAt"), startedAt.toString(Qt::ISODateWithMs)},
        {QStringLiteral("mode"), config.idleMode() ? QStringLiteral("idle") : QStringLiteral("load")},
        {QStringLiteral("config"),
         QJsonObject {{QStringLiteral("url"), config.baseUrl.toString()},
                      {QStringLiteral("threads"), config.threads},
                      {QStringLiteral("users"), config.users},
                      {QStringLiteral("connections"), config.connections()},
                      {QStringLiteral("roomSize"), config.roomSize},
                      {QStringLiteral("rooms"), rooms},
                      {QStringLiteral("rate"), config.rate},
                      {QStringLiteral("durationSeconds"), config.durationSeconds},
                      {QStringLiteral("warmupSeconds"), config.warmupSeconds},
                      {QStringLiteral("drainSeconds"), config.drainSeconds},
                      {QStringLiteral("bodyBytes"), config.bodyBytes},
                      {QStringLiteral("serverPids"), pids}}},
        {QStringLiteral("phases"),
         QJsonObject {{QStringLiteral("seedSeconds"), seedSeconds},
                      {QStringLiteral("connectSeconds"), connectSeconds},
                      {QStringLiteral("connectServerCpuSeconds"), connectServerCpuSeconds},
                      {QStringLiteral("connectProxyCpuSeconds"), connectProxyCpuSeconds},
                      {QStringLiteral("sendSeconds"), sendSeconds},
                      {QStringLiteral("drainSeconds"), drainSeconds},
                      {QStringLiteral("drained"), drained},
                      {QStringLiteral("aborted"), aborted},
                      {QStringLiteral("setupError"), setupError}}},
        {QStringLiteral("messages"),
         QJsonObject {{QStringLiteral("sent"), c.sent},
                      {QStringLiteral("sentMeasured"), c.sentMeasured},
                      {QStringLiteral("measuredRate"), measuredRate()},
                      {QStringLiteral("resent"), c.resent},
                      {QStringLiteral("acked"), c.acked},
                      {QStringLiteral("sendErrors"), c.sendErrors},
                      {QStringLiteral("rateLimited"), c.rateLimited},
                      {QStringLiteral("notSent"), c.notSent},
                      {QStringLiteral("lateDropped"), c.lateDropped}}},
        {QStringLiteral("events"),
         QJsonObject {{QStringLiteral("expected"), c.expected},
                      {QStringLiteral("delivered"), c.delivered},
                      {QStringLiteral("lost"), c.lost},
                      {QStringLiteral("duplicated"), c.duplicates},
                      {QStringLiteral("outOfOrder"), c.outOfOrder},
                      {QStringLiteral("fanoutDelivered"), c.fanoutDelivered},
                      {QStringLiteral("volatile"), c.volatileEvents},
                      {QStringLiteral("presenceOnline"), c.presenceOnline},
                      {QStringLiteral("presenceOffline"), c.presenceOffline},
                      {QStringLiteral("presenceLists"), c.presenceLists},
                      {QStringLiteral("historyFilled"), c.historyFilled},
                      {QStringLiteral("errorFrames"), c.errorFrames},
                      {QStringLiteral("undecodable"), c.undecodable}}},
        {QStringLiteral("connections"),
         QJsonObject {{QStringLiteral("planned"), config.connections()},
                      {QStringLiteral("connected"), c.connected},
                      {QStringLiteral("failures"), c.connectFailures},
                      {QStringLiteral("disconnects"), c.disconnects},
                      {QStringLiteral("reconnects"), c.reconnects},
                      {QStringLiteral("resumedEvents"), c.resumedEvents},
                      {QStringLiteral("resyncs"), c.resyncs},
                      {QStringLiteral("closeCodes"), closeCodes},
                      {QStringLiteral("welcomesByInstance"), welcomes}}},
        {QStringLiteral("latencyMs"),
         QJsonObject {{QStringLiteral("delivery"), summaryJson(delivery)},
                      {QStringLiteral("deliverySameInstance"), summaryJson(deliverySame)},
                      {QStringLiteral("deliveryCrossInstance"), summaryJson(deliveryCross)},
                      {QStringLiteral("deliveryKept"), summaryJson(deliveryKept)},
                      {QStringLiteral("deliveryKeptFromFault"), summaryJson(deliveryKeptFault)},
                      {QStringLiteral("deliveryResent"), summaryJson(deliveryResent)},
                      {QStringLiteral("deliveryResumed"), summaryJson(deliveryResumed)},
                      {QStringLiteral("ack"), summaryJson(ack)},
                      {QStringLiteral("connect"), summaryJson(connect)},
                      {QStringLiteral("reconnect"), summaryJson(reconnect)}}},
        {QStringLiteral("servers"), serverList},
        {QStringLiteral("proxies"), proxyList},
        // CPU seconds per unit of work over the measured window (null without --server-pid /
        // --proxy-pid).
        {QStringLiteral("cost"),
         QJsonObject {{QStringLiteral("windowSent"), windowSent},
                      {QStringLiteral("windowDelivered"), windowDelivered},
                      {QStringLiteral("servers"), costJson(serverCost())},
                      {QStringLiteral("proxies"), costJson(proxyCost())}}},
        {QStringLiteral("self"), seriesJson(self)},
        {QStringLiteral("idle"),
         config.idleMode() ? QJsonValue(
             QJsonObject {{QStringLiteral("connections"), c.connected},
                          {QStringLiteral("rssBeforeBytes"), idleRssBeforeBytes},
                          {QStringLiteral("rssAfterBytes"), idleRssAfterBytes},
                          {QStringLiteral("kbPerConnection"), kb ? QJsonValue(*kb) : QJsonValue(QJsonValue::Null)}})
                           : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("scenario"), toString(config.scenario)},
        {QStringLiteral("stages"), stageList},
        {QStringLiteral("fault"),
         config.hasFault() ? QJsonValue(QJsonObject {{QStringLiteral("command"), config.faultCommand},
                                                     {QStringLiteral("started"), fault.started},
                                                     {QStringLiteral("startedAt"), fault.startedAt},
                                                     {QStringLiteral("endedAt"), fault.endedAt},
                                                     {QStringLiteral("exitCode"), fault.exitCode},
                                                     {QStringLiteral("output"), fault.output}})
                           : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("verification"), config.verifyDbUrl.isEmpty() ? QJsonValue(QJsonValue::Null) : verifyJson},
        {QStringLiteral("rest"), restList},
        // --big-room-members (an addition): the big room apart from the rest.
        {QStringLiteral("bigRoom"),
         config.bigRoomMembers > 0 ? QJsonValue(QJsonObject {{QStringLiteral("members"), config.bigRoomMembers},
                                                             {QStringLiteral("rate"), config.bigRoomRate},
                                                             {QStringLiteral("roomId"), bigRoomId},
                                                             {QStringLiteral("sent"), bigRoomSent},
                                                             {QStringLiteral("connectSeconds"), connectSeconds},
                                                             {QStringLiteral("delivery"), summaryJson(deliveryBig)}})
                                   : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("timeline"), timelineList},
        {QStringLiteral("periods"), periodList},
        {QStringLiteral("lostDetails"), lostList},
        {QStringLiteral("result"),
         QJsonObject {{QStringLiteral("passed"), failureList.isEmpty()},
                      {QStringLiteral("exitStatus"), exitStatus()},
                      {QStringLiteral("failures"), failureList}}},
    };
}

} // namespace taskmaster::load
