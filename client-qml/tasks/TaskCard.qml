// TaskCard: one task on the board: title, priority, assignee, due date (red when overdue), and
// "not sent yet" while a change of it made offline waits for the server.
// Keyboard: Left/Right move it to the previous/next status, Enter or double click edits it.
// Mouse: dragging it (with the board's dragGhost) onto another column moves it there.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import TaskMaster.Net
import TaskMaster.Ui

Rectangle {
    id: card
    required property int index
    required property var taskId
    required property string title
    required property string status
    required property string priority
    required property var assigneeId
    required property var dueDate
    required property bool overdue
    property Connection connection
    // A change made offline, kept until the server has it (TaskBoardController's pending changes).
    readonly property bool pending: !!connection
                                    && (void connection.board.pendingCount, connection.board.isPending(taskId))
    // The board's drag copy; null: not draggable.
    property Item dragGhost: null
    signal editRequested(var taskId)
    signal moveRequested(var taskId, int direction)

    implicitHeight: content.implicitHeight + 2 * Theme.spacing
    radius: Theme.radius
    color: Theme.surface
    border.color: activeFocus ? Theme.accent : Theme.border
    border.width: activeFocus ? 2 : 1
    activeFocusOnTab: true
    Accessible.role: Accessible.ListItem
    Accessible.name: title
    Accessible.description: {
        const parts = [qsTr("%1 priority").arg(Theme.priorityTitle(priority))]
        if (assigneeId && connection)
            parts.push(qsTr("assigned to %1").arg((void connection.users.revision, connection.users.userName(assigneeId))))
        if (dueDate)
            parts.push(overdue ? qsTr("overdue since %1").arg(dueLabel.text) : qsTr("due %1").arg(dueLabel.text))
        if (pending)
            parts.push(qsTr("changed offline, not sent yet"))
        parts.push(qsTr("Left and Right move it, Enter edits it"))
        return parts.join(", ")
    }

    Keys.onLeftPressed: card.moveRequested(card.taskId, -1)
    Keys.onRightPressed: card.moveRequested(card.taskId, 1)
    Keys.onReturnPressed: card.editRequested(card.taskId)

    Rectangle {
        width: 4
        height: parent.height - 2 * card.radius
        anchors.left: parent.left
        anchors.verticalCenter: parent.verticalCenter
        color: Theme.priorityColor(card.priority)
    }

    ColumnLayout {
        id: content
        anchors.fill: parent
        anchors.margins: Theme.spacing
        anchors.leftMargin: Theme.spacing + 4
        spacing: 4
        Label {
            Layout.fillWidth: true
            text: card.title
            wrapMode: Text.Wrap
            maximumLineCount: 3
            elide: Text.ElideRight
            color: Theme.text
        }
        RowLayout {
            spacing: 6
            Label {
                text: Theme.priorityTitle(card.priority)
                color: Theme.priorityColor(card.priority)
                font.pixelSize: 11
                font.bold: true
            }
            Label {
                id: dueLabel
                visible: !!card.dueDate
                text: card.dueDate ? Qt.formatDate(card.dueDate, qsTr("d MMM", "a due date: day and short month")) : ""
                color: card.overdue ? Theme.danger : Theme.textMuted
                font.pixelSize: 11
            }
            Label {
                objectName: "pendingLabel"
                visible: card.pending
                text: qsTr("Not sent yet")
                color: Theme.warning
                font.pixelSize: 11
                font.italic: true
                Accessible.role: Accessible.StaticText
                Accessible.name: qsTr("Changed offline, not sent yet")
            }
            Item { Layout.fillWidth: true }
            Avatar {
                visible: !!card.assigneeId
                implicitWidth: 22
                implicitHeight: 22
                userId: card.assigneeId ? card.assigneeId : 0
                name: card.assigneeId && card.connection
                      ? (void card.connection.users.revision, card.connection.users.userName(card.assigneeId)) : ""
            }
        }
    }

    MouseArea {
        id: pointer
        objectName: "cardPointer"
        anchors.fill: parent
        drag.target: card.dragGhost
        drag.threshold: 8
        // The column's list (a Flickable) must not take the press over once a drag may start.
        preventStealing: card.dragGhost !== null
        onClicked: card.forceActiveFocus()
        onDoubleClicked: card.editRequested(card.taskId)
        onPressed: (mouse) => {
            const ghost = card.dragGhost
            if (!ghost)
                return
            // The copy starts over the card, under the pointer where the card was taken.
            const at = card.mapToItem(ghost.parent, 0, 0)
            ghost.x = at.x
            ghost.y = at.y
            ghost.width = card.width
            ghost.taskId = card.taskId
            ghost.title = card.title
            ghost.fromStatus = card.status
            ghost.Drag.hotSpot.x = mouse.x
            ghost.Drag.hotSpot.y = mouse.y
        }
        // Released while the drag is still active: drop on the column under the pointer.
        onReleased: if (card.dragGhost && card.dragGhost.Drag.active) card.dragGhost.Drag.drop()
    }
    // The copy's drag follows the MouseArea's; both end after the release. The card stays, dimmed.
    readonly property bool dragging: pointer.drag.active
    onDraggingChanged: if (card.dragGhost) card.dragGhost.Drag.active = dragging
    opacity: dragging ? 0.4 : 1
}
