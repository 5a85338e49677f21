// TaskBoard: the open project's tasks in four columns by status, filtered by assignee and
// priority, updated live from the project's channel. A card moves with Left/Right, by dragging it
// onto another column (desktop widths), or with its editor; moves and drops both go through
// moveTo() (connection.board.setTaskStatus: shown at once, PATCH with If-Match, back on failure).
// "New task" and double click open the editor. Under the phone breakpoint the columns scroll
// sideways one at a time.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import TaskMaster.Net
import TaskMaster.Ui

Rectangle {
    id: board
    property Connection connection
    property bool showBack: false
    readonly property var statuses: ["todo", "in_progress", "review", "done"]
    signal back()
    color: Theme.background

    function move(taskId, direction) {
        const info = connection.board.taskInfo(taskId)
        const i = statuses.indexOf(info.status) + direction
        if (i >= 0 && i < statuses.length)
            moveTo(taskId, statuses[i])
    }
    function moveTo(taskId, status) {
        if (connection && statuses.indexOf(status) >= 0 && connection.board.taskInfo(taskId).status !== status)
            connection.board.setTaskStatus(taskId, status)
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0
        PageHeader {
            Layout.fillWidth: true
            showBack: board.showBack
            onBack: board.back()
            title: board.connection && board.connection.board.projectName.length > 0
                   ? board.connection.board.projectName : qsTr("Tasks")
            subtitle: board.connection ? qsTr("%n task(s)", "", board.connection.board.tasks.totalCount) : ""
            Button {
                objectName: "newTaskButton"
                text: qsTr("New task")
                highlighted: true
                enabled: board.connection && board.connection.board.projectId !== 0
                onClicked: editor.openFor(0)
            }
        }
        RowLayout {
            Layout.fillWidth: true
            Layout.margins: Theme.spacing
            spacing: Theme.spacing
            Label { text: qsTr("Assignee"); color: Theme.textMuted }
            ComboBox {
                id: assigneeBox
                objectName: "assigneeFilter"
                Accessible.name: qsTr("Assignee filter")
                textRole: "text"
                valueRole: "value"
                model: [
                    { text: qsTr("Anyone"), value: -1 },
                    { text: qsTr("Me"), value: board.connection ? board.connection.userId : 0 },
                    { text: qsTr("Unassigned"), value: 0 }
                ]
            }
            Label { text: qsTr("Priority"); color: Theme.textMuted }
            ComboBox {
                id: priorityBox
                objectName: "priorityFilter"
                Accessible.name: qsTr("Priority filter")
                textRole: "text"
                valueRole: "value"
                model: [
                    { text: qsTr("Any"), value: "" },
                    { text: qsTr("Urgent"), value: "urgent" },
                    { text: qsTr("High"), value: "high" },
                    { text: qsTr("Medium"), value: "medium" },
                    { text: qsTr("Low"), value: "low" }
                ]
            }
            Item { Layout.fillWidth: true }
        }
        ListView {
            id: columns
            objectName: "boardColumns"
            Layout.fillWidth: true
            Layout.fillHeight: true
            Layout.margins: Theme.spacing
            orientation: ListView.Horizontal
            spacing: Theme.spacing
            clip: true
            snapMode: board.width < Theme.phoneBreakpoint ? ListView.SnapOneItem : ListView.NoSnap
            model: board.statuses
            delegate: TaskColumn {
                required property string modelData
                width: board.width < Theme.phoneBreakpoint ? columns.width
                       : (columns.width - 3 * columns.spacing) / 4
                height: columns.height
                status: modelData
                connection: board.connection
                assigneeFilter: assigneeBox.currentValue === undefined ? -1 : assigneeBox.currentValue
                priorityFilter: priorityBox.currentValue === undefined ? "" : priorityBox.currentValue
                dragGhost: board.width < Theme.phoneBreakpoint ? null : cardGhost
                onEditRequested: (id) => editor.openFor(id)
                onMoveRequested: (id, d) => board.move(id, d)
                onDropRequested: (id, s) => board.moveTo(id, s)
            }
        }
    }

    // What follows the pointer while a card is dragged: a copy of the card above the columns (the
    // card itself stays in its column's list, which clips, until the drop moves it). A card's
    // MouseArea drags it and drops it on the column under it (TaskColumn's DropArea).
    Rectangle {
        id: cardGhost
        objectName: "dragGhost"
        property var taskId: null
        property string title
        property string fromStatus
        visible: Drag.active
        z: 10
        width: 200
        height: ghostLabel.implicitHeight + 2 * Theme.spacing
        radius: Theme.radius
        color: Theme.surface
        border.color: Theme.accent
        border.width: 2
        opacity: 0.9
        Accessible.ignored: true // a picture of the dragged card
        Drag.keys: ["taskmaster/task"]
        Label {
            id: ghostLabel
            anchors.fill: parent
            anchors.margins: Theme.spacing
            text: cardGhost.title
            elide: Text.ElideRight
            color: Theme.text
        }
    }

    TaskEditor {
        id: editor
        connection: board.connection
    }
}
