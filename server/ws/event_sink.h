// EventSink: where writes report what they changed for the real-time layer. REST controllers
// (on database workers) and the WebSocket group commit (on the network thread) call it after
// their transaction committed; the hub (server/ws/hub.h) implements it and fans the events out.
// Thread: every function may be called from any thread; the implementation moves the work to
// the network thread.
#pragma once

#include "shared/domain/types.h"

#include <QByteArray>
#include <QList>

namespace taskmaster::server {

class EventSink {
public:
    virtual ~EventSink() = default;

    // Durable events a committed write appended, in seq order per channel.
    virtual void publish(QList<ChannelEvent> events) = 0;
    // Members of a channel that has no member_joined event for them: the owner of a new project
    // (its channel starts at `seq`, 0).
    virtual void subscribe(const Channel &channel, const QList<Id> &userIds, Seq seq) = 0;
    // A channel that ended without a member_left event per member: a deleted project.
    virtual void closeChannel(const Channel &channel, const QList<Id> &userIds) = 0;
    // A session ended (logout): its sockets close with 4003.
    virtual void revokeToken(const QByteArray &tokenDigest) = 0;
    // A message write failed with its commit's outcome unknown (the connection broke during the
    // transaction): the room of a send, or the message of an edit or delete, may have a new event
    // nobody published; the hub checks them once the database answers (GroupCommit). sinceMs: the
    // write's time. The default (a relay) does nothing.
    virtual void writeInDoubt(const QList<Id> &roomIds, const QList<Id> &messageIds, qint64 sinceMs)
    {
        Q_UNUSED(roomIds)
        Q_UNUSED(messageIds)
        Q_UNUSED(sinceMs)
    }

    // Volatile frames for the other instances (the hub calls these on the network thread; the
    // default drops them, as a single instance needs nothing more):
    // a typing or read frame for the sockets of `room` except those of `exceptUser`;
    virtual void relayVolatile(const Channel &room, const QByteArray &frame, Id exceptUser)
    {
        Q_UNUSED(room)
        Q_UNUSED(frame)
        Q_UNUSED(exceptUser)
    }
    // a user came online on this instance (first connection) or went offline here (after the
    // grace), with the rooms to tell;
    virtual void relayPresence(Id userId, bool online, const QList<Id> &roomIds)
    {
        Q_UNUSED(userId)
        Q_UNUSED(online)
        Q_UNUSED(roomIds)
    }
    // who is online here now (every 30 s, and at start empty: forget what this instance said
    // before a restart); graceMs > 0: the users not listed stay online that long on the other
    // instances (a draining instance handing its users over).
    virtual void relayPresenceSnapshot(const QList<Id> &online, qint64 graceMs = 0)
    {
        Q_UNUSED(online)
        Q_UNUSED(graceMs)
    }
    // Publications handed over and not yet confirmed as sent (a drain waits for its presence
    // hand-off before it closes thousands of sockets in one go).
    [[nodiscard]] virtual qsizetype relaying() const { return 0; }
    // Who is online here with their rooms: the answer to a started instance's question.
    virtual void relayPresenceRooms(const QHash<Id, QList<Id>> &roomsByUser) { Q_UNUSED(roomsByUser) }
    // This instance's WebSocket connections (every second; draining: it takes no more), so that
    // the others know their share (server/ws/rebalancer.h).
    virtual void relayLoad(qint64 connections, bool draining)
    {
        Q_UNUSED(connections)
        Q_UNUSED(draining)
    }

    // A sink that drops everything (no real-time layer: tools and tests of the REST layer alone).
    [[nodiscard]] static EventSink &none();
};

inline EventSink &EventSink::none()
{
    struct Null final : EventSink {
        void publish(QList<ChannelEvent>) override { }
        void subscribe(const Channel &, const QList<Id> &, Seq) override { }
        void closeChannel(const Channel &, const QList<Id> &) override { }
        void revokeToken(const QByteArray &) override { }
    };
    static Null sink;
    return sink;
}

// Builders for the events of REST writes, so every controller makes them the same way.
namespace events {
[[nodiscard]] inline ChannelEvent member(EventType type, const Channel &channel, Seq seq, Id userId)
{
    ChannelEvent e;
    e.type = type;
    e.channel = channel;
    e.seq = seq;
    e.userId = userId;
    return e;
}
[[nodiscard]] inline ChannelEvent message(EventType type, Seq seq, const Message &m)
{
    ChannelEvent e;
    e.type = type;
    e.channel = Channel::room(m.roomId);
    e.seq = seq;
    e.message = m;
    return e;
}
[[nodiscard]] inline ChannelEvent task(EventType type, Seq seq, const Task &t)
{
    ChannelEvent e;
    e.type = type;
    e.channel = Channel::project(t.projectId);
    e.seq = seq;
    e.task = t;
    return e;
}
} // namespace events

} // namespace taskmaster::server
