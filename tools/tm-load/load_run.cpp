// LoadRun (load_run.h). Over 600 lines on purpose: one run is one sequence (seed, connect, send,
// fault, drain, verify against the database, sample the server processes) whose steps share the
// run's state; split across classes, each step would need most of that state passed in. The
// sections below follow the run's order.
#include "tools/tm-load/load_run.h"

#include "server/app/epoll_dispatcher.h"
#include "server/metrics/process_stats.h"
#include "tools/tm-load/event_wait.h"

#include <QCoreApplication>
#include <QProcess>
#include <QRandomGenerator>
#include <QTextStream>
#include <QThread>

#include <algorithm>

namespace taskmaster::load {

namespace {

constexpr qint64 kAttemptTimeoutNs = 15'000'000'000; // a handshake that takes longer is retried

// Runs f in obj's thread and waits for it.
template<typename F> void callIn(QObject *obj, F &&f)
{
    QMetaObject::invokeMethod(obj, std::forward<F>(f), Qt::BlockingQueuedConnection);
}

void say(const QString &line)
{
    QTextStream(stderr) << line << '\n';
}

qint64 errorsOf(const Counters &c)
{
    return c.sendErrors + c.errorFrames + c.connectFailures + c.disconnects + c.undecodable;
}

} // namespace

LoadRun::LoadRun(LoadConfig config) : m_config(std::move(config))
{
    m_report.config = m_config;
    m_report.runId
        = QStringLiteral("%1").arg(QRandomGenerator::global()->generate() & 0xffffffu, 6, 16, QLatin1Char('0'));
}

LoadRun::~LoadRun()
{
    stopWorkers();
}

RunReport LoadRun::run()
{
    m_clock.start();
    m_deadline = QDeadlineTimer(qint64(m_config.maxRunSeconds * 1000));
    m_report.startedAt = QDateTime::currentDateTimeUtc();
    m_report.self.pid = QCoreApplication::applicationPid();
    for (qint64 pid : std::as_const(m_config.serverPids))
        m_report.servers.append(ProcessSeries {pid, false, {}, {}, {}, {}, {}});
    for (qint64 pid : std::as_const(m_config.proxyPids))
        m_report.proxies.append(ProcessSeries {pid, false, {}, {}, {}, {}, {}});

    if (!m_config.verifyDbUrl.isEmpty()) {
        m_db = std::make_unique<DbReader>();
        if (const MaybeError e = m_db->open(m_config.verifyDbUrl)) {
            m_report.setupError = e->message;
            return m_report;
        }
    }
    if (const MaybeError e = seed()) {
        m_report.setupError = e->message;
        m_report.aborted = m_deadline.hasExpired();
        m_report.seedSeconds = elapsedSeconds();
        return m_report;
    }
    m_report.seedSeconds = elapsedSeconds();

    sampleProcesses(Mark::Start);
    startWorkers();
    const double connectStart = elapsedSeconds();
    if (!m_config.scenarioMode()) // a scenario opens its connections step by step while sending
        connectAll();
    m_report.connectSeconds = elapsedSeconds() - connectStart;
    // What the connects cost the servers (--server-pid): CPU seconds since the start sample.
    const auto connectCpu = [](const QList<ProcessSeries> &group) {
        double seconds = 0;
        for (const ProcessSeries &series : group) {
            const auto now = server::readProcessStats(series.pid);
            if (series.start && now)
                seconds += now->cpuSeconds() - series.start->cpuSeconds;
        }
        return seconds;
    };
    m_report.connectServerCpuSeconds = connectCpu(m_report.servers);
    m_report.connectProxyCpuSeconds = connectCpu(m_report.proxies);
    if (m_config.idleMode())
        idlePhase();
    else
        sendPhase();
    drainAndFinish();
    sampleProcesses(Mark::End);
    stopWorkers();
    return m_report;
}

// ---- Seeding -------------------------------------------------------------------------------

MaybeError LoadRun::seed()
{
    Seeder seeder(m_config.baseUrl, m_config.seedConcurrency);
    auto loaded = SeedData::load(m_config.tokensFile);
    if (!loaded)
        return loaded.error();
    m_seed = *loaded;
    if (!m_seed.users.isEmpty() && !seeder.tokenValid(m_seed.users.constFirst().token, m_deadline)) {
        say(QStringLiteral("tm-load: the tokens in %1 are not accepted by this server; seeding afresh")
                .arg(m_config.tokensFile));
        m_seed = SeedData {};
        m_seed.prefix = SeedData::newPrefix();
    }
    const auto save = [this]() -> MaybeError {
        return m_config.tokensFile.isEmpty() ? std::nullopt : m_seed.save(m_config.tokensFile);
    };
    const qsizetype had = m_seed.users.size();
    const MaybeError seeded = m_config.seedDbUrl.isEmpty()
        ? seeder.ensureUsers(m_seed, m_config.users, m_deadline)
        : seeder.ensureUsersInDb(m_seed, m_config.users, m_config.seedDbUrl, m_deadline);
    if (const MaybeError e = seeded) {
        (void)save();
        return e;
    }
    if (m_seed.users.size() > had)
        say(QStringLiteral("tm-load: registered %1 users in %2 s")
                .arg(m_seed.users.size() - had)
                .arg(elapsedSeconds(), 0, 'f', 1));
    if (const MaybeError e = save())
        return e;
    if (!m_config.idleMode()) {
        if (const MaybeError e = seeder.ensureRooms(m_seed, m_config.users, m_config.roomSize, m_deadline))
            return e;
        if (const MaybeError e = save())
            return e;
        m_report.rooms = int(m_seed.rooms.value(m_config.roomSize).size());
        if (m_config.bigRoomMembers > 0) {
            // The big room: one room of that size over its first members (room-size differs).
            if (const MaybeError e
                = seeder.ensureRooms(m_seed, m_config.bigRoomMembers, m_config.bigRoomMembers, m_deadline))
                return e;
            if (const MaybeError e = save())
                return e;
            m_report.bigRoomId = m_seed.rooms.value(m_config.bigRoomMembers).value(0).id;
        }
        if (m_config.restRate > 0) {
            if (const MaybeError e = seeder.ensureProjects(m_seed, m_config.roomSize, m_deadline))
                return e;
            if (const MaybeError e = save())
                return e;
        }
    }
    if (!m_config.seedDbUrl.isEmpty() && m_seed.users.size() > had) {
        DbReader db;
        if (const MaybeError e = db.open(m_config.seedDbUrl, QStringLiteral("seed-db")))
            return e;
        if (const MaybeError e = db.analyze())
            return e;
    }
    return std::nullopt;
}

// ---- Workers -------------------------------------------------------------------------------

void LoadRun::startWorkers()
{
    const int connections = m_config.connections();
    const int threads = std::min(m_config.threads, connections);
    const QList<SeededRoom> rooms = m_seed.rooms.value(m_config.roomSize);
    std::vector<QList<ClientSpec>> specs(static_cast<std::size_t>(threads));
    std::vector<int> bigMembers(static_cast<std::size_t>(threads), 0);
    for (int i = 0; i < connections; ++i) {
        const int u = i % int(m_seed.users.size());
        Id room = 0;
        if (!m_config.idleMode() && !rooms.isEmpty())
            room = rooms.at(std::min<qsizetype>(u / m_config.roomSize, rooms.size() - 1)).id;
        const Id big = u < m_config.bigRoomMembers ? m_report.bigRoomId : 0;
        bigMembers[std::size_t(i % threads)] += big > 0 ? 1 : 0;
        specs[std::size_t(i % threads)].append(ClientSpec {i, m_seed.users.at(u), room, big});
    }
    const int perThreadHandshakes = std::max(1, m_config.connectConcurrency / threads);
    for (int t = 0; t < threads; ++t) {
        Worker w;
        w.clients = int(specs[std::size_t(t)].size());
        w.bigMembers = bigMembers[std::size_t(t)];
        w.worker
            = new LoadWorker(m_config.wsUrl(), std::move(specs[std::size_t(t)]), perThreadHandshakes, m_report.runId);
        if (m_db)
            w.worker->recordAcks();
        w.worker->setReconnectLimits(m_config.reconnectBaseMs, m_config.reconnectMaxMs);
        w.thread = new QThread;
        w.thread->setObjectName(QStringLiteral("tm-load-%1").arg(t));
        // Thousands of sockets per thread: epoll, as the server (unless TM_EVENT_DISPATCHER=poll).
        if (qgetenv("TM_EVENT_DISPATCHER") != "poll") {
            auto *dispatcher = new server::EpollEventDispatcher;
            if (dispatcher->isValid())
                w.thread->setEventDispatcher(dispatcher);
            else
                delete dispatcher;
        }
        w.worker->moveToThread(w.thread);
        w.thread->start();
        m_workers.push_back(w);
    }
}

double LoadRun::workerRate(std::size_t worker, int users, double rate) const
{
    // Connection i lives on worker i % threads: count this worker's among the first `users`.
    const auto threads = qint64(m_workers.size());
    const qint64 mine = std::max<qint64>(0, (qint64(users) - qint64(worker) + threads - 1) / threads);
    return users > 0 ? rate * double(mine) / double(users) : 0;
}

void LoadRun::startRest()
{
    if (m_config.restRate <= 0 || m_config.idleMode())
        return;
    m_rest = new RestLoad(m_config.baseUrl, m_seed.users, m_seed.rooms.value(m_config.roomSize),
                          m_seed.projects.value(m_config.roomSize));
    m_restThread = new QThread;
    m_restThread->setObjectName(QStringLiteral("tm-load-rest"));
    m_rest->moveToThread(m_restThread);
    m_restThread->start();
    RestLoad *rest = m_rest;
    const double rate = m_config.restRate;
    QMetaObject::invokeMethod(rest, [rest, rate] { rest->start(rate); });
    m_restStartedAt = elapsedSeconds();
}

// Stops the schedule, waits (up to 10 s) for the requests in flight and takes the figures.
void LoadRun::stopRest()
{
    if (!m_rest)
        return;
    RestLoad *rest = m_rest;
    callIn(rest, [rest] { rest->stop(); });
    m_report.restSeconds = elapsedSeconds() - m_restStartedAt;
    (void)waitUntil(
        [&] {
            qint64 n = 0;
            callIn(rest, [&n, rest] { n = rest->inFlight(); });
            return n == 0;
        },
        QDeadlineTimer(10000), 20);
    std::array<RouteFigures, kRestRoutes> figures;
    callIn(rest, [&figures, rest] { figures = rest->take(); });
    for (int r = 0; r < kRestRoutes; ++r) {
        RouteFigures &f = figures[std::size_t(r)];
        if (f.requests == 0)
            continue;
        m_report.rest.append(
            RestRouteReport {routeTemplate(RestRoute(r)), f.requests, f.errors, f.statuses, f.latency.summary()});
    }
    callIn(rest, [rest] { delete rest; });
    m_rest = nullptr;
    m_restThread->quit();
    m_restThread->wait();
    delete m_restThread;
    m_restThread = nullptr;
}

void LoadRun::pollFault(qint64 now)
{
    if (!m_config.hasFault())
        return;
    if (!m_fault && !m_report.fault.started && now >= m_faultAtNs) {
        m_fault = new QProcess;
        m_fault->setProcessChannelMode(QProcess::MergedChannels);
        m_fault->start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), m_config.faultCommand});
        m_report.fault.started = true;
        m_report.fault.startedAt = double(now - m_sendStartNs) / 1e9;
        say(QStringLiteral("tm-load: fault at %1 s: %2")
                .arg(m_report.fault.startedAt, 0, 'f', 1)
                .arg(m_config.faultCommand));
    }
    if (m_fault && m_fault->state() == QProcess::NotRunning) {
        m_report.fault.endedAt = double(nowNs() - m_sendStartNs) / 1e9;
        m_report.fault.exitCode = m_fault->exitStatus() == QProcess::NormalExit ? m_fault->exitCode() : -1;
        finishFault();
        m_faultEndNs = nowNs();
        say(QStringLiteral("tm-load: fault command ended at %1 s with exit status %2")
                .arg(m_report.fault.endedAt, 0, 'f', 1)
                .arg(m_report.fault.exitCode));
    }
}

