// DirectRoomStore: one-to-one ("direct") rooms in SQL. A direct room is a room of kind Direct
// with exactly its two users as members and an empty name, found through the direct_rooms row
// of its ordered pair (lower id first). The pair's primary key makes opening race-safe: of
// concurrent opens of one pair exactly one creates the room, the others answer it.
// Blocking functions over the worker's connection; the room and its two member_joined events are
// written in one transaction (EventStore). Thread: a database worker.
#pragma once

#include "server/storage/room_store.h"

namespace taskmaster::server::store {

struct DirectRoomOpen {
    RoomWrite write; // write.firstSeq: the first member_joined event's seq (0 when not created)
    bool created = false; // false: the pair's room existed and is answered unchanged
};

// The direct room of callerId and userId as callerId sees it, created when the pair has none
// (the caller's member_joined first, then the other user's). userId == callerId:
// ValidationFailed on field userId; an unknown userId: NotFound on field userId.
[[nodiscard]] Result<DirectRoomOpen> openDirectRoom(QSqlDatabase &db, Id callerId, Id userId, qint64 nowMs);
// Whether roomId is a direct room (false for an unknown room).
[[nodiscard]] Result<bool> isDirectRoom(QSqlDatabase &db, Id roomId);

} // namespace taskmaster::server::store
