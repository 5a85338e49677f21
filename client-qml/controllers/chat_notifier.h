// ChatNotifier: desktop notifications for chat. A fresh message by someone else notifies when it
// is in a direct room or mentions the user (`@username`), the window is not focused and
// do-not-disturb is off; the decision is decide(), a pure function. The notification goes to a
// NotificationSink: the app's shows it through the system tray (TrayNotificationSink), tests
// record the calls. Do-not-disturb is kept in the settings file. A message of a room the list
// does not know yet (a direct room just opened by the other user: its member_joined events come
// first, its Room over REST later), or by an author whose name is not loaded yet, waits until
// both are known, for a few seconds at most.
// Owns: the default sink, the waiting messages. Thread: the GUI thread.
#pragma once

#include "shared/domain/types.h"

#include <QDateTime>
#include <QList>
#include <QObject>
#include <QtQmlIntegration/qqmlintegration.h>

#include <functional>
#include <memory>

class QSettings;
class QSystemTrayIcon;

namespace taskmaster {
class RoomListModel;
}

namespace taskmaster::client {

class UserDirectory;

// Shows one notification. Implementations decide how; they need not be able to (available()).
class NotificationSink {
public:
    virtual ~NotificationSink() = default;
    // Whether notify() can show anything here (no tray, no QApplication: false).
    [[nodiscard]] virtual bool available() const = 0;
    virtual void notify(const QString &title, const QString &body, Id roomId) = 0;
};

// QSystemTrayIcon::showMessage, when the application is a QApplication and the platform has a
// tray that shows messages; otherwise nothing (one log line says why). Clicking the message
// calls the activated callback with its room.
class TrayNotificationSink final : public NotificationSink {
public:
    explicit TrayNotificationSink(std::function<void(Id roomId)> activated);
    ~TrayNotificationSink() override;
    [[nodiscard]] bool available() const override;
    void notify(const QString &title, const QString &body, Id roomId) override;

private:
    std::function<void(Id)> m_activated;
    std::unique_ptr<QSystemTrayIcon> m_tray; // made on the first notification
    Id m_lastRoom = 0;
    bool m_warned = false;
};

class ChatNotifier final : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("provided by Connection")
    Q_PROPERTY(bool doNotDisturb READ doNotDisturb WRITE setDoNotDisturb NOTIFY doNotDisturbChanged)
    // Whether notifications can show on this system (the switch says so when they cannot).
    Q_PROPERTY(bool available READ available CONSTANT)

public:
    enum class Reason { None, Mention, Direct };
    Q_ENUM(Reason)

    ChatNotifier(UserDirectory &users, RoomListModel &rooms, QObject *parent = nullptr);
    ~ChatNotifier() override;

    // Whether a message notifies (see the header comment). kind: its room's.
    [[nodiscard]] static Reason decide(const Message &message, RoomKind kind, const User &self, bool windowFocused,
                                       bool doNotDisturb);

    // The sink to use instead of the tray (not owned; nullptr: the tray again): tests.
    void setSink(NotificationSink *sink) { m_sink = sink ? sink : m_tray.get(); }
    // Whether the window has the focus (default: the application is active): tests.
    void setFocusProbe(std::function<bool()> probe) { m_focused = std::move(probe); }
    // Where do-not-disturb is kept; the value is read from it at once.
    void setSettingsSource(std::function<std::unique_ptr<QSettings>()> source);

    [[nodiscard]] bool doNotDisturb() const { return m_dnd; }
    void setDoNotDisturb(bool on);
    [[nodiscard]] bool available() const { return m_sink->available(); }

    void onEvent(const ChannelEvent &event, bool fresh);
    void clear() { m_waiting.clear(); }

Q_SIGNALS:
    void doNotDisturbChanged();
    // A notification was clicked: show its room.
    void openRequested(qint64 roomId);

private:
    // Decides and notifies when the room and the author's name are known (true), else false.
    bool tryNotify(const Message &message);
    // The waiting messages again (a room or a name arrived), dropping the ones waiting too long.
    void retryWaiting();

    UserDirectory &m_users;
    RoomListModel &m_rooms;
    std::unique_ptr<TrayNotificationSink> m_tray;
    NotificationSink *m_sink = nullptr;
    std::function<bool()> m_focused;
    std::function<std::unique_ptr<QSettings>()> m_settings;
    bool m_dnd = false;
    struct Waiting {
        Message message;
        qint64 arrivedMs = 0;
    };
    QList<Waiting> m_waiting; // messages whose room or author name is not known yet
};

} // namespace taskmaster::client
