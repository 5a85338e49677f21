#include "client-qml/controllers/typing_indicator.h"

#include "client-qml/controllers/chat_controller.h"
#include "client-qml/controllers/user_directory.h"
#include "client-qml/net/realtime_session.h"

namespace taskmaster::client {

namespace {
constexpr int kTypingSendMs = 3000;
constexpr int kTypingShowMs = 6000;
} // namespace

TypingIndicator::TypingIndicator(RealtimeSession &realtime, UserDirectory &users, ChatController &chat, QObject *parent)
    : QObject(parent), m_realtime(realtime), m_users(users), m_chat(chat)
{
    m_clock.start();
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, &TypingIndicator::prune);
    connect(&m_chat, &ChatController::roomChanged, this, &TypingIndicator::changed);
}

TypingIndicator::~TypingIndicator() = default;

void TypingIndicator::notify()
{
    const Id roomId = m_chat.roomId();
    if (roomId == 0 || !m_realtime.isWelcomed())
        return;
    const qint64 now = m_clock.elapsed();
    const auto last = m_lastSent.constFind(roomId);
    if (last != m_lastSent.cend() && now - *last < kTypingSendMs)
        return;
    m_lastSent.insert(roomId, now);
    m_realtime.send(ws::Typing {roomId});
}

void TypingIndicator::onTyping(const ws::TypingEvent &t)
{
    if (t.userId == m_users.self().id)
        return;
    m_typing[t.roomId][t.userId] = m_clock.elapsed() + kTypingShowMs;
    if (!m_timer.isActive())
        m_timer.start();
    if (t.roomId == m_chat.roomId())
        Q_EMIT changed();
}

void TypingIndicator::onEvent(const ChannelEvent &e, bool fresh)
{
    const Id roomId = e.channel.id;
    if (e.type != EventType::MessageCreated || !e.message || !fresh || !m_typing.contains(roomId))
        return;
    if (m_typing[roomId].remove(e.message->authorId) && roomId == m_chat.roomId())
        Q_EMIT changed();
}

QString TypingIndicator::text() const
{
    const auto it = m_typing.constFind(m_chat.roomId());
    if (it == m_typing.cend() || it->isEmpty())
        return {};
    QStringList names;
    for (auto u = it->cbegin(); u != it->cend(); ++u) {
        const auto user = m_users.user(u.key());
        names << (user ? user->displayName : tr("Someone"));
    }
    names.sort();
    if (names.size() == 1)
        return tr("%1 is typing…").arg(names.first());
    if (names.size() == 2)
        return tr("%1 and %2 are typing…").arg(names.at(0), names.at(1));
    return tr("%n people are typing…", nullptr, int(names.size()));
}

void TypingIndicator::prune()
{
    const qint64 now = m_clock.elapsed();
    const Id open = m_chat.roomId();
    bool changedOpen = false;
    for (auto room = m_typing.begin(); room != m_typing.end();) {
        for (auto u = room->begin(); u != room->end();) {
            if (u.value() <= now) {
                changedOpen = changedOpen || room.key() == open;
                u = room->erase(u);
            } else {
                ++u;
            }
        }
        room = room->isEmpty() ? m_typing.erase(room) : std::next(room);
    }
    if (m_typing.isEmpty())
        m_timer.stop();
    if (changedOpen)
        Q_EMIT changed();
}

void TypingIndicator::clear()
{
    m_typing.clear();
    m_timer.stop();
    Q_EMIT changed();
}

} // namespace taskmaster::client
