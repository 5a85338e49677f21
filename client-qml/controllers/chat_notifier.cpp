#include "client-qml/controllers/chat_notifier.h"

#include "client-qml/controllers/mentions.h"
#include "client-qml/controllers/user_directory.h"
#include "shared/models/room_list_model.h"

#include <QApplication>
#include <QDateTime>
#include <QGuiApplication>
#include <QLoggingCategory>
#include <QSettings>
#include <QSystemTrayIcon>

#include <utility>

namespace taskmaster::client {

Q_LOGGING_CATEGORY(lcNotify, "tm.client.notify")

namespace {
const QString kDndKey = QStringLiteral("notifications/doNotDisturb");
constexpr qint64 kWaitForRoomMs = 10000; // a message waits this long for its room to be listed
constexpr int kBodyPreview = 200;
} // namespace

// ---- TrayNotificationSink -----------------------------------------------------------------------

TrayNotificationSink::TrayNotificationSink(std::function<void(Id)> activated) : m_activated(std::move(activated)) { }

TrayNotificationSink::~TrayNotificationSink() = default;

bool TrayNotificationSink::available() const
{
    // QSystemTrayIcon is a widget class: without a QApplication (tests, a QGuiApplication) none.
    return qobject_cast<QApplication *>(QCoreApplication::instance()) && QSystemTrayIcon::isSystemTrayAvailable()
        && QSystemTrayIcon::supportsMessages();
}

void TrayNotificationSink::notify(const QString &title, const QString &body, Id roomId)
{
    if (!available()) {
        if (!m_warned)
            qCInfo(lcNotify) << "no system tray that shows messages: desktop notifications are off";
        m_warned = true;
        return;
    }
    if (!m_tray) {
        m_tray = std::make_unique<QSystemTrayIcon>(QGuiApplication::windowIcon());
        QObject::connect(m_tray.get(), &QSystemTrayIcon::messageClicked, m_tray.get(), [this] {
            if (m_activated && m_lastRoom)
                m_activated(m_lastRoom);
        });
        m_tray->show();
    }
    m_lastRoom = roomId;
    m_tray->showMessage(title, body, QSystemTrayIcon::Information);
}

// ---- ChatNotifier -------------------------------------------------------------------------------

ChatNotifier::ChatNotifier(UserDirectory &users, RoomListModel &rooms, QObject *parent)
    : QObject(parent), m_users(users), m_rooms(rooms),
      m_tray(std::make_unique<TrayNotificationSink>([this](Id roomId) { Q_EMIT openRequested(roomId); })),
      m_sink(m_tray.get()), m_focused([] { return QGuiApplication::applicationState() == Qt::ApplicationActive; })
{
    connect(&m_rooms, &QAbstractItemModel::rowsInserted, this, &ChatNotifier::retryWaiting);
    connect(&m_users, &UserDirectory::learned, this, &ChatNotifier::retryWaiting);
}

ChatNotifier::~ChatNotifier() = default;

ChatNotifier::Reason ChatNotifier::decide(const Message &message, RoomKind kind, const User &self, bool windowFocused,
                                          bool doNotDisturb)
{
    if (doNotDisturb || windowFocused || self.id == 0 || message.authorId == self.id || message.deleted)
        return Reason::None;
    if (kind == RoomKind::Direct)
        return Reason::Direct;
    if (mentions::mentions(message.body, self.username))
        return Reason::Mention;
    return Reason::None;
}

void ChatNotifier::setSettingsSource(std::function<std::unique_ptr<QSettings>()> source)
{
    m_settings = std::move(source);
    const bool on = m_settings && m_settings()->value(kDndKey, false).toBool();
    if (on != m_dnd) {
        m_dnd = on;
        Q_EMIT doNotDisturbChanged();
    }
}

void ChatNotifier::setDoNotDisturb(bool on)
{
    if (on == m_dnd)
        return;
    m_dnd = on;
    if (m_settings)
        m_settings()->setValue(kDndKey, on);
    Q_EMIT doNotDisturbChanged();
}

void ChatNotifier::onEvent(const ChannelEvent &event, bool fresh)
{
    // Messages not seen before: live, or replayed after a reconnect (written while the socket was
    // down: news to the user too). A repeat of a seen one is not.
    if (!fresh || event.type != EventType::MessageCreated || !event.message)
        return;
    const Message &m = *event.message;
    if (m.authorId == m_users.self().id)
        return;
    if (!tryNotify(m)) {
        m_users.request(m.authorId);
        m_waiting.append(Waiting {m, QDateTime::currentMSecsSinceEpoch()});
    }
}

bool ChatNotifier::tryNotify(const Message &message)
{
    const auto room = m_rooms.room(message.roomId);
    const auto author = m_users.user(message.authorId);
    if (!room || !author)
        return false;
    const Reason reason = decide(message, room->kind, m_users.self(), m_focused(), m_dnd);
    if (reason == Reason::None)
        return true;
    const QString name = author->displayName.isEmpty() ? author->username : author->displayName;
    const QString title = reason == Reason::Direct ? name : tr("%1 mentioned you in #%2").arg(name, room->name);
    QString body = message.body.simplified();
    if (body.size() > kBodyPreview)
        body = body.left(kBodyPreview) + QStringLiteral("…");
    m_sink->notify(title, body, message.roomId);
    return true;
}

void ChatNotifier::retryWaiting()
{
    if (m_waiting.isEmpty())
        return;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const QList<Waiting> waiting = std::exchange(m_waiting, {});
    for (const Waiting &w : waiting) {
        if (now - w.arrivedMs > kWaitForRoomMs)
            continue; // old news by now
        if (!tryNotify(w.message))
            m_waiting.append(w);
    }
}

} // namespace taskmaster::client
