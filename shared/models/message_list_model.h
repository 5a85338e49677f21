// MessageListModel: the loaded messages of one room, oldest loaded first (row 0), plus the
// local rows of sends not yet acknowledged, always after the last confirmed message.
// Owns the rows, the channel's seq gap tracker, the history paging state and the read marker.
// Lives on the GUI thread (the thread of the views using it); not thread-safe.
//
// Storage: one contiguous QList<Row> (Qt 6's QList keeps free room at both ends, so
// prepending a page is amortised O(page), appending O(1)); no per-row QObject. Confirmed rows
// [0, confirmedCount) are sorted by seq, so a message is found by binary search (O(log n));
// local rows (pending/failed) are few and searched linearly. Computed roles
// (previousAuthorSame, dayChanged) are cached per row and refreshed for the neighbours of a
// change, which then get dataChanged; data() is O(1) for every role.
//
// Feeding it, per docs/protocol.md:
//   `message` event             -> appendLive(message)        (its seq is the event seq)
//   `message_updated` event     -> applyUpdate(message, seq)
//   `member_joined/left` event  -> noteEventSeq(seq)
//   history page (REST)         -> prependPage(items, hasMore)
//   `ack` of a send             -> acknowledge(clientId, message)
//   REST reload / channel seq   -> setSyncedSeq(seq)
// Connect fetchOlderRequested and gapDetected with Qt::QueuedConnection (or answer them
// asynchronously): the model must not be re-entered from inside its own signals.
// Over 20 public members on purpose: the QAbstractListModel overrides, one feeding function per
// protocol event (above) and the properties QML binds to; the room's logic is one state (rows,
// gap tracker, paging, read marker), so splitting it would only pass that state around.
#pragma once

#include "shared/domain/types.h"
#include "shared/models/qml_support.h"
#include "shared/models/seq_gap_tracker.h"

#include <QAbstractListModel>
#include <QDate>
#include <QList>

