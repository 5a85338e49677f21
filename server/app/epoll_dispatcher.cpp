#include "server/app/epoll_dispatcher.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTimerEvent>

#include <cerrno>
#include <ctime>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace taskmaster::server {

namespace {
qint64 nowMs()
{
    timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}
} // namespace

EpollEventDispatcher::EpollEventDispatcher(QObject *parent) : QAbstractEventDispatcher(parent)
{
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    m_wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m_epoll >= 0 && m_wake >= 0) {
        epoll_event ev {};
        ev.events = EPOLLIN;
        ev.data.fd = m_wake;
        if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake, &ev) != 0) {
            ::close(m_wake);
            m_wake = -1;
        }
    }
}

EpollEventDispatcher::~EpollEventDispatcher()
{
    if (m_wake >= 0)
        ::close(m_wake);
    if (m_epoll >= 0)
        ::close(m_epoll);
}

void EpollEventDispatcher::updateFd(int fd, Fd &entry)
{
    quint32 events = 0;
    if (entry.read)
        events |= EPOLLIN;
    if (entry.write)
        events |= EPOLLOUT;
    if (entry.exception)
        events |= EPOLLPRI;
    if (events == entry.events)
        return;
    epoll_event ev {};
    ev.events = events;
    ev.data.fd = fd;
    if (events == 0) {
        ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, &ev);
    } else if (entry.events == 0) {
        if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
            ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &ev);
    } else if (::epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT) {
        // The descriptor was closed and reused behind our back: register it afresh.
        ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev);
    }
    entry.events = events;
}

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    const int fd = int(notifier->socket());
    Fd &entry = m_fds[fd];
    switch (notifier->type()) {
    case QSocketNotifier::Read:
        entry.read = notifier;
        break;
    case QSocketNotifier::Write:
        entry.write = notifier;
        break;
    case QSocketNotifier::Exception:
        entry.exception = notifier;
        break;
    }
    updateFd(fd, entry);
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    const int fd = int(notifier->socket());
    auto it = m_fds.find(fd);
    if (it == m_fds.end())
        return;
    if (it->read == notifier)
        it->read = nullptr;
    if (it->write == notifier)
        it->write = nullptr;
    if (it->exception == notifier)
        it->exception = nullptr;
    updateFd(fd, *it);
    if (!it->read && !it->write && !it->exception)
        m_fds.erase(it);
}

void EpollEventDispatcher::schedule(Timer &t, qint64 dueMs)
{
    if (t.queued != m_queue.end())
        m_queue.erase(t.queued);
    t.dueMs = dueMs;
    t.queued = m_queue.emplace(dueMs, t.id);
}

void EpollEventDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object)
{
    auto existing = m_timers.find(timerId);
    if (existing != m_timers.end() && existing->queued != m_queue.end())
        m_queue.erase(existing->queued);
    Timer &t = m_timers[timerId];
    t.id = timerId;
    t.intervalMs = std::max<qint64>(0, interval);
    t.type = timerType;
    t.object = object;
    t.running = false;
    t.serial = ++m_nextSerial;
    t.queued = m_queue.end();
    schedule(t, nowMs() + t.intervalMs);
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    auto it = m_timers.find(timerId);
    if (it == m_timers.end())
        return false;
    if (it->queued != m_queue.end())
        m_queue.erase(it->queued);
    m_timers.erase(it);
    return true;
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    bool any = false;
    for (auto it = m_timers.begin(); it != m_timers.end();) {
        if (it->object == object) {
            if (it->queued != m_queue.end())
                m_queue.erase(it->queued);
            it = m_timers.erase(it);
            any = true;
        } else {
            ++it;
        }
    }
    return any;
}

QList<QAbstractEventDispatcher::TimerInfo> EpollEventDispatcher::registeredTimers(QObject *object) const
{
    QList<TimerInfo> out;
    for (const Timer &t : m_timers) {
        if (t.object == object)
            out.append(TimerInfo(t.id, int(t.intervalMs), t.type));
    }
    return out;
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    auto it = m_timers.find(timerId);
    if (it == m_timers.end())
        return -1;
    return int(std::max<qint64>(0, it->dueMs - nowMs()));
}

void EpollEventDispatcher::wakeUp()
{
    if (m_wakePending.testAndSetAcquire(0, 1)) {
        const quint64 one = 1;
        [[maybe_unused]] const ssize_t n = ::write(m_wake, &one, sizeof one);
    }
}

