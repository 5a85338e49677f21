#include "tests/support/tcp_proxy.h"

#include <QThread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace taskmaster::test {

namespace {
struct Pair {
    int client = -1;
    int server = -1;
};

void closePair(Pair &p)
{
    if (p.client >= 0)
        ::close(p.client);
    if (p.server >= 0)
        ::close(p.server);
    p.client = p.server = -1;
}

// Copies what is readable on `from` to `to` (blocking write: loopback, small volumes). False at
// end of stream or on an error.
bool pump(int from, int to)
{
    char buf[16384];
    const ssize_t n = ::read(from, buf, sizeof buf);
    if (n <= 0)
        return false;
    for (ssize_t off = 0; off < n;) {
        const ssize_t w = ::write(to, buf + off, size_t(n - off));
        if (w <= 0)
            return false;
        off += w;
    }
    return true;
}
} // namespace

TcpProxy::TcpProxy(const QString &targetHost, int targetPort, int listenPort) : m_targetPort(targetPort)
{
    in_addr a {};
    if (::inet_pton(AF_INET, targetHost.toLatin1().constData(), &a) != 1)
        return;
    m_targetAddr = a.s_addr;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(quint16(listenPort));
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0
        || ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) != 0 || ::pipe2(m_wake, O_CLOEXEC) != 0) {
        ::close(fd);
        return;
    }
    m_port = ntohs(addr.sin_port);
    m_listenFd = fd;
    m_thread = std::thread([this] { run(); });
}

TcpProxy::~TcpProxy()
{
    if (m_listenFd < 0)
        return;
    m_stop = true;
    const char c = 's';
    (void)!::write(m_wake[1], &c, 1);
    m_thread.join();
    ::close(m_listenFd);
    ::close(m_wake[0]);
    ::close(m_wake[1]);
}

void TcpProxy::setLinkUp(bool up)
{
    if (m_listenFd < 0)
        return;
    m_up = up;
    if (up)
        return;
    const quint64 cut = ++m_cuts;
    const char c = 'c';
    (void)!::write(m_wake[1], &c, 1);
    while (m_cutsDone.load() < cut) // the forwarding thread closes the pairs at once
        QThread::msleep(1);
}

void TcpProxy::run()
{
    std::vector<Pair> pairs;
    std::vector<pollfd> fds;
    while (!m_stop) {
        fds.clear();
        fds.push_back({m_wake[0], POLLIN, 0});
        fds.push_back({m_listenFd, POLLIN, 0});
        for (const Pair &p : pairs) {
            fds.push_back({p.client, POLLIN, 0});
            fds.push_back({p.server, POLLIN, 0});
        }
        if (::poll(fds.data(), nfds_t(fds.size()), -1) < 0)
            continue;
        if (fds[0].revents & POLLIN) {
            char buf[64];
            (void)!::read(m_wake[0], buf, sizeof buf);
        }
        const quint64 cuts = m_cuts.load();
        if (!m_up) {
            for (Pair &p : pairs)
                closePair(p);
            pairs.clear();
        }
        m_cutsDone = cuts;
        if (m_stop)
            break;
        if (fds[1].revents & POLLIN) {
            const int c = ::accept4(m_listenFd, nullptr, nullptr, SOCK_CLOEXEC);
            if (c >= 0) {
                ++m_accepted;
                int s = -1;
                if (m_up) {
                    s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                    sockaddr_in t {};
                    t.sin_family = AF_INET;
                    t.sin_addr.s_addr = m_targetAddr;
                    t.sin_port = htons(quint16(m_targetPort));
                    if (s >= 0 && ::connect(s, reinterpret_cast<sockaddr *>(&t), sizeof t) != 0) {
                        ::close(s);
                        s = -1;
                    }
                }
                if (s < 0)
                    ::close(c);
                else
                    pairs.push_back({c, s});
            }
        }
        // Pairs as they were polled (fds[2 + 2i], fds[3 + 2i]); accepted ones come after them.
        const size_t polled = (fds.size() - 2) / 2;
        for (size_t i = 0; i < polled && i < pairs.size(); ++i) {
            Pair &p = pairs[i];
            bool alive = true;
            if (fds[2 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR))
                alive = pump(p.client, p.server);
            if (alive && (fds[3 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR)))
                alive = pump(p.server, p.client);
            if (!alive)
                closePair(p);
        }
        std::erase_if(pairs, [](const Pair &p) { return p.client < 0; });
    }
    for (Pair &p : pairs)
        closePair(p);
}

} // namespace taskmaster::test
