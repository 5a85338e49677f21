// Migrator: brings a database to the schema version this build expects, applying the bundled
// migrations (resources/sql/<dialect>/NNNN_name.sql) in order, each in its own transaction and
// recorded in schema_migrations. Several instances starting at once are serialised: an advisory
// lock on PostgreSQL, BEGIN IMMEDIATE on SQLite. Thread: a database worker (blocking calls).
#pragma once

#include "server/storage/db_pool.h"
#include "shared/core/error.h"

#include <QList>
#include <QSqlDatabase>
#include <QString>
#include <QStringList>

namespace taskmaster::server {

struct Migration {
    int version = 0;
    QString name;
    QString sql;
};

class Migrator final {
public:
    using Backend = DbPoolOptions::Backend;

    // The migrations compiled into the binary for a back end, ordered by version.
    [[nodiscard]] static QList<Migration> bundled(Backend backend);
    // Applies what is missing; returns the schema version afterwards.
    [[nodiscard]] static Result<int> migrate(QSqlDatabase &db, Backend backend, const QList<Migration> &migrations);
    // The version recorded in the database (0 for an empty database).
    [[nodiscard]] static Result<int> currentVersion(QSqlDatabase &db);
    // Splits a script into statements: ';' ends a statement at the end of a line, except inside
    // CREATE TRIGGER ... END; blocks. Whole-line "--" comments are dropped.
    [[nodiscard]] static QStringList splitStatements(const QString &sql);
};

} // namespace taskmaster::server
