// RedisUrl: parses redis://[[user]:password@]host[:port][/db] (TM_REDIS_URL) into what the Redis
// connections need. TLS (rediss://) and Unix sockets are not supported.
// Thread: any (plain values).
#pragma once

#include "shared/core/error.h"

#include <QString>

namespace taskmaster::server {

struct RedisUrl {
    QString host = QStringLiteral("127.0.0.1");
    int port = 6379;
    int db = 0; // SELECTed after connecting when not 0
    QString user; // Redis 6 ACL user; empty: AUTH with the password alone
    QString password; // empty: no AUTH

    // host:port/db, without credentials (for logs).
    [[nodiscard]] QString display() const;
};

// Errors carry field "redis-url".
[[nodiscard]] Result<RedisUrl> parseRedisUrl(const QString &url);

} // namespace taskmaster::server
