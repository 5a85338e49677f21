// PresenceTracker: who is online, for the `presence` frames. A user is online here from their
// first connection until presenceGraceMs after their last one closed (a reconnect within the
// grace announces nothing); the other instances' users arrive from the relay as transitions and
// as a snapshot every 30 s, and an instance silent for three snapshots is taken as gone. Offline
// is announced only when no instance has the user any more, and for users a snapshot no longer
// lists (their instance restarted) only after the grace: they are usually reconnecting through
// another instance. A user who connects here while another instance has them (or had them within
// that grace) is announced to the other instances only: for the members nothing changed, and a
// reconnect storm does not fan out thousands of presence frames. A draining instance hands its
// users off: one message tells the others to keep them online for its reconnect window plus the
// grace, and it announces no offline of its own any more. A new connection is told who of
// its rooms' members is online already (within a grace too), as one list frame when its hello
// asked for it: the tables are also kept by room, so that costs the members of the connection's
// rooms, not every user online anywhere (a storm of thousands of reconnects stalled the instance
// for seconds when each one scanned them all).
// Changes are not written as they happen: they gather for presenceBatchMs (PresenceBatch) and
// each connection then gets those of its rooms together, one list frame per status when its
// hello asked for the list form (one frame per user otherwise). Without that, 5,000 members of
// one room connecting wrote a frame to every online member per connect: 12.5 million frames,
// against one per member and window now. Changes a connection's snapshot already had are not
// told to it again.
// Big rooms (more members than HubOptions::presenceRoomLimit, when it is not 0) push no presence
// because of them: the snapshot leaves their members out (one who shares a small room with the
// connection is still told, through that room), a window's changes are not fanned out to their
// connections and a join tells no list; clients ask with `roomPresence` (roomOnline()). Without
// it, each of 5,000 members of one room connecting wrote the ids of every online member: 25
// million ids. The member counts come from the hellos (counted up to the limit + 1, about what a
// room of the limit costs, and only by a hello with a room not counted here yet) and follow the
// member_joined and member_left events of the rooms followed here (every instance sees them
// through the bus); a room a member here joins that nobody here followed is counted then (or
// starts at 1 when the join is its first event: it was just created). Approximate: a big room
// that shrinks under the limit stays big until a hello reads it again (only limit + 1 members
// are counted, and a hello reads only when it has a room not counted here; rooms nobody here
// follows are forgotten after 10 s: one forgotten while a hello was looked up is left out of
// that snapshot and counted again); a join racing a hello's reading may be counted twice.
// Owns: the users within their grace, the remote instances' online users and when each instance
// was last heard of (each with its index by room), the window's changes, the snapshot and window
// timers, the member counts of the rooms followed here. Thread: network thread.
#pragma once

#include "server/ws/client_connections.h"
#include "server/ws/presence_batch.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <functional>
#include <optional>

namespace taskmaster::server {

class EventSink;
class SubscriptionTable;

class PresenceTracker final : public QObject {
    Q_OBJECT
public:
    PresenceTracker(const HubOptions &options, const QElapsedTimer &clock, ClientConnections &connections,
                    SubscriptionTable &subscriptions, QObject *parent = nullptr);

    // Where local transitions and snapshots go for the other instances; null alone.
    void setRelay(EventSink *relay) { m_relay = relay; }
    // Starts the periodic presence snapshot for the relay (cluster mode).
    void startRelay();

    // A welcomed connection with the rooms it follows: told who is online among their members
    // (asList: in one frame); the user comes online when it is their first connection and they
    // were not in their grace.
    void opened(ClientConnection &c, const QSet<Channel> &rooms, bool firstConnection, bool asList);
    // userId became a member of room (its member_joined event went out here); joined: their
    // connections here that follow it from now on. Those are told who of the room is online, and
    // the room's connections here that the user is online when they are (without it, two people
    // connected while one joined the other's room did not see each other online until one
    // reconnected). Only the instance that has the user tells the room's connections, and it
    // relays the user's rooms: the others tell theirs from that relay (remotePresence).
    // seq: the member_joined event's (1: the room's first event, the room is new). In a big room
    // the joined connections are told no list (the count follows the join).
    void memberJoined(Id userId, const Channel &room, Seq seq, const QList<ConnId> &joined);
    // userId left room (its member_left event went out here): the room's count follows.
    void memberLeft(Id userId, const Channel &room);
    // The member counts a welcomed connection's hello read: room id -> members, up to the limit + 1.
    void memberCounts(const QHash<Id, int> &counts);
    // room -> its member count (up to the limit + 1), for the rooms followed here that have one.
    [[nodiscard]] QHash<Channel, int> memberCountsHere() const { return m_members; }
    // How a room's member count is read when no hello did: counts up to `cap`, then `done` runs on
    // the network thread (nullopt: the database failed). Without it such a room counts as small.
    using CountMembers = std::function<void(Id roomId, int cap, std::function<void(std::optional<int>)> done)>;
    void setCountMembers(CountMembers count) { m_countMembers = std::move(count); }
    // The `roomPresence` answer: how many of the room's members are online (on any instance, a
    // grace included; the asking user too) and the first `limit` of their ids, ascending. Up to
    // kRoomOnlineCacheMs old: a room's list is worked out at most once in that time, so thousands
    // of members asking at once (a storm of reconnects, each opening the room) cost O(members)
    // per room and second, not per request.
    struct RoomOnline {
        qint64 online = 0;
        QList<Id> userIds;
    };
    static constexpr qint64 kRoomOnlineCacheMs = 1000;
    [[nodiscard]] RoomOnline roomOnline(const Channel &room, int limit);
    // More members than the limit: no presence is pushed because of this room.
    [[nodiscard]] bool isBig(const Channel &room) const;
    // The user's last connection here closed: offline after the grace unless they come back.
    void lastConnectionClosed(Id userId, const QSet<Channel> &rooms);
    // Announces offline for the users whose grace ended.
    void sweep(qint64 nowMs);

