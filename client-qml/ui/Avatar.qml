// Avatar: a user's initials on a colour of their own, with an optional presence dot.
// Decoration beside a name by default (hidden from assistive technology); set `described` where
// it stands alone: it is then read as the name and, with the dot, online or offline.
import QtQuick
import QtQuick.Controls

Rectangle {
    id: avatar
    property int userId: 0
    property string name: ""
    property bool showPresence: false
    property bool online: false
    property bool described: false
    Accessible.ignored: !described
    Accessible.role: Accessible.Graphic
    Accessible.name: !showPresence ? name : online ? qsTr("%1, online").arg(name) : qsTr("%1, offline").arg(name)
    implicitWidth: 32
    implicitHeight: 32
    radius: width / 2
    color: Theme.userColor(userId)

    Label {
        anchors.centerIn: parent
        Accessible.ignored: true
        text: avatar.name.length > 0 ? avatar.name.charAt(0).toUpperCase() : "?"
        color: "white"
        font.bold: true
        font.pixelSize: avatar.height * 0.45
    }
    Rectangle {
        visible: avatar.showPresence
        Accessible.ignored: true
        width: avatar.width * 0.32
        height: width
        radius: width / 2
        anchors.right: parent.right
        anchors.bottom: parent.bottom
        color: avatar.online ? Theme.success : Theme.textMuted
        border.color: Theme.surface
        border.width: 2
    }
}
