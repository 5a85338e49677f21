// Composer: the message field of a room. Enter sends, Shift+Enter adds a line; typing notifies
// the room (throttled by connection.typing).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import TaskMaster.Net
import TaskMaster.Ui

Rectangle {
    id: composer
    property Connection connection
    property alias text: field.text
    implicitHeight: row.implicitHeight + 2 * Theme.spacing
    color: Theme.surface

    function send() {
        if (field.text.trim().length === 0)
            return
        composer.connection.chat.sendMessage(field.text)
        field.text = ""
    }

    Rectangle { width: parent.width; height: 1; color: Theme.border }

    RowLayout {
        id: row
        anchors.fill: parent
        anchors.margins: Theme.spacing
        spacing: Theme.spacing

        TextArea {
            id: field
            objectName: "composerField"
            Layout.fillWidth: true
            Layout.preferredHeight: Math.min(140, Math.max(40, implicitHeight))
            placeholderText: qsTr("Write a message")
            wrapMode: TextEdit.Wrap
            color: Theme.text
            background: Rectangle { color: Theme.surfaceAlt; radius: Theme.radius }
            Keys.onReturnPressed: (event) => {
                if (event.modifiers & Qt.ShiftModifier)
                    event.accepted = false
                else
                    composer.send()
            }
            onTextChanged: if (text.length > 0) composer.connection.typing.notify()
        }
        Button {
            objectName: "sendButton"
            Layout.preferredHeight: 40
            text: qsTr("Send")
            highlighted: true
            enabled: field.text.trim().length > 0
            onClicked: composer.send()
        }
    }
}