    // Presence from another instance, as the bus receives it.
    void remotePresence(const QString &instance, Id userId, bool online, const QList<Id> &roomIds);
    // graceMs: how long the users it no longer lists stay online here (at least the grace).
    void remotePresenceSnapshot(const QString &instance, const QList<Id> &online, qint64 graceMs = 0);

    // This instance drains: its users move to the others, which keep them online for graceMs.
    void handOff(qint64 graceMs);
    // Tells the other instances who is online here with their rooms (one started and asked).
    void relayRooms();

private:
    // A local transition: told to the other instances, fanned out here (offline only when no
    // other instance still has the user).
    // announce false: told to the other instances only (the user was online for everyone already).
    void changed(Id userId, const QSet<Channel> &rooms, ws::PresenceStatus status, bool announce = true);
    // Into the window's batch, written to the rooms' connections when the window ends.
    void announceHere(Id userId, const QSet<Channel> &rooms, ws::PresenceStatus status);
    // Ends the window: each connection of a changed room gets its changes.
    void flush();
    // Who is online among the members of rooms (on any instance, or within a grace), but except.
    [[nodiscard]] QList<Id> onlineIn(const QSet<Channel> &rooms, Id except) const;
    // Writes online to c: one list frame when its hello asked for it, a frame per user otherwise.
    void tell(ClientConnection &c, QList<Id> online);
    [[nodiscard]] bool onlineHere(Id userId) const;
    [[nodiscard]] bool onlineElsewhere(Id userId) const;
    void expireRemote();
    // Keep the indexes by room in step with m_remoteOnline and m_goingOffline.
    void indexRemote(Id userId, const QSet<Channel> &rooms, int delta);
    void indexGoingOffline(Id userId, const QSet<Channel> &rooms, bool add);
    void indexRemoteGoingOffline(Id userId, const QSet<Channel> &rooms, bool add);
    // Ends the user's remote grace; true when they were in it.
    bool takeRemoteGrace(Id userId);
    // rooms without the big ones (and without those of unknown size, which are counted now).
    [[nodiscard]] QSet<Channel> pushedRooms(const QSet<Channel> &rooms);
    // Reads the room's member count from the database (it has none here).
    void recount(const Channel &room);
    // The joined connections that still follow room are told who of it is online.
    void tellJoined(Id userId, const Channel &room, const QList<ConnId> &joined);

    const HubOptions &m_options;
    const QElapsedTimer &m_clock;
    ClientConnections &m_connections;
    SubscriptionTable &m_subscriptions;
    EventSink *m_relay = nullptr;
    QHash<Id, std::pair<qint64, QSet<Channel>>> m_goingOffline; // user -> (deadline ms, rooms)
    // Users online on other instances: user -> instance -> the rooms it announced.
    QHash<Id, QHash<QString, QSet<Channel>>> m_remoteOnline;
    QHash<QString, qint64> m_remoteSeen; // instance -> last presence message (ms, m_clock)
    // room -> user -> how many instances announced the user with that room (entries > 0 only)
    QHash<Channel, QHash<Id, int>> m_remoteByRoom;
    QHash<Channel, QSet<Id>> m_goingOfflineByRoom; // room -> users within their grace
    // Users another instance's snapshot no longer lists (it restarted): offline after the grace
    // unless they come back anywhere first. user -> (deadline ms, rooms)
    QHash<Id, std::pair<qint64, QSet<Channel>>> m_remoteGoingOffline;
    QHash<Channel, QSet<Id>> m_remoteGoingOfflineByRoom; // room -> users within that grace
    bool m_handedOff = false; // draining: no offline announced from here any more
    QTimer m_snapshotTimer;
    PresenceBatch m_batch; // the changes of the current window
    quint64 m_changeSeq = 0; // the last change's seq (ClientConnection::presenceFrom)
    QTimer m_flushTimer; // single shot: the end of the current window
    // room -> its members, counted up to presenceRoomLimit + 1 (rooms followed here; none when
    // there is no limit). Rooms nobody here follows any more are forgotten every kPruneMs.
    QHash<Channel, int> m_members;
    qint64 m_membersPrunedMs = 0;
    CountMembers m_countMembers;
    // room -> (when, who was online): roomOnline()'s lists, each kept kRoomOnlineCacheMs.
    QHash<Channel, std::pair<qint64, QList<Id>>> m_roomOnline;
};

} // namespace taskmaster::server
