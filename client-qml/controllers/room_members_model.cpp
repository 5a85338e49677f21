#include "client-qml/controllers/room_members_model.h"

#include <algorithm>

namespace taskmaster::client {

RoomMembersModel::RoomMembersModel(QObject *parent) : QAbstractListModel(parent) { }

RoomMembersModel::~RoomMembersModel() = default;

int RoomMembersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : count();
}

QVariant RoomMembersModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.parent().isValid() || index.row() < 0 || index.row() >= count())
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case DisplayNameRole:
        return r.displayName;
    case UserIdRole:
        return QVariant(r.userId);
    case UsernameRole:
        return r.username;
    case OnlineRole:
        return r.online;
    case PresenceRole:
        return r.online ? QStringLiteral("online") : QStringLiteral("offline");
    case IsSelfRole:
        return r.isSelf;
    default:
        return {};
    }
}

QHash<int, QByteArray> RoomMembersModel::roleNames() const
{
    static const QHash<int, QByteArray> names {
        {UserIdRole, QByteArrayLiteral("userId")},     {DisplayNameRole, QByteArrayLiteral("displayName")},
        {UsernameRole, QByteArrayLiteral("username")}, {OnlineRole, QByteArrayLiteral("online")},
        {PresenceRole, QByteArrayLiteral("presence")}, {IsSelfRole, QByteArrayLiteral("isSelf")},
    };
    return names;
}

QVariantMap RoomMembersModel::get(int row) const
{
    if (row < 0 || row >= count())
        return {};
    const Row &r = m_rows.at(row);
    return {{QStringLiteral("userId"), QVariant(r.userId)},
            {QStringLiteral("displayName"), r.displayName},
            {QStringLiteral("username"), r.username},
            {QStringLiteral("online"), r.online},
            {QStringLiteral("isSelf"), r.isSelf}};
}

void RoomMembersModel::setConnection(Connection *connection)
{
    if (m_connection == connection)
        return;
    for (const auto &link : std::as_const(m_links))
        disconnect(link);
    m_links.clear();
    m_connection = connection;
    m_rooms = connection ? connection->rooms() : nullptr;
    m_users = connection ? connection->users() : nullptr;
    if (connection) {
        RoomListModel *rooms = connection->rooms()->model();
        const auto onRoomRows = [this] { refresh(); };
        m_links = {
            connect(rooms, &QAbstractItemModel::modelReset, this, onRoomRows),
            connect(rooms, &QAbstractItemModel::rowsInserted, this, onRoomRows),
            connect(rooms, &QAbstractItemModel::rowsRemoved, this, onRoomRows),
            // Messages change rows all the time; only a whole-row change can carry new members.
            connect(rooms, &QAbstractItemModel::dataChanged, this,
                    [this](const QModelIndex &, const QModelIndex &, const QList<int> &roles) {
                        if (roles.isEmpty() || roles.contains(RoomListModel::MemberIdsRole))
                            refresh();
                    }),
            connect(connection->users(), &UserDirectory::changed, this, &RoomMembersModel::refresh),
            connect(connection->realtime(), &RealtimeSession::stateChanged, this, &RoomMembersModel::refresh),
            connect(connection, &Connection::sessionChanged, this, &RoomMembersModel::refresh),
        };
    }
    Q_EMIT connectionChanged();
    refresh();
}

void RoomMembersModel::setRoomId(qint64 roomId)
{
    if (m_roomId == roomId)
        return;
    m_roomId = roomId;
    Q_EMIT roomIdChanged();
    refresh();
}

QList<RoomMembersModel::Row> RoomMembersModel::build() const
{
    QList<Row> rows;
    if (!m_rooms || !m_users || m_roomId <= 0)
        return rows;
    const auto room = m_rooms->model()->room(m_roomId);
    if (!room)
        return rows;
    UserDirectory *users = m_users;
    const Id self = users->self().id;
    rows.reserve(room->memberIds.size());
    for (Id id : room->memberIds) {
        Row r;
        r.userId = id;
        r.displayName = users->userName(id); // "…" until loaded (asked once; changed() follows)
        if (const auto u = users->user(id))
            r.username = u->username;
        r.online = users->isOnline(id);
        r.isSelf = id == self;
        rows.append(r);
    }
    std::sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) {
        if (a.online != b.online)
            return a.online;
        const int byName = a.displayName.compare(b.displayName, Qt::CaseInsensitive);
        return byName != 0 ? byName < 0 : a.userId < b.userId;
    });
    return rows;
}

void RoomMembersModel::refresh()
{
    QList<Row> rows = build();
    if (rows == m_rows)
        return;
    const bool sameOrder = rows.size() == m_rows.size()
        && std::equal(rows.cbegin(), rows.cend(), m_rows.cbegin(),
                      [](const Row &a, const Row &b) { return a.userId == b.userId; });
    if (sameOrder) {
        // Names arrived or presence changed without moving anyone: the rows stay (and the view's
        // items with them).
        for (int i = 0; i < rows.size(); ++i) {
            if (rows.at(i) == m_rows.at(i))
                continue;
            m_rows[i] = rows.at(i);
            Q_EMIT dataChanged(index(i), index(i));
        }
    } else {
        beginResetModel();
        m_rows = std::move(rows);
        endResetModel();
    }
    const int online
        = static_cast<int>(std::count_if(m_rows.cbegin(), m_rows.cend(), [](const Row &r) { return r.online; }));
    m_onlineCount = online;
    ++m_revision;
    Q_EMIT revisionChanged();
    Q_EMIT countsChanged();
}

} // namespace taskmaster::client
