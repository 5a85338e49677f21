// RoomsController: the rooms the user belongs to (RoomListModel): loaded at login and after a
// welcome that lists rooms not seen before, kept live from the rooms' events (new messages bump
// unread counts and order, membership changes reload a room, leaving removes it) and the user's
// own read markers; creating a room and adding a member.
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

    // GET /rooms: the whole list again (rooms gone from it are removed).
    void reload();
    // GET /rooms/{id}: one room again (its members or name changed, or it is new to us).
    void refresh(Id roomId);
    // The user is no longer a member: out of the list, no resume for its channel.
    void leave(Id roomId);
    void onEvent(const ChannelEvent &event, bool fresh);
    void onRead(const ws::ReadEvent &read);
    void clear();

Q_SIGNALS:
    void roomCreated(qint64 roomId);
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
