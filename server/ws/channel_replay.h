// ChannelReplay: the durable events a connection or this instance missed, read from the database
// while the live ones wait. A hello's resume replays each channel from the client's seq (or
// answers resync past replayLimit; `resumed` when the replay ends), a connection that falls
// behind its live events is caught up, ChannelOrder's gaps (an event held for gapWaitMs) are
// filled, and after the cluster bus resubscribed every followed channel is compared with the
// database (verifyChannels). What it reads goes out through the SubscriptionTable like any event.
// Catch-up reads run at most replayConcurrency at once, the others wait in a FIFO: after an
// instance died, thousands of resumes would otherwise queue their reads in the database pool
// ahead of the sends of the clients already here (their cursors hold live events meanwhile).
// Owns: the gap timer and the gap fills in flight. Thread: network thread; reads run on the
// database pool.
#pragma once

#include "server/storage/db_pool.h"
#include "server/ws/client_connections.h"

#include <QObject>
#include <QSet>
#include <QTimer>

#include <deque>

namespace taskmaster::server {

class SubscriptionTable;

class ChannelReplay final : public QObject {
    Q_OBJECT
public:
    ChannelReplay(DbPool *db, const HubOptions &options, const QElapsedTimer &clock, ClientConnections &connections,
                  SubscriptionTable &subscriptions, HubStats &stats, QObject *parent = nullptr);

    // A welcomed connection follows its channels (seq per channel, as the database has them now)
    // from where its hello resumes them; the replays start at once.
    void resume(ClientConnection &c, const ws::SeqMap &resume, const ws::SeqMap &channels);
    // Reads what the connection has not got of the channel; its live events wait meanwhile.
    void catchUp(ConnId id, const Channel &channel);
    // ChannelOrder holds events: check for stalled gaps until it holds none.
    void watchGaps();
    // After the bus missed publications (Redis reconnect): every channel with local subscribers
    // is compared with the database and what is missing is delivered.
    void verifyChannels();

private:
    // Starts queued catch-up reads while fewer than replayConcurrency are in flight.
    void readQueued();
    void read(ConnId id, const Channel &channel, Seq after);
    void fillGaps();

    DbPool *m_db;
    const HubOptions &m_options;
    const QElapsedTimer &m_clock;
    ClientConnections &m_connections;
    SubscriptionTable &m_subscriptions;
    HubStats &m_stats;
    QSet<Channel> m_filling; // gap fills in flight
    std::deque<std::pair<ConnId, Channel>> m_queued; // catch-ups waiting for a read
    int m_reading = 0; // catch-up reads in flight
    QTimer m_gapTimer;
};

} // namespace taskmaster::server
