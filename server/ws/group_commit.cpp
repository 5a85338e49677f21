#include "server/ws/group_commit.h"

#include "server/cache/cache.h"
#include "server/log/json_log.h"
#include "server/storage/event_store.h"
#include "server/storage/read_routing.h"
#include "server/storage/room_store.h"
#include "server/storage/sql.h"
#include "server/ws/event_sink.h"

#include <QPointer>

#include <algorithm>

namespace taskmaster::server {

GroupCommit::GroupCommit(DbPool *db, bool enabled, int maxBatch, std::function<qint64()> nowMs,
                         std::function<void(QList<Outgoing>)> committed, QObject *parent)
    : QObject(parent), m_db(db), m_enabled(enabled), m_maxBatch(std::max(1, maxBatch)), m_nowMs(std::move(nowMs)),
      m_committed(std::move(committed))
{
    m_reconcileTimer.setSingleShot(true);
    connect(&m_reconcileTimer, &QTimer::timeout, this, &GroupCommit::reconcile);
}

void GroupCommit::submit(WriteOp op, WriteDone done)
{
    m_queue.append(Item {std::move(op), std::move(done)});
    if (!m_enabled || !m_inFlight)
        flush();
}

void GroupCommit::flush()
{
    if (m_queue.isEmpty())
        return;
    const qsizetype n = m_enabled ? std::min<qsizetype>(m_queue.size(), m_maxBatch) : 1;
    QList<Item> items = m_queue.mid(0, n);
    m_queue.remove(0, n);
    QList<WriteOp> ops;
    ops.reserve(items.size());
    for (const Item &item : items)
        ops.append(item.op);
    ++m_stats.batches;
    m_stats.writes += items.size();
    m_stats.largestBatch = std::max(m_stats.largestBatch, int(items.size()));
    m_inFlight = true;
    const qint64 now = m_nowMs();
    const qint64 flushNs = stageNs();
    if (m_stageObserver) {
        for (const Item &item : items)
            observeStage(CommitStage::Queue, item.op.arrivalNs, flushNs);
    }
    struct Run {
        QList<Result<WriteOutcome>> results;
        qint64 startNs = 0;
        qint64 endNs = 0;
    };
    m_db->run([ops = std::move(ops), now, clock = m_stageClock](QSqlDatabase &db) {
            Run r;
            r.startNs = clock ? clock->nsecsElapsed() : 0;
            r.results = writeBatch(db, ops, now);
            r.endNs = clock ? clock->nsecsElapsed() : 0;
            return r;
        })
        .then(this, [this, items = std::move(items), now, flushNs](const Run &r) {
            const qint64 backNs = stageNs();
            observeStage(CommitStage::PoolWait, flushNs, r.startNs);
            observeStage(CommitStage::Database, r.startNs, r.endNs);
            observeStage(CommitStage::Return, r.endNs, backNs);
            committed(items, r.results, now, backNs);
        });
    if (!m_enabled)
        flush(); // every write on its own, all at once
}

void GroupCommit::committed(const QList<Item> &items, const QList<Result<WriteOutcome>> &results, qint64 nowMs,
                            qint64 bumpStartNs)
{
    noteDoubts(items, results, nowMs);
    auto next = [this, items, results, bumpStartNs] {
        observeStage(CommitStage::Cache, bumpStartNs, stageNs());
        finish(items, results);
        if (m_enabled) {
            m_inFlight = false;
            flush();
        }
    };
    QList<QByteArray> rooms;
    QList<Id> writers;
    for (qsizetype i = 0; i < results.size(); ++i) {
        const Result<WriteOutcome> &r = results.at(i);
        if (!r || r->duplicate)
            continue;
        const QByteArray v = versions::room(r->message.roomId);
        if (!rooms.contains(v))
            rooms.append(v);
        if (!writers.contains(items.at(i).op.userId))
            writers.append(items.at(i).op.userId);
    }
    QPointer<GroupCommit> self(this);
    auto bump = [self, rooms, next] {
        if (!self)
            return;
        if (!self->m_cache || rooms.isEmpty()) {
            next();
            return;
        }
        self->m_cache->bump(rooms, [self, next] {
            if (self)
                next();
        });
    };
    if (m_reads && !writers.isEmpty())
        m_reads->wrote(writers, bump);
    else
        bump();
}

void GroupCommit::finish(const QList<Item> &items, const QList<Result<WriteOutcome>> &results)
{
    QList<Outgoing> events;
    for (qsizetype i = 0; i < items.size(); ++i) {
        const Result<WriteOutcome> &r = results.at(i);
        items.at(i).done(r);
        if (r && r->event) // a duplicate's event is old news: not in the delivery-time metric
            events.append(Outgoing {*r->event, r->duplicate ? 0 : items.at(i).op.arrivalNs});
    }
    if (!events.isEmpty())
        m_committed(std::move(events));
}

namespace {
constexpr int kReconcileLimit = 1000; // events per room
} // namespace

bool GroupCommit::Doubt::addRoom(Id roomId)
{
    rooms.insert(roomId);
    return true;
}

bool GroupCommit::Doubt::addMessage(Id messageId)
{
    if (messages.size() >= kMaxDoubtfulMessages && !messages.contains(messageId))
        return false;
    messages.insert(messageId);
    return true;
}

void GroupCommit::Doubt::since(qint64 ms)
{
    sinceMs = sinceMs == 0 ? ms : std::min(sinceMs, ms);
}

qsizetype GroupCommit::Doubt::merge(const Doubt &other)
{
    rooms.unite(other.rooms);
    qsizetype dropped = 0;
    for (Id id : other.messages)
        dropped += addMessage(id) ? 0 : 1;
    since(other.sinceMs);
    return dropped;
}

void GroupCommit::noteDoubts(const QList<Item> &items, const QList<Result<WriteOutcome>> &results, qint64 nowMs)
{
    QList<Id> rooms;
    QList<Id> messages;
    for (qsizetype i = 0; i < results.size(); ++i) {
        const Result<WriteOutcome> &r = results.at(i);
        if (r || !sql::outcomeUnknown(r.error()))
            continue;
        const WriteOp &op = items.at(i).op;
        if (op.kind == WriteOp::Kind::Send)
            rooms.append(op.roomId);
        else
            messages.append(op.messageId);
    }
    if (!rooms.isEmpty() || !messages.isEmpty())
        putInDoubt(rooms, messages, nowMs);
}

void GroupCommit::putInDoubt(const QList<Id> &roomIds, const QList<Id> &messageIds, qint64 sinceMs)
{
    for (Id id : roomIds)
        m_doubt.addRoom(id);
    for (Id id : messageIds)
        m_stats.doubtsDropped += m_doubt.addMessage(id) ? 0 : 1;
    m_stats.inDoubt += roomIds.size() + messageIds.size();
    m_doubt.since(sinceMs);
    scheduleReconcile();
}

void GroupCommit::scheduleReconcile()
{
    if (!m_reconciling && !m_reconcileTimer.isActive()) {
        m_reconcileBackoff.reset();
        m_reconcileTimer.start(int(m_reconcileBackoff.next()));
    }
}

void GroupCommit::reconcile()
{
    if (m_reconciling || m_doubt.isEmpty())
        return;
    m_reconciling = true;
    Doubt doubt = std::exchange(m_doubt, Doubt {});
    const QList<Id> rooms(doubt.rooms.cbegin(), doubt.rooms.cend());
    const QList<Id> messages(doubt.messages.cbegin(), doubt.messages.cend());
    m_db->query([rooms, messages, since = doubt.sinceMs](QSqlDatabase &db) -> Result<QList<ChannelEvent>> {
            sql::Transaction tx(db);
            auto events = store::roomEventsRecordedSince(db, rooms, messages, since, kReconcileLimit);
            if (!events)
                return events.error();
            if (auto e = tx.commit())
                return *e;
            return events;
        })
        .then(this, [this, doubt = std::move(doubt)](const Result<QList<ChannelEvent>> &r) {
            m_reconciling = false;
            if (!r) {
                // Still unreachable: the doubt waits for the next attempt, with what came since.
                m_stats.doubtsDropped += m_doubt.merge(doubt);
                const qint64 hinted = r.error().retryAfterMs;
                const qint64 delay = hinted > 0
                    ? m_reconcileBackoff.afterHint(std::min(hinted, m_reconcileBackoff.maxMs() / 2))
                    : m_reconcileBackoff.next();
                m_reconcileTimer.start(int(delay));
                return;
            }
            m_reconcileBackoff.reset();
            if (!r->isEmpty()) {
                m_stats.reconciled += r->size();
                qCInfo(lcServer) << "writes in doubt: published" << r->size() << "events of"
                                 << (doubt.rooms.size() + doubt.messages.size()) << "rooms or messages checked";
                QList<Outgoing> out;
                out.reserve(r->size());
                for (const ChannelEvent &e : *r)
                    out.append(Outgoing {e, 0});
                m_committed(std::move(out));
            }
            if (!m_doubt.isEmpty())
                m_reconcileTimer.start(int(m_reconcileBackoff.next()));
        });
}

QList<Result<WriteOutcome>> GroupCommit::writeBatch(QSqlDatabase &db, const QList<WriteOp> &ops, qint64 nowMs)
{
    QList<Result<WriteOutcome>> out;
    out.reserve(ops.size());
    if (!db.isOpen()) {
        for (qsizetype i = 0; i < ops.size(); ++i)
            out.append(Error {ErrorCode::Unavailable, QStringLiteral("database unavailable"), {}});
        return out;
    }
    qsizetype i = 0;
    while (i < ops.size()) {
        const WriteOp &op = ops.at(i);
        if (op.kind == WriteOp::Kind::Send) {
            QList<store::NewMessage> sends;
            qsizetype j = i;
            for (; j < ops.size() && ops.at(j).kind == WriteOp::Kind::Send; ++j) {
                const WriteOp &s = ops.at(j);
                sends.append(store::NewMessage {s.roomId, s.userId, s.body, s.clientId, s.attachmentIds});
            }
            auto stored = store::insertMessages(db, sends, nowMs);
            for (qsizetype k = 0; k < sends.size(); ++k) {
                if (!stored) {
                    out.append(stored.error());
                    continue;
                }
                const Result<store::StoredMessage> &one = stored->at(k);
                if (!one) {
                    out.append(one.error());
                    continue;
                }
                WriteOutcome w {one->message, std::nullopt, one->duplicate};
                w.event = events::message(EventType::MessageCreated, one->message.seq, one->message);
                out.append(std::move(w));
            }
            i = j;
            continue;
        }
        auto written = op.kind == WriteOp::Kind::Edit ? store::editMessage(db, op.messageId, op.userId, op.body, nowMs)
                                                      : store::deleteMessage(db, op.messageId, op.userId, nowMs);
        if (!written) {
            out.append(written.error());
        } else {
            WriteOutcome w {written->message, std::nullopt, false};
            if (written->eventSeq > 0)
                w.event = events::message(EventType::MessageUpdated, written->eventSeq, written->message);
            out.append(std::move(w));
        }
        ++i;
    }
    return out;
}

} // namespace taskmaster::server
