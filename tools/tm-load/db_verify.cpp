#include "tools/tm-load/db_verify.h"

#include "server/storage/database_url.h"

#include <QCryptographicHash>
#include <QHash>
#include <QHostAddress>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>
#include <utility>

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

void allowUnackedStored(MessageCheck &check, qint64 sendsWithoutAck)
{
    if (check.storedNotAcked == 0 || check.storedNotAcked > sendsWithoutAck)
        return;
    check.storedUnackedAllowed = std::exchange(check.storedNotAcked, 0);
    // Its examples are no longer problems.
    check.examples.removeIf(
        [](const QString &e) { return e.endsWith(QLatin1String("is stored but was never acknowledged")); });
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

MaybeError DbReader::open(const QString &url, const QString &option)
{
    const auto parsed = server::parseDatabaseUrl(url);
    if (!parsed)
        return Error::badRequest(QStringLiteral("--%1: %2").arg(option, parsed.error().message), option);
    const QHostAddress host(parsed->host);
    if (parsed->host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) != 0
        && (host.isNull() || !host.isLoopback())) {
        return Error::badRequest(
            QStringLiteral("--%1: only a loopback database is used, not '%2'").arg(option, parsed->host), option);
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
            ErrorCode::Unavailable, QStringLiteral("--%1: cannot connect: %2").arg(option, db.lastError().text()), {}};
    return std::nullopt;
}

void DbReader::ensureConnected()
{
    QSqlDatabase db = QSqlDatabase::database(m_name, false);
    {
        QSqlQuery probe(db);
        if (db.isOpen() && probe.exec(QStringLiteral("SELECT 1")))
            return;
    }
    db.close();
    if (!db.open())
        qWarning("tm-load: the database connection could not be opened again: %s", qPrintable(db.lastError().text()));
}

Result<QList<std::pair<Id, QString>>> DbReader::insertUsers(const QStringList &usernames, Id templateUserId,
                                                            qint64 nowMs, qint64 sessionTtlMs)
{
    QSqlDatabase db = QSqlDatabase::database(m_name, false);
    auto failed = [](const QSqlQuery &q) {
        return Error {ErrorCode::Unavailable, QStringLiteral("--seed-db: %1").arg(q.lastError().text()), {}};
    };
    if (!db.transaction())
        return Error {ErrorCode::Unavailable, QStringLiteral("--seed-db: %1").arg(db.lastError().text()), {}};
    // Usernames are <prefix><digits>: safe inside an array literal.
    QSqlQuery q(db);
    q.prepare(QStringLiteral("INSERT INTO users (username, display_name, password_hash, role, created_at) "
                             "SELECT u, 'Load user ' || u, (SELECT password_hash FROM users WHERE id = ?), 0, ? "
                             "FROM unnest(?::text[]) WITH ORDINALITY AS t(u, n) ORDER BY n RETURNING id, username"));
    q.addBindValue(templateUserId);
    q.addBindValue(nowMs);
    q.addBindValue(QString(QStringLiteral("{") + usernames.join(QLatin1Char(',')) + QLatin1Char('}')));
    if (!q.exec()) {
        db.rollback();
        return failed(q);
    }
    QHash<QString, Id> ids;
    while (q.next())
        ids.insert(q.value(1).toString(), q.value(0).toLongLong());
    if (ids.size() != usernames.size()) {
        db.rollback();
        return Error {ErrorCode::Conflict, QStringLiteral("--seed-db: some usernames are taken"), {}};
    }
    QList<std::pair<Id, QString>> out;
    QStringList digests, userIds;
    for (const QString &name : usernames) {
        QByteArray raw(32, Qt::Uninitialized);
        QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(raw.data()), 8);
        const QString token
            = QString::fromLatin1(raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
        out.append({ids.value(name), token});
        digests << QString::fromLatin1(QCryptographicHash::hash(token.toUtf8(), QCryptographicHash::Sha256).toHex());
        userIds << QString::number(ids.value(name));
    }
    QSqlQuery s(db);
    s.prepare(QStringLiteral("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) "
                             "SELECT decode(h, 'hex'), id, ?, ? FROM unnest(?::text[], ?::bigint[]) AS t(h, id)"));
    s.addBindValue(nowMs);
    s.addBindValue(nowMs + sessionTtlMs);
    s.addBindValue(QString(QStringLiteral("{") + digests.join(QLatin1Char(',')) + QLatin1Char('}')));
    s.addBindValue(QString(QStringLiteral("{") + userIds.join(QLatin1Char(',')) + QLatin1Char('}')));
    if (!s.exec()) {
        db.rollback();
        return failed(s);
    }
    if (!db.commit())
        return Error {ErrorCode::Unavailable, QStringLiteral("--seed-db: %1").arg(db.lastError().text()), {}};
    return out;
}

MaybeError DbReader::analyze()
{
    QSqlQuery q(QSqlDatabase::database(m_name, false));
    if (!q.exec(QStringLiteral("ANALYZE")))
        return Error {ErrorCode::Unavailable, QStringLiteral("--seed-db: ANALYZE: %1").arg(q.lastError().text()), {}};
    return std::nullopt;
}

Result<std::map<Channel, Seq>> DbReader::lastSeqs(const std::vector<Channel> &channels)
{
    ensureConnected();
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
    ensureConnected();
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
