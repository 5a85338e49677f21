#include "shared/models/message_list_model.h"

#include <QDateTime>

#include <algorithm>
#include <limits>

namespace taskmaster {

namespace {

// Revision order of two copies of one message: a tombstone beats everything, then the later
// edit. Equal revisions are the same content for our purposes.
qint64 editStamp(const Message &m)
{
    return m.editedAt && m.editedAt->isValid() ? m.editedAt->toMSecsSinceEpoch() : std::numeric_limits<qint64>::min();
}
bool isNewer(const Message &a, const Message &b)
{
    if (a.deleted != b.deleted)
        return a.deleted;
    return editStamp(a) > editStamp(b);
}

const QList<int> kComputedRoles {MessageListModel::PreviousAuthorSameRole, MessageListModel::DayChangedRole};

} // namespace

MessageListModel::MessageListModel(QObject *parent) : QAbstractListModel(parent)
{
    connect(this, &QAbstractItemModel::rowsInserted, this, &MessageListModel::countChanged);
    connect(this, &QAbstractItemModel::rowsRemoved, this, &MessageListModel::countChanged);
    connect(this, &QAbstractItemModel::modelReset, this, &MessageListModel::countChanged);
}

MessageListModel::~MessageListModel() = default;

int MessageListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : count();
}

QVariant MessageListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.parent().isValid() || index.row() < 0 || index.row() >= count())
        return {};
    const Row &r = m_rows.at(index.row());
    const Message &m = r.message;
    switch (role) {
    case Qt::DisplayRole:
    case BodyRole:
        return m.body;
    case IdRole:
        return r.local ? QVariant() : QVariant(m.id);
    case SeqRole:
        return r.local ? QVariant() : QVariant(m.seq);
    case AuthorIdRole:
        return QVariant(m.authorId);
    case ClientIdRole:
        return m.clientId ? QVariant(*m.clientId) : QVariant();
    case CreatedAtRole:
        return m.createdAt;
    case EditedAtRole:
        return m.editedAt ? QVariant(*m.editedAt) : QVariant();
    case EditedRole:
        return m.editedAt.has_value() && !m.deleted;
    case DeletedRole:
        return m.deleted;
    case PendingRole:
        return r.local && !r.failed;
    case FailedRole:
        return r.failed;
    case PreviousAuthorSameRole:
        return r.groupedWithPrevious;
    case DayChangedRole:
        return r.dayChanged;
    case IsFirstUnreadRole:
        return !r.local && m_firstUnreadSeq >= 0 && m.seq == m_firstUnreadSeq;
    case AttachmentsRole: {
        QVariantList out;
        for (const Attachment &a : m.attachments) {
            const QString url = QStringLiteral("/api/v1/attachments/") + QString::number(a.id);
            const bool image = isInlineImage(a.contentType);
            out.append(QVariantMap {
                {QStringLiteral("attachmentId"), a.id},
                {QStringLiteral("name"), a.name},
                {QStringLiteral("size"), a.size},
                {QStringLiteral("contentType"), a.contentType},
                {QStringLiteral("sha256"), a.sha256},
                {QStringLiteral("isImage"), image},
                {QStringLiteral("url"), url},
                {QStringLiteral("thumbnailUrl"), image ? QVariant(url + QStringLiteral("/thumbnail")) : QVariant()}});
        }
        return out;
    }
    default:
        return {};
    }
}

QHash<int, QByteArray> MessageListModel::roleNames() const
{
    static const QHash<int, QByteArray> names {
        {IdRole, QByteArrayLiteral("messageId")},
        {SeqRole, QByteArrayLiteral("seq")},
        {AuthorIdRole, QByteArrayLiteral("authorId")},
        {BodyRole, QByteArrayLiteral("body")},
        {ClientIdRole, QByteArrayLiteral("clientId")},
        {CreatedAtRole, QByteArrayLiteral("createdAt")},
        {EditedAtRole, QByteArrayLiteral("editedAt")},
        {EditedRole, QByteArrayLiteral("edited")},
        {DeletedRole, QByteArrayLiteral("deleted")},
        {PendingRole, QByteArrayLiteral("pending")},
        {FailedRole, QByteArrayLiteral("failed")},
        {PreviousAuthorSameRole, QByteArrayLiteral("previousAuthorSame")},
        {DayChangedRole, QByteArrayLiteral("dayChanged")},
        {IsFirstUnreadRole, QByteArrayLiteral("isFirstUnread")},
        {AttachmentsRole, QByteArrayLiteral("attachments")},
    };
    return names;
}

bool MessageListModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && m_roomId != 0 && m_hasMore && !m_fetchingOlder;
}

