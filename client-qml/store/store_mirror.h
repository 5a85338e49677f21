// StoreMirror: keeps the LocalStore in step with the room list, the project list, the users
// whose names were loaded, the outbox and the seqs the
// realtime session has seen of each channel (messages are saved by ChatController as they
// arrive). The room list and the seqs are written a moment after they change (one write for a
// burst of events) and when the store is detached; the outbox at once, so that a send made
// offline is on disk before the app can quit. The seqs let the next start resume from there.
// Owns: the pending-write timer; not the store (the Connection's) nor the models.
// Thread: the GUI thread.
#pragma once

#include "shared/domain/types.h"

#include <QObject>
#include <QSet>
#include <QTimer>

namespace taskmaster {
class ProjectListModel;
class RoomListModel;
} // namespace taskmaster

namespace taskmaster::client {

class LocalStore;
class Outbox;
class RealtimeSession;
class UserDirectory;

class StoreMirror final : public QObject {
    Q_OBJECT
public:
    StoreMirror(RoomListModel &rooms, ProjectListModel &projects, UserDirectory &users, Outbox &outbox,
                RealtimeSession &realtime, QObject *parent = nullptr);
    ~StoreMirror() override;

    // Starts mirroring into store (nullptr: stops, after writing what is pending).
    void attach(LocalStore *store);
    // Writes what is pending now.
    void flush();

private:
    void saveRooms();
    void saveProjects();
    void saveOutbox();
    void saveSeqs();

    RoomListModel &m_rooms;
    ProjectListModel &m_projects;
    Outbox &m_outbox;
    RealtimeSession &m_realtime;
    LocalStore *m_store = nullptr;
    QTimer m_roomsTimer;
    QTimer m_projectsTimer;
    QTimer m_seqsTimer;
    QSet<Channel> m_seqsDirty;
};

} // namespace taskmaster::client
