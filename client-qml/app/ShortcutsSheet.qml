// ShortcutsSheet: every keyboard shortcut of the client, from AppShell's `shortcuts` list (the one
// that also installs them): the keys (named as the platform and the language name them) and what
// they do, grouped by where they work. Escape or Close closes it.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import TaskMaster.Net
import TaskMaster.Ui

Dialog {
    id: sheet
    objectName: "shortcutsSheet"
    // [{sequences: [...], text, where}] as in AppShell.shortcuts.
    property var entries: []
    title: qsTr("Keyboard shortcuts")
    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(560, parent ? parent.width - 32 : 560)
    height: Math.min(implicitHeight, parent ? parent.height - 32 : implicitHeight)
    standardButtons: Dialog.Close

    // "Ctrl+1 … Ctrl+9" for a run of keys, "Ctrl+/ or F1" for alternatives; the keys named as the
    // platform and the language name them (KeyNames: "Strg" in German).
    function keysText(sequences) {
        const names = sequences.map((s) => KeyNames.nativeText(s))
        if (names.length > 2)
            return qsTr("%1 … %2").arg(names[0]).arg(names[names.length - 1])
        return names.length === 2 ? qsTr("%1 or %2").arg(names[0]).arg(names[1]) : names[0]
    }

    ListView {
        id: list
        objectName: "shortcutList"
        implicitHeight: contentHeight
        implicitWidth: 480
        anchors.fill: parent
        clip: true
        model: sheet.entries
        Accessible.name: sheet.title
        delegate: ColumnLayout {
            id: entry
            required property int index
            required property var modelData
            // The first entry of its group carries the group's title.
            readonly property bool firstOfGroup: index === 0 || sheet.entries[index - 1].where !== modelData.where
            width: ListView.view.width
            spacing: 2
            Label {
                visible: entry.firstOfGroup
                text: entry.modelData.where
                font.bold: true
                color: Theme.text
                topPadding: entry.index === 0 ? 0 : 10
                Accessible.role: Accessible.Heading
            }
            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.spacing
                Accessible.role: Accessible.ListItem
                Accessible.name: qsTr("%1: %2").arg(keysLabel.text).arg(entry.modelData.text)
                Label {
                    id: keysLabel
                    objectName: "shortcutKeys"
                    Layout.preferredWidth: 170
                    text: sheet.keysText(entry.modelData.sequences)
                    font.family: "monospace"
                    color: Theme.accent
                }
                Label {
                    objectName: "shortcutText"
                    Layout.fillWidth: true
                    text: entry.modelData.text
                    wrapMode: Text.Wrap
                    color: Theme.text
                }
            }
        }
    }
}