void MessageListModel::fetchMore(const QModelIndex &parent)
{
    if (!canFetchMore(parent))
        return;
    setFetchingOlder(true);
    Q_EMIT fetchOlderRequested(m_confirmed > 0 ? m_rows.first().message.seq : 0);
}

void MessageListModel::setRoomId(Id roomId)
{
    if (roomId == m_roomId)
        return;
    resetState(roomId);
    Q_EMIT roomIdChanged();
}

void MessageListModel::setReadSeq(Seq seq)
{
    if (seq < -1)
        seq = -1;
    if (seq == m_readSeq)
        return;
    m_readSeq = seq;
    updateFirstUnread();
    Q_EMIT readSeqChanged();
}

int MessageListModel::rowForSeq(qint64 seq) const
{
    const int row = lowerBoundSeq(seq);
    return row < m_confirmed && m_rows.at(row).message.seq == seq ? row : -1;
}

int MessageListModel::rowForClientId(const QString &clientId) const
{
    for (int row = m_confirmed; row < count(); ++row) {
        if (m_rows.at(row).message.clientId == clientId)
            return row;
    }
    return -1;
}

const Message &MessageListModel::messageAt(int row) const
{
    return m_rows.at(row).message;
}

void MessageListModel::appendLive(const Message &message)
{
    if (!acceptsRoom(message))
        return;
    feedTracker(message.seq);
    if (message.seq <= 0)
        return;
    upsertConfirmed(message, message.clientId.value_or(QString()), Merge::IfNewer);
    updateFirstUnread();
}

void MessageListModel::applyUpdate(const Message &message, Seq eventSeq)
{
    if (!acceptsRoom(message))
        return;
    if (eventSeq > 0)
        feedTracker(eventSeq);
    int row = -1;
    if (message.seq > 0) {
        row = rowForSeq(message.seq);
    } else {
        // No seq to search by: a linear scan, only for malformed input.
        for (int r = 0; r < m_confirmed && row < 0; ++r) {
            if (m_rows.at(r).message.id == message.id)
                row = r;
        }
    }
    if (row >= 0) {
        if (m_rows.at(row).message.id == message.id)
            mergeInto(row, message, Merge::IfNotOlder);
    } else if (message.seq > 0 && inLoadedWindow(message.seq)) {
        // Its creation event was missed (a hole being filled): the update is its latest state.
        insertConfirmed(lowerBoundSeq(message.seq), message);
    }
    updateFirstUnread();
}

void MessageListModel::noteEventSeq(Seq seq)
{
    feedTracker(seq);
}

void MessageListModel::setSyncedSeq(Seq seq)
{
    const Seq last = lastSeq();
    const Seq contiguous = contiguousSeq();
    const bool started = m_tracker.started();
    m_tracker.setSynced(seq);
    if (last != lastSeq() || contiguous != contiguousSeq() || started != m_tracker.started())
        Q_EMIT syncStateChanged();
}

void MessageListModel::prependPage(const QList<Message> &olderPage, bool hasMore)
{
    QList<Message> page;
    page.reserve(olderPage.size());
    for (const Message &m : olderPage) {
        if (acceptsRoom(m) && m.seq > 0)
            page.append(m);
    }
    std::stable_sort(page.begin(), page.end(), [](const Message &a, const Message &b) { return a.seq < b.seq; });
    page.erase(std::unique(page.begin(), page.end(), [](const Message &a, const Message &b) { return a.seq == b.seq; }),
               page.end());

    if (m_hasMore != hasMore) {
        m_hasMore = hasMore;
        Q_EMIT hasMoreHistoryChanged();
    }

    // Seq tracking: a page starts it (conservatively, at its newest message); items above the
    // contiguous seq are events seen.
    if (!page.isEmpty()) {
        if (!m_tracker.started()) {
            setSyncedSeq(page.last().seq);
        } else {
            for (const Message &m : page) {
                if (m.seq > m_tracker.contiguousSeq())
                    feedTracker(m.seq);
            }
        }
    }

    // The part older than row 0 goes in at the top, in one insertion.
    const Seq firstLoaded = m_confirmed > 0 ? m_rows.first().message.seq : std::numeric_limits<Seq>::max();
    const auto olderEnd
        = std::partition_point(page.cbegin(), page.cend(), [&](const Message &m) { return m.seq < firstLoaded; });
    const int older = static_cast<int>(olderEnd - page.cbegin());
    if (older > 0) {
        beginInsertRows(QModelIndex(), 0, older - 1);
        for (int i = older - 1; i >= 0; --i)
            m_rows.prepend(makeRow(page.at(i)));
        m_confirmed += older;
        for (int row = 0; row < older; ++row)
            recomputeFlags(row);
        endInsertRows();
        refreshFlags(older); // the previous row 0 now has a predecessor
    }
    // The rest overlaps loaded rows: dedupe by seq, fill holes.
    for (auto it = olderEnd; it != page.cend(); ++it)
        upsertConfirmed(*it, QString(), Merge::IfNewer);

    setFetchingOlder(false);
    updateFirstUnread();
}

