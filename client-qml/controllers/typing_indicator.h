// TypingIndicator: who is typing in the open room ("Alice is typing…"), from the rooms' typing
// frames (shown for 6 s after the last one, or until that user's message arrives), and the
// user's own typing told to the open room (at most one frame per room every 3 s).
// Owns: the typing users of every room with their expiry, the time of the last frame sent per
// room, the expiry timer. Thread: the GUI thread.
#pragma once

#include "shared/codec/ws_frames.h"
#include "shared/domain/types.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QTimer>
#include <QtQmlIntegration/qqmlintegration.h>

namespace taskmaster::client {

class ChatController;
class RealtimeSession;
class UserDirectory;

class TypingIndicator final : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("provided by Connection")
    // Who is typing in the open room, ready to show ("Alice is typing…"), "" when nobody.
    Q_PROPERTY(QString text READ text NOTIFY changed)

public:
    TypingIndicator(RealtimeSession &realtime, UserDirectory &users, ChatController &chat, QObject *parent = nullptr);
    ~TypingIndicator() override;

    [[nodiscard]] QString text() const;
    // The user is typing in the open room (the composer calls it on every change).
    Q_INVOKABLE void notify();

    void onTyping(const ws::TypingEvent &typing);
    // A room event: a message ends its author's typing.
    void onEvent(const ChannelEvent &event, bool fresh);
    void clear();

Q_SIGNALS:
    void changed();

private:
    void prune();

    RealtimeSession &m_realtime;
    UserDirectory &m_users;
    ChatController &m_chat;
    QElapsedTimer m_clock;
    QHash<Id, QHash<Id, qint64>> m_typing; // room -> user -> expiry (m_clock ms)
    QTimer m_timer;
    QHash<Id, qint64> m_lastSent; // room -> m_clock ms
};

} // namespace taskmaster::client
