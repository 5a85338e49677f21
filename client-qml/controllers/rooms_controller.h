// RoomsController: the rooms the user belongs to (RoomListModel): loaded at login and after a
// welcome that lists rooms not seen before, kept live from the rooms' events (new messages bump
// unread counts and order, membership changes reload a room, leaving removes it) and the user's
// own read markers; creating a room and adding a member; opening the direct (one-to-one) room
// with a user, and the names rooms are shown by (a direct room: the other member's). Marks rooms
// where a live message mentions the user (RoomListModel::setMention).
// Owns: the RoomListModel. Thread: the GUI thread.
#pragma once

#include "shared/codec/ws_frames.h"
#include "shared/domain/types.h"
#include "shared/models/room_list_model.h"

#include <QObject>
#include <QVariantList>
#include <QtQmlIntegration/qqmlintegration.h>

namespace taskmaster::client {

class RestClient;
class RealtimeSession;
class UserDirectory;

class RoomsController final : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("provided by Connection")
    Q_PROPERTY(taskmaster::RoomListModel *model READ model CONSTANT)

public:
    RoomsController(RestClient &rest, RealtimeSession &realtime, UserDirectory &users, QObject *parent = nullptr);
    ~RoomsController() override;

    [[nodiscard]] RoomListModel *model() { return &m_rooms; }
    // memberIds: user ids (numbers or numeric strings); the user is a member anyway.
    Q_INVOKABLE void createRoom(const QString &name, const QVariantList &memberIds);
    Q_INVOKABLE void addRoomMember(qint64 roomId, qint64 userId);
    // POST /direct-rooms: the direct room with userId (made on the first call, by either user);
    // directRoomOpened() follows with it in the list.
    Q_INVOKABLE void openDirectRoom(qint64 userId);
    // The other member of a direct room (0: not a direct room, or not known).
    [[nodiscard]] Q_INVOKABLE qint64 directPeer(qint64 roomId) const;
    // The room's member ids (empty for a room not in the list).
    [[nodiscard]] Q_INVOKABLE QVariantList memberIds(qint64 roomId) const;
    // How a room is shown: "#name", or "@display name" of the other member of a direct room
    // (bindings re-run on users.revision for names that arrive later).
    [[nodiscard]] Q_INVOKABLE QString title(qint64 roomId);

    // GET /rooms: the whole list again (rooms gone from it are removed).
    void reload();
    // GET /rooms/{id}: one room again (its members or name changed, or it is new to us).
    void refresh(Id roomId);
    // After a resync (too far behind for a replay): the room again, and its unread messages (the
    // newest page after the read marker) looked through for mentions of the user, which the replay
    // would have marked. No notifications for them: they are not live.
    void refreshAfterResync(Id roomId);
    // The user is no longer a member: out of the list, no resume for its channel.
    void leave(Id roomId);
    void onEvent(const ChannelEvent &event, bool fresh);
    void onRead(const ws::ReadEvent &read);
    void clear();

Q_SIGNALS:
    void roomCreated(qint64 roomId);
    void directRoomOpened(qint64 roomId);
    // A room's name or members may have changed (0: any room, after a reload).
    void roomsUpdated(qint64 roomId);
    void roomLeft(qint64 roomId);

private:
    RestClient &m_rest;
    RealtimeSession &m_realtime;
    UserDirectory &m_users;
    RoomListModel m_rooms;
};

} // namespace taskmaster::client
