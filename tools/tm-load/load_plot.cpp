// writePlot (load_report.h): the run's timeline as a gnuplot data file and a PNG beside it.
#include "tools/tm-load/load_report.h"

#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QSaveFile>
#include <QTextStream>

namespace taskmaster::load {

MaybeError writePlot(const RunReport &report, const QString &pngFile)
{
    const QFileInfo png(pngFile);
    const QString dataFile = png.dir().filePath(png.completeBaseName() + QStringLiteral(".dat"));
    {
        QSaveFile f(dataFile);
        if (!f.open(QIODevice::WriteOnly))
            return Error::badRequest(QStringLiteral("cannot write %1: %2").arg(dataFile, f.errorString()));
        QTextStream t(&f);
        t << "# t p50 p95 p99 max sent/s delivered/s connected rest/s restP95\n";
        for (const TimelinePoint &p : report.timeline) {
            t << fixedPoint(p.atSeconds, 3) << ' ' << fixedPoint(p.latency.p50Ms, 3) << ' '
              << fixedPoint(p.latency.p95Ms, 3) << ' ' << fixedPoint(p.latency.p99Ms, 3) << ' '
              << fixedPoint(p.latency.maxMs, 3) << ' ' << fixedPoint(p.sentPerSecond, 1) << ' '
              << fixedPoint(p.deliveredPerSecond, 1) << ' ' << p.connected << ' ' << fixedPoint(p.restPerSecond, 1)
              << ' ' << fixedPoint(p.restP95Ms, 3) << '\n';
        }
        t.flush();
        if (!f.commit())
            return Error::badRequest(QStringLiteral("cannot write %1: %2").arg(dataFile, f.errorString()));
    }
    const auto quoted = [](QString s) -> QString {
        return QLatin1Char('"') + s.replace(QLatin1Char('"'), QLatin1Char('\'')) + QLatin1Char('"');
    };
    QString title = QStringLiteral("tm-load %1: %2 users, %3 msg/s")
                        .arg(report.runId)
                        .arg(report.config.users)
                        .arg(report.config.rate);
    if (report.config.scenarioMode())
        title += QStringLiteral(", scenario %1").arg(toString(report.config.scenario));
    if (!report.config.label.isEmpty())
        title += QStringLiteral(" (%1)").arg(report.config.label);
    QString marks;
    if (report.fault.started) {
        marks += QStringLiteral("set arrow from %1, graph 0 to %1, graph 1 nohead dt 2 lc rgb 'red'\n")
                     .arg(report.fault.startedAt);
        if (report.fault.endedAt >= 0)
            marks += QStringLiteral("set arrow from %1, graph 0 to %1, graph 1 nohead dt 2 lc rgb 'dark-green'\n")
                         .arg(report.fault.endedAt);
    }
    for (const StageReport &st : report.stages)
        marks += QStringLiteral("set arrow from %1, graph 0 to %1, graph 1 nohead dt 3 lc rgb 'gray40'\n")
                     .arg(st.fromSeconds);
    const bool rest = !report.rest.isEmpty();
    const QString script
        = QStringLiteral(
              "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo size 1200,800 font ',10' } "
              "else { set terminal png size 1200,800 }\n"
              "set output %1\n"
              "set multiplot layout 2,1 title %2\n"
              "set grid\n"
              "set key top left opaque box\n"
              "set xlabel 'seconds since sending started'\n"
              "%3"
              "set ylabel 'delivery latency (ms)'\n"
              "set logscale y\n"
              "plot %4 using 1:($2>0?$2:1/0) with lines lw 2 title 'p50', '' using 1:($3>0?$3:1/0) with lines lw 2 "
              "title "
              "'p95', '' using 1:($4>0?$4:1/0) with lines lw 2 title 'p99', '' using 1:($5>0?$5:1/0) with points pt 7 "
              "ps "
              "0.4 title 'max'%5\n"
              "unset logscale y\n"
              "set ylabel 'per second'\n"
              "set y2label 'connections'\n"
              "set y2tics\n"
              "set ytics nomirror\n"
              "plot %4 using 1:6 with lines lw 2 title 'messages sent/s', '' using 1:7 with lines lw 2 title 'events "
              "delivered/s', '' using 1:8 axes x1y2 with lines dt 2 title 'connections'%6\n"
              "unset multiplot\n")
              .arg(quoted(pngFile), quoted(title), marks, quoted(dataFile),
                   rest ? QStringLiteral(", '' using 1:($10>0?$10:1/0) with lines dt 4 title 'REST p95'") : QString(),
                   rest ? QStringLiteral(", '' using 1:9 with lines title 'REST requests/s'") : QString());
    QProcess gnuplot;
    gnuplot.setProcessChannelMode(QProcess::MergedChannels);
    gnuplot.start(QStringLiteral("gnuplot"), QStringList {});
    if (!gnuplot.waitForStarted(10000))
        return Error {
            ErrorCode::Unavailable,
            QStringLiteral("--plot needs gnuplot (Debian package gnuplot-nox): %1").arg(gnuplot.errorString()),
            {}};
    gnuplot.write(script.toUtf8());
    gnuplot.closeWriteChannel();
    if (!gnuplot.waitForFinished(60000) || gnuplot.exitCode() != 0)
        return Error {ErrorCode::Unavailable,
                      QStringLiteral("gnuplot failed: %1").arg(QString::fromUtf8(gnuplot.readAll().right(500))),
                      {}};
    return std::nullopt;
}

} // namespace taskmaster::load
