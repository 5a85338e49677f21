// The exact loss check of tm-load against the database, the source of truth (--verify-db):
// what PostgreSQL holds for the run's channels (every durable event's seq, the channel's
// last_seq) and messages (by this run's clientIds), read with plain SQL on a connection of its
// own, and the comparisons with what the simulated clients received and were acknowledged:
// every event in the database after a connection's welcome seq arrived on that connection exactly
// once, nothing arrived that the database does not hold, every acknowledged message is stored as
// acknowledged, every stored message of the run was acknowledged, no clientId is stored twice, the
// channel seqs have no holes.
// The comparisons are plain functions over values (tst_load_stats drives them with tables); DbReader
// is used by the main thread only.
#pragma once

#include "shared/core/error.h"
#include "tools/tm-load/load_stats.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <map>
#include <vector>

namespace taskmaster::load {

// One channel as the database has it.
struct DbChannel {
    Seq lastSeq = 0; // rooms.last_seq / projects.last_seq
    std::vector<Seq> seqs; // channel_events.seq, ascending
};

// One stored message of the run.
struct DbMessage {
    Id id = 0;
    Id roomId = 0;
    Seq seq = 0;
    Id authorId = 0;
    QString clientId;
};

// What an ack told a simulated client.
struct AckRecord {
    QString clientId;
    Id messageId = 0;
    Id roomId = 0;
    Seq seq = 0;
};

// One connection's stream of one channel against the database's events after its welcome seq.
struct StreamCheck {
    qint64 expected = 0; // database events after the start
    qint64 missing = 0; // of those, never received
    qint64 phantom = 0; // received seqs the database does not hold
    QList<SeqRange> missingRanges;
};
[[nodiscard]] StreamCheck compareStream(const ChannelAccount &account, const std::vector<Seq> &dbSeqs);

// Seqs 1..lastSeq the channel's events do not hold, plus events above lastSeq or repeated.
[[nodiscard]] qint64 seqHoles(const DbChannel &channel);

struct MessageCheck {
    qint64 acked = 0; // distinct clientIds acknowledged
    qint64 stored = 0; // rows of the run in the database
    qint64 ackedMissing = 0; // acknowledged, not in the database
    qint64 ackMismatch = 0; // in the database with another id, room or seq than the ack said
    qint64 ackedTwiceDifferently = 0; // one clientId acknowledged as two different messages
    qint64 storedNotAcked = 0; // in the database, never acknowledged
    qint64 storedTwice = 0; // extra rows of one (author, clientId)
    // In the database, never acknowledged, and allowed (--unacked-may-be-stored): sends whose ack
    // was lost with their connection or their database (an error frame, or no answer at all) may
    // have been committed. Their events must still reach every connection (the stream check).
    qint64 storedUnackedAllowed = 0;
    QStringList examples; // the first few problems, as sentences
};
[[nodiscard]] MessageCheck compareMessages(const std::vector<AckRecord> &acks, const QList<DbMessage> &rows);
// --unacked-may-be-stored: the stored-but-never-acknowledged messages become allowed when there
// are at most as many as sends without an ack (`sendsWithoutAck`: sent - acked; one clientId per
// send, so each such row is one of them). More is a real problem and stays one.
void allowUnackedStored(MessageCheck &check, qint64 sendsWithoutAck);

// Everything --verify-db found, for the report.
struct DbVerification {
    bool ran = false;
    QString error; // the database could not be read
    qint64 channels = 0;
    qint64 dbEvents = 0; // events of those channels in the database
    qint64 seqHoles = 0;
    qint64 streams = 0; // (connection, channel) pairs compared
    qint64 expected = 0;
    qint64 missing = 0;
    qint64 phantom = 0;
    MessageCheck messages;
    QStringList examples; // the first few stream problems

    [[nodiscard]] qint64 problems() const
    {
        return seqHoles + missing + phantom + messages.ackedMissing + messages.ackMismatch
            + messages.ackedTwiceDifferently + messages.storedNotAcked + messages.storedTwice;
    }
};

// A PostgreSQL connection of tm-load's own (QPSQL), for reading the truth.
class DbReader final {
public:
    DbReader();
    ~DbReader();
    DbReader(const DbReader &) = delete;
    DbReader &operator=(const DbReader &) = delete;

    // postgres://user[:password]@host[:port]/db on a loopback host; `option` names the
    // command-line option in errors.
    [[nodiscard]] MaybeError open(const QString &url, const QString &option = QStringLiteral("verify-db"));
    // last_seq of each channel (rooms and projects).
    [[nodiscard]] Result<std::map<Channel, Seq>> lastSeqs(const std::vector<Channel> &channels);
    [[nodiscard]] Result<std::map<Channel, DbChannel>> channels(const std::vector<Channel> &channels);
    // Messages whose clientId starts with "<runId>-".
    [[nodiscard]] Result<QList<DbMessage>> runMessages(const QString &runId);
    // Seeding (--seed-db): inserts users named `usernames` with the password hash of user
    // `templateUserId` (registered over REST, so every seeded user can log in with its password)
    // and one session each, in one transaction; returns them with their new tokens, in order.
    [[nodiscard]] Result<QList<std::pair<Id, QString>>> insertUsers(const QStringList &usernames, Id templateUserId,
                                                                    qint64 nowMs, qint64 sessionTtlMs);
    // ANALYZE of the whole database: after a bulk load (the seeding), as PostgreSQL's docs advise.
    // Without it the planner knows nothing of the new rows (autovacuum analyzes a minute or more
    // later) and plans the hello and write queries with hash joins over sequential scans, which a
    // production database that has run for a while never does.
    [[nodiscard]] MaybeError analyze();

private:
    // A run may outlive the server's session (PostgreSQL restarted by a fault command): when the
    // connection no longer answers, it is opened again before a read.
    void ensureConnected();

    QString m_name; // the QSqlDatabase connection name
};

} // namespace taskmaster::load
