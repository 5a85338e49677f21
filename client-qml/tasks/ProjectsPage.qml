// ProjectsPage: the projects the user belongs to; picking one opens its task board.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import TaskMaster.Net
import TaskMaster.Ui

Rectangle {
    id: page
    property Connection connection
    color: Theme.surface

    ColumnLayout {
        anchors.fill: parent
        spacing: 0
        PageHeader {
            Layout.fillWidth: true
            title: qsTr("Projects")
            ToolButton {
                objectName: "newProjectButton"
                text: "+"
                font.pixelSize: 20
                onClicked: newProject.open()
                Accessible.name: qsTr("New project")
                ToolTip.visible: hovered
                ToolTip.text: qsTr("New project")
            }
        }
        ListView {
            id: list
            objectName: "projectList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: page.connection ? page.connection.projects.model : null
            Accessible.name: qsTr("Projects")
            delegate: ItemDelegate {
                id: row
                required property var projectId
                required property string name
                required property string description
                readonly property bool current: page.connection.board.projectId === projectId
                width: ListView.view.width
                height: 52
                highlighted: current
                Accessible.name: row.name
                Accessible.description: row.description
                onClicked: page.connection.board.openProject(projectId)
                background: Rectangle { color: row.current ? Theme.surfaceAlt : Theme.surface }
                contentItem: ColumnLayout {
                    spacing: 2
                    Label { text: row.name; color: Theme.text; font.bold: true; elide: Text.ElideRight; Layout.fillWidth: true }
                    Label {
                        text: row.description
                        visible: text.length > 0
                        color: Theme.textMuted
                        font.pixelSize: 12
                        elide: Text.ElideRight
                        Layout.fillWidth: true
                    }
                }
            }
            Label {
                anchors.centerIn: parent
                visible: list.count === 0
                text: qsTr("No projects yet")
                color: Theme.textMuted
            }
        }
    }

    Dialog {
        id: newProject
        objectName: "newProjectDialog"
        title: qsTr("New project")
        modal: true
        anchors.centerIn: Overlay.overlay
        standardButtons: Dialog.Ok | Dialog.Cancel
        onAccepted: {
            if (projectName.text.trim().length > 0)
                page.connection.projects.createProject(projectName.text, projectDescription.text)
            projectName.text = ""
            projectDescription.text = ""
        }
        ColumnLayout {
            TextField {
                id: projectName
                objectName: "projectNameField"
                placeholderText: qsTr("Name")
                Accessible.name: qsTr("Project name")
                Layout.preferredWidth: 280
            }
            TextField {
                id: projectDescription
                placeholderText: qsTr("Description")
                Accessible.name: qsTr("Project description")
                Layout.preferredWidth: 280
            }
        }
    }
}
