#include "server/storage/room_store.h"

#include "server/attachments/attachment_store.h"
#include "server/storage/direct_room_store.h"
#include "server/storage/event_store.h"
#include "server/storage/sql.h"
#include "server/storage/user_store.h"

#include <QHash>
#include <QSet>

#include <algorithm>
#include <map>
#include <set>

namespace taskmaster::server::store {

const QString kMessageColumns
    = QStringLiteral("id, room_id, seq, author_id, body, client_id, created_at, edited_at, deleted");

Message messageFromRow(const QSqlQuery &q)
{
    Message m;
    m.id = q.value(0).toLongLong();
    m.roomId = q.value(1).toLongLong();
    m.seq = q.value(2).toLongLong();
    m.authorId = q.value(3).toLongLong();
    m.body = q.value(4).toString();
    if (!q.value(5).isNull())
        m.clientId = q.value(5).toString();
    m.createdAt = fromMs(q.value(6).toLongLong());
    if (!q.value(7).isNull())
        m.editedAt = fromMs(q.value(7).toLongLong());
    m.deleted = q.value(8).toBool();
    return m;
}

namespace {

Error roomNotFound()
{
    return Error {ErrorCode::NotFound, QStringLiteral("room not found"), {}};
}

// The room as its member sees it; nullopt when userId is not a member.
Result<std::optional<Room>> loadRoom(QSqlDatabase &db, Id roomId, Id userId)
{
    auto q = sql::run(db, "rooms.get",
                      QStringLiteral("SELECT r.id, r.name, r.kind, r.created_at, r.last_seq, "
                                     "(SELECT count(*) FROM (SELECT 1 FROM messages m WHERE m.room_id = r.id "
                                     "AND m.seq > rm.read_seq AND m.author_id <> rm.user_id AND m.deleted = false "
                                     "LIMIT %1) unread_rows), rm.read_seq "
                                     "FROM rooms r JOIN room_members rm ON rm.room_id = r.id "
                                     "WHERE r.id = ? AND rm.user_id = ?")
                          .arg(kUnreadCap),
                      {roomId, userId});
    if (!q)
        return q.error();
    if (!q->next())
        return std::optional<Room>();
    Room room;
    room.id = q->value(0).toLongLong();
    room.name = q->value(1).toString();
    room.kind = q->value(2).toInt() == 1 ? RoomKind::Direct : RoomKind::Group;
    room.createdAt = fromMs(q->value(3).toLongLong());
    room.lastSeq = q->value(4).toLongLong();
    room.unread = q->value(5).toLongLong();
    room.readSeq = q->value(6).toLongLong();
    q->finish();
    auto members
        = sql::run(db, "rooms.members",
                   QStringLiteral("SELECT user_id FROM room_members WHERE room_id = ? ORDER BY user_id"), {roomId});
    if (!members)
        return members.error();
    while (members->next())
        room.memberIds.append(members->value(0).toLongLong());
    return std::optional<Room>(room);
}

Result<bool> userExists(QSqlDatabase &db, Id userId)
{
    auto q = sql::run(db, "users.exists", QStringLiteral("SELECT 1 FROM users WHERE id = ?"), {userId});
    if (!q)
        return q.error();
    return q->next();
}

// A direct room keeps its two members: adding and removing (leaving too) are Forbidden.
MaybeError refuseDirect(QSqlDatabase &db, Id roomId)
{
    auto direct = isDirectRoom(db, roomId);
    if (!direct)
        return direct.error();
    if (*direct)
        return Error {ErrorCode::Forbidden, QStringLiteral("a direct room keeps its two members"), {}};
    return std::nullopt;
}

} // namespace

Result<RoomWrite> createRoom(QSqlDatabase &db, Id callerId, const QString &name, const QList<Id> &memberIds,
                             qint64 nowMs)
{
    QList<Id> members {callerId};
    for (Id id : memberIds) {
        if (!members.contains(id))
            members.append(id);
    }
    sql::Transaction tx(db);
    if (!tx.began())
        return tx.beginError();
    QVariantList binds;
    for (Id id : members)
        binds << id;
    auto known = sql::run(
        db, "users.count_ids",
        QStringLiteral("SELECT count(*) FROM users WHERE id IN (%1)").arg(sql::placeholders(members.size())), binds);
    if (!known)
        return known.error();
    known->next();
    if (known->value(0).toLongLong() != members.size())
        return Error::validation(QStringLiteral("memberIds"), QStringLiteral("memberIds names an unknown user"));
    known->finish();

    auto room = sql::run(db, "rooms.insert",
                         QStringLiteral("INSERT INTO rooms (name, kind, created_at) VALUES (?, 0, ?) RETURNING id"),
                         {name, nowMs});
    if (!room)
        return room.error();
    room->next();
    const Id roomId = room->value(0).toLongLong();
    room->finish();

    QString text = QStringLiteral("INSERT INTO room_members (room_id, user_id, joined_at) VALUES ");
    QVariantList memberBinds;
    QList<EventRow> events;
    text += sql::joined(members.size(), u"(?, ?, ?)");
    for (qsizetype i = 0; i < members.size(); ++i) {
        memberBinds << roomId << members[i] << nowMs;
        events.append(EventRow {EventType::MemberJoined, members[i]});
    }
    if (auto q = sql::run(db, "room_members.insert", text, memberBinds); !q)
        return q.error();
    auto first = appendEvents(db, Channel::room(roomId), events, nowMs);
    if (!first)
        return first.error();
    auto loaded = loadRoom(db, roomId, callerId);
    if (!loaded)
        return loaded.error();
    if (auto e = tx.commit())
        return *e;
    return RoomWrite {**loaded, *first};
}

Result<QList<Room>> roomsForUser(QSqlDatabase &db, Id userId)
{
    auto q = sql::run(db, "rooms.for_user",
                      QStringLiteral("SELECT r.id, r.name, r.kind, r.created_at, r.last_seq, "
                                     "(SELECT count(*) FROM (SELECT 1 FROM messages m WHERE m.room_id = r.id "
                                     "AND m.seq > rm.read_seq AND m.author_id <> rm.user_id AND m.deleted = false "
                                     "LIMIT %1) unread_rows), rm.read_seq "
                                     "FROM room_members rm JOIN rooms r ON r.id = rm.room_id "
                                     "WHERE rm.user_id = ? ORDER BY r.id")
                          .arg(kUnreadCap),
                      {userId});
    if (!q)
        return q.error();
    QList<Room> rooms;
    QHash<Id, qsizetype> index;
    while (q->next()) {
        Room room;
        room.id = q->value(0).toLongLong();
        room.name = q->value(1).toString();
        room.kind = q->value(2).toInt() == 1 ? RoomKind::Direct : RoomKind::Group;
        room.createdAt = fromMs(q->value(3).toLongLong());
        room.lastSeq = q->value(4).toLongLong();
        room.unread = q->value(5).toLongLong();
        room.readSeq = q->value(6).toLongLong();
        index.insert(room.id, rooms.size());
        rooms.append(room);
    }
    q->finish();
    if (rooms.isEmpty())
        return rooms;
    auto members = sql::run(db, "rooms.members_for_user",
                            QStringLiteral("SELECT m.room_id, m.user_id FROM room_members m JOIN room_members mine "
                                           "ON mine.room_id = m.room_id WHERE mine.user_id = ? "
                                           "ORDER BY m.room_id, m.user_id"),
                            {userId});
    if (!members)
        return members.error();
    while (members->next())
        rooms[index.value(members->value(0).toLongLong())].memberIds.append(members->value(1).toLongLong());
    return rooms;
}

Result<std::optional<Room>> roomForMember(QSqlDatabase &db, Id roomId, Id userId)
{
    return loadRoom(db, roomId, userId);
}

Result<bool> isRoomMember(QSqlDatabase &db, Id roomId, Id userId)
{
    auto q = sql::run(db, "room_members.is_member",
                      QStringLiteral("SELECT 1 FROM room_members WHERE room_id = ? AND user_id = ?"), {roomId, userId});
    if (!q)
        return q.error();
    return q->next();
}

Result<QHash<Id, int>> roomMemberCountsForUser(QSqlDatabase &db, Id userId, int cap)
{
    // One pass per room that stops after cap rows: measured on PostgreSQL 15, a room of 5,000
    // members costs 0.4 ms with cap 1001 (a probe at OFFSET cap - 1 ordered by user_id plus a
    // count(*) below it read small rooms twice, and its generic plan sorted all 5,000 rows of the
    // big one: 0.8 ms). The cap goes into the text: an integer of the configuration, so one
    // statement per process.
    auto q
        = sql::run(db, "room_members.counts_for_user",
                   QStringLiteral("SELECT rm.room_id, (SELECT count(*) FROM (SELECT 1 FROM room_members m WHERE "
                                  "m.room_id = rm.room_id LIMIT %1) capped) FROM room_members rm WHERE rm.user_id = ?")
                       .arg(std::max(cap, 1)),
                   {userId});
    if (!q)
        return q.error();
    QHash<Id, int> counts;
    while (q->next())
        counts.insert(q->value(0).toLongLong(), q->value(1).toInt());
    return counts;
}

Result<int> roomMemberCount(QSqlDatabase &db, Id roomId, int cap)
{
    // At most cap index entries, as roomMemberCountsForUser.
    auto q = sql::run(db, "room_members.count",
                      QStringLiteral("SELECT count(*) FROM (SELECT 1 FROM room_members WHERE room_id = ? LIMIT %1) m")
                          .arg(std::max(cap, 1)),
                      {roomId});
    if (!q)
        return q.error();
    return q->next() ? q->value(0).toInt() : 0;
}

Result<QList<Id>> recentlyActiveRooms(QSqlDatabase &db, int limit)
{
    // The newest messages by primary key (an index scan of a few thousand rows, whatever the
    // table's size), then their distinct rooms.
    return sql::idColumn(
        sql::run(db, "rooms.recently_active",
                 QStringLiteral("SELECT DISTINCT room_id FROM "
                                "(SELECT room_id FROM messages ORDER BY id DESC LIMIT 5000) AS recent LIMIT ?"),
                 {limit}));
}

Result<QList<Id>> roomMemberIds(QSqlDatabase &db, Id roomId)
{
    return sql::idColumn(sql::run(db, "room_members.ids",
                                  QStringLiteral("SELECT user_id FROM room_members WHERE room_id = ? ORDER BY user_id"),
                                  {roomId}));
}

Result<RoomWrite> addRoomMember(QSqlDatabase &db, Id roomId, Id callerId, Id userId, qint64 nowMs)
{
    sql::Transaction tx(db);
    if (!tx.began())
        return tx.beginError();
    auto member = isRoomMember(db, roomId, callerId);
    if (!member)
        return member.error();
    if (!*member)
        return roomNotFound();
    if (auto e = refuseDirect(db, roomId))
        return *e;
    auto exists = userExists(db, userId);
    if (!exists)
        return exists.error();
    if (!*exists)
        return Error {ErrorCode::NotFound, QStringLiteral("user not found"), QStringLiteral("userId")};
    auto insert = sql::run(db, "room_members.insert",
                           QStringLiteral("INSERT INTO room_members (room_id, user_id, joined_at) VALUES (?, ?, ?)"),
                           {roomId, userId, nowMs});
    if (!insert) {
        if (insert.error().code == ErrorCode::Conflict)
            return Error {ErrorCode::Conflict, QStringLiteral("already a member"), QStringLiteral("userId")};
        return insert.error();
    }
    auto seq = appendEvents(db, Channel::room(roomId), {EventRow {EventType::MemberJoined, userId}}, nowMs);
    if (!seq)
        return seq.error();
    auto loaded = loadRoom(db, roomId, callerId);
    if (!loaded)
        return loaded.error();
    if (auto e = tx.commit())
        return *e;
    return RoomWrite {**loaded, *seq};
}

Result<RoomWrite> removeRoomMember(QSqlDatabase &db, Id roomId, Id callerId, Id userId, qint64 nowMs)
{
    sql::Transaction tx(db);
    if (!tx.began())
        return tx.beginError();
    auto members = sql::run(
        db, "room_members.list_joined",
        QStringLiteral("SELECT user_id FROM room_members WHERE room_id = ? ORDER BY joined_at, user_id"), {roomId});
    if (!members)
        return members.error();
    QList<Id> ids;
    while (members->next())
        ids.append(members->value(0).toLongLong());
    members->finish();
    if (!ids.contains(callerId))
        return roomNotFound();
    if (auto e = refuseDirect(db, roomId))
        return *e;
    if (!ids.contains(userId))
        return Error {ErrorCode::NotFound, QStringLiteral("not a member"), QStringLiteral("userId")};
    if (userId != callerId && ids.constFirst() != callerId)
        return Error {ErrorCode::Forbidden, QStringLiteral("only the room's creator may remove others"), {}};
    // The room as the caller saw it, before the removal (the caller may be the one leaving).
    auto before = loadRoom(db, roomId, callerId);
    if (!before)
        return before.error();
    if (auto q
        = sql::run(db, "room_members.delete",
                   QStringLiteral("DELETE FROM room_members WHERE room_id = ? AND user_id = ?"), {roomId, userId});
        !q)
        return q.error();
    auto seq = appendEvents(db, Channel::room(roomId), {EventRow {EventType::MemberLeft, userId}}, nowMs);
    if (!seq)
        return seq.error();
    if (auto e = tx.commit())
        return *e;
    Room room = **before;
    room.memberIds.removeAll(userId);
    room.lastSeq = *seq;
    return RoomWrite {room, *seq};
}

Result<Seq> markRead(QSqlDatabase &db, Id roomId, Id userId, Seq seq)
{
    auto q = sql::run(
        db, "room_members.mark_read",
        QStringLiteral("UPDATE room_members SET read_seq = CASE WHEN read_seq > ? THEN read_seq ELSE "
                       "(SELECT CASE WHEN ? > r.last_seq THEN r.last_seq ELSE ? END FROM rooms r WHERE r.id = ?) "
                       "END WHERE room_id = ? AND user_id = ? RETURNING read_seq"),
        {seq, seq, seq, roomId, roomId, userId});
    if (!q)
        return q.error();
    if (!q->next())
        return roomNotFound();
    return q->value(0).toLongLong();
}

namespace {

// What insertMessages reads before it decides each item: the batch's rooms that exist (locked),
// the (room, author) pairs that are members, and the messages already stored under the batch's
// (author, clientId) pairs.
struct BatchReads {
    QSet<Id> existingRooms;
    QSet<std::pair<Id, Id>> membership;
    QHash<std::pair<Id, QString>, Message> seen;
};

// PostgreSQL: the rooms locked in id order (no deadlock between two batches), the memberships
// and the stored duplicates in one statement (one round trip instead of three). Its reads use the
// statement's snapshot, taken before it waited for a lock: a transaction that held a room's lock
// and committed in the meantime (a member added or removed, messages stored) is not in them,
// though the lock returns the room's latest row. Every such writer appends an event to the room,
// so its last_seq tells: when the locked row's differs from the snapshot's, the statement runs
// again, now under the locks, and reads the latest state (as a separate read after the lock did).
MaybeError readBatchPostgres(QSqlDatabase &db, const QList<qint64> &roomIds, const QList<qint64> &authorIds,
                             const QList<qint64> &clientAuthors, const QStringList &clientIds, BatchReads &out)
{
    const QList<std::optional<QString>> texts(clientIds.cbegin(), clientIds.cend());
    // Column 9 tells the row's kind: 0 a locked room (id, snapshot's last_seq, locked last_seq),
    // 1 a membership (room, -, -, user), 2 a stored message (kMessageColumns).
    const QString text
        = QStringLiteral("WITH locked AS MATERIALIZED (SELECT id, last_seq FROM rooms WHERE id = ANY (?::bigint[]) "
                         "ORDER BY id FOR UPDATE) "
                         "SELECT l.id, (SELECT s.last_seq FROM rooms s WHERE s.id = l.id), l.last_seq, NULL::bigint, "
                         "NULL::text, NULL::text, NULL::bigint, NULL::bigint, NULL::boolean, 0 FROM locked l "
                         "UNION ALL SELECT room_id, NULL, NULL, user_id, NULL, NULL, NULL, NULL, NULL, 1 "
                         "FROM room_members WHERE room_id = ANY (?::bigint[]) AND user_id = ANY (?::bigint[]) "
                         "UNION ALL SELECT ")
        + kMessageColumns
        + QStringLiteral(", 2 FROM messages WHERE author_id = ANY (?::bigint[]) AND client_id = ANY (?::text[])");
    const QString rooms = sql::pgArray(roomIds);
    for (int attempt = 0;; ++attempt) {
        out = BatchReads {};
        auto q
            = sql::run(db, "messages.lock_rooms", text,
                       {rooms, rooms, sql::pgArray(authorIds), sql::pgArray(clientAuthors), sql::pgTextArray(texts)});
        if (!q)
            return q.error();
        bool moved = false;
        while (q->next()) {
            switch (q->value(9).toInt()) {
            case 0:
                out.existingRooms.insert(q->value(0).toLongLong());
                moved = moved || q->value(1).toLongLong() != q->value(2).toLongLong();
                break;
            case 1:
                out.membership.insert({q->value(0).toLongLong(), q->value(3).toLongLong()});
                break;
            default: {
                Message m = messageFromRow(*q);
                out.seen.insert({m.authorId, *m.clientId}, m);
            }
            }
        }
        q->finish();
        if (!moved)
            return std::nullopt;
        if (attempt > 0) // under the locks nothing can move a room
            return Error {ErrorCode::Internal, QStringLiteral("room changed while locked"), {}};
    }
}

// SQLite: the same reads, one statement each (the duplicates in chunks). It has no row locks:
// BEGIN IMMEDIATE already serialises its writers.
MaybeError readBatchSqlite(QSqlDatabase &db, const QList<qint64> &roomIds, const QList<qint64> &authorIds,
                           const QList<qint64> &clientAuthors, const QStringList &clientIds, BatchReads &out)
{
    QVariantList roomBinds(roomIds.cbegin(), roomIds.cend());
    auto locked = sql::run(db, "messages.lock_rooms",
                           QStringLiteral("SELECT id, last_seq FROM rooms WHERE id IN (%1) ORDER BY id")
                               .arg(sql::placeholders(roomBinds.size())),
                           roomBinds);
    if (!locked)
        return locked.error();
    while (locked->next())
        out.existingRooms.insert(locked->value(0).toLongLong());
    locked->finish();

    QVariantList memberBinds = roomBinds;
    for (Id a : authorIds)
        memberBinds << a;
    auto members = sql::run(db, "messages.members",
                            QStringLiteral("SELECT room_id, user_id FROM room_members WHERE room_id IN (%1) AND "
                                           "user_id IN (%2)")
                                .arg(sql::placeholders(roomBinds.size()), sql::placeholders(authorIds.size())),
                            memberBinds);
    if (!members)
        return members.error();
    while (members->next())
        out.membership.insert({members->value(0).toLongLong(), members->value(1).toLongLong()});
    members->finish();

    // Authors IN (...) and clientIds IN (...) in chunks, then exact pairs matched by the caller (an
    // OR chain of pairs is too deep for SQLite's expression limit).
    qsizetype from = 0;
    for (const int n : sql::rowChunks(clientIds.size())) {
        const qsizetype start = from;
        from += n;
        QVariantList binds;
        for (Id a : clientAuthors)
            binds << a;
        for (qsizetype i = start; i < start + n; ++i)
            binds << clientIds[i];
        auto dups = sql::run(db, "messages.by_client_id",
                             QStringLiteral("SELECT ") + kMessageColumns
                                 + QStringLiteral(" FROM messages WHERE author_id IN (%1) AND client_id IN (%2)")
                                       .arg(sql::placeholders(clientAuthors.size()), sql::placeholders(n)),
                             binds);
        if (!dups)
            return dups.error();
        while (dups->next()) {
            Message m = messageFromRow(*dups);
            out.seen.insert({m.authorId, *m.clientId}, m);
        }
        dups->finish();
    }
    return std::nullopt;
}

// PostgreSQL: the seqs reserved, the rows inserted and their message_created events recorded in
// one statement (data-modifying CTEs; one round trip instead of three). The rooms are locked by
// readBatchPostgres. Item k of a room (1, 2, ... in batch order) takes the room's last_seq + k;
// the rows are inserted in batch order (ids ascending with it). Fills seqOf and inserted for the
// fresh items.
MaybeError writeBatchPostgres(QSqlDatabase &db, const QList<NewMessage> &batch, const QList<qsizetype> &fresh,
                              qint64 nowMs, QList<Seq> &seqOf, QHash<std::pair<Id, Seq>, Message> &inserted)
{
    std::map<Id, qint64> perRoom;
    QHash<std::pair<Id, qint64>, qsizetype> itemOf; // (room, k) -> batch index
    QList<qint64> rooms, ks, authorsOf;
    QList<std::optional<QString>> bodies, clients;
    for (qsizetype i : fresh) {
        const NewMessage &m = batch[i];
        const qint64 k = ++perRoom[m.roomId];
        itemOf.insert({m.roomId, k}, i);
        rooms << m.roomId;
        ks << k;
        authorsOf << m.authorId;
        bodies << m.body;
        clients << m.clientId;
    }
    QList<qint64> ids, counts;
    for (const auto &[roomId, n] : perRoom) {
        ids << roomId;
        counts << n;
    }
    auto q = sql::run(
        db, "messages.insert_batch",
        QStringLiteral(
            "WITH reserved AS (UPDATE rooms SET last_seq = rooms.last_seq + u.n "
            "FROM unnest(?::bigint[], ?::bigint[]) AS u(id, n) WHERE rooms.id = u.id "
            "RETURNING rooms.id AS room, rooms.last_seq - u.n AS base), "
            "ins AS (INSERT INTO messages (room_id, seq, author_id, body, client_id, created_at, deleted) "
            "SELECT v.r, x.base + v.k, v.a, v.b, v.c, ?::bigint, false FROM unnest(?::bigint[], ?::bigint[], "
            "?::bigint[], ?::text[], ?::text[]) WITH ORDINALITY AS v(r, k, a, b, c, o) "
            "JOIN reserved x ON x.room = v.r ORDER BY v.o RETURNING ")
            + kMessageColumns
            + QStringLiteral(
                "), ev AS (INSERT INTO channel_events (channel_kind, channel_id, seq, type, entity_id, "
                "created_at) SELECT ?::smallint, room_id, seq, ?::smallint, id, ?::bigint FROM ins ORDER BY id) "
                "SELECT ")
            + kMessageColumns + QStringLiteral(", seq - x.base FROM ins JOIN reserved x ON x.room = ins.room_id"),
        {sql::pgArray(ids), sql::pgArray(counts), nowMs, sql::pgArray(rooms), sql::pgArray(ks), sql::pgArray(authorsOf),
         sql::pgTextArray(bodies), sql::pgTextArray(clients), channelKindCode(ChannelKind::Room),
         eventTypeCode(EventType::MessageCreated), nowMs});
    if (!q)
        return q.error();
    while (q->next()) {
        Message m = messageFromRow(*q);
        const auto item = itemOf.constFind({m.roomId, q->value(9).toLongLong()});
        if (item == itemOf.cend())
            return Error {ErrorCode::Internal, QStringLiteral("inserted messages do not match the batch"), {}};
        seqOf[*item] = m.seq;
        inserted.insert({m.roomId, m.seq}, m);
    }
    q->finish();
    return std::nullopt;
}

} // namespace

Result<QList<Result<StoredMessage>>> insertMessages(QSqlDatabase &db, const QList<NewMessage> &batch, qint64 nowMs)
{
    QList<Result<StoredMessage>> results;
    results.reserve(batch.size());
    if (batch.isEmpty())
        return results;
    // On PostgreSQL a batch costs four round trips whatever it holds, for one message or for
    // hundreds in as many rooms (array parameters): BEGIN, one statement that locks and reads,
    // one that writes, COMMIT. It holds its room locks only that long: the instances' batches wait
    // for each other's locks, and a batch that took longer made the next one bigger and longer
    // still when a reconnect storm slowed the database; and each statement costs PostgreSQL a
    // wake-up, a parse and a bind. SQLite runs in the process: its steps stay per room and per
    // chunk.
    const bool pg = sql::dialectOf(db) == sql::Dialect::Postgres;

    sql::Transaction tx(db);
    if (!tx.began())
        return tx.beginError();

    // 1-3. Lock the rooms in id order; read the memberships of every (room, author) pair and the
    //      messages already stored under the batch's (author, clientId) pairs.
    std::set<Id> roomSet;
    QSet<Id> authors;
    QSet<QString> clientIdSet;
    QSet<Id> clientAuthorSet;
    for (const NewMessage &m : batch) {
        roomSet.insert(m.roomId);
        authors.insert(m.authorId);
        if (m.clientId) {
            clientIdSet.insert(*m.clientId);
            clientAuthorSet.insert(m.authorId);
        }
    }
    const QList<qint64> roomIds(roomSet.cbegin(), roomSet.cend()); // ascending
    const QList<qint64> authorIds(authors.cbegin(), authors.cend());
    const QList<qint64> clientAuthors(clientAuthorSet.cbegin(), clientAuthorSet.cend());
    const QStringList clientIds(clientIdSet.cbegin(), clientIdSet.cend());
    BatchReads reads;
    if (auto e = pg ? readBatchPostgres(db, roomIds, authorIds, clientAuthors, clientIds, reads)
                    : readBatchSqlite(db, roomIds, authorIds, clientAuthors, clientIds, reads))
        return *e;
    const QSet<Id> &existingRooms = reads.existingRooms;
    const QSet<std::pair<Id, Id>> &membership = reads.membership;
    QHash<std::pair<Id, QString>, Message> &seen = reads.seen;

    // 3b. The attachments the batch names (none: no statement), and those of repeated messages.
    QList<Id> attachmentIds;
    for (const NewMessage &m : batch)
        attachmentIds += m.attachmentIds;
    QHash<Id, Attachment> attachments;
    if (!attachmentIds.isEmpty()) {
        auto found = attachmentsByIds(db, attachmentIds);
        if (!found)
            return found.error();
        attachments = std::move(*found);
    }
    if (!seen.isEmpty()) {
        QList<Message> repeated = seen.values();
        if (auto e = fillAttachments(db, repeated))
            return *e;
        for (const Message &m : repeated)
            seen.insert({m.authorId, *m.clientId}, m);
    }

    // 4. Decide each item; count the new messages per room.
    enum class Fate { New, Duplicate, DuplicateInBatch, NotMember, BadAttachments };
    QHash<qsizetype, Error> attachmentErrors;
    QList<Fate> fate;
    QHash<std::pair<Id, QString>, qsizetype> firstInBatch;
    std::map<Id, int> newPerRoom;
    for (qsizetype i = 0; i < batch.size(); ++i) {
        const NewMessage &m = batch[i];
        if (!existingRooms.contains(m.roomId) || !membership.contains({m.roomId, m.authorId})) {
            fate << Fate::NotMember;
            continue;
        }
        if (m.clientId) {
            const std::pair<Id, QString> key {m.authorId, *m.clientId};
            if (seen.contains(key)) {
                fate << Fate::Duplicate;
                continue;
            }
            if (firstInBatch.contains(key)) {
                fate << Fate::DuplicateInBatch;
                continue;
            }
        }
        if (auto e = checkOwnUploads(attachments, m.attachmentIds, m.authorId)) {
            attachmentErrors.insert(i, *e);
            fate << Fate::BadAttachments;
            continue;
        }
        if (m.clientId)
            firstInBatch.insert({m.authorId, *m.clientId}, i);
        fate << Fate::New;
        ++newPerRoom[m.roomId];
    }

    // 5. The seqs, rows and events: PostgreSQL in one statement; SQLite the seqs one statement per
    //    room, the rows in chunks, the events per room.
    QList<qsizetype> fresh;
    for (qsizetype i = 0; i < batch.size(); ++i) {
        if (fate[i] == Fate::New)
            fresh << i;
    }
    QList<Seq> seqOf(batch.size(), 0);
    QHash<std::pair<Id, Seq>, Message> inserted; // (room, seq) -> stored row
    if (pg && !fresh.isEmpty()) {
        if (auto e = writeBatchPostgres(db, batch, fresh, nowMs, seqOf, inserted))
            return *e;
    } else if (!pg) {
        std::map<Id, Seq> nextSeq;
        for (const auto &[roomId, n] : newPerRoom) {
            auto first = reserveSeqs(db, Channel::room(roomId), n);
            if (!first)
                return first.error();
            nextSeq[roomId] = *first;
        }
        for (qsizetype i : fresh)
            seqOf[i] = nextSeq[batch[i].roomId]++;
        qsizetype start = 0;
        for (const int n : sql::rowChunks(fresh.size())) {
            QString text = QStringLiteral(
                "INSERT INTO messages (room_id, seq, author_id, body, client_id, created_at, deleted) VALUES ");
            QVariantList binds;
            binds.reserve(n * 6);
            text += sql::joined(n, u"(?, ?, ?, ?, ?, ?, false)");
            for (qsizetype k = start; k < start + n; ++k) {
                const NewMessage &m = batch[fresh[k]];
                binds << m.roomId << seqOf[fresh[k]] << m.authorId << m.body
                      << (m.clientId ? QVariant(*m.clientId) : QVariant(QMetaType::fromType<QString>())) << nowMs;
            }
            text += QStringLiteral(" RETURNING ") + kMessageColumns;
            auto q = sql::run(db, "messages.insert_batch", text, binds);
            if (!q)
                return q.error();
            while (q->next()) {
                Message m = messageFromRow(*q);
                inserted.insert({m.roomId, m.seq}, m);
            }
            q->finish();
            start += n;
        }
        std::map<Id, QList<EventRow>> eventsPerRoom;
        std::map<Id, Seq> firstSeqPerRoom;
        for (qsizetype i : fresh) {
            const Id roomId = batch[i].roomId;
            const Message &m = inserted.value({roomId, seqOf[i]});
            if (!firstSeqPerRoom.count(roomId))
                firstSeqPerRoom[roomId] = seqOf[i];
            eventsPerRoom[roomId].append(EventRow {EventType::MessageCreated, m.id});
        }
        for (const auto &[roomId, events] : eventsPerRoom) {
            if (auto e = recordEvents(db, Channel::room(roomId), firstSeqPerRoom[roomId], events, nowMs))
                return *e;
        }
    }
    if (inserted.size() != fresh.size())
        return Error {ErrorCode::Internal, QStringLiteral("inserted messages do not match the batch"), {}};
    for (qsizetype i : fresh) {
        const NewMessage &m = batch[i];
        if (m.attachmentIds.isEmpty())
            continue;
        Message &stored = inserted[{m.roomId, seqOf[i]}];
        if (auto e = linkMessage(db, stored.id, m.attachmentIds))
            return *e;
        for (Id id : m.attachmentIds)
            stored.attachments.append(attachments.value(id));
    }
    if (auto e = tx.commit())
        return *e;

    for (qsizetype i = 0; i < batch.size(); ++i) {
        const NewMessage &m = batch[i];
        switch (fate[i]) {
        case Fate::New:
            results.append(StoredMessage {inserted.value({m.roomId, seqOf[i]}), false});
            break;
        case Fate::Duplicate:
            results.append(StoredMessage {seen.value({m.authorId, *m.clientId}), true});
            break;
        case Fate::DuplicateInBatch: {
            const qsizetype first = firstInBatch.value({m.authorId, *m.clientId});
            results.append(StoredMessage {inserted.value({batch[first].roomId, seqOf[first]}), true});
            break;
        }
        case Fate::NotMember:
            results.append(roomNotFound());
            break;
        case Fate::BadAttachments:
            results.append(attachmentErrors.value(i));
            break;
        }
    }
    return results;
}

namespace {
// Locks the message's room row (PostgreSQL) and loads the message if the caller may change it.
Result<Message> messageForAuthor(QSqlDatabase &db, Id messageId, Id callerId)
{
    auto q = sql::run(db, "messages.get_for_author",
                      QStringLiteral("SELECT m.id, m.room_id, m.seq, m.author_id, m.body, m.client_id, m.created_at, "
                                     "m.edited_at, m.deleted, rm.user_id FROM messages m LEFT JOIN room_members rm "
                                     "ON rm.room_id = m.room_id AND rm.user_id = ? WHERE m.id = ?"),
                      {callerId, messageId});
    if (!q)
        return q.error();
    if (!q->next() || q->value(9).isNull())
        return Error {ErrorCode::NotFound, QStringLiteral("message not found"), {}};
    Message m = messageFromRow(*q);
    q->finish();
    if (m.authorId != callerId)
        return Error {ErrorCode::Forbidden, QStringLiteral("only the author may change a message"), {}};
    QList<Message> one {m};
    if (auto e = fillAttachments(db, one))
        return *e;
    return one.constFirst();
}

Result<MessageWrite> updateMessage(QSqlDatabase &db, Id messageId, Id callerId, const std::optional<QString> &body,
                                   qint64 nowMs)
{
    sql::Transaction tx(db);
    if (!tx.began())
        return tx.beginError();
    auto current = messageForAuthor(db, messageId, callerId);
    if (!current)
        return current.error();
    if (current->deleted) {
        if (body)
            return Error {ErrorCode::NotFound, QStringLiteral("message was deleted"), {}};
        return MessageWrite {*current, 0}; // deleting twice changes nothing
    }
    // The room row is the seq counter: reserveSeqs locks it (UPDATE) before the message changes.
    auto seq = reserveSeqs(db, Channel::room(current->roomId), 1);
    if (!seq)
        return seq.error();
    auto q = body ? sql::run(db, "messages.edit",
                             QStringLiteral("UPDATE messages SET body = ?, edited_at = ? WHERE id = ? RETURNING ")
                                 + kMessageColumns,
                             {*body, nowMs, messageId})
                  : sql::run(db, "messages.delete",
                             QStringLiteral(
                                 "UPDATE messages SET body = '', deleted = true, edited_at = ? WHERE id = ? RETURNING ")
                                 + kMessageColumns,
                             {nowMs, messageId});
    if (!q)
        return q.error();
    q->next();
    Message updated = messageFromRow(*q);
    q->finish();
    if (body) {
        updated.attachments = current->attachments;
    } else if (!current->attachments.isEmpty()) {
        // A deleted message uses its attachments no more: they stay while something else uses them.
        if (auto e = unlinkMessage(db, messageId))
            return *e;
    }
    if (auto e = recordEvents(db, Channel::room(updated.roomId), *seq,
                              {EventRow {EventType::MessageUpdated, messageId}}, nowMs))
        return *e;
    if (auto e = tx.commit())
        return *e;
    return MessageWrite {updated, *seq};
}
} // namespace

Result<MessageWrite> editMessage(QSqlDatabase &db, Id messageId, Id callerId, const QString &body, qint64 nowMs)
{
    return updateMessage(db, messageId, callerId, body, nowMs);
}

Result<MessageWrite> deleteMessage(QSqlDatabase &db, Id messageId, Id callerId, qint64 nowMs)
{
    return updateMessage(db, messageId, callerId, std::nullopt, nowMs);
}

Result<HistoryPage> history(QSqlDatabase &db, Id roomId, Id callerId, std::optional<Seq> before,
                            std::optional<Seq> after, int limit)
{
    // Membership and page in one query: no rows and no membership look the same, so check
    // membership only when the page is empty.
    const bool ascending = after.has_value();
    const QString text = QStringLiteral("SELECT ") + kMessageColumns
        + QStringLiteral(" FROM messages WHERE room_id = ? AND seq %1 ? AND EXISTS "
                         "(SELECT 1 FROM room_members WHERE room_id = ? AND user_id = ?) "
                         "ORDER BY seq %2 LIMIT ?")
              .arg(ascending ? QStringLiteral(">") : QStringLiteral("<"),
                   ascending ? QStringLiteral("ASC") : QStringLiteral("DESC"));
    const Seq bound = ascending ? *after : before.value_or(std::numeric_limits<qint64>::max());
    auto q = sql::run(db, "messages.history", text, {roomId, bound, roomId, callerId, limit + 1});
    if (!q)
        return q.error();
    HistoryPage page;
    while (q->next())
        page.items.append(messageFromRow(*q));
    q->finish();
    if (page.items.isEmpty()) {
        auto member = isRoomMember(db, roomId, callerId);
        if (!member)
            return member.error();
        if (!*member)
            return roomNotFound();
    }
    if (page.items.size() > limit) {
        page.hasMore = true;
        page.items.removeLast();
    }
    if (!ascending)
        std::reverse(page.items.begin(), page.items.end());
    if (auto e = fillAttachments(db, page.items))
        return *e;
    return page;
}

} // namespace taskmaster::server::store
