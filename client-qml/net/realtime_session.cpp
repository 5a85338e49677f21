#include "client-qml/net/realtime_session.h"

#include "shared/core/overloaded.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <QUrl>

#include <algorithm>
#include <limits>

Q_LOGGING_CATEGORY(lcRealtime, "tm.client.realtime", QtInfoMsg)

namespace taskmaster::client {

namespace {
constexpr int kHeartbeatMs = 15000; // a ping every 15 s; no frame in between: the socket is dead
}

RealtimeSession::RealtimeSession(QObject *parent) : QObject(parent)
{
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &RealtimeSession::open);
    m_heartbeatTimer.setInterval(kHeartbeatMs);
    connect(&m_heartbeatTimer, &QTimer::timeout, this, &RealtimeSession::heartbeat);
    connect(&m_socket, &QWebSocket::connected, this, &RealtimeSession::onConnected);
    connect(&m_socket, &QWebSocket::stateChanged, this, &RealtimeSession::onSocketState);
    connect(&m_socket, &QWebSocket::textMessageReceived, this, &RealtimeSession::onText);
}

RealtimeSession::~RealtimeSession()
{
    m_wanted = false;
    m_socket.abort();
}

QString RealtimeSession::stateName() const
{
    switch (m_state) {
    case Offline:
        return QStringLiteral("offline");
    case Connecting:
        return QStringLiteral("connecting");
    case Resyncing:
        return QStringLiteral("resyncing");
    case Online:
        return QStringLiteral("online");
    }
    return {};
}

void RealtimeSession::setState(State s)
{
    if (s == m_state)
        return;
    m_state = s;
    qCDebug(lcRealtime) << "state" << stateName();
    Q_EMIT stateChanged();
}

void RealtimeSession::seedSeen(const QHash<Channel, Seq> &seen)
{
    if (m_wanted)
        return;
    for (auto it = seen.cbegin(); it != seen.cend(); ++it) {
        if (it.value() > 0 && !m_channels.value(it.key()).started())
            m_channels[it.key()].setSynced(it.value());
    }
}

void RealtimeSession::start(const QString &serverUrl, const QByteArray &token)
{
    m_serverUrl = serverUrl;
    m_token = token;
    m_wanted = true;
    m_backoff.reset();
    open();
}

void RealtimeSession::stop()
{
    m_wanted = false;
    m_reconnectTimer.stop();
    m_heartbeatTimer.stop();
    if (m_socket.state() != QAbstractSocket::UnconnectedState)
        m_socket.close();
    m_welcomed = false;
    m_token.clear();
    m_channels.clear();
    m_welcomeSeqs.clear();
    m_awaitingResume.clear();
    setState(Offline);
}

void RealtimeSession::open()
{
    if (!m_wanted || m_token.isEmpty())
        return;
    m_reconnectTimer.stop();
    QUrl url(m_serverUrl);
    url.setScheme(url.scheme() == QLatin1String("https") ? QStringLiteral("wss") : QStringLiteral("ws"));
    url.setPath(url.path() + QStringLiteral("/ws"));
    m_welcomed = false;
    setState(Connecting);
    qCDebug(lcRealtime) << "opening" << url << "attempt" << m_backoff.attempts();
    m_socket.open(url);
}

void RealtimeSession::onConnected()
{
    ws::Hello hello;
    hello.token = QString::fromUtf8(m_token);
    hello.presenceList = true;
    for (auto it = m_channels.cbegin(); it != m_channels.cend(); ++it) {
        if (it->started())
            hello.resume.insert(it.key(), it->contiguousSeq());
    }
    m_awaitingPong = false;
    m_heartbeatTimer.start();
    send(hello);
}

void RealtimeSession::onSocketState(QAbstractSocket::SocketState state)
{
    if (state != QAbstractSocket::UnconnectedState)
        return;
    m_heartbeatTimer.stop();
    m_welcomed = false;
    const auto code = m_socket.closeCode();
    if (m_wanted
        && (code == QWebSocketProtocol::CloseCode(ws::closeCodeValue(ws::CloseCode::Unauthorized))
            || code == QWebSocketProtocol::CloseCode(ws::closeCodeValue(ws::CloseCode::Revoked)))) {
        Q_EMIT sessionRejected();
        return;
    }
    if (!m_wanted) {
        setState(Offline);
        return;
    }
    Q_EMIT socketLost();
    scheduleReconnect();
}

void RealtimeSession::scheduleReconnect(qint64 hintMs)
{
    if (!m_wanted || m_reconnectTimer.isActive())
        return;
    // A server's hint (a draining or busy instance) is spread over [hint, 2 hint]; otherwise the
    // backoff, whose first attempt is anywhere in [0, max(base, the reconnectWindowMs of the last
    // welcome or pong)] (shared/core/backoff.h).
    const qint64 delay = hintMs > 0 ? m_backoff.afterHint(hintMs) : m_backoff.next();
    qCDebug(lcRealtime) << "reconnect in" << delay << "ms";
    setState(Offline);
    m_reconnectTimer.start(int(std::min<qint64>(delay, std::numeric_limits<int>::max())));
}

