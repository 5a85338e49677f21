#include "server/storage/direct_room_store.h"

#include "server/storage/event_store.h"
#include "server/storage/sql.h"

#include <algorithm>

namespace taskmaster::server::store {

namespace {

// The pair's room id, nullopt when the pair has none yet.
Result<std::optional<Id>> pairRoom(QSqlDatabase &db, Id low, Id high)
{
    auto q = sql::run(db, "direct_rooms.get",
                      QStringLiteral("SELECT room_id FROM direct_rooms WHERE user_low = ? AND user_high = ?"),
                      {low, high});
    if (!q)
        return q.error();
    if (!q->next())
        return std::optional<Id>();
    const Id id = q->value(0).toLongLong();
    q->finish();
    return std::optional<Id>(id);
}

Result<DirectRoomOpen> existing(QSqlDatabase &db, Id roomId, Id callerId)
{
    auto room = roomForMember(db, roomId, callerId);
    if (!room)
        return room.error();
    if (!room->has_value()) // cannot happen: direct rooms never lose members
        return Error {ErrorCode::Internal, QStringLiteral("direct room without its member"), {}};
    return DirectRoomOpen {RoomWrite {**room, 0}, false};
}

} // namespace

Result<DirectRoomOpen> openDirectRoom(QSqlDatabase &db, Id callerId, Id userId, qint64 nowMs)
{
    if (userId == callerId)
        return Error::validation(QStringLiteral("userId"), QStringLiteral("cannot open a direct room with yourself"));
    const Id low = std::min(callerId, userId);
    const Id high = std::max(callerId, userId);

    // The common case, a pair that has its room: one read, no transaction.
    auto found = pairRoom(db, low, high);
    if (!found)
        return found.error();
    if (*found)
        return existing(db, **found, callerId);

    Seq firstSeq = 0;
    Id roomId = 0;
    {
        sql::Transaction tx(db);
        if (!tx.began())
            return tx.beginError();
        auto user = sql::run(db, "users.exists", QStringLiteral("SELECT 1 FROM users WHERE id = ?"), {userId});
        if (!user)
            return user.error();
        if (!user->next())
            return Error {ErrorCode::NotFound, QStringLiteral("user not found"), QStringLiteral("userId")};
        user->finish();

        auto room = sql::run(
            db, "rooms.insert_direct",
            QStringLiteral("INSERT INTO rooms (name, kind, created_at) VALUES ('', 1, ?) RETURNING id"), {nowMs});
        if (!room)
            return room.error();
        room->next();
        roomId = room->value(0).toLongLong();
        room->finish();

        // A concurrent open of the same pair that inserted first wins: PostgreSQL waits here for
        // its commit, SQLite's writers are serialised (BEGIN IMMEDIATE); then no row comes back.
        auto pair = sql::run(db, "direct_rooms.insert",
                             QStringLiteral("INSERT INTO direct_rooms (user_low, user_high, room_id) VALUES (?, ?, ?) "
                                            "ON CONFLICT (user_low, user_high) DO NOTHING RETURNING room_id"),
                             {low, high, roomId});
        if (!pair)
            return pair.error();
        const bool inserted = pair->next();
        pair->finish();
        if (inserted) {
            if (auto q = sql::run(db, "room_members.insert_direct",
                                  QStringLiteral("INSERT INTO room_members (room_id, user_id, joined_at) "
                                                 "VALUES (?, ?, ?), (?, ?, ?)"),
                                  {roomId, callerId, nowMs, roomId, userId, nowMs});
                !q)
                return q.error();
            auto first = appendEvents(
                db, Channel::room(roomId),
                {EventRow {EventType::MemberJoined, callerId}, EventRow {EventType::MemberJoined, userId}}, nowMs);
            if (!first)
                return first.error();
            firstSeq = *first;
            auto loaded = roomForMember(db, roomId, callerId);
            if (!loaded)
                return loaded.error();
            if (auto e = tx.commit())
                return *e;
            return DirectRoomOpen {RoomWrite {**loaded, firstSeq}, true};
        }
        // Lost the race: the transaction rolls back (the room row goes with it).
    }
    found = pairRoom(db, low, high);
    if (!found)
        return found.error();
    if (!*found)
        return Error {ErrorCode::Internal, QStringLiteral("direct room vanished"), {}};
    return existing(db, **found, callerId);
}

Result<bool> isDirectRoom(QSqlDatabase &db, Id roomId)
{
    auto q = sql::run(db, "rooms.kind", QStringLiteral("SELECT kind FROM rooms WHERE id = ?"), {roomId});
    if (!q)
        return q.error();
    const bool direct = q->next() && q->value(0).toInt() == 1;
    q->finish();
    return direct;
}

} // namespace taskmaster::server::store
