#include "client-qml/controllers/rooms_controller.h"

#include "client-qml/controllers/mentions.h"
#include "client-qml/controllers/user_directory.h"
#include "client-qml/net/realtime_session.h"
#include "client-qml/net/rest_client.h"

#include <QSet>

namespace taskmaster::client {

RoomsController::RoomsController(RestClient &rest, RealtimeSession &realtime, UserDirectory &users, QObject *parent)
    : QObject(parent), m_rest(rest), m_realtime(realtime), m_users(users)
{
}

RoomsController::~RoomsController() = default;

void RoomsController::reload()
{
    m_rest.send(api::rooms(), this, [this](const Page<Room> &page) {
        QSet<Id> present;
        for (const Room &r : page.items) {
            present.insert(r.id);
            m_rooms.upsert(r); // keeps live counts that are newer than the snapshot
            for (Id member : r.memberIds)
                m_users.request(member); // warm the directory
        }
        for (int row = m_rooms.count() - 1; row >= 0; --row) {
            const Id id = m_rooms.roomAt(row).id;
            if (!present.contains(id))
                m_rooms.remove(id);
        }
        Q_EMIT roomsUpdated(0); // names may have arrived
    });
}

void RoomsController::refresh(Id roomId)
{
    m_rest.send(
        api::room(roomId), this,
        [this, roomId](const Room &room) {
            m_rooms.upsert(room);
            Q_EMIT roomsUpdated(roomId);
        },
        [this, roomId](const RestError &e) {
            if (e.status == 404)
                m_rooms.remove(roomId); // gone, or no longer ours; anything else: next reload
        });
}

void RoomsController::refreshAfterResync(Id roomId)
{
    m_rest.send(
        api::room(roomId), this,
        [this, roomId](const Room &room) {
            m_rooms.upsert(room);
            Q_EMIT roomsUpdated(roomId);
            HistoryQuery q;
            q.after = room.readSeq.value_or(0);
            q.limit = limits::kPageMax;
            m_rest.send(api::history(roomId, q), this, [this, roomId](const HistoryPage &page) {
                const User &self = m_users.self();
                for (const Message &m : page.items) {
                    if (!m.deleted && m.authorId != self.id && mentions::mentions(m.body, self.username))
                        m_rooms.setMention(roomId, m.seq);
                }
            });
        },
        [this, roomId](const RestError &e) {
            if (e.status == 404)
                m_rooms.remove(roomId);
        });
}

void RoomsController::leave(Id roomId)
{
    m_rooms.remove(roomId);
    m_realtime.forgetChannel(Channel::room(roomId));
    Q_EMIT roomLeft(roomId);
}

void RoomsController::createRoom(const QString &name, const QVariantList &memberIds)
{
    CreateRoomRequest req;
    req.name = name.trimmed();
    for (const QVariant &v : memberIds) {
        // Ids from QML: numbers and numeric strings; 0 for null/undefined/empty.
        const Id id = v.isValid() && !v.isNull() ? v.toLongLong() : 0;
        if (id > 0 && id != m_users.self().id)
            req.memberIds.append(id);
    }
    m_rest.send(api::createRoom(req), this, [this](const Room &room) {
        m_rooms.upsert(room);
        Q_EMIT roomCreated(room.id);
    });
}

void RoomsController::addRoomMember(qint64 roomId, qint64 userId)
{
    m_rest.send(api::addRoomMember(roomId, userId), this, [this, roomId](NoContent) { refresh(roomId); });
}

void RoomsController::openDirectRoom(qint64 userId)
{
    if (userId <= 0 || userId == m_users.self().id)
        return;
    m_users.request(userId);
    m_rest.send(api::openDirectRoom(userId), this, [this](const Room &room) {
        m_rooms.upsert(room);
        Q_EMIT directRoomOpened(room.id);
    });
}

qint64 RoomsController::directPeer(qint64 roomId) const
{
    const auto room = m_rooms.room(roomId);
    if (!room || room->kind != RoomKind::Direct)
        return 0;
    for (Id id : room->memberIds) {
        if (id != m_users.self().id)
            return id;
    }
    return 0;
}

QVariantList RoomsController::memberIds(qint64 roomId) const
{
    QVariantList ids;
    if (const auto room = m_rooms.room(roomId)) {
        for (Id id : room->memberIds)
            ids.append(id);
    }
    return ids;
}

QString RoomsController::title(qint64 roomId)
{
    const auto room = m_rooms.room(roomId);
    if (!room)
        return {};
    if (room->kind != RoomKind::Direct)
        return QLatin1Char('#') + room->name;
    const Id peer = directPeer(roomId);
    return QLatin1Char('@') + (peer ? m_users.userName(peer) : room->name);
}

void RoomsController::onEvent(const ChannelEvent &e, bool fresh)
{
    const Id roomId = e.channel.id;
    switch (e.type) {
    case EventType::MessageCreated:
        if (!e.message || !fresh)
            break;
        if (m_rooms.rowForId(roomId) < 0)
            refresh(roomId); // a room we were just added to
        m_rooms.onMessage(roomId, e.seq, e.message->createdAt, e.message->authorId, m_users.self().id);
        m_rooms.setLastMessage(*e.message);
        if (e.message->authorId != m_users.self().id && mentions::mentions(e.message->body, m_users.self().username))
            m_rooms.setMention(roomId, e.seq);
        m_users.request(e.message->authorId); // the preview's author name
        break;
    case EventType::MessageUpdated:
        if (e.message)
            m_rooms.setLastMessage(*e.message); // kept only when it is the newest (an edit of it)
        break;
    case EventType::MemberJoined:
    case EventType::MemberLeft:
        if (!fresh)
            break;
        if (e.type == EventType::MemberLeft && e.userId == m_users.self().id)
            leave(roomId);
        else
            refresh(roomId); // a new room for us, or its member list changed
        break;
    default:
        break;
    }
}

void RoomsController::onRead(const ws::ReadEvent &r)
{
    if (r.userId == m_users.self().id)
        m_rooms.markRead(r.roomId, r.seq);
}

void RoomsController::clear()
{
    m_rooms.reset({});
}

} // namespace taskmaster::client
