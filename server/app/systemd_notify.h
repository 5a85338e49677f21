// SystemdNotifier: the service manager's notify protocol (sd_notify(3)) for the Type=notify units
// in packaging/systemd/: READY=1 once the server serves (migrated, listening), STOPPING=1 when the
// SIGTERM drain starts, and WATCHDOG=1 at half the unit's WatchdogSec from the event loop, so a
// loop that stops turning gets the process killed and restarted. Owns: the watchdog timer.
// Thread: main (network) thread; the pings run on its event loop on purpose.
// Not started by systemd (NOTIFY_SOCKET unset) every call does nothing, as in a build without
// libsystemd (-DTM_SYSTEMD=OFF).
#pragma once

#include <QString>
#include <QTimer>

#include <chrono>

namespace taskmaster::server {

class SystemdNotifier final {
public:
    SystemdNotifier();
    SystemdNotifier(const SystemdNotifier &) = delete;
    SystemdNotifier &operator=(const SystemdNotifier &) = delete;

    // READY=1 and STATUS=status; starts the watchdog pings when the unit has WatchdogSec
    // (WATCHDOG_USEC set for this process).
    void ready(const QString &status);
    // STOPPING=1 and STATUS=status: the drain began (the pings go on until the process exits).
    void stopping(const QString &status);
    // Half of WATCHDOG_USEC, or zero when there is no watchdog.
    [[nodiscard]] std::chrono::milliseconds watchdogInterval() const { return m_interval; }

private:
    void notify(const QByteArray &state);

    QTimer m_watchdog;
    std::chrono::milliseconds m_interval {0};
    bool m_failureLogged = false; // a failing socket would otherwise log every ping
};

} // namespace taskmaster::server