// Keeps the command's last lines; a command still running is killed.
void LoadRun::finishFault()
{
    if (!m_fault)
        return;
    if (m_fault->state() != QProcess::NotRunning) {
        m_fault->kill();
        m_fault->waitForFinished(5000);
    }
    const QList<QByteArray> lines = m_fault->readAll().trimmed().split('\n');
    m_report.fault.output = QString::fromUtf8(lines.mid(std::max<qsizetype>(0, lines.size() - 20)).join('\n'));
    delete m_fault;
    m_fault = nullptr;
}

std::vector<Channel> LoadRun::followedChannels()
{
    std::vector<Channel> out;
    for (const auto &[channel, seq] : finalSeqs())
        out.push_back(channel);
    return out;
}

std::map<Channel, Seq> LoadRun::finalSeqsWithDb()
{
    std::map<Channel, Seq> finals = finalSeqs();
    if (!m_db)
        return finals;
    std::vector<Channel> channels;
    for (const auto &[channel, seq] : finals)
        channels.push_back(channel);
    const auto db = m_db->lastSeqs(channels);
    if (!db) {
        say(db.error().message);
        return finals;
    }
    for (const auto &[channel, seq] : *db) {
        Seq &s = finals[channel];
        s = std::max(s, seq);
    }
    return finals;
}

