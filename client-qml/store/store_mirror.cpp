#include "client-qml/store/store_mirror.h"

#include "client-qml/net/outbox.h"
#include "client-qml/net/realtime_session.h"
#include "client-qml/store/local_store.h"
#include "shared/models/room_list_model.h"

namespace taskmaster::client {

StoreMirror::StoreMirror(RoomListModel &rooms, Outbox &outbox, RealtimeSession &realtime, QObject *parent)
    : QObject(parent), m_rooms(rooms), m_outbox(outbox), m_realtime(realtime)
{
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
