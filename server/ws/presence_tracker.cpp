#include "server/ws/presence_tracker.h"

#include "server/ws/event_sink.h"
#include "server/ws/subscription_table.h"

namespace taskmaster::server {

namespace {
constexpr int kSnapshotMs = 30000; // who is online here, to the other instances
} // namespace

PresenceTracker::PresenceTracker(const HubOptions &options, const QElapsedTimer &clock, ClientConnections &connections,
                                 SubscriptionTable &subscriptions, QObject *parent)
    : QObject(parent), m_options(options), m_clock(clock), m_connections(connections), m_subscriptions(subscriptions)
{
}

void PresenceTracker::opened(ClientConnection &c, const QSet<Channel> &rooms, bool firstConnection)
{
    // Who is online already, among the members of the user's rooms (on any instance).
    QSet<Id> online;
    for (const Channel &ch : rooms) {
        const QSet<ConnId> subs = m_subscriptions.subscribers(ch);
        for (ConnId sub : subs) {
            if (const ClientConnection *o = m_connections.find(sub);
                o && o->userId != c.userId && o->state == ClientConnection::State::Open)
                online.insert(o->userId);
        }
    }
    for (auto it = m_goingOffline.cbegin(); it != m_goingOffline.cend(); ++it) {
        if (it.key() != c.userId && it->second.intersects(rooms))
            online.insert(it.key());
    }
    for (auto it = m_remoteOnline.cbegin(); it != m_remoteOnline.cend(); ++it) {
        if (it.key() == c.userId || online.contains(it.key()))
            continue;
        for (const QSet<Channel> &announced : *it) {
            if (announced.intersects(rooms)) {
                online.insert(it.key());
                break;
            }
        }
    }
    for (Id other : std::as_const(online))
        m_connections.writeVolatile(c, encodedText(ws::Presence {other, ws::PresenceStatus::Online}));
    if (firstConnection && !m_goingOffline.remove(c.userId))
        changed(c.userId, rooms, ws::PresenceStatus::Online);
}

void PresenceTracker::lastConnectionClosed(Id userId, const QSet<Channel> &rooms)
{
    m_goingOffline.insert(userId, {m_clock.elapsed() + m_options.presenceGraceMs, rooms});
}

void PresenceTracker::sweep(qint64 now)
{
    for (auto it = m_goingOffline.begin(); it != m_goingOffline.end();) {
        if (it->first <= now) {
            const Id user = it.key();
            const QSet<Channel> rooms = it->second;
            it = m_goingOffline.erase(it);
            changed(user, rooms, ws::PresenceStatus::Offline);
        } else {
            ++it;
        }
    }
}

void PresenceTracker::changed(Id userId, const QSet<Channel> &rooms, ws::PresenceStatus status)
{
    const bool online = status == ws::PresenceStatus::Online;
    if (m_relay) {
        QList<Id> roomIds;
        for (const Channel &ch : rooms)
            roomIds.append(ch.id);
        m_relay->relayPresence(userId, online, roomIds);
    }
    if (!online && onlineElsewhere(userId))
        return; // still online for everyone through another instance
    announceHere(userId, rooms, status);
}

void PresenceTracker::announceHere(Id userId, const QSet<Channel> &rooms, ws::PresenceStatus status)
{
    QSet<ConnId> targets;
    for (const Channel &ch : rooms)
        targets.unite(m_subscriptions.subscribers(ch));
    if (targets.isEmpty())
        return;
    const QString text = encodedText(ws::Presence {userId, status});
    for (ConnId id : std::as_const(targets)) {
        ClientConnection *c = m_connections.find(id);
        if (c && c->userId != userId && c->state == ClientConnection::State::Open)
            m_connections.writeVolatile(*c, text);
    }
}

bool PresenceTracker::onlineHere(Id userId) const
{
    return m_subscriptions.hasUser(userId) || m_goingOffline.contains(userId);
}

bool PresenceTracker::onlineElsewhere(Id userId) const
{
    const auto it = m_remoteOnline.constFind(userId);
    return it != m_remoteOnline.cend() && !it->isEmpty();
}

// ---- Other instances -----------------------------------------------------------------------

void PresenceTracker::remotePresence(const QString &instance, Id userId, bool online, const QList<Id> &roomIds)
{
    m_remoteSeen.insert(instance, m_clock.elapsed());
    QSet<Channel> rooms;
    for (Id id : roomIds)
        rooms.insert(Channel::room(id));
    const bool wasOnline = onlineHere(userId) || onlineElsewhere(userId);
    if (online) {
        m_remoteOnline[userId].insert(instance, rooms);
        if (!wasOnline)
            announceHere(userId, rooms, ws::PresenceStatus::Online);
        return;
    }
    auto it = m_remoteOnline.find(userId);
    if (it == m_remoteOnline.end())
        return;
    it->remove(instance);
    if (it->isEmpty())
        m_remoteOnline.erase(it);
    if (!onlineHere(userId) && !onlineElsewhere(userId))
        announceHere(userId, rooms, ws::PresenceStatus::Offline);
}

void PresenceTracker::remotePresenceSnapshot(const QString &instance, const QList<Id> &online)
{
    m_remoteSeen.insert(instance, m_clock.elapsed());
    const QSet<Id> now(online.cbegin(), online.cend());
    // Users the instance no longer has (a missed offline, or a restart: an empty snapshot).
    QList<std::pair<Id, QSet<Channel>>> gone;
    for (auto it = m_remoteOnline.begin(); it != m_remoteOnline.end();) {
        auto inst = it->find(instance);
        if (inst != it->end() && !now.contains(it.key())) {
            gone.append({it.key(), *inst});
            it->erase(inst);
        }
        it = it->isEmpty() ? m_remoteOnline.erase(it) : std::next(it);
    }
    for (const auto &[user, rooms] : std::as_const(gone)) {
        if (!onlineHere(user) && !onlineElsewhere(user))
            announceHere(user, rooms, ws::PresenceStatus::Offline);
    }
}

void PresenceTracker::expireRemote()
{
    // An instance silent for three snapshot periods is gone (killed): its users are offline
    // unless another instance has them.
    const qint64 now = m_clock.elapsed();
    QStringList silent;
    for (auto it = m_remoteSeen.cbegin(); it != m_remoteSeen.cend(); ++it) {
        if (now - it.value() > 3 * kSnapshotMs + 5000)
            silent.append(it.key());
    }
    for (const QString &instance : std::as_const(silent)) {
        remotePresenceSnapshot(instance, {});
        m_remoteSeen.remove(instance);
    }
}

void PresenceTracker::startRelay()
{
    if (!m_relay)
        return;
    m_relay->relayPresenceSnapshot({}); // a restart under the same name: forget the old one
    m_snapshotTimer.setInterval(kSnapshotMs);
    connect(&m_snapshotTimer, &QTimer::timeout, this, [this] {
        if (!m_relay)
            return;
        QList<Id> online = m_subscriptions.users();
        online.reserve(online.size() + m_goingOffline.size());
        for (auto it = m_goingOffline.cbegin(); it != m_goingOffline.cend(); ++it)
            online.append(it.key());
        m_relay->relayPresenceSnapshot(online);
        expireRemote();
    });
    m_snapshotTimer.start();
}

} // namespace taskmaster::server
