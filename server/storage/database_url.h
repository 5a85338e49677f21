// DatabaseUrl: parses postgres://user:password@host:port/dbname?options into the parts that
// QSqlDatabase (QPSQL) takes. Thread: any (plain values).
#pragma once

#include "shared/core/error.h"

#include <QString>

namespace taskmaster::server {

struct DatabaseUrl {
    QString host = QStringLiteral("127.0.0.1");
    int port = 5432;
    QString user;
    QString password;
    QString database;
    QString options; // "key=value;key=value", QSqlDatabase::setConnectOptions format
};

[[nodiscard]] Result<DatabaseUrl> parseDatabaseUrl(const QString &url);

} // namespace taskmaster::server
