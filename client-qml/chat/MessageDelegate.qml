// MessageDelegate: one message of the bottom-to-top timeline. Every decoration comes from the
// model's roles: a day separator above the first message of a day (dayChanged), the author line
// only when the previous message is not by the same author (previousAuthorSame), pending/failed
// state of own sends, edited/deleted marks, and the "new messages" line (isFirstUnread).
// Own messages have Edit/Delete in a context menu (right click or long press).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import TaskMaster.Net
import TaskMaster.Ui

Item {
    id: root
    required property int index
    required property var messageId
    required property var authorId
    required property string body
    required property var clientId
    required property var createdAt
    required property bool edited
    required property bool deleted
    required property bool pending
    required property bool failed
    required property bool previousAuthorSame
    required property bool dayChanged
    required property bool isFirstUnread
    property Connection connection
    readonly property bool own: connection && authorId === connection.userId
    property bool editing: false
    // The first unread message with some of it in the view: the view hears of it (RoomPage hides
    // its "N unread - jump" then). Only that delegate's binding depends on the scroll position.
    readonly property bool firstUnreadInView: isFirstUnread && ListView.view !== null
        && y + height > ListView.view.contentY && y < ListView.view.contentY + ListView.view.height
    onFirstUnreadInViewChanged: {
        if (firstUnreadInView && ListView.view.firstUnreadShown)
            ListView.view.firstUnreadShown()
    }

    implicitHeight: column.implicitHeight
    ListView.onReused: editing = false

    ColumnLayout {
        id: column
        width: parent.width
        spacing: 2

        // Day separator
        RowLayout {
            visible: root.dayChanged
            Layout.fillWidth: true
            Layout.topMargin: 10
            Layout.bottomMargin: 4
            Rectangle { Layout.fillWidth: true; height: 1; color: Theme.border }
            Label {
                text: root.createdAt ? root.createdAt.toLocaleDateString(Qt.locale(), Locale.LongFormat) : ""
                color: Theme.textMuted
                font.pixelSize: 12
            }
            Rectangle { Layout.fillWidth: true; height: 1; color: Theme.border }
        }
        // First unread
        RowLayout {
            visible: root.isFirstUnread
            Layout.fillWidth: true
            Rectangle { Layout.fillWidth: true; height: 1; color: Theme.danger }
            Label { text: qsTr("New messages"); color: Theme.danger; font.pixelSize: 12 }
        }

        RowLayout {
            Layout.fillWidth: true
            Layout.leftMargin: Theme.spacing
            Layout.rightMargin: Theme.spacing
            Layout.topMargin: root.previousAuthorSame ? 0 : 6
            spacing: Theme.spacing

            Item {
                Layout.preferredWidth: 32
                Layout.preferredHeight: root.previousAuthorSame ? 1 : 32
                Layout.alignment: Qt.AlignTop
                Avatar {
                    visible: !root.previousAuthorSame
                    userId: root.authorId
                    name: root.connection ? (void root.connection.users.revision, root.connection.users.userName(root.authorId)) : ""
                }
            }
            ColumnLayout {
                Layout.fillWidth: true
                spacing: 1
                RowLayout {
                    visible: !root.previousAuthorSame
                    spacing: 6
                    Label {
                        text: root.connection ? (void root.connection.users.revision, root.connection.users.userName(root.authorId)) : ""
                        font.bold: true
                        color: Theme.text
                    }
                    Label {
                        text: root.createdAt ? root.createdAt.toLocaleTimeString(Qt.locale(), Locale.ShortFormat) : ""
                        color: Theme.textMuted
                        font.pixelSize: 11
                    }
                }
                Label {
                    objectName: "messageBody"
                    visible: !root.editing
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    textFormat: Text.PlainText
                    text: root.deleted ? qsTr("Message deleted") : root.body
                    font.italic: root.deleted
                    color: root.deleted ? Theme.textMuted : Theme.text
                    opacity: root.pending ? 0.55 : 1
                }
                TextField {
                    id: editField
                    visible: root.editing
                    Layout.fillWidth: true
                    onAccepted: {
                        root.connection.chat.editMessage(root.messageId, text)
                        root.editing = false
                    }
                    Keys.onEscapePressed: root.editing = false
                }
                RowLayout {
                    spacing: 8
                    visible: root.edited || root.pending || root.failed
                    Label {
                        visible: root.edited
                        text: qsTr("(edited)")
                        color: Theme.textMuted
                        font.pixelSize: 11
                    }
                    Label {
                        visible: root.pending
                        text: qsTr("Sending…")
                        color: Theme.textMuted
                        font.pixelSize: 11
                    }
                    Label {
                        visible: root.failed
                        text: qsTr("Not sent.")
                        color: Theme.danger
                        font.pixelSize: 11
                    }
                    Button {
                        visible: root.failed
                        flat: true
                        text: qsTr("Retry")
                        onClicked: root.connection.outbox.retry(root.clientId)
                    }
                    Button {
                        visible: root.failed
                        flat: true
                        text: qsTr("Discard")
                        onClicked: root.connection.outbox.discard(root.clientId)
                    }
                }
            }
        }
    }

    MouseArea {
        anchors.fill: parent
        acceptedButtons: Qt.RightButton
        enabled: root.own && !root.deleted && !root.pending && !root.failed
        onClicked: root.openMenu()
        onPressAndHold: root.openMenu()
    }
    // The menu is made on first use: a Menu in every delegate nearly doubled the cost of creating
    // one (see docs/BENCHMARKS.md, bench:client).
    function openMenu() {
        const menu = menuComponent.createObject(root)
        menu.closed.connect(menu.destroy)
        menu.popup()
    }
    Component {
        id: menuComponent
        Menu {
            MenuItem {
                text: qsTr("Edit")
                onTriggered: {
                    editField.text = root.body
                    root.editing = true
                    editField.forceActiveFocus()
                }
            }
            MenuItem {
                text: qsTr("Delete")
                onTriggered: root.connection.chat.deleteMessage(root.messageId)
            }
        }
    }
}
