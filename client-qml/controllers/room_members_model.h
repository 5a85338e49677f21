// RoomMembersModel: the members of one room for the room header's member list: each member's id,
// names and presence, online first, then by display name (case-insensitive; ties by id), with the
// member and online counts. It follows the room's member list (RoomListModel), names and presence
// (UserDirectory: presence frames) and the connection state (the user is online while connected).
// QML makes one: `RoomMembersModel { connection: ...; roomId: connection.chat.roomId }`.
// A big room (more members than the server's `presenceRoomLimit`, from `welcome`) gets no
// presence pushed: its online count and online members (up to 1000) come from a `roomPresence`
// request, made when the room is opened (or the socket welcomed again) and every 30 s while open.
// Owns: the sorted rows. Thread: the GUI thread.
#pragma once

#include "client-qml/net/connection.h"
#include "shared/domain/types.h"

#include <QAbstractListModel>
#include <QList>
#include <QPointer>
#include <QSet>
#include <QTimer>
#include <QVariantMap>
#include <QtQmlIntegration/qqmlintegration.h>

#include <optional>

namespace taskmaster::client {

class RoomMembersModel : public QAbstractListModel { // not final: QML_ELEMENT derives from it
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(taskmaster::client::Connection *connection READ connection WRITE setConnection NOTIFY connectionChanged)
    // The room (0: none, no rows).
    Q_PROPERTY(qint64 roomId READ roomId WRITE setRoomId NOTIFY roomIdChanged)
    // Members of the room (the user included).
    Q_PROPERTY(int count READ count NOTIFY countsChanged)
    // Members online now (the user too while connected); of a big room, as roomPresence said.
    Q_PROPERTY(int onlineCount READ onlineCount NOTIFY countsChanged)
    // Bumped on every change of the rows, so bindings calling get() re-run.
    Q_PROPERTY(int revision READ revision NOTIFY revisionChanged)

public:
    enum Roles {
        UserIdRole = Qt::UserRole + 1, // "userId": qint64
        DisplayNameRole, // "displayName": QString ("…" until the name is loaded; also Qt::DisplayRole)
        UsernameRole, // "username": QString, the login name ("" until loaded)
        OnlineRole, // "online": bool
        PresenceRole, // "presence": QString, "online" or "offline" (a view's section key)
        IsSelfRole, // "isSelf": bool, the logged-in user
    };
    Q_ENUM(Roles)

    explicit RoomMembersModel(QObject *parent = nullptr);
    ~RoomMembersModel() override;

    [[nodiscard]] int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] Connection *connection() const { return m_connection; }
    void setConnection(Connection *connection);
    [[nodiscard]] qint64 roomId() const { return m_roomId; }
    void setRoomId(qint64 roomId);
    [[nodiscard]] int count() const { return static_cast<int>(m_rows.size()); }
    [[nodiscard]] int onlineCount() const { return m_onlineCount; }
    [[nodiscard]] int revision() const { return m_revision; }
    // A row's roles by name ({} for a row out of range): the header's first few avatars.
    [[nodiscard]] Q_INVOKABLE QVariantMap get(int row) const;

Q_SIGNALS:
    void connectionChanged();
    void roomIdChanged();
    void countsChanged();
    void revisionChanged();

private:
    struct Row {
        Id userId = 0;
        QString displayName;
        QString username;
        bool online = false;
        bool isSelf = false;
        friend bool operator==(const Row &, const Row &) = default;
    };

    // The rows again from the room, the directory and the connection state.
    void refresh();
    // Asks the server who of the (big) room is online: roomPresence.
    void askPresence();
    void onFrame(const ws::ServerFrame &frame);
    [[nodiscard]] QList<Row> build() const;

    QPointer<Connection> m_connection;
    // Its pieces: a Connection being destroyed still emits (its realtime session closes its socket)
    // after these are gone.
    QPointer<RoomsController> m_rooms;
    QPointer<UserDirectory> m_users;
    qint64 m_roomId = 0;
    QList<Row> m_rows;
    int m_onlineCount = 0;
    bool m_big = false; // over the server's presenceRoomLimit: presence asked for, not pushed
    qint64 m_askedFor = 0; // the room of the last roomPresence request on this socket (0: none)
    std::optional<qint64> m_roomOnline; // the last roomPresence count of the room
    QSet<Id> m_roomOnlineIds; // and its ids (at most 1000)
    QTimer m_presenceTimer; // every 30 s while a big room is open
    int m_revision = 0;
    QList<QMetaObject::Connection> m_links; // to the connection's pieces
};

} // namespace taskmaster::client
