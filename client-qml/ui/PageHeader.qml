// PageHeader: a page's title row with an optional back button (phone layout) and trailing items.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Rectangle {
    id: header
    property string title: ""
    property string subtitle: ""
    property bool showBack: false
    default property alias trailing: trailingRow.data
    signal back()
    implicitHeight: 52
    color: Theme.surface

    Rectangle { anchors.bottom: parent.bottom; width: parent.width; height: 1; color: Theme.border }

    RowLayout {
        anchors.fill: parent
        anchors.leftMargin: Theme.spacing
        anchors.rightMargin: Theme.spacing
        spacing: Theme.spacing

        ToolButton {
            visible: header.showBack
            text: "‹"
            font.pixelSize: 22
            onClicked: header.back()
            Accessible.name: qsTr("Back")
        }
        ColumnLayout {
            Layout.fillWidth: true
            spacing: 0
            Label {
                Layout.fillWidth: true
                text: header.title
                font.pixelSize: 17
                font.bold: true
                color: Theme.text
                elide: Text.ElideRight
            }
            Label {
                Layout.fillWidth: true
                visible: header.subtitle.length > 0
                text: header.subtitle
                color: Theme.textMuted
                font.pixelSize: 12
                elide: Text.ElideRight
            }
        }
        RowLayout { id: trailingRow; spacing: Theme.spacing }
    }
}
