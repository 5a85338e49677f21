// Format: how the client writes times. Message times show hours and minutes as the locale writes
// them, without seconds (the C locale's short format has them), and the full date and time on
// hover; the room list shows today's times and the date of older ones.
pragma Singleton
import QtQuick

QtObject {
    function valid(date) {
        return !!date && !isNaN(date.getTime())
    }
    // "14:05" / "2:05 PM": the locale's short time format without its seconds.
    function shortTime(date) {
        if (!valid(date))
            return ""
        const format = Qt.locale().timeFormat(Locale.ShortFormat).replace(/[:.]ss(\.zzz)?/, "").replace(/\s*t\s*$/, "")
        return date.toLocaleTimeString(Qt.locale(), format)
    }
    // Date and time in full, for a tooltip.
    function fullDateTime(date) {
        return valid(date) ? date.toLocaleString(Qt.locale(), Locale.LongFormat) : ""
    }
    // The room list: the time of today's messages, the date of older ones.
    function listTime(date) {
        if (!valid(date))
            return ""
        const now = new Date()
        if (date.toDateString() === now.toDateString())
            return shortTime(date)
        return date.toLocaleDateString(Qt.locale(), Locale.ShortFormat)
    }
}
