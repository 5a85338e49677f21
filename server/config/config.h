// Server configuration: command line > TM_* environment > config file > defaults.
// Owns: parsing and checking every option. Thread: main, at start only.
#pragma once

#include "server/ratelimit/rate_limiter.h"
#include "shared/core/error.h"

#include <QHash>
#include <QHostAddress>
#include <QString>
#include <QStringList>

namespace taskmaster::server {

// One public field per option (over 20 on purpose: a plain value read once at start, each field
// documented where the option is declared in config.cpp's table).
struct Config {
    QHostAddress listenHost = QHostAddress::LocalHost;
    quint16 listenPort = 8080; // 0 picks a free port; the server logs which
    // Completed connections the kernel queues until the server accepts them (listen(2)'s backlog;
    // capped by net.core.somaxconn). Qt's default of 50 overflows when thousands of clients
    // reconnect at once: further SYNs are dropped and a balancer's connect times out.
    int listenBacklog = 4096;
    QString dataDir; // default: ./data
    QString databaseUrl; // empty: embedded SQLite
    QString redisUrl; // empty: in-process cache and bus
    QString databaseReplicaUrl; // empty: every read on the primary
    int replicaFreshMs = 5000; // a writer's reads stay on the primary this long
    QString instanceName; // default: tm-<pid>
    QString configFile;
    int dbPoolMin = 0; // 0: the back end's default
    int dbPoolMax = 0;
    int statementTimeoutMs = 10000;
    int slowQueryMs = 200;
    int sessionTtlHours = 720;
    int wsOutboundKib = 1024;
    int wsReplayLimit = 1000;
    int wsHelloTimeoutMs = 10000;
    int wsHelloConcurrency = 0; // 0: a quarter of the database pool's maximum
    int wsHelloQueue = 10000;
    int wsReconnectRate = 600; // reconnectWindowMs = connections / this (0: no hint)
    int wsRebalanceRate = 50; // connections a second sent elsewhere over the share (0: never)
    int wsDrainRate = 150; // a drain's reconnect frames spread the clients over connections / this
    int wsIdleTimeoutMs = 60000;
    int wsRate = 100;
    int groupCommit = 1;
    int presenceGraceMs = 5000;
    int presenceBatchMs = 100; // presence changes told together per window (0: each at once)
    int presenceRoomLimit = 1000; // rooms with more members get no presence pushed (0: no limit)
    int drainTimeoutMs = 10000;
    int cacheMib = 64; // in-process cache size (embedded); 0 turns the REST cache off
    int cacheTtlS = 600; // lifetime of a cached value in Redis
    int cacheCoalesce = 1; // concurrent misses of one key computed once (0: each its own)
    RateRule rateApi {100, 200}; // per user
    RateRule rateAuth {2, 30}; // per client address on register/login
    QList<std::pair<QHostAddress, int>> trustedProxies; // X-Forwarded-For is believed from these
    // The limits at the HTTP front (FrontGuard; docs/operations.md, "Limits").
    int httpMaxBodyKib = 1024; // a larger Content-Length: 413 before the body is read
    int httpMaxHeaderKib = 16; // request line and header fields: 431 over it
    int httpMaxHeaders = 100; // header fields: 431 over it
    int httpHeadTimeoutMs = 10000; // the request head must be complete this soon: 408
    int httpBodyTimeoutMs = 30000; // the body must be complete this soon after the head: 408
    int httpIdleTimeoutMs = 60000; // a keep-alive connection idle this long is closed
    int maxConnections = 0; // open sockets in total; over it 503 and closed (0: open-files limit - 512)
    int maxConnectionsPerAddress = 1000; // per client address; 0: no cap
    // Attachments (server/attachments; docs/protocol.md section 6.8).
    int maxUploadMib = 25; // a larger upload: 413 too_large before the body is read
    int attachmentMibPerS = 16; // attachment bytes moved a second by the instance; 0: no limit
    QStringList uploadDenyTypes {QStringLiteral("text/html"), QStringLiteral("application/xhtml+xml"),
                                 QStringLiteral("image/svg+xml"), QStringLiteral("application/x-msdownload")};
    RateRule rateUpload {1, 30}; // uploads per user
    int uploadQuotaMib = 1024; // bytes a user may upload in 24 h; over it 429
};

// Parses arguments (argv as a list, program name first) and the environment. On --help (--version)
// it returns an Error whose message is the help text ("taskmaster-server <version>") and whose
// code is Unavailable (nothing wrong: print it and exit 0);
// a bad value gives a BadRequest naming the option.
[[nodiscard]] Result<Config> loadConfig(const QStringList &arguments, const QStringList &environment);

// A config file: "name = value" lines with the long option names ("listen = 127.0.0.1:8080");
// blank lines and lines starting with '#' are ignored.
[[nodiscard]] Result<QHash<QString, QString>> readConfigFile(const QString &path);

// "127.0.0.1:8080", "[::1]:0", ":8080" (all interfaces) -> host and port.
[[nodiscard]] MaybeError parseListen(const QString &value, QHostAddress &host, quint16 &port);

} // namespace taskmaster::server