void RealtimeSession::reconnectNow()
{
    if (m_wanted && m_socket.state() == QAbstractSocket::UnconnectedState) {
        m_reconnectTimer.stop();
        open();
    }
}

void RealtimeSession::send(const ws::ClientFrame &frame)
{
    if (m_socket.state() == QAbstractSocket::ConnectedState)
        m_socket.sendTextMessage(QString::fromUtf8(ws::encodeClientFrame(frame)));
}

void RealtimeSession::heartbeat()
{
    if (m_awaitingPong) {
        qCInfo(lcRealtime) << "no frame for" << kHeartbeatMs << "ms: dropping the socket";
        m_socket.abort();
        return;
    }
    m_awaitingPong = true;
    send(ws::Ping {nextFrameId(), double(QDateTime::currentMSecsSinceEpoch())});
}

void RealtimeSession::requestHistory(const Channel &channel, Seq after, int limit)
{
    if (m_socket.state() != QAbstractSocket::ConnectedState)
        return; // the resume after the reconnect covers it
    send(ws::HistoryRequest {nextFrameId(), channel, after, std::clamp(limit, 1, 200)});
}

std::optional<Seq> RealtimeSession::seenSeq(const Channel &channel) const
{
    const auto it = m_channels.constFind(channel);
    if (it == m_channels.cend() || !it->started())
        return std::nullopt;
    return it->contiguousSeq();
}

void RealtimeSession::onText(const QString &text)
{
    m_awaitingPong = false;
    auto frame = ws::decodeServerFrame(text.toUtf8());
    if (!frame) {
        qCWarning(lcRealtime) << "undecodable frame:" << frame.error().message;
        return;
    }
    std::visit(Overloaded {
                   [this](const ws::Welcome &w) { onWelcome(w); },
                   [this](const ChannelEvent &e) { onEvent(e); },
                   [this](const ws::Reconnect &r) {
                       // The instance is draining: go elsewhere (through the balancer) and resume.
                       qCInfo(lcRealtime) << "server asked to reconnect:" << r.reason;
                       m_socket.close();
                       m_reconnectTimer.stop();
                       scheduleReconnect(r.retryAfterMs);
                   },
                   [this](const ws::Resumed &r) {
                       Q_EMIT channelCaughtUp(r.channel, true);
                       onCaughtUp(r.channel);
                   },
                   [this](const ws::Resync &r) { onResync(r.channel); },
                   [this](const ws::HistoryReply &h) {
                       for (const ChannelEvent &e : h.events)
                           onEvent(e);
                   },
                   [this](const ws::Pong &p) {
                       if (p.reconnectWindowMs)
                           m_backoff.setFirstWindow(*p.reconnectWindowMs);
                   },
                   [this, &frame](const auto &) { Q_EMIT frameReceived(*frame); },
               },
               *frame);
}

void RealtimeSession::onWelcome(const ws::Welcome &w)
{
    m_welcomed = true;
    m_presenceRoomLimit = w.presenceRoomLimit.value_or(0);
    m_backoff.reset();
    // Should this instance die, its clients come back over the window it asks for (docs/cluster.md).
    m_backoff.setFirstWindow(w.reconnectWindowMs.value_or(0));
    qCDebug(lcRealtime) << "welcomed by" << w.instance;
    m_welcomeSeqs.clear();
    m_awaitingResume.clear();
    WelcomeOutcome outcome;
    outcome.first = m_channels.isEmpty();
    const auto known = m_channels.keys();
    for (const Channel &ch : known) {
        if (!w.channels.contains(ch)) {
            m_channels.remove(ch);
            outcome.dropped.append(ch);
        }
    }
    for (auto it = w.channels.cbegin(); it != w.channels.cend(); ++it) {
        m_welcomeSeqs.insert(it.key(), it.value());
        auto tracker = m_channels.find(it.key());
        if (tracker == m_channels.end() || !tracker->started()) {
            // Not resumed: the REST snapshot loaded by the receivers is the starting point.
            m_channels[it.key()].setSynced(it.value());
            outcome.newChannels = true;
        } else if (it.value() > tracker->contiguousSeq()) {
            m_awaitingResume.insert(it.key()); // `resumed` (or `resync`) follows
        }
    }
    Q_EMIT welcomed(outcome);
    setState(m_awaitingResume.isEmpty() ? Online : Resyncing);
    Q_EMIT stateChanged(); // attempt
}

void RealtimeSession::onEvent(const ChannelEvent &e)
{
    const auto fed = m_channels[e.channel].feed(e.seq);
    if (fed.newGap)
        requestHistory(e.channel, fed.newGap->from - 1, int(fed.newGap->to - fed.newGap->from + 1));
    Q_EMIT channelEvent(e, fed.fresh);
}

void RealtimeSession::onResync(const Channel &channel)
{
    const Seq seq = m_welcomeSeqs.value(channel, 0);
    m_channels[channel].reset();
    m_channels[channel].setSynced(seq);
    Q_EMIT channelCaughtUp(channel, false);
    onCaughtUp(channel);
}

void RealtimeSession::onCaughtUp(const Channel &channel)
{
    if (m_awaitingResume.remove(channel) && m_awaitingResume.isEmpty() && m_welcomed)
        setState(Online);
}

} // namespace taskmaster::client
