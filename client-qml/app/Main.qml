import QtQuick
import QtQuick.Controls

ApplicationWindow {
    id: window
    width: 1024
    height: 720
    visible: true
    title: qsTr("TaskMaster")

    Label {
        anchors.centerIn: parent
        text: qsTr("TaskMaster")
        font.pixelSize: 32
    }
}
