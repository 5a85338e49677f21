// TaskColumn: the tasks of one status, in its own TaskListModel fed by the connection
// (attachTaskModel), with the board's assignee and priority filters.
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
    signal editRequested(var taskId)
    signal moveRequested(var taskId, int direction)

    radius: Theme.radius
    color: Theme.surfaceAlt

    TaskListModel {
        id: tasks
        statusFilter: column.status
        assigneeFilter: column.assigneeFilter
        priorityFilter: column.priorityFilter
        sortOrder: TaskListModel.PriorityFirst
    }
    Component.onCompleted: if (connection) connection.attachTaskModel(tasks)
    Component.onDestruction: if (connection) connection.detachTaskModel(tasks)

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
            delegate: TaskCard {
                width: ListView.view.width
                connection: column.connection
                onEditRequested: (id) => column.editRequested(id)
                onMoveRequested: (id, d) => column.moveRequested(id, d)
            }
        }
    }
}
