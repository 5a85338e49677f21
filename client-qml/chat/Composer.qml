// Composer: the message field of a room. Enter sends, Shift+Enter adds a line; typing notifies
// the room (throttled by connection.typing). Files are attached with the paper-clip button (a
// file dialog), by dropping them on the composer, or by pasting an image (Ctrl+V with an image on
// the clipboard); each shows as a chip with its upload's progress and a cancel button, and goes
// with the next send (connection.attachments; Send waits for the uploads to finish).
// Typing `@` and the start of a name lists matching users above the field (a user search);
// Tab or Enter (or a click) completes the highlighted one to `@username `, Up/Down choose, Escape
// closes the list. Otherwise Tab and Shift+Tab leave the field (no tab characters), and Up in the
// empty field edits the user's last message (editLastRequested).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import TaskMaster.Net
import TaskMaster.Ui

Rectangle {
    id: composer
    property Connection connection
    property alias text: field.text
    // Up in the empty field: edit the user's last message (RoomPage finds it).
    signal editLastRequested()
    readonly property var uploads: connection ? connection.attachments.composerUploads : null
    implicitHeight: column.implicitHeight + 2 * Theme.spacing
    color: drop.containsDrag ? Theme.surfaceAlt : Theme.surface

    // The partial name after an "@" before the cursor (null or undefined: none; "" right after
    // the "@"); it drives the completion list.
    property var mentionPrefix: null
    readonly property bool completing: !!mentionPrefix && !!connection && connection.users.matches.count > 0
    function updateMention() {
        const prefix = Mentions.prefixAt(field.text, field.cursorPosition)
        if (prefix === mentionPrefix)
            return
        mentionPrefix = prefix
        mentionList.currentIndex = 0
        if (prefix) // not on a bare "@": every user would match
            connection.users.searchUsers(prefix, connection.rooms.memberIds(connection.chat.roomId)) // members first
    }
    function completeMention(username) {
        const done = Mentions.complete(field.text, field.cursorPosition, username)
        mentionPrefix = null
        field.text = done.text
        field.cursorPosition = done.cursor
    }

    function focusField() {
        field.forceActiveFocus()
    }

    function send() {
        const attaching = composer.uploads && composer.uploads.count > 0
        if (attaching) {
            if (composer.connection.attachments.sendToOpenRoom(field.text))
                field.text = ""
            return
        }
        if (field.text.trim().length === 0)
            return
        composer.connection.chat.sendMessage(field.text)
        field.text = ""
    }

    // QtQuick.Dialogs is made on first use, so a system without it still runs the client (drop
    // and paste attach then; the button says why it cannot).
    property var fileDialog: null
    function chooseFiles() {
        if (!fileDialog) {
            try {
                fileDialog = Qt.createQmlObject(
                    'import QtQuick.Dialogs; FileDialog { fileMode: FileDialog.OpenFiles; title: qsTr("Attach files") }',
                    composer, "Composer.fileDialog")
                fileDialog.accepted.connect(() => composer.connection.attachments.uploadFiles(
                                                composer.uploads, fileDialog.selectedFiles))
            } catch (e) {
                console.warn("no file dialog (QtQuick.Dialogs):", e)
                return
            }
        }
        fileDialog.open()
    }

    Rectangle { width: parent.width; height: 1; color: Theme.border }

    DropArea {
        id: drop
        anchors.fill: parent
        keys: ["text/uri-list"]
        onDropped: (event) => {
            if (event.hasUrls) {
                composer.connection.attachments.uploadFiles(composer.uploads, event.urls)
                event.acceptProposedAction()
            }
        }
    }

    ColumnLayout {
        id: column
        anchors.fill: parent
        anchors.margins: Theme.spacing
        spacing: Theme.spacing / 2

        // The files being attached: name, size, progress, cancel.
        Flow {
            Layout.fillWidth: true
            spacing: Theme.spacing / 2
            visible: composer.uploads && composer.uploads.count > 0
            Repeater {
                model: composer.uploads
                delegate: Rectangle {
                    id: chip
                    objectName: "uploadChip"
                    required property int index
                    required property string name
                    required property var size
                    required property real progress
                    required property bool uploading
                    required property bool failed
                    required property string errorText
                    width: chipRow.implicitWidth + 12
                    height: chipRow.implicitHeight + 8
                    radius: Theme.radius
                    color: Theme.surfaceAlt
                    border.color: failed ? Theme.danger : Theme.border
                    ToolTip.visible: failed && chipHover.hovered
                    ToolTip.text: errorText
                    HoverHandler { id: chipHover }
                    RowLayout {
                        id: chipRow
                        anchors.centerIn: parent
                        spacing: 6
                        ColumnLayout {
                            spacing: 2
                            Label {
                                text: chip.name + " · " + Theme.fileSize(chip.size)
                                Accessible.name: chip.failed ? qsTr("%1, failed: %2").arg(text).arg(chip.errorText) : text
                                color: chip.failed ? Theme.danger : Theme.text
                                font.pixelSize: 12
                                elide: Text.ElideMiddle
                                Layout.maximumWidth: 220
                            }
                            ProgressBar {
                                objectName: "uploadProgress"
                                Accessible.name: qsTr("Uploading %1").arg(chip.name)
                                visible: chip.uploading
                                value: chip.progress
                                Layout.preferredWidth: 120
                            }
                        }
                        ToolButton {
                            objectName: "cancelUpload"
                            text: "✕"
                            Accessible.name: qsTr("Remove %1").arg(chip.name)
                            onClicked: composer.connection.attachments.cancel(composer.uploads, chip.index)
                        }
                    }
                }
            }
        }

        RowLayout {
            id: row
            Layout.fillWidth: true
            spacing: Theme.spacing

            ToolButton {
                objectName: "attachButton"
                Layout.preferredHeight: 40
                text: "📎"
                                Accessible.name: qsTr("Attach files")
                ToolTip.visible: hovered
                ToolTip.text: qsTr("Attach files (or drop them here, or paste an image)")
                onClicked: composer.chooseFiles()
            }
            TextArea {
                id: field
                objectName: "composerField"
                Layout.fillWidth: true
                Layout.preferredHeight: Math.min(140, Math.max(40, implicitHeight))
                placeholderText: qsTr("Write a message")
                Accessible.name: qsTr("Message")
                Accessible.description: qsTr("Enter sends, Shift+Enter starts a new line")
                wrapMode: TextEdit.Wrap
                color: Theme.text
                background: Rectangle { color: Theme.surfaceAlt; radius: Theme.radius }
                Keys.onReturnPressed: (event) => {
                    if (composer.completing)
                        composer.completeMention(mentionList.currentItem.username)
                    else if (event.modifiers & Qt.ShiftModifier)
                        event.accepted = false
                    else
                        composer.send()
                }
                // Tab completes a mention, else moves on like in any field (a TextArea would
                // insert a tab character and keep keyboard users in it).
                Keys.onTabPressed: (event) => {
                    if (composer.completing)
                        composer.completeMention(mentionList.currentItem.username)
                    else
                        field.nextItemInFocusChain(true).forceActiveFocus(Qt.TabFocusReason)
                }
                Keys.onBacktabPressed: field.nextItemInFocusChain(false).forceActiveFocus(Qt.BacktabFocusReason)
                Keys.onUpPressed: (event) => {
                    if (composer.completing)
                        mentionList.decrementCurrentIndex()
                    else if (field.length === 0)
                        composer.editLastRequested()
                    else
                        event.accepted = false
                }
                Keys.onDownPressed: (event) => {
                    if (composer.completing)
                        mentionList.incrementCurrentIndex()
                    else
                        event.accepted = false
                }
                Keys.onEscapePressed: (event) => {
                    if (composer.completing)
                        composer.mentionPrefix = null
                    else
                        event.accepted = false
                }
                onCursorPositionChanged: composer.updateMention()
                // An image on the clipboard is attached; text is pasted as usual.
                Keys.onPressed: (event) => {
                    if (event.matches(StandardKey.Paste)
                            && composer.connection.attachments.pasteImage(composer.uploads))
                        event.accepted = true
                }
                onTextChanged: {
                    if (text.length > 0)
                        composer.connection.typing.notify()
                    composer.updateMention()
                }

                // The users matching the partial "@name", above the field.
                Popup {
                    id: mentionPopup
                    objectName: "mentionPopup"
                    visible: composer.completing
                    y: -height - 4
                    width: Math.min(field.width, 320)
                    height: Math.min(mentionList.contentHeight, 5 * 36) + 2 * padding
                    padding: 2
                    closePolicy: Popup.NoAutoClose
                    focus: false
                    ListView {
                        id: mentionList
                        objectName: "mentionList"
                        anchors.fill: parent
                        clip: true
                        model: composer.connection ? composer.connection.users.matches : null
                        highlightFollowsCurrentItem: true
                        delegate: ItemDelegate {
                            required property int index
                            required property string username
                            required property string displayName
                            width: ListView.view.width
                            height: 36
                            highlighted: ListView.isCurrentItem
                            text: displayName + "  @" + username
                            Accessible.name: qsTr("%1, @%2").arg(displayName).arg(username)
                            onClicked: composer.completeMention(username)
                        }
                    }
                }
            }
            Button {
                objectName: "sendButton"
                Layout.preferredHeight: 40
                text: qsTr("Send")
                highlighted: true
                enabled: composer.uploads && composer.uploads.busy ? false
                         : field.text.trim().length > 0 || (composer.uploads && composer.uploads.count > 0)
                onClicked: composer.send()
            }
        }
    }
}