void LoadRun::verifyWithDb(const std::map<Channel, Seq> &finals)
{
    DbVerification &v = m_report.verification;
    std::vector<Channel> channels;
    for (const auto &[channel, seq] : finals)
        channels.push_back(channel);
    const auto db = m_db->channels(channels);
    if (!db) {
        v.error = db.error().message;
        return;
    }
    const auto rows = m_db->runMessages(m_report.runId);
    if (!rows) {
        v.error = rows.error().message;
        return;
    }
    v.ran = true;
    v.channels = qint64(db->size());
    for (const auto &[channel, truth] : *db) {
        v.dbEvents += qint64(truth.seqs.size());
        v.seqHoles += seqHoles(truth);
    }
    std::vector<AckRecord> acks;
    for (Worker &w : m_workers) {
        LoadWorker *worker = w.worker;
        DbVerification mine;
        std::vector<AckRecord> theirs;
        callIn(worker, [&, worker] {
            mine = worker->verify(*db);
            theirs = worker->takeAcks();
        });
        v.streams += mine.streams;
        v.expected += mine.expected;
        v.missing += mine.missing;
        v.phantom += mine.phantom;
        for (const QString &e : std::as_const(mine.examples)) {
            if (v.examples.size() < 10)
                v.examples << e;
        }
        acks.insert(acks.end(), std::make_move_iterator(theirs.begin()), std::make_move_iterator(theirs.end()));
    }
    v.messages = compareMessages(acks, *rows);
}

