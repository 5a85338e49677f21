// RoomPage: the open room. Messages in a bottom-to-top ListView over the chat controller's
// timeline (newest first), so the newest sit at the bottom and history pages go on top without
// moving what is shown; the view's delegate model asks the model for older history (fetchMore)
// when the oldest loaded row gets a delegate. Typing indicator, composer, jump to latest, and for
// a room opened with unread messages "N unread - jump": the chat controller loads history back to
// the read marker (the model's fetchMore) and the view is positioned on the first unread message,
// which carries the "new messages" line (the model's isFirstUnread role). Above it all the
// RoomHeader: name, members and who of them is online, the member list.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import TaskMaster.Net
import TaskMaster.Ui

Rectangle {
    id: page
    property Connection connection
    property bool showBack: false
    signal back()
    color: Theme.background
    // The room whose first unread message has been in view since it was opened (0: none).
    property var unreadSeenInRoom: 0
    Connections {
        target: page.connection ? page.connection.chat : null
        function onFirstUnreadChanged() {
            if (page.connection.chat.firstUnreadCount > 0 && !page.connection.chat.jumpingToFirstUnread)
                page.unreadSeenInRoom = 0 // a room was opened with unread messages
        }
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        RoomHeader {
            objectName: "roomHeader"
            Layout.fillWidth: true
            connection: page.connection
            showBack: page.showBack
            onBack: page.back()
        }

        Item {
            Layout.fillWidth: true
            Layout.fillHeight: true

            ListView {
                id: timeline
                objectName: "timeline"
                anchors.fill: parent
                clip: true
                model: page.connection ? page.connection.chat.timeline : null
                verticalLayoutDirection: ListView.BottomToTop
                reuseItems: true
                cacheBuffer: 400
                boundsBehavior: Flickable.StopAtBounds
                Accessible.name: qsTr("Messages")
                ScrollBar.vertical: ScrollBar {}
                // Keyboard: Tab reaches the messages, Up/Down choose one (it gets a frame), the Menu key
                // or Shift+F10 opens its menu, Delete deletes it (asks first); own messages only.
                activeFocusOnTab: true
                keyNavigationEnabled: true
                Keys.onPressed: (event) => {
                    const message = timeline.currentItem
                    if (!message || !message.editable)
                        return
                    if (message.isMenuKey(event)) {
                        message.openMenu(true)
                        event.accepted = true
                    } else if (event.key === Qt.Key_Delete) {
                        message.confirmDelete()
                        event.accepted = true
                    }
                }
                onActiveFocusChanged: {
                    // The chosen message is one in view: the newest when the view is at the latest
                    // (new messages shift the old choice up), else the one chosen before if still
                    // in view, or the lowest one in view.
                    if (!activeFocus || count === 0)
                        return
                    if (atLatest)
                        currentIndex = 0
                    else if (currentIndex < 0 || !currentItem || currentItem.y + currentItem.height < contentY
                             || currentItem.y > contentY + height)
                        currentIndex = Math.max(0, indexAt(width / 2, contentY + height - 1))
                }
                // In a bottom-to-top view the end of the content is the visual bottom: the latest.
                readonly property bool atLatest: atYEnd || count === 0
                // The delegate of the first unread message came into view (MessageDelegate).
                signal firstUnreadShown()
                // A message's in-place edit ended (MessageDelegate): back to the composer.
                signal editingDone()
                onEditingDone: composer.focusField()
                onFirstUnreadShown: if (page.connection) page.unreadSeenInRoom = page.connection.chat.roomId
                onAtLatestChanged: if (atLatest && page.connection) page.connection.chat.markRead()
                onCountChanged: {
                    if (atLatest && page.connection)
                        page.connection.chat.markRead()
                    fetchOlderIfNear()
                }
                onContentYChanged: fetchOlderIfNear()
                // The delegate model asks for more when it creates the oldest row's delegate,
                // but Qt 6.4 skips that for a delegate taken from the reuse pool; so the view
                // also asks from its position: within one screen of the top of the content
                // (the oldest loaded message).
                function fetchOlderIfNear() {
                    if (!page.connection || count === 0 || !page.connection.chat.messages.hasMoreHistory
                            || page.connection.chat.messages.fetchingOlder)
                        return
                    if (contentY - originY < height)
                        page.connection.chat.loadOlder()
                }

                delegate: MessageDelegate {
                    width: timeline.width
                    connection: page.connection
                }

                header: Item {
                    width: timeline.width
                    height: 8
                }
                footer: Item {
                    width: timeline.width
                    height: page.connection && page.connection.chat.messages.fetchingOlder ? 40 : 8
                    BusyIndicator {
                        anchors.centerIn: parent
                        running: page.connection && page.connection.chat.messages.fetchingOlder
                        visible: running
                        height: 32
                        Accessible.name: qsTr("Loading older messages")
                    }
                    Label {
                        anchors.centerIn: parent
                        visible: page.connection && !page.connection.chat.messages.hasMoreHistory && timeline.count > 0
                        text: qsTr("Beginning of the room")
                        color: Theme.textMuted
                        font.pixelSize: 12
                    }
                }
            }

            Button {
                id: firstUnreadButton
                objectName: "firstUnreadButton"
                anchors.top: parent.top
                anchors.horizontalCenter: parent.horizontalCenter
                anchors.topMargin: 8
                readonly property int unread: page.connection ? page.connection.chat.firstUnreadCount : 0
                // Not once the first unread message has been in view (a few unread ones usually
                // are as the room opens).
                visible: unread > 0 && page.unreadSeenInRoom !== page.connection.chat.roomId
                enabled: page.connection && !page.connection.chat.jumpingToFirstUnread
                highlighted: true
                text: qsTr("%n unread - jump ↑", "", unread)
                onClicked: page.connection.chat.jumpToFirstUnread()
                ToolTip.visible: hovered
                ToolTip.text: qsTr("Jump to the first unread message")
            }

            RoundButton {
                objectName: "jumpToLatest"
                anchors.right: parent.right
                anchors.bottom: parent.bottom
                anchors.margins: 16
                visible: !timeline.atLatest
                text: "↓"
                highlighted: true
                Accessible.name: qsTr("Jump to latest")
                onClicked: page.jumpToLatest()
                ToolTip.visible: hovered
                ToolTip.text: qsTr("Jump to latest")
            }
        }

        Composer {
            id: composer
            Layout.fillWidth: true
            connection: page.connection
            onEditLastRequested: page.editLastOwnMessage()
        }
    }

    // Keyboard (AppShell's shortcut list): Ctrl+End, Ctrl+N.
    function jumpToLatest() {
        timeline.positionViewAtBeginning()
    }
    function focusComposer() {
        composer.focusField()
    }
    // The newest of the user's messages among those shown (the view is at the latest while one
    // writes), edited in place.
    function editLastOwnMessage() {
        for (let row = 0; row < timeline.count; ++row) {
            const message = timeline.itemAtIndex(row)
            if (!message)
                return
            if (message.editable) {
                timeline.positionViewAtIndex(row, ListView.Contain)
                message.startEditing()
                return
            }
        }
    }

    // The message of `seq` (a source row of connection.chat.messages) in view, at the top of it when
    // there is room: the messages after it fill the view below.
    function showMessage(seq) {
        if (!page.connection || seq < 0)
            return
        const row = page.connection.chat.timeline.proxyRow(page.connection.chat.messages.rowForSeq(seq))
        if (row >= 0)
            timeline.positionViewAtIndex(row, ListView.Contain)
    }
    Connections {
        target: page.connection ? page.connection.chat : null
        function onFirstUnreadReady(seq) { page.showMessage(seq) }
    }
}
