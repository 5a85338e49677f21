// UnixSignals: turns SIGTERM/SIGINT into a Qt signal on the main thread (self-pipe + socket
// notifier, the async-signal-safe way). Owns: the signal handlers and the pipe. Thread: main.
#pragma once

#include <QObject>
#include <QSocketNotifier>

#include <memory>

namespace taskmaster::server {

class UnixSignals final : public QObject {
    Q_OBJECT
public:
    explicit UnixSignals(QObject *parent = nullptr);
    ~UnixSignals() override;

Q_SIGNALS:
    void terminateRequested(int signalNumber);

private:
    void readPipe();
    std::unique_ptr<QSocketNotifier> m_notifier;
};

} // namespace taskmaster::server
