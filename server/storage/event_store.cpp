#include "server/storage/event_store.h"

#include "server/attachments/attachment_store.h"
#include "server/log/json_log.h"
#include "server/storage/project_store.h"
#include "server/storage/room_store.h"
#include "server/storage/sql.h"

#include <QHash>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QSet>

#include <algorithm>

namespace taskmaster::server::store {

Q_LOGGING_CATEGORY(lcEvents, "tm.db.events")

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

std::optional<EventType> eventTypeFromCode(int code)
{
    for (const EventType t :
         {EventType::MessageCreated, EventType::MessageUpdated, EventType::TaskCreated, EventType::TaskUpdated,
          EventType::TaskDeleted, EventType::MemberJoined, EventType::MemberLeft}) {
        if (eventTypeCode(t) == code)
            return t;
    }
    return std::nullopt;
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

MaybeError recordEvents(QSqlDatabase &db, const Channel &channel, Seq firstSeq, const QList<EventRow> &events,
                        qint64 nowMs)
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
        text += sql::joined(n, u"(?, ?, ?, ?, ?, ?)");
        for (qsizetype i = start; i < start + n; ++i) {
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

namespace {

bool isMessageEvent(EventType t)
{
    return t == EventType::MessageCreated || t == EventType::MessageUpdated;
}

bool isTaskEvent(EventType t)
{
    return t == EventType::TaskCreated || t == EventType::TaskUpdated || t == EventType::TaskDeleted;
}

// The condition "<column> is one of the entities named by the channel's events of the given types
// in (after, through]": the same key range the events query read, so the statement's text is
// fixed whatever the page holds. On PostgreSQL the ids go through ARRAY(...): computed once (an InitPlan) and then
// looked up by the primary key, where a plain IN (subquery) lets the planner hash-join a sequential scan of the whole
// table as soon as the window is a sizeable part of a small table.
QString idInEntitiesInRange(sql::Dialect dialect, const QString &column, std::initializer_list<EventType> types)
{
    QString codes;
    for (const EventType t : types)
        codes += (codes.isEmpty() ? QString() : QStringLiteral(", ")) + QString::number(eventTypeCode(t));
    const QString ids = QStringLiteral("(SELECT entity_id FROM channel_events WHERE channel_kind = ? AND "
                                       "channel_id = ? AND seq > ? AND seq <= ? AND type IN (%1))")
                            .arg(codes);
    if (dialect == sql::Dialect::Postgres)
        return column + QStringLiteral(" = ANY (ARRAY") + ids + QLatin1Char(')');
    return column + QStringLiteral(" IN ") + ids;
}

Error inconsistent(const Channel &channel, Seq seq, const QString &what)
{
    logEvent(lcEvents(), QtCriticalMsg, QStringLiteral("event log inconsistent"),
             {{QStringLiteral("channel"), channel.toString()},
              {QStringLiteral("seq"), seq},
              {QStringLiteral("problem"), what}});
    return Error {ErrorCode::Internal, QStringLiteral("internal error"), {}};
}

} // namespace

ReplayStatements replayStatements(sql::Dialect dialect, const Channel &channel, Seq after, Seq through, int limit)
{
    const int kind = channelKindCode(channel.kind);
    ReplayStatements s;
    s.events.text = QStringLiteral("SELECT seq, type, entity_id FROM channel_events WHERE channel_kind = ? "
                                   "AND channel_id = ? AND seq > ? ORDER BY seq LIMIT ?");
    s.events.binds = {kind, channel.id, after, limit};
    s.messages.text = QStringLiteral("SELECT ") + kMessageColumns + QStringLiteral(" FROM messages WHERE ")
        + idInEntitiesInRange(dialect, QStringLiteral("id"), {EventType::MessageCreated, EventType::MessageUpdated});
    s.messages.binds = {kind, channel.id, after, through};
    s.tasks.text = QStringLiteral("SELECT ") + kTaskColumns + QStringLiteral(" FROM tasks t WHERE ")
        + idInEntitiesInRange(dialect, QStringLiteral("t.id"),
                              {EventType::TaskCreated, EventType::TaskUpdated, EventType::TaskDeleted});
    s.tasks.binds = {kind, channel.id, after, through};
    return s;
}

Result<QList<ChannelEvent>> eventsAfter(QSqlDatabase &db, const Channel &channel, Seq after, int limit)
{
    if (limit < 1)
        return Error::badRequest(QStringLiteral("limit must be at least 1"), QStringLiteral("limit"));
    const sql::Dialect dialect = sql::dialectOf(db);
    struct Row {
        Seq seq = 0;
        EventType type = EventType::MessageCreated;
        Id entityId = 0;
    };
    QList<Row> rows;
    bool needMessages = false;
    bool needTasks = false;
    {
        const SqlStatement events = replayStatements(dialect, channel, after, after, limit).events;
        auto q = sql::run(db, "events.after", events.text, events.binds);
        if (!q)
            return q.error();
        while (q->next()) {
            const Seq seq = q->value(0).toLongLong();
            const auto type = eventTypeFromCode(q->value(1).toInt());
            if (!type)
                return inconsistent(channel, seq, QStringLiteral("unknown event type %1").arg(q->value(1).toInt()));
            needMessages = needMessages || isMessageEvent(*type);
            needTasks = needTasks || isTaskEvent(*type);
            rows.append(Row {seq, *type, q->value(2).toLongLong()});
        }
        q->finish();
    }
    QList<ChannelEvent> out;
    if (rows.isEmpty())
        return out;

    const ReplayStatements s = replayStatements(dialect, channel, after, rows.constLast().seq, limit);
    QHash<Id, Message> messages;
    if (needMessages) {
        auto q = sql::run(db, "events.after_messages", s.messages.text, s.messages.binds);
        if (!q)
            return q.error();
        while (q->next()) {
            Message m = messageFromRow(*q);
            messages.insert(m.id, std::move(m));
        }
        q->finish();
    }
    QHash<Id, Task> tasks;
    if (needTasks) {
        auto q = sql::run(db, "events.after_tasks", s.tasks.text, s.tasks.binds);
        if (!q)
            return q.error();
        while (q->next()) {
            Task t = taskFromRow(*q);
            tasks.insert(t.id, std::move(t));
        }
    }

    // Their attachments, as they are now (a deleted message has none).
    if (!messages.isEmpty()) {
        auto found = attachmentsOfMessages(db, messages.keys());
        if (!found)
            return found.error();
        for (auto it = found->cbegin(); it != found->cend(); ++it)
            messages[it.key()].attachments = it.value();
    }
    if (!tasks.isEmpty()) {
        auto found = attachmentsOfTasks(db, tasks.keys());
        if (!found)
            return found.error();
        for (auto it = found->cbegin(); it != found->cend(); ++it)
            tasks[it.key()].attachments = it.value();
    }

    out.reserve(rows.size());
    for (const Row &row : rows) {
        ChannelEvent e;
        e.type = row.type;
        e.channel = channel;
        e.seq = row.seq;
        if (isMessageEvent(row.type)) {
            const auto it = messages.constFind(row.entityId);
            if (it == messages.cend())
                return inconsistent(channel, row.seq, QStringLiteral("message %1 is missing").arg(row.entityId));
            e.message = *it;
        } else if (isTaskEvent(row.type)) {
            const auto it = tasks.constFind(row.entityId);
            if (it == tasks.cend())
                return inconsistent(channel, row.seq, QStringLiteral("task %1 is missing").arg(row.entityId));
            e.task = *it;
        } else {
            e.userId = row.entityId;
        }
        out.append(std::move(e));
    }
    return out;
}

Result<QMap<Channel, Seq>> channelsForUser(QSqlDatabase &db, Id userId)
{
    auto q = sql::run(db, "events.channels_for_user",
                      QStringLiteral("SELECT %1, r.id, r.last_seq FROM room_members rm JOIN rooms r ON r.id = "
                                     "rm.room_id WHERE rm.user_id = ? "
                                     "UNION ALL "
                                     "SELECT %2, p.id, p.last_seq FROM project_members pm JOIN projects p ON p.id = "
                                     "pm.project_id WHERE pm.user_id = ? AND NOT p.deleted")
                          .arg(channelKindCode(ChannelKind::Room))
                          .arg(channelKindCode(ChannelKind::Project)),
                      {userId, userId});
    if (!q)
        return q.error();
    QMap<Channel, Seq> channels;
    while (q->next()) {
        const ChannelKind kind
            = q->value(0).toInt() == channelKindCode(ChannelKind::Room) ? ChannelKind::Room : ChannelKind::Project;
        channels.insert(Channel {kind, q->value(1).toLongLong()}, q->value(2).toLongLong());
    }
    return channels;
}

Result<bool> isChannelMember(QSqlDatabase &db, const Channel &channel, Id userId)
{
    return channel.kind == ChannelKind::Room ? isRoomMember(db, channel.id, userId)
                                             : isProjectMember(db, channel.id, userId);
}

Result<QList<ChannelEvent>> roomEventsRecordedSince(QSqlDatabase &db, const QList<Id> &roomIds,
                                                    const QList<Id> &messageIds, qint64 sinceMs, int limit)
{
    if (limit < 1)
        return Error::badRequest(QStringLiteral("limit must be at least 1"), QStringLiteral("limit"));
    const bool pg = sql::dialectOf(db) == sql::Dialect::Postgres;
    QSet<Id> rooms(roomIds.cbegin(), roomIds.cend());
    if (!messageIds.isEmpty()) {
        auto q = sql::run(db, "events.rooms_of_messages",
                          QStringLiteral("SELECT DISTINCT room_id FROM messages WHERE ")
                              + sql::inIds(db, QStringLiteral("id")),
                          {sql::idsBind(db, messageIds)});
        if (!q)
            return q.error();
        while (q->next())
            rooms.insert(q->value(0).toLongLong());
    }
    QList<Id> sorted(rooms.cbegin(), rooms.cend());
    std::sort(sorted.begin(), sorted.end());
    if (sorted.isEmpty())
        return QList<ChannelEvent> {};
    if (pg) {
        auto locked
            = sql::run(db, "events.lock_rooms",
                       QStringLiteral("SELECT id FROM rooms WHERE id = ANY (?::bigint[]) ORDER BY id FOR UPDATE"),
                       {sql::pgArray(sorted)});
        if (!locked)
            return locked.error();
        locked->finish();
    }
    QList<ChannelEvent> out;
    for (Id roomId : sorted) {
        const Channel channel = Channel::room(roomId);
        auto first = sql::run(db, "events.recorded_since",
                              QStringLiteral("SELECT MIN(seq) FROM (SELECT seq, created_at FROM channel_events "
                                             "WHERE channel_kind = ? AND channel_id = ? ORDER BY seq DESC LIMIT ?) "
                                             "recent WHERE created_at >= ?"),
                              {channelKindCode(ChannelKind::Room), roomId, limit, sinceMs});
        if (!first)
            return first.error();
        if (!first->next() || first->value(0).isNull())
            continue;
        const Seq from = first->value(0).toLongLong();
        first->finish();
        auto events = eventsAfter(db, channel, from - 1, limit);
        if (!events)
            return events.error();
        out += *events;
    }
    return out;
}

Result<Seq> channelSeq(QSqlDatabase &db, const Channel &channel)
{
    auto q = channel.kind == ChannelKind::Room
        ? sql::run(db, "events.room_seq", QStringLiteral("SELECT last_seq FROM rooms WHERE id = ?"), {channel.id})
        : sql::run(db, "events.project_seq",
                   QStringLiteral("SELECT last_seq FROM projects WHERE id = ? AND NOT deleted"), {channel.id});
    if (!q)
        return q.error();
    if (!q->next())
        return Error {ErrorCode::NotFound, QStringLiteral("channel not found"), {}};
    return q->value(0).toLongLong();
}

} // namespace taskmaster::server::store
