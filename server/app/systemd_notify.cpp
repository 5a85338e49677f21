#include "server/app/systemd_notify.h"

#include "server/log/json_log.h"

#include <QJsonObject>

#ifdef TM_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include <cstring>

namespace taskmaster::server {

SystemdNotifier::SystemdNotifier()
{
#ifdef TM_HAVE_SYSTEMD
    uint64_t usec = 0;
    // > 0 only when WATCHDOG_USEC is set (and WATCHDOG_PID, if set, is this process).
    if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000)
        m_interval = std::chrono::milliseconds(usec / 2000);
#endif
    m_watchdog.setTimerType(Qt::CoarseTimer);
    QObject::connect(&m_watchdog, &QTimer::timeout, [this] { notify("WATCHDOG=1"); });
}

void SystemdNotifier::ready(const QString &status)
{
    notify("READY=1\nSTATUS=" + status.toUtf8());
    if (m_interval.count() > 0 && !m_watchdog.isActive()) {
        logEvent(lcServer(), QtInfoMsg, QStringLiteral("systemd watchdog"),
                 {{QStringLiteral("intervalMs"), qint64(m_interval.count())}});
        m_watchdog.start(m_interval);
    }
}

void SystemdNotifier::stopping(const QString &status)
{
    notify("STOPPING=1\nSTATUS=" + status.toUtf8());
}

void SystemdNotifier::notify(const QByteArray &state)
{
#ifdef TM_HAVE_SYSTEMD
    // 0 without NOTIFY_SOCKET (not under systemd): nothing sent, nothing to say.
    const int sent = sd_notify(0, state.constData());
    if (sent < 0 && !m_failureLogged) {
        m_failureLogged = true;
        logEvent(lcServer(), QtWarningMsg, QStringLiteral("systemd notify failed"),
                 {{QStringLiteral("state"), QString::fromUtf8(state.left(state.indexOf('\n')))},
                  {QStringLiteral("error"), QString::fromLocal8Bit(std::strerror(-sent))}});
    }
#else
    Q_UNUSED(state);
#endif
}

} // namespace taskmaster::server
