#include "client-qml/net/outbox.h"

#include "client-qml/net/realtime_session.h"

#include <QUuid>

#include <algorithm>

namespace taskmaster::client {

Outbox::Outbox(RealtimeSession &realtime, QObject *parent) : QObject(parent), m_realtime(realtime)
{
    m_clock.start();
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, &Outbox::checkTimeouts);
}

Outbox::~Outbox() = default;

QList<Outbox::Entry> Outbox::inRoom(Id roomId) const
{
    QList<Entry> out;
    for (const Send &s : m_sends) {
        if (s.roomId == roomId)
            out.append(s);
    }
    return out;
}

QString Outbox::queue(Id roomId, const QString &body)
{
    Send s;
    s.roomId = roomId;
    s.body = body;
    s.clientId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    s.order = ++m_order;
    auto it = m_sends.insert(s.clientId, s);
    if (m_realtime.isWelcomed())
        transmit(*it);
    if (!m_timer.isActive())
        m_timer.start();
    Q_EMIT pendingChanged();
    return s.clientId;
}

QList<Outbox::Entry> Outbox::entries() const
{
    QList<const Send *> sends;
    for (const Send &s : m_sends)
        sends.append(&s);
    std::sort(sends.begin(), sends.end(), [](const Send *a, const Send *b) { return a->order < b->order; });
    QList<Entry> out;
    out.reserve(sends.size());
    for (const Send *s : sends)
        out.append(*s);
    return out;
}

void Outbox::restore(const QList<Entry> &entries)
{
    bool any = false;
    for (const Entry &e : entries) {
        if (e.clientId.isEmpty() || m_sends.contains(e.clientId))
            continue;
        Send s;
        static_cast<Entry &>(s) = e;
        s.failed = false; // a new run tries again
        s.order = ++m_order;
        auto it = m_sends.insert(s.clientId, s);
        if (m_realtime.isWelcomed())
            transmit(*it);
        any = true;
    }
    if (!any)
        return;
    if (!m_timer.isActive())
        m_timer.start();
    Q_EMIT pendingChanged();
}

void Outbox::transmit(Send &s)
{
    s.frameId = m_realtime.nextFrameId();
    s.sentAtMs = m_clock.elapsed();
    m_frames.insert(s.frameId, s.clientId);
    m_realtime.send(ws::Send {s.frameId, s.roomId, s.body, s.clientId});
}

void Outbox::transmitAll()
{
    for (auto &s : m_sends) {
        if (!s.failed)
            transmit(s);
    }
}

void Outbox::onSocketLost()
{
    // Sends in flight stay pending; they go out again after the next welcome.
    for (auto &s : m_sends)
        s.frameId = 0;
    m_frames.clear();
}

void Outbox::markFailed(Send &s)
{
    s.failed = true;
    Q_EMIT failed(s.roomId, s.clientId);
}

void Outbox::checkTimeouts()
{
    bool any = false;
    const qint64 now = m_clock.elapsed();
    for (auto &s : m_sends) {
        if (s.failed)
            continue;
        any = true;
        // Not transmitted (offline) counts from when it was queued.
        if (s.sentAtMs == 0)
            s.sentAtMs = now;
        if (now - s.sentAtMs >= m_timeoutMs) {
            m_frames.remove(s.frameId);
            markFailed(s);
        }
    }
    if (!any)
        m_timer.stop();
}

void Outbox::retry(const QString &clientId)
{
    auto it = m_sends.find(clientId);
    if (it == m_sends.end())
        return;
    it->failed = false;
    it->sentAtMs = 0;
    Q_EMIT retried(it->roomId, clientId, it->body); // back to pending
    if (m_realtime.isWelcomed())
        transmit(*it);
    if (!m_timer.isActive())
        m_timer.start();
}

void Outbox::discard(const QString &clientId)
{
    const auto s = m_sends.take(clientId);
    Q_EMIT discarded(s.roomId, clientId);
    Q_EMIT pendingChanged();
}

bool Outbox::onAck(const ws::Ack &ack)
{
    const QString clientId = m_frames.take(ack.id.value_or(0));
    if (clientId.isEmpty())
        return false;
    m_sends.remove(clientId);
    Q_EMIT acknowledged(clientId, ack.message);
    Q_EMIT pendingChanged();
    return true;
}

void Outbox::onError(const ws::ErrorFrame &error)
{
    const QString clientId = m_frames.take(error.id.value_or(0));
    if (clientId.isEmpty())
        return;
    auto it = m_sends.find(clientId);
    if (it != m_sends.end())
        markFailed(*it);
}

void Outbox::settle(const QString &clientId)
{
    if (m_sends.remove(clientId))
        Q_EMIT pendingChanged();
}

void Outbox::clear()
{
    m_sends.clear();
    m_frames.clear();
    m_timer.stop();
    Q_EMIT pendingChanged();
}

} // namespace taskmaster::client
