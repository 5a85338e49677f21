// tm-tcp-proxy: TcpProxy (tcp_proxy.h) as a process, for drills where another process (a cluster
// instance) must reach a dependency through a link that the drill cuts.
//   tm-tcp-proxy --target HOST:PORT [--listen PORT]
// Prints the port it listens on ("listening PORT") and runs until SIGTERM/SIGINT. SIGUSR1 cuts the
// link (every forwarded connection closed, new ones closed at once), SIGUSR2 restores it.
// Thread: main waits for signals; the forwarding runs on the proxy's thread.
#include "tests/support/tcp_proxy.h"

#include <QString>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <pthread.h>

int main(int argc, char **argv)
{
    QString target;
    int listen = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--target") == 0)
            target = QString::fromLocal8Bit(argv[i + 1]);
        else if (std::strcmp(argv[i], "--listen") == 0)
            listen = std::atoi(argv[i + 1]);
    }
    const qsizetype colon = target.lastIndexOf(QLatin1Char(':'));
    if (colon <= 0) {
        std::fprintf(stderr, "usage: tm-tcp-proxy --target HOST:PORT [--listen PORT]\n");
        return 2;
    }
    // Blocked before the forwarding thread starts, so only sigwait() below sees them.
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGUSR1, SIGUSR2, SIGTERM, SIGINT})
        sigaddset(&set, s);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    taskmaster::test::TcpProxy proxy(target.left(colon), target.mid(colon + 1).toInt(), listen);
    if (!proxy.ok()) {
        std::fprintf(stderr, "tm-tcp-proxy: cannot listen\n");
        return 1;
    }
    std::printf("listening %d\n", proxy.port());
    std::fflush(stdout);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGUSR1)
            proxy.setLinkUp(false);
        else if (sig == SIGUSR2)
            proxy.setLinkUp(true);
        else
            break;
        std::printf("link %s\n", proxy.linkUp() ? "up" : "cut");
        std::fflush(stdout);
    }
    return 0;
}
