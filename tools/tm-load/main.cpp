// tm-load: the load generator and latency meter of TaskMaster (see load_run.h for the phases and
// tm-load --help for the options). Prints the report table on stdout, progress on stderr, and
// writes --json FILE. Exit status: 0 passed, 1 a threshold missed, 2 bad arguments or setup
// failure, 3 stopped by the hard cap. Thread: main (the workers run their own threads).
#include "server/app/epoll_dispatcher.h"
#include "server/metrics/process_stats.h"
#include "tools/tm-load/load_run.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QSaveFile>
#include <QTextStream>

#include <csignal>
#include <unistd.h>

namespace {

// Last resort behind the run's own deadline: a wedged run still ends.
extern "C" void onAlarm(int)
{
    static const char text[] = "tm-load: hard cap reached, exiting\n";
    [[maybe_unused]] const auto written = ::write(2, text, sizeof text - 1);
    ::_exit(3);
}

} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_NO_GLIB", "1");
    (void)taskmaster::server::installMainEventDispatcher(); // epoll unless TM_EVENT_DISPATCHER=poll
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("tm-load"));
    QTextStream err(stderr);
    auto config = taskmaster::load::parseLoadArguments(QCoreApplication::arguments());
    if (!config) {
        if (config.error().code == taskmaster::ErrorCode::Unavailable) {
            QTextStream(stdout) << config.error().message;
            return 0;
        }
        err << "tm-load: " << config.error().message << "\n";
        return 2;
    }
    const qint64 limit = taskmaster::server::raiseOpenFilesLimit();
    const qint64 files = limit < 0 ? 1024 : limit;
    if (qint64(config->connections()) + 64 > files) {
        err << "tm-load: " << config->connections() << " connections need more open files than the limit of " << files
            << " (the hard limit per process: raise it, or use several tm-load processes)\n";
        return 2;
    }
    std::signal(SIGALRM, onAlarm);
    ::alarm(unsigned(config->maxRunSeconds) + 30);

    taskmaster::load::RunReport report;
    {
        taskmaster::load::LoadRun run(*config);
        report = run.run();
    }
    QTextStream(stdout) << report.table();
    if (config->resultLine)
        QTextStream(stdout) << report.resultLine() << '\n';
    if (!config->jsonFile.isEmpty()) {
        QSaveFile f(config->jsonFile);
        if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(report.toJson()).toJson(QJsonDocument::Indented)) < 0
            || !f.commit()) {
            err << "tm-load: cannot write " << config->jsonFile << ": " << f.errorString() << "\n";
            return 2;
        }
    }
    if (!config->plotFile.isEmpty()) {
        if (const auto e = taskmaster::load::writePlot(report, config->plotFile)) {
            err << "tm-load: " << e->message << "\n";
            return 2;
        }
    }
    return report.exitStatus();
}
