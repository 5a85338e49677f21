// RoomsPage: the user's rooms, most recent activity first, with unread counts and how many
// members are online; a button creates a room.
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
                      ? qsTr("%1 unread").arg(page.connection.rooms.model.totalUnread) : ""
            ToolButton {
                objectName: "newRoomButton"
                text: "+"
                font.pixelSize: 20
                onClicked: newRoom.open()
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
                readonly property bool hasPreview: lastAuthorId > 0
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
                onClicked: page.connection.chat.openRoom(roomId)

                background: Rectangle {
                    color: row.current ? Theme.surfaceAlt : row.hovered ? Qt.darker(Theme.surface, 1.03) : Theme.surface
                }
                contentItem: RowLayout {
                    spacing: Theme.spacing
                    Avatar {
                        userId: row.roomId
                        name: row.name
                        showPresence: true
                        online: row.onlineCount > 0
                    }
                    ColumnLayout {
                        Layout.fillWidth: true
                        spacing: 2
                        RowLayout {
                            Layout.fillWidth: true
                            Label {
                                Layout.fillWidth: true
                                text: (row.kind === "direct" ? "@" : "#") + row.name
                                color: Theme.text
                                font.bold: row.unread > 0
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
                    Badge { count: row.unread }
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
            width: 260
            onAccepted: newRoom.accept()
        }
    }
}