void MessageListModel::fetchOlderFailed()
{
    setFetchingOlder(false);
}

void MessageListModel::addPending(const QString &clientId, const QString &body, Id authorId)
{
    const int existing = rowForClientId(clientId);
    if (existing >= 0) {
        Row &r = m_rows[existing];
        if (!r.failed && r.message.body == body)
            return;
        r.failed = false;
        r.message.body = body;
        const QModelIndex idx = index(existing);
        Q_EMIT dataChanged(idx, idx, {Qt::DisplayRole, BodyRole, PendingRole, FailedRole});
        return;
    }
    Message m;
    m.roomId = m_roomId;
    m.authorId = authorId;
    m.body = body;
    m.clientId = clientId;
    m.createdAt = QDateTime::currentDateTimeUtc();
    Row row = makeRow(m);
    row.local = true;
    const int at = count();
    beginInsertRows(QModelIndex(), at, at);
    m_rows.append(std::move(row));
    recomputeFlags(at);
    endInsertRows();
}

void MessageListModel::acknowledge(const QString &clientId, const Message &message)
{
    if (!acceptsRoom(message) || message.seq <= 0)
        return;
    upsertConfirmed(message, clientId, Merge::IfNewer);
    updateFirstUnread();
}

void MessageListModel::markFailed(const QString &clientId)
{
    const int row = rowForClientId(clientId);
    if (row < 0 || m_rows.at(row).failed)
        return;
    m_rows[row].failed = true;
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx, {PendingRole, FailedRole});
}

void MessageListModel::discardPending(const QString &clientId)
{
    const int row = rowForClientId(clientId);
    if (row >= 0)
        removeRow(row);
}

void MessageListModel::clear()
{
    resetState(m_roomId);
}

// --- private ---

void MessageListModel::resetState(Id roomId)
{
    // Everything changes inside the reset, so whoever reacts to modelReset (a view, a tester
    // calling fetchMore) sees the final state; property signals follow.
    const bool hadMore = m_hasMore;
    const bool wasFetching = m_fetchingOlder;
    const bool hadSync = m_tracker.started();
    const bool hadFirstUnread = m_firstUnreadSeq >= 0;
    beginResetModel();
    m_rows.clear();
    m_rows.squeeze();
    m_confirmed = 0;
    m_firstUnreadSeq = -1;
    m_tracker.reset();
    m_hasMore = true;
    m_fetchingOlder = false;
    m_roomId = roomId;
    endResetModel();
    if (!hadMore)
        Q_EMIT hasMoreHistoryChanged();
    if (wasFetching)
        Q_EMIT fetchingOlderChanged();
    if (hadSync)
        Q_EMIT syncStateChanged();
    if (hadFirstUnread)
        Q_EMIT firstUnreadChanged();
}

bool MessageListModel::acceptsRoom(const Message &message) const
{
    return m_roomId == 0 || message.roomId == 0 || message.roomId == m_roomId;
}

int MessageListModel::lowerBoundSeq(Seq seq) const
{
    const auto end = m_rows.cbegin() + m_confirmed;
    const auto it = std::lower_bound(m_rows.cbegin(), end, seq, [](const Row &r, Seq s) { return r.message.seq < s; });
    return static_cast<int>(it - m_rows.cbegin());
}

bool MessageListModel::inLoadedWindow(Seq seq) const
{
    // Below row 0 while older history exists, a message would open a hole in the loaded
    // history that paging (before = row 0's seq) would never fill.
    return m_confirmed == 0 || !m_hasMore || seq > m_rows.first().message.seq;
}

MessageListModel::Row MessageListModel::makeRow(const Message &message)
{
    Row r;
    r.message = message;
    r.day = message.createdAt.isValid() ? message.createdAt.toLocalTime().date() : QDate();
    return r;
}

void MessageListModel::feedTracker(Seq seq)
{
    const Seq last = lastSeq();
    const Seq contiguous = contiguousSeq();
    const SeqGapTracker::FeedResult result = m_tracker.feed(seq);
    if (result.newGap)
        Q_EMIT gapDetected(result.newGap->from, result.newGap->to);
    if (last != lastSeq() || contiguous != contiguousSeq())
        Q_EMIT syncStateChanged();
}

