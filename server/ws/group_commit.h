// GroupCommit: the write path of WebSocket sends, edits and deletes. Writes queue in arrival
// order; while no batch is in flight the queue is written at once (a lone send does not wait
// for company), and writes that arrive while a batch is being committed form the next batch:
// one database job, consecutive sends in one transaction with one multi-row insert
// (store::insertMessages), edits and deletes in order between them. Only one batch is in flight,
// so batches commit, are acknowledged and are published in submission order: the writes of one
// connection are acknowledged and delivered in the order it sent them.
// Disabled (benchmark comparison), every write is its own database job, run concurrently: no
// ordering promise across writes then.
// With a cache set, the versions of the rooms a batch wrote are bumped before its writes are
// acknowledged (no read anywhere returns the old latest page once a client saw its ack), and with
// a read replica their authors are marked as fresh writers first (read-your-writes).
// A write that fails with Unavailable or Internal (the connection broke mid-transaction, PostgreSQL
// restarted) may still have committed: its sender gets the error, and its room (an edit's or
// delete's message) is put in doubt. Once the database answers again (retried with backoff) the
// rooms in doubt are locked and their events recorded since that batch are published through
// `committed` (store::roomEventsRecordedSince): receivers drop what they had by seq, and the members
// get an event that did commit, instead of waiting for a later event of the room to show the gap.
// Owns: the queue and the rooms in doubt. Thread: network thread; batches run on the database pool.
#pragma once

#include "server/storage/db_pool.h"
#include "server/ws/channel_order.h"
#include "shared/core/backoff.h"
#include "shared/core/error.h"
#include "shared/domain/types.h"

#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <functional>
#include <optional>

namespace taskmaster::server {

class Cache;
class ReadRouting;

struct WriteOp {
    enum class Kind { Send, Edit, Delete };
    Kind kind = Kind::Send;
    Id userId = 0;
    Id roomId = 0; // Send
    Id messageId = 0; // Edit, Delete
    QString body; // Send, Edit
    std::optional<QString> clientId; // Send
    QList<Id> attachmentIds {}; // Send: the author's uploads
    qint64 arrivalNs = 0; // monotonic time the frame arrived, for the delivery-time metric
};

struct WriteOutcome {
    Message message;
    // The event to fan out: none for a repeated delete. A duplicate send (same clientId again)
    // carries its message's creation event once more: the first attempt may have been committed
    // by an instance that died before publishing it (the client resends because it got no ack),
    // and then no instance would deliver it until a later event of the room showed the gap.
    // Receivers that have it drop it by seq.
    std::optional<ChannelEvent> event;
    bool duplicate = false; // a send whose clientId was stored before
};

using WriteDone = std::function<void(const Result<WriteOutcome> &)>;

// Where a write's time goes before its fan-out (group_commit_stage_ms): waiting in the queue from
// its frame's arrival to its batch's start, waiting for a database worker, the batch on the
// database (BEGIN to COMMIT), the result's way back to the network thread, and the version bump
// (read routing and cache) before the acks.
enum class CommitStage { Queue, PoolWait, Database, Return, Cache };

struct GroupCommitStats {
    qint64 batches = 0;
    qint64 writes = 0;
    int largestBatch = 0;
    qint64 inDoubt = 0; // writes that failed with the commit's outcome unknown
    qint64 doubtsDropped = 0; // of those, edits and deletes not checked: over kMaxDoubtfulMessages
    qint64 reconciled = 0; // events published after their rooms were checked
};

class GroupCommit final : public QObject {
    Q_OBJECT
public:
    // committed: called once per batch after every `done` of the batch, with the batch's events
    // (seq order per channel; a duplicate send's event again) for the fan-out.
    GroupCommit(DbPool *db, bool enabled, int maxBatch, std::function<qint64()> nowMs,
                std::function<void(QList<Outgoing>)> committed, QObject *parent = nullptr);

    void submit(WriteOp op, WriteDone done);
    // A write made elsewhere (REST) whose commit's outcome is unknown: checked like the batches'.
    void putInDoubt(const QList<Id> &roomIds, const QList<Id> &messageIds, qint64 sinceMs);
    // Edits and deletes in doubt kept for the check at most (their rooms are looked up); past it
    // they are counted in doubtsDropped and left to the members' gap detection.
    static constexpr qsizetype kMaxDoubtfulMessages = 10000;
    void setCache(Cache *cache) { m_cache = cache; }
    // Writers are marked fresh (their reads stay on the primary) before their acks.
    void setReadRouting(ReadRouting *reads) { m_reads = reads; }
    // Each batch's stage times (ms; Queue once per write) go to observer. clock: the monotonic
    // clock of the writes' arrivalNs; it must outlive this object.
    void observeStages(const QElapsedTimer *clock, std::function<void(CommitStage, double)> observer)
    {
        m_stageClock = clock;
        m_stageObserver = std::move(observer);
    }

    [[nodiscard]] bool enabled() const { return m_enabled; }
    [[nodiscard]] const GroupCommitStats &stats() const { return m_stats; }

private:
    // The database side of one batch (on a database worker).
    [[nodiscard]] static QList<Result<WriteOutcome>> writeBatch(QSqlDatabase &db, const QList<WriteOp> &ops,
                                                                qint64 nowMs);
    struct Item {
        WriteOp op;
        WriteDone done;
    };
    void flush();
    void committed(const QList<Item> &items, const QList<Result<WriteOutcome>> &results, qint64 nowMs,
                   qint64 bumpStartNs);
    [[nodiscard]] qint64 stageNs() const { return m_stageClock ? m_stageClock->nsecsElapsed() : 0; }
    void observeStage(CommitStage stage, qint64 fromNs, qint64 toNs) const
    {
        if (m_stageObserver && fromNs > 0 && toNs >= fromNs)
            m_stageObserver(stage, double(toNs - fromNs) / 1e6);
    }
    // Puts the rooms of the batch's writes that failed with an unknown outcome in doubt.
    void noteDoubts(const QList<Item> &items, const QList<Result<WriteOutcome>> &results, qint64 nowMs);
    // Starts the checks when none is running or waiting.
    void scheduleReconcile();
    // Checks the rooms in doubt in the database and publishes what they recorded since.
    void reconcile();
    void finish(const QList<Item> &items, const QList<Result<WriteOutcome>> &results);

    DbPool *m_db;
    bool m_enabled;
    int m_maxBatch;
    std::function<qint64()> m_nowMs;
    std::function<void(QList<Outgoing>)> m_committed;
    QList<Item> m_queue;
    bool m_inFlight = false;
    Cache *m_cache = nullptr;
    ReadRouting *m_reads = nullptr;
    GroupCommitStats m_stats;
    const QElapsedTimer *m_stageClock = nullptr;
    std::function<void(CommitStage, double)> m_stageObserver;
    struct Doubt {
        QSet<Id> rooms;
        QSet<Id> messages; // edits and deletes: their rooms are looked up
        qint64 sinceMs = 0; // the earliest failed batch's time
        // Adds a write's room or message; false when a message is over the bound.
        bool addRoom(Id roomId);
        bool addMessage(Id messageId);
        void since(qint64 ms);
        // Adds other's rooms, messages and time; returns the messages dropped over the bound.
        qsizetype merge(const Doubt &other);
        [[nodiscard]] bool isEmpty() const { return rooms.isEmpty() && messages.isEmpty(); }
    };
    Doubt m_doubt;
    bool m_reconciling = false;
    Backoff m_reconcileBackoff {50, 5000};
    QTimer m_reconcileTimer;
};

} // namespace taskmaster::server
