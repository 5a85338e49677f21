// Badge: a small count (unread, tasks in a column); hidden at zero unless `showZero`.
import QtQuick
import QtQuick.Controls

Rectangle {
    id: badge
    property int count: 0
    property bool showZero: false
    property color fill: Theme.accent
    visible: count > 0 || showZero
    implicitHeight: 20
    implicitWidth: Math.max(20, label.implicitWidth + 12)
    radius: height / 2
    color: fill
    Accessible.role: Accessible.StaticText
    Accessible.name: label.text

    Label {
        id: label
        Accessible.ignored: true
        anchors.centerIn: parent
        text: badge.count > 999 ? "999+" : badge.count
        color: Theme.accentText
        font.pixelSize: 11
        font.bold: true
    }
}
