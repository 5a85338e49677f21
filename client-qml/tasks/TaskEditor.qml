// TaskEditor: create or edit a task: title, description, status, priority, assignee (picked
// from a user search) and due date (YYYY-MM-DD).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import TaskMaster.Net
import TaskMaster.Ui

Dialog {
    id: editor
    objectName: "taskEditor"
    property Connection connection
    property var taskId: 0
    property var assigneeId: 0
    readonly property var statuses: ["todo", "in_progress", "review", "done"]
    readonly property var priorities: ["low", "medium", "high", "urgent"]
    title: taskId ? qsTr("Edit task") : qsTr("New task")
    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(440, parent ? parent.width - 32 : 440)
    standardButtons: Dialog.Save | Dialog.Cancel

    function openFor(id) {
        taskId = id
        const t = id ? connection.board.taskInfo(id) : ({})
        titleField.text = t.title || ""
        descriptionField.text = t.description || ""
        statusBox.currentIndex = Math.max(0, statuses.indexOf(t.status || "todo"))
        priorityBox.currentIndex = Math.max(0, priorities.indexOf(t.priority || "medium"))
        assigneeId = t.assigneeId || 0
        assigneeField.text = assigneeId ? connection.users.userName(assigneeId) : ""
        dueField.text = t.dueDate || ""
        open()
        titleField.forceActiveFocus()
    }

    onAccepted: {
        const fields = {
            title: titleField.text,
            description: descriptionField.text,
            status: statuses[statusBox.currentIndex],
            priority: priorities[priorityBox.currentIndex],
            assigneeId: assigneeId,
            dueDate: dueField.text
        }
        if (taskId)
            connection.board.updateTask(taskId, fields)
        else
            connection.board.createTask(fields)
    }

    GridLayout {
        anchors.fill: parent
        columns: 2
        columnSpacing: Theme.spacing
        Label { text: qsTr("Title") }
        TextField { id: titleField; Layout.fillWidth: true }
        Label { text: qsTr("Description") }
        TextField { id: descriptionField; Layout.fillWidth: true }
        Label { text: qsTr("Status") }
        ComboBox {
            id: statusBox
            Layout.fillWidth: true
            model: editor.statuses.map(s => Theme.statusTitle(s))
        }
        Label { text: qsTr("Priority") }
        ComboBox { id: priorityBox; Layout.fillWidth: true; model: editor.priorities }
        Label { text: qsTr("Assignee") }
        ColumnLayout {
            Layout.fillWidth: true
            TextField {
                id: assigneeField
                objectName: "assigneeField"
                Layout.fillWidth: true
                placeholderText: qsTr("Type a name")
                onTextEdited: {
                    editor.assigneeId = 0
                    if (text.length > 0)
                        editor.connection.users.searchUsers(text)
                }
            }
            Repeater {
                model: assigneeField.activeFocus && editor.assigneeId === 0 ? editor.connection.users.matches : null
                delegate: ItemDelegate {
                    required property var userId
                    required property string username
                    required property string displayName
                    Layout.fillWidth: true
                    text: displayName + " (@" + username + ")"
                    onClicked: {
                        // The name first: setting the assignee empties this Repeater, which
                        // destroys this delegate.
                        assigneeField.text = displayName
                        editor.assigneeId = userId
                    }
                }
            }
        }
        Label { text: qsTr("Due date") }
        TextField {
            id: dueField
            Layout.fillWidth: true
            placeholderText: "YYYY-MM-DD"
            validator: RegularExpressionValidator { regularExpression: /^$|^\d{4}-\d{2}-\d{2}$/ }
        }
    }
}