void LoadRun::stopWorkers()
{
    for (Worker &w : m_workers) {
        LoadWorker *worker = w.worker;
        callIn(worker, [worker] { delete worker; });
        w.thread->quit();
        w.thread->wait();
        delete w.thread;
    }
    m_workers.clear();
}

WorkerSnapshot LoadRun::snapshot()
{
    WorkerSnapshot all;
    for (Worker &w : m_workers) {
        WorkerSnapshot s;
        LoadWorker *worker = w.worker;
        callIn(worker, [&s, worker] { s = worker->snapshot(); });
        all.counters += s.counters;
        all.open += s.open;
        all.pendingAcks += s.pendingAcks;
        all.recent.insert(all.recent.end(), s.recent.begin(), s.recent.end());
        all.recentKept.insert(all.recentKept.end(), s.recentKept.begin(), s.recentKept.end());
        all.stallMaxNs = std::max(all.stallMaxNs, s.stallMaxNs);
    }
    return all;
}

std::map<Channel, Seq> LoadRun::finalSeqs()
{
    std::map<Channel, Seq> finals;
    for (Worker &w : m_workers) {
        std::map<Channel, Seq> mine;
        LoadWorker *worker = w.worker;
        callIn(worker, [&mine, worker] { mine = worker->lastSeqs(); });
        for (const auto &[channel, seq] : mine) {
            Seq &s = finals[channel];
            s = std::max(s, seq);
        }
    }
    return finals;
}

// ---- Phases --------------------------------------------------------------------------------

