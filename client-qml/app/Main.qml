// The application window: one Connection for the session and the shell that lays out the pages.
// `theme` ("system", "light", "dark") and `section` can be set from the command line
// (--theme, --section) for screenshots.
import QtQuick
import QtQuick.Controls
import TaskMaster.Net
import TaskMaster.Ui

ApplicationWindow {
    id: window
    width: 1024
    height: 720
    visible: true
    title: connection.loggedIn ? qsTr("TaskMaster — %1").arg(connection.displayName) : qsTr("TaskMaster")
    color: Theme.background
    property alias connection: conn
    property alias shell: appShell
    property bool autoRestore: true
    property string themeMode: "system"

    // A clicked desktop notification opened its room (Connection): bring the window up.
    Connections {
        target: conn.notifier
        function onOpenRequested() {
            appShell.section = "chat"
            window.show()
            window.raise()
            window.requestActivate()
        }
    }

    Binding {
        target: Theme
        property: "mode"
        value: window.themeMode
    }

    palette.window: Theme.background
    palette.windowText: Theme.text
    palette.base: Theme.surface
    palette.alternateBase: Theme.surfaceAlt
    palette.text: Theme.text
    palette.button: Theme.surfaceAlt
    palette.buttonText: Theme.text
    palette.highlight: Theme.accent
    palette.highlightedText: Theme.accentText
    palette.placeholderText: Theme.textMuted
    palette.mid: Theme.border
    palette.dark: Theme.accent
    palette.brightText: Theme.accentText
    palette.light: Theme.surface
    palette.midlight: Theme.surfaceAlt

    Connection { id: conn }

    // Without a keychain the session token sits in the settings file: the user is told where.
    header: Rectangle {
        objectName: "tokenStorageNotice"
        property bool dismissed: false
        visible: conn.tokenStorageNotice.length > 0 && !dismissed
        height: visible ? noticeRow.implicitHeight + 12 : 0
        color: Theme.surfaceAlt
        Row {
            id: noticeRow
            anchors.verticalCenter: parent.verticalCenter
            x: 8
            spacing: 8
            Label {
                width: window.width - dismissButton.width - 32
                anchors.verticalCenter: parent.verticalCenter
                text: conn.tokenStorageNotice
                wrapMode: Text.Wrap
                color: Theme.text
            }
            Button {
                id: dismissButton
                text: qsTr("OK")
                onClicked: parent.parent.dismissed = true
                Accessible.name: qsTr("Dismiss the notice about the saved session")
            }
        }
    }

    AppShell {
        id: appShell
        anchors.fill: parent
        connection: conn
    }

    Component.onCompleted: {
        // Rooms, recent messages and unsent messages kept per account (LocalStore).
        if (conn.storeDirectory.length === 0)
            conn.storeDirectory = conn.defaultStoreDirectory()
        if (autoRestore)
            conn.restoreSession()
    }
}
