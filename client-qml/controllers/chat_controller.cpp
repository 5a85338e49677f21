#include "client-qml/controllers/chat_controller.h"

#include "client-qml/controllers/rooms_controller.h"
#include "client-qml/controllers/user_directory.h"
#include "client-qml/net/outbox.h"
#include "client-qml/net/realtime_session.h"
#include "client-qml/net/rest_client.h"
#include "client-qml/store/local_store.h"

#include <QLoggingCategory>

#include <algorithm>

Q_LOGGING_CATEGORY(lcChat, "tm.client.chat", QtInfoMsg)

namespace taskmaster::client {

namespace {
constexpr int kHistoryPage = 50;
}

ChatController::ChatController(RestClient &rest, RealtimeSession &realtime, Outbox &outbox, UserDirectory &users,
                               RoomsController &rooms, QObject *parent)
    : QObject(parent), m_rest(rest), m_realtime(realtime), m_outbox(outbox), m_users(users), m_rooms(rooms)
{
    m_timeline.setSourceModel(&m_messages);

    // The message model asks for pages and for missing seqs; answer outside its signal.
    connect(
        &m_messages, &MessageListModel::fetchOlderRequested, this,
        [this](qint64 beforeSeq) { loadHistory(m_roomId, beforeSeq); }, Qt::QueuedConnection);
    connect(
        &m_messages, &MessageListModel::gapDetected, this,
        [this](qint64 from, qint64 to) {
            if (m_roomId != 0)
                m_realtime.requestHistory(Channel::room(m_roomId), from - 1, int(std::min<qint64>(to - from + 1, 200)));
        },
        Qt::QueuedConnection);

    connect(&m_rooms, &RoomsController::roomsUpdated, this, [this](qint64 roomId) {
        if (m_roomId != 0 && (roomId == 0 || roomId == m_roomId))
            Q_EMIT roomChanged(); // the name may have arrived
    });
    connect(&m_rooms, &RoomsController::roomLeft, this, [this](qint64 roomId) {
        if (roomId == m_roomId)
            closeRoom();
    });

    // The open room's rows of the user's sends follow the Outbox.
    connect(&m_outbox, &Outbox::acknowledged, this, [this](const QString &clientId, const Message &message) {
        if (message.roomId == m_roomId)
            m_messages.acknowledge(clientId, message);
        if (m_store)
            m_store->saveMessages(message.roomId, {message});
    });
    connect(&m_outbox, &Outbox::failed, this, [this](qint64 roomId, const QString &clientId) {
        if (roomId == m_roomId)
            m_messages.markFailed(clientId);
    });
    connect(&m_outbox, &Outbox::retried, this, [this](qint64 roomId, const QString &clientId, const QString &body) {
        if (roomId == m_roomId)
            m_messages.addPending(clientId, body, m_users.self().id);
    });
    connect(&m_outbox, &Outbox::discarded, this, [this](qint64 roomId, const QString &clientId) {
        if (roomId == m_roomId)
            m_messages.discardPending(clientId);
    });
}

ChatController::~ChatController() = default;

QString ChatController::roomName() const
{
    const auto room = m_rooms.model()->room(m_roomId);
    return room ? room->name : QString();
}

void ChatController::openRoom(qint64 roomId)
{
    if (roomId == m_roomId)
        return;
    m_roomId = roomId;
    m_messages.setRoomId(roomId);
    // The server's read marker places the "new messages" line; with unread messages it stays
    // there for the visit (markRead() moves only the marker of the room list and the server's).
    const auto room = m_rooms.model()->room(roomId);
    const bool marker = room && room->readSeq;
    m_readLinePinned = marker && room->unread > 0;
    m_firstUnreadCount = m_readLinePinned ? room->unread : 0;
    m_unreadJumpMarker = -1;
    m_messages.setReadSeq(marker ? *room->readSeq : -1);
    Q_EMIT firstUnreadChanged();
    // What the store has of the room, shown before the network answers.
    m_cachedNewest = 0;
    QList<Message> cached;
    if (m_store && roomId != 0) {
        cached = m_store->messages(roomId);
        m_store->setValue(QStringLiteral("lastRoom"), QString::number(roomId));
    }
    if (!cached.isEmpty()) {
        m_messages.prependPage(cached, true);
        m_cachedNewest = cached.constLast().seq;
    }
    addPendingRows();
    Q_EMIT roomChanged();
    if (roomId == 0)
        return;
    if (cached.isEmpty())
        m_messages.fetchMore({}); // the latest page (fetchOlderRequested(0))
    else
        loadHistory(roomId, 0); // the latest page, merged with the cached rows
}

void ChatController::addPendingRows()
{
    // The local rows of this room's sends still in flight.
    const auto sends = m_outbox.inRoom(m_roomId);
    for (const Outbox::Entry &s : sends) {
        m_messages.addPending(s.clientId, s.body, m_users.self().id);
        if (s.failed)
            m_messages.markFailed(s.clientId);
    }
}

void ChatController::loadOlder()
{
    if (m_messages.canFetchMore({}))
        m_messages.fetchMore({});
}

void ChatController::reload()
{
    m_messages.clear();
    m_messages.fetchMore({});
}

void ChatController::jumpToFirstUnread()
{
    if (m_roomId == 0 || m_messages.readSeq() < 0 || m_unreadJumpMarker >= 0)
        return;
    m_unreadJumpMarker = m_messages.readSeq();
    Q_EMIT firstUnreadChanged();
    continueUnreadJump();
}

void ChatController::continueUnreadJump()
{
    if (m_unreadJumpMarker < 0)
        return;
    // Reached when a message at or before the marker is loaded (the first unread is then a
    // loaded row after it), or the whole room is.
    const bool reached = !m_messages.hasMoreHistory()
        || (m_messages.confirmedCount() > 0 && m_messages.messageAt(0).seq <= m_unreadJumpMarker);
    if (reached) {
        m_unreadJumpMarker = -1;
        m_firstUnreadCount = 0;
        Q_EMIT firstUnreadChanged();
        Q_EMIT firstUnreadReady(m_messages.firstUnreadSeq());
        return;
    }
    // Otherwise the next page; one already in flight continues the jump when it arrives.
    if (m_messages.canFetchMore({}))
        m_messages.fetchMore({});
}

void ChatController::endUnreadJump()
{
    if (m_unreadJumpMarker < 0)
        return;
    m_unreadJumpMarker = -1;
    Q_EMIT firstUnreadChanged();
}

void ChatController::loadHistory(Id roomId, Seq beforeSeq)
{
    if (roomId == 0 || roomId != m_roomId)
        return;
    HistoryQuery q;
    if (beforeSeq > 0)
        q.before = beforeSeq;
    q.limit = kHistoryPage;
    // Jumping to the first unread: one page reaching the marker when it can (there are no more
    // messages between the marker and beforeSeq than seqs), at most the protocol's 200.
    if (m_unreadJumpMarker >= 0 && beforeSeq > 0)
        q.limit = int(std::clamp<qint64>(beforeSeq - m_unreadJumpMarker, kHistoryPage, 200));
    m_rest.send(
        api::history(roomId, q), this,
        [this, roomId, beforeSeq](const HistoryPage &page) {
            if (roomId != m_roomId)
                return;
            qCDebug(lcChat) << "history page of room" << roomId << "before" << beforeSeq << ":" << page.items.size()
                            << "items, hasMore" << page.hasMore;
            for (const Message &m : page.items)
                m_users.request(m.authorId);
            if (beforeSeq == 0 && m_cachedNewest > 0) {
                // Cached rows and a latest page with newer messages between them than the page
                // holds: the cached ones go (scrolling up loads them again), no hole is shown.
                const bool hole
                    = page.hasMore && !page.items.isEmpty() && page.items.constFirst().seq > m_cachedNewest + 1;
                m_cachedNewest = 0;
                if (hole) {
                    m_messages.clear();
                    addPendingRows();
                }
            }
            if (beforeSeq == 0 && m_store)
                m_store->saveMessages(roomId, page.items);
            if (beforeSeq == 0 && !page.items.isEmpty())
                m_rooms.model()->setLastMessage(page.items.constLast());
            m_messages.prependPage(page.items, page.hasMore);
            if (beforeSeq == 0) {
                // The latest page plus the live events received meanwhile reflect the channel up
                // to what the session has seen without a hole.
                if (const auto seen = m_realtime.seenSeq(Channel::room(roomId)))
                    m_messages.setSyncedSeq(*seen);
                markRead();
            }
            continueUnreadJump();
            Q_EMIT historyLoaded(roomId, true);
        },
        [this, roomId](const RestError &e) {
            if (roomId != m_roomId)
                return;
            m_messages.fetchOlderFailed();
            m_rest.report(e);
            endUnreadJump();
            Q_EMIT historyLoaded(roomId, false);
        });
}

QString ChatController::sendMessage(const QString &body)
{
    const QString text = body.trimmed();
    if (m_roomId == 0 || text.isEmpty())
        return {};
    const QString clientId = m_outbox.queue(m_roomId, text);
    m_messages.addPending(clientId, text, m_users.self().id);
    return clientId;
}

void ChatController::applyUpdate(const Message &message)
{
    if (message.roomId == m_roomId)
        m_messages.applyUpdate(message);
}

void ChatController::editMessage(qint64 messageId, const QString &body)
{
    m_rest.send(api::editMessage(messageId, body.trimmed()), this, [this](const Message &m) { applyUpdate(m); });
}

void ChatController::deleteMessage(qint64 messageId)
{
    m_rest.send(api::deleteMessage(messageId), this, [this](const Message &m) { applyUpdate(m); });
}

void ChatController::onEvent(const ChannelEvent &e, bool /*fresh*/)
{
    const Id roomId = e.channel.id;
    const bool open = roomId == m_roomId;
    switch (e.type) {
    case EventType::MessageCreated:
        if (!e.message)
            break;
        if (m_store)
            m_store->saveMessages(roomId, {*e.message});
        if (open)
            m_messages.appendLive(*e.message); // deduped by seq; replaces our pending row
        if (e.message->clientId && e.message->authorId == m_users.self().id)
            m_outbox.settle(*e.message->clientId);
        break;
    case EventType::MessageUpdated:
        if (m_store && e.message)
            m_store->saveMessages(roomId, {*e.message});
        if (open && e.message)
            m_messages.applyUpdate(*e.message, e.seq);
        break;
    case EventType::MemberJoined:
    case EventType::MemberLeft:
        if (open)
            m_messages.noteEventSeq(e.seq);
        break;
    default:
        break;
    }
}

void ChatController::markRead()
{
    if (m_roomId == 0)
        return;
    Seq seq = 0;
    for (int row = m_messages.confirmedCount() - 1; row >= 0 && seq == 0; --row)
        seq = m_messages.messageAt(row).seq;
    if (seq <= 0)
        return;
    const auto room = m_rooms.model()->room(m_roomId);
    if (room && room->unread == 0 && room->readSeq.value_or(-1) >= seq)
        return;
    if (!m_readLinePinned)
        m_messages.setReadSeq(seq);
    m_rooms.model()->markRead(m_roomId, seq);
    if (m_realtime.isWelcomed())
        m_realtime.send(ws::Read {m_roomId, seq});
    else // best effort: the next open moves it again
        m_rest.send(
            api::markRead(m_roomId, seq), this, [](NoContent) {}, [](const RestError &) {});
}

void ChatController::clear()
{
    m_roomId = 0;
    m_messages.setRoomId(0);
    m_readLinePinned = false;
    m_firstUnreadCount = 0;
    m_unreadJumpMarker = -1;
    Q_EMIT roomChanged();
    Q_EMIT firstUnreadChanged();
}

} // namespace taskmaster::client
