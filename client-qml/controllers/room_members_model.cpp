#include "client-qml/controllers/room_members_model.h"

#include <algorithm>

namespace taskmaster::client {

namespace {
constexpr int kRoomPresenceEveryMs = 30000; // a big room's online count is asked again this often
} // namespace

RoomMembersModel::RoomMembersModel(QObject *parent) : QAbstractListModel(parent)
{
    m_presenceTimer.setInterval(kRoomPresenceEveryMs);
    connect(&m_presenceTimer, &QTimer::timeout, this, &RoomMembersModel::askPresence);
}

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
            connect(connection->realtime(), &RealtimeSession::frameReceived, this, &RoomMembersModel::onFrame),
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
    m_askedFor = 0;
    m_roomOnline.reset();
    m_roomOnlineIds.clear();
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
        r.online = users->isOnline(id) || m_roomOnlineIds.contains(id);
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

void RoomMembersModel::askPresence()
{
    if (!m_connection || !m_big || m_roomId <= 0)
        return;
    RealtimeSession *realtime = m_connection->realtime();
    if (!realtime->isWelcomed())
        return;
    m_askedFor = m_roomId;
    realtime->send(ws::RoomPresenceRequest {realtime->nextFrameId(), m_roomId, ws::RoomPresenceRequest::kLimitMax});
}

void RoomMembersModel::onFrame(const ws::ServerFrame &frame)
{
    const auto *reply = std::get_if<ws::RoomPresence>(&frame);
    if (!reply || reply->roomId != m_roomId)
        return;
    m_roomOnline = reply->online;
    m_roomOnlineIds = QSet<Id>(reply->userIds.cbegin(), reply->userIds.cend());
    refresh();
}

void RoomMembersModel::refresh()
{
    const bool welcomed = m_connection && m_connection->realtime()->isWelcomed();
    if (!welcomed) {
        // What the server said is stale once the socket is gone: asked again after the welcome.
        m_askedFor = 0;
        m_roomOnline.reset();
        m_roomOnlineIds.clear();
    }
    QList<Row> rows = build();
    const qint64 limit = m_connection ? m_connection->realtime()->presenceRoomLimit() : 0;
    m_big = limit > 0 && rows.size() > limit;
    if (m_big && !m_presenceTimer.isActive())
        m_presenceTimer.start();
    else if (!m_big)
        m_presenceTimer.stop();
    if (m_big && welcomed && m_askedFor != m_roomId)
        askPresence();
    // A big room's count is the server's: more may be online than the ids it lists.
    const int online = m_big && m_roomOnline
        ? static_cast<int>(*m_roomOnline)
        : static_cast<int>(std::count_if(rows.cbegin(), rows.cend(), [](const Row &r) { return r.online; }));
    if (rows == m_rows) {
        if (online != m_onlineCount) {
            m_onlineCount = online;
            Q_EMIT countsChanged();
        }
        return;
    }
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
    m_onlineCount = online;
    ++m_revision;
    Q_EMIT revisionChanged();
    Q_EMIT countsChanged();
}

} // namespace taskmaster::client