namespace taskmaster {

class MessageListModel final : public QAbstractListModel {
    Q_OBJECT
    TM_QML_ELEMENT
    // The room shown; changing it clears the model. 0 = none (canFetchMore() is false).
    Q_PROPERTY(qint64 roomId READ roomId WRITE setRoomId NOTIFY roomIdChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    // Seq of the last read message; the first confirmed row after it has isFirstUnread.
    // -1 = no marker.
    Q_PROPERTY(qint64 readSeq READ readSeq WRITE setReadSeq NOTIFY readSeqChanged)
    // Seq of the row with isFirstUnread, -1 when none (see IsFirstUnreadRole).
    Q_PROPERTY(qint64 firstUnreadSeq READ firstUnreadSeq NOTIFY firstUnreadChanged)
    // Highest event seq seen on the live stream (0 = none).
    Q_PROPERTY(qint64 lastSeq READ lastSeq NOTIFY syncStateChanged)
    // Highest seq up to which every event was seen: the value to resume from.
    Q_PROPERTY(qint64 contiguousSeq READ contiguousSeq NOTIFY syncStateChanged)
    Q_PROPERTY(bool hasGap READ hasGap NOTIFY syncStateChanged)
    // True between fetchMore() and the arrival (prependPage) or failure of the older page.
    Q_PROPERTY(bool fetchingOlder READ fetchingOlder NOTIFY fetchingOlderChanged)
    // False once a history page said hasMore=false (the whole room is loaded).
    Q_PROPERTY(bool hasMoreHistory READ hasMoreHistory NOTIFY hasMoreHistoryChanged)

public:
    enum Roles {
        IdRole = Qt::UserRole + 1, // "messageId": qint64; null for a local (pending/failed) row
        SeqRole, // "seq": qint64 seq of the creating event; null for a local row
        AuthorIdRole, // "authorId": qint64
        BodyRole, // "body": QString (also Qt::DisplayRole); empty for a deleted message
        ClientIdRole, // "clientId": QString, null when the message has none
        CreatedAtRole, // "createdAt": QDateTime (UTC); a local row: the time it was queued
        EditedAtRole, // "editedAt": QDateTime, null when never edited
        EditedRole, // "edited": bool, editedAt is set and the message is not deleted
        DeletedRole, // "deleted": bool, a tombstone (body empty)
        PendingRole, // "pending": bool, sent and waiting for its ack
        FailedRole, // "failed": bool, the send failed; the UI offers retry (addPending again)
        PreviousAuthorSameRole, // "previousAuthorSame": bool, the row before has the same author,
                                // the same local day, and was created at most
                                // kGroupingWindowSecs before this one (author grouping)
        DayChangedRole, // "dayChanged": bool, first row of its local calendar day among the
                        // loaded rows (row 0 always): show a day separator above it
        IsFirstUnreadRole, // "isFirstUnread": bool, the first confirmed row with seq > readSeq;
                           // none when that would be row 0 while older history is not loaded
        AttachmentsRole, // "attachments": list of maps {attachmentId, name, size, contentType,
                         // sha256, isImage, url, thumbnailUrl} (docs/protocol.md 6.8), in order
    };
    Q_ENUM(Roles)

    static constexpr qint64 kGroupingWindowSecs = 5 * 60;

    explicit MessageListModel(QObject *parent = nullptr);
    ~MessageListModel() override;

    [[nodiscard]] int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;
    // True with a room set while older history may exist and no page request is in flight.
    [[nodiscard]] bool canFetchMore(const QModelIndex &parent) const override;
    // Emits fetchOlderRequested(seq of row 0, or 0 when empty) once; no further request until
    // prependPage() or fetchOlderFailed().
    void fetchMore(const QModelIndex &parent) override;

    [[nodiscard]] Id roomId() const { return m_roomId; }
    void setRoomId(Id roomId);
    [[nodiscard]] int count() const { return static_cast<int>(m_rows.size()); }
    [[nodiscard]] Seq readSeq() const { return m_readSeq; }
    void setReadSeq(Seq seq);
    [[nodiscard]] Seq firstUnreadSeq() const { return m_firstUnreadSeq; }
    [[nodiscard]] Seq lastSeq() const { return m_tracker.lastSeq(); }
    [[nodiscard]] Seq contiguousSeq() const { return m_tracker.contiguousSeq(); }
    [[nodiscard]] bool hasGap() const { return m_tracker.hasGap(); }
    [[nodiscard]] QList<SeqRange> missingRanges() const { return m_tracker.missingRanges(); }
    [[nodiscard]] bool fetchingOlder() const { return m_fetchingOlder; }
    [[nodiscard]] bool hasMoreHistory() const { return m_hasMore; }
    [[nodiscard]] int confirmedCount() const { return m_confirmed; }

    // Row of the confirmed message with this seq, or -1. O(log n).
    [[nodiscard]] Q_INVOKABLE int rowForSeq(qint64 seq) const;
    // Row of the local (pending/failed) send with this clientId, or -1. O(local rows).
    [[nodiscard]] Q_INVOKABLE int rowForClientId(const QString &clientId) const;
    // The message of a row (a local row has id 0 and seq 0). Precondition: 0 <= row < count().
    [[nodiscard]] const Message &messageAt(int row) const;

    // A live `message` event. Feeds its seq to the gap tracker. A duplicate seq never adds a row
    // (the loaded copy is kept unless the incoming one is newer: deleted, or edited later). A
    // message carrying the clientId of a local row replaces that row. A message older than
    // row 0 while older history is not loaded is not inserted (the page will bring it).
    void appendLive(const Message &message);
    // A `message_updated` event (edit, or delete with deleted=true and an empty body), matched
    // by the message's seq (binary search) and checked by id. `eventSeq` is the event's own seq
    // (0 when the update did not come from the event stream, e.g. a REST reply). An update
    // older than the loaded copy (by deleted/editedAt) is ignored.
    void applyUpdate(const Message &message, Seq eventSeq = 0);
    // Any other durable event of the room's channel (member_joined, member_left): seq only.
    void noteEventSeq(Seq seq);
    // Every event up to `seq` is reflected in the loaded rows (see SeqGapTracker::setSynced).
    void setSyncedSeq(Seq seq);
    // A history page, items ascending by seq (sorted defensively anyway). Items older than
    // row 0 are inserted at the top in one beginInsertRows(0, n-1), so a view keeps its
    // position; items overlapping loaded rows are merged by seq. Ends the pending fetch.
    // Starts the gap tracker at the page's highest seq if nothing started it yet.
    void prependPage(const QList<Message> &olderPage, bool hasMore);
    // The requested older page could not be loaded; the next fetchMore() asks again.
    void fetchOlderFailed();

    // A local row for a send in flight, after the confirmed rows. The same clientId again
    // (retry of a failed send) turns that row back to pending instead of adding one.
    void addPending(const QString &clientId, const QString &body, Id authorId);
    // The `ack` of a send: the local row becomes the confirmed message, moved to its seq
    // position if messages with higher seqs arrived meanwhile. Does not feed the gap tracker
    // (an ack is not part of the event stream; its event follows). Also fine after the live
    // event already replaced the row (deduped by seq).
    void acknowledge(const QString &clientId, const Message &message);
    // The send failed: the row shows failed (and not pending).
    void markFailed(const QString &clientId);
    // Drop a local row (the user discards a failed send).
    void discardPending(const QString &clientId);
    // Everything but roomId and readSeq: rows, local rows, paging and seq tracking.
    void clear();

Q_SIGNALS:
    void roomIdChanged();
    void countChanged();
    void readSeqChanged();
    void firstUnreadChanged();
    void syncStateChanged();
    void fetchingOlderChanged();
    void hasMoreHistoryChanged();
    // Seqs fromSeq..toSeq (inclusive) of the room's channel are missing: ask with a `history`
    // frame (after = fromSeq - 1). Each missing seq is reported once.
    void gapDetected(qint64 fromSeq, qint64 toSeq);
    // Load the page of messages before `beforeSeq` (0: the latest page) and call prependPage().
    void fetchOlderRequested(qint64 beforeSeq);

private:
    struct Row {
        Message message;
        QDate day; // local calendar day of message.createdAt
        bool local = false; // pending or failed send, not yet confirmed
        bool failed = false;
        bool groupedWithPrevious = false; // PreviousAuthorSameRole
        bool dayChanged = true; // DayChangedRole
    };
    enum class Merge { IfNewer, IfNotOlder };

    void resetState(Id roomId);
    [[nodiscard]] bool acceptsRoom(const Message &message) const;
    [[nodiscard]] int lowerBoundSeq(Seq seq) const; // first confirmed row with seq >= seq
    [[nodiscard]] bool inLoadedWindow(Seq seq) const;
    [[nodiscard]] static Row makeRow(const Message &message);
    void feedTracker(Seq seq);
    // Put a confirmed message in place: merge with the row of its seq, or replace the local row
    // of `clientId`, or insert it at its seq position (if inside the loaded window).
    void upsertConfirmed(const Message &message, const QString &clientId, Merge merge);
    void insertConfirmed(int row, const Message &message);
    void promoteLocal(int localRow, const Message &message);
    void removeRow(int row);
    void mergeInto(int row, const Message &message, Merge merge);
    bool recomputeFlags(int row); // returns whether a computed role changed
    void refreshFlags(int row); // recompute and emit dataChanged when changed
    void updateFirstUnread();
    void setFetchingOlder(bool on);

    QList<Row> m_rows;
    int m_confirmed = 0;
    Id m_roomId = 0;
    Seq m_readSeq = -1;
    Seq m_firstUnreadSeq = -1;
    bool m_hasMore = true; // unknown counts as "maybe"
    bool m_fetchingOlder = false;
    SeqGapTracker m_tracker;
};

} // namespace taskmaster
