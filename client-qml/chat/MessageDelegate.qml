// MessageDelegate: one message of the bottom-to-top timeline. Every decoration comes from the
// model's roles: a day separator above the first message of a day (dayChanged), the author line
// only when the previous message is not by the same author (previousAuthorSame), pending/failed
// state of own sends, edited/deleted marks, and the "new messages" line (isFirstUnread).
// Own messages have Edit/Delete in a context menu: right click or long press, or from the keyboard
// the Menu key or Shift+F10 on the focused message (RoomPage's timeline) or while editing it;
// Delete asks first (a dialog; the Delete key on the focused message opens it too).
// Attachments (the attachments role): images as thumbnails (fetched into the client's cache by
// connection.attachments; a click opens the viewer with the full image), other files as a chip
// with name and size whose click downloads the file with a progress bar and opens it.
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
    required property var attachments
    property Connection connection
    readonly property bool own: connection && authorId === connection.userId
    property bool editing: false
    property bool askingToDelete: false // the delete dialog is open
    property Menu menu: null // the context menu while it is open
    // The first unread message with some of it in the view: the view hears of it (RoomPage hides
    // its "N unread - jump" then). Only that delegate's binding depends on the scroll position.
    readonly property bool firstUnreadInView: isFirstUnread && ListView.view !== null
        && y + height > ListView.view.contentY && y < ListView.view.contentY + ListView.view.height
    onFirstUnreadInViewChanged: {
        if (firstUnreadInView && ListView.view.firstUnreadShown)
            ListView.view.firstUnreadShown()
    }

    implicitHeight: column.implicitHeight

    // Edit in place (the context menu's Edit, or Up in an empty composer: RoomPage); the view hears
    // when it ends (editingDone: the composer takes the focus back).
    readonly property bool editable: own && !deleted && !pending && !failed
    function startEditing() {
        editField.text = root.body
        root.editing = true
        editField.forceActiveFocus()
    }
    function stopEditing() {
        root.editing = false
        if (ListView.view && ListView.view.editingDone)
            ListView.view.editingDone()
    }
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
                    // Someone else's name opens the direct room with them.
                    Label {
                        objectName: "authorName"
                        text: root.connection ? (void root.connection.users.revision, root.connection.users.userName(root.authorId)) : ""
                        font.bold: true
                        font.underline: !root.own && authorHover.hovered
                        color: Theme.text
                        HoverHandler { id: authorHover; cursorShape: root.own ? Qt.ArrowCursor : Qt.PointingHandCursor }
                        TapHandler {
                            enabled: !root.own
                            onTapped: root.connection.rooms.openDirectRoom(root.authorId)
                        }
                        // Someone else's name is a button for assistive technology too.
                        Accessible.role: root.own ? Accessible.StaticText : Accessible.Button
                        Accessible.name: root.own ? text : qsTr("%1, send a direct message").arg(text)
                        Accessible.onPressAction: if (!root.own) root.connection.rooms.openDirectRoom(root.authorId)
                        ToolTip.visible: !root.own && authorHover.hovered
                        ToolTip.text: qsTr("Send a direct message")
                    }
                    Label {
                        text: Format.shortTime(root.createdAt)
                        HoverHandler { id: timeHover }
                        ToolTip.visible: timeHover.hovered
                        ToolTip.text: Format.fullDateTime(root.createdAt)
                        color: Theme.textMuted
                        font.pixelSize: 11
                    }
                }
                Label {
                    objectName: "messageBody"
                    visible: !root.editing
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    // Mentions in bold, the user's own in the mention colour (styled text only
                    // when there is an "@": plain text is cheaper).
                    readonly property bool styled: !root.deleted && Mentions.hasMention(root.body)
                    textFormat: styled ? Text.StyledText : Text.PlainText
                    text: root.deleted ? qsTr("Message deleted")
                          : styled ? Mentions.toStyledText(root.body, root.connection ? root.connection.username : "",
                                                           Theme.danger, Theme.accent)
                          : root.body
                    font.italic: root.deleted
                    color: root.deleted ? Theme.textMuted : Theme.text
                    opacity: root.pending ? 0.55 : 1
                }
                // Attachments: thumbnails of images, chips of other files.
                Flow {
                    objectName: "messageAttachments"
                    visible: !root.deleted && root.attachments && root.attachments.length > 0
                    Layout.fillWidth: true
                    spacing: 6
                    Repeater {
                        model: root.deleted ? [] : root.attachments
                        delegate: Loader {
                            required property var modelData
                            sourceComponent: modelData.isImage ? thumbnailComponent : fileChipComponent
                            onLoaded: item.attachment = modelData
                        }
                    }
                }
                TextField {
                    id: editField
                    objectName: "editField"
                    visible: root.editing
                    Accessible.name: qsTr("Edit message")
                    Layout.fillWidth: true
                    onAccepted: {
                        root.connection.chat.editMessage(root.messageId, text)
                        root.stopEditing()
                    }
                    Keys.onEscapePressed: root.stopEditing()
                    Keys.onPressed: (event) => {
                        if (root.isMenuKey(event)) {
                            root.openMenu(true)
                            event.accepted = true
                        }
                    }
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

    Component {
        id: thumbnailComponent
        Rectangle {
            id: thumbBox
            objectName: "attachmentThumbnail"
            property var attachment: ({})
            readonly property var controller: root.connection ? root.connection.attachments : null
            property url cached: ""
            function refresh() {
                if (controller && attachment.attachmentId)
                    cached = controller.cachedImage(attachment.attachmentId, attachment.sha256, true)
            }
            onAttachmentChanged: refresh()
            width: Math.max(64, thumb.status === Image.Ready ? thumb.implicitWidth : 160)
            height: Math.max(48, thumb.status === Image.Ready ? thumb.implicitHeight : 120)
            radius: Theme.radius
            color: Theme.surfaceAlt
            border.color: activeFocus ? Theme.accent : Theme.border
            function openViewer() {
                const viewer = viewerComponent.createObject(root.Window.window ? root.Window.window.contentItem : root,
                                                            {attachment: thumbBox.attachment})
                viewer.closed.connect(viewer.destroy)
                viewer.open()
            }
            Accessible.role: Accessible.Button
            Accessible.name: qsTr("Image %1, open").arg(thumbBox.attachment.name || "")
            Accessible.onPressAction: thumbBox.openViewer()
            // Keyboard: Tab reaches it, Enter or Space opens it.
            activeFocusOnTab: true
            border.width: activeFocus ? 2 : 1
            Keys.onReturnPressed: thumbBox.openViewer()
            Keys.onSpacePressed: thumbBox.openViewer()
            Image {
                id: thumb
                Accessible.ignored: true // the box names it
                objectName: "thumbnailImage"
                anchors.centerIn: parent
                source: thumbBox.cached
                fillMode: Image.PreserveAspectFit
                asynchronous: true
            }
            BusyIndicator {
                anchors.centerIn: parent
                running: thumb.status !== Image.Ready
                Accessible.ignored: true
                width: 32
                height: 32
            }
            Connections {
                target: thumbBox.controller
                function onImageCached(id) {
                    if (id === thumbBox.attachment.attachmentId)
                        thumbBox.refresh()
                }
            }
            MouseArea {
                anchors.fill: parent
                cursorShape: Qt.PointingHandCursor
                onClicked: thumbBox.openViewer()
            }
        }
    }
    Component {
        id: fileChipComponent
        Rectangle {
            id: chipBox
            objectName: "attachmentChip"
            property var attachment: ({})
            readonly property var controller: root.connection ? root.connection.attachments : null
            property real progress: -1 // a download of it: 0..1
            width: chipColumn.implicitWidth + 16
            height: chipColumn.implicitHeight + 10
            radius: Theme.radius
            color: Theme.surfaceAlt
            border.color: activeFocus ? Theme.accent : Theme.border
            Accessible.role: Accessible.Button
            Accessible.name: qsTr("Download %1, %2").arg(chipBox.attachment.name || "").arg(Theme.fileSize(chipBox.attachment.size || 0))
            Accessible.onPressAction: chipBox.download()
            function download() {
                chipBox.controller.download(chipBox.attachment.attachmentId, chipBox.attachment.name)
            }
            activeFocusOnTab: true
            border.width: activeFocus ? 2 : 1
            Keys.onReturnPressed: chipBox.download()
            Keys.onSpacePressed: chipBox.download()
            ColumnLayout {
                id: chipColumn
                anchors.centerIn: parent
                spacing: 2
                Label {
                    text: "📄 " + (chipBox.attachment.name || "")
                    color: Theme.accent
                    font.underline: chipMouse.containsMouse
                    elide: Text.ElideMiddle
                    Layout.maximumWidth: 260
                }
                Label {
                    text: Theme.fileSize(chipBox.attachment.size || 0)
                    color: Theme.textMuted
                    font.pixelSize: 11
                }
                ProgressBar {
                    objectName: "downloadProgress"
                    Accessible.name: qsTr("Downloading %1").arg(chipBox.attachment.name || "")
                    visible: chipBox.progress >= 0 && chipBox.progress < 1
                    value: Math.max(0, chipBox.progress)
                    Layout.preferredWidth: 140
                }
            }
            Connections {
                target: chipBox.controller
                function onDownloadProgressChanged(id, p) {
                    if (id === chipBox.attachment.attachmentId)
                        chipBox.progress = p
                }
            }
            MouseArea {
                id: chipMouse
                anchors.fill: parent
                hoverEnabled: true
                cursorShape: Qt.PointingHandCursor
                onClicked: chipBox.download()
            }
        }
    }
    Component {
        id: viewerComponent
        Popup {
            id: viewer
            objectName: "imageViewer"
            property var attachment: ({})
            readonly property var controller: root.connection ? root.connection.attachments : null
            property url cached: ""
            function refresh() {
                if (controller && attachment.attachmentId)
                    cached = controller.cachedImage(attachment.attachmentId, attachment.sha256, false)
            }
            onAttachmentChanged: refresh()
            modal: true
            anchors.centerIn: Overlay.overlay
            width: parent ? parent.width * 0.9 : 640
            height: parent ? parent.height * 0.9 : 480
            ColumnLayout {
                anchors.fill: parent
                Label {
                    text: viewer.attachment.name || ""
                    color: Theme.text
                    Layout.fillWidth: true
                    elide: Text.ElideMiddle
                }
                Image {
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    Accessible.role: Accessible.Graphic
                    Accessible.name: viewer.attachment.name || ""
                    source: viewer.cached
                    fillMode: Image.PreserveAspectFit
                    asynchronous: true
                    BusyIndicator { anchors.centerIn: parent; running: parent.status !== Image.Ready; Accessible.ignored: true }
                }
                RowLayout {
                    Layout.alignment: Qt.AlignRight
                    Button {
                        text: qsTr("Download")
                        onClicked: viewer.controller.download(viewer.attachment.attachmentId, viewer.attachment.name)
                    }
                    Button {
                        text: qsTr("Close")
                        onClicked: viewer.close()
                    }
                }
            }
            Connections {
                target: viewer.controller
                function onImageCached(id) {
                    if (id === viewer.attachment.attachmentId)
                        viewer.refresh()
                }
            }
        }
    }

    MouseArea {
        anchors.fill: parent
        acceptedButtons: Qt.RightButton
        enabled: root.editable
        onClicked: root.openMenu(false)
        onPressAndHold: root.openMenu(false)
    }
    // The timeline's focused message: a frame (RoomPage's timeline takes Tab, Up/Down choose).
    Rectangle {
        objectName: "messageFocusFrame"
        anchors.fill: parent
        visible: root.ListView.isCurrentItem && root.ListView.view !== null && root.ListView.view.activeFocus
        color: "transparent"
        border.color: Theme.accent
        border.width: 2
        radius: Theme.radius
    }
    // Keyboard: the Menu key or Shift+F10 (on the focused message, or while editing it) opens the menu.
    function isMenuKey(event) {
        return event.key === Qt.Key_Menu || (event.key === Qt.Key_F10 && (event.modifiers & Qt.ShiftModifier))
    }
    // The menu is made on first use: a Menu in every delegate nearly doubled the cost of creating
    // one (see docs/BENCHMARKS.md, bench:client). From the keyboard it opens under the message's
    // text with its first item current (Up/Down, Enter, Escape); from the mouse at the pointer.
    function openMenu(byKeyboard) {
        if (!root.editable)
            return
        const menu = menuComponent.createObject(root)
        menu.closed.connect(() => { if (root.menu === menu) root.menu = null; menu.destroy() })
        root.menu = menu
        if (byKeyboard) {
            menu.popup(root, Theme.spacing + 40, Math.min(root.height, 24))
            menu.currentIndex = 0
        } else {
            menu.popup()
        }
    }
    // Delete asks first (the menu's Delete, or the Delete key on the focused message).
    function confirmDelete() {
        if (!root.editable)
            return
        const dialog = deleteDialogComponent.createObject(root.Window.window ? root.Window.window.contentItem : root)
        dialog.closed.connect(() => { root.askingToDelete = false; dialog.destroy() })
        root.askingToDelete = true
        dialog.open()
    }
    Component {
        id: menuComponent
        Menu {
            objectName: "messageMenu"
            // Back to the edit field when it was being edited and the menu closes without an action.
            onClosed: if (root.editing && !root.askingToDelete) editField.forceActiveFocus()
            MenuItem {
                objectName: "messageMenuEdit"
                text: qsTr("Edit")
                onTriggered: root.startEditing()
            }
            MenuItem {
                objectName: "messageMenuDelete"
                text: qsTr("Delete")
                onTriggered: root.confirmDelete()
            }
        }
    }
    Component {
        id: deleteDialogComponent
        Dialog {
            id: deleteDialog
            objectName: "deleteMessageDialog"
            // The message and its delegate: a delegate may be reused by the time the user answers.
            readonly property var messageId: root.messageId
            readonly property Item message: root
            title: qsTr("Delete message?")
            modal: true
            focus: true
            anchors.centerIn: Overlay.overlay
            width: Math.min(420, parent ? parent.width - 32 : 420)
            Label {
                width: parent.width
                text: qsTr("The message is deleted for everyone in the room. This cannot be undone.")
                wrapMode: Text.Wrap
                color: Theme.text
            }
            footer: DialogButtonBox {
                Button {
                    objectName: "deleteMessageCancel"
                    text: qsTr("Cancel")
                    DialogButtonBox.buttonRole: DialogButtonBox.RejectRole
                    Keys.onReturnPressed: deleteDialog.reject()
                    Keys.onEnterPressed: deleteDialog.reject()
                }
                Button {
                    id: confirmButton
                    objectName: "deleteMessageConfirm"
                    text: qsTr("Delete")
                    DialogButtonBox.buttonRole: DialogButtonBox.AcceptRole
                    Keys.onReturnPressed: deleteDialog.accept()
                    Keys.onEnterPressed: deleteDialog.accept()
                }
            }
            onOpened: confirmButton.forceActiveFocus()
            onAccepted: {
                root.connection.chat.deleteMessage(deleteDialog.messageId)
                if (deleteDialog.message.editing && deleteDialog.message.messageId === deleteDialog.messageId)
                    deleteDialog.message.stopEditing()
            }
            onRejected: {
                if (deleteDialog.message.editing)
                    editField.forceActiveFocus()
            }
        }
    }
}
