// ServerProcess: runs the real taskmaster-server binary for a test, on 127.0.0.1 with a port the
// server picks (--listen 127.0.0.1:0) and a temporary data directory, and reads the bound port
// from its JSON "listening" log line. Rate limits are off (--rate-auth 0 --rate-api 0) unless the
// test passes its own. Thread: the test's thread.
#pragma once

#include <QDeadlineTimer>
#include <QProcess>
#include <QStringList>
#include <QTemporaryDir>
#include <QUrl>

namespace taskmaster::test {

class ServerProcess {
public:
    ServerProcess();
    ~ServerProcess();
    ServerProcess(const ServerProcess &) = delete;
    ServerProcess &operator=(const ServerProcess &) = delete;

    // Starts the server with extra arguments and environment entries ("NAME=value"); waits for
    // its "listening" line until the deadline. Returns false (and sets errorText()) otherwise.
    [[nodiscard]] bool start(const QStringList &extraArgs = {}, const QStringList &extraEnv = {},
                             QDeadlineTimer deadline = QDeadlineTimer(30000));
    // Stops with SIGTERM and waits; returns the exit code, or -1 when it had to be killed.
    int stop(int timeoutMs = 15000);

    [[nodiscard]] quint16 port() const { return m_port; }
    [[nodiscard]] QUrl url(const QString &path = {}) const;
    // ws://127.0.0.1:<port>/ws, with the query when given ("token=...").
    [[nodiscard]] QUrl wsUrl(const QString &query = {}) const;
    [[nodiscard]] QString dataDir() const { return m_dataDir.path(); }
    [[nodiscard]] QString errorText() const { return m_error; }
    [[nodiscard]] QByteArray output() const { return m_output; }
    [[nodiscard]] QProcess &process() { return m_process; }

    // Path of the server binary under test (from the build).
    [[nodiscard]] static QString binary();

private:
    void forwardSanitizerReport();

    QProcess m_process;
    QTemporaryDir m_dataDir;
    QByteArray m_output;
    QString m_error;
    quint16 m_port = 0;
};

} // namespace taskmaster::test
