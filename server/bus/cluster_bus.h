// ClusterBus: carries what one instance writes to the others over Redis pub/sub, so N instances
// behind nginx behave as one server. It is the hub's relay (an EventSink): every durable event
// this instance commits is published on "tm:ch:<channel>" (the event frame as clients get it,
// with the origin instance), and membership changes without events and token revocations on
// "tm:ctl", as are the volatile frames (typing, read: at most once, dropped while Redis is down)
// and presence (transitions, and every 30 s who is online on the instance, so a killed instance's
// users go offline). Every instance PSUBSCRIBEs "tm:ch:*" and SUBSCRIBEs "tm:ctl", ignores its own
// publications and hands the others' to a RemoteEventSink (the hub, whose ChannelOrder drops
// duplicates and fills gaps from the database). Pub/sub is at-most-once: after every
// (re)subscription the receiver compares its channels with the database
// (RemoteEventSink::verifyChannels), so a Redis restart loses nothing.
// While the publishing connection is down, publications wait in a bounded queue and go out when
// it is back (the instance keeps serving its own clients meanwhile); past the bound they are
// dropped and the other instances read them from the database when their bus resubscribes.
// Owns: the publishing connection and the subscriber. Thread: network thread; the EventSink
// functions are called on it by the hub.
#pragma once

#include "server/redis/redis_connection.h"
#include "server/redis/redis_subscriber.h"
#include "server/redis/redis_url.h"
#include "server/ws/event_sink.h"
#include "server/ws/remote_event_sink.h"

#include <QObject>

namespace taskmaster::server {

class ClusterBus final : public QObject, public EventSink {
    Q_OBJECT
public:
    // What the other instances publish goes to `receiver` (which must outlive the bus).
    ClusterBus(const RedisUrl &url, QString instance, RemoteEventSink *receiver, QObject *parent = nullptr);

    void start();
    [[nodiscard]] bool isUp() const;

    void publish(QList<ChannelEvent> events) override;
    void subscribe(const Channel &channel, const QList<Id> &userIds, Seq seq) override;
    void closeChannel(const Channel &channel, const QList<Id> &userIds) override;
    void revokeToken(const QByteArray &tokenDigest) override;
    void relayVolatile(const Channel &room, const QByteArray &frame, Id exceptUser) override;
    void relayPresence(Id userId, bool online, const QList<Id> &roomIds) override;
    void relayPresenceSnapshot(const QList<Id> &online, qint64 graceMs) override;
    void relayPresenceRooms(const QHash<Id, QList<Id>> &roomsByUser) override;
    void relayLoad(qint64 connections, bool draining) override;

    // Publications written to Redis and not yet answered (a draining instance waits for them:
    // its presence hand-off must reach the others before it exits); 0 while Redis is down.
    [[nodiscard]] qsizetype publishing() const;
    [[nodiscard]] qsizetype relaying() const override { return publishing(); }

private:
    void send(const QByteArray &redisChannel, const QByteArray &payload);
    void flush();
    // Asks the other instances for their presence snapshots (after each (re)subscription).
    void requestPresenceSnapshots();
    void onEvent(const QByteArray &payload);
    void onControl(const QByteArray &payload);

    QString m_instance;
    RemoteEventSink *m_receiver;
    QByteArray m_originPrefix; // {"o":"<instance>","e":
    RedisConnection m_pub;
    RedisSubscriber m_sub;
    QList<std::pair<QByteArray, QByteArray>> m_waiting; // (channel, payload) while down
    static constexpr qsizetype kWaitingMax = 100000;
};

} // namespace taskmaster::server
