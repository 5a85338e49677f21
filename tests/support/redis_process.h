// RedisProcess: a redis-server of a test's own on loopback (a free port, a temporary directory,
// no persistence), so the test can kill and restart it on the same port to check how the server
// lives through a Redis outage. Thread: the test's thread.
#pragma once

#include <QProcess>
#include <QString>
#include <QTemporaryDir>

namespace taskmaster::test {

class RedisProcess {
public:
    ~RedisProcess() { kill(); }

    // Starts it (on the same port as before after a kill) and waits until it answers PING.
    // Returns an empty string, or what went wrong.
    QString start();
    void kill(); // SIGKILL and wait
    void killNoWait();
    [[nodiscard]] bool running() const { return m_proc.state() == QProcess::Running; }
    [[nodiscard]] int port() const { return m_port; }
    [[nodiscard]] QString url() const { return QStringLiteral("redis://127.0.0.1:%1").arg(m_port); }

private:
    QTemporaryDir m_dir;
    QProcess m_proc;
    int m_port = 0;
};

// A TCP port nobody listens on right now (127.0.0.1).
[[nodiscard]] int freePort();

} // namespace taskmaster::test
