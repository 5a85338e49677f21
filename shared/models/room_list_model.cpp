#include "shared/models/room_list_model.h"

#include <QVariantList>

#include <algorithm>
#include <limits>

namespace taskmaster {

RoomListModel::RoomListModel(QObject *parent) : QAbstractListModel(parent)
{
    connect(this, &QAbstractItemModel::rowsInserted, this, &RoomListModel::countChanged);
    connect(this, &QAbstractItemModel::rowsRemoved, this, &RoomListModel::countChanged);
    connect(this, &QAbstractItemModel::modelReset, this, &RoomListModel::countChanged);
}

RoomListModel::~RoomListModel() = default;

int RoomListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : count();
}

QVariant RoomListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.parent().isValid() || index.row() < 0 || index.row() >= count())
        return {};
    const Entry &e = m_entries.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case NameRole:
        return e.room.name;
    case IdRole:
        return QVariant(e.room.id);
    case KindRole:
        return toWire(e.room.kind);
    case UnreadRole:
        return QVariant(e.room.unread);
    case LastSeqRole:
        return QVariant(e.room.lastSeq);
    case LastActivityRole:
        return e.lastActivity;
    case MemberCountRole:
        return static_cast<int>(e.room.memberIds.size());
    case LastMessageRole:
        return e.last && !e.last->deleted ? e.last->body : QString();
    case LastAuthorIdRole:
        return QVariant(e.last ? e.last->authorId : Id(0));
    case LastMessageAtRole:
        return e.last ? e.last->createdAt : QDateTime();
    case MentionedRole:
        return e.mentioned();
    case MemberIdsRole: {
        QVariantList ids;
        ids.reserve(e.room.memberIds.size());
        for (const Id id : e.room.memberIds)
            ids.append(QVariant(id));
        return ids;
    }
    default:
        return {};
    }
}

QHash<int, QByteArray> RoomListModel::roleNames() const
{
    static const QHash<int, QByteArray> names {
        {IdRole, QByteArrayLiteral("roomId")},
        {NameRole, QByteArrayLiteral("name")},
        {KindRole, QByteArrayLiteral("kind")},
        {UnreadRole, QByteArrayLiteral("unread")},
        {LastSeqRole, QByteArrayLiteral("lastSeq")},
        {LastActivityRole, QByteArrayLiteral("lastActivity")},
        {MemberCountRole, QByteArrayLiteral("memberCount")},
        {MemberIdsRole, QByteArrayLiteral("memberIds")},
        {LastMessageRole, QByteArrayLiteral("lastMessage")},
        {LastAuthorIdRole, QByteArrayLiteral("lastAuthorId")},
        {LastMessageAtRole, QByteArrayLiteral("lastMessageAt")},
        {MentionedRole, QByteArrayLiteral("mentioned")},
    };
    return names;
}

int RoomListModel::rowForId(qint64 roomId) const
{
    for (int row = 0; row < count(); ++row) {
        if (m_entries.at(row).room.id == roomId)
            return row;
    }
    return -1;
}

const Room &RoomListModel::roomAt(int row) const
{
    return m_entries.at(row).room;
}

std::optional<Room> RoomListModel::room(Id roomId) const
{
    const int row = rowForId(roomId);
    if (row < 0)
        return std::nullopt;
    return m_entries.at(row).room;
}

QDateTime RoomListModel::lastActivity(Id roomId) const
{
    const int row = rowForId(roomId);
    return row < 0 ? QDateTime() : m_entries.at(row).lastActivity;
}

void RoomListModel::reset(const QList<Room> &rooms)
{
    const qint64 oldTotal = m_totalUnread;
    beginResetModel();
    m_entries.clear();
    m_entries.reserve(rooms.size());
    for (const Room &r : rooms) {
        if (r.id <= 0)
            continue;
        const int existing = rowForId(r.id);
        if (existing >= 0)
            m_entries[existing] = makeEntry(r);
        else
            m_entries.append(makeEntry(r));
    }
    std::sort(m_entries.begin(), m_entries.end(), &RoomListModel::before);
    m_totalUnread = 0;
    for (const Entry &e : std::as_const(m_entries))
        m_totalUnread += e.room.unread;
    endResetModel();
    if (m_totalUnread != oldTotal)
        Q_EMIT totalUnreadChanged();
}

void RoomListModel::setLastMessage(const Message &message)
{
    const int row = rowForId(message.roomId);
    if (row < 0 || message.seq <= 0)
        return;
    Entry &e = m_entries[row];
    if (e.last && e.last->seq > message.seq)
        return;
    if (e.last && *e.last == message)
        return;
    e.last = message;
    if (message.createdAt.isValid() && (!e.lastActivity.isValid() || message.createdAt > e.lastActivity)) {
        e.lastActivity = message.createdAt;
        e.activityMs = message.createdAt.toMSecsSinceEpoch();
    }
    emitRowChanged(reposition(row), {LastMessageRole, LastAuthorIdRole, LastMessageAtRole, LastActivityRole});
}

