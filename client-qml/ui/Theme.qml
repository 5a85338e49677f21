// Theme: colours and metrics of the client. Light or dark follows the system palette
// (Qt 6.4 has no colour-scheme hint: a dark window colour means a dark system theme);
// `mode` can force "light" or "dark".
pragma Singleton
import QtQuick

QtObject {
    id: theme
    property string mode: "system" // "system" | "light" | "dark"
    readonly property SystemPalette system: SystemPalette { colorGroup: SystemPalette.Active }
    readonly property bool dark: mode === "dark" || (mode === "system" && system.window.hslLightness < 0.5)

    readonly property color background: dark ? "#17191c" : "#f6f7f9"
    readonly property color surface: dark ? "#202328" : "#ffffff"
    readonly property color surfaceAlt: dark ? "#2a2e35" : "#eef0f3"
    readonly property color border: dark ? "#363b43" : "#d9dde3"
    readonly property color text: dark ? "#e8eaed" : "#1d2126"
    readonly property color textMuted: dark ? "#9aa0a8" : "#5f6670"
    readonly property color accent: dark ? "#6ea8ff" : "#2f6fdb"
    readonly property color accentText: "#ffffff"
    readonly property color danger: dark ? "#ff7b72" : "#c62828"
    readonly property color success: dark ? "#56d364" : "#2e7d32"
    readonly property color warning: dark ? "#e3b341" : "#b26a00"
    readonly property color ownBubble: dark ? "#23406b" : "#dbe8ff"
    readonly property color otherBubble: dark ? "#2a2e35" : "#ffffff"

    readonly property int spacing: 8
    readonly property int radius: 8
    readonly property int phoneBreakpoint: 600

    function priorityColor(p) {
        switch (p) {
        case "urgent": return danger
        case "high": return warning
        case "medium": return accent
        default: return textMuted
        }
    }
    // "820 B", "14.2 KB", "3.1 MB" (attachments' sizes).
    function fileSize(bytes) {
        const n = Number(bytes)
        if (n < 1024)
            return qsTr("%1 B").arg(n)
        if (n < 1024 * 1024)
            return qsTr("%1 KB").arg((n / 1024).toFixed(1))
        return qsTr("%1 MB").arg((n / (1024 * 1024)).toFixed(1))
    }
    function priorityTitle(p) {
        switch (p) {
        case "urgent": return qsTr("Urgent")
        case "high": return qsTr("High")
        case "medium": return qsTr("Medium")
        case "low": return qsTr("Low")
        default: return p
        }
    }
    function statusTitle(s) {
        switch (s) {
        case "todo": return qsTr("To do")
        case "in_progress": return qsTr("In progress")
        case "review": return qsTr("Review")
        case "done": return qsTr("Done")
        default: return s
        }
    }
    // A stable colour per user id for avatars.
    function userColor(id) {
        const hues = [0.58, 0.08, 0.33, 0.83, 0.48, 0.15, 0.68, 0.95]
        return Qt.hsla(hues[Math.abs(id) % hues.length], 0.55, dark ? 0.45 : 0.55, 1)
    }
}
