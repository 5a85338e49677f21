// Outbox: the user's messages sent and not acknowledged yet. A send is pending until its ack (or
// its own `message` event) arrives; it goes out when the session is welcomed and again after every
// reconnect (same clientId: the server dedupes); without an ack for sendTimeoutMs it turns failed
// and stays so until the user retries (same clientId again) or discards it. The rows the user sees
// are the open room's MessageListModel's; ChatController keeps them in step from the signals.
// Owns: the pending and failed sends, which frame carried each, the timeout timer.
// Thread: the GUI thread.
#pragma once

#include "shared/codec/ws_frames.h"
#include "shared/domain/types.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QTimer>
#include <QtQmlIntegration/qqmlintegration.h>

namespace taskmaster::client {

class RealtimeSession;

class Outbox final : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("provided by Connection")
    // Sends not acknowledged yet (pending or failed), over all rooms.
    Q_PROPERTY(int pendingCount READ pendingCount NOTIFY pendingChanged)

public:
    struct Entry {
        Id roomId = 0;
        QString body;
        QString clientId;
        bool failed = false;
    };

    explicit Outbox(RealtimeSession &realtime, QObject *parent = nullptr);
    ~Outbox() override;

    [[nodiscard]] int pendingCount() const { return static_cast<int>(m_sends.size()); }
    [[nodiscard]] QList<Entry> inRoom(Id roomId) const;
    // Every send not acknowledged yet (for the local store), oldest first.
    [[nodiscard]] QList<Entry> entries() const;
    // Sends of an earlier run (from the local store), pending again with their clientId: they go
    // out with the next welcome (now if welcomed) and the server dedupes a repeat.
    void restore(const QList<Entry> &entries);
    // A send without ack for this long turns failed (default 15 s, at least 100 ms).
    void setSendTimeoutMs(int ms) { m_timeoutMs = std::max(100, ms); }

    // Queues a message (transmitted at once when welcomed); returns its new clientId.
    QString queue(Id roomId, const QString &body);
    // A failed (or pending) send: pending again, transmitted again with the same clientId.
    Q_INVOKABLE void retry(const QString &clientId);
    Q_INVOKABLE void discard(const QString &clientId);

    // From the session: everything not failed goes out (after a welcome); frames were lost (the
    // socket closed); an ack or error frame; the `message` event of one of our sends arrived.
    void transmitAll();
    void onSocketLost();
    [[nodiscard]] bool onAck(const ws::Ack &ack); // false: not the ack of a send of ours
    void onError(const ws::ErrorFrame &error);
    void settle(const QString &clientId);
    void clear();

Q_SIGNALS:
    void pendingChanged();
    void acknowledged(const QString &clientId, const taskmaster::Message &message);
    void failed(qint64 roomId, const QString &clientId);
    void retried(qint64 roomId, const QString &clientId, const QString &body);
    void discarded(qint64 roomId, const QString &clientId);

private:
    struct Send : Entry {
        qint64 frameId = 0; // of the last transmission, 0 when not transmitted
        qint64 sentAtMs = 0;
        qint64 order = 0; // queued as the order-th send of this run
    };
    void transmit(Send &send);
    void checkTimeouts();
    void markFailed(Send &send);

    RealtimeSession &m_realtime;
    QHash<QString, Send> m_sends; // by clientId, in no order
    QHash<qint64, QString> m_frames; // frame id -> clientId
    QTimer m_timer;
    QElapsedTimer m_clock;
    int m_timeoutMs = 15000;
    qint64 m_order = 0;
};

} // namespace taskmaster::client
