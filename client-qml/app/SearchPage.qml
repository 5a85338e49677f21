// SearchPage: full-text search over the messages and tasks the user can see; a result opens
// its room or project.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import TaskMaster.Net
import TaskMaster.Ui

Rectangle {
    id: page
    property Connection connection
    signal openRoomRequested(var roomId)
    signal openProjectRequested(var projectId)
    color: Theme.background
    readonly property var results: connection ? connection.search.results : null

    ColumnLayout {
        anchors.fill: parent
        spacing: 0
        PageHeader { Layout.fillWidth: true; title: qsTr("Search") }
        TextField {
            id: query
            objectName: "searchField"
            Layout.fillWidth: true
            Layout.margins: Theme.spacing
            placeholderText: qsTr("Search messages and tasks")
            Accessible.name: qsTr("Search")
            Accessible.description: placeholderText
            onTextEdited: debounce.restart()
            onAccepted: page.connection.search.search(text)
        }
        Timer {
            id: debounce
            interval: 300
            onTriggered: page.connection.search.search(query.text)
        }
        ListView {
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            Accessible.name: qsTr("Results")
            model: page.results
            delegate: ItemDelegate {
                id: hit
                required property string kind
                required property var projectId
                required property var roomId
                required property string roomName
                required property var authorId
                required property string title
                required property string status
                required property string body
                readonly property bool isTask: kind === "task"
                width: ListView.view.width
                Accessible.name: hitKind.text + ": " + hitText.text
                onClicked: isTask ? page.openProjectRequested(projectId) : page.openRoomRequested(roomId)
                contentItem: ColumnLayout {
                    spacing: 2
                    Label {
                        id: hitKind
                        Layout.fillWidth: true
                        text: hit.isTask ? qsTr("Task · %1").arg(Theme.statusTitle(hit.status))
                                         : qsTr("%1 · %2").arg(page.connection
                                                   ? (void page.connection.users.revision,
                                                      page.connection.rooms.title(hit.roomId) || "#" + hit.roomName)
                                                   : "#" + hit.roomName)
                                               .arg(page.connection ? (void page.connection.users.revision, page.connection.users.userName(hit.authorId)) : "")
                        color: Theme.textMuted
                        font.pixelSize: 12
                    }
                    Label {
                        id: hitText
                        Layout.fillWidth: true
                        text: hit.isTask ? hit.title : hit.body
                        color: Theme.text
                        elide: Text.ElideRight
                        textFormat: Text.PlainText
                    }
                }
            }
            Label {
                anchors.centerIn: parent
                visible: parent.count === 0 && query.text.length > 0 && !!page.results && page.results.query === query.text
                text: qsTr("Nothing found")
                color: Theme.textMuted
            }
        }
    }
}
