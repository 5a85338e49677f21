#include "tests/load/db_verify.h"

#include "server/storage/database_url.h"

#include <QHash>
#include <QHostAddress>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>

namespace taskmaster::load {

namespace {

constexpr qsizetype kMaxExamples = 10;

// "1,2,3" for an IN list of ids (integers only: nothing to quote).
QString idList(const std::vector<Id> &ids)
{
    QStringList parts;
    parts.reserve(qsizetype(ids.size()));
    for (Id id : ids)
        parts << QString::number(id);
    return parts.join(QLatin1Char(','));
}

// The channels split by kind: (room ids, project ids).
std::pair<std::vector<Id>, std::vector<Id>> splitChannels(const std::vector<Channel> &channels)
{
    std::pair<std::vector<Id>, std::vector<Id>> out;
    for (const Channel &c : channels)
        (c.kind == ChannelKind::Room ? out.first : out.second).push_back(c.id);
    return out;
}

Error queryError(const QSqlQuery &q, const char *what)
{
    return Error {ErrorCode::Unavailable,
                  QStringLiteral("--verify-db: %1 failed: %2").arg(QLatin1String(what), q.lastError().text()),
                  {}};
}

} // namespace

// ---- Comparisons ---------------------------------------------------------------------------

StreamCheck compareStream(const ChannelAccount &account, const std::vector<Seq> &dbSeqs)
{
    StreamCheck r;
    const Seq start = account.start();
    const Seq last = account.lastSeq();
    const QList<SeqRange> holes = account.missing(last); // holes below the last seq received
    qint64 receivedCount = std::max<qint64>(0, last - start);
    for (const SeqRange &h : holes)
        receivedCount -= h.to - h.from + 1;
    qsizetype hole = 0;
    qint64 matched = 0;
    for (Seq seq : dbSeqs) {
        if (seq <= start)
            continue;
        ++r.expected;
        while (hole < holes.size() && holes.at(hole).to < seq)
            ++hole;
        const bool inHole = hole < holes.size() && holes.at(hole).from <= seq;
        if (seq <= last && !inHole) {
            ++matched;
            continue;
        }
        ++r.missing;
        if (!r.missingRanges.isEmpty() && r.missingRanges.last().to + 1 == seq)
            r.missingRanges.last().to = seq;
        else
            r.missingRanges.append(SeqRange {seq, seq});
    }
    r.phantom = receivedCount - matched;
    return r;
}

qint64 seqHoles(const DbChannel &channel)
{
    qint64 inRange = 0;
    Seq previous = 0;
    for (Seq seq : channel.seqs) {
        if (seq >= 1 && seq <= channel.lastSeq && seq != previous)
            ++inRange;
        previous = seq;
    }
    return (channel.lastSeq - inRange) + (qint64(channel.seqs.size()) - inRange);
}

MessageCheck compareMessages(const std::vector<AckRecord> &acks, const QList<DbMessage> &rows)
{
    MessageCheck r;
    const auto note = [&r](const QString &s) {
        if (r.examples.size() < kMaxExamples)
            r.examples << s;
    };
    QHash<QString, AckRecord> acked;
    for (const AckRecord &a : acks) {
        const auto it = acked.constFind(a.clientId);
        if (it == acked.cend()) {
            acked.insert(a.clientId, a);
        } else if (it->messageId != a.messageId || it->seq != a.seq || it->roomId != a.roomId) {
            ++r.ackedTwiceDifferently;
            note(QStringLiteral("clientId %1 acknowledged as message %2 (seq %3) and as %4 (seq %5)")
                     .arg(a.clientId)
                     .arg(it->messageId)
                     .arg(it->seq)
                     .arg(a.messageId)
                     .arg(a.seq));
        }
    }
    QHash<QString, QList<DbMessage>> stored;
    for (const DbMessage &m : rows)
        stored[m.clientId].append(m);
    r.acked = acked.size();
    r.stored = rows.size();
    for (auto it = acked.cbegin(); it != acked.cend(); ++it) {
        const auto s = stored.constFind(it.key());
        if (s == stored.cend()) {
            ++r.ackedMissing;
            note(QStringLiteral("clientId %1 acknowledged as message %2 (room %3, seq %4) is not in the database")
                     .arg(it.key())
                     .arg(it->messageId)
                     .arg(it->roomId)
                     .arg(it->seq));
            continue;
        }
        const DbMessage &m = s->constFirst();
        if (m.id != it->messageId || m.roomId != it->roomId || m.seq != it->seq) {
            ++r.ackMismatch;
            note(QStringLiteral("clientId %1 acknowledged as message %2 (room %3, seq %4), stored as %5 (room %6, "
                                "seq %7)")
                     .arg(it.key())
                     .arg(it->messageId)
                     .arg(it->roomId)
                     .arg(it->seq)
                     .arg(m.id)
                     .arg(m.roomId)
                     .arg(m.seq));
        }
    }
    for (auto it = stored.cbegin(); it != stored.cend(); ++it) {
        if (it->size() > 1) {
            r.storedTwice += it->size() - 1;
            note(QStringLiteral("clientId %1 is stored %2 times").arg(it.key()).arg(it->size()));
        }
        if (!acked.contains(it.key())) {
            r.storedNotAcked += it->size();
            note(QStringLiteral("message %1 (clientId %2, room %3, seq %4) is stored but was never acknowledged")
                     .arg(it->constFirst().id)
                     .arg(it.key())
                     .arg(it->constFirst().roomId)
                     .arg(it->constFirst().seq));
        }
    }
    return r;
}

// ---- DbReader ------------------------------------------------------------------------------

DbReader::DbReader()
    : m_name(QStringLiteral("tm-load-verify-%1")
                 .arg(QRandomGenerator::global()->generate() & 0xffffffu, 6, 16, QLatin1Char('0')))
{
}

DbReader::~DbReader()
{
    if (QSqlDatabase::contains(m_name)) {
        QSqlDatabase::database(m_name, false).close();
        QSqlDatabase::removeDatabase(m_name);
    }
}

Status DbReader::open(const QString &url)
{
    const auto parsed = server::parseDatabaseUrl(url);
    if (!parsed)
        return Error::badRequest(QStringLiteral("--verify-db: %1").arg(parsed.error().message),
                                 QStringLiteral("verify-db"));
    const QHostAddress host(parsed->host);
    if (parsed->host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) != 0
        && (host.isNull() || !host.isLoopback())) {
        return Error::badRequest(
            QStringLiteral("--verify-db: only a loopback database is read, not '%1'").arg(parsed->host),
            QStringLiteral("verify-db"));
    }
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), m_name);
    db.setHostName(parsed->host);
    db.setPort(parsed->port);
    db.setUserName(parsed->user);
    db.setPassword(parsed->password);
    db.setDatabaseName(parsed->database);
    db.setConnectOptions(QStringLiteral("connect_timeout=5"));
    if (!db.open())
        return Error {
            ErrorCode::Unavailable, QStringLiteral("--verify-db: cannot connect: %1").arg(db.lastError().text()), {}};
    return std::nullopt;
}

