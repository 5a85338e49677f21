// EventStore: the durable event log of every channel (table channel_events) and the channel
// facts the real-time hub needs.
// Writing: appendEvents() allocates the channel's next seqs (UPDATE ... SET last_seq = last_seq
// + n RETURNING) and records the events, inside the caller's transaction, so an event is stored
// with exactly the seq it is published with: no gaps, no reuse, commit order.
// Reading (resume, resync, the `history` frame): eventsAfter() replays a channel with each
// event's entity in its CURRENT state; channelsForUser(), isChannelMember() and channelSeq() say
// which channels a user follows and where each stands. The reads check no membership: the
// caller (the hub) does, with isChannelMember() or channelsForUser().
// Thread: a database worker (everything here blocks).
#pragma once

#include "server/storage/sql.h" // Dialect
#include "server/storage/task_store.h" // SqlStatement
#include "shared/core/error.h"
#include "shared/domain/types.h"

#include <QList>
#include <QMap>
#include <QSqlDatabase>

#include <optional>

namespace taskmaster::server::store {

struct EventRow {
    EventType type = EventType::MessageCreated;
    Id entityId = 0; // message id, task id or user id, according to the type
};

// Must run inside a transaction. Returns the seq of the first event; the others follow it.
// NotFound when the channel's room or project does not exist.
[[nodiscard]] Result<Seq> appendEvents(QSqlDatabase &db, const Channel &channel, const QList<EventRow> &events,
                                       qint64 nowMs);
// Reserves n seqs without recording events yet (the caller inserts rows that need their seq,
// then calls recordEvents). Returns the first seq.
[[nodiscard]] Result<Seq> reserveSeqs(QSqlDatabase &db, const Channel &channel, int n);
[[nodiscard]] MaybeError recordEvents(QSqlDatabase &db, const Channel &channel, Seq firstSeq,
                                      const QList<EventRow> &events, qint64 nowMs);

// The channel's durable events with seq > after, ascending seq, at most limit (BadRequest field
// "limit" when limit < 1). Each carries the payload ChannelEvent describes, in the entity's
// current state: `message` for MessageCreated / MessageUpdated (an edited message shows its new
// body in its created event too; a deleted one is its tombstone), `task` for Task* (deleted
// tasks included), `userId` for Member*. A channel that does not exist, or has nothing after
// `after`, answers an empty list. No membership check.
// A fixed number of queries whatever the limit, each on an index: the events by the primary key
// range (channel_kind, channel_id, seq), then the messages and the tasks those events name, each
// only when an event needs it (a room's events name messages, a project's tasks: two queries),
// selected by primary key through the same key range, so their texts never change.
// Internal when an event names a message or task that does not exist (the log never loses them).
[[nodiscard]] Result<QList<ChannelEvent>> eventsAfter(QSqlDatabase &db, const Channel &channel, Seq after, int limit);

// The room events of writes whose commit this instance could not confirm (the connection broke
// during the transaction, so it may or may not have committed): locks the rooms (PostgreSQL: FOR
// UPDATE, so a transaction still finishing on the old connection has committed or rolled back
// first), resolves the edited or deleted messageIds to their rooms, and answers, per room, the
// events recorded at or after sinceMs among its latest `limit`, as eventsAfter() gives them.
// Run inside a transaction. Rooms that do not exist answer nothing.
[[nodiscard]] Result<QList<ChannelEvent>> roomEventsRecordedSince(QSqlDatabase &db, const QList<Id> &roomIds,
                                                                  const QList<Id> &messageIds, qint64 sinceMs,
                                                                  int limit);

// Every room and every not-deleted project userId is a member of, with the channel's current
// seq (rooms.last_seq / projects.last_seq). One query.
[[nodiscard]] Result<QMap<Channel, Seq>> channelsForUser(QSqlDatabase &db, Id userId);
// Room membership, or membership of a not-deleted project. False for an unknown channel.
[[nodiscard]] Result<bool> isChannelMember(QSqlDatabase &db, const Channel &channel, Id userId);
// The channel's current seq (the last one given out; 0 before the first event). NotFound when
// the room or project does not exist, or the project is deleted (its channel is gone with it).
[[nodiscard]] Result<Seq> channelSeq(QSqlDatabase &db, const Channel &channel);

// The statements eventsAfter runs, exposed so tests can EXPLAIN exactly them. `through` is the
// seq of the last event the events query returned: it bounds the two payload queries.
struct ReplayStatements {
    SqlStatement events;
    SqlStatement messages;
    SqlStatement tasks;
};
[[nodiscard]] ReplayStatements replayStatements(sql::Dialect dialect, const Channel &channel, Seq after, Seq through,
                                                int limit);

// Wire-stable small integers for the schema's channel_kind and type columns, and back (nullopt
// for a code no EventType has).
[[nodiscard]] int channelKindCode(ChannelKind kind);
[[nodiscard]] int eventTypeCode(EventType type);
[[nodiscard]] std::optional<EventType> eventTypeFromCode(int code);

} // namespace taskmaster::server::store
