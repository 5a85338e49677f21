#include "tests/support/server_process.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcessEnvironment>

#include <cstdio>

namespace taskmaster::test {

ServerProcess::ServerProcess() = default;

ServerProcess::~ServerProcess()
{
    if (m_process.state() != QProcess::NotRunning)
        stop(5000);
}

QString ServerProcess::binary()
{
    return QStringLiteral(TM_SERVER_BINARY);
}

QUrl ServerProcess::url(const QString &path) const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path));
}

QUrl ServerProcess::wsUrl(const QString &query) const
{
    QUrl u = url(QStringLiteral("/ws"));
    u.setScheme(QStringLiteral("ws"));
    if (!query.isEmpty())
        u.setQuery(query);
    return u;
}

bool ServerProcess::start(const QStringList &extraArgs, const QStringList &extraEnv, QDeadlineTimer deadline)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString &kv : extraEnv) {
        const qsizetype eq = kv.indexOf(QLatin1Char('='));
        env.insert(kv.left(eq), kv.mid(eq + 1));
    }
    m_process.setProcessEnvironment(env);
    m_process.setProcessChannelMode(QProcess::SeparateChannels);
    m_process.setReadChannel(QProcess::StandardOutput);
    QStringList args {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"), QStringLiteral("--data-dir"),
                      m_dataDir.path()};
    // Tests register and call at machine speed from one address: no rate limits unless the test
    // sets them.
    for (const char *limit : {"--rate-auth", "--rate-api"}) {
        if (!extraArgs.contains(QLatin1String(limit)))
            args << QLatin1String(limit) << QStringLiteral("0");
    }
    args += extraArgs;
    m_process.start(binary(), args);
    if (!m_process.waitForStarted(int(deadline.remainingTime()))) {
        m_error = QStringLiteral("cannot start %1: %2").arg(binary(), m_process.errorString());
        return false;
    }
    while (!deadline.hasExpired()) {
        while (m_process.canReadLine()) {
            const QByteArray line = m_process.readLine();
            m_output += line;
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            if (o.value(QLatin1String("msg")).toString() == QLatin1String("listening")) {
                m_port = quint16(o.value(QLatin1String("port")).toInt());
                return m_port != 0;
            }
        }
        if (m_process.state() == QProcess::NotRunning) {
            m_error = QStringLiteral("server exited with %1: %2")
                          .arg(m_process.exitCode())
                          .arg(QString::fromUtf8(m_output + m_process.readAllStandardError()));
            return false;
        }
        m_process.waitForReadyRead(int(qMin<qint64>(deadline.remainingTime(), 500)));
    }
    m_error = QStringLiteral("no 'listening' line before the deadline; output: %1").arg(QString::fromUtf8(m_output));
    return false;
}

int ServerProcess::stop(int timeoutMs)
{
    if (m_process.state() == QProcess::NotRunning) {
        forwardSanitizerReport();
        return m_process.exitCode();
    }
    // Under the sanitizers (scripts/sanitize.sh) the server runs several times slower, and its
    // exit runs the leak check: the same drain gets four times the time.
    if (qEnvironmentVariableIsSet("ASAN_OPTIONS") || qEnvironmentVariableIsSet("TSAN_OPTIONS"))
        timeoutMs *= 4;
    m_process.terminate();
    int status = -1;
    if (m_process.waitForFinished(timeoutMs)) {
        status = m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
    } else {
        m_process.kill();
        m_process.waitForFinished(5000);
        // Say why the caller sees -1: the end of what the server wrote.
        std::fprintf(stderr, "ServerProcess: no exit within %d ms of SIGTERM; its last output:\n%s\n", timeoutMs,
                     m_process.readAllStandardError().right(4000).constData());
    }
    forwardSanitizerReport();
    return status;
}

void ServerProcess::forwardSanitizerReport()
{
    // Under scripts/sanitize.sh: a sanitizer's report on the server's stderr goes to the test's
    // output (UBSan's, which GCC's runtime does not write to ASAN_OPTIONS' log_path), where the
    // script finds it; the test itself may not look at the server's exit status.
    const QByteArray err = m_process.readAllStandardError();
    if (err.contains("Sanitizer") || err.contains("runtime error:"))
        std::fputs(err.constData(), stderr);
}

} // namespace taskmaster::test
