// TcpProxy: a TCP forwarder on loopback between a client under test and a dependency (PostgreSQL,
// Redis), whose link the test can cut: setLinkUp(false) closes every forwarded connection and
// closes new ones as soon as they are accepted (the client sees the dependency go away and
// refuse), setLinkUp(true) forwards again. Used to cut one server, or one pool, off a dependency
// that others keep. Owns: the listening socket, the forwarded pairs and a thread that runs them
// (poll). Thread: construct and call from any one thread; the forwarding runs on its own.
#pragma once

#include <QString>

#include <atomic>
#include <memory>
#include <thread>

namespace taskmaster::test {

class TcpProxy final {
public:
    // Listens on 127.0.0.1:listenPort (0: any free port) and forwards to targetHost:targetPort
    // (an IPv4 address). ok() is false when it could not listen.
    TcpProxy(const QString &targetHost, int targetPort, int listenPort = 0);
    ~TcpProxy();
    TcpProxy(const TcpProxy &) = delete;
    TcpProxy &operator=(const TcpProxy &) = delete;

    [[nodiscard]] bool ok() const { return m_listenFd >= 0; }
    [[nodiscard]] int port() const { return m_port; }
    // Cuts (false) or restores (true) the link; returns once existing connections are closed.
    void setLinkUp(bool up);
    [[nodiscard]] bool linkUp() const { return m_up.load(); }
    // Connections accepted so far (also those closed at once while cut).
    [[nodiscard]] int accepted() const { return m_accepted.load(); }

private:
    void run();

    int m_listenFd = -1;
    int m_port = 0;
    int m_wake[2] {-1, -1};
    quint32 m_targetAddr = 0; // network order
    int m_targetPort = 0;
    std::atomic<bool> m_up {true};
    std::atomic<bool> m_stop {false};
    std::atomic<int> m_accepted {0};
    std::atomic<quint64> m_cuts {0}; // setLinkUp(false) calls; the thread acknowledges in m_cutsDone
    std::atomic<quint64> m_cutsDone {0};
    std::thread m_thread;
};

} // namespace taskmaster::test
