// RoomsPage: the user's rooms, rooms with news first (unread, or a mention of the user since
// they read), then by most recent activity, with unread counts (a mention shows "@" and the badge
// in the mention colour) and how many members are online; direct rooms show the other member's
// name. Buttons create a room, start a direct message with a user (searched by name), and turn
// do-not-disturb on and off (no desktop notifications).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import TaskMaster.Net
import TaskMaster.Ui

Rectangle {
    id: page
    property Connection connection
    color: Theme.surface

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        PageHeader {
            Layout.fillWidth: true
            title: qsTr("Rooms")
            subtitle: page.connection && page.connection.rooms.model.totalUnread > 0
                      ? qsTr("%n unread", "", page.connection.rooms.model.totalUnread) : ""
            ToolButton {
                objectName: "doNotDisturbButton"
                checkable: true
                checked: page.connection ? page.connection.notifier.doNotDisturb : false
                onToggled: page.connection.notifier.doNotDisturb = checked
                text: checked ? "🔕" : "🔔"
                Accessible.name: qsTr("Do not disturb")
                ToolTip.visible: hovered
                ToolTip.text: !page.connection || page.connection.notifier.available
                              ? (checked ? qsTr("Do not disturb: on (no notifications)")
                                         : qsTr("Do not disturb: off"))
                              : qsTr("Desktop notifications are not available here")
            }
            ToolButton {
                objectName: "newDirectButton"
                text: "@"
                font.pixelSize: 18
                onClicked: { directSearch.text = ""; newDirect.open() }
                Accessible.name: qsTr("New direct message")
                ToolTip.visible: hovered
                ToolTip.text: qsTr("New direct message")
            }
            ToolButton {
                objectName: "newRoomButton"
                text: "+"
                font.pixelSize: 20
                onClicked: newRoom.open()
                Accessible.name: qsTr("New room")
                ToolTip.visible: hovered
                ToolTip.text: qsTr("New room")
            }
        }

        ListView {
            id: list
            objectName: "roomList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: page.connection ? page.connection.rooms.model : null
            reuseItems: true
            keyNavigationEnabled: true
            Accessible.name: qsTr("Rooms")
            ScrollBar.vertical: ScrollBar {}

            delegate: ItemDelegate {
                id: row
                required property int index
                required property var roomId
                required property string name
                required property string kind
                required property var unread
                required property var memberIds
                required property string lastMessage
                required property var lastAuthorId
                required property var lastMessageAt
                required property bool mentioned
                readonly property bool hasPreview: lastAuthorId > 0
                // "#name", or "@someone" for a direct room (names load in the background).
                readonly property string title: page.connection
                    ? (void page.connection.users.revision, void row.memberIds, void row.name,
                       page.connection.rooms.title(row.roomId)) : row.name
                readonly property var peerId: page.connection && row.kind === "direct"
                    ? (void row.memberIds, page.connection.rooms.directPeer(row.roomId)) : 0
                readonly property bool current: page.connection && page.connection.chat.roomId === roomId
                readonly property int onlineCount: {
                    if (!page.connection)
                        return 0
                    void page.connection.users.revision
                    let n = 0
                    for (const id of memberIds)
                        if (id !== page.connection.userId && page.connection.users.isOnline(id))
                            ++n
                    return n
                }
                width: ListView.view.width
                height: 56
                highlighted: current
                // What the row shows, read as one: title, unread, mention, the preview.
                Accessible.name: row.title
                Accessible.description: (row.unread > 0 ? qsTr("%n unread", "", row.unread) + ". " : "")
                                        + (row.mentioned ? qsTr("You were mentioned") + ". " : "")
                                        + preview.text
                onClicked: page.connection.chat.openRoom(roomId)

                background: Rectangle {
                    color: row.current ? Theme.surfaceAlt : row.hovered ? Qt.darker(Theme.surface, 1.03) : Theme.surface
                }
                contentItem: RowLayout {
                    spacing: Theme.spacing
                    Avatar {
                        userId: row.peerId > 0 ? row.peerId : row.roomId
                        name: row.title.substring(1)
                        showPresence: true
                        online: row.onlineCount > 0
                    }
                    ColumnLayout {
                        Layout.fillWidth: true
                        spacing: 2
                        RowLayout {
                            Layout.fillWidth: true
                            Label {
                                objectName: "roomTitle"
                                Layout.fillWidth: true
                                text: row.title
                                color: Theme.text
                                font.bold: row.unread > 0 || row.mentioned
                                elide: Text.ElideRight
                            }
                            Label {
                                objectName: "roomTime"
                                visible: row.hasPreview
                                text: Format.listTime(row.lastMessageAt)
                                color: Theme.textMuted
                                font.pixelSize: 11
                                HoverHandler { id: timeHover }
                                ToolTip.visible: timeHover.hovered
                                ToolTip.text: Format.fullDateTime(row.lastMessageAt)
                            }
                        }
                        // The newest message with its author; without one, the members.
                        Label {
                            id: preview
                            objectName: "roomPreview"
                            Layout.fillWidth: true
                            text: {
                                if (row.hasPreview && page.connection) {
                                    void page.connection.users.revision
                                    const author = row.lastAuthorId === page.connection.userId
                                        ? qsTr("You") : page.connection.users.userName(row.lastAuthorId)
                                    return qsTr("%1: %2").arg(author)
                                        .arg(row.lastMessage.length > 0 ? row.lastMessage.replace(/\s+/g, " ") : qsTr("(deleted)"))
                                }
                                return qsTr("%n member(s)", "", row.memberIds.length)
                                    + (row.onlineCount > 0 ? qsTr(", %n online", "", row.onlineCount) : "")
                            }
                            textFormat: Text.PlainText
                            color: Theme.textMuted
                            font.pixelSize: 12
                            elide: Text.ElideRight
                        }
                    }
                    // A mention of the user since they read: "@", and the count in its colour.
                    Rectangle {
                        objectName: "mentionBadge"
                        visible: row.mentioned
                        implicitWidth: 20
                        implicitHeight: 20
                        radius: 10
                        color: Theme.danger
                        Accessible.name: qsTr("You were mentioned")
                        Label {
                            Accessible.ignored: true
                            anchors.centerIn: parent
                            text: "@"
                            color: Theme.accentText
                            font.pixelSize: 11
                            font.bold: true
                        }
                    }
                    Badge {
                        objectName: "unreadBadge"
                        count: row.unread
                        fill: row.mentioned ? Theme.danger : Theme.accent
                        Accessible.name: qsTr("%n unread", "", row.unread)
                    }
                }
            }

            Label {
                anchors.centerIn: parent
                visible: list.count === 0
                text: qsTr("No rooms yet")
                color: Theme.textMuted
            }
        }
    }

    // A direct message: search users by name, pick one; the room opens (made on first use).
    Dialog {
        id: newDirect
        objectName: "newDirectDialog"
        title: qsTr("New direct message")
        modal: true
        anchors.centerIn: Overlay.overlay
        standardButtons: Dialog.Cancel
        ColumnLayout {
            width: 280
            TextField {
                id: directSearch
                objectName: "directSearchField"
                Layout.fillWidth: true
                placeholderText: qsTr("Type a name")
                Accessible.name: qsTr("User to message")
                onTextEdited: if (text.length > 0) page.connection.users.searchUsers(text)
            }
            Repeater {
                model: newDirect.opened && directSearch.text.length > 0 && page.connection
                       ? page.connection.users.matches : null
                delegate: ItemDelegate {
                    required property var userId
                    required property string username
                    required property string displayName
                    objectName: "directCandidate"
                    Layout.fillWidth: true
                    visible: userId !== page.connection.userId
                    text: displayName + " (@" + username + ")"
                    onClicked: {
                        page.connection.rooms.openDirectRoom(userId)
                        newDirect.close()
                    }
                }
            }
        }
    }

    Dialog {
        id: newRoom
        objectName: "newRoomDialog"
        title: qsTr("New room")
        modal: true
        anchors.centerIn: Overlay.overlay
        standardButtons: Dialog.Ok | Dialog.Cancel
        onAccepted: {
            if (roomName.text.trim().length > 0)
                page.connection.rooms.createRoom(roomName.text, [])
            roomName.text = ""
        }
        TextField {
            id: roomName
            placeholderText: qsTr("Room name")
            Accessible.name: placeholderText
            width: 260
            onAccepted: newRoom.accept()
        }
    }
}
