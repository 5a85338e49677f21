// AdminPage: live figures of the instance for admins (GET /admin/stats every 2 s): connections,
// messages per second, delivery latency percentiles, REST cache hit rate, database pool, replica
// reads (when there is a replica), totals; small line charts of the last two minutes. The cache
// counters are totals since the instance started: the card shows that rate, its chart the rate of
// the reads between two samples (the rate so far when there were none).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import TaskMaster.Net
import TaskMaster.Ui

Rectangle {
    id: page
    property Connection connection
    property bool active: visible
    color: Theme.background
    readonly property var stats: connection ? connection.admin.stats : ({})
    readonly property var realtime: stats.realtime || ({})
    readonly property var delivery: realtime.deliveryMs || ({})
    readonly property var cache: realtime.cache || null // null: the REST cache is off
    readonly property var reads: realtime.reads || null // null: no read replica
    property var connectionsHistory: []
    property var rateHistory: []
    property var p99History: []
    property var hitRateHistory: [] // percent
    property var lastSample: null
    property var lastCache: null

    function push(list, v) {
        const l = list.slice(-59)
        l.push(v)
        return l
    }
    onStatsChanged: {
        if (!stats.sampledAt)
            return
        const messages = stats.totals ? stats.totals.messages : 0
        let rate = 0
        if (lastSample && stats.sampledAt > lastSample.at)
            rate = Math.max(0, (messages - lastSample.messages) * 1000 / (stats.sampledAt - lastSample.at))
        lastSample = { at: stats.sampledAt, messages: messages }
        connectionsHistory = push(connectionsHistory, realtime.connections || 0)
        rateHistory = push(rateHistory, rate)
        p99History = push(p99History, delivery.p99 || 0)
        if (cache) {
            let hitRate = cache.hitRate || 0
            if (lastCache) {
                const hits = cache.hits - lastCache.hits
                const misses = cache.misses - lastCache.misses
                if (hits >= 0 && misses >= 0 && hits + misses > 0)
                    hitRate = hits / (hits + misses)
            }
            lastCache = { hits: cache.hits, misses: cache.misses }
            hitRateHistory = push(hitRateHistory, hitRate * 100)
        }
    }

    Timer {
        interval: 2000
        repeat: true
        running: page.active && page.connection && page.connection.isAdmin
        triggeredOnStart: true
        onTriggered: page.connection.admin.refresh()
    }

    component StatCard: Rectangle {
        id: card
        property string title
        property string value
        property string detail
        property var series: []
        property real maxValue: 0 // top of the chart; 0: the largest value shown
        Layout.fillWidth: true
        Layout.preferredHeight: 150
        radius: Theme.radius
        color: Theme.surface
        border.color: Theme.border
        onSeriesChanged: chart.requestPaint()
        Accessible.role: Accessible.StaticText
        Accessible.name: card.detail.length > 0 ? qsTr("%1: %2, %3").arg(card.title).arg(card.value).arg(card.detail)
                                                : qsTr("%1: %2").arg(card.title).arg(card.value)
        ColumnLayout {
            anchors.fill: parent
            anchors.margins: 12
            Label { text: card.title; color: Theme.textMuted; font.pixelSize: 12 }
            Label { objectName: "value"; text: card.value; color: Theme.text; font.pixelSize: 26; font.bold: true }
            Label {
                visible: card.detail.length > 0
                text: card.detail
                color: Theme.textMuted
                font.pixelSize: 11
            }
            Canvas {
                id: chart
                Layout.fillWidth: true
                Layout.fillHeight: true
                Accessible.ignored: true // the card's name gives the figure
                onPaint: {
                    const ctx = getContext("2d")
                    ctx.reset()
                    const s = card.series
                    if (s.length < 2)
                        return
                    const max = card.maxValue > 0 ? card.maxValue : Math.max(1, Math.max.apply(null, s))
                    ctx.strokeStyle = Theme.accent
                    ctx.lineWidth = 2
                    ctx.beginPath()
                    for (let i = 0; i < s.length; ++i) {
                        const x = i * width / 59
                        const y = height - s[i] / max * (height - 2) - 1
                        if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y)
                    }
                    ctx.stroke()
                }
            }
        }
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0
        PageHeader {
            Layout.fillWidth: true
            title: qsTr("Admin")
            subtitle: page.stats.instance ? qsTr("Instance %1, up %2 s").arg(page.stats.instance).arg(page.stats.uptimeSeconds) : ""
        }
        Label {
            visible: page.connection && !page.connection.isAdmin
            text: qsTr("Only administrators see this page.")
            color: Theme.textMuted
            Layout.margins: 16
        }
        GridLayout {
            visible: page.connection && page.connection.isAdmin
            Layout.fillWidth: true
            Layout.margins: 12
            columns: page.width < Theme.phoneBreakpoint ? 1 : page.width < 1100 ? 2 : 4
            columnSpacing: 12
            rowSpacing: 12
            StatCard {
                title: qsTr("WebSocket connections")
                value: page.realtime.connections !== undefined ? page.realtime.connections : "–"
                series: page.connectionsHistory
            }
            StatCard {
                title: qsTr("Messages per second")
                value: page.rateHistory.length ? page.rateHistory[page.rateHistory.length - 1].toFixed(1) : "–"
                series: page.rateHistory
            }
            StatCard {
                title: qsTr("Delivery p50 / p95 / p99 (ms)")
                value: page.delivery.count ? "%1 / %2 / %3".arg(page.delivery.p50.toFixed(1)).arg(page.delivery.p95.toFixed(1)).arg(page.delivery.p99.toFixed(1)) : "–"
                series: page.p99History
            }
            StatCard {
                objectName: "cacheHitRate"
                title: qsTr("REST cache hit rate")
                value: page.cache ? "%1 %".arg((page.cache.hitRate * 100).toFixed(1))
                                  : page.stats.sampledAt ? qsTr("off") : "–"
                detail: page.cache ? qsTr("%1 hits / %2 misses since start").arg(page.cache.hits).arg(page.cache.misses) : ""
                series: page.hitRateHistory
                maxValue: 100
            }
        }
        Label {
            objectName: "replicaReads"
            visible: page.connection && page.connection.isAdmin && page.reads !== null
            Layout.leftMargin: 12
            Layout.rightMargin: 12
            color: Theme.textMuted
            text: page.reads
                  ? qsTr("Reads: %1 from the replica (%2) · %3 from the primary")
                    .arg(page.reads.replica).arg(page.reads.replicaUp ? qsTr("up") : qsTr("down")).arg(page.reads.primary)
                  : ""
        }
        Label {
            visible: page.connection && page.connection.isAdmin && !!page.stats.totals
            Layout.margins: 12
            color: Theme.textMuted
            text: page.stats.totals
                  ? qsTr("Users %1 · rooms %2 · messages %3 · projects %4 · tasks %5 · sessions %6 · db pool %7 busy / %8 idle")
                    .arg(page.stats.totals.users).arg(page.stats.totals.rooms).arg(page.stats.totals.messages)
                    .arg(page.stats.totals.projects).arg(page.stats.totals.tasks).arg(page.stats.totals.sessions)
                    .arg(page.stats.dbPool ? page.stats.dbPool.busy : 0).arg(page.stats.dbPool ? page.stats.dbPool.idle : 0)
                  : ""
        }
        Label {
            // This client's HTTP revalidation (If-None-Match): its own figures, not the server's.
            objectName: "revalidation"
            visible: !!page.connection
            Layout.leftMargin: 12
            Layout.rightMargin: 12
            color: Theme.textMuted
            text: page.connection
                  ? qsTr("This client: %n answer(s) not modified (304)", "", page.connection.admin.notModifiedCount)
                    + qsTr(", %1 KB not downloaded again").arg((page.connection.admin.bytesSaved / 1024).toFixed(1))
                  : ""
        }
        Item { Layout.fillHeight: true }
    }
}
