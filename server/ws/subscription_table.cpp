#include "server/ws/subscription_table.h"

#include "server/ws/channel_replay.h"
#include "server/ws/hub_metrics.h"

namespace taskmaster::server {

SubscriptionTable::SubscriptionTable(ClientConnections &connections, HubMetrics &metrics, const QElapsedTimer &clock)
    : m_connections(connections), m_metrics(metrics), m_stats(metrics.counters()), m_clock(clock)
{
}

bool SubscriptionTable::opened(const ClientConnection &c)
{
    auto &mine = m_byUser[c.userId];
    const bool first = mine.isEmpty();
    mine.insert(c.id);
    m_byToken[c.tokenDigest].insert(c.id);
    return first;
}

std::optional<QSet<Channel>> SubscriptionTable::closed(ClientConnection &c)
{
    QSet<Channel> rooms;
    for (auto ch = c.channels.cbegin(); ch != c.channels.cend(); ++ch) {
        if (ch.key().kind == ChannelKind::Room)
            rooms.insert(ch.key());
        const auto subs = m_subscribers.find(ch.key());
        if (subs != m_subscribers.end()) {
            subs->remove(c.id);
            if (subs->isEmpty()) {
                m_subscribers.erase(subs);
                m_order.forget(ch.key());
            }
        }
    }
    if (!c.welcomed)
        return std::nullopt;
    std::optional<QSet<Channel>> last;
    const auto user = m_byUser.find(c.userId);
    if (user != m_byUser.end()) {
        user->remove(c.id);
        if (user->isEmpty()) {
            m_byUser.erase(user);
            last = std::move(rooms);
        }
    }
    const auto token = m_byToken.find(c.tokenDigest);
    if (token != m_byToken.end()) {
        token->remove(c.id);
        if (token->isEmpty())
            m_byToken.erase(token);
    }
    return last;
}

void SubscriptionTable::add(ClientConnection &c, const Channel &channel, Seq sent)
{
    m_order.track(channel, sent);
    c.channels.insert(channel, Cursor {sent, false, -1, {}});
    m_subscribers[channel].insert(c.id);
}

void SubscriptionTable::remove(ClientConnection &c, const Channel &channel)
{
    if (!c.channels.remove(channel))
        return;
    const auto it = m_subscribers.find(channel);
    if (it == m_subscribers.end())
        return;
    it->remove(c.id);
    if (it->isEmpty()) {
        m_subscribers.erase(it);
        m_order.forget(channel);
    }
}

void SubscriptionTable::subscribeUsers(const Channel &channel, const QList<Id> &userIds, Seq seq)
{
    for (Id user : userIds) {
        const QSet<ConnId> ids = m_byUser.value(user);
        for (ConnId id : ids) {
            ClientConnection *c = m_connections.find(id);
            if (c && c->state == ClientConnection::State::Open && !c->channels.contains(channel)) {
                m_order.track(channel, seq);
                add(*c, channel, seq);
            }
        }
    }
}

void SubscriptionTable::unsubscribeUsers(const Channel &channel, const QList<Id> &userIds)
{
    for (Id user : userIds) {
        const QSet<ConnId> ids = m_byUser.value(user);
        for (ConnId id : ids) {
            if (ClientConnection *c = m_connections.find(id))
                remove(*c, channel);
        }
    }
}

QList<std::pair<Channel, Seq>> SubscriptionTable::delivered() const
{
    QList<std::pair<Channel, Seq>> tracked;
    for (auto it = m_subscribers.cbegin(); it != m_subscribers.cend(); ++it)
        tracked.append({it.key(), m_order.delivered(it.key())});
    return tracked;
}

// ---- Fan-out -------------------------------------------------------------------------------

void SubscriptionTable::publish(QList<Outgoing> events)
{
    const qint64 now = m_clock.elapsed();
    for (Outgoing &out : events) {
        const Channel ch = out.event.channel;
        if (!m_order.isTracked(ch)) {
            // No local subscriber; a member joining who is connected here makes one.
            const bool localJoin
                = out.event.type == EventType::MemberJoined && out.event.userId && m_byUser.contains(*out.event.userId);
            if (!localJoin)
                continue;
            m_order.track(ch, out.event.seq - 1);
        }
        const QList<Outgoing> released = m_order.offer(std::move(out), now);
        for (const Outgoing &r : released)
            release(r);
    }
    if (m_order.hasHeld())
        m_replay->watchGaps();
}

void SubscriptionTable::release(const Outgoing &out)
{
    const ChannelEvent &e = out.event;
    const Channel &ch = e.channel;
    QList<ConnId> joined;
    if (e.type == EventType::MemberJoined && e.userId) {
        const QSet<ConnId> ids = m_byUser.value(*e.userId);
        for (ConnId id : ids) {
            ClientConnection *c = m_connections.find(id);
            if (c && c->state == ClientConnection::State::Open && !c->channels.contains(ch)) {
                add(*c, ch, e.seq - 1);
                joined.append(id);
            }
        }
    }
    const QSet<ConnId> subs = m_subscribers.value(ch);
    if (!subs.isEmpty()) {
        const QString text = QString::fromUtf8(ws::encodeEventFrame(e));
        for (ConnId id : subs) {
            if (ClientConnection *c = m_connections.find(id); c && c->state == ClientConnection::State::Open)
                deliver(*c, ch, e.seq, text);
        }
    }
    if (out.arrivalNs > 0)
        m_metrics.observeDelivery(out.arrivalNs, m_clock.nsecsElapsed());
    if (e.type == EventType::MemberJoined && e.userId && ch.kind == ChannelKind::Room && m_joined)
        m_joined(*e.userId, ch, e.seq, joined);
    if (e.type == EventType::MemberLeft && e.userId) {
        const QSet<ConnId> ids = m_byUser.value(*e.userId);
        for (ConnId id : ids) {
            if (ClientConnection *c = m_connections.find(id))
                remove(*c, ch);
        }
    }
    if (e.type == EventType::MemberLeft && e.userId && ch.kind == ChannelKind::Room && m_left)
        m_left(*e.userId, ch);
}

void SubscriptionTable::deliver(ClientConnection &c, const Channel &channel, Seq seq, const QString &text)
{
    const auto it = c.channels.find(channel);
    if (it == c.channels.end())
        return;
    Cursor &cur = *it;
    if (cur.catchingUp) {
        cur.waiting.emplace(seq, text);
        return;
    }
    if (seq <= cur.sent)
        return;
    if (seq == cur.sent + 1) {
        if (m_connections.writeDurable(c, text)) {
            cur.sent = seq;
            ++m_stats.eventsFannedOut;
        }
        return;
    }
    // This connection missed something (it subscribed while events were on their way): read
    // the missing ones from the database, keep the live ones until then.
    cur.waiting.emplace(seq, text);
    m_replay->catchUp(c.id, channel);
}

QSet<Channel> SubscriptionTable::roomsOf(Id userId) const
{
    QSet<Channel> rooms;
    for (ConnId id : m_byUser.value(userId)) {
        if (const ClientConnection *c = m_connections.find(id)) {
            for (auto it = c->channels.cbegin(); it != c->channels.cend(); ++it) {
                if (it.key().kind == ChannelKind::Room)
                    rooms.insert(it.key());
            }
        }
    }
    return rooms;
}

void SubscriptionTable::sendVolatile(const Channel &room, const QString &text, Id exceptUser)
{
    const QSet<ConnId> subs = m_subscribers.value(room);
    for (ConnId sub : subs) {
        ClientConnection *c = m_connections.find(sub);
        if (c && c->userId != exceptUser && c->state == ClientConnection::State::Open)
            m_connections.writeVolatile(*c, text);
    }
}

} // namespace taskmaster::server
