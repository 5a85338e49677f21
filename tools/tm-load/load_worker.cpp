#include "tools/tm-load/load_worker.h"

#include <algorithm>
#include <cmath>

namespace taskmaster::load {

namespace {
constexpr qsizetype kMaxLostDetails = 20;
} // namespace

LoadWorker::LoadWorker(QUrl wsUrl, QList<ClientSpec> clients, int connectConcurrency, QString runId, QObject *parent)
    : QObject(parent), m_url(std::move(wsUrl)), m_specs(std::move(clients)),
      m_connectConcurrency(std::max(1, connectConcurrency))
{
    m_tally.runId = runId;
    m_tally.tag = QStringLiteral("tmload %1 ").arg(runId);
    m_sweepTimer.setInterval(250);
    connect(&m_sweepTimer, &QTimer::timeout, this, [this] {
        const qint64 now = nowNs();
        // Every client pings every kHeartbeatSweeps sweeps (15 s, as the QML client), a slice of
        // them on each sweep: the pong's reconnectWindowMs keeps the reconnect spread current.
        const std::size_t slice = m_sweeps++ % kHeartbeatSweeps;
        for (std::size_t i = 0; i < m_clients.size(); ++i) {
            m_clients[i]->checkAttempt(now, m_attemptTimeoutNs);
            if (i % kHeartbeatSweeps == slice)
                m_clients[i]->heartbeat();
        }
    });
    m_sendTimer.setTimerType(Qt::PreciseTimer);
    m_sendTimer.setInterval(2);
    connect(&m_sendTimer, &QTimer::timeout, this, &LoadWorker::onSendTick);
}

LoadWorker::~LoadWorker() = default;

void LoadWorker::startConnecting(qint64 attemptTimeoutNs, int upTo, int concurrency)
{
    m_attemptTimeoutNs = attemptTimeoutNs;
    if (concurrency > 0)
        m_connectConcurrency = concurrency;
    if (m_clients.empty()) {
        m_clients.reserve(std::size_t(m_specs.size()));
        for (const ClientSpec &spec : std::as_const(m_specs)) {
            auto *c = new SimClient(spec.index, spec.user, spec.roomId, m_url, m_tally, this);
            c->setBigRoom(spec.bigRoomId);
            m_clients.push_back(c);
            // The first attempt of a client holds one of the handshake slots until it ends.
            const auto release = [this, c] {
                if (m_holdingSlot.remove(c)) {
                    --m_opening;
                    openMore();
                }
            };
            connect(c, &SimClient::welcomed, this, release);
            connect(c, &SimClient::attemptFailed, this, release);
        }
        m_sweepTimer.start();
    }
    while (m_queued < m_clients.size() && (upTo < 0 || m_clients[m_queued]->index() < upTo))
        m_toOpen.push_back(m_clients[m_queued++]);
    openMore();
}

void LoadWorker::openMore()
{
    while (m_opening < m_connectConcurrency && !m_toOpen.empty()) {
        SimClient *c = m_toOpen.front();
        m_toOpen.pop_front();
        ++m_opening;
        m_holdingSlot.insert(c);
        c->open();
    }
}

void LoadWorker::startSending(const SendPlan &plan)
{
    m_plan = plan;
    m_scheduled = 0;
    m_bigScheduled = 0;
    m_tally.measureFromNs = plan.measureFromNs;
    m_tally.measureToNs = plan.measureToNs;
    m_tally.faultAtNs = plan.faultAtNs;
    m_tally.stages.clear();
    for (qint64 from : plan.stageStartsNs)
        m_tally.stages.push_back(StageTally {from, 0, {}, {}});
    if (plan.rate > 0 || plan.bigRate > 0) {
        m_stall.restart();
        m_sendTimer.start();
    }
}

void LoadWorker::setRate(double rate)
{
    m_plan.rate = rate;
    m_plan.startNs = nowNs();
    m_scheduled = 0;
    if (rate > 0 && !m_sendTimer.isActive()) {
        m_stall.restart();
        m_sendTimer.start();
    } else if (rate <= 0 && m_plan.bigRate <= 0)
        m_sendTimer.stop();
}

void LoadWorker::stopSending()
{
    m_sendTimer.stop();
}

SimClient *LoadWorker::nextSender(bool big)
{
    std::size_t &next = big ? m_nextBigSender : m_nextSender;
    for (std::size_t tries = 0; tries < m_clients.size(); ++tries) {
        SimClient *c = m_clients[next];
        next = (next + 1) % m_clients.size();
        if (big ? c->canSendBig() : c->canSend())
            return c;
    }
    return nullptr;
}

void LoadWorker::onSendTick()
{
    const qint64 now = nowNs();
    m_stall.tick(now, m_sendTimer.interval() * qint64(1'000'000));
    if (now < m_plan.startNs || m_clients.empty())
        return;
    // Nothing is due after the measured window: a tick that comes late (the controller's stop
    // queued behind a busy machine) must not send past the schedule's end.
    const bool ended = m_plan.measureToNs > 0 && now >= m_plan.measureToNs;
    const qint64 upTo = ended ? m_plan.measureToNs - 1 : now;
    if (m_plan.rate > 0)
        sendDue(upTo, m_plan.rate, m_scheduled, false);
    if (m_plan.bigRate > 0)
        sendDue(upTo, m_plan.bigRate, m_bigScheduled, true);
    if (ended)
        m_sendTimer.stop();
}

void LoadWorker::sendDue(qint64 now, double rate, qint64 &scheduled, bool big)
{
    // Every message whose time has come (message k is due at k / rate): the first at once. The
    // count without the + 1 sent each message one interval after the time it is stamped with,
    // which added 1 / rate to every latency (200 ms at 5 msg/s, 2 ms at 500 msg/s).
    const auto target = qint64(std::floor(double(now - m_plan.startNs) / 1e9 * rate)) + 1;
    qint64 due = target - scheduled;
    // After a stall (the machine is busy) send at most 250 ms worth at once; the rest is dropped
    // and counted (lateDropped, a failure over --max-late-pct) rather than fired as one burst.
    const qint64 burst = std::max<qint64>(5, qint64(std::ceil(rate * 0.25)));
    if (due > burst) {
        m_tally.counters.lateDropped += due - burst;
        scheduled += due - burst;
        due = burst;
    }
    for (; due > 0; --due) {
        // Stamped with the time the schedule wanted it sent, not when it left: a delay inside the
        // tool counts in the latency (no coordinated omission).
        const qint64 dueNs = m_plan.startNs + qint64(double(scheduled) * 1e9 / rate);
        ++scheduled;
        if (SimClient *c = nextSender(big))
            c->sendMessage(m_plan.bodyBytes, dueNs, big);
        else
            ++m_tally.counters.notSent;
    }
}

WorkerSnapshot LoadWorker::snapshot()
{
    WorkerSnapshot s;
    s.counters = m_tally.counters;
    for (SimClient *c : m_clients) {
        if (c->state() == SimClient::State::Open)
            ++s.open;
        s.pendingAcks += c->pendingAcks();
    }
    s.recent = std::exchange(m_tally.recent, {});
    s.recentKept = std::exchange(m_tally.recentKept, {});
    s.stallMaxNs = m_stall.take();
    return s;
}

qint64 LoadWorker::pendingAcks() const
{
    qint64 n = 0;
    for (const SimClient *c : m_clients)
        n += c->pendingAcks();
    return n;
}

std::map<Channel, Seq> LoadWorker::lastSeqs() const
{
    std::map<Channel, Seq> out = m_tally.ackedSeq;
    for (const SimClient *c : m_clients)
        c->collectLastSeqs(out);
    return out;
}

qint64 LoadWorker::lagging(const std::map<Channel, Seq> &finals) const
{
    qint64 n = 0;
    for (const SimClient *c : m_clients)
        n += c->lagging(finals);
    return n;
}

WorkerResult LoadWorker::finish(const std::map<Channel, Seq> &finals)
{
    m_sendTimer.stop();
    m_sweepTimer.stop();
    WorkerResult r;
    r.counters = m_tally.counters;
    for (SimClient *c : m_clients) {
        c->account(finals, r.counters, r.lostDetails, kMaxLostDetails);
        c->stop();
    }
    r.delivery = std::move(m_tally.delivery);
    r.deliverySame = std::move(m_tally.deliverySame);
    r.deliveryCross = std::move(m_tally.deliveryCross);
    r.deliveryKept = std::move(m_tally.deliveryKept);
    r.deliveryKeptFault = std::move(m_tally.deliveryKeptFault);
    r.deliveryResent = std::move(m_tally.deliveryResent);
    r.deliveryResumed = std::move(m_tally.deliveryResumed);
    r.deliveryBig = std::move(m_tally.deliveryBig);
    r.bigRoomSent = m_tally.bigRoomSent;
    r.ack = std::move(m_tally.ack);
    r.connect = std::move(m_tally.connect);
    r.reconnect = std::move(m_tally.reconnect);
    r.stages = std::move(m_tally.stages);
    return r;
}

DbVerification LoadWorker::verify(const std::map<Channel, DbChannel> &db) const
{
    DbVerification v;
    for (const SimClient *c : m_clients)
        c->verify(db, v);
    return v;
}

} // namespace taskmaster::load