void LoadRun::tick(const QString &phase, bool timeline)
{
    WorkerSnapshot s = snapshot();
    const bool periods = m_config.periodSeconds > 0 && phase == QLatin1String("send");
    if (periods)
        m_periodDelivery.merge(std::vector<qint64>(s.recent));
    const double now = elapsedSeconds();
    const double dt = std::max(1e-3, now - m_lastTickAt);
    LatencySamples window;
    window.merge(std::move(s.recent));
    const LatencySamples::Summary lat = window.summary();
    LatencySamples keptWindow;
    keptWindow.merge(std::move(s.recentKept));
    const double sentRate = double(s.counters.sent - m_lastTickCounters.sent) / dt;
    const double deliveredRate = double(s.counters.delivered - m_lastTickCounters.delivered) / dt;
    const double ackedRate = double(s.counters.acked - m_lastTickCounters.acked) / dt;
    const qint64 errors = errorsOf(s.counters);
    RestSnapshot rest;
    if (m_rest) {
        RestLoad *r = m_rest;
        callIn(r, [&rest, r] { rest = r->snapshot(); });
        m_restErrors += rest.errors;
    }
    m_lastTickAt = now;
    m_lastTickCounters = s.counters;
    if (m_config.progress) {
        say(QStringLiteral("tm-load [%1 %2s] users %3/%4 open  sent %5/s  delivered %6/s  p95 %7 ms  pending acks %8  "
                           "errors %9")
                .arg(phase)
                .arg(now, 0, 'f', 0)
                .arg(s.open)
                .arg(m_config.connections())
                .arg(sentRate, 0, 'f', 0)
                .arg(deliveredRate, 0, 'f', 0)
                .arg(lat.p95Ms, 0, 'f', 2)
                .arg(s.pendingAcks)
                .arg(errors));
    }
    if (timeline) {
        TimelinePoint p;
        p.atSeconds = double(nowNs() - m_sendStartNs) / 1e9;
        p.connected = s.open;
        p.sentPerSecond = sentRate;
        p.deliveredPerSecond = deliveredRate;
        p.ackedPerSecond = ackedRate;
        p.latency = lat;
        p.keptLatency = keptWindow.summary();
        p.stallMaxMs = double(s.stallMaxNs) / 1e6;
        p.errors = errors;
        p.restPerSecond = double(rest.done) / dt;
        LatencySamples restWindow;
        restWindow.merge(std::move(rest.recent));
        p.restP95Ms = restWindow.summary().p95Ms;
        p.restErrors = m_restErrors;
        m_report.timeline.append(p);
    }
    sampleProcesses();
    const double sinceSend = double(nowNs() - m_sendStartNs) / 1e9;
    if (periods && sinceSend - m_periodFrom >= m_config.periodSeconds - 1e-3)
        closePeriod(sinceSend, s.counters);
}

void LoadRun::closePeriod(double at, const Counters &counters)
{
    PeriodReport p;
    p.fromSeconds = m_periodFrom;
    p.delivery = m_periodDelivery.summary();
    for (const ProcessSeries &series : std::as_const(m_report.servers))
        p.servers.append(series.samples.isEmpty() ? ProcessSample {} : series.samples.constLast());
    extendPeriod(p, at, counters);
    m_report.periods.append(p);
    m_periodDelivery.clear();
}

void LoadRun::extendPeriod(PeriodReport &period, double at, const Counters &counters)
{
    period.toSeconds = at;
    period.sent += counters.sent - m_periodCounters.sent;
    period.acked += counters.acked - m_periodCounters.acked;
    period.delivered += counters.delivered - m_periodCounters.delivered;
    m_periodFrom = at;
    m_periodCounters = counters;
}

bool LoadRun::connectAll()
{
    for (Worker &w : m_workers) {
        LoadWorker *worker = w.worker;
        QMetaObject::invokeMethod(worker, [worker] { worker->startConnecting(kAttemptTimeoutNs); });
    }
    const QDeadlineTimer deadline(qint64(m_config.connectTimeoutSeconds * 1000));
    m_lastTickAt = elapsedSeconds();
    double nextTick = m_lastTickAt + 1;
    const qint64 wanted = m_config.connections();
    while (true) {
        const WorkerSnapshot s = snapshot();
        if (s.counters.connected >= wanted)
            return true;
        if (deadline.hasExpired() || m_deadline.hasExpired()) {
            say(QStringLiteral("tm-load: %1 of %2 connections reached welcome before the connect deadline")
                    .arg(s.counters.connected)
                    .arg(wanted));
            m_report.aborted = m_deadline.hasExpired();
            return false;
        }
        if (elapsedSeconds() >= nextTick) {
            nextTick += 1;
            tick(QStringLiteral("connect"), false);
        }
        runEventsFor(50);
    }
}

