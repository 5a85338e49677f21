// StatusBar: the connection's state (online, connecting, resyncing, offline) as a dot and a word.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

RowLayout {
    id: bar
    property string state: "offline"
    property int attempt: 0
    spacing: 6

    Rectangle {
        width: 10
        height: 10
        radius: 5
        Accessible.ignored: true // the word says it
        color: bar.state === "online" ? Theme.success
             : bar.state === "offline" ? Theme.danger : Theme.warning
    }
    Label {
        objectName: "connectionState"
        color: Theme.textMuted
        text: bar.state === "online" ? qsTr("Online")
            : bar.state === "connecting" ? qsTr("Connecting…")
            : bar.state === "resyncing" ? qsTr("Catching up…")
            : bar.attempt > 0 ? qsTr("Offline, retrying") : qsTr("Offline")
    }
}
