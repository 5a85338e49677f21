// The server's config file on any bytes, read through loadConfig as --config FILE does (the file
// parser, then every option's value parser: listen address, URLs' schemes, numbers, rate rules,
// trusted proxies). It must give a Config or an error naming the setting, never crash.
#include "fuzz/fuzz_support.h"
#include "server/config/config.h"

#include <QFile>
#include <QTemporaryDir>

using namespace taskmaster;

namespace {
QString configPath()
{
    static QTemporaryDir dir; // removed at exit
    return dir.filePath(QStringLiteral("fuzz.conf"));
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString path = configPath();
    {
        QFile f(path);
        fuzz::check(f.open(QIODevice::WriteOnly | QIODevice::Truncate), "the temporary config file opens");
        f.write(fuzz::bytes(data, size).toByteArray());
    }
    const auto config = server::loadConfig({QStringLiteral("taskmaster-server"), QStringLiteral("--config"), path}, {});
    if (!config) {
        fuzz::check(!config.error().message.isEmpty(), "a refused config says why");
        fuzz::check(config.error().code != ErrorCode::Unavailable, "only --help/--version answer Unavailable");
    }
    return 0;
}
