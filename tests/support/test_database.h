// Test support: a new, empty, migrated database for one test, on SQLite (a file in a temporary
// directory) or on the real PostgreSQL of the test command (CREATE DATABASE with a random name).
#pragma once

#include "server/storage/db_pool.h"

#include <QSqlDatabase>
#include <QString>
#include <QTemporaryDir>

namespace taskmaster::test {

// "sqlite" or "postgres"; pgUrl is TM_TEST_DATABASE_URL. Aborts the test run on failure, since
// nothing after it could mean anything.
[[nodiscard]] server::DbPoolOptions freshDatabase(const QString &backend, const QTemporaryDir &dir,
                                                  const QString &pgUrl, bool migrate = true);

// The URL of a new, empty PostgreSQL database on the server of adminUrl (for a server process
// under test, which migrates it itself).
[[nodiscard]] QString freshPostgresUrl(const QString &adminUrl);

// A QPSQL connection of the test's own to url (postgres://user[:pw]@host:port/db), registered
// as `name` (QSqlDatabase::removeDatabase(name) when done); isOpen() says whether it connected.
[[nodiscard]] QSqlDatabase openPostgres(const QString &url, const QString &name);

} // namespace taskmaster::test
