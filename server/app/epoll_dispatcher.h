// EpollEventDispatcher: a Qt event dispatcher on Linux epoll for the network thread. Qt 6.4's
// UNIX dispatcher (like glib's) hands every socket notifier to ppoll() on every loop iteration,
// so each iteration costs O(open sockets): with 3,300 WebSockets per instance, 65 % of the
// server's CPU went into the kernel's poll of idle sockets (perf, docs/BENCHMARKS.md). Here
// sockets stay registered with the kernel and an iteration costs O(ready sockets).
// Level-triggered like poll; hang-up and error wake the read, write and exception notifiers as
// poll does. One wait takes up to 512 ready descriptors; the rest stay ready for the next one (the
// kernel moves reported descriptors to the end of its ready list, so none starves).
// Timers: a queue ordered by due time (precise to the millisecond for every timer type); a timer
// whose handler is running is not fired again by a nested event loop. The timers of one pass are
// collected first and each is re-checked just before it fires: a timer stopped, restarted or
// fired by a nested loop in an earlier handler of the pass, or a new timer that reuses a stopped
// one's id, waits for its own due time. Posted events are sent at the start of every iteration;
// wakeUp() writes an eventfd.
// Owns: the epoll and eventfd descriptors, the notifier and timer tables. Thread: the thread it
// is installed on (wakeUp() and interrupt() from any thread).
#pragma once

#include <QAbstractEventDispatcher>
#include <QAtomicInt>
#include <QHash>
#include <QPointer>

#include <map>

class QSocketNotifier;

namespace taskmaster::server {

class EpollEventDispatcher final : public QAbstractEventDispatcher {
    Q_OBJECT
public:
    explicit EpollEventDispatcher(QObject *parent = nullptr);
    ~EpollEventDispatcher() override;

    // False when epoll or eventfd could not be created (then do not install it).
    [[nodiscard]] bool isValid() const { return m_epoll >= 0 && m_wake >= 0; }

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;
    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;
    void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    [[nodiscard]] QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;
    void wakeUp() override;
    void interrupt() override;

private:
    struct Fd {
        QSocketNotifier *read = nullptr;
        QSocketNotifier *write = nullptr;
        QSocketNotifier *exception = nullptr;
        quint32 events = 0; // as registered with epoll
    };
    struct Timer {
        int id = 0;
        qint64 intervalMs = 0;
        Qt::TimerType type = Qt::CoarseTimer;
        QObject *object = nullptr;
        qint64 dueMs = 0;
        bool running = false; // its handler is on the stack
        quint64 serial = 0; // which registration of this id (ids are reused after killTimer)
        std::multimap<qint64, int>::iterator queued;
    };
    void updateFd(int fd, Fd &entry);
    int activateTimers();
    int timeoutMs() const; // for epoll_wait: -1 without timers
    void schedule(Timer &t, qint64 dueMs);

    int m_epoll = -1;
    int m_wake = -1;
    QAtomicInt m_wakePending = 0;
    QAtomicInt m_interrupted = 0;
    QHash<int, Fd> m_fds;
    QHash<int, Timer> m_timers;
    std::multimap<qint64, int> m_queue; // due time -> timer id
    quint64 m_nextSerial = 0;
};

// Installs an EpollEventDispatcher for the main thread unless TM_EVENT_DISPATCHER=poll; call
// before the QCoreApplication is created. Returns the name of the dispatcher that will run.
const char *installMainEventDispatcher();

} // namespace taskmaster::server
