// NotifySocket: what systemd listens on for sd_notify(3), for tests that play the service
// manager: a bound AF_UNIX datagram socket at a path (give it to the server as NOTIFY_SOCKET);
// one datagram per notification. Thread: the test's thread.
#pragma once

#include <QByteArray>
#include <QDeadlineTimer>
#include <QString>

#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace taskmaster::test {

class NotifySocket {
public:
    explicit NotifySocket(const QString &path) : m_fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0))
    {
        sockaddr_un addr {};
        addr.sun_family = AF_UNIX;
        const QByteArray p = path.toLocal8Bit();
        if (m_fd < 0 || p.size() >= qsizetype(sizeof addr.sun_path))
            return;
        std::memcpy(addr.sun_path, p.constData(), size_t(p.size()));
        m_bound = ::bind(m_fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0;
    }
    ~NotifySocket()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    NotifySocket(const NotifySocket &) = delete;
    NotifySocket &operator=(const NotifySocket &) = delete;

    [[nodiscard]] bool bound() const { return m_bound; }

    // The next datagram, or an empty one when none came before the deadline.
    QByteArray next(QDeadlineTimer deadline)
    {
        pollfd p {m_fd, POLLIN, 0};
        if (::poll(&p, 1, int(qMax<qint64>(0, deadline.remainingTime()))) != 1)
            return {};
        char buf[4096];
        const ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
        return n > 0 ? QByteArray(buf, n) : QByteArray();
    }

private:
    int m_fd = -1;
    bool m_bound = false;
};

} // namespace taskmaster::test
