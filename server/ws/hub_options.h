// HubOptions: the settings of the real-time layer (limits, timeouts, grace periods), filled from
// the configuration by ServerApp and read by the hub's parts.
// Owns: nothing (plain values). Thread: network thread.
#pragma once

#include <QString>

#include <functional>

namespace taskmaster::server {

struct HubOptions {
    QString instance;
    // Outbound queue per connection: above half of it volatile events are dropped; above it for
    // longer than slowConsumerGraceMs, or above 8 times it at once, the connection is closed
    // with 4008 (bursts such as a replay or a group commit's fan-out pass).
    qint64 outboundLimitBytes = 1 << 20;
    int slowConsumerGraceMs = 2000;
    int replayLimit = 1000; // a resume further behind gets resync
    int replayConcurrency = 8; // catch-up reads in flight at once (ChannelReplay); the rest wait
                               // (ServerApp: a quarter of the database pool)
    int helloTimeoutMs = 10000;
    int helloConcurrency = 8; // hellos worked on at once (AdmissionGate); the others wait their turn
    int helloQueueMax = 10000; // hellos waiting; more are refused with `reconnect` + 4013
    // Reconnects per second the other instances are expected to take this one's clients back at,
    // should it die: welcome and pong tell each client to spread its first attempt over
    // connections / reconnectRate seconds (reconnectWindowMs). 0: no hint.
    int reconnectRate = 600;
    // A drain (SIGTERM) spreads its clients over connections / drainRate seconds: nobody is cut
    // off meanwhile (they are told to go, with `reconnect`), so it can take longer than a crash's
    // window and cost the clients that stay less. 0: as reconnectRate.
    int drainRate = 150;
    // Connections a second at most asked to reconnect elsewhere while this instance holds more
    // than its share of the cluster's by over the slack (server/ws/rebalancer.h); 0: never.
    int rebalanceRate = 50;
    int rebalanceSlack = 50;
    int idleTimeoutMs = 60000; // nothing received for this long: closed (pinged at half)
    double rateFramesPerSecond = 100; // per connection, token bucket
    double rateBurst = 200;
    int rateGraceMs = 5000; // throttled for longer than this: closed with 4029
    int presenceGraceMs = 5000; // offline announced only after this long without a connection
    // Presence changes are gathered this long, then each connection gets those of its rooms
    // together (PresenceBatch); 0: each change is fanned out at once.
    int presenceBatchMs = 100;
    // Rooms with more members than this are big: no presence is pushed because of them (no
    // snapshot, no changes, no list on a join); clients ask with `roomPresence`. 0: no limit.
    int presenceRoomLimit = 1000;
    int typingIntervalMs = 1000; // at most one typing event per user and room in this time
    int gapWaitMs = 50; // an out-of-order event waits this long before the gap is read from the db
    bool groupCommit = true;
    int maxBatch = 1000;
    qint64 sessionTtlMs = 30LL * 24 * 3600 * 1000;
    std::function<qint64()> nowMs; // wall clock for stored times
};

} // namespace taskmaster::server