void LoadRun::sendPhase()
{
    if (m_report.aborted)
        return;
    m_sendStartNs = nowNs() + 20'000'000;
    SendPlan plan;
    plan.startNs = m_sendStartNs;
    plan.measureFromNs = plan.startNs + qint64(m_config.warmupSeconds * 1e9);
    plan.measureToNs = plan.measureFromNs + qint64(m_config.durationSeconds * 1e9);
    plan.bodyBytes = m_config.bodyBytes;
    // Scenario steps: their start times, users and rates.
    const QList<LoadStage> &stages = m_config.stages;
    std::vector<qint64> stageStarts;
    qint64 at = plan.startNs;
    for (const LoadStage &st : stages) {
        stageStarts.push_back(at);
        at += qint64(st.seconds * 1e9);
    }
    plan.stageStartsNs = stageStarts;
    m_faultAtNs = plan.startNs + qint64(m_config.faultAtSeconds * 1e9);
    if (m_config.hasFault())
        plan.faultAtNs = m_faultAtNs;
    const int connections = m_config.connections();
    for (std::size_t i = 0; i < m_workers.size(); ++i) {
        SendPlan mine = plan;
        mine.rate = stages.isEmpty() ? m_config.rate * double(m_workers[i].clients) / double(connections)
                                     : workerRate(i, stages.constFirst().users, stages.constFirst().rate);
        if (m_config.bigRoomMembers > 0)
            mine.bigRate = m_config.bigRoomRate * double(m_workers[i].bigMembers) / double(m_config.bigRoomMembers);
        LoadWorker *worker = m_workers[i].worker;
        QMetaObject::invokeMethod(worker, [worker, mine] { worker->startSending(mine); });
    }
    const double sendStart = elapsedSeconds();
    m_lastTickAt = sendStart;
    m_lastTickCounters = snapshot().counters;
    m_periodFrom = 0;
    m_periodCounters = m_lastTickCounters;
    startRest();
    qint64 nextTickNs = m_sendStartNs + 1'000'000'000;
    bool loadStarted = false;
    std::size_t nextStage = 0;
    // The send phase ends with the measured window, and not before the fault command has ended
    // and its tail has passed.
    const auto sending = [&](qint64 now) {
        if (now < plan.measureToNs)
            return true;
        if (!m_config.hasFault())
            return false;
        if (!m_report.fault.started || m_fault)
            return true;
        return now < m_faultEndNs + qint64(m_config.faultTailSeconds * 1e9);
    };
    while (sending(nowNs())) {
        if (m_deadline.hasExpired()) {
            m_report.aborted = true;
            break;
        }
        const qint64 now = nowNs();
        if (qsizetype(nextStage) < stages.size() && now >= stageStarts[nextStage]) {
            const LoadStage &st = stages.at(qsizetype(nextStage));
            say(QStringLiteral("tm-load: step %1: %2 users, %3 msg/s for %4 s")
                    .arg(st.name)
                    .arg(st.users)
                    .arg(st.rate)
                    .arg(st.seconds));
            for (std::size_t i = 0; i < m_workers.size(); ++i) {
                LoadWorker *worker = m_workers[i].worker;
                const double rate = workerRate(i, st.users, st.rate);
                const int users = st.users;
                const int concurrency = std::max(1, st.connectConcurrency / int(m_workers.size()));
                const bool first = nextStage == 0;
                QMetaObject::invokeMethod(worker, [worker, rate, users, concurrency, first] {
                    worker->startConnecting(kAttemptTimeoutNs, users, concurrency);
                    if (!first)
                        worker->setRate(rate);
                });
            }
            ++nextStage;
        }
        if (!loadStarted && now >= plan.measureFromNs) {
            loadStarted = true;
            markWindow(Mark::LoadStart);
        }
        pollFault(now);
        if (now >= nextTickNs) {
            nextTickNs += 1'000'000'000;
            tick(QStringLiteral("send"), true);
        }
        qint64 wakeNs = std::min({nextTickNs, plan.measureToNs, loadStarted ? plan.measureToNs : plan.measureFromNs});
        if (qsizetype(nextStage) < stages.size())
            wakeNs = std::min(wakeNs, stageStarts[nextStage]);
        if (m_config.hasFault() && !m_report.fault.started)
            wakeNs = std::min(wakeNs, m_faultAtNs);
        runEventsFor(int(std::clamp<qint64>((wakeNs - nowNs()) / 1'000'000, 1, 100)));
    }
    // --period-seconds: the tick of the window's last second (the loop ends before it runs), which
    // closes the last whole period.
    if (m_config.periodSeconds > 0 && !m_report.aborted)
        tick(QStringLiteral("send"), true);
    if (!loadStarted)
        markWindow(Mark::LoadStart);
    markWindow(Mark::LoadEnd);
    for (Worker &w : m_workers) {
        LoadWorker *worker = w.worker;
        callIn(worker, [worker] { worker->stopSending(); });
    }
    // The sends since the last period closed (the final tick came a little early or late on a
    // busy machine, or the senders sent after it): into the last period if it is short, so that
    // the periods together hold every send.
    if (m_config.periodSeconds > 0 && !m_report.aborted) {
        WorkerSnapshot s = snapshot();
        m_periodDelivery.merge(std::move(s.recent));
        const double endAt = double(nowNs() - m_sendStartNs) / 1e9;
        if (!m_report.periods.isEmpty() && endAt - m_periodFrom < m_config.periodSeconds / 2)
            extendPeriod(m_report.periods.last(), endAt, s.counters);
        else if (s.counters.sent > m_periodCounters.sent)
            closePeriod(endAt, s.counters);
    }
    stopRest();
    finishFault();
    m_report.sendSeconds = elapsedSeconds() - sendStart;
    for (qsizetype k = 0; k < stages.size(); ++k) {
        StageReport r;
        r.stage = stages.at(k);
        r.fromSeconds = double(stageStarts[std::size_t(k)] - m_sendStartNs) / 1e9;
        m_report.stages.append(r);
    }
}

