#include "server/redis/redis_url.h"

#include <QUrl>

namespace taskmaster::server {

QString RedisUrl::display() const
{
    const QString h = host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host;
    return QStringLiteral("%1:%2/%3").arg(h).arg(port).arg(db);
}

Result<RedisUrl> parseRedisUrl(const QString &text)
{
    const QString field = QStringLiteral("redis-url");
    const auto bad = [&](const QString &why) {
        return Error::badRequest(why + QStringLiteral(" (expected redis://[:password@]host[:port][/db])"), field);
    };
    const QUrl url(text, QUrl::StrictMode);
    if (!url.isValid())
        return bad(QStringLiteral("invalid Redis URL"));
    if (url.scheme() != QLatin1String("redis"))
        return bad(QStringLiteral("Redis URL must use the redis:// scheme"));
    if (url.host().isEmpty())
        return bad(QStringLiteral("Redis URL must name a host"));
    if (url.hasQuery() || url.hasFragment())
        return bad(QStringLiteral("Redis URL takes no query or fragment"));
    RedisUrl r;
    r.host = url.host();
    r.port = url.port(6379);
    if (r.port <= 0)
        return bad(QStringLiteral("invalid Redis port"));
    r.user = url.userName(QUrl::FullyDecoded);
    r.password = url.password(QUrl::FullyDecoded);
    if (!r.user.isEmpty() && r.password.isEmpty())
        return bad(QStringLiteral("Redis URL names a user without a password"));
    const QString path = url.path();
    if (!path.isEmpty() && path != QLatin1String("/")) {
        bool ok = false;
        r.db = path.mid(1).toInt(&ok);
        if (!ok || r.db < 0 || path.mid(1).startsWith(QLatin1Char('+')))
            return bad(QStringLiteral("Redis database must be a number"));
    }
    return r;
}

} // namespace taskmaster::server
