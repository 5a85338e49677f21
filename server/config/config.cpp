#include "server/config/config.h"

#include "shared/core/version.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QHash>

#include <algorithm>

namespace taskmaster::server {

namespace {
struct OptionSpec {
    const char *name;
    const char *env;
    const char *valueName;
    const char *help;
};
constexpr OptionSpec kOptions[] = {
    {"listen", "TM_LISTEN", "HOST:PORT",
     "Address to serve HTTP and WebSocket on (default 127.0.0.1:8080; port 0 picks a free one)."},
    {"data-dir", "TM_DATA_DIR", "DIR", "Where the embedded SQLite file and other local state live (default ./data)."},
    {"database-url", "TM_DATABASE_URL", "URL", "postgres://user:pass@host:port/db: PostgreSQL instead of SQLite."},
    {"redis-url", "TM_REDIS_URL", "URL", "redis://host:port: Redis instead of the in-process cache and bus."},
    {"instance-name", "TM_INSTANCE_NAME", "NAME",
     "Instance name shown in welcome frames and metrics (default tm-<pid>)."},
    {"config", "TM_CONFIG", "FILE", "Configuration file."},
    {"db-pool-min", "TM_DB_POOL_MIN", "N", "Database connections kept open (default 10 on PostgreSQL, 2 on SQLite)."},
    {"db-pool-max", "TM_DB_POOL_MAX", "N", "Most database connections (default 50 on PostgreSQL, 4 on SQLite)."},
    {"statement-timeout-ms", "TM_STATEMENT_TIMEOUT_MS", "MS", "A query running longer is cancelled (default 10000)."},
    {"slow-query-ms", "TM_SLOW_QUERY_MS", "MS", "Queries at least this slow are logged (default 200)."},
    {"session-ttl-hours", "TM_SESSION_TTL_HOURS", "H", "Idle time after which a session expires (default 720)."},
    {"ws-outbound-kib", "TM_WS_OUTBOUND_KIB", "KIB",
     "Outbound queue per WebSocket; over it a slow consumer is closed with 4008 (default 1024)."},
    {"ws-replay-limit", "TM_WS_REPLAY_LIMIT", "N",
     "Most events replayed on resume; further behind gets resync (default 1000)."},
    {"ws-hello-timeout-ms", "TM_WS_HELLO_TIMEOUT_MS", "MS", "Time a new WebSocket has to send hello (default 10000)."},
    {"ws-idle-timeout-ms", "TM_WS_IDLE_TIMEOUT_MS", "MS",
     "A WebSocket silent this long is closed; pinged at half (default 60000)."},
    {"ws-rate", "TM_WS_RATE", "N", "Frames per second per WebSocket, bursts of twice that (default 100)."},
    {"group-commit", "TM_GROUP_COMMIT", "0|1", "Batch concurrent sends into one transaction (default 1)."},
    {"presence-grace-ms", "TM_PRESENCE_GRACE_MS", "MS",
     "A user is announced offline after this long without a connection (default 5000)."},
    {"drain-timeout-ms", "TM_DRAIN_TIMEOUT_MS", "MS",
     "On SIGTERM, time to finish in-flight work after sockets got `reconnect` (default 10000)."},
    {"cache-mib", "TM_CACHE_MIB", "MIB",
     "Size of the in-process REST cache when embedded; 0 turns the cache off (also in Redis) (default 64)."},
    {"cache-ttl-s", "TM_CACHE_TTL_S", "S", "Lifetime of a cached REST value in Redis (default 600)."},
    {"rate-api", "TM_RATE_API", "RATE/BURST",
     "Requests per second per user on authenticated routes, and the burst; 0 = no limit (default 100/200)."},
    {"rate-auth", "TM_RATE_AUTH", "RATE/BURST",
     "Register/login requests per second per client address, and the burst; 0 = no limit (default 2/30)."},
    {"trusted-proxies", "TM_TRUSTED_PROXIES", "LIST",
     "Comma-separated addresses or subnets (127.0.0.1, 10.0.0.0/8) whose X-Forwarded-For names the client "
     "(default none)."},
    {"database-replica-url", "TM_DATABASE_REPLICA_URL", "URL",
     "postgres://...: a streaming read replica for history pages and lists (needs --database-url)."},
    {"replica-fresh-ms", "TM_REPLICA_FRESH_MS", "MS",
     "After a write, the writer's reads stay on the primary this long (read-your-writes; default 5000)."},
    {"listen-backlog", "TM_LISTEN_BACKLOG", "N",
     "Connections the kernel completes and queues while the server is busy, before it accepts them "
     "(default 4096; the kernel caps it at net.core.somaxconn)."},
    {"ws-hello-concurrency", "TM_WS_HELLO_CONCURRENCY", "N",
     "Hellos (session lookups) worked on at once; the others wait their turn (default 0: a quarter of "
     "--db-pool-max)."},
    {"ws-hello-queue", "TM_WS_HELLO_QUEUE", "N",
     "Hellos that may wait; more are answered `reconnect` with retryAfterMs and closed 4013 (default 10000)."},
    {"http-max-body-kib", "TM_HTTP_MAX_BODY_KIB", "KIB",
     "Largest request body; a larger Content-Length is answered 413 before the body is read (default 1024)."},
    {"http-max-header-kib", "TM_HTTP_MAX_HEADER_KIB", "KIB",
     "Largest request head (request line and header fields); over it 431 (default 16)."},
    {"http-max-headers", "TM_HTTP_MAX_HEADERS", "N", "Most header fields in a request; over it 431 (default 100)."},
    {"http-head-timeout-ms", "TM_HTTP_HEAD_TIMEOUT_MS", "MS",
     "Time to send a whole request head, from the connection's start or the head's first byte; then 408 "
     "(default 10000)."},
    {"http-body-timeout-ms", "TM_HTTP_BODY_TIMEOUT_MS", "MS",
     "Time to send a whole request body after its head; then 408 (default 30000)."},
    {"http-idle-timeout-ms", "TM_HTTP_IDLE_TIMEOUT_MS", "MS",
     "A keep-alive connection with no request for this long after the last answer is closed (default 60000)."},
    {"max-connections", "TM_MAX_CONNECTIONS", "N",
     "Open connections (HTTP and WebSocket) in total; a new one over it is answered 503 and closed "
     "(default 0: the open-files limit less 512 for the database, Redis and files)."},
    {"max-connections-per-address", "TM_MAX_CONNECTIONS_PER_ADDRESS", "N",
     "Open connections per client address (behind --trusted-proxies: per X-Forwarded-For client, from its "
     "request head); over it 503 and closed; 0 = no cap (default 1000)."},
    {"ws-reconnect-rate", "TM_WS_RECONNECT_RATE", "N",
     "Reconnects a second the other instances can take this one's clients back at: welcome and pong tell "
     "each client to spread its first reconnect over connections / N seconds should this instance die "
     "(reconnectWindowMs); 0 = no hint (default 600)."},
    {"max-upload-mib", "TM_MAX_UPLOAD_MIB", "MIB",
     "Largest attachment upload; a larger Content-Length is answered 413 before the body is read (default 25)."},
    {"upload-deny-types", "TM_UPLOAD_DENY_TYPES", "LIST",
     "Comma-separated media types refused for uploads with 415 (default text/html,application/xhtml+xml,"
     "image/svg+xml,application/x-msdownload; an empty value refuses none)."},
    {"rate-upload", "TM_RATE_UPLOAD", "RATE/BURST",
     "Uploads per second per user, and the burst; 0 = no limit (default 1/30)."},
    {"upload-quota-mib", "TM_UPLOAD_QUOTA_MIB", "MIB",
     "Bytes a user may upload in 24 hours; over it 429 (default 1024)."},
    {"ws-rebalance-rate", "TM_WS_REBALANCE_RATE", "N",
     "With --redis-url: WebSocket connections a second at most this instance asks to reconnect elsewhere "
     "while it holds more than its share of the cluster's (the share plus a tenth, at least 50), so a "
     "restarted instance gets its share back through a balancer that picks the least busy instance "
     "(nginx least_conn); 0 = never (default 50)."},
    {"ws-drain-rate", "TM_WS_DRAIN_RATE", "N",
     "Reconnects a second the other instances take this one's clients back at when it drains (SIGTERM): the "
     "`reconnect` frames spread them over connections / N seconds, slower than after a crash "
     "(--ws-reconnect-rate) because nobody is cut off meanwhile; 0 = as --ws-reconnect-rate (default 150)."},
    {"attachment-mib-per-s", "TM_ATTACHMENT_MIB_PER_S", "MIB",
     "Attachment bytes this instance moves a second, uploads and downloads together, shared by the transfers "
     "of the moment (each waits its turn after every 256 KiB chunk), so files moving do not take the cores from "
     "message delivery; 0 = no limit (default 16)."},
    {"presence-batch-ms", "TM_PRESENCE_BATCH_MS", "MS",
     "Presence changes are gathered this long and told to each connection together (list form for clients "
     "that asked for it), so a storm of connects costs a frame per connection and window, not per member; "
     "0 = each change at once (default 100)."},
    {"cache-coalesce", "TM_CACHE_COALESCE", "0|1",
     "Concurrent misses of one cached read are computed once and share the answer (default 1; 0: each "
     "computes its own, for comparison)."},
    {"presence-room-limit", "TM_PRESENCE_ROOM_LIMIT", "N",
     "Rooms with more members than this get no presence pushed (no snapshot after welcome, no changes): "
     "clients ask with the roomPresence frame, so connecting to a big room costs O(1), not O(members); "
     "0 = no limit, every room pushed (default 1000)."},
};

// A whole number in [min, max] for option `name`, or a BadRequest naming it.
Result<int> intOption(const QString &text, const char *name, int min, int max)
{
    bool ok = false;
    const int v = text.toInt(&ok);
    if (!ok || v < min || v > max) {
        return Error::badRequest(QStringLiteral("--%1 must be a whole number in %2..%3, got '%4'")
                                     .arg(QLatin1String(name))
                                     .arg(min)
                                     .arg(max)
                                     .arg(text),
                                 QString::fromLatin1(name));
    }
    return v;
}
} // namespace

Result<QHash<QString, QString>> readConfigFile(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text))
        return Error::badRequest(QStringLiteral("--config: cannot read %1: %2").arg(path, f.errorString()),
                                 QStringLiteral("config"));
    QHash<QString, QString> out;
    int lineNo = 0;
    while (!f.atEnd()) {
        ++lineNo;
        const QString line = QString::fromUtf8(f.readLine()).trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1Char('#')))
            continue;
        const qsizetype eq = line.indexOf(QLatin1Char('='));
        if (eq <= 0) {
            return Error::badRequest(QStringLiteral("%1:%2: expected 'name = value'").arg(path).arg(lineNo),
                                     QStringLiteral("config"));
        }
        out.insert(line.left(eq).trimmed(), line.mid(eq + 1).trimmed());
    }
    return out;
}