void LoadRun::idlePhase()
{
    if (m_report.aborted)
        return;
    m_sendStartNs = nowNs();
    sampleProcesses(Mark::LoadStart);
    const QDeadlineTimer until(qint64(m_config.durationSeconds * 1000));
    m_lastTickAt = elapsedSeconds();
    double nextTick = m_lastTickAt + 1;
    while (!until.hasExpired()) {
        if (m_deadline.hasExpired()) {
            m_report.aborted = true;
            break;
        }
        if (elapsedSeconds() >= nextTick) {
            nextTick += 1;
            tick(QStringLiteral("idle"), true);
        }
        runEventsFor(int(std::clamp<qint64>(until.remainingTime(), 1, 100)));
    }
    sampleProcesses(Mark::LoadEnd);
    for (const ProcessSeries &p : std::as_const(m_report.servers)) {
        m_report.idleRssBeforeBytes += p.start ? p.start->rssBytes : 0;
        m_report.idleRssAfterBytes += p.loadEnd ? p.loadEnd->rssBytes : 0;
    }
}

void LoadRun::drainAndFinish()
{
    const double drainStart = elapsedSeconds();
    std::map<Channel, Seq> dbFinals; // --verify-db: the database's last seqs, read now and then
    QElapsedTimer sinceDbRead;
    if (!m_config.idleMode()) {
        const QDeadlineTimer deadline(qint64(m_config.drainSeconds * 1000));
        double nextTick = drainStart + 1;
        m_report.drained = false;
        while (true) {
            // Acks first, then the final seqs, then who is behind them: an ack that arrives
            // between reading the final seqs and counting the laggards would otherwise raise the
            // final seq after the check and count the deliveries still in flight as lost.
            qint64 pending = 0;
            for (Worker &w : m_workers) {
                LoadWorker *worker = w.worker;
                callIn(worker, [&, worker] { pending += worker->pendingAcks(); });
            }
            std::map<Channel, Seq> finals = finalSeqs();
            if (m_db && pending == 0 && (!sinceDbRead.isValid() || sinceDbRead.elapsed() >= 200)) {
                // Nothing unacknowledged: the database holds everything that will be delivered.
                dbFinals = finalSeqsWithDb();
                sinceDbRead.start();
            }
            for (const auto &[channel, seq] : dbFinals) {
                Seq &f = finals[channel];
                f = std::max(f, seq);
            }
            qint64 lagging = 0;
            for (Worker &w : m_workers) {
                LoadWorker *worker = w.worker;
                callIn(worker, [&, worker] { lagging += worker->lagging(finals); });
            }
            if (lagging == 0 && pending == 0 && (!m_db || !dbFinals.empty())) {
                m_report.drained = true;
                break;
            }
            if (deadline.hasExpired() || m_deadline.hasExpired()) {
                say(QStringLiteral("tm-load: drain ended with %1 sends unacknowledged and %2 channel streams behind")
                        .arg(pending)
                        .arg(lagging));
                m_report.aborted = m_report.aborted || m_deadline.hasExpired();
                break;
            }
            if (elapsedSeconds() >= nextTick) {
                nextTick += 1;
                tick(QStringLiteral("drain"), true);
            }
            runEventsFor(20);
        }
    }
    m_report.drainSeconds = elapsedSeconds() - drainStart;

    const std::map<Channel, Seq> finals = m_db ? finalSeqsWithDb() : finalSeqs();
    if (m_db)
        verifyWithDb(finals);
    LatencySamples delivery;
    LatencySamples deliverySame;
    LatencySamples deliveryCross;
    LatencySamples deliveryKept;
    LatencySamples deliveryKeptFault;
    LatencySamples deliveryResent;
    LatencySamples deliveryResumed;
    LatencySamples deliveryBig;
    LatencySamples ack;
    LatencySamples connect;
    LatencySamples reconnect;
    std::vector<StageTally> stages(std::size_t(m_report.stages.size()));
    for (Worker &w : m_workers) {
        WorkerResult r;
        LoadWorker *worker = w.worker;
        callIn(worker, [&r, &finals, worker] { r = worker->finish(finals); });
        m_report.counters += r.counters;
        for (const LostDetail &d : std::as_const(r.lostDetails)) {
            if (m_report.lostDetails.size() < 20)
                m_report.lostDetails.append(d);
        }
        delivery.merge(r.delivery.take());
        deliverySame.merge(r.deliverySame.take());
        deliveryCross.merge(r.deliveryCross.take());
        deliveryKept.merge(r.deliveryKept.take());
        deliveryKeptFault.merge(r.deliveryKeptFault.take());
        deliveryResent.merge(r.deliveryResent.take());
        deliveryResumed.merge(r.deliveryResumed.take());
        deliveryBig.merge(r.deliveryBig.take());
        m_report.bigRoomSent += r.bigRoomSent;
        ack.merge(r.ack.take());
        connect.merge(r.connect.take());
        reconnect.merge(r.reconnect.take());
        for (std::size_t k = 0; k < std::min(stages.size(), r.stages.size()); ++k) {
            stages[k].sent += r.stages[k].sent;
            stages[k].delivery.merge(r.stages[k].delivery.take());
            stages[k].connect.merge(r.stages[k].connect.take());
        }
    }
    if (m_config.unackedMayBeStored && m_report.verification.ran) {
        const Counters &c = m_report.counters;
        allowUnackedStored(m_report.verification.messages, c.sent - c.acked);
    }
    m_report.delivery = delivery.summary();
    m_report.deliverySame = deliverySame.summary();
    m_report.deliveryCross = deliveryCross.summary();
    m_report.deliveryKept = deliveryKept.summary();
    m_report.deliveryKeptFault = deliveryKeptFault.summary();
    m_report.deliveryResent = deliveryResent.summary();
    m_report.deliveryResumed = deliveryResumed.summary();
    m_report.deliveryBig = deliveryBig.summary();
    m_report.ack = ack.summary();
    m_report.connect = connect.summary();
    m_report.reconnect = reconnect.summary();
    for (std::size_t k = 0; k < stages.size(); ++k) {
        StageReport &r = m_report.stages[qsizetype(k)];
        r.sent = stages[k].sent;
        r.delivery = stages[k].delivery.summary();
        r.connect = stages[k].connect.summary();
    }
    // Let the close handshakes go out before the sockets are destroyed.
    runEventsFor(200);
}

