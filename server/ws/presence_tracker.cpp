#include "server/ws/presence_tracker.h"

#include "server/ws/event_sink.h"
#include "server/ws/subscription_table.h"

#include <QLoggingCategory>

#include <algorithm>

Q_LOGGING_CATEGORY(lcPresence, "tm.presence", QtWarningMsg)

namespace taskmaster::server {

namespace {
constexpr int kSnapshotMs = 30000; // who is online here, to the other instances
constexpr qint64 kPruneMs = 10000; // member counts of rooms nobody here follows are forgotten
} // namespace

PresenceTracker::PresenceTracker(const HubOptions &options, const QElapsedTimer &clock, ClientConnections &connections,
                                 SubscriptionTable &subscriptions, QObject *parent)
    : QObject(parent), m_options(options), m_clock(clock), m_connections(connections), m_subscriptions(subscriptions)
{
    m_flushTimer.setSingleShot(true);
    connect(&m_flushTimer, &QTimer::timeout, this, &PresenceTracker::flush);
}

void PresenceTracker::opened(ClientConnection &c, const QSet<Channel> &rooms, bool firstConnection, bool asList)
{
    // The snapshot has every change made so far; the window's batch tells it only later ones.
    c.presenceList = asList;
    c.presenceFrom = m_changeSeq;
    tell(c, onlineIn(pushedRooms(rooms), c.userId));
    if (!firstConnection)
        return;
    if (const auto grace = m_goingOffline.find(c.userId); grace != m_goingOffline.end()) {
        indexGoingOffline(c.userId, grace->second, false);
        m_goingOffline.erase(grace);
        return;
    }
    // Online for everyone already (another instance has the user, or had them a moment ago: a
    // reconnect after that instance died or restarted): the others learn that this instance has
    // them too, nobody is told anything new.
    const bool alreadyOnline = onlineElsewhere(c.userId) || takeRemoteGrace(c.userId);
    changed(c.userId, rooms, ws::PresenceStatus::Online, !alreadyOnline);
}

QList<Id> PresenceTracker::onlineIn(const QSet<Channel> &rooms, Id except) const
{
    // Gathered in a plain list, then sorted and made unique: in a room of thousands this runs for
    // every connect, and a hash set of the ids cost several times the sort.
    QList<Id> online;
    for (const Channel &ch : rooms) {
        const QSet<ConnId> subs = m_subscriptions.subscribers(ch);
        online.reserve(online.size() + subs.size());
        for (ConnId sub : subs) {
            if (const ClientConnection *o = m_connections.find(sub);
                o && o->userId != except && o->state == ClientConnection::State::Open)
                online.append(o->userId);
        }
    }
    for (const Channel &ch : rooms) {
        if (const auto grace = m_goingOfflineByRoom.constFind(ch); grace != m_goingOfflineByRoom.cend())
            online.append(QList<Id>(grace->cbegin(), grace->cend()));
        if (const auto grace = m_remoteGoingOfflineByRoom.constFind(ch); grace != m_remoteGoingOfflineByRoom.cend())
            online.append(QList<Id>(grace->cbegin(), grace->cend()));
        if (const auto remote = m_remoteByRoom.constFind(ch); remote != m_remoteByRoom.cend()) {
            online.reserve(online.size() + remote->size());
            for (auto it = remote->cbegin(); it != remote->cend(); ++it)
                online.append(it.key());
        }
    }
    std::sort(online.begin(), online.end());
    online.erase(std::unique(online.begin(), online.end()), online.end());
    online.removeOne(except);
    return online;
}

void PresenceTracker::tell(ClientConnection &c, QList<Id> online)
{
    if (online.isEmpty())
        return;
    if (c.presenceList) {
        // One frame: a storm of reconnects otherwise writes (and every proxy and client reads) a
        // frame per online member for every hello.
        m_connections.writeVolatile(c, encodedText(ws::Presence {0, ws::PresenceStatus::Online, std::move(online)}));
        return;
    }
    for (Id other : std::as_const(online))
        m_connections.writeVolatile(c, encodedText(ws::Presence {other, ws::PresenceStatus::Online, {}}));
}

QSet<Channel> PresenceTracker::pushedRooms(const QSet<Channel> &rooms)
{
    if (m_options.presenceRoomLimit <= 0)
        return rooms;
    QSet<Channel> pushed;
    for (const Channel &ch : rooms) {
        if (!m_members.contains(ch)) {
            // Counted when the hello looked (so it did not read it), forgotten since (nobody here
            // followed it for a moment): left out of this snapshot, counted again now.
            recount(ch);
            continue;
        }
        if (!isBig(ch))
            pushed.insert(ch);
    }
    return pushed;
}

void PresenceTracker::recount(const Channel &room)
{
    if (!m_countMembers)
        return;
    m_countMembers(room.id, m_options.presenceRoomLimit + 1, [this, room](std::optional<int> members) {
        if (members && m_subscriptions.isFollowed(room) && !m_members.contains(room))
            m_members.insert(room, *members);
    });
}

bool PresenceTracker::isBig(const Channel &room) const
{
    return m_options.presenceRoomLimit > 0 && m_members.value(room, 0) > m_options.presenceRoomLimit;
}

void PresenceTracker::memberCounts(const QHash<Id, int> &counts)
{
    // The newest reading wins: it corrects what the events could not follow (a big room that
    // shrank, events missed while nobody here followed the room).
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        m_members.insert(Channel::room(it.key()), it.value());
}

PresenceTracker::RoomOnline PresenceTracker::roomOnline(const Channel &room, int limit)
{
    const qint64 now = m_clock.elapsed();
    auto cached = m_roomOnline.find(room);
    if (cached == m_roomOnline.end() || now - cached->first >= kRoomOnlineCacheMs)
        cached = m_roomOnline.insert(room, {now, onlineIn({room}, 0)}); // the asking user is one of them
    const QList<Id> &online = cached->second;
    return RoomOnline {online.size(), online.first(std::min<qsizetype>(std::max(limit, 0), online.size()))};
}

void PresenceTracker::memberLeft(Id, const Channel &room)
{
    // A count at the cap is "more than the limit", not a number: it stays until a hello reads it.
    if (const auto count = m_members.find(room);
        count != m_members.end() && *count <= m_options.presenceRoomLimit && *count > 0)
        --*count;
}

void PresenceTracker::tellJoined(Id userId, const Channel &room, const QList<ConnId> &joined)
{
    if (joined.isEmpty() || isBig(room))
        return;
    const QList<Id> online = onlineIn({room}, userId);
    for (ConnId id : joined) {
        if (ClientConnection *c = m_connections.find(id);
            c && c->state == ClientConnection::State::Open && c->channels.contains(room))
            tell(*c, online);
    }
}

void PresenceTracker::memberJoined(Id userId, const Channel &room, Seq seq, const QList<ConnId> &joined)
{
    bool counting = false;
    if (const int cap = m_options.presenceRoomLimit + 1; m_options.presenceRoomLimit > 0) {
        if (const auto count = m_members.find(room); count != m_members.end()) {
            *count = std::min(*count + 1, cap);
        } else if (seq == 1) {
            m_members.insert(room, 1); // a new room: its first member, the others' joins follow
        } else if (!joined.isEmpty() && m_countMembers) {
            // Nobody here followed the room (no hello read its count): count it before telling
            // the joined connections anything.
            counting = true;
            m_countMembers(room.id, cap, [this, userId, room, joined](std::optional<int> members) {
                if (members && m_subscriptions.isFollowed(room))
                    m_members.insert(room, *members);
                tellJoined(userId, room, joined);
            });
        }
    }
    if (!counting)
        tellJoined(userId, room, joined);
    // Only the instance that has the user tells: the others hear the new room from its relay
    // (remotePresence tells that room's connections there). Telling here too when the user is
    // online elsewhere gave the members a second online frame for the same join.
    if (!m_subscriptions.hasUser(userId))
        return; // offline, elsewhere, or within a grace (their rooms were announced when they went)
    announceHere(userId, {room}, ws::PresenceStatus::Online);
    if (m_relay) {
        // The others index the user by room for their snapshots: give them the new one.
        QList<Id> roomIds;
        for (const Channel &ch : m_subscriptions.roomsOf(userId))
            roomIds.append(ch.id);
        m_relay->relayPresence(userId, true, roomIds);
    }
}

void PresenceTracker::lastConnectionClosed(Id userId, const QSet<Channel> &rooms)
{
    if (const auto old = m_goingOffline.constFind(userId); old != m_goingOffline.cend())
        indexGoingOffline(userId, old->second, false);
    m_goingOffline.insert(userId, {m_clock.elapsed() + m_options.presenceGraceMs, rooms});
    indexGoingOffline(userId, rooms, true);
}

void PresenceTracker::sweep(qint64 now)
{
    if (now - m_membersPrunedMs >= kPruneMs) {
        m_membersPrunedMs = now;
        for (auto it = m_members.begin(); it != m_members.end();)
            it = m_subscriptions.isFollowed(it.key()) ? std::next(it) : m_members.erase(it);
        for (auto it = m_roomOnline.begin(); it != m_roomOnline.end();)
            it = now - it->first >= kRoomOnlineCacheMs ? m_roomOnline.erase(it) : std::next(it);
    }
    for (auto it = m_remoteGoingOffline.begin(); it != m_remoteGoingOffline.end();) {
        if (it->first <= now) {
            const Id user = it.key();
            const QSet<Channel> rooms = it->second;
            indexRemoteGoingOffline(user, rooms, false);
            it = m_remoteGoingOffline.erase(it);
            if (!onlineHere(user) && !onlineElsewhere(user))
                qCDebug(lcPresence) << "offline: remote grace over" << user;
            announceHere(user, rooms, ws::PresenceStatus::Offline);
        } else {
            ++it;
        }
    }
    if (m_handedOff)
        return; // the other instances hold this instance's users in their grace now
    for (auto it = m_goingOffline.begin(); it != m_goingOffline.end();) {
        if (it->first <= now) {
            const Id user = it.key();
            const QSet<Channel> rooms = it->second;
            indexGoingOffline(user, rooms, false);
            it = m_goingOffline.erase(it);
            changed(user, rooms, ws::PresenceStatus::Offline);
        } else {
            ++it;
        }
    }
}

void PresenceTracker::changed(Id userId, const QSet<Channel> &rooms, ws::PresenceStatus status, bool announce)
{
    const bool online = status == ws::PresenceStatus::Online;
    if (m_relay) {
        QList<Id> roomIds;
        for (const Channel &ch : rooms)
            roomIds.append(ch.id);
        m_relay->relayPresence(userId, online, roomIds);
    }
    if (!announce || (!online && onlineElsewhere(userId)))
        return; // still online for everyone through another instance
    qCDebug(lcPresence) << (online ? "online: first connection here" : "offline: grace over here") << userId;
    announceHere(userId, rooms, status);
}

void PresenceTracker::announceHere(Id userId, const QSet<Channel> &rooms, ws::PresenceStatus status)
{
    if (rooms.isEmpty())
        return;
    m_batch.add(userId, rooms, status, ++m_changeSeq);
    if (m_options.presenceBatchMs <= 0)
        flush();
    else if (!m_flushTimer.isActive())
        m_flushTimer.start(m_options.presenceBatchMs);
}

void PresenceTracker::flush()
{
    if (m_batch.isEmpty())
        return;
    // The changed rooms each connection follows: the subscribers of the changed rooms once per
    // window, not the members of every change's rooms once per change.
    const QHash<Channel, QSet<Id>> &rooms = m_batch.rooms();
    QHash<ConnId, QList<Channel>> roomsOf;
    for (auto it = rooms.cbegin(); it != rooms.cend(); ++it) {
        if (isBig(it.key()))
            continue; // its members ask with roomPresence: no fan-out to every one of them
        const QSet<ConnId> subs = m_subscriptions.subscribers(it.key());
        for (ConnId id : subs)
            roomsOf[id].append(it.key());
    }
    // Most connections of a storm follow one changed room, were open before its changes and are
    // not among its changed users: they share that room's frames, encoded once.
    struct Shared {
        quint64 firstSeq = 0;
        QStringList list;
        QStringList single;
    };
    const auto encode = [](const QList<ws::Presence> &frames) {
        QStringList texts;
        texts.reserve(frames.size());
        for (const ws::Presence &p : frames)
            texts.append(encodedText(p));
        return texts;
    };
    QHash<Channel, Shared> shared;
    for (auto it = roomsOf.cbegin(); it != roomsOf.cend(); ++it) {
        ClientConnection *c = m_connections.find(it.key());
        if (!c || c->state != ClientConnection::State::Open)
            continue;
        const QList<Channel> &mine = *it;
        if (mine.size() == 1 && !rooms.constFind(mine.first())->contains(c->userId)) {
            auto s = shared.find(mine.first());
            if (s == shared.end()) {
                const PresenceBatch::Told told = m_batch.toldTo(0, 0, mine);
                s = shared.insert(mine.first(),
                                  Shared {m_batch.firstSeq(mine.first()), encode(PresenceBatch::frames(told, true)),
                                          encode(PresenceBatch::frames(told, false))});
            }
            if (c->presenceFrom < s->firstSeq) {
                const QStringList &texts = c->presenceList ? s->list : s->single;
                for (const QString &text : texts)
                    m_connections.writeVolatile(*c, text);
                continue;
            }
        }
        const PresenceBatch::Told told = m_batch.toldTo(c->userId, c->presenceFrom, mine);
        for (const ws::Presence &p : PresenceBatch::frames(told, c->presenceList))
            m_connections.writeVolatile(*c, encodedText(p));
    }
    m_batch.clear();
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
    // The relay's rooms where the user is not known online yet (on any instance, a grace
    // included): a user who joined a room on their instance comes with a new one, and only that
    // room is told. Looked up room by room in the indexes by room, which follow every join,
    // leave and grace: a relay costs the rooms it names, no set of all the user's known rooms.
    QSet<Channel> joined;
    if (online) {
        const QSet<Channel> followedHere
            = m_subscriptions.hasUser(userId) ? m_subscriptions.roomsOf(userId) : QSet<Channel> {};
        const auto listed = [userId](const auto &byRoom, const Channel &ch) {
            const auto users = byRoom.constFind(ch);
            return users != byRoom.cend() && users->contains(userId);
        };
        for (const Channel &ch : std::as_const(rooms)) {
            if (!followedHere.contains(ch) && !listed(m_remoteByRoom, ch) && !listed(m_goingOfflineByRoom, ch)
                && !listed(m_remoteGoingOfflineByRoom, ch))
                joined.insert(ch);
        }
    }
    const bool wasOnline = onlineHere(userId) || onlineElsewhere(userId) || (online && takeRemoteGrace(userId));
    if (online) {
        auto &byInstance = m_remoteOnline[userId];
        if (const auto old = byInstance.constFind(instance); old != byInstance.cend())
            indexRemote(userId, *old, -1);
        byInstance.insert(instance, rooms);
        indexRemote(userId, rooms, 1);
        if (!wasOnline) {
            qCDebug(lcPresence) << "online: from" << instance << userId;
            announceHere(userId, rooms, ws::PresenceStatus::Online);
        } else if (!joined.isEmpty()) {
            qCDebug(lcPresence) << "online: in rooms joined on" << instance << userId;
            announceHere(userId, joined, ws::PresenceStatus::Online);
        }
        return;
    }
    auto it = m_remoteOnline.find(userId);
    if (it == m_remoteOnline.end())
        return;
    if (const auto announced = it->constFind(instance); announced != it->cend()) {
        indexRemote(userId, *announced, -1);
        it->erase(announced);
    }
    if (it->isEmpty())
        m_remoteOnline.erase(it);
    if (!onlineHere(userId) && !onlineElsewhere(userId)) {
        qCDebug(lcPresence) << "offline: from" << instance << userId;
        announceHere(userId, rooms, ws::PresenceStatus::Offline);
    }
}

void PresenceTracker::remotePresenceSnapshot(const QString &instance, const QList<Id> &online, qint64 graceMs)
{
    m_remoteSeen.insert(instance, m_clock.elapsed());
    const QSet<Id> now(online.cbegin(), online.cend());
    // Users the instance no longer has (a missed offline, or a restart: an empty snapshot).
    QList<std::pair<Id, QSet<Channel>>> gone;
    for (auto it = m_remoteOnline.begin(); it != m_remoteOnline.end();) {
        auto inst = it->find(instance);
        if (inst != it->end() && !now.contains(it.key())) {
            gone.append({it.key(), *inst});
            indexRemote(it.key(), *inst, -1);
            it->erase(inst);
        }
        it = it->isEmpty() ? m_remoteOnline.erase(it) : std::next(it);
    }
    // Not announced at once: an instance that restarted (rolling restart, deploy) sends its first
    // snapshot while its clients are still coming back through the others, and each of them
    // would go offline and online again for every member of their rooms: thousands of frames in
    // the middle of the reconnects. Offline only if they are still gone after the grace.
    // A draining instance hands its users over with a longer grace: its reconnect window.
    qCDebug(lcPresence) << "snapshot from" << instance << online.size() << "online," << gone.size()
                        << "no longer there, grace" << graceMs;
    const qint64 deadline = m_clock.elapsed() + std::max<qint64>(graceMs, m_options.presenceGraceMs);
    for (const auto &[user, rooms] : std::as_const(gone)) {
        if (onlineHere(user) || onlineElsewhere(user))
            continue;
        auto old = m_remoteGoingOffline.find(user);
        if (old != m_remoteGoingOffline.end()) {
            indexRemoteGoingOffline(user, old->second, false);
            old->first = std::max(old->first, deadline);
            old->second.unite(rooms);
        } else {
            old = m_remoteGoingOffline.insert(user, {deadline, rooms});
        }
        indexRemoteGoingOffline(user, old->second, true);
    }
}

bool PresenceTracker::takeRemoteGrace(Id userId)
{
    const auto it = m_remoteGoingOffline.find(userId);
    if (it == m_remoteGoingOffline.end())
        return false;
    indexRemoteGoingOffline(userId, it->second, false);
    m_remoteGoingOffline.erase(it);
    return true;
}

void PresenceTracker::handOff(qint64 graceMs)
{
    // Draining: every user here is about to reconnect through another instance. The others keep
    // them online for graceMs (the window this instance spreads its reconnects over, plus the
    // usual grace) instead of hearing each one go offline here and online there: thousands of
    // presence frames to the clients that were not moved, in the middle of the reconnects.
    if (m_handedOff)
        return;
    m_handedOff = true;
    m_snapshotTimer.stop();
    if (m_relay)
        m_relay->relayPresenceSnapshot({}, graceMs);
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

void PresenceTracker::indexRemote(Id userId, const QSet<Channel> &rooms, int delta)
{
    for (const Channel &ch : rooms) {
        auto users = m_remoteByRoom.find(ch);
        if (users == m_remoteByRoom.end()) {
            if (delta <= 0)
                continue;
            users = m_remoteByRoom.insert(ch, {});
        }
        int &count = (*users)[userId];
        count += delta;
        if (count <= 0) {
            users->remove(userId);
            if (users->isEmpty())
                m_remoteByRoom.erase(users);
        }
    }
}

namespace {
void indexByRoom(QHash<Channel, QSet<Id>> &index, Id userId, const QSet<Channel> &rooms, bool add)
{
    for (const Channel &ch : rooms) {
        if (add) {
            index[ch].insert(userId);
        } else if (auto users = index.find(ch); users != index.end()) {
            users->remove(userId);
            if (users->isEmpty())
                index.erase(users);
        }
    }
}
} // namespace

void PresenceTracker::indexGoingOffline(Id userId, const QSet<Channel> &rooms, bool add)
{
    indexByRoom(m_goingOfflineByRoom, userId, rooms, add);
}

void PresenceTracker::indexRemoteGoingOffline(Id userId, const QSet<Channel> &rooms, bool add)
{
    indexByRoom(m_remoteGoingOfflineByRoom, userId, rooms, add);
}

void PresenceTracker::startRelay()
{
    if (!m_relay)
        return;
    m_relay->relayPresenceSnapshot({}); // a restart under the same name: forget the old one
    m_snapshotTimer.setInterval(kSnapshotMs);
    connect(&m_snapshotTimer, &QTimer::timeout, this, [this] {
        if (!m_relay || m_handedOff)
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

void PresenceTracker::relayRooms()
{
    if (!m_relay || m_handedOff)
        return;
    QHash<Id, QList<Id>> roomsByUser;
    const auto add = [&roomsByUser](Id user, const Channel &ch) {
        if (ch.kind != ChannelKind::Room)
            return;
        QList<Id> &rooms = roomsByUser[user];
        if (!rooms.contains(ch.id))
            rooms.append(ch.id);
    };
    for (Id user : m_subscriptions.users()) {
        for (ConnId id : m_subscriptions.connectionsOfUser(user)) {
            if (const ClientConnection *c = m_connections.find(id)) {
                for (auto it = c->channels.cbegin(); it != c->channels.cend(); ++it)
                    add(user, it.key());
            }
        }
    }
    for (auto it = m_goingOffline.cbegin(); it != m_goingOffline.cend(); ++it) {
        for (const Channel &ch : it->second)
            add(it.key(), ch);
    }
    if (!roomsByUser.isEmpty())
        m_relay->relayPresenceRooms(roomsByUser);
}

} // namespace taskmaster::server
