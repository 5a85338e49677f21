#include "tests/support/tool_process.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>

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

bool runClusterCommand(const QString &script, const QStringList &args, int timeoutMs)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral("bash"), QStringList {script} + args);
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished(5000);
        return false;
    }
    qInfo("cluster.sh %s: %s", qPrintable(args.join(QLatin1Char(' '))), p.readAll().trimmed().constData());
    return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

int httpStatus(const QUrl &url, int timeoutMs)
{
    QNetworkAccessManager nam;
    QNetworkRequest request(url);
    request.setTransferTimeout(timeoutMs);
    QNetworkReply *reply = nam.get(request);
    QDeadlineTimer deadline(timeoutMs + 2000);
    while (!reply->isFinished() && !deadline.hasExpired())
        QTest::qWait(10);
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    delete reply;
    return status;
}

QList<int> clusterMembers(const QString &dir)
{
    // "1 2 3", shell-quoted in the file (1\ 2\ 3): the numbers are what counts.
    QList<int> out;
    static const QRegularExpression number(QStringLiteral("[0-9]+"));
    const QString list = readClusterEnv(dir).value(QStringLiteral("TM_CLUSTER_MEMBERS"));
    for (auto it = number.globalMatch(list); it.hasNext();)
        out << it.next().captured().toInt();
    return out;
}

bool clusterReady(const QString &dir)
{
    const auto env = readClusterEnv(dir);
    const QList<int> pool = clusterMembers(dir);
    if (pool.isEmpty())
        return false;
    for (const int i : pool) {
        const QUrl url(env.value(QStringLiteral("TM_INSTANCE_%1_URL").arg(i)) + QStringLiteral("/health/ready"));
        if (httpStatus(url) != 200)
            return false;
    }
    return true;
}

} // namespace taskmaster::test
