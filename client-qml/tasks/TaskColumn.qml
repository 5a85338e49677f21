// TaskColumn: the tasks of one status, in its own TaskListModel fed by the board controller
// (connection.board.attachTaskModel), with the board's assignee and priority filters. A card
// dragged from another column and dropped here asks for the move (dropRequested); the column is
// outlined while one hovers over it.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import TaskMaster.Net
import TaskMaster.Models
import TaskMaster.Ui

Rectangle {
    id: column
    property Connection connection
    property string status: "todo"
    property var assigneeFilter: -1
    property string priorityFilter: ""
    property alias model: tasks
    property alias view: list
    // The board's drag copy of a card (null: cards are not draggable, e.g. on a phone).
    property Item dragGhost: null
    signal editRequested(var taskId)
    signal moveRequested(var taskId, int direction)
    signal dropRequested(var taskId, string status)

    radius: Theme.radius
    color: Theme.surfaceAlt
    border.color: dropArea.containsDrag ? Theme.accent : "transparent"
    border.width: 2

    DropArea {
        id: dropArea
        objectName: "dropArea_" + column.status
        anchors.fill: parent
        keys: ["taskmaster/task"]
        onDropped: (drop) => {
            if (drop.source && drop.source.fromStatus !== column.status) {
                drop.accept(Qt.MoveAction)
                // After the release has been handled: the move takes the dragged card's delegate
                // out of its column's list.
                const taskId = drop.source.taskId
                Qt.callLater(() => column.dropRequested(taskId, column.status))
            }
        }
    }

    TaskListModel {
        id: tasks
        statusFilter: column.status
        assigneeFilter: column.assigneeFilter
        priorityFilter: column.priorityFilter
        sortOrder: TaskListModel.PriorityFirst
    }
    Component.onCompleted: if (connection) connection.board.attachTaskModel(tasks)
    Component.onDestruction: if (connection) connection.board.detachTaskModel(tasks)

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.spacing
        spacing: Theme.spacing
        RowLayout {
            Label {
                text: Theme.statusTitle(column.status)
                font.bold: true
                color: Theme.text
                Layout.fillWidth: true
            }
            Badge { count: list.count; showZero: true; fill: Theme.textMuted }
        }
        ListView {
            id: list
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            spacing: Theme.spacing
            model: tasks
            reuseItems: true
            Accessible.name: Theme.statusTitle(column.status)
            delegate: TaskCard {
                width: ListView.view.width
                connection: column.connection
                dragGhost: column.dragGhost
                onEditRequested: (id) => column.editRequested(id)
                onMoveRequested: (id, d) => column.moveRequested(id, d)
            }
        }
    }
}
