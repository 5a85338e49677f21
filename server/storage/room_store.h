// RoomStore: rooms, their members, read markers and messages in SQL, including the batch insert
// path that group commit uses. Blocking functions over the worker's connection; every write runs
// in one transaction together with the durable events it causes (EventStore).
// Visibility: a room the caller is not a member of answers NotFound, as if it did not exist.
// Thread: a database worker.
#pragma once

#include "shared/core/error.h"
#include "shared/domain/types.h"

#include <QHash>
#include <QList>
#include <QSqlDatabase>
#include <QSqlQuery>

#include <optional>

namespace taskmaster::server::store {

// Unread counts stop at this value (a client shows "9999+"); counting further costs time for
// no use.
inline constexpr qint64 kUnreadCap = 9999;

struct RoomWrite {
    Room room;
    Seq firstSeq = 0; // seq of the first event the write appended (0 when none)
};

// Creates a group room with the caller and memberIds as members (one member_joined event each,
// the caller first). Unknown member ids: ValidationFailed on field memberIds.
[[nodiscard]] Result<RoomWrite> createRoom(QSqlDatabase &db, Id callerId, const QString &name,
                                           const QList<Id> &memberIds, qint64 nowMs);
// The caller's rooms, with lastSeq, unread, the caller's readSeq and memberIds, in two queries
// whatever their number.
[[nodiscard]] Result<QList<Room>> roomsForUser(QSqlDatabase &db, Id userId);
[[nodiscard]] Result<std::optional<Room>> roomForMember(QSqlDatabase &db, Id roomId, Id userId);
[[nodiscard]] Result<bool> isRoomMember(QSqlDatabase &db, Id roomId, Id userId);
// room id -> how many members it has, for each room of userId, counted up to `cap` (> 0): a room
// with more members answers cap. Stops after cap rows per room, so a big room costs about what a
// room of cap members does (the hub's presence: is a room over its limit?).
[[nodiscard]] Result<QHash<Id, int>> roomMemberCountsForUser(QSqlDatabase &db, Id userId, int cap);
// The same for one room (0 for an unknown room).
[[nodiscard]] Result<int> roomMemberCount(QSqlDatabase &db, Id roomId, int cap);
// Up to `limit` rooms with the most recent messages (among the last few thousand), for warming.
[[nodiscard]] Result<QList<Id>> recentlyActiveRooms(QSqlDatabase &db, int limit);
// The room's members in id order (empty for an unknown room).
[[nodiscard]] Result<QList<Id>> roomMemberIds(QSqlDatabase &db, Id roomId);
// Any member may add a user (Conflict when already a member, NotFound for an unknown user, field
// userId). A member may remove themself; removing someone else is Forbidden unless the caller
// created the room (its first member).
[[nodiscard]] Result<RoomWrite> addRoomMember(QSqlDatabase &db, Id roomId, Id callerId, Id userId, qint64 nowMs);
[[nodiscard]] Result<RoomWrite> removeRoomMember(QSqlDatabase &db, Id roomId, Id callerId, Id userId, qint64 nowMs);
// Moves the caller's read marker forward to seq (never backwards, never past lastSeq); returns
// the marker afterwards.
[[nodiscard]] Result<Seq> markRead(QSqlDatabase &db, Id roomId, Id userId, Seq seq);

struct NewMessage {
    Id roomId = 0;
    Id authorId = 0;
    QString body;
    std::optional<QString> clientId;
    QList<Id> attachmentIds {}; // the author's own uploads, at most 10 (checked: ValidationFailed)
};

struct StoredMessage {
    Message message;
    bool duplicate = false; // the clientId was seen before: this is the first message, unchanged
};

// Stores a batch of messages in one transaction: rooms locked in id order, seqs allocated per
// room, rows and their events inserted with multi-row statements (PostgreSQL: BEGIN, one
// statement that locks and reads, one that writes, COMMIT, whatever the batch holds). Each
// item succeeds or fails on its own (NotFound when the author is not a member of the room,
// ValidationFailed on attachmentIds when one is not the author's upload);
// a repeated (author, clientId) answers the stored message with duplicate = true and takes no
// seq. Results are in input order. The whole batch fails only when the database does.
[[nodiscard]] Result<QList<Result<StoredMessage>>> insertMessages(QSqlDatabase &db, const QList<NewMessage> &batch,
                                                                  qint64 nowMs);

struct MessageWrite {
    Message message;
    Seq eventSeq = 0; // seq of the message_updated event
};

// Author only (Forbidden for other members, NotFound for non-members and unknown ids).
// Editing a deleted message is NotFound.
[[nodiscard]] Result<MessageWrite> editMessage(QSqlDatabase &db, Id messageId, Id callerId, const QString &body,
                                               qint64 nowMs);
// Leaves a tombstone: deleted = true, body empty. Deleting twice answers the tombstone again
// without a new event.
[[nodiscard]] Result<MessageWrite> deleteMessage(QSqlDatabase &db, Id messageId, Id callerId, qint64 nowMs);

struct HistoryPage {
    QList<Message> items; // ascending seq
    bool hasMore = false;
};

// before: the page of messages just below that seq (default: the latest page);
// after: the page just above it. One query; uses the (room_id, seq) index.
[[nodiscard]] Result<HistoryPage> history(QSqlDatabase &db, Id roomId, Id callerId, std::optional<Seq> before,
                                          std::optional<Seq> after, int limit);

// Row helpers shared with other stores: the message columns (unqualified; prefix them for a
// join) in the order messageFromRow reads them.
extern const QString kMessageColumns;
[[nodiscard]] Message messageFromRow(const QSqlQuery &q);

} // namespace taskmaster::server::store
