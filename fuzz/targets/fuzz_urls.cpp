// The URL and address parsers of the options on any text: postgres:// (primary and replica),
// redis://, --listen HOST:PORT, a rate rule. Each gives a value or an error, never a crash.
#include "fuzz/fuzz_support.h"
#include "server/config/config.h"
#include "server/ratelimit/rate_limiter.h"
#include "server/redis/redis_url.h"
#include "server/storage/database_url.h"

using namespace taskmaster;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString input = fuzz::text(data, size);
    if (const auto db = server::parseDatabaseUrl(input)) {
        fuzz::check(db->port > 0 && db->port <= 65535, "a database URL's port is a port");
        fuzz::check(!db->database.isEmpty(), "a database URL names a database");
        // QSqlDatabase::setConnectOptions splits "key=value;key=value": one option may not smuggle
        // in another.
        for (const QString &option : db->options.split(QLatin1Char(';'), Qt::SkipEmptyParts))
            fuzz::check(option.indexOf(QLatin1Char('=')) > 0, "each connect option is key=value");
    }
    if (const auto redis = server::parseRedisUrl(input))
        fuzz::check(redis->port > 0 && redis->port <= 65535 && redis->db >= 0, "a Redis URL's port and db are valid");
    QHostAddress host;
    quint16 port = 0;
    [[maybe_unused]] const auto listenError = server::parseListen(input, host, port);
    if (const auto rule = server::parseRateRule(input, QStringLiteral("rate"))) {
        const auto again = server::parseRateRule(server::formatRateRule(*rule), QStringLiteral("rate"));
        fuzz::check(bool(again), "a printed rate rule parses");
    }
    return 0;
}
