// RedisSubscriber: the pub/sub connection (a subscribed connection cannot send other commands, so
// it is separate from RedisConnection). It keeps the set of wanted channels and patterns; while Up
// changes are sent at once, and every time the connection comes up (first connect and each
// reconnect) it subscribes them all again, then emits up() and resubscribed(). Messages published
// while it was not subscribed are lost (Redis pub/sub is at-most-once): resubscribed() is the cue
// to fill gaps from the database. Messages of channels/patterns no longer wanted are dropped.
// The connection also holds one subscription of its own (anchorChannel()) so that its
// subscription count never drops to 0 while commands are pipelined (hiredis 0.14 leaves pub/sub
// mode then and aborts on the next confirmation).
// Owns: the subscriber connection and the wanted sets. Thread: network thread.
#pragma once

#include "server/redis/redis_client.h"

#include <QSet>

namespace taskmaster::server {

class RedisSubscriber final : public RedisClientBase {
    Q_OBJECT
public:
    explicit RedisSubscriber(RedisUrl url, RedisOptions options = {}, QObject *parent = nullptr);

    // Idempotent; may be called in any state (applied when the connection is up).
    void subscribe(const QByteArray &channel);
    void unsubscribe(const QByteArray &channel);
    void psubscribe(const QByteArray &pattern);
    void punsubscribe(const QByteArray &pattern);

    [[nodiscard]] const QSet<QByteArray> &channels() const { return m_channels; }
    [[nodiscard]] const QSet<QByteArray> &patterns() const { return m_patterns; }

    // The connection's own channel (reserved: subscribe() ignores it).
    [[nodiscard]] static QByteArray anchorChannel() { return QByteArrayLiteral("tm:redis:subscriber-anchor"); }

Q_SIGNALS:
    void message(const QByteArray &channel, const QByteArray &payload);
    void patternMessage(const QByteArray &pattern, const QByteArray &channel, const QByteArray &payload);
    // Redis confirmed a channel subscription (also when re-subscribing after a reconnect); what
    // tst_redis watches to prove a subscribe() reached Redis.
    void subscribed(const QByteArray &channel);
    // Every wanted channel and pattern is subscribed again on a new connection (emitted after
    // up(), on every connect): anything published before may have been missed.
    void resubscribed();

protected:
    void handshakeDone() override;
    void pushArrived(const RedisReply &reply) override;
    void connectionClosed() override;

private:
    bool sendBatch(const QByteArray &command, QList<QByteArray> names);
    void change(const QByteArray &command, const QByteArray &name);

    QSet<QByteArray> m_channels; // wanted
    QSet<QByteArray> m_patterns;
    // Per connection: the batch is sent (later changes go out at once); names subscribed on it.
    bool m_batchSent = false;
    qsizetype m_batchPending = 0; // confirmations of the batch still to come
    QSet<QByteArray> m_liveChannels;
    QSet<QByteArray> m_livePatterns;
};

} // namespace taskmaster::server
