#include "server/app/server_app.h"

#include "server/attachments/attachment_service.h"
#include "server/auth/credentials.h"
#include "server/auth/sessions.h"
#include "server/bus/cluster_bus.h"
#include "server/cache/cache.h"
#include "server/http/api_router.h"
#include "server/http/http_front.h"
#include "server/http/rest_api.h"
#include "server/log/json_log.h"
#include "server/metrics/breaker_metrics.h"
#include "server/metrics/metrics.h"
#include "server/metrics/process_metrics.h"
#include "server/ratelimit/rate_limiter.h"
#include "server/redis/redis_connection.h"
#include "server/storage/db_pool.h"
#include "server/storage/migrator.h"
#include "server/storage/project_store.h"
#include "server/storage/read_routing.h"
#include "server/storage/room_store.h"
#include "server/storage/sql.h"
#include "server/ws/hub.h"
#include "shared/core/poll_until.h"

#include <QDir>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlQuery>
#include <QThread>

namespace taskmaster::server {

ServerApp::ServerApp(Config config, QObject *parent) : QObject(parent), m_config(std::move(config)) { }

ServerApp::~ServerApp()
{
    // Reverse order: no new requests, then the pools drain.
    m_http.reset();
    m_redis.reset(); // fails its callbacks in flight into the objects below
    m_attachments.reset();
    m_api.reset();
    m_limiter.reset();
    m_sessions.reset();
    m_cache.reset();
    m_reads.reset();
    m_credentials.reset();
    m_db.reset();
    sql::setQueryObserver({}); // it records into m_metrics
    m_hub.reset();
    m_bus.reset();
    m_metrics.reset();
}

Result<quint16> ServerApp::start()
{
    DbPoolOptions db;
    if (m_config.databaseUrl.isEmpty()) {
        if (!QDir().mkpath(m_config.dataDir))
            return Error::badRequest(QStringLiteral("cannot create --data-dir %1").arg(m_config.dataDir),
                                     QStringLiteral("data-dir"));
        db.backend = DbPoolOptions::Backend::Sqlite;
        db.sqlitePath = QDir(m_config.dataDir).filePath(QStringLiteral("taskmaster.sqlite"));
        db.minThreads = 2;
        db.maxThreads = 4; // SQLite writes one at a time; readers share the WAL
    } else {
        auto url = parseDatabaseUrl(m_config.databaseUrl);
        if (!url)
            return url.error();
        db.backend = DbPoolOptions::Backend::Postgres;
        db.postgres = *url;
        db.minThreads = 10;
        db.maxThreads = 50;
    }
    if (m_config.dbPoolMin > 0)
        db.minThreads = m_config.dbPoolMin;
    if (m_config.dbPoolMax > 0)
        db.maxThreads = m_config.dbPoolMax;
    db.minThreads = std::min(db.minThreads, db.maxThreads);
    db.statementTimeout = std::chrono::milliseconds(m_config.statementTimeoutMs);
    sql::setSlowQueryThresholdMs(m_config.slowQueryMs);
    m_metrics = std::make_unique<MetricsRegistry>();
    registerProcessMetrics(*m_metrics);
    {
        HistogramFamily *queries = &m_metrics->histogramFamily(
            "database_query_duration_seconds", "SQL statements by query name", {"query"},
            {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5});
        sql::setQueryObserver([queries](const char *what, qint64 ns) {
            queries->labels({QAnyStringView(what)}).observeDuration(std::chrono::nanoseconds(ns));
        });
    }
    m_db = std::make_unique<DbPool>(db);
    m_db->setBreakerObserver(breakerObserver(*m_metrics, QStringLiteral("postgres")));
    for (auto [name, help, pick] : std::initializer_list<std::tuple<const char *, const char *, int DbPoolStats::*>> {
             {"db_pool_connections", "Database worker threads, each with its own connection.", &DbPoolStats::threads},
             {"db_pool_busy", "Database workers running a job.", &DbPoolStats::busy},
             {"db_pool_idle", "Database workers waiting for a job.", &DbPoolStats::idle},
             {"db_pool_waiting", "Database jobs queued for a free worker.", &DbPoolStats::waiting}}) {
        m_metrics->gaugeCallback(QLatin1StringView(name), QLatin1StringView(help),
                                 [pool = m_db.get(), pick = pick] { return double(pool->stats().*pick); });
    }
    // The ceiling the pool grows to: busy at it with jobs waiting is a saturated pool (the alert
    // TaskMasterDatabasePoolSaturated compares the two).
    m_metrics->gauge("db_pool_max_connections", "Most database worker threads the pool may run (--db-pool-max).")
        .set(double(db.maxThreads));
    const auto version = m_db->run([backend = db.backend](QSqlDatabase &conn) {
                                 return Migrator::migrate(conn, backend, Migrator::bundled(backend));
                             })
                             .result();
    if (!version)
        return version.error();
    logEvent(lcServer(), QtInfoMsg, QStringLiteral("database ready"),
             {{QStringLiteral("backend"),
               db.backend == DbPoolOptions::Backend::Sqlite ? QStringLiteral("sqlite") : QStringLiteral("postgres")},
              {QStringLiteral("schemaVersion"), *version}});

    m_credentials = std::make_unique<Credentials>(std::max(1, QThread::idealThreadCount()));
    HubOptions hub;
    hub.instance = m_config.instanceName;
    hub.outboundLimitBytes = qint64(m_config.wsOutboundKib) * 1024;
    hub.replayLimit = m_config.wsReplayLimit;
    hub.helloTimeoutMs = m_config.wsHelloTimeoutMs;
    // Hellos and catch-up reads take at most a quarter of the database pool each (0: that
    // default): the sends of the connected clients always find half of the workers free, however
    // many clients arrive at once.
    hub.helloConcurrency
        = m_config.wsHelloConcurrency > 0 ? m_config.wsHelloConcurrency : std::max(1, db.maxThreads / 4);
    hub.replayConcurrency = std::max(1, db.maxThreads / 4);
    hub.helloQueueMax = m_config.wsHelloQueue;
    hub.reconnectRate = m_config.wsReconnectRate;
    hub.rebalanceRate = m_config.wsRebalanceRate;
    hub.drainRate = m_config.wsDrainRate;
    hub.idleTimeoutMs = m_config.wsIdleTimeoutMs;
    hub.rateFramesPerSecond = m_config.wsRate;
    hub.rateBurst = 2.0 * m_config.wsRate;
    hub.groupCommit = m_config.groupCommit != 0;
    hub.presenceGraceMs = m_config.presenceGraceMs;
    hub.presenceBatchMs = m_config.presenceBatchMs;
    hub.presenceRoomLimit = m_config.presenceRoomLimit;
    hub.sessionTtlMs = qint64(m_config.sessionTtlHours) * 3600 * 1000;
    hub.nowMs = [] { return QDateTime::currentMSecsSinceEpoch(); };
    m_hub = std::make_unique<Hub>(m_db.get(), hub, *m_metrics);
    if (!m_config.redisUrl.isEmpty()) {
        auto redis = parseRedisUrl(m_config.redisUrl);
        if (!redis)
            return redis.error();
        m_bus = std::make_unique<ClusterBus>(*redis, m_config.instanceName, m_hub.get());
        m_hub->setRelay(m_bus.get());
        m_bus->start();
        m_hub->startPresenceRelay();
        RedisOptions options;
        options.clientName = m_config.instanceName.toUtf8().replace(' ', '_') + "-cmd";
        m_redis = std::make_unique<RedisConnection>(*redis, options);
        m_redis->setBreakerObserver(breakerObserver(*m_metrics, QStringLiteral("redis")));
        m_redis->start();
        logEvent(lcServer(), QtInfoMsg, QStringLiteral("cluster bus starting"),
                 {{QStringLiteral("redis"), redis->display()}});
    }
    std::unique_ptr<DbPool> replica;
    if (!m_config.databaseReplicaUrl.isEmpty()) {
        auto url = parseDatabaseUrl(m_config.databaseReplicaUrl);
        if (!url)
            return url.error();
        DbPoolOptions r = db;
        r.postgres = *url;
        r.minThreads = std::min(2, r.maxThreads);
        replica = std::make_unique<DbPool>(r);
        replica->setBreakerObserver(breakerObserver(*m_metrics, QStringLiteral("replica")));
        logEvent(lcServer(), QtInfoMsg, QStringLiteral("read replica"),
                 {{QStringLiteral("host"), url->host}, {QStringLiteral("port"), int(url->port)}});
    }
    m_reads = std::make_unique<ReadRouting>(m_db.get(), std::move(replica), m_redis.get(), m_config.replicaFreshMs);
    m_hub->setReadRouting(m_reads.get());
    const qint64 sessionTtlMs = qint64(m_config.sessionTtlHours) * 3600 * 1000;
    auto wallClock = [] { return QDateTime::currentMSecsSinceEpoch(); };
    if (m_config.cacheMib > 0) {
        if (m_redis)
            m_cache = std::make_unique<RedisCache>(m_redis.get(), qint64(m_config.cacheTtlS) * 1000, m_metrics.get());
        else
            m_cache = std::make_unique<LocalCache>(qint64(m_config.cacheMib) << 20, m_metrics.get());
        m_hub->setCache(m_cache.get());
    }
    m_sessions = std::make_unique<Sessions>(m_db.get(), m_redis.get(), sessionTtlMs, wallClock);
    m_limiter = std::make_unique<RateLimiter>(m_redis.get(), m_metrics.get());
    RestApiOptions rest;
    rest.cache = m_cache.get();
    rest.coalesceMisses = m_config.cacheCoalesce != 0;
    rest.limiter = m_limiter.get();
    rest.apiRate = m_config.rateApi;
    rest.authRate = m_config.rateAuth;
    rest.trustedProxies = m_config.trustedProxies;
    rest.metrics = m_metrics.get();
    rest.reads = m_reads.get();
    rest.instanceName = m_config.instanceName;
    rest.realtimeStats = [this] {
        // The hub's figures, with the cache's hit rate and the read routing of this instance.
        QJsonObject o = QJsonDocument::fromJson(m_hub->statsJson()).object();
        if (m_cache) {
            const qint64 hits = m_cache->hits(), misses = m_cache->misses();
            o.insert(QStringLiteral("cache"),
                     QJsonObject {
                         {QStringLiteral("hits"), hits},
                         {QStringLiteral("misses"), misses},
                         {QStringLiteral("hitRate"), hits + misses > 0 ? double(hits) / double(hits + misses) : 0.0}});
        }
        if (m_reads && m_reads->hasReplica()) {
            o.insert(QStringLiteral("reads"),
                     QJsonObject {{QStringLiteral("replica"), m_reads->replicaReads()},
                                  {QStringLiteral("primary"), m_reads->primaryReads()},
                                  {QStringLiteral("replicaUp"), m_reads->replicaUp()}});
        }
        return QJsonDocument(o).toJson(QJsonDocument::Compact);
    };
    rest.sessionTtlMs = sessionTtlMs;
    m_api = std::make_unique<RestApi>(*m_db, *m_credentials, *m_sessions, *m_hub, std::move(rest));
    if (m_redis) {
        m_metrics->gaugeCallback(QLatin1StringView("redis_up"),
                                 QLatin1StringView("1 while both Redis connections are up."),
                                 [this] { return m_redis->isUp() && m_bus->isUp() ? 1.0 : 0.0; });
    }
    if (m_cache) {
        // Warm the hottest reads once the cache can take them (at once when embedded).
        if (m_redis && !m_redis->isUp()) {
            auto once = std::make_shared<QMetaObject::Connection>();
            *once = connect(m_redis.get(), &RedisClientBase::up, this, [this, once] {
                disconnect(*once);
                warmCache();
            });
        } else {
            warmCache();
        }
    }
    {
        // Attachments: files under the data dir when embedded, chunks in PostgreSQL otherwise.
        AttachmentOptions attachments;
        attachments.maxUploadBytes = qint64(m_config.maxUploadMib) << 20;
        attachments.bytesPerSecond = qint64(m_config.attachmentMibPerS) << 20;
        attachments.denyTypes = m_config.uploadDenyTypes;
        attachments.quotaBytesPerDay = qint64(m_config.uploadQuotaMib) << 20;
        auto blobs = db.backend == DbPoolOptions::Backend::Sqlite
            ? makeFileBlobStore(QDir(m_config.dataDir).filePath(QStringLiteral("attachments")))
            : makePostgresBlobStore();
        m_attachments = std::make_unique<AttachmentService>(*m_db, std::move(blobs), m_api->authenticator(),
                                                            RateLimit(m_limiter.get(), "upload", m_config.rateUpload),
                                                            std::move(attachments));
    }
    m_http = std::make_unique<HttpFront>(m_config, &m_api->router(), m_hub.get(), m_metrics.get());
    m_http->divert(&AttachmentService::isRoute, [attachments = m_attachments.get()](DivertedRequest request) {
        attachments->accept(std::move(request));
    });
    m_http->setReadiness([this] { return readiness(); });
    m_dbProbe.setInterval(1000);
    connect(&m_dbProbe, &QTimer::timeout, this, [this] {
        if (m_probeInFlight)
            return; // the last probe has not come back: the database is slow or the pool busy
        m_probeInFlight = true;
        m_db->query([](QSqlDatabase &conn) -> Result<bool> {
                QSqlQuery q(conn);
                return q.exec(QStringLiteral("SELECT 1"));
            })
            .then(this, [this](const Result<bool> &) { m_probeInFlight = false; });
    });
    m_dbProbe.start();
    const quint16 port = m_http->listen();
    if (port == 0) {
        return Error {
            ErrorCode::Unavailable,
            QStringLiteral("cannot listen on %1:%2").arg(m_config.listenHost.toString()).arg(m_config.listenPort),
            QStringLiteral("listen")};
    }
    return port;
}

void ServerApp::warmCache()
{
    constexpr int kHottest = 100;
    m_db->run([](QSqlDatabase &conn) -> std::pair<QList<Id>, QList<Id>> {
            if (!conn.isOpen())
                return {};
            auto rooms = store::recentlyActiveRooms(conn, kHottest);
            auto projects = store::recentlyActiveProjects(conn, kHottest);
            return {rooms ? *rooms : QList<Id> {}, projects ? *projects : QList<Id> {}};
        })
        .then(this, [this](const std::pair<QList<Id>, QList<Id>> &hot) {
            if (!m_api)
                return;
            m_api->warm(hot.first, hot.second);
            logEvent(lcServer(), QtInfoMsg, QStringLiteral("cache warming"),
                     {{QStringLiteral("rooms"), hot.first.size()}, {QStringLiteral("projects"), hot.second.size()}});
        });
}

HealthBody ServerApp::readiness() const
{
    HealthBody body;
    const bool dbUp = m_db && m_db->breakerState() == CircuitBreaker::State::Closed;
    body.checks.insert(QStringLiteral("database"), dbUp ? QStringLiteral("ok") : QStringLiteral("down"));
    body.checks.insert(QStringLiteral("migrations"), QStringLiteral("ok")); // start() fails without them
    body.checks.insert(QStringLiteral("draining"), m_draining ? QStringLiteral("yes") : QStringLiteral("no"));
    const bool redisUp = m_bus && m_bus->isUp() && m_redis && m_redis->isUp();
    if (m_bus)
        body.checks.insert(QStringLiteral("redis"), redisUp ? QStringLiteral("ok") : QStringLiteral("down"));
    const bool replicaDown = m_reads && m_reads->hasReplica() && !m_reads->replicaUp();
    if (m_reads && m_reads->hasReplica())
        body.checks.insert(QStringLiteral("replica"), replicaDown ? QStringLiteral("down") : QStringLiteral("ok"));
    if (m_draining)
        body.status = QStringLiteral("draining");
    else if (!dbUp)
        body.status = QStringLiteral("unavailable");
    else if ((m_bus && !redisUp) || replicaDown)
        body.status = QStringLiteral("degraded");
    else
        body.status = QStringLiteral("ok");
    return body;
}

void ServerApp::drain(std::function<void()> done)
{
    if (m_draining)
        return;
    m_draining = true;
    logEvent(lcServer(), QtInfoMsg, QStringLiteral("draining"),
             {{QStringLiteral("timeoutMs"), m_config.drainTimeoutMs}});
    if (m_http)
        m_http->stopListening();
    if (m_hub)
        m_hub->drain(QStringLiteral("server shutting down"), 500);
    pollUntil(
        this, 50, m_config.drainTimeoutMs,
        [this] {
            const bool socketsGone = !m_hub || m_hub->stats().connectionsActive == 0;
            const DbPoolStats pool = m_db ? m_db->stats() : DbPoolStats {};
            return socketsGone && pool.busy == 0 && pool.waiting == 0 && (!m_bus || m_bus->publishing() == 0);
        },
        [done = std::move(done)](qint64 elapsedMs, bool timedOut) {
            logEvent(lcServer(), QtInfoMsg, QStringLiteral("drained"),
                     {{QStringLiteral("ms"), elapsedMs}, {QStringLiteral("timedOut"), timedOut}});
            done();
        });
}

} // namespace taskmaster::server