void MessageListModel::upsertConfirmed(const Message &message, const QString &clientId, Merge merge)
{
    const int existing = rowForSeq(message.seq);
    const int local = clientId.isEmpty() ? -1 : rowForClientId(clientId);
    if (existing >= 0) {
        if (local >= 0)
            removeRow(local); // confirmed already (e.g. by a history page): the local copy goes
        mergeInto(existing, message, merge);
    } else if (!inLoadedWindow(message.seq)) {
        if (local >= 0)
            removeRow(local); // older than the loaded history: the page will bring it
    } else if (local >= 0) {
        promoteLocal(local, message);
    } else {
        insertConfirmed(lowerBoundSeq(message.seq), message);
    }
}

void MessageListModel::insertConfirmed(int row, const Message &message)
{
    beginInsertRows(QModelIndex(), row, row);
    m_rows.insert(row, makeRow(message));
    ++m_confirmed;
    recomputeFlags(row);
    endInsertRows();
    refreshFlags(row + 1);
}

void MessageListModel::promoteLocal(int localRow, const Message &message)
{
    const int target = lowerBoundSeq(message.seq); // <= m_confirmed <= localRow
    const bool moves = target != localRow;
    if (moves) {
        beginMoveRows(QModelIndex(), localRow, localRow, QModelIndex(), target);
        m_rows.move(localRow, target);
    }
    Row &r = m_rows[target];
    r = makeRow(message);
    ++m_confirmed;
    if (moves)
        endMoveRows();
    recomputeFlags(target);
    const QModelIndex idx = index(target);
    Q_EMIT dataChanged(idx, idx); // every role: it became the confirmed message
    refreshFlags(target + 1);
    if (moves)
        refreshFlags(localRow + 1); // the old successor has a new predecessor
}

void MessageListModel::removeRow(int row)
{
    beginRemoveRows(QModelIndex(), row, row);
    m_rows.remove(row);
    if (row < m_confirmed)
        --m_confirmed;
    endRemoveRows();
    refreshFlags(row);
}

void MessageListModel::mergeInto(int row, const Message &message, Merge merge)
{
    Row &r = m_rows[row];
    const bool take = merge == Merge::IfNewer ? isNewer(message, r.message) : !isNewer(r.message, message);
    if (!take || r.message == message)
        return;
    const QDateTime oldCreated = r.message.createdAt;
    r.message = message;
    if (message.createdAt != oldCreated)
        r.day = makeRow(message).day;
    recomputeFlags(row);
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx);
    if (message.createdAt != oldCreated)
        refreshFlags(row + 1);
}

bool MessageListModel::recomputeFlags(int row)
{
    Row &cur = m_rows[row];
    bool grouped = false;
    bool dayChanged = true;
    if (row > 0) {
        const Row &prev = m_rows.at(row - 1);
        dayChanged = prev.day != cur.day;
        if (!dayChanged && prev.message.authorId == cur.message.authorId && prev.message.createdAt.isValid()
            && cur.message.createdAt.isValid()) {
            const qint64 ms = prev.message.createdAt.msecsTo(cur.message.createdAt);
            grouped = ms >= 0 && ms <= kGroupingWindowSecs * 1000;
        }
    }
    const bool changed = grouped != cur.groupedWithPrevious || dayChanged != cur.dayChanged;
    cur.groupedWithPrevious = grouped;
    cur.dayChanged = dayChanged;
    return changed;
}

void MessageListModel::refreshFlags(int row)
{
    if (row < 0 || row >= count())
        return;
    if (recomputeFlags(row)) {
        const QModelIndex idx = index(row);
        Q_EMIT dataChanged(idx, idx, kComputedRoles);
    }
}

void MessageListModel::updateFirstUnread()
{
    Seq first = -1;
    if (m_readSeq >= 0) {
        const int row = lowerBoundSeq(m_readSeq + 1);
        if (row < m_confirmed && !(row == 0 && m_hasMore))
            first = m_rows.at(row).message.seq;
    }
    if (first == m_firstUnreadSeq)
        return;
    const Seq old = m_firstUnreadSeq;
    m_firstUnreadSeq = first;
    for (const Seq s : {old, first}) {
        const int row = s >= 0 ? rowForSeq(s) : -1;
        if (row >= 0) {
            const QModelIndex idx = index(row);
            Q_EMIT dataChanged(idx, idx, {IsFirstUnreadRole});
        }
    }
    Q_EMIT firstUnreadChanged();
}

void MessageListModel::setFetchingOlder(bool on)
{
    if (m_fetchingOlder == on)
        return;
    m_fetchingOlder = on;
    Q_EMIT fetchingOlderChanged();
}

} // namespace taskmaster
