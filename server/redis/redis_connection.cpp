#include "server/redis/redis_connection.h"

#include <QCryptographicHash>
#include <QPointer>

#include <algorithm>
#include <iterator>

namespace taskmaster::server {

RedisScript::RedisScript(QByteArray source)
    : m_source(std::move(source)), m_sha1(QCryptographicHash::hash(m_source, QCryptographicHash::Sha1).toHex())
{
}

RedisConnection::RedisConnection(RedisUrl url, RedisOptions options, QObject *parent)
    : RedisClientBase(std::move(url), std::move(options), parent)
{
}

void RedisConnection::command(QList<QByteArray> args, RedisCallback callback)
{
    if (args.isEmpty()) {
        callback(Error {ErrorCode::Internal, QStringLiteral("redis: empty command"), {}});
        return;
    }
    static constexpr const char *modeSwitching[] {"subscribe",  "psubscribe",   "unsubscribe", "punsubscribe",
                                                  "ssubscribe", "sunsubscribe", "monitor"};
    const QByteArray &name = args.first();
    if (std::any_of(std::begin(modeSwitching), std::end(modeSwitching),
                    [&](const char *m) { return name.compare(m, Qt::CaseInsensitive) == 0; })) {
        callback(Error {ErrorCode::Internal,
                        QStringLiteral("redis: %1 needs RedisSubscriber").arg(QString::fromLatin1(args.first())),
                        {}});
        return;
    }
    if (isUp() && sendCommand(args, callback))
        return;
    const QString why = lastError().isEmpty() ? QStringLiteral("not connected") : lastError();
    callback(Error {ErrorCode::Unavailable, QStringLiteral("redis unavailable: ") + why, {}, retryAfterMs()});
}

void RedisConnection::evalSha(const RedisScript &script, const QList<QByteArray> &keys, const QList<QByteArray> &args,
                              RedisCallback callback)
{
    QList<QByteArray> argv;
    argv.reserve(3 + keys.size() + args.size());
    argv << "EVALSHA" << script.sha1() << QByteArray::number(keys.size());
    argv << keys << args;
    QPointer<RedisConnection> self(this);
    command(argv, [self, source = script.source(), argv, callback = std::move(callback)](Result<RedisReply> r) mutable {
        if (r && r->isError() && r->errorCode() == "NOSCRIPT" && self) {
            // Pipelined: the EVALSHA runs right after the load. A failed load shows in its reply.
            self->command({"SCRIPT", "LOAD", source}, [](Result<RedisReply>) {});
            self->command(std::move(argv), std::move(callback));
            return;
        }
        callback(std::move(r));
    });
}

} // namespace taskmaster::server
