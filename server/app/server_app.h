// ServerApp: builds and owns the subsystems of one taskmaster-server process in start order
// (metrics, storage and its migrations, hashing pool, real-time hub, REST routes, HTTP front) and
// stops them in reverse.
// Thread: network (main) thread.
#pragma once

#include "server/config/config.h"
#include "shared/core/error.h"

#include <QObject>

#include <memory>

namespace taskmaster::server {

class ApiRouter;
class Credentials;
class DbPool;
class HttpFront;
class Hub;
class ClusterBus;
class MetricsRegistry;

class ServerApp final : public QObject {
    Q_OBJECT
public:
    explicit ServerApp(Config config, QObject *parent = nullptr);
    ~ServerApp() override;

    // Opens the database, migrates it, starts listening. Returns the bound port.
    [[nodiscard]] Result<quint16> start();

private:
    Config m_config;
    std::unique_ptr<MetricsRegistry> m_metrics;
    std::unique_ptr<ClusterBus> m_bus; // the hub's relay: outlives it
    std::unique_ptr<Hub> m_hub; // outlives the pool: jobs finishing at shutdown still report to it
    std::unique_ptr<DbPool> m_db;
    std::unique_ptr<Credentials> m_credentials;
    std::unique_ptr<ApiRouter> m_api;
    std::unique_ptr<HttpFront> m_http;
};

} // namespace taskmaster::server
