#include "server/storage/event_store.h"

#include "server/storage/sql.h"

namespace taskmaster::server::store {

int channelKindCode(ChannelKind kind)
{
    return kind == ChannelKind::Room ? 0 : 1;
}

int eventTypeCode(EventType type)
{
    // Stored values: never renumber.
    switch (type) {
    case EventType::MessageCreated:
        return 0;
    case EventType::MessageUpdated:
        return 1;
    case EventType::TaskCreated:
        return 2;
    case EventType::TaskUpdated:
        return 3;
    case EventType::TaskDeleted:
        return 4;
    case EventType::MemberJoined:
        return 5;
    case EventType::MemberLeft:
        return 6;
    }
    return -1;
}

Result<Seq> reserveSeqs(QSqlDatabase &db, const Channel &channel, int n)
{
    const QString table = channel.kind == ChannelKind::Room ? QStringLiteral("rooms") : QStringLiteral("projects");
    auto q = sql::run(db, "events.reserve",
                      QStringLiteral("UPDATE ") + table
                          + QStringLiteral(" SET last_seq = last_seq + ? WHERE id = ? RETURNING last_seq"),
                      {n, channel.id});
    if (!q)
        return q.error();
    if (!q->next())
        return Error {ErrorCode::NotFound, QStringLiteral("channel not found"), {}};
    return q->value(0).toLongLong() - n + 1;
}

Status recordEvents(QSqlDatabase &db, const Channel &channel, Seq firstSeq, const QList<EventRow> &events, qint64 nowMs)
{
    if (events.isEmpty())
        return std::nullopt;
    // Multi-row inserts in the few chunk sizes of sql::rowChunks, each statement prepared once
    // per connection.
    qsizetype start = 0;
    for (const int n : sql::rowChunks(events.size())) {
        QString text = QStringLiteral(
            "INSERT INTO channel_events (channel_kind, channel_id, seq, type, entity_id, created_at) VALUES ");
        QVariantList binds;
        binds.reserve(n * 6);
        for (qsizetype i = start; i < start + n; ++i) {
            text += i == start ? QStringLiteral("(?, ?, ?, ?, ?, ?)") : QStringLiteral(", (?, ?, ?, ?, ?, ?)");
            binds << channelKindCode(channel.kind) << channel.id << firstSeq + i << eventTypeCode(events[i].type)
                  << events[i].entityId << nowMs;
        }
        auto q = sql::run(db, "events.insert", text, binds);
        if (!q)
            return q.error();
        start += n;
    }
    return std::nullopt;
}

Result<Seq> appendEvents(QSqlDatabase &db, const Channel &channel, const QList<EventRow> &events, qint64 nowMs)
{
    auto first = reserveSeqs(db, channel, int(events.size()));
    if (!first)
        return first.error();
    if (auto e = recordEvents(db, channel, *first, events, nowMs))
        return *e;
    return *first;
}

} // namespace taskmaster::server::store
