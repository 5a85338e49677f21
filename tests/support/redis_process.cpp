#include "tests/support/redis_process.h"

#include <QElapsedTimer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

namespace taskmaster::test {

int freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

QString RedisProcess::start()
{
    if (running())
        return {};
    if (m_port == 0)
        m_port = freePort();
    m_proc.setProgram(QStringLiteral("redis-server"));
    m_proc.setArguments({QStringLiteral("--port"), QString::number(m_port), QStringLiteral("--bind"),
                         QStringLiteral("127.0.0.1"), QStringLiteral("--save"), QString(),
                         QStringLiteral("--appendonly"), QStringLiteral("no"), QStringLiteral("--dir"), m_dir.path(),
                         QStringLiteral("--enable-debug-command"), QStringLiteral("local")});
    m_proc.setStandardOutputFile(m_dir.filePath(QStringLiteral("redis.log")), QIODevice::Append);
    m_proc.setStandardErrorFile(m_dir.filePath(QStringLiteral("redis.log")), QIODevice::Append);
    m_proc.start();
    if (!m_proc.waitForStarted(5000))
        return QStringLiteral("redis-server did not start: ") + m_proc.errorString();
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 10000) { // poll with a deadline until it answers PING
        if (m_proc.state() != QProcess::Running)
            return QStringLiteral("redis-server exited; see ") + m_dir.filePath(QStringLiteral("redis.log"));
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, quint16(m_port));
        if (s.waitForConnected(500)) {
            s.write("PING\r\n");
            if (s.waitForReadyRead(1000) && s.readAll().startsWith("+PONG"))
                return {};
        }
        QTest::qWait(20);
    }
    return QStringLiteral("redis-server does not answer on port %1").arg(m_port);
}

void RedisProcess::kill()
{
    if (m_proc.state() == QProcess::NotRunning)
        return;
    m_proc.kill();
    m_proc.waitForFinished(5000);
}

void RedisProcess::killNoWait()
{
    m_proc.kill();
}

} // namespace taskmaster::test
