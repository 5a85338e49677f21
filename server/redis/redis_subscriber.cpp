#include "server/redis/redis_subscriber.h"

#include <QPointer>

namespace taskmaster::server {

namespace {
constexpr qsizetype kBatchChunk = 1000; // names per (P)SUBSCRIBE when re-subscribing
}

RedisSubscriber::RedisSubscriber(RedisUrl url, RedisOptions options, QObject *parent)
    : RedisClientBase(std::move(url), std::move(options), parent)
{
}

void RedisSubscriber::subscribe(const QByteArray &channel)
{
    if (channel == anchorChannel() || m_channels.contains(channel))
        return;
    m_channels.insert(channel);
    if (m_batchSent && !m_liveChannels.contains(channel)) {
        m_liveChannels.insert(channel);
        change(QByteArrayLiteral("SUBSCRIBE"), channel);
    }
}

void RedisSubscriber::unsubscribe(const QByteArray &channel)
{
    if (!m_channels.remove(channel))
        return;
    if (m_batchSent && m_liveChannels.remove(channel))
        change(QByteArrayLiteral("UNSUBSCRIBE"), channel);
}

void RedisSubscriber::psubscribe(const QByteArray &pattern)
{
    if (m_patterns.contains(pattern))
        return;
    m_patterns.insert(pattern);
    if (m_batchSent && !m_livePatterns.contains(pattern)) {
        m_livePatterns.insert(pattern);
        change(QByteArrayLiteral("PSUBSCRIBE"), pattern);
    }
}

void RedisSubscriber::punsubscribe(const QByteArray &pattern)
{
    if (!m_patterns.remove(pattern))
        return;
    if (m_batchSent && m_livePatterns.remove(pattern))
        change(QByteArrayLiteral("PUNSUBSCRIBE"), pattern);
}

void RedisSubscriber::change(const QByteArray &command, const QByteArray &name)
{
    if (!canSend())
        return; // closing: the next connection subscribes the wanted sets
    if (!sendPubSub({command, name}, 1))
        dropConnection(QStringLiteral("cannot send ") + QString::fromLatin1(command)); // last: may destroy us
}

bool RedisSubscriber::sendBatch(const QByteArray &command, QList<QByteArray> names)
{
    for (qsizetype at = 0; at < names.size(); at += kBatchChunk) {
        QList<QByteArray> args {command};
        args << names.mid(at, kBatchChunk);
        const int count = int(args.size() - 1);
        if (!sendPubSub(args, count))
            return false;
        m_batchPending += count;
    }
    return true;
}

void RedisSubscriber::handshakeDone()
{
    // The anchor goes first so the connection is in pub/sub mode before anything else.
    m_batchSent = true;
    m_batchPending = 0;
    m_liveChannels = m_channels;
    m_livePatterns = m_patterns;
    QList<QByteArray> channels {anchorChannel()};
    channels << m_channels.values();
    if (!sendBatch(QByteArrayLiteral("SUBSCRIBE"), channels)
        || (!m_patterns.isEmpty() && !sendBatch(QByteArrayLiteral("PSUBSCRIBE"), m_patterns.values())))
        dropConnection(QStringLiteral("cannot send the subscriptions"));
}

void RedisSubscriber::pushArrived(const RedisReply &reply)
{
    if (!reply.isArray() || reply.size() < 3)
        return;
    const QByteArray kind = reply.at(0).toByteArray().toLower();
    if (kind == "message") {
        const QByteArray channel = reply.at(1).toByteArray();
        if (m_channels.contains(channel))
            Q_EMIT message(channel, reply.at(2).toByteArray());
        return;
    }
    if (kind == "pmessage") {
        const QByteArray pattern = reply.at(1).toByteArray();
        if (reply.size() >= 4 && m_patterns.contains(pattern))
            Q_EMIT patternMessage(pattern, reply.at(2).toByteArray(), reply.at(3).toByteArray());
        return;
    }
    const bool sub = kind == "subscribe";
    const bool psub = kind == "psubscribe";
    if (!sub && !psub && kind != "unsubscribe" && kind != "punsubscribe")
        return;
    confirmationArrived();
    // Confirmations come in send order: the batch's come before those of later changes.
    bool batchDone = false;
    if ((sub || psub) && m_batchPending > 0)
        batchDone = --m_batchPending == 0;
    const QByteArray name = reply.at(1).toByteArray();
    QPointer<RedisSubscriber> self(this);
    if (sub && m_channels.contains(name))
        Q_EMIT subscribed(name);
    if (!self || !batchDone)
        return;
    markUp();
    if (self)
        Q_EMIT resubscribed();
}

void RedisSubscriber::connectionClosed()
{
    m_batchSent = false;
    m_batchPending = 0;
    m_liveChannels.clear();
    m_livePatterns.clear();
}

} // namespace taskmaster::server