MaybeError parseListen(const QString &value, QHostAddress &host, quint16 &port)
{
    const qsizetype colon = value.lastIndexOf(QLatin1Char(':'));
    if (colon < 0)
        return Error::badRequest(QStringLiteral("--listen must be HOST:PORT, got '%1'").arg(value),
                                 QStringLiteral("listen"));
    QString h = value.left(colon);
    if (h.startsWith(QLatin1Char('[')) && h.endsWith(QLatin1Char(']')))
        h = h.mid(1, h.size() - 2);
    bool ok = false;
    const uint p = value.mid(colon + 1).toUInt(&ok);
    if (!ok || p > 65535)
        return Error::badRequest(QStringLiteral("--listen port must be 0..65535, got '%1'").arg(value),
                                 QStringLiteral("listen"));
    QHostAddress addr;
    if (h.isEmpty())
        addr = QHostAddress::Any;
    else if (h == QLatin1String("localhost"))
        addr = QHostAddress::LocalHost;
    else if (!addr.setAddress(h))
        return Error::badRequest(QStringLiteral("--listen host must be an IP address, got '%1'").arg(h),
                                 QStringLiteral("listen"));
    host = addr;
    port = static_cast<quint16>(p);
    return std::nullopt;
}

Result<Config> loadConfig(const QStringList &arguments, const QStringList &environment)
{
    QHash<QString, QString> env;
    for (const QString &kv : environment) {
        const qsizetype eq = kv.indexOf(QLatin1Char('='));
        if (eq > 0)
            env.insert(kv.left(eq), kv.mid(eq + 1));
    }

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("TaskMaster server: REST API and real-time channel.\n"
                       "Each option can also be set by the environment variable named in brackets."));
    const QCommandLineOption help(QStringList {QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help."));
    parser.addOption(help);
    const QCommandLineOption version(QStringLiteral("version"), QStringLiteral("Show the version and exit."));
    parser.addOption(version);
    for (const auto &o : kOptions) {
        parser.addOption(QCommandLineOption(QString::fromLatin1(o.name),
                                            QString::fromLatin1(o.help) + QStringLiteral(" [")
                                                + QString::fromLatin1(o.env) + QLatin1Char(']'),
                                            QString::fromLatin1(o.valueName)));
    }
    if (!parser.parse(arguments))
        return Error::badRequest(parser.errorText());
    if (!parser.positionalArguments().isEmpty())
        return Error::badRequest(
            QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().constFirst()));
    if (parser.isSet(help))
        return Error {ErrorCode::Unavailable, parser.helpText(), {}};
    if (parser.isSet(version))
        return Error {
            ErrorCode::Unavailable, QStringLiteral("taskmaster-server %1\n").arg(QLatin1String(kVersion)), {}};

    // The config file (--config or TM_CONFIG) is read before the other options, since it sits
    // between the environment and the defaults.
    QString configFile = parser.value(QStringLiteral("config"));
    if (configFile.isEmpty())
        configFile = env.value(QStringLiteral("TM_CONFIG"));
    QHash<QString, QString> file;
    if (!configFile.isEmpty()) {
        auto read = readConfigFile(configFile);
        if (!read)
            return read.error();
        file = *read;
        for (auto it = file.cbegin(); it != file.cend(); ++it) {
            const bool known = std::any_of(std::begin(kOptions), std::end(kOptions),
                                           [&](const OptionSpec &o) { return it.key() == QLatin1String(o.name); });
            if (!known || it.key() == QLatin1String("config")) {
                return Error::badRequest(QStringLiteral("%1: unknown setting '%2'").arg(configFile, it.key()),
                                         QStringLiteral("config"));
            }
        }
    }

    auto value = [&](const OptionSpec &o) -> QString {
        const QString name = QString::fromLatin1(o.name);
        if (parser.isSet(name))
            return parser.value(name);
        const QString envName = QString::fromLatin1(o.env);
        if (env.contains(envName))
            return env.value(envName);
        return file.value(name);
    };

    Config c;
    const QString listen = value(kOptions[0]);
    if (!listen.isEmpty()) {
        if (auto e = parseListen(listen, c.listenHost, c.listenPort))
            return *e;
    }
    c.dataDir = value(kOptions[1]);
    if (c.dataDir.isEmpty())
        c.dataDir = QDir::current().filePath(QStringLiteral("data"));
    c.databaseUrl = value(kOptions[2]);
    if (!c.databaseUrl.isEmpty() && !c.databaseUrl.startsWith(QLatin1String("postgres://"))
        && !c.databaseUrl.startsWith(QLatin1String("postgresql://"))) {
        return Error::badRequest(QStringLiteral("--database-url must start with postgres://"),
                                 QStringLiteral("database-url"));
    }
    c.redisUrl = value(kOptions[3]);
    if (!c.redisUrl.isEmpty() && !c.redisUrl.startsWith(QLatin1String("redis://")))
        return Error::badRequest(QStringLiteral("--redis-url must start with redis://"), QStringLiteral("redis-url"));
    c.instanceName = value(kOptions[4]);
    if (c.instanceName.isEmpty())
        c.instanceName = QStringLiteral("tm-%1").arg(QCoreApplication::applicationPid());
    c.configFile = configFile;
    // Whole-number options: empty means the default.
    struct IntOption {
        const OptionSpec &spec;
        int min;
        int max;
        int *target;
    };
    const IntOption ints[] = {
        {kOptions[6], 1, 500, &c.dbPoolMin},
        {kOptions[7], 1, 500, &c.dbPoolMax},
        {kOptions[8], 100, 3600000, &c.statementTimeoutMs},
        {kOptions[9], 1, 3600000, &c.slowQueryMs},
        {kOptions[10], 1, 24 * 365, &c.sessionTtlHours},
        {kOptions[11], 16, 1 << 20, &c.wsOutboundKib},
        {kOptions[12], 1, 1000000, &c.wsReplayLimit},
        {kOptions[13], 100, 600000, &c.wsHelloTimeoutMs},
        {kOptions[14], 1000, 86400000, &c.wsIdleTimeoutMs},
        {kOptions[15], 1, 1000000, &c.wsRate},
        {kOptions[16], 0, 1, &c.groupCommit},
        {kOptions[17], 0, 3600000, &c.presenceGraceMs},
        {kOptions[18], 0, 600000, &c.drainTimeoutMs},
        {kOptions[19], 0, 65536, &c.cacheMib},
        {kOptions[20], 1, 86400, &c.cacheTtlS},
        {kOptions[25], 0, 3600000, &c.replicaFreshMs},
        {kOptions[26], 1, 65535, &c.listenBacklog},
        {kOptions[27], 0, 10000, &c.wsHelloConcurrency},
        {kOptions[28], 0, 1000000, &c.wsHelloQueue},
        {kOptions[29], 1, 1 << 20, &c.httpMaxBodyKib},
        {kOptions[30], 1, 1024, &c.httpMaxHeaderKib},
        {kOptions[31], 1, 10000, &c.httpMaxHeaders},
        {kOptions[32], 100, 3600000, &c.httpHeadTimeoutMs},
        {kOptions[33], 100, 3600000, &c.httpBodyTimeoutMs},
        {kOptions[34], 100, 86400000, &c.httpIdleTimeoutMs},
        {kOptions[35], 0, 1000000, &c.maxConnections},
        {kOptions[36], 0, 1000000, &c.maxConnectionsPerAddress},
        {kOptions[37], 0, 1000000, &c.wsReconnectRate},
        {kOptions[38], 1, 1 << 20, &c.maxUploadMib},
        {kOptions[41], 1, 1 << 24, &c.uploadQuotaMib},
        {kOptions[42], 0, 1000000, &c.wsRebalanceRate},
        {kOptions[43], 0, 1000000, &c.wsDrainRate},
        {kOptions[44], 0, 1 << 20, &c.attachmentMibPerS},
        {kOptions[45], 0, 10000, &c.presenceBatchMs},
        {kOptions[46], 0, 1, &c.cacheCoalesce},
        {kOptions[47], 0, 1000000, &c.presenceRoomLimit},
    };
    for (const IntOption &o : ints) {
        const QString text = value(o.spec);
        if (text.isEmpty())
            continue;
        auto v = intOption(text, o.spec.name, o.min, o.max);
        if (!v)
            return v.error();
        *o.target = *v;
    }
    const std::pair<const OptionSpec &, RateRule *> rates[]
        = {{kOptions[21], &c.rateApi}, {kOptions[22], &c.rateAuth}, {kOptions[40], &c.rateUpload}};
    for (const auto &[spec, target] : rates) {
        const QString text = value(spec);
        if (text.isEmpty())
            continue;
        auto rule = parseRateRule(text, QString::fromLatin1(spec.name));
        if (!rule)
            return rule.error();
        *target = *rule;
    }
    const QString proxies = value(kOptions[23]);
    for (const QString &item : proxies.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QString t = item.trimmed();
        auto subnet = t.contains(QLatin1Char('/')) ? QHostAddress::parseSubnet(t)
                                                   : std::pair<QHostAddress, int>(QHostAddress(t), -1);
        if (subnet.first.isNull()) {
            return Error::badRequest(
                QStringLiteral("--trusted-proxies must list IP addresses or subnets, got '%1'").arg(t),
                QStringLiteral("trusted-proxies"));
        }
        if (subnet.second < 0)
            subnet.second = subnet.first.protocol() == QAbstractSocket::IPv6Protocol ? 128 : 32;
        c.trustedProxies.append(subnet);
    }
    // The deny list: set (even to nothing) replaces the default.
    const QString denied = value(kOptions[39]);
    const QString deniedName = QString::fromLatin1(kOptions[39].name);
    const bool denySet
        = parser.isSet(deniedName) || env.contains(QString::fromLatin1(kOptions[39].env)) || file.contains(deniedName);
    if (denySet) {
        c.uploadDenyTypes.clear();
        for (const QString &item : denied.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            const QString t = item.trimmed().toLower();
            if (t.isEmpty())
                continue;
            if (t.count(QLatin1Char('/')) != 1 || t.startsWith(QLatin1Char('/')) || t.endsWith(QLatin1Char('/'))) {
                return Error::badRequest(
                    QStringLiteral("--upload-deny-types must list media types (type/subtype), got '%1'").arg(t),
                    deniedName);
            }
            c.uploadDenyTypes.append(t);
        }
    }
    c.databaseReplicaUrl = value(kOptions[24]);
    if (!c.databaseReplicaUrl.isEmpty()) {
        if (!c.databaseReplicaUrl.startsWith(QLatin1String("postgres://"))
            && !c.databaseReplicaUrl.startsWith(QLatin1String("postgresql://"))) {
            return Error::badRequest(QStringLiteral("--database-replica-url must start with postgres://"),
                                     QStringLiteral("database-replica-url"));
        }
        if (c.databaseUrl.isEmpty()) {
            return Error::badRequest(QStringLiteral("--database-replica-url needs --database-url (PostgreSQL)"),
                                     QStringLiteral("database-replica-url"));
        }
    }
    if (c.dbPoolMin > 0 && c.dbPoolMax > 0 && c.dbPoolMin > c.dbPoolMax)
        return Error::badRequest(QStringLiteral("--db-pool-min must not exceed --db-pool-max"),
                                 QStringLiteral("db-pool-min"));
    return c;
}

} // namespace taskmaster::server
