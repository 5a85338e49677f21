// StoreMirror: keeps the LocalStore in step with the room list and the outbox (the open room's
// messages are saved by ChatController as they arrive). The room list is written a moment after
// it changes (one write for a burst of events); the outbox at once, so that a send made offline
// is on disk before the app can quit.
// Owns: the pending-write timer; not the store (the Connection's) nor the models.
// Thread: the GUI thread.
#pragma once

#include <QObject>
#include <QTimer>

namespace taskmaster {
class RoomListModel;
}

namespace taskmaster::client {

class LocalStore;
class Outbox;

class StoreMirror final : public QObject {
    Q_OBJECT
public:
    StoreMirror(RoomListModel &rooms, Outbox &outbox, QObject *parent = nullptr);
    ~StoreMirror() override;

    // Starts mirroring into store (nullptr: stops, after writing what is pending).
    void attach(LocalStore *store);
    // Writes what is pending now.
    void flush();

private:
    void saveRooms();
    void saveOutbox();

    RoomListModel &m_rooms;
    Outbox &m_outbox;
    LocalStore *m_store = nullptr;
    QTimer m_roomsTimer;
};

} // namespace taskmaster::client