void RoomListModel::upsert(const Room &room)
{
    if (room.id <= 0)
        return;
    const int row = rowForId(room.id);
    if (row < 0) {
        const Entry entry = makeEntry(room);
        const int at = insertionRow(entry, -1);
        beginInsertRows(QModelIndex(), at, at);
        m_entries.insert(at, entry);
        endInsertRows();
        addToTotal(entry.room.unread);
        return;
    }
    Entry &e = m_entries[row];
    Room updated = room;
    if (room.lastSeq < e.room.lastSeq) {
        updated.lastSeq = e.room.lastSeq;
        updated.unread = e.room.unread;
    }
    // A marker moved here after the snapshot was taken stays (and bounds the snapshot's count).
    const Seq held = e.room.readSeq.value_or(0);
    if (held > updated.readSeq.value_or(0)) {
        updated.readSeq = held;
        updated.unread = held >= updated.lastSeq ? 0 : std::min(updated.unread, updated.lastSeq - held);
    }
    if (updated == e.room)
        return;
    const qint64 oldUnread = e.room.unread;
    e.room = updated;
    e.room.unread = std::max<qint64>(0, updated.unread);
    if (room.createdAt.isValid() && (!e.lastActivity.isValid() || room.createdAt > e.lastActivity)) {
        e.lastActivity = room.createdAt;
        e.activityMs = room.createdAt.toMSecsSinceEpoch();
    }
    const qint64 delta = e.room.unread - oldUnread;
    emitRowChanged(reposition(row)); // e is stale from here on
    addToTotal(delta);
}

void RoomListModel::remove(Id roomId)
{
    const int row = rowForId(roomId);
    if (row < 0)
        return;
    const qint64 unread = m_entries.at(row).room.unread;
    beginRemoveRows(QModelIndex(), row, row);
    m_entries.remove(row);
    endRemoveRows();
    addToTotal(-unread);
}

void RoomListModel::onMessage(Id roomId, Seq seq, const QDateTime &createdAt, Id authorId, Id selfUserId)
{
    const int row = rowForId(roomId);
    if (row < 0)
        return;
    Entry &e = m_entries[row];
    if (seq <= e.room.lastSeq)
        return;
    e.room.lastSeq = seq;
    const bool unread = authorId != selfUserId && seq > e.room.readSeq.value_or(0);
    if (unread)
        ++e.room.unread;
    if (createdAt.isValid() && (!e.lastActivity.isValid() || createdAt > e.lastActivity)) {
        e.lastActivity = createdAt;
        e.activityMs = createdAt.toMSecsSinceEpoch();
    }
    emitRowChanged(reposition(row), {UnreadRole, LastSeqRole, LastActivityRole});
    addToTotal(unread ? 1 : 0);
}

void RoomListModel::markRead(Id roomId, Seq seq)
{
    const int row = rowForId(roomId);
    if (row < 0)
        return;
    Entry &e = m_entries[row];
    if (seq <= e.room.readSeq.value_or(0))
        return;
    const bool wasMentioned = e.mentioned();
    e.room.readSeq = seq;
    const qint64 unread = seq >= e.room.lastSeq ? 0 : std::min(e.room.unread, e.room.lastSeq - seq);
    if (unread == e.room.unread && wasMentioned == e.mentioned())
        return;
    const qint64 delta = unread - e.room.unread;
    e.room.unread = unread;
    emitRowChanged(reposition(row), {UnreadRole, MentionedRole}); // e is stale from here on
    addToTotal(delta);
}

void RoomListModel::setMention(Id roomId, Seq seq)
{
    const int row = rowForId(roomId);
    if (row < 0)
        return;
    Entry &e = m_entries[row];
    if (seq <= e.mentionSeq || seq <= e.room.readSeq.value_or(0))
        return;
    const bool was = e.mentioned();
    e.mentionSeq = seq;
    if (!was)
        emitRowChanged(reposition(row), {MentionedRole});
}

// --- private ---

bool RoomListModel::before(const Entry &a, const Entry &b)
{
    if (a.hasNews() != b.hasNews())
        return a.hasNews();
    if (a.activityMs != b.activityMs)
        return a.activityMs > b.activityMs;
    return a.room.id < b.room.id;
}

RoomListModel::Entry RoomListModel::makeEntry(const Room &room)
{
    Entry e;
    e.room = room;
    e.lastActivity = room.createdAt;
    e.activityMs = room.createdAt.isValid() ? room.createdAt.toMSecsSinceEpoch() : std::numeric_limits<qint64>::min();
    return e;
}

int RoomListModel::insertionRow(const Entry &entry, int excluded) const
{
    int lo = 0;
    int hi = count() - (excluded >= 0 ? 1 : 0);
    while (lo < hi) {
        const int mid = lo + (hi - lo) / 2;
        const int actual = excluded >= 0 && mid >= excluded ? mid + 1 : mid;
        if (before(m_entries.at(actual), entry))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int RoomListModel::reposition(int row)
{
    const int target = insertionRow(m_entries.at(row), row);
    if (target == row)
        return row;
    beginMoveRows(QModelIndex(), row, row, QModelIndex(), target > row ? target + 1 : target);
    m_entries.move(row, target);
    endMoveRows();
    return target;
}

void RoomListModel::addToTotal(qint64 delta)
{
    if (delta == 0)
        return;
    m_totalUnread += delta;
    Q_EMIT totalUnreadChanged();
}

void RoomListModel::emitRowChanged(int row, const QList<int> &roles)
{
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx, roles);
}

} // namespace taskmaster