void LoadRun::markWindow(Mark mark)
{
    const Counters c = snapshot().counters;
    sampleProcesses(mark);
    if (mark == Mark::LoadStart) {
        m_windowStartCounters = c;
        return;
    }
    m_report.windowSent = c.sent - m_windowStartCounters.sent;
    m_report.windowDelivered = c.delivered - m_windowStartCounters.delivered;
}

void LoadRun::sampleProcesses(Mark mark)
{
    const double at = elapsedSeconds();
    const auto take = [&](ProcessSeries &series, const std::optional<server::ProcessStats> &stats) {
        if (!stats) {
            series.vanished = true;
            return;
        }
        const ProcessSample s {at, stats->residentBytes, stats->cpuSeconds(), stats->openFds};
        series.samples.append(s);
        switch (mark) {
        case Mark::None:
            break;
        case Mark::Start:
            series.start = s;
            break;
        case Mark::LoadStart:
            series.loadStart = s;
            break;
        case Mark::LoadEnd:
            series.loadEnd = s;
            break;
        case Mark::End:
            series.end = s;
            break;
        }
    };
    for (ProcessSeries &series : m_report.servers)
        take(series, server::readProcessStats(series.pid));
    for (ProcessSeries &series : m_report.proxies)
        take(series, server::readProcessStats(series.pid));
    take(m_report.self, server::readProcessStats());
}

} // namespace taskmaster::load
