// RoomHeader: the open room's header. Its name ("#name", or "@someone" in a direct room); under
// it who is typing, or else how many members the room has and how many of them are online now (a
// direct room: whether the other person is online); at the right the members button (the first
// members' avatars with their presence dots, and the count), which opens the member list: a
// drawer from the right edge with each member's avatar, name and presence dot, online first; a
// click on someone else opens the direct room with them (made on first use). Presence comes from
// the presence frames the client receives (connection.users), through a RoomMembersModel.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import TaskMaster.Net
import TaskMaster.Ui

PageHeader {
    id: header
    property Connection connection
    readonly property var roomId: connection ? connection.chat.roomId : 0
    // The other member of a direct room (0: a group room).
    readonly property var peerId: connection && roomId !== 0
        ? (void connection.rooms.model.count, void members.revision, connection.rooms.directPeer(roomId)) : 0
    readonly property RoomMembersModel members: RoomMembersModel {
        connection: header.connection
        roomId: header.roomId
    }
    // "3 members, 2 online"; in a direct room "Online" or "Offline" (the other person).
    readonly property string summary: {
        if (roomId === 0 || members.count === 0)
            return ""
        if (peerId > 0) {
            void members.revision
            return connection.users.isOnline(peerId) ? qsTr("Online") : qsTr("Offline")
        }
        return qsTr("%n member(s)", "", members.count) + qsTr(", %n online", "", members.onlineCount)
    }

    // "#name", or "@someone" in a direct room.
    title: connection && roomId !== 0
           ? (void connection.users.revision, void connection.chat.roomName,
              connection.rooms.title(roomId) || qsTr("Room"))
           : qsTr("Room")
    subtitle: connection && connection.typing.text.length > 0 ? connection.typing.text : summary

    function openMembers() {
        if (header.roomId !== 0)
            membersDrawer.open()
    }

    ToolButton {
        id: membersButton
        objectName: "membersButton"
        visible: header.roomId !== 0 && header.members.count > 0
        onClicked: header.openMembers()
        Accessible.name: qsTr("Members: %1").arg(header.summary)
        ToolTip.visible: hovered
        ToolTip.text: qsTr("Show the members")
        contentItem: RowLayout {
            spacing: 4
            // The first members (online first), their presence dots in view.
            Row {
                spacing: 2
                Repeater {
                    model: Math.min(3, header.members.count)
                    delegate: Avatar {
                        required property int index
                        readonly property var member: (void header.members.revision, header.members.get(index))
                        implicitWidth: 26
                        implicitHeight: 26
                        userId: member.userId || 0
                        name: member.displayName || ""
                        showPresence: true
                        online: member.online || false
                        border.color: Theme.surface
                        border.width: 2
                    }
                }
            }
            Label {
                objectName: "memberCount"
                text: header.members.count
                color: Theme.textMuted
                font.pixelSize: 13
            }
        }
    }

    Drawer {
        id: membersDrawer
        objectName: "membersDrawer"
        edge: Qt.RightEdge
        dragMargin: 0 // opened by the button only: a drag at the edge is the timeline's scroll bar
        width: Math.min(320, header.Window.width * 0.85)
        height: header.Window.height
        padding: 0
        // A light dim: the room stays readable beside the list (the Basic style's is darker).
        Overlay.modal: Rectangle { color: Qt.rgba(0, 0, 0, 0.25) }
        background: Rectangle {
            color: Theme.surface
            Rectangle { anchors.left: parent.left; width: 1; height: parent.height; color: Theme.border }
        }

        ColumnLayout {
            anchors.fill: parent
            spacing: 0

            RowLayout {
                Layout.fillWidth: true
                Layout.margins: Theme.spacing
                Layout.leftMargin: Theme.spacing * 2
                ColumnLayout {
                    Layout.fillWidth: true
                    spacing: 0
                    Label {
                        Layout.fillWidth: true
                        text: qsTr("Members")
                        font.pixelSize: 17
                        font.bold: true
                        color: Theme.text
                        elide: Text.ElideRight
                    }
                    Label {
                        objectName: "membersSummary"
                        Layout.fillWidth: true
                        text: qsTr("%n member(s)", "", header.members.count)
                              + qsTr(", %n online", "", header.members.onlineCount)
                        color: Theme.textMuted
                        font.pixelSize: 12
                        elide: Text.ElideRight
                    }
                }
                ToolButton {
                    objectName: "closeMembersButton"
                    text: "×"
                    font.pixelSize: 20
                    onClicked: membersDrawer.close()
                    Accessible.name: qsTr("Close the member list")
                }
            }
            Rectangle { Layout.fillWidth: true; height: 1; color: Theme.border }

            ListView {
                id: memberList
                objectName: "memberList"
                Accessible.name: qsTr("Members of %1").arg(header.title)
                Layout.fillWidth: true
                Layout.fillHeight: true
                clip: true
                model: membersDrawer.visible ? header.members : null
                keyNavigationEnabled: true
                ScrollBar.vertical: ScrollBar {}
                section.property: "presence"
                section.delegate: Label {
                    required property string section
                    width: ListView.view.width
                    leftPadding: Theme.spacing * 2
                    topPadding: Theme.spacing
                    bottomPadding: 4
                    text: section === "online"
                          ? qsTr("Online — %1").arg(header.members.onlineCount)
                          : qsTr("Offline — %1").arg(header.members.count - header.members.onlineCount)
                    color: Theme.textMuted
                    font.pixelSize: 12
                    font.bold: true
                }

                delegate: ItemDelegate {
                    id: memberRow
                    objectName: "memberRow"
                    required property var userId
                    required property string displayName
                    required property string username
                    required property bool online
                    required property bool isSelf
                    width: ListView.view.width
                    height: 48
                    leftPadding: Theme.spacing * 2
                    rightPadding: Theme.spacing * 2
                    // Someone else: their direct room.
                    onClicked: {
                        if (memberRow.isSelf)
                            return
                        header.connection.rooms.openDirectRoom(memberRow.userId)
                        membersDrawer.close()
                    }
                    Accessible.name: memberRow.isSelf
                        ? qsTr("%1 (you), %2").arg(memberRow.displayName)
                              .arg(memberRow.online ? qsTr("online") : qsTr("offline"))
                        : qsTr("%1, %2: send a direct message").arg(memberRow.displayName)
                              .arg(memberRow.online ? qsTr("online") : qsTr("offline"))
                    ToolTip.visible: hovered && !memberRow.isSelf
                    ToolTip.text: qsTr("Send %1 a direct message").arg(memberRow.displayName)
                    background: Rectangle {
                        color: memberRow.hovered || memberRow.visualFocus ? Theme.surfaceAlt : Theme.surface
                    }
                    contentItem: RowLayout {
                        spacing: Theme.spacing
                        Avatar {
                            objectName: "memberAvatar"
                            userId: memberRow.userId
                            name: memberRow.displayName
                            showPresence: true
                            online: memberRow.online
                        }
                        ColumnLayout {
                            Layout.fillWidth: true
                            spacing: 0
                            Label {
                                objectName: "memberName"
                                Layout.fillWidth: true
                                text: memberRow.isSelf ? qsTr("%1 (you)").arg(memberRow.displayName)
                                                       : memberRow.displayName
                                textFormat: Text.PlainText
                                color: Theme.text
                                elide: Text.ElideRight
                            }
                            Label {
                                Layout.fillWidth: true
                                visible: memberRow.username.length > 0
                                text: "@" + memberRow.username
                                textFormat: Text.PlainText
                                color: Theme.textMuted
                                font.pixelSize: 11
                                elide: Text.ElideRight
                            }
                        }
                        Label {
                            text: memberRow.online ? qsTr("online") : qsTr("offline")
                            color: memberRow.online ? Theme.success : Theme.textMuted
                            font.pixelSize: 11
                        }
                    }
                }
            }
        }
    }
}
