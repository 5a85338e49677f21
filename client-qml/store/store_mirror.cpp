#include "client-qml/store/store_mirror.h"

#include "client-qml/controllers/user_directory.h"
#include "client-qml/net/outbox.h"
#include "client-qml/net/realtime_session.h"
#include "client-qml/store/local_store.h"
#include "shared/models/project_list_model.h"
#include "shared/models/room_list_model.h"

namespace taskmaster::client {

StoreMirror::StoreMirror(RoomListModel &rooms, ProjectListModel &projects, UserDirectory &users, Outbox &outbox,
                         RealtimeSession &realtime, QObject *parent)
    : QObject(parent), m_rooms(rooms), m_projects(projects), m_outbox(outbox), m_realtime(realtime)
{
    m_projectsTimer.setSingleShot(true);
    m_projectsTimer.setInterval(250);
    connect(&m_projectsTimer, &QTimer::timeout, this, &StoreMirror::saveProjects);
    auto projectsChanged = [this] {
        if (m_store)
            m_projectsTimer.start();
    };
    connect(&m_projects, &QAbstractItemModel::rowsInserted, this, projectsChanged);
    connect(&m_projects, &QAbstractItemModel::rowsRemoved, this, projectsChanged);
    connect(&m_projects, &QAbstractItemModel::dataChanged, this, projectsChanged);
    connect(&m_projects, &QAbstractItemModel::modelReset, this, projectsChanged);
    connect(&users, &UserDirectory::learned, this, [this](const User &u) {
        if (m_store)
            m_store->saveUsers({u});
    });
    m_seqsTimer.setSingleShot(true);
    m_seqsTimer.setInterval(500);
    connect(&m_seqsTimer, &QTimer::timeout, this, &StoreMirror::saveSeqs);
    connect(&m_realtime, &RealtimeSession::channelEvent, this, [this](const ChannelEvent &e, bool) {
        if (!m_store)
            return;
        m_seqsDirty.insert(e.channel);
        if (!m_seqsTimer.isActive())
            m_seqsTimer.start();
    });
    m_roomsTimer.setSingleShot(true);
    m_roomsTimer.setInterval(250);
    connect(&m_roomsTimer, &QTimer::timeout, this, &StoreMirror::saveRooms);
    auto roomsChanged = [this] {
        if (m_store)
            m_roomsTimer.start();
    };
    connect(&m_rooms, &QAbstractItemModel::rowsInserted, this, roomsChanged);
    connect(&m_rooms, &QAbstractItemModel::rowsRemoved, this, roomsChanged);
    connect(&m_rooms, &QAbstractItemModel::rowsMoved, this, roomsChanged);
    connect(&m_rooms, &QAbstractItemModel::dataChanged, this, roomsChanged);
    connect(&m_rooms, &QAbstractItemModel::modelReset, this, roomsChanged);
    connect(&m_outbox, &Outbox::pendingChanged, this, &StoreMirror::saveOutbox);
    connect(&m_outbox, &Outbox::failed, this, &StoreMirror::saveOutbox);
    connect(&m_outbox, &Outbox::retried, this, &StoreMirror::saveOutbox);
}

StoreMirror::~StoreMirror()
{
    flush();
}

void StoreMirror::attach(LocalStore *store)
{
    if (store == m_store)
        return;
    flush();
    m_seqsDirty.clear();
    m_store = store;
}

void StoreMirror::flush()
{
    if (m_roomsTimer.isActive()) {
        m_roomsTimer.stop();
        saveRooms();
    }
    if (m_seqsTimer.isActive()) {
        m_seqsTimer.stop();
        saveSeqs();
    }
    if (m_projectsTimer.isActive()) {
        m_projectsTimer.stop();
        saveProjects();
    }
}

void StoreMirror::saveProjects()
{
    if (m_store)
        m_store->saveProjects(m_projects.projects());
}

void StoreMirror::saveSeqs()
{
    if (!m_store)
        return;
    for (const Channel &ch : std::as_const(m_seqsDirty)) {
        if (const auto seen = m_realtime.seenSeq(ch))
            m_store->setChannelSeq(ch.toString(), *seen);
    }
    m_seqsDirty.clear();
}

void StoreMirror::saveRooms()
{
    if (!m_store)
        return;
    QList<Room> rooms;
    rooms.reserve(m_rooms.count());
    for (int row = 0; row < m_rooms.count(); ++row)
        rooms.append(m_rooms.roomAt(row));
    m_store->saveRooms(rooms);
}

void StoreMirror::saveOutbox()
{
    if (!m_store)
        return;
    QList<LocalStore::OutboxRow> rows;
    for (const Outbox::Entry &e : m_outbox.entries())
        rows.append({e.roomId, e.clientId, e.body, e.failed});
    m_store->saveOutbox(rows);
}

} // namespace taskmaster::client
