// EventStore: the durable event log of every channel. appendEvents() allocates the channel's
// next seqs (UPDATE ... SET last_seq = last_seq + n RETURNING) and records the events, inside the
// caller's transaction, so an event is stored with exactly the seq it is published with: no
// gaps, no reuse, commit order. Thread: a database worker.
#pragma once

#include "shared/core/error.h"
#include "shared/domain/types.h"

#include <QList>
#include <QSqlDatabase>

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
[[nodiscard]] Status recordEvents(QSqlDatabase &db, const Channel &channel, Seq firstSeq, const QList<EventRow> &events,
                                  qint64 nowMs);

// Wire-stable small integers for the schema's channel_kind and type columns.
[[nodiscard]] int channelKindCode(ChannelKind kind);
[[nodiscard]] int eventTypeCode(EventType type);

} // namespace taskmaster::server::store
