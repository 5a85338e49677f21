// RemoteEventSink: what the other instances of a cluster wrote, as the cluster bus
// (server/bus/cluster_bus.h) receives it. The hub implements it and applies each to this
// instance's sockets only (nothing is relayed again). It is the bus's way in, as EventSink is
// the hub's way out: the bus knows this interface, never the hub.
// Owns: nothing (an interface). Thread: every function is called on the network thread.
#pragma once

#include "shared/domain/types.h"

#include <QByteArray>
#include <QList>
#include <QString>

namespace taskmaster::server {

class RemoteEventSink {
public:
    virtual ~RemoteEventSink() = default;

    // Durable events another instance committed (ChannelOrder drops the duplicates).
    virtual void remoteEvents(QList<ChannelEvent> events) = 0;
    // EventSink::subscribe, closeChannel and revokeToken of another instance.
    virtual void remoteSubscribe(const Channel &channel, const QList<Id> &userIds, Seq seq) = 0;
    virtual void remoteCloseChannel(const Channel &channel, const QList<Id> &userIds) = 0;
    virtual void remoteRevokeToken(const QByteArray &tokenDigest) = 0;
    // A typing or read frame for the sockets of `room` except those of `exceptUser`.
    virtual void remoteVolatile(const Channel &room, const QString &frame, Id exceptUser) = 0;
    // A user came online on `instance`, or went offline there.
    virtual void remotePresence(const QString &instance, Id userId, bool online, const QList<Id> &roomIds) = 0;
    // Who is online on `instance` now (empty after its restart, or when it drains: then graceMs is
    // how long the users it no longer lists stay online).
    virtual void remotePresenceSnapshot(const QString &instance, const QList<Id> &online, qint64 graceMs) = 0;
    // Another instance started and asks who is online here (answered with relayPresenceRooms).
    virtual void remotePresenceSnapshotRequested() = 0;
    // Who is online on `instance`, with their rooms (its answer to that question).
    virtual void remotePresenceRooms(const QString &instance, const QHash<Id, QList<Id>> &roomsByUser) = 0;
    // `instance` holds `connections` WebSocket connections (draining: it takes no more).
    virtual void remoteLoad(const QString &instance, qint64 connections, bool draining) = 0;
    // The bus (re)subscribed and may have missed publications: every channel with local
    // subscribers is compared with the database and what is missing is delivered.
    virtual void verifyChannels() = 0;
};

} // namespace taskmaster::server
