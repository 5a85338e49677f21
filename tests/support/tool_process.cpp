#include "tests/support/tool_process.h"

#include <QFile>
#include <QJsonDocument>
#include <QProcess>

namespace taskmaster::test {

ToolRun runTool(const QString &program, const QStringList &args, const QString &jsonFile, int timeoutMs)
{
    QProcess p;
    p.start(program, args);
    ToolRun r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished(5000);
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    if (!jsonFile.isEmpty()) {
        QFile f(jsonFile);
        if (f.open(QIODevice::ReadOnly))
            r.json = QJsonDocument::fromJson(f.readAll()).object();
    }
    return r;
}

qint64 ToolRun::field(const char *section, const char *name) const
{
    return json.value(QLatin1String(section)).toObject().value(QLatin1String(name)).toInteger(-1);
}

QString ToolRun::describe(qsizetype stderrTail) const
{
    return QString::fromUtf8("exit " + QByteArray::number(exitCode) + "\nstdout:\n" + out + "\nstderr (tail):\n"
                             + err.right(stderrTail));
}

QHash<QString, QString> readClusterEnv(const QString &dir)
{
    QHash<QString, QString> env;
    QFile f(dir + QStringLiteral("/cluster.env"));
    if (!f.open(QIODevice::ReadOnly))
        return env;
    while (!f.atEnd()) {
        const QString line = QString::fromUtf8(f.readLine()).trimmed();
        const qsizetype eq = line.indexOf(QLatin1Char('='));
        if (!line.startsWith(QLatin1Char('#')) && eq > 0)
            env.insert(line.left(eq), line.mid(eq + 1));
    }
    return env;
}

} // namespace taskmaster::test
