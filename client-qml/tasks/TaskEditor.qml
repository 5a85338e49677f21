// TaskEditor: create or edit a task: title, description, status, priority, assignee (picked
// from a user search), due date (YYYY-MM-DD) and attachments: the task's own (each can be taken
// off) and new files (the Attach button or a drop; uploaded at once with progress and cancel,
// connection.attachments.taskUploads), saved with the task.
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
    // The task's attachments kept (maps of taskInfo().attachments).
    property var kept: []
    readonly property var uploads: connection ? connection.attachments.taskUploads : null
    readonly property var statuses: ["todo", "in_progress", "review", "done"]
    readonly property var priorities: ["low", "medium", "high", "urgent"]
    title: taskId ? qsTr("Edit task") : qsTr("New task")
    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(440, parent ? parent.width - 32 : 440)
    standardButtons: Dialog.Save | Dialog.Cancel
    onRejected: uploads.clear() // uploaded but not saved: collected by the server after a day

    // Save waits for the uploads.
    Component.onCompleted: {
        const save = standardButton(Dialog.Save)
        if (save)
            save.enabled = Qt.binding(() => !editor.uploads || !editor.uploads.busy)
    }

    // QtQuick.Dialogs is made on first use (as in Composer.qml).
    property var fileDialog: null
    function chooseFiles() {
        if (!fileDialog) {
            try {
                fileDialog = Qt.createQmlObject(
                    'import QtQuick.Dialogs; FileDialog { fileMode: FileDialog.OpenFiles; title: qsTr("Attach files") }',
                    editor, "TaskEditor.fileDialog")
                fileDialog.accepted.connect(() => editor.connection.attachments.uploadFiles(
                                                editor.uploads, fileDialog.selectedFiles))
            } catch (e) {
                console.warn("no file dialog (QtQuick.Dialogs):", e)
                return
            }
        }
        fileDialog.open()
    }

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
        kept = t.attachments || []
        uploads.clear()
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
            dueDate: dueField.text,
            attachmentIds: kept.map(a => a.attachmentId).concat(uploads.readyIds())
        }
        uploads.clear()
        if (taskId)
            connection.board.updateTask(taskId, fields)
        else
            connection.board.createTask(fields)
    }

    GridLayout {
        anchors.fill: parent
        columns: 2
        columnSpacing: Theme.spacing
        // Each field is named by the label before it.
        Label { id: titleLabel; text: qsTr("Title") }
        TextField { id: titleField; objectName: "titleField"; Layout.fillWidth: true; Accessible.name: titleLabel.text }
        Label { id: descriptionLabel; text: qsTr("Description") }
        TextField { id: descriptionField; Layout.fillWidth: true; Accessible.name: descriptionLabel.text }
        Label { id: statusLabel; text: qsTr("Status") }
        ComboBox {
            id: statusBox
            Layout.fillWidth: true
            Accessible.name: statusLabel.text
            model: editor.statuses.map(s => Theme.statusTitle(s))
        }
        Label { id: priorityLabel; text: qsTr("Priority") }
        ComboBox {
            id: priorityBox
            Layout.fillWidth: true
            Accessible.name: priorityLabel.text
            model: editor.priorities.map(p => Theme.priorityTitle(p))
        }
        Label { id: assigneeLabel; text: qsTr("Assignee") }
        ColumnLayout {
            Layout.fillWidth: true
            TextField {
                id: assigneeField
                objectName: "assigneeField"
                Layout.fillWidth: true
                placeholderText: qsTr("Type a name")
                Accessible.name: assigneeLabel.text
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
        Label { id: dueLabel; text: qsTr("Due date") }
        TextField {
            id: dueField
            Layout.fillWidth: true
            Accessible.name: dueLabel.text
            placeholderText: qsTr("YYYY-MM-DD")
            validator: RegularExpressionValidator { regularExpression: /^$|^\d{4}-\d{2}-\d{2}$/ }
        }
        Label { text: qsTr("Attachments"); Layout.alignment: Qt.AlignTop }
        ColumnLayout {
            objectName: "taskAttachments"
            Layout.fillWidth: true
            DropArea {
                Layout.fillWidth: true
                Layout.preferredHeight: attachFlow.implicitHeight
                keys: ["text/uri-list"]
                onDropped: (event) => {
                    if (event.hasUrls) {
                        editor.connection.attachments.uploadFiles(editor.uploads, event.urls)
                        event.acceptProposedAction()
                    }
                }
                Flow {
                    id: attachFlow
                    width: parent.width
                    spacing: 6
                    Repeater {
                        model: editor.kept
                        delegate: Rectangle {
                            required property var modelData
                            required property int index
                            width: keptRow.implicitWidth + 12
                            height: keptRow.implicitHeight + 6
                            radius: Theme.radius
                            color: Theme.surfaceAlt
                            RowLayout {
                                id: keptRow
                                anchors.centerIn: parent
                                Label {
                                    text: modelData.name + " · " + Theme.fileSize(modelData.size)
                                    color: Theme.text
                                    font.pixelSize: 12
                                }
                                ToolButton {
                                    text: "✕"
                                    Accessible.name: qsTr("Take off %1").arg(modelData.name)
                                    onClicked: {
                                        const list = editor.kept.slice()
                                        list.splice(index, 1)
                                        editor.kept = list
                                    }
                                }
                            }
                        }
                    }
                    Repeater {
                        model: editor.uploads
                        delegate: Rectangle {
                            id: upChip
                            required property int index
                            required property string name
                            required property var size
                            required property real progress
                            required property bool uploading
                            required property bool failed
                            width: upRow.implicitWidth + 12
                            height: upRow.implicitHeight + 6
                            radius: Theme.radius
                            color: Theme.surfaceAlt
                            border.color: failed ? Theme.danger : Theme.border
                            RowLayout {
                                id: upRow
                                anchors.centerIn: parent
                                ColumnLayout {
                                    Label {
                                        text: upChip.name + " · " + Theme.fileSize(upChip.size)
                                        color: upChip.failed ? Theme.danger : Theme.text
                                        font.pixelSize: 12
                                    }
                                    ProgressBar {
                                        Accessible.name: qsTr("Uploading %1").arg(upChip.name)
                                        visible: upChip.uploading
                                        value: upChip.progress
                                        Layout.preferredWidth: 100
                                    }
                                }
                                ToolButton {
                                    text: "✕"
                                    Accessible.name: qsTr("Remove %1").arg(upChip.name)
                                    onClicked: editor.connection.attachments.cancel(editor.uploads, upChip.index)
                                }
                            }
                        }
                    }
                }
            }
            Button {
                objectName: "taskAttachButton"
                text: qsTr("Attach files…")
                onClicked: editor.chooseFiles()
            }
        }
    }
}
