#include "tools/tm-load/sim_client.h"

#include "shared/core/overloaded.h"

#include <QNetworkProxy>
#include <QRandomGenerator>
#include <QTimer>

#include <utility>

namespace taskmaster::load {

namespace {

constexpr int kHistoryPage = 200; // limits::kPageMax

} // namespace

QString messageBody(const QString &tag, qint64 sendNs, int bytes, const QString &instance)
{
    QString body = tag + QString::number(sendNs);
    if (!instance.isEmpty())
        body += QLatin1Char('@') + instance;
    body += QLatin1Char(' ');
    if (body.size() < bytes)
        body.append(QString(bytes - body.size(), QLatin1Char('x')));
    return body;
}

QString markResent(const QString &tag, const QString &body)
{
    if (!body.startsWith(tag) || isResent(tag, body))
        return body;
    const qsizetype space = body.indexOf(QLatin1Char(' '), tag.size());
    if (space < 0)
        return body;
    return body.left(space + 1) + kResentMark + body.mid(space + 1);
}

bool isResent(const QString &tag, const QString &body)
{
    if (!body.startsWith(tag))
        return false;
    const qsizetype space = body.indexOf(QLatin1Char(' '), tag.size());
    return space >= 0 && QStringView(body).mid(space + 1).startsWith(kResentMark);
}

std::optional<qint64> parseSendNs(const QString &tag, const QString &body)
{
    if (!body.startsWith(tag))
        return std::nullopt;
    const QStringView rest = QStringView(body).mid(tag.size());
    qsizetype end = 0;
    while (end < rest.size() && rest[end] != QLatin1Char(' ') && rest[end] != QLatin1Char('@'))
        ++end;
    bool ok = false;
    const qint64 ns = rest.left(end).toLongLong(&ok);
    if (!ok)
        return std::nullopt;
    return ns;
}

QString parseSendInstance(const QString &tag, const QString &body)
{
    if (!body.startsWith(tag))
        return {};
    const QStringView rest = QStringView(body).mid(tag.size());
    const qsizetype at = rest.indexOf(QLatin1Char('@'));
    const qsizetype space = rest.indexOf(QLatin1Char(' '));
    if (at < 0 || (space >= 0 && space < at))
        return {};
    return rest.mid(at + 1, (space < 0 ? rest.size() : space) - at - 1).toString();
}

SimClient::SimClient(int index, SeededUser user, Id roomId, QUrl wsUrl, WorkerTally &tally, QObject *parent)
    : QObject(parent), m_index(index), m_user(std::move(user)), m_roomId(roomId), m_url(std::move(wsUrl)),
      m_tally(tally), m_backoff(tally.reconnectBaseMs, tally.reconnectMaxMs)
{
    m_socket.setProxy(QNetworkProxy::NoProxy);
    connect(&m_socket, &QWebSocket::connected, this, &SimClient::onConnected);
    connect(&m_socket, &QWebSocket::textMessageReceived, this, &SimClient::onText);
    connect(&m_socket, &QWebSocket::disconnected, this, &SimClient::onGone);
    connect(&m_socket, QOverload<QAbstractSocket::SocketError>::of(&QWebSocket::error), this,
            [this](QAbstractSocket::SocketError) {
                // Before the upgrade completed there may be no `disconnected` (connection refused).
                if (m_state == State::Connecting)
                    onGone();
            });
}

void SimClient::open()
{
    if (m_state == State::Stopped)
        return;
    m_state = State::Connecting;
    m_attemptStartNs = nowNs();
    if (m_firstAttemptNs == 0)
        m_firstAttemptNs = m_attemptStartNs;
    m_socket.open(m_url);
}

void SimClient::stop()
{
    m_state = State::Stopped;
    m_socket.close();
}

void SimClient::checkAttempt(qint64 now, qint64 timeoutNs)
{
    if ((m_state == State::Connecting || m_state == State::Hello) && now - m_attemptStartNs > timeoutNs) {
        ++m_tally.counters.connectFailures;
        m_state = State::Backoff; // before abort(): its disconnected signal must not count again
        m_socket.abort();
        Q_EMIT attemptFailed();
        scheduleReconnect();
    }
}

void SimClient::write(const ws::ClientFrame &frame)
{
    m_socket.sendTextMessage(QString::fromUtf8(ws::encodeClientFrame(frame)));
}

void SimClient::onConnected()
{
    if (m_state != State::Connecting)
        return;
    m_state = State::Hello;
    ws::Hello hello;
    hello.token = m_user.token;
    hello.presenceList = true; // like the QML client
    for (const auto &[channel, account] : m_accounts)
        hello.resume.insert(channel, account.lastSeq());
    write(hello);
}

void SimClient::onGone()
{
    switch (m_state) {
    case State::Idle:
    case State::Backoff:
    case State::Stopped:
        return;
    case State::Connecting:
    case State::Hello:
        ++m_tally.counters.connectFailures;
        if (m_socket.closeCode() != QWebSocketProtocol::CloseCodeNormal || m_state == State::Hello)
            ++m_tally.counters.closeCodes[int(m_socket.closeCode())];
        m_state = State::Backoff;
        Q_EMIT attemptFailed();
        break;
    case State::Open:
        ++m_tally.counters.disconnects;
        ++m_disconnects;
        m_lostAtNs = nowNs();
        ++m_tally.counters.closeCodes[int(m_socket.closeCode())];
        m_state = State::Backoff;
        break;
    }
    scheduleReconnect();
}

void SimClient::scheduleReconnect()
{
    // The shared policy of the QML client (shared/core/backoff.h): the first attempt anywhere in
    // [0, max(base, the server's reconnectWindowMs)], then exponential with equal jitter; a
    // server's retryAfterMs spread over [hint, 2 hint].
    const qint64 delay = m_retryAfterMs > 0 ? m_backoff.afterHint(m_retryAfterMs) : m_backoff.next();
    m_retryAfterMs = 0;
    QTimer::singleShot(std::chrono::milliseconds(delay), this, [this] {
        if (m_state == State::Backoff)
            open();
    });
}

void SimClient::sendMessage(int bodyBytes, qint64 dueNs, bool big)
{
    const qint64 sent = dueNs;
    PendingSend p;
    p.sendNs = sent;
    p.frame.id = ++m_nextFrameId;
    p.frame.roomId = big ? m_bigRoomId : m_roomId;
    if (big)
        ++m_tally.bigRoomSent;
    p.frame.body = messageBody(m_tally.tag, sent, bodyBytes, m_instance);
    p.frame.clientId = QStringLiteral("%1-%2-%3").arg(m_tally.runId).arg(m_index).arg(++m_nextClientId);
    write(p.frame);
    ++m_tally.counters.sent;
    if (m_tally.measured(sent))
        ++m_tally.counters.sentMeasured;
    if (StageTally *stage = m_tally.stageAt(sent))
        ++stage->sent;
    m_pending.emplace(*p.frame.id, std::move(p));
}

void SimClient::onText(const QString &text)
{
    const qint64 received = nowNs();
    auto frame = ws::decodeServerFrame(text.toUtf8());
    if (!frame) {
        ++m_tally.counters.undecodable;
        return;
    }
    Counters &c = m_tally.counters;
    std::visit(Overloaded {
                   [&](const ws::Welcome &w) { onWelcome(w); },
                   [&](const ws::Ack &a) {
                       const auto it = a.id ? m_pending.find(*a.id) : m_pending.end();
                       if (it == m_pending.end())
                           return;
                       ++c.acked;
                       if (m_tally.measured(it->second.sendNs))
                           m_tally.ack.add(received - it->second.sendNs);
                       Seq &acked = m_tally.ackedSeq[Channel::room(a.message.roomId)];
                       acked = std::max(acked, a.message.seq);
                       if (m_tally.recordAcks) {
                           m_tally.acks.push_back(AckRecord {it->second.frame.clientId.value_or(QString()),
                                                             a.message.id, a.message.roomId, a.message.seq});
                       }
                       m_pending.erase(it);
                   },
                   [&](const ChannelEvent &e) { onEvent(e, received); },
                   [&](const ws::TypingEvent &) { ++c.volatileEvents; },
                   [&](const ws::ReadEvent &) { ++c.volatileEvents; },
                   [&](const ws::Presence &p) {
                       ++c.volatileEvents;
                       if (!p.userIds.isEmpty())
                           ++c.presenceLists;
                       else if (p.status == ws::PresenceStatus::Online)
                           ++c.presenceOnline;
                       else
                           ++c.presenceOffline;
                   },
                   [&](const ws::ErrorFrame &f) {
                       const auto it = f.id ? m_pending.find(*f.id) : m_pending.end();
                       if (it == m_pending.end()) {
                           ++c.errorFrames;
                           return;
                       }
                       ++c.sendErrors;
                       if (f.error.code == ErrorCode::RateLimited)
                           ++c.rateLimited;
                       m_pending.erase(it);
                   },
                   // The close follows; onGone() reconnects after the server's hint.
                   [&](const ws::Reconnect &r) { m_retryAfterMs = r.retryAfterMs; },
                   [&](const ws::Resumed &r) { c.resumedEvents += r.to - r.from + 1; },
                   [&](const ws::Resync &r) {
                       ++c.resyncs;
                       const auto it = m_accounts.find(r.channel);
                       if (it != m_accounts.end())
                           requestHistory(r.channel, it->second.contiguousSeq());
                   },
                   [&](const ws::HistoryReply &h) { onHistory(h); },
                   [&](const ws::Pong &p) {
                       if (p.reconnectWindowMs)
                           m_backoff.setFirstWindow(*p.reconnectWindowMs);
                   },
                   [&](const ws::RoomPresence &) {}, // tm-load does not ask for it
               },
               *frame);
}

void SimClient::heartbeat()
{
    if (m_state == State::Open)
        write(ws::Ping {++m_nextFrameId, std::nullopt});
}

void SimClient::onWelcome(const ws::Welcome &w)
{
    if (m_state != State::Hello)
        return;
    m_state = State::Open;
    m_backoff.reset();
    m_backoff.setFirstWindow(w.reconnectWindowMs.value_or(0));
    const bool first = m_welcomes++ == 0;
    ++m_tally.counters.welcomesByInstance[w.instance];
    m_instance = w.instance;
    if (first) {
        ++m_tally.counters.connected;
        const qint64 took = nowNs() - m_firstAttemptNs;
        m_tally.connect.add(took);
        if (StageTally *stage = m_tally.stageAt(m_firstAttemptNs))
            stage->connect.add(took);
    } else {
        ++m_tally.counters.reconnects;
        if (m_lostAtNs > 0)
            m_tally.reconnect.add(nowNs() - std::exchange(m_lostAtNs, 0));
    }
    for (auto it = w.channels.cbegin(); it != w.channels.cend(); ++it) {
        m_accounts.try_emplace(it.key(), it.value());
        // After a resync the server starts the live stream here; history fills up to it.
        if (m_historyTarget.contains(it.key()))
            m_historyTarget[it.key()] = it.value();
        else
            m_historyTarget.emplace(it.key(), it.value());
    }
    // Sends that were never acknowledged go again with the same clientId (idempotent), marked as
    // resent: if the first one was not stored, the receivers know its latency holds this
    // client's outage (if it was, the server answers with the stored one, unmarked).
    for (auto &[id, p] : m_pending) {
        p.frame.body = markResent(m_tally.tag, p.frame.body);
        write(p.frame);
        ++m_tally.counters.resent;
    }
    Q_EMIT welcomed(first);
}

void SimClient::onEvent(const ChannelEvent &e, qint64 receivedNs)
{
    Counters &c = m_tally.counters;
    // A channel the welcome did not list (joined later): its stream starts before this event.
    auto it = m_accounts.try_emplace(e.channel, e.seq - 1).first;
    if (it->second.receive(e.seq) == Arrival::Duplicate)
        return;
    ++c.delivered;
    if (e.type != EventType::MessageCreated || !e.message || e.message->authorId == m_user.id)
        return;
    const auto sent = parseSendNs(m_tally.tag, e.message->body);
    if (!sent)
        return;
    ++c.fanoutDelivered;
    const qint64 latency = receivedNs - *sent;
    if (m_bigRoomId > 0 && e.channel == Channel::room(m_bigRoomId)) {
        if (m_tally.measured(*sent))
            m_tally.deliveryBig.add(latency);
        return;
    }
    m_tally.recent.push_back(latency);
    // On a connection never lost: sent again by its sender (resent) or not (kept).
    const bool resent = m_disconnects == 0 && isResent(m_tally.tag, e.message->body);
    const bool kept = m_disconnects == 0 && !resent;
    if (kept)
        m_tally.recentKept.push_back(latency);
    if (m_tally.measured(*sent)) {
        m_tally.delivery.add(latency);
        const QString from = parseSendInstance(m_tally.tag, e.message->body);
        if (!from.isEmpty() && !m_instance.isEmpty())
            (from == m_instance ? m_tally.deliverySame : m_tally.deliveryCross).add(latency);
        if (resent) {
            m_tally.deliveryResent.add(latency);
        } else if (kept) {
            m_tally.deliveryKept.add(latency);
            if (*sent >= m_tally.faultAtNs)
                m_tally.deliveryKeptFault.add(latency);
        } else {
            m_tally.deliveryResumed.add(latency);
        }
    }
    if (StageTally *stage = m_tally.stageAt(*sent))
        stage->delivery.add(latency);
}

void SimClient::requestHistory(const Channel &channel, Seq after)
{
    ws::HistoryRequest h;
    h.id = ++m_nextFrameId;
    h.channel = channel;
    h.after = after;
    h.limit = kHistoryPage;
    m_historyRequests.insert(*h.id, channel);
    write(h);
}

void SimClient::onHistory(const ws::HistoryReply &h)
{
    if (!h.id || !m_historyRequests.remove(*h.id))
        return;
    const auto account = m_accounts.find(h.channel);
    if (account == m_accounts.end())
        return;
    Seq last = 0;
    for (const ChannelEvent &e : h.events) {
        if (account->second.fill(e.seq) != Arrival::Duplicate) {
            ++m_tally.counters.delivered;
            ++m_tally.counters.historyFilled;
        }
        last = std::max(last, e.seq);
    }
    const auto target = m_historyTarget.find(h.channel);
    if (!h.events.isEmpty() && target != m_historyTarget.end() && last < target->second)
        requestHistory(h.channel, last);
}

void SimClient::collectLastSeqs(std::map<Channel, Seq> &out) const
{
    for (const auto &[channel, account] : m_accounts) {
        Seq &s = out[channel];
        s = std::max(s, account.lastSeq());
    }
}

qint64 SimClient::lagging(const std::map<Channel, Seq> &finals) const
{
    qint64 n = 0;
    for (const auto &[channel, account] : m_accounts) {
        const auto f = finals.find(channel);
        if (f != finals.end() && !account.caughtUp(f->second))
            ++n;
    }
    return n;
}

void SimClient::account(const std::map<Channel, Seq> &finals, Counters &c, QList<LostDetail> &lost,
                        qsizetype maxDetails) const
{
    for (const auto &[channel, account] : m_accounts) {
        const auto f = finals.find(channel);
        const Seq finalSeq = f == finals.end() ? account.lastSeq() : f->second;
        c.duplicates += account.duplicates();
        c.outOfOrder += account.outOfOrder();
        c.expected += account.expected(finalSeq);
        const qint64 n = account.lost(finalSeq);
        c.lost += n;
        if (n > 0 && lost.size() < maxDetails) {
            lost.append(LostDetail {m_index, m_user.id, channel, account.start(), account.contiguousSeq(),
                                    account.lastSeq(), finalSeq, account.missing(finalSeq)});
        }
    }
}

void SimClient::verify(const std::map<Channel, DbChannel> &db, DbVerification &v) const
{
    for (const auto &[channel, account] : m_accounts) {
        const auto it = db.find(channel);
        if (it == db.end())
            continue;
        const StreamCheck r = compareStream(account, it->second.seqs);
        ++v.streams;
        v.expected += r.expected;
        v.missing += r.missing;
        v.phantom += r.phantom;
        if ((r.missing > 0 || r.phantom > 0) && v.examples.size() < 10) {
            QStringList ranges;
            for (const SeqRange &m : r.missingRanges)
                ranges << (m.from == m.to ? QString::number(m.from) : QStringLiteral("%1-%2").arg(m.from).arg(m.to));
            v.examples << QStringLiteral("connection %1 (user %2) %3: welcome seq %4, last %5, database last %6: "
                                         "missing %7, phantom %8")
                              .arg(m_index)
                              .arg(m_user.id)
                              .arg(channel.toString())
                              .arg(account.start())
                              .arg(account.lastSeq())
                              .arg(it->second.lastSeq)
                              .arg(ranges.isEmpty() ? QStringLiteral("none") : ranges.join(QLatin1Char(',')))
                              .arg(r.phantom);
        }
    }
}

} // namespace taskmaster::load
