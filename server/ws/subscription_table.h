// SubscriptionTable: which connection follows which channel, and the fan-out. It indexes the
// open connections by channel, by user and by session token, keeps the durable events of the
// subscribed channels in seq order (ChannelOrder) and writes each released event, encoded once,
// to every subscriber (the same QString to each socket; one that missed something is caught up
// by ChannelReplay while its live events wait). Volatile frames (typing, read markers) go to a
// room's subscribers through here as well.
// Owns: the indexes and the ChannelOrder; each connection's cursors (ClientConnection::channels)
// are added and removed only here. Thread: network thread.
#pragma once

#include "server/ws/channel_order.h"
#include "server/ws/client_connections.h"

#include <QHash>
#include <QSet>

#include <functional>
#include <optional>

namespace taskmaster::server {

class ChannelReplay;
class HubMetrics;

class SubscriptionTable final {
public:
    SubscriptionTable(ClientConnections &connections, HubMetrics &metrics, const QElapsedTimer &clock);
    SubscriptionTable(const SubscriptionTable &) = delete;
    SubscriptionTable &operator=(const SubscriptionTable &) = delete;
    // Who catches a connection up when it missed events (set once, before any event).
    void setReplay(ChannelReplay *replay) { m_replay = replay; }
    // Called after a room's member_joined event (seq) went out, with the joining user's
    // connections here that follow the room from it on (none when the user is not connected here).
    using Joined = std::function<void(Id userId, const Channel &room, Seq seq, const QList<ConnId> &connections)>;
    void setJoined(Joined joined) { m_joined = std::move(joined); }
    // Called after a room's member_left event went out (the room's member count changed).
    using Left = std::function<void(Id userId, const Channel &room)>;
    void setLeft(Left left) { m_left = std::move(left); }
    // The rooms the user's open connections here follow.
    [[nodiscard]] QSet<Channel> roomsOf(Id userId) const;

    // A welcomed connection: indexed by user and token. True for the user's first connection.
    bool opened(const ClientConnection &c);
    // A connection is gone: out of every index. The rooms it followed when it was its user's
    // last connection here (presence goes offline after the grace), nothing otherwise.
    std::optional<QSet<Channel>> closed(ClientConnection &c);

    void add(ClientConnection &c, const Channel &channel, Seq sent);
    void remove(ClientConnection &c, const Channel &channel);
    // The open connections of these users that do not follow the channel yet follow it from seq.
    void subscribeUsers(const Channel &channel, const QList<Id> &userIds, Seq seq);
    // The connections of these users stop following the channel.
    void unsubscribeUsers(const Channel &channel, const QList<Id> &userIds);

    // Durable events (of this instance or another, or read from the database): put in order per
    // channel and written to the subscribers; events of channels nobody here follows are dropped.
    void publish(QList<Outgoing> events);
    // A volatile frame to the open connections of a room, except those of `exceptUser`.
    void sendVolatile(const Channel &room, const QString &text, Id exceptUser);

    [[nodiscard]] QSet<ConnId> subscribers(const Channel &channel) const { return m_subscribers.value(channel); }
    // Some connection here follows the channel (its durable events are tracked here).
    [[nodiscard]] bool isFollowed(const Channel &channel) const { return m_subscribers.contains(channel); }
    [[nodiscard]] QSet<ConnId> connectionsOfToken(const QByteArray &tokenDigest) const
    {
        return m_byToken.value(tokenDigest);
    }
    [[nodiscard]] bool hasUser(Id userId) const { return m_byUser.contains(userId); }
    [[nodiscard]] QList<Id> users() const { return m_byUser.keys(); }
    [[nodiscard]] QSet<ConnId> connectionsOfUser(Id userId) const { return m_byUser.value(userId); }
    [[nodiscard]] qint64 userCount() const { return qint64(m_byUser.size()); }
    [[nodiscard]] qint64 channelCount() const { return qint64(m_subscribers.size()); }
    // Every followed channel with the last seq released for it.
    [[nodiscard]] QList<std::pair<Channel, Seq>> delivered() const;
    [[nodiscard]] ChannelOrder &order() { return m_order; }

private:
    void release(const Outgoing &out);
    void deliver(ClientConnection &c, const Channel &channel, Seq seq, const QString &text);

    ClientConnections &m_connections;
    HubMetrics &m_metrics;
    HubStats &m_stats;
    const QElapsedTimer &m_clock;
    ChannelReplay *m_replay = nullptr;
    Joined m_joined;
    Left m_left;
    QHash<Channel, QSet<ConnId>> m_subscribers;
    QHash<Id, QSet<ConnId>> m_byUser; // open connections (after welcome)
    QHash<QByteArray, QSet<ConnId>> m_byToken;
    ChannelOrder m_order;
};

} // namespace taskmaster::server
