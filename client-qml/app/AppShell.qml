// AppShell: the logged-in layout. Desktop (>= Theme.phoneBreakpoint wide): a navigation rail,
// a list pane and the content side by side. Phone: one page at a time (list, then the open room
// or board with a back button) and the sections in a bottom tab bar. Before login: LoginPage.
// Keyboard (desktop): Ctrl+1..4 switch sections, Ctrl+K search.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import TaskMaster.Net
import TaskMaster.Ui
import TaskMaster.Chat
import TaskMaster.Tasks

Item {
    id: shell
    property Connection connection
    property string section: "chat" // chat | projects | search | admin
    readonly property bool phone: width < Theme.phoneBreakpoint
    readonly property var sections: connection && connection.isAdmin
        ? ["chat", "projects", "search", "admin"] : ["chat", "projects", "search"]

    function sectionTitle(s) {
        return s === "chat" ? qsTr("Chat") : s === "projects" ? qsTr("Projects")
             : s === "search" ? qsTr("Search") : qsTr("Admin")
    }

    Shortcut { sequence: "Ctrl+1"; onActivated: shell.section = "chat" }
    Shortcut { sequence: "Ctrl+2"; onActivated: shell.section = "projects" }
    Shortcut { sequence: "Ctrl+3"; onActivated: shell.section = "search" }
    Shortcut { sequence: "Ctrl+K"; onActivated: shell.section = "search" }
    Shortcut { sequence: "Ctrl+4"; enabled: shell.connection && shell.connection.isAdmin; onActivated: shell.section = "admin" }

    LoginPage {
        objectName: "loginPage"
        anchors.fill: parent
        visible: !shell.connection || !shell.connection.loggedIn
        connection: shell.connection
    }

    RowLayout {
        anchors.fill: parent
        visible: shell.connection && shell.connection.loggedIn
        spacing: 0

        // Navigation rail (desktop)
        Rectangle {
            visible: !shell.phone
            Layout.fillHeight: true
            Layout.preferredWidth: 168
            color: Theme.surfaceAlt
            ColumnLayout {
                anchors.fill: parent
                anchors.margins: Theme.spacing
                spacing: 4
                Label {
                    text: "TaskMaster"
                    font.bold: true
                    font.pixelSize: 18
                    color: Theme.accent
                    Layout.bottomMargin: 8
                }
                Repeater {
                    model: shell.sections
                    delegate: ItemDelegate {
                        id: navItem
                        required property string modelData
                        readonly property bool current: shell.section === modelData
                        Layout.fillWidth: true
                        text: shell.sectionTitle(modelData)
                        font.bold: current
                        onClicked: shell.section = modelData
                        background: Rectangle {
                            radius: Theme.radius
                            color: navItem.current ? Theme.surface : navItem.hovered ? Qt.darker(Theme.surfaceAlt, 1.05) : "transparent"
                        }
                        contentItem: Label {
                            text: navItem.text
                            font: navItem.font
                            color: navItem.current ? Theme.accent : Theme.text
                            verticalAlignment: Text.AlignVCenter
                        }
                    }
                }
                Item { Layout.fillHeight: true }
                RowLayout {
                    Avatar {
                        userId: shell.connection ? shell.connection.userId : 0
                        name: shell.connection ? shell.connection.displayName : ""
                        showPresence: true
                        online: shell.connection && shell.connection.realtime.state === RealtimeSession.Online
                    }
                    Label {
                        Layout.fillWidth: true
                        text: shell.connection ? shell.connection.displayName : ""
                        color: Theme.text
                        elide: Text.ElideRight
                    }
                }
                StatusBar {
                    state: shell.connection ? shell.connection.realtime.stateName : "offline"
                    attempt: shell.connection ? shell.connection.realtime.reconnectAttempt : 0
                }
                Button {
                    objectName: "logoutButton"
                    Layout.fillWidth: true
                    flat: true
                    text: qsTr("Log out")
                    onClicked: shell.connection.logout()
                }
            }
        }

        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            spacing: 0

            // Phone: connection state when not online
            Rectangle {
                visible: shell.phone && shell.connection && shell.connection.realtime.state !== RealtimeSession.Online
                Layout.fillWidth: true
                Layout.preferredHeight: 28
                color: Theme.surfaceAlt
                StatusBar {
                    anchors.centerIn: parent
                    state: shell.connection ? shell.connection.realtime.stateName : "offline"
                    attempt: shell.connection ? shell.connection.realtime.reconnectAttempt : 0
                }
            }

            StackLayout {
                Layout.fillWidth: true
                Layout.fillHeight: true
                currentIndex: ["chat", "projects", "search", "admin"].indexOf(shell.section)

                // Chat
                RowLayout {
                    spacing: 0
                    RoomsPage {
                        objectName: "roomsPage"
                        visible: !shell.phone || shell.connection.chat.roomId === 0
                        Layout.fillHeight: true
                        Layout.fillWidth: shell.phone
                        Layout.preferredWidth: shell.phone ? -1 : 280
                        connection: shell.connection
                    }
                    Rectangle { visible: !shell.phone; Layout.fillHeight: true; width: 1; color: Theme.border }
                    RoomPage {
                        objectName: "roomPage"
                        visible: !shell.phone || shell.connection.chat.roomId !== 0
                        Layout.fillWidth: true
                        Layout.fillHeight: true
                        connection: shell.connection
                        showBack: shell.phone
                        onBack: shell.connection.chat.closeRoom()
                        Label {
                            anchors.centerIn: parent
                            visible: shell.connection && shell.connection.chat.roomId === 0
                            text: qsTr("Pick a room")
                            color: Theme.textMuted
                        }
                    }
                }
                // Projects
                RowLayout {
                    spacing: 0
                    ProjectsPage {
                        objectName: "projectsPage"
                        visible: !shell.phone || shell.connection.board.projectId === 0
                        Layout.fillHeight: true
                        Layout.fillWidth: shell.phone
                        Layout.preferredWidth: shell.phone ? -1 : 240
                        connection: shell.connection
                    }
                    Rectangle { visible: !shell.phone; Layout.fillHeight: true; width: 1; color: Theme.border }
                    TaskBoard {
                        objectName: "taskBoard"
                        visible: !shell.phone || shell.connection.board.projectId !== 0
                        Layout.fillWidth: true
                        Layout.fillHeight: true
                        connection: shell.connection
                        showBack: shell.phone
                        onBack: shell.connection.board.openProject(0)
                    }
                }
                SearchPage {
                    objectName: "searchPage"
                    connection: shell.connection
                    onOpenRoomRequested: (id) => { shell.connection.chat.openRoom(id); shell.section = "chat" }
                    onOpenProjectRequested: (id) => { shell.connection.board.openProject(id); shell.section = "projects" }
                }
                AdminPage {
                    objectName: "adminPage"
                    connection: shell.connection
                    active: shell.section === "admin"
                }
            }

            // Phone: sections at the bottom
            TabBar {
                visible: shell.phone
                Layout.fillWidth: true
                currentIndex: shell.sections.indexOf(shell.section)
                Repeater {
                    model: shell.sections
                    delegate: TabButton {
                        id: tab
                        required property string modelData
                        text: shell.sectionTitle(modelData)
                        onClicked: shell.section = modelData
                        background: Rectangle {
                            color: Theme.surface
                            Rectangle {
                                visible: tab.checked
                                width: parent.width
                                height: 3
                                color: Theme.accent
                            }
                        }
                        contentItem: Label {
                            text: tab.text
                            horizontalAlignment: Text.AlignHCenter
                            verticalAlignment: Text.AlignVCenter
                            color: tab.checked ? Theme.accent : Theme.textMuted
                            font.bold: tab.checked
                        }
                    }
                }
            }
        }
    }
}
