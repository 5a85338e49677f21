// RoomListModel: the rooms the user belongs to, rooms with news (unread messages, or a mention
// not yet read) first, then most recent activity first (ties: lower id first), with unread counts
// and their total. Owns the rooms' list state (unread, lastSeq,
// last activity, the local read marker) and the newest message of each room as a preview
// (setLastMessage); the rest of the message content lives in MessageListModel.
// Lives on the GUI thread; not thread-safe. Rooms are few (hundreds), so lookups by id are
// linear; reordering uses beginMoveRows so views keep their items.
//
// Feeding it: GET /rooms -> reset(); room created / membership change -> upsert() / remove();
// every `message` event -> onMessage(); own read marker (`read` event for self, or a local
// read) -> markRead().
//
// Order: a room with news sits above every room without; so reading a room (markRead) and a
// message arriving (onMessage) both move rooms (rowsMoved).
//
// Mentions: setMention(roomId, seq) records that the message at seq names the user; the room is
// `mentioned` while that seq is above its read marker (markRead clears it).
//
// Last activity: REST rooms carry no last-message time, so a room's activity starts at its
// createdAt and becomes the createdAt of the newest message seen by onMessage(). It never
// moves backwards.
//
// Read marker: room.readSeq, from the server (reset/upsert: the caller's room_members.read_seq,
// absent from older servers) and moved forward locally by markRead(); it never moves back, also
// when a snapshot older than a local markRead() arrives.
//
// Unread rule: `unread` comes from the server (reset/upsert) and is then kept locally:
// onMessage() adds one for each new message (seq > lastSeq) from someone else after the
// read marker; markRead(seq) sets it to 0 when seq >= lastSeq, otherwise to
// min(unread, lastSeq - seq) (an upsert whose marker is behind the local one does the same). Seqs also count edits and
// membership events, so lastSeq - seq is an upper bound of the messages after the marker: an approximation the next
// REST refresh corrects.
#pragma once

#include "shared/domain/types.h"
#include "shared/models/qml_support.h"

#include <QAbstractListModel>
#include <QDateTime>
#include <QList>

#include <optional>

namespace taskmaster {

class RoomListModel final : public QAbstractListModel {
    Q_OBJECT
    TM_QML_ELEMENT
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    // Sum of unread over all rooms.
    Q_PROPERTY(qint64 totalUnread READ totalUnread NOTIFY totalUnreadChanged)

public:
    enum Roles {
        IdRole = Qt::UserRole + 1, // "roomId": qint64
        NameRole, // "name": QString (also Qt::DisplayRole)
        KindRole, // "kind": QString wire name (group|direct)
        UnreadRole, // "unread": qint64, see the unread rule above
        LastSeqRole, // "lastSeq": qint64, highest seq known of the room's channel
        LastActivityRole, // "lastActivity": QDateTime, the sort key (see above)
        MemberCountRole, // "memberCount": int
        MemberIdsRole, // "memberIds": QVariantList of qint64
        LastMessageRole, // "lastMessage": QString, body of the newest message known ("" when none or deleted)
        LastAuthorIdRole, // "lastAuthorId": qint64, its author (0 when none)
        LastMessageAtRole, // "lastMessageAt": QDateTime, its createdAt (invalid when none)
        MentionedRole, // "mentioned": bool, a message naming the user is above the read marker
    };
    Q_ENUM(Roles)

    explicit RoomListModel(QObject *parent = nullptr);
    ~RoomListModel() override;

    [[nodiscard]] int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] int count() const { return static_cast<int>(m_entries.size()); }
    [[nodiscard]] qint64 totalUnread() const { return m_totalUnread; }
    // Row of a room, or -1.
    [[nodiscard]] Q_INVOKABLE int rowForId(qint64 roomId) const;
    // The room of a row, with unread/lastSeq/readSeq as currently kept. Precondition: valid row.
    [[nodiscard]] const Room &roomAt(int row) const;
    [[nodiscard]] std::optional<Room> room(Id roomId) const;
    [[nodiscard]] QDateTime lastActivity(Id roomId) const;

    // Replace everything (a model reset). Duplicate ids: the last one wins.
    void reset(const QList<Room> &rooms);
    // Add a room or update one: name, kind, members and createdAt are taken; lastSeq and
    // unread are taken when the given lastSeq is at least the one held (the snapshot is not
    // older than the live events already counted); readSeq when it is ahead of the one held.
    void upsert(const Room &room);
    void remove(Id roomId);
    // A `message` event of a room: lastSeq and activity advance, the room moves to the top
    // (rowsMoved), and unread grows by one unless the author is the user (or the seq is at or
    // below the read marker). A seq at or below lastSeq is a duplicate and changes nothing.
    void onMessage(Id roomId, Seq seq, const QDateTime &createdAt, Id authorId, Id selfUserId);
    // The user's read marker moved to `seq` (markers only move forward). See the unread rule.
    void markRead(Id roomId, Seq seq);
    // The newest message known of its room, for the preview (lastMessage roles): taken when its seq
    // is at least the one held (the same seq: an edit or a deletion). Its createdAt advances the
    // room's activity as onMessage() does; unread and lastSeq are not touched.
    void setLastMessage(const Message &message);
    // The message at seq mentions the user (kept when above the read marker; the highest seq wins).
    void setMention(Id roomId, Seq seq);

Q_SIGNALS:
    void countChanged();
    void totalUnreadChanged();

private:
    struct Entry {
        Room room;
        QDateTime lastActivity;
        qint64 activityMs = 0; // sort key cache
        std::optional<Message> last; // the preview
        Seq mentionSeq = 0; // newest message known to mention the user (0: none)
        [[nodiscard]] bool mentioned() const { return mentionSeq > room.readSeq.value_or(0); }
        [[nodiscard]] bool hasNews() const { return room.unread > 0 || mentioned(); }
    };

    [[nodiscard]] static bool before(const Entry &a, const Entry &b);
    [[nodiscard]] static Entry makeEntry(const Room &room);
    [[nodiscard]] int insertionRow(const Entry &entry, int excluded) const;
    // Move the row to where its (changed) sort key belongs; returns its new row.
    int reposition(int row);
    void addToTotal(qint64 delta); // and notify
    void emitRowChanged(int row, const QList<int> &roles = {});

    QList<Entry> m_entries; // in display order
    qint64 m_totalUnread = 0;
};

} // namespace taskmaster
