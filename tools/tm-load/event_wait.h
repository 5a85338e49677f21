// waitUntil(): runs the calling thread's event loop until a condition holds or a deadline
// passes (poll-with-deadline, checked every few milliseconds). tm-load's main thread drives its
// phases top to bottom with it. Thread: the caller's (it must have an event dispatcher).
#pragma once

#include <QDeadlineTimer>
#include <QEventLoop>
#include <QTimer>

#include <algorithm>

namespace taskmaster::load {

// True when cond() held before the deadline.
template<typename Cond> bool waitUntil(Cond cond, QDeadlineTimer deadline, int sliceMs = 10)
{
    while (!cond()) {
        if (deadline.hasExpired())
            return false;
        QEventLoop loop;
        const qint64 left = deadline.isForever() ? sliceMs : std::max<qint64>(1, deadline.remainingTime());
        QTimer::singleShot(int(std::min<qint64>(sliceMs, left)), &loop, &QEventLoop::quit);
        loop.exec();
    }
    return true;
}

// Runs the event loop for `ms` milliseconds.
inline void runEventsFor(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

} // namespace taskmaster::load
