#include "tests/support/test_database.h"

#include "server/storage/migrator.h"

#include <QSqlQuery>
#include <QUrl>
#include <QUuid>

namespace taskmaster::test {

server::DbPoolOptions freshDatabase(const QString &backend, const QTemporaryDir &dir, const QString &pgUrl,
                                    bool migrate)
{
    using server::DbPoolOptions;
    const QString name = QStringLiteral("t_") + QUuid::createUuid().toString(QUuid::Id128).left(16);
    DbPoolOptions o;
    o.minThreads = 1;
    o.maxThreads = 8;
    if (backend == QLatin1String("sqlite")) {
        o.backend = DbPoolOptions::Backend::Sqlite;
        o.sqlitePath = dir.filePath(name + QStringLiteral(".sqlite"));
    } else {
        o.backend = DbPoolOptions::Backend::Postgres;
        auto url = server::parseDatabaseUrl(pgUrl);
        if (!url)
            qFatal("bad TM_TEST_DATABASE_URL");
        o.postgres = *url;
        server::DbPool admin(o);
        const bool created
            = admin.run([&](QSqlDatabase &db) { return QSqlQuery(db).exec(QStringLiteral("CREATE DATABASE ") + name); })
                  .result();
        if (!created)
            qFatal("cannot create a test database");
        o.postgres.database = name;
    }
    if (migrate) {
        server::DbPool pool(o);
        const auto version
            = pool.run([&](QSqlDatabase &db) {
                      return server::Migrator::migrate(db, o.backend, server::Migrator::bundled(o.backend));
                  })
                  .result();
        if (!version)
            qFatal("migration failed: %s", qPrintable(version.error().message));
    }
    return o;
}

QString freshPostgresUrl(const QString &adminUrl)
{
    QTemporaryDir unused;
    const server::DbPoolOptions o = freshDatabase(QStringLiteral("postgres"), unused, adminUrl, false);
    QUrl url(adminUrl);
    url.setPath(QLatin1Char('/') + o.postgres.database);
    return url.toString();
}

QSqlDatabase openPostgres(const QString &url, const QString &name)
{
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
    const auto parsed = server::parseDatabaseUrl(url);
    if (!parsed)
        return db;
    db.setHostName(parsed->host);
    db.setPort(parsed->port);
    db.setUserName(parsed->user);
    db.setPassword(parsed->password);
    db.setDatabaseName(parsed->database);
    db.open();
    return db;
}

} // namespace taskmaster::test
