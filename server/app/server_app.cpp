#include "server/app/server_app.h"

#include "server/auth/credentials.h"
#include "server/bus/cluster_bus.h"
#include "server/http/api_router.h"
#include "server/http/auth_controller.h"
#include "server/http/http_front.h"
#include "server/http/project_controller.h"
#include "server/http/room_controller.h"
#include "server/http/search_controller.h"
#include "server/log/json_log.h"
#include "server/metrics/metrics.h"
#include "server/storage/db_pool.h"
#include "server/storage/migrator.h"
#include "server/storage/sql.h"
#include "server/ws/hub.h"

#include <QDir>
#include <QJsonObject>
#include <QThread>

namespace taskmaster::server {

ServerApp::ServerApp(Config config, QObject *parent) : QObject(parent), m_config(std::move(config)) { }

ServerApp::~ServerApp()
{
    // Reverse order: no new requests, then the pools drain.
    m_http.reset();
    m_api.reset();
    m_credentials.reset();
    m_db.reset();
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
    m_db = std::make_unique<DbPool>(db);
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
    hub.idleTimeoutMs = m_config.wsIdleTimeoutMs;
    hub.rateFramesPerSecond = m_config.wsRate;
    hub.rateBurst = 2.0 * m_config.wsRate;
    hub.groupCommit = m_config.groupCommit != 0;
    hub.presenceGraceMs = m_config.presenceGraceMs;
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
        logEvent(lcServer(), QtInfoMsg, QStringLiteral("cluster bus starting"),
                 {{QStringLiteral("redis"), redis->display()}});
    }
    Services services;
    services.db = m_db.get();
    services.credentials = m_credentials.get();
    services.events = m_hub.get();
    services.realtimeStats = [hub = m_hub.get()] { return hub->statsJson(); };
    services.sessionTtlMs = qint64(m_config.sessionTtlHours) * 3600 * 1000;
    m_api = std::make_unique<ApiRouter>(services);
    AuthController::addRoutes(*m_api);
    RoomController::addRoutes(*m_api);
    ProjectController::addRoutes(*m_api);
    SearchController::addRoutes(*m_api, m_config.instanceName);
    m_http = std::make_unique<HttpFront>(m_config, m_api.get(), m_hub.get(), m_metrics.get());
    const quint16 port = m_http->listen();
    if (port == 0) {
        return Error {
            ErrorCode::Unavailable,
            QStringLiteral("cannot listen on %1:%2").arg(m_config.listenHost.toString()).arg(m_config.listenPort),
            QStringLiteral("listen")};
    }
    return port;
}

} // namespace taskmaster::server