void EpollEventDispatcher::interrupt()
{
    m_interrupted.storeRelaxed(1);
    wakeUp();
}

int EpollEventDispatcher::timeoutMs() const
{
    for (const auto &[due, id] : m_queue) {
        const auto it = m_timers.constFind(id);
        if (it == m_timers.cend() || it->running)
            continue; // a handler on the stack (nested loop): not due again until it returns
        const qint64 wait = due - nowMs();
        return int(std::clamp<qint64>(wait, 0, 24 * 3600 * 1000));
    }
    return -1;
}

int EpollEventDispatcher::activateTimers()
{
    const qint64 now = nowMs();
    struct Due {
        int id;
        quint64 serial;
    };
    QList<Due> due;
    for (auto it = m_queue.begin(); it != m_queue.end() && it->first <= now; ++it)
        due.append({it->second, m_timers.value(it->second).serial});
    int fired = 0;
    for (const Due &d : std::as_const(due)) {
        auto it = m_timers.find(d.id);
        // An earlier handler of this pass may have stopped it, restarted it (a new serial), let a
        // nested loop fire it (due again later), or stopped it and started a new timer that got
        // the same id: each of those waits for its own due time.
        if (it == m_timers.end() || it->serial != d.serial || it->running || it->dueMs > now)
            continue;
        // Next due time keeps the phase, without a catch-up burst after a stall.
        qint64 next = it->dueMs + it->intervalMs;
        if (next <= now)
            next = now + it->intervalMs;
        schedule(*it, next);
        it->running = true;
        QObject *object = it->object;
        QTimerEvent event(d.id);
        QCoreApplication::sendEvent(object, &event);
        ++fired;
        auto again = m_timers.find(d.id); // the handler may have stopped or restarted it
        if (again != m_timers.end() && again->serial == d.serial)
            again->running = false;
    }
    return fired;
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_interrupted.storeRelaxed(0);
    Q_EMIT awake();
    QCoreApplication::sendPostedEvents();
    const bool wait = (flags & QEventLoop::WaitForMoreEvents) && !m_interrupted.loadRelaxed();
    int timeout = 0;
    if (wait) {
        Q_EMIT aboutToBlock();
        timeout = timeoutMs();
    }
    constexpr int kBatch = 512;
    epoll_event events[kBatch];
    int n = ::epoll_wait(m_epoll, events, kBatch, timeout);
    if (n < 0)
        n = 0; // EINTR
    int handled = 0;
    struct Ready {
        QPointer<QSocketNotifier> notifier;
    };
    QList<Ready> ready;
    ready.reserve(n);
    for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == m_wake) {
            quint64 value = 0;
            [[maybe_unused]] const ssize_t r = ::read(m_wake, &value, sizeof value);
            m_wakePending.storeRelease(0);
            continue;
        }
        if (flags & QEventLoop::ExcludeSocketNotifiers)
            continue;
        const auto it = m_fds.constFind(fd);
        if (it == m_fds.cend())
            continue;
        const quint32 e = events[i].events;
        const bool broken = e & (EPOLLERR | EPOLLHUP);
        if (it->read && (e & EPOLLIN || broken))
            ready.append({it->read});
        if (it->write && (e & EPOLLOUT || broken))
            ready.append({it->write});
        if (it->exception && (e & EPOLLPRI || broken))
            ready.append({it->exception});
    }
    for (const Ready &r : std::as_const(ready)) {
        QSocketNotifier *notifier = r.notifier.data();
        if (!notifier || !notifier->isEnabled())
            continue; // gone or switched off by an earlier handler of this batch
        QEvent event(QEvent::SockAct);
        QCoreApplication::sendEvent(notifier, &event);
        ++handled;
    }
    if (!(flags & QEventLoop::X11ExcludeTimers))
        handled += activateTimers();
    return handled > 0;
}

const char *installMainEventDispatcher()
{
    if (qgetenv("TM_EVENT_DISPATCHER") == "poll")
        return "poll";
    auto *dispatcher = new EpollEventDispatcher;
    if (!dispatcher->isValid()) {
        delete dispatcher;
        return "poll";
    }
    QCoreApplication::setEventDispatcher(dispatcher);
    return "epoll";
}

} // namespace taskmaster::server
