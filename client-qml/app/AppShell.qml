// AppShell: the logged-in layout. Desktop (>= Theme.phoneBreakpoint wide): a navigation rail,
// a list pane and the content side by side. Phone: one page at a time (list, then the open room
// or board with a back button) and the sections in a bottom tab bar. Before login: LoginPage.
// Keyboard: `shortcuts` below is the one list of them: it installs the Shortcuts (entries with an
// `action`, run by runShortcut()) and fills the shortcuts sheet (Ctrl+/ or F1); keys that a
// focused control handles itself (composer, board cards, dialogs) are listed there too.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQml.Models
import TaskMaster.Net
import TaskMaster.Models
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

    // Every shortcut: `sequences` (one Shortcut each; the action gets the sequence's index),
    // `text` (what it does), `where` (the sheet's group), and `action` for the ones installed here
    // (none: a focused control handles the keys itself).
    readonly property var shortcuts: [
        { where: qsTr("Anywhere"), action: "section", sequences: ["Ctrl+1", "Ctrl+2", "Ctrl+3", "Ctrl+4"],
          text: qsTr("Chat, Projects, Search, Admin") },
        { where: qsTr("Anywhere"), action: "search", sequences: ["Ctrl+K"], text: qsTr("Search messages and tasks") },
        { where: qsTr("Anywhere"), action: "room", sequences: ["Alt+1", "Alt+2", "Alt+3", "Alt+4", "Alt+5", "Alt+6", "Alt+7", "Alt+8", "Alt+9"],
          text: qsTr("Open the first to ninth room of the list") },
        { where: qsTr("Anywhere"), action: "previousRoom", sequences: ["Alt+Up"], text: qsTr("Open the room above in the list") },
        { where: qsTr("Anywhere"), action: "nextRoom", sequences: ["Alt+Down"], text: qsTr("Open the room below in the list") },
        { where: qsTr("Anywhere"), action: "compose", sequences: ["Ctrl+N"], text: qsTr("Write a message in the open room") },
        { where: qsTr("Anywhere"), action: "latest", sequences: ["Ctrl+End"], text: qsTr("Jump to the latest message") },
        { where: qsTr("Anywhere"), action: "sheet", sequences: ["Ctrl+/", "F1"], text: qsTr("Show these shortcuts") },
        { where: qsTr("Anywhere"), sequences: ["Tab", "Shift+Tab"], text: qsTr("Next or previous control") },
        { where: qsTr("Anywhere"), sequences: ["Space"], text: qsTr("Press the focused button, room or project") },
        { where: qsTr("Anywhere"), sequences: ["Esc"], text: qsTr("Close a dialog, menu or list") },
        { where: qsTr("Composer"), sequences: ["Enter"], text: qsTr("Send the message") },
        { where: qsTr("Composer"), sequences: ["Shift+Enter"], text: qsTr("New line") },
        { where: qsTr("Composer"), sequences: ["Tab", "Enter"], text: qsTr("Complete the @name chosen") },
        { where: qsTr("Composer"), sequences: ["Up", "Down"], text: qsTr("Choose an @name") },
        { where: qsTr("Composer"), sequences: ["Up"], text: qsTr("Edit your last message (in the empty composer); Enter saves, Esc cancels") },
        { where: qsTr("Composer"), sequences: ["Menu", "Shift+F10"], text: qsTr("While editing your message: its menu (Edit, Delete)") },
        { where: qsTr("Messages"), sequences: ["Up", "Down"], text: qsTr("Choose a message (Tab to the messages first)") },
        { where: qsTr("Messages"), sequences: ["Menu", "Shift+F10"], text: qsTr("The menu of your chosen message (Edit, Delete)") },
        { where: qsTr("Messages"), sequences: ["Del"], text: qsTr("Delete your chosen message (asks first)") },
        { where: qsTr("Board"), sequences: ["Left", "Right"], text: qsTr("Move the focused card to the previous or next column") },
        { where: qsTr("Board"), sequences: ["Enter"], text: qsTr("Edit the focused card") }
    ]
    // One row per installed key sequence.
    readonly property var installedShortcuts: {
        const out = []
        for (const entry of shortcuts) {
            if (entry.action)
                entry.sequences.forEach((sequence, index) => out.push({ action: entry.action, sequence: sequence, index: index }))
        }
        return out
    }
    readonly property bool loggedIn: !!connection && connection.loggedIn

    function runShortcut(action, index) {
        switch (action) {
        case "sheet": shortcutsSheet.open(); return
        case "section": if (index < sections.length) section = sections[index]; return
        case "search": section = "search"; return
        case "room": openRoomAt(index); return
        case "previousRoom": stepRoom(-1); return
        case "nextRoom": stepRoom(1); return
        case "compose":
            section = "chat"
            if (connection.chat.roomId === 0)
                openRoomAt(0)
            if (connection.chat.roomId !== 0)
                roomPage.focusComposer()
            return
        case "latest": if (section === "chat") roomPage.jumpToLatest(); return
        }
    }
    // The room of a row of the room list (as shown: rooms with news first).
    function openRoomAt(row) {
        const rooms = connection.rooms.model
        if (row < 0 || row >= rooms.count)
            return
        section = "chat"
        connection.chat.openRoom(rooms.data(rooms.index(row, 0), RoomListModel.IdRole))
    }
    function stepRoom(delta) {
        const rooms = connection.rooms.model
        if (rooms.count === 0)
            return
        const row = rooms.rowForId(connection.chat.roomId)
        openRoomAt(row < 0 ? (delta > 0 ? 0 : rooms.count - 1) : Math.max(0, Math.min(rooms.count - 1, row + delta)))
    }

    Instantiator {
        model: shell.installedShortcuts
        delegate: Shortcut {
            required property var modelData
            sequence: modelData.sequence
            enabled: shell.loggedIn || modelData.action === "sheet"
            onActivated: shell.runShortcut(modelData.action, modelData.index)
        }
    }
    ShortcutsSheet {
        id: shortcutsSheet
        entries: shell.shortcuts
    }

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
                    text: qsTr("TaskMaster")
                    Accessible.role: Accessible.Heading
                    font.bold: true
                    font.pixelSize: 18
                    color: Theme.accent
                    Layout.bottomMargin: 8
                }
                Repeater {
                    model: shell.sections
                    delegate: ItemDelegate {
                        id: navItem
                        required property int index
                        required property string modelData
                        readonly property bool current: shell.section === modelData
                        Layout.fillWidth: true
                        Accessible.description: current ? qsTr("Current section, Ctrl+%1").arg(index + 1)
                                                        : qsTr("Ctrl+%1").arg(index + 1)
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
                        described: true
                        userId: shell.connection ? shell.connection.userId : 0
                        name: shell.connection ? shell.connection.displayName : ""
                        showPresence: true
                        online: shell.connection && shell.connection.realtime.state === RealtimeSession.Online
                    }
                    Label {
                        Layout.fillWidth: true
                        Accessible.ignored: true // the avatar before it says the name
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
                        id: roomPage
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
