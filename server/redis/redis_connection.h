// RedisConnection: the command connection to Redis (cache, sessions, counters, PUBLISH, scripts)
// on top of RedisClientBase's supervised, pipelined hiredis connection. Commands are argv lists
// (binary safe); replies come in order. While the connection is not Up, command() fails at once
// with Unavailable (the callback runs before command() returns); callers decide what to do.
// RedisScript + evalSha: EVALSHA with SCRIPT LOAD on NOSCRIPT (after a Redis restart or SCRIPT
// FLUSH), for atomic read-modify-write scripts such as the rate limiter's token bucket.
// Owns: the connection and the callbacks in flight. Thread: network thread.
#pragma once

#include "server/redis/redis_client.h"

namespace taskmaster::server {

// A Lua script and its SHA1 (computed locally, as Redis does).
class RedisScript {
public:
    explicit RedisScript(QByteArray source);
    [[nodiscard]] const QByteArray &source() const { return m_source; }
    [[nodiscard]] const QByteArray &sha1() const { return m_sha1; } // 40 lowercase hex digits

private:
    QByteArray m_source;
    QByteArray m_sha1;
};

class RedisConnection final : public RedisClientBase {
    Q_OBJECT
public:
    explicit RedisConnection(RedisUrl url, RedisOptions options = {}, QObject *parent = nullptr);

    // Sends one command, e.g. command({"SET", key, value, "PX", "5000"}, cb). The callback is
    // called exactly once (see RedisCallback). Refused (Error Internal) for an empty list and for
    // the commands that switch a connection's mode (SUBSCRIBE, PSUBSCRIBE, MONITOR...): use
    // RedisSubscriber. Blocking commands (BLPOP...) are subject to the command timeout.
    void command(QList<QByteArray> args, RedisCallback callback);

    // EVALSHA sha numkeys keys... args...; on a NOSCRIPT error reply it pipelines SCRIPT LOAD and
    // the EVALSHA again (once) and reports that second reply.
    void evalSha(const RedisScript &script, const QList<QByteArray> &keys, const QList<QByteArray> &args,
                 RedisCallback callback);

    // Commands sent and not yet answered.
    [[nodiscard]] qsizetype inFlight() const { return commandsInFlight(); }
};

} // namespace taskmaster::server