Result<std::map<Channel, Seq>> DbReader::lastSeqs(const std::vector<Channel> &channels)
{
    std::map<Channel, Seq> out;
    const auto [rooms, projects] = splitChannels(channels);
    QSqlQuery q(QSqlDatabase::database(m_name, false));
    q.setForwardOnly(true);
    for (const auto &[ids, table, kind] :
         {std::tuple {&rooms, "rooms", ChannelKind::Room}, std::tuple {&projects, "projects", ChannelKind::Project}}) {
        if (ids->empty())
            continue;
        const QString sql
            = QStringLiteral("SELECT id, last_seq FROM %1 WHERE id IN (%2)").arg(QLatin1String(table), idList(*ids));
        if (!q.exec(sql))
            return queryError(q, "reading last_seq");
        while (q.next())
            out[Channel {kind, q.value(0).toLongLong()}] = q.value(1).toLongLong();
    }
    return out;
}

Result<std::map<Channel, DbChannel>> DbReader::channels(const std::vector<Channel> &channels)
{
    auto last = lastSeqs(channels);
    if (!last)
        return last.error();
    std::map<Channel, DbChannel> out;
    for (const Channel &c : channels)
        out[c].lastSeq = last->count(c) ? last->at(c) : 0;
    const auto [rooms, projects] = splitChannels(channels);
    QSqlQuery q(QSqlDatabase::database(m_name, false));
    q.setForwardOnly(true);
    for (const auto &[ids, kindValue, kind] :
         {std::tuple {&rooms, 0, ChannelKind::Room}, std::tuple {&projects, 1, ChannelKind::Project}}) {
        if (ids->empty())
            continue;
        const QString sql = QStringLiteral("SELECT channel_id, seq FROM channel_events WHERE channel_kind = %1 AND "
                                           "channel_id IN (%2) ORDER BY channel_id, seq")
                                .arg(kindValue)
                                .arg(idList(*ids));
        if (!q.exec(sql))
            return queryError(q, "reading channel_events");
        while (q.next())
            out[Channel {kind, q.value(0).toLongLong()}].seqs.push_back(q.value(1).toLongLong());
    }
    return out;
}

Result<QList<DbMessage>> DbReader::runMessages(const QString &runId)
{
    QSqlQuery q(QSqlDatabase::database(m_name, false));
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT id, room_id, seq, author_id, client_id FROM messages WHERE client_id LIKE ? "
                             "ORDER BY id"));
    q.addBindValue(QString(runId + QStringLiteral("-%")));
    if (!q.exec())
        return queryError(q, "reading the run's messages");
    QList<DbMessage> out;
    while (q.next()) {
        out.append(DbMessage {q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toLongLong(),
                              q.value(3).toLongLong(), q.value(4).toString()});
    }
    return out;
}

} // namespace taskmaster::load
