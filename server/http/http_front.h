// HttpFront: owns the QHttpServer, its routes and the listening socket.
// Thread: network (main event loop); it never blocks.
#pragma once

#include "server/config/config.h"

#include <QHttpServer>
#include <QObject>

namespace taskmaster::server {

class HttpFront final : public QObject {
    Q_OBJECT
public:
    explicit HttpFront(const Config &config, QObject *parent = nullptr);

    // Listens on the configured address; returns the bound port, or 0 on failure.
    [[nodiscard]] quint16 listen();

private:
    void addRoutes();

    Config m_config;
    QHttpServer m_server;
};

} // namespace taskmaster::server
