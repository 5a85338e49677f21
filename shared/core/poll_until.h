// pollUntil: waits for a condition that no signal announces (sockets gone, the database idle, a
// relay flushed) by checking it every intervalMs, at most timeoutMs, then goes on once. The
// drains of the hub and of the server wait so.
// Owns: its timer, a child of context (gone with it: then never runs). Thread: context's.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <functional>
#include <memory>

namespace taskmaster {

// Checks ready every intervalMs until it holds or timeoutMs passed since the call, then calls
// then(elapsedMs, timedOut) once (timedOut: ready did not hold).
inline void pollUntil(QObject *context, int intervalMs, qint64 timeoutMs, std::function<bool()> ready,
                      std::function<void(qint64 elapsedMs, bool timedOut)> then)
{
    auto *timer = new QTimer(context);
    auto started = std::make_shared<QElapsedTimer>();
    started->start();
    timer->setInterval(intervalMs);
    QObject::connect(timer, &QTimer::timeout, context,
                     [timer, started, timeoutMs, ready = std::move(ready), then = std::move(then)] {
                         const bool isReady = ready();
                         if (!isReady && started->elapsed() < timeoutMs)
                             return;
                         timer->stop();
                         timer->deleteLater();
                         then(started->elapsed(), !isReady);
                     });
    timer->start();
}

} // namespace taskmaster
