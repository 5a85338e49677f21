#include "server/ws/hub_metrics.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace taskmaster::server {

HubMetrics::HubMetrics(MetricsRegistry &registry, const GroupCommit &commit, std::function<qint64()> openConnections)
    : m_commit(commit), m_openConnections(std::move(openConnections))
{
    m_delivery = &registry.histogram("message_delivery_time_ms",
                                     "Time from a send frame's arrival to the write to its last local recipient.");
    auto &stages = registry.histogramFamily(
        "group_commit_stage_ms",
        "Where a write's time goes before its fan-out: queue (arrival to its batch's start, per write), "
        "pool_wait, database (BEGIN to COMMIT), return (back to the network thread), cache (version bump), "
        "per batch.",
        {QStringLiteral("stage")});
    const char *const names[] = {"queue", "pool_wait", "database", "return", "cache"};
    for (std::size_t i = 0; i < m_stages.size(); ++i)
        m_stages[i] = &stages.labels({QLatin1String(names[i])});
    registry.gaugeCallback("websocket_active_connections", "Open WebSocket connections.",
                           [this] { return double(m_openConnections()); });
    const auto counter = [&registry, this](const char *name, const char *help, const qint64 HubStats::*field) {
        registry.counterCallback(QLatin1String(name), QLatin1String(help),
                                 [this, field] { return double(m_stats.*field); });
    };
    counter("websocket_connections_accepted_total", "WebSocket connections accepted.", &HubStats::connectionsAccepted);
    counter("websocket_events_fanned_out_total", "Durable event frames written to sockets.",
            &HubStats::eventsFannedOut);
    counter("websocket_volatile_sent_total", "Volatile frames (typing, read, presence) written.",
            &HubStats::volatileSent);
    counter("websocket_volatile_dropped_total", "Volatile frames dropped for a full outbound queue.",
            &HubStats::volatileDropped);
    counter("websocket_slow_consumer_closes_total", "Connections closed with 4008 (outbound queue over its limit).",
            &HubStats::slowConsumerCloses);
    counter("websocket_malformed_frames_total", "Client frames answered with an error.", &HubStats::malformedFrames);
    counter("websocket_rate_limited_frames_total", "Client frames refused by the per-connection rate limit.",
            &HubStats::rateLimitedFrames);
    counter("websocket_replayed_events_total", "Durable events replayed from the database (resume, catch-up).",
            &HubStats::replayedEvents);
    counter("websocket_resyncs_total", "Resumes answered with resync.", &HubStats::resyncs);
    counter("channel_gap_fills_total", "Out-of-order gaps filled from the database.", &HubStats::gapFills);
    counter("websocket_hellos_queued_total", "Hellos that waited for a turn (more arrived than are worked on at once).",
            &HubStats::hellosQueued);
    counter("websocket_hellos_refused_total", "Hellos refused with a reconnect frame and 4013: the queue was full.",
            &HubStats::hellosRefused);
    counter("websocket_rebalanced_total",
            "Connections asked to reconnect elsewhere: this instance held more than its share of the cluster's.",
            &HubStats::rebalanced);
    registry.gaugeCallback("websocket_hellos_waiting", "Hellos waiting for a turn now.",
                           [this] { return double(m_stats.hellosWaiting); });
    registry.counterCallback(QStringLiteral("group_commit_batches_total"), QStringLiteral("Group commit batches."),
                             [this] { return double(m_commit.stats().batches); });
    registry.counterCallback(QStringLiteral("messages_written_total"),
                             QStringLiteral("WebSocket sends, edits and deletes written."),
                             [this] { return double(m_commit.stats().writes); });
    registry.counterCallback(
        QStringLiteral("writes_in_doubt_total"),
        QStringLiteral("Writes that failed with the commit's outcome unknown (the database connection broke)."),
        [this] { return double(m_commit.stats().inDoubt); });
    registry.counterCallback(QStringLiteral("writes_in_doubt_events_published_total"),
                             QStringLiteral("Events found committed in the rooms of writes in doubt and published."),
                             [this] { return double(m_commit.stats().reconciled); });
    registry.counterCallback(
        QStringLiteral("writes_in_doubt_unchecked_total"),
        QStringLiteral("Edits and deletes in doubt not checked: past the bound an instance keeps."),
        [this] { return double(m_commit.stats().doubtsDropped); });
}

HubStats HubMetrics::stats() const
{
    HubStats s = m_stats;
    s.connectionsActive = m_openConnections();
    s.groupCommit = m_commit.stats();
    return s;
}

QByteArray HubMetrics::statsJson(qint64 users, qint64 channels, const QJsonObject &rebalance) const
{
    const HubStats s = stats();
    QJsonObject o {
        {QStringLiteral("connections"), s.connectionsActive},
        {QStringLiteral("connectionsAccepted"), s.connectionsAccepted},
        {QStringLiteral("users"), users},
        {QStringLiteral("channels"), channels},
        {QStringLiteral("eventsFannedOut"), s.eventsFannedOut},
        {QStringLiteral("volatileSent"), s.volatileSent},
        {QStringLiteral("volatileDropped"), s.volatileDropped},
        {QStringLiteral("slowConsumerCloses"), s.slowConsumerCloses},
        {QStringLiteral("malformedFrames"), s.malformedFrames},
        {QStringLiteral("rateLimitedFrames"), s.rateLimitedFrames},
        {QStringLiteral("replayedEvents"), s.replayedEvents},
        {QStringLiteral("resyncs"), s.resyncs},
        {QStringLiteral("gapFills"), s.gapFills},
        {QStringLiteral("hellos"),
         QJsonObject {{QStringLiteral("waiting"), s.hellosWaiting},
                      {QStringLiteral("queued"), s.hellosQueued},
                      {QStringLiteral("refused"), s.hellosRefused}}},
        {QStringLiteral("groupCommit"),
         QJsonObject {{QStringLiteral("enabled"), m_commit.enabled()},
                      {QStringLiteral("batches"), s.groupCommit.batches},
                      {QStringLiteral("writes"), s.groupCommit.writes},
                      {QStringLiteral("largestBatch"), s.groupCommit.largestBatch}}},
        {QStringLiteral("deliveryMs"), m_delivery->snapshot().toJson()},
    };
    QJsonObject r = rebalance;
    r.insert(QStringLiteral("sent"), s.rebalanced);
    o.insert(QStringLiteral("rebalance"), r);
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace taskmaster::server
