// taskmaster-server entry point: reads the configuration, starts the subsystems, runs the loop.
#include "server/app/unix_signals.h"
#include "server/config/config.h"
#include "server/http/http_front.h"

#include <QCoreApplication>
#include <QProcessEnvironment>

#include <cstdio>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("taskmaster-server"));
    QCoreApplication::setApplicationVersion(QStringLiteral(TM_VERSION));

    auto config = taskmaster::server::loadConfig(QCoreApplication::arguments(),
                                                 QProcessEnvironment::systemEnvironment().toStringList());
    if (!config) {
        if (config.error().code == taskmaster::ErrorCode::Unavailable) { // --help
            std::fputs(qPrintable(config.error().message), stdout);
            return 0;
        }
        std::fprintf(stderr, "taskmaster-server: %s\n", qPrintable(config.error().message));
        return 2;
    }

    taskmaster::server::HttpFront http(*config);
    const quint16 port = http.listen();
    if (port == 0) {
        std::fprintf(stderr, "taskmaster-server: cannot listen on %s:%u\n", qPrintable(config->listenHost.toString()),
                     unsigned(config->listenPort));
        return 1;
    }
    std::printf("{\"level\":\"info\",\"category\":\"tm.server\",\"msg\":\"listening\",\"host\":\"%s\",\"port\":%u,"
                "\"instance\":\"%s\"}\n",
                qPrintable(config->listenHost.toString()), unsigned(port), qPrintable(config->instanceName));
    std::fflush(stdout);

    // Graceful drain (readiness 503, reconnect frames) arrives with the scale-out work; for now
    // SIGTERM and SIGINT end the event loop and the process exits 0.
    taskmaster::server::UnixSignals signals;
    QObject::connect(&signals, &taskmaster::server::UnixSignals::terminateRequested, &app, [](int number) {
        std::printf("{\"level\":\"info\",\"category\":\"tm.server\",\"msg\":\"stopping\",\"signal\":%d}\n", number);
        std::fflush(stdout);
        QCoreApplication::quit();
    });
    return QCoreApplication::exec();
}
