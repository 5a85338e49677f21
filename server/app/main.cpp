// taskmaster-server entry point: reads the configuration, starts the subsystems, runs the loop.
#include "server/app/epoll_dispatcher.h"
#include "server/app/server_app.h"
#include "server/app/systemd_notify.h"
#include "server/app/unix_signals.h"
#include "server/config/config.h"
#include "server/log/json_log.h"
#include "server/metrics/process_stats.h"
#include "shared/core/version.h"

#include <QCoreApplication>
#include <QJsonObject>
#include <QProcessEnvironment>

#include <cstdio>

using namespace taskmaster::server;

int main(int argc, char *argv[])
{
    // Qt's own UNIX event dispatcher instead of glib's: glib keeps socket notifiers in a list, so
    // every WebSocket write (a write notifier switched on and off) cost O(connections); with
    // thousands of sockets that was ~30 % of the server's CPU in fan-out (docs/BENCHMARKS.md).
    qputenv("QT_NO_GLIB", "1");
    // Better still: epoll, so a loop iteration costs O(ready sockets), not O(open sockets).
    const char *dispatcher = installMainEventDispatcher();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("taskmaster-server"));
    QCoreApplication::setApplicationVersion(QLatin1String(taskmaster::kVersion));

    auto config = loadConfig(QCoreApplication::arguments(), QProcessEnvironment::systemEnvironment().toStringList());
    if (!config) {
        if (config.error().code == taskmaster::ErrorCode::Unavailable) { // --help, --version
            std::fputs(qPrintable(config.error().message), stdout);
            return 0;
        }
        std::fprintf(stderr, "taskmaster-server: %s\n", qPrintable(config.error().message));
        return 2;
    }
    installJsonLog();
    const qint64 files = std::max<qint64>(0, raiseOpenFilesLimit());
    logEvent(
        lcServer(), QtInfoMsg, QStringLiteral("event loop"),
        {{QStringLiteral("dispatcher"), QString::fromLatin1(dispatcher)}, {QStringLiteral("openFilesLimit"), files}});

    SystemdNotifier systemd; // Type=notify under systemd; nothing otherwise
    ServerApp server(*config);
    const auto port = server.start();
    if (!port) {
        logEvent(lcServer(), QtCriticalMsg, QStringLiteral("cannot start"),
                 {{QStringLiteral("error"), port.error().message}});
        return 1;
    }
    logEvent(lcServer(), QtInfoMsg, QStringLiteral("listening"),
             {{QStringLiteral("host"), config->listenHost.toString()},
              {QStringLiteral("port"), int(*port)},
              {QStringLiteral("instance"), config->instanceName},
              {QStringLiteral("version"), QLatin1String(taskmaster::kVersion)}});
    // Migrated and listening: systemd may start the units ordered after this one.
    systemd.ready(QStringLiteral("serving on %1:%2").arg(config->listenHost.toString()).arg(*port));

    // SIGTERM / SIGINT: a graceful drain (readiness 503, `reconnect` to every socket, in-flight
    // work finished, at most --drain-timeout-ms), then exit 0. A second signal exits at once.
    UnixSignals signals;
    int received = 0;
    QObject::connect(&signals, &UnixSignals::terminateRequested, &app, [&server, &systemd, &received](int number) {
        logEvent(lcServer(), QtInfoMsg, QStringLiteral("stopping"), {{QStringLiteral("signal"), number}});
        if (++received > 1) {
            QCoreApplication::quit();
            return;
        }
        systemd.stopping(QStringLiteral("draining"));
        server.drain([] { QCoreApplication::quit(); });
    });
    return QCoreApplication::exec();
}
