#include "server/storage/database_url.h"

#include <QUrl>
#include <QUrlQuery>

namespace taskmaster::server {

Result<DatabaseUrl> parseDatabaseUrl(const QString &text)
{
    const QUrl url(text, QUrl::StrictMode);
    const QString field = QStringLiteral("database-url");
    if (!url.isValid() || (url.scheme() != QLatin1String("postgres") && url.scheme() != QLatin1String("postgresql")))
        return Error::badRequest(QStringLiteral("database URL must be postgres://user@host:port/db"), field);
    DatabaseUrl d;
    if (!url.host().isEmpty())
        d.host = url.host();
    d.port = url.port(5432);
    if (d.port <= 0)
        return Error::badRequest(QStringLiteral("database URL's port must be 1..65535"), field);
    d.user = url.userName();
    d.password = url.password();
    d.database = url.path().mid(1);
    if (d.database.isEmpty() || d.database.contains(QLatin1Char('/')))
        return Error::badRequest(QStringLiteral("database URL must name a database: postgres://user@host:port/db"),
                                 field);
    QStringList opts;
    const auto items = QUrlQuery(url).queryItems(QUrl::FullyDecoded);
    for (const auto &[key, value] : items) {
        // QSqlDatabase::setConnectOptions splits on ';' (and QPSQL hands the rest to libpq):
        // a ';' would smuggle in another connection parameter.
        if (key.isEmpty() || key.contains(QLatin1Char(';')) || key.contains(QLatin1Char('='))
            || value.contains(QLatin1Char(';')))
            return Error::badRequest(
                QStringLiteral("database URL options must be name=value pairs without ';': '%1'").arg(key), field);
        opts << key + QLatin1Char('=') + value;
    }
    d.options = opts.join(QLatin1Char(';'));
    return d;
}

} // namespace taskmaster::server
