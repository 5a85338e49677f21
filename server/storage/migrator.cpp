#include "server/storage/migrator.h"

#include <QDir>
#include <QFile>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>

namespace taskmaster::server {

Q_LOGGING_CATEGORY(lcMigrate, "tm.db.migrate")

namespace {
constexpr qint64 kAdvisoryLockKey = 0x746d5f6d6967; // "tm_mig"

Error dbError(const QString &what, const QSqlError &e)
{
    return Error {ErrorCode::Unavailable, what + QStringLiteral(": ") + e.text(), {}};
}
} // namespace

QList<Migration> Migrator::bundled(Backend backend)
{
    const QString dir = backend == Backend::Sqlite ? QStringLiteral(":/sql/sqlite") : QStringLiteral(":/sql/postgres");
    static const QRegularExpression nameRe(QStringLiteral(R"(\A(\d{4})_([a-z0-9_]+)\.sql\z)"));
    QList<Migration> out;
    const QStringList files = QDir(dir).entryList({QStringLiteral("*.sql")}, QDir::Files, QDir::Name);
    for (const QString &f : files) {
        const auto m = nameRe.match(f);
        if (!m.hasMatch())
            continue;
        QFile file(dir + QLatin1Char('/') + f);
        if (!file.open(QIODevice::ReadOnly))
            continue;
        out.append(Migration {m.captured(1).toInt(), m.captured(2), QString::fromUtf8(file.readAll())});
    }
    std::sort(out.begin(), out.end(), [](const Migration &a, const Migration &b) { return a.version < b.version; });
    return out;
}

QStringList Migrator::splitStatements(const QString &sql)
{
    QStringList statements;
    QString current;
    bool inTrigger = false;
    const QStringList lines = sql.split(QLatin1Char('\n'));
    for (const QString &raw : lines) {
        const QString line = raw.trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1String("--")))
            continue;
        if (current.isEmpty() && line.startsWith(QLatin1String("CREATE TRIGGER"), Qt::CaseInsensitive))
            inTrigger = true;
        current += raw + QLatin1Char('\n');
        const bool ends = inTrigger ? line.compare(QLatin1String("END;"), Qt::CaseInsensitive) == 0
                                    : line.endsWith(QLatin1Char(';'));
        if (ends) {
            statements << current.trimmed();
            current.clear();
            inTrigger = false;
        }
    }
    if (!current.trimmed().isEmpty())
        statements << current.trimmed();
    return statements;
}

Result<int> Migrator::currentVersion(QSqlDatabase &db)
{
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")))
        return 0; // no table yet: an empty database
    if (!q.next())
        return dbError(QStringLiteral("reading schema version"), q.lastError());
    return q.value(0).toInt();
}

Result<int> Migrator::migrate(QSqlDatabase &db, Backend backend, const QList<Migration> &migrations)
{
    if (!db.isOpen())
        return Error {ErrorCode::Unavailable, QStringLiteral("database unreachable: ") + db.lastError().text(), {}};
    QSqlQuery q(db);
    const bool pg = backend == Backend::Postgres;
    if (pg && !q.exec(QStringLiteral("SELECT pg_advisory_lock(%1)").arg(kAdvisoryLockKey)))
        return dbError(QStringLiteral("taking the migration lock"), q.lastError());
    auto unlock = qScopeGuard([&] {
        if (pg)
            QSqlQuery(db).exec(QStringLiteral("SELECT pg_advisory_unlock(%1)").arg(kAdvisoryLockKey));
    });

    if (!q.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                               "name text NOT NULL, applied_at bigint NOT NULL)")))
        return dbError(QStringLiteral("creating schema_migrations"), q.lastError());

    for (const Migration &m : migrations) {
        // Each migration in its own transaction; on SQLite, BEGIN IMMEDIATE takes the write lock
        // first, so a second instance waits here and then sees the version recorded.
        if (!q.exec(pg ? QStringLiteral("BEGIN") : QStringLiteral("BEGIN IMMEDIATE")))
            return dbError(QStringLiteral("starting migration %1").arg(m.version), q.lastError());
        auto rollback = qScopeGuard([&] { QSqlQuery(db).exec(QStringLiteral("ROLLBACK")); });
        q.prepare(QStringLiteral("SELECT 1 FROM schema_migrations WHERE version = ?"));
        q.addBindValue(m.version);
        if (!q.exec())
            return dbError(QStringLiteral("reading schema_migrations"), q.lastError());
        if (q.next()) {
            q.finish();
            rollback.dismiss();
            q.exec(QStringLiteral("COMMIT"));
            continue;
        }
        q.finish();
        for (const QString &statement : splitStatements(m.sql)) {
            if (!q.exec(statement)) {
                return Error {ErrorCode::Internal,
                              QStringLiteral("migration %1_%2 failed: %3\n%4")
                                  .arg(m.version)
                                  .arg(m.name, q.lastError().text(), statement),
                              {}};
            }
        }
        q.prepare(QStringLiteral("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"));
        q.addBindValue(m.version);
        q.addBindValue(m.name);
        q.addBindValue(QDateTime::currentMSecsSinceEpoch());
        if (!q.exec() || !q.exec(QStringLiteral("COMMIT")))
            return dbError(QStringLiteral("recording migration %1").arg(m.version), q.lastError());
        rollback.dismiss();
        qCInfo(lcMigrate) << "applied migration" << m.version << m.name;
    }
    return currentVersion(db);
}

} // namespace taskmaster::server
