// RoomStore on both back ends: membership and visibility, unread counts, read markers, the batch
// insert (seqs contiguous per room, duplicates by clientId take no seq, per-item errors, events
// recorded), concurrency, edit/delete tombstones, history pages, no N+1 on room lists, and the
// member counts read up to a cap (presence of big rooms).
#include "server/storage/event_store.h"
#include "server/storage/room_store.h"
#include "server/storage/sql.h"
#include "server/storage/user_store.h"
#include "tests/support/store_fixture.h"

#include <QDeadlineTimer>
#include <QSemaphore>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>
#include <QThread>

#include <algorithm>

using namespace taskmaster;
using namespace taskmaster::server;
using store::NewMessage;
using taskmaster::test::backendRows;
using taskmaster::test::rowBackend;

class TestRoomStore final : public test::StoreFixture {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void createAndList_data() { backendRows(); }
    void createAndList();
    void membership_data() { backendRows(); }
    void membership();
    void memberCountsCapped_data();
    void memberCountsCapped();
    void batchInsert_data() { backendRows(); }
    void batchInsert();
    void batchTextVerbatim_data();
    void batchTextVerbatim();
    void batchStatementsFixed_data() { backendRows(); }
    void batchStatementsFixed();
    void concurrentBatches_data() { backendRows(); }
    void concurrentBatches();
    void batchReadsAfterItsLocks_data();
    void batchReadsAfterItsLocks();
    void unreadAndReadMarker_data() { backendRows(); }
    void unreadAndReadMarker();
    void editDelete_data() { backendRows(); }
    void editDelete();
    void history_data();
    void history();
    void historyUsesIndex();

private:
    Id addRoom(Id creator, const QList<Id> &members);
    QList<Result<store::StoredMessage>> send(const QList<NewMessage> &batch);
    // channel_events of a room as (seq, type code) pairs, in seq order.
    QList<std::pair<qint64, int>> events(Id roomId);

    Id m_alice = 0, m_bob = 0, m_carol = 0;
};

void TestRoomStore::init()
{
    // historyUsesIndex reads PostgreSQL's plan.
    openDatabase(QByteArray(QTest::currentTestFunction()) == "historyUsesIndex" ? QStringLiteral("postgres")
                                                                                : rowBackend());
    m_alice = addUser(QStringLiteral("alice")).id;
    m_bob = addUser(QStringLiteral("bob")).id;
    m_carol = addUser(QStringLiteral("carol")).id;
}

Id TestRoomStore::addRoom(Id creator, const QList<Id> &members)
{
    auto r
        = onDb([&](QSqlDatabase &db) { return store::createRoom(db, creator, QStringLiteral("room"), members, 10); });
    if (!r)
        qFatal("createRoom: %s", qPrintable(r.error().message));
    return r->room.id;
}

QList<Result<store::StoredMessage>> TestRoomStore::send(const QList<NewMessage> &batch)
{
    auto r = onDb([&](QSqlDatabase &db) { return store::insertMessages(db, batch, 100); });
    if (!r)
        qFatal("insertMessages: %s", qPrintable(r.error().message));
    return *r;
}

QList<std::pair<qint64, int>> TestRoomStore::events(Id roomId)
{
    return onDb([roomId](QSqlDatabase &db) {
        QList<std::pair<qint64, int>> out;
        QSqlQuery q(db);
        q.prepare(QStringLiteral(
            "SELECT seq, type FROM channel_events WHERE channel_kind = 0 AND channel_id = ? ORDER BY seq"));
        q.addBindValue(roomId);
        q.exec();
        while (q.next())
            out.append({q.value(0).toLongLong(), q.value(1).toInt()});
        return out;
    });
}

void TestRoomStore::createAndList()
{
    auto created = onDb([&](QSqlDatabase &db) {
        return store::createRoom(db, m_alice, QStringLiteral("'; DROP TABLE rooms; --"), {m_bob, m_bob, m_alice}, 10);
    });
    QVERIFY(created);
    QCOMPARE(created->room.name, QStringLiteral("'; DROP TABLE rooms; --"));
    QCOMPARE(created->room.memberIds, (QList<Id> {m_alice, m_bob}));
    QCOMPARE(created->room.lastSeq, qint64(2)); // one member_joined each
    QCOMPARE(created->firstSeq, qint64(1));
    QCOMPARE(events(created->room.id), (QList<std::pair<qint64, int>> {{1, 5}, {2, 5}}));

    auto unknown = onDb([&](QSqlDatabase &db) {
        return store::createRoom(db, m_alice, QStringLiteral("x"), {m_bob, 99999}, 10);
    });
    QVERIFY(!unknown);
    QCOMPARE(unknown.error().code, ErrorCode::ValidationFailed);
    QCOMPARE(unknown.error().field, QStringLiteral("memberIds"));

    // Many rooms, listed in a fixed number of queries.
    for (int i = 0; i < 30; ++i)
        addRoom(m_bob, {m_carol});
    auto listing = onDb([&](QSqlDatabase &db) {
        const qint64 before = sql::queriesOnThisThread();
        auto rooms = store::roomsForUser(db, m_bob);
        return std::pair(rooms, sql::queriesOnThisThread() - before);
    });
    QVERIFY(listing.first);
    QCOMPARE(listing.first->size(), 31);
    QCOMPARE(listing.second, qint64(2));
    for (const Room &r : *listing.first)
        QVERIFY(r.memberIds.contains(m_bob));
    auto carols = onDb([&](QSqlDatabase &db) { return store::roomsForUser(db, m_carol); });
    QCOMPARE(carols->size(), 30);
}

void TestRoomStore::membership()
{
    const Id room = addRoom(m_alice, {m_bob});
    // Carol is not a member: the room does not exist for her.
    auto seen = onDb([&](QSqlDatabase &db) { return store::roomForMember(db, room, m_carol); });
    QVERIFY(seen && !seen->has_value());
    auto add = onDb([&](QSqlDatabase &db) { return store::addRoomMember(db, room, m_carol, m_carol, 20); });
    QCOMPARE(add.error().code, ErrorCode::NotFound);
    auto hist = onDb([&](QSqlDatabase &db) { return store::history(db, room, m_carol, {}, {}, 50); });
    QCOMPARE(hist.error().code, ErrorCode::NotFound);

    // Bob adds Carol; adding her twice is a conflict; an unknown user is not found.
    auto added = onDb([&](QSqlDatabase &db) { return store::addRoomMember(db, room, m_bob, m_carol, 20); });
    QVERIFY(added);
    QCOMPARE(added->firstSeq, qint64(3));
    QVERIFY(added->room.memberIds.contains(m_carol));
    auto twice = onDb([&](QSqlDatabase &db) { return store::addRoomMember(db, room, m_bob, m_carol, 20); });
    QCOMPARE(twice.error().code, ErrorCode::Conflict);
    auto ghost = onDb([&](QSqlDatabase &db) { return store::addRoomMember(db, room, m_bob, 424242, 20); });
    QCOMPARE(ghost.error().code, ErrorCode::NotFound);
    QCOMPARE(ghost.error().field, QStringLiteral("userId"));

    // Bob may not remove Carol (only the creator may remove others); Carol may leave; Alice may remove Bob.
    auto forbidden = onDb([&](QSqlDatabase &db) { return store::removeRoomMember(db, room, m_bob, m_carol, 30); });
    QCOMPARE(forbidden.error().code, ErrorCode::Forbidden);
    QVERIFY(onDb([&](QSqlDatabase &db) { return store::removeRoomMember(db, room, m_carol, m_carol, 30); }));
    auto removed = onDb([&](QSqlDatabase &db) { return store::removeRoomMember(db, room, m_alice, m_bob, 30); });
    QVERIFY(removed);
    QCOMPARE(removed->room.memberIds, QList<Id> {m_alice});
    QCOMPARE(events(room), (QList<std::pair<qint64, int>> {{1, 5}, {2, 5}, {3, 5}, {4, 6}, {5, 6}}));
    auto gone = onDb([&](QSqlDatabase &db) { return store::roomForMember(db, room, m_bob); });
    QVERIFY(gone && !gone->has_value());
}

void TestRoomStore::memberCountsCapped_data()
{
    QTest::addColumn<int>("members"); // the room's, the creator included
    QTest::addColumn<int>("cap");
    QTest::addColumn<int>("expected");
    for (const char *backend : {"sqlite", "postgres"}) {
        const auto row = [backend](const char *name, int members, int cap, int expected) {
            QTest::addRow("%s/%s", backend, name) << members << cap << expected;
        };
        row("alone", 1, 4, 1);
        row("under the cap", 2, 4, 2);
        row("one under", 3, 4, 3);
        row("at the cap", 4, 4, 4);
        row("over the cap", 7, 4, 4);
        row("cap 1", 7, 1, 1);
    }
}

void TestRoomStore::memberCountsCapped()
{
    // The hub's presence reads a room's members only up to its limit + 1 (a big room costs the
    // same whatever its size): exact under the cap, the cap at or over it.
    QFETCH(int, members);
    QFETCH(int, cap);
    QFETCH(int, expected);
    QList<Id> others {m_bob, m_carol};
    for (int i = others.size(); i < members - 1; ++i)
        others.append(addUser(QStringLiteral("m%1").arg(i)).id);
    others = others.first(members - 1);
    const Id room = addRoom(m_alice, others);
    const Id small = addRoom(m_alice, {m_bob}); // a second room of alice: 2 members
    auto counts = onDb([&](QSqlDatabase &db) { return store::roomMemberCountsForUser(db, m_alice, cap); });
    QVERIFY(counts);
    QCOMPARE(counts->size(), 2);
    QCOMPARE(counts->value(room), expected);
    QCOMPARE(counts->value(small), std::min(2, cap));
    auto one = onDb([&](QSqlDatabase &db) { return store::roomMemberCount(db, room, cap); });
    QVERIFY(one);
    QCOMPARE(*one, expected);
    auto none = onDb([&](QSqlDatabase &db) { return store::roomMemberCount(db, 987654, cap); });
    QVERIFY(none);
    QCOMPARE(*none, 0);
}

void TestRoomStore::batchInsert()
{
    const Id r1 = addRoom(m_alice, {m_bob}); // seqs 1, 2 taken by member_joined
    const Id r2 = addRoom(m_bob, {m_carol});
    const QString verbatim = QStringLiteral("Robert'); DROP TABLE messages;-- \\ % _ \U0001F600\n2nd line");
    const auto first = send({NewMessage {r1, m_alice, QStringLiteral("a1"), QStringLiteral("c-1")},
                             NewMessage {r1, m_bob, verbatim, std::nullopt},
                             NewMessage {r2, m_carol, QStringLiteral("c1"), QStringLiteral("c-1")},
                             NewMessage {r2, m_alice, QStringLiteral("not a member"), QStringLiteral("c-9")},
                             NewMessage {r1, m_alice, QStringLiteral("same clientId in batch"), QStringLiteral("c-1")},
                             NewMessage {424242, m_alice, QStringLiteral("no such room"), std::nullopt}});
    QCOMPARE(first.size(), 6);
    QVERIFY(first[0] && !first[0]->duplicate);
    QCOMPARE(first[0]->message.seq, qint64(3));
    QCOMPARE(first[1]->message.seq, qint64(4));
    QCOMPARE(first[1]->message.body, verbatim);
    QVERIFY(!first[1]->message.clientId);
    QCOMPARE(first[2]->message.seq, qint64(3)); // r2's own counter
    QCOMPARE(first[3].error().code, ErrorCode::NotFound);
    QVERIFY(first[4] && first[4]->duplicate);
    QCOMPARE(first[4]->message, first[0]->message);
    QCOMPARE(first[5].error().code, ErrorCode::NotFound);

    // Sending the same clientId again answers the first message and takes no seq.
    const auto again = send({NewMessage {r1, m_alice, QStringLiteral("retry"), QStringLiteral("c-1")},
                             NewMessage {r1, m_alice, QStringLiteral("next"), QStringLiteral("c-2")}});
    QVERIFY(again[0]->duplicate);
    QCOMPARE(again[0]->message.body, QStringLiteral("a1"));
    QCOMPARE(again[1]->message.seq, qint64(5));
    QCOMPARE(events(r1), (QList<std::pair<qint64, int>> {{1, 5}, {2, 5}, {3, 0}, {4, 0}, {5, 0}}));
    auto room = onDb([&](QSqlDatabase &db) { return store::roomForMember(db, r1, m_alice); });
    QCOMPARE((*room)->lastSeq, qint64(5));

    // A large batch crosses the insert chunk size and stays contiguous.
    QList<NewMessage> big;
    for (int i = 0; i < 1000; ++i)
        big.append(
            NewMessage {r1, i % 2 ? m_alice : m_bob, QStringLiteral("m%1").arg(i), QStringLiteral("big-%1").arg(i)});
    const auto stored = send(big);
    for (int i = 0; i < 1000; ++i)
        QCOMPARE(stored[i]->message.seq, qint64(6 + i));
    QCOMPARE(events(r1).size(), 1005);
}

void TestRoomStore::batchTextVerbatim_data()
{
    // PostgreSQL binds a batch's bodies and clientIds as one text[] literal: every character that
    // means something in an array literal must come back as it went in, next to other rows.
    QTest::addColumn<QString>("backend");
    QTest::addColumn<QString>("text");
    const QList<std::pair<const char *, QString>> texts {
        {"double quote", QStringLiteral("say \"hi\"")},
        {"backslash before quote", QStringLiteral("\\\"")},
        {"trailing backslash", QStringLiteral("ends with \\")},
        {"braces and commas", QStringLiteral("{a,b},{}")},
        {"the word NULL", QStringLiteral("NULL")},
        {"empty", QStringLiteral("")},
        {"spaces around", QStringLiteral("  padded  ")},
        {"tab and newlines", QStringLiteral("a\tb\r\nc")},
        {"non-BMP and combining", QStringLiteral("\U0001F600 e\u0301")},
        {"single quote and semicolon", QStringLiteral("'); DROP TABLE messages;--")},
    };
    for (const char *b : {"sqlite", "postgres"}) {
        for (const auto &[name, text] : texts)
            QTest::addRow("%s %s", b, name) << QString::fromLatin1(b) << text;
    }
}

void TestRoomStore::batchTextVerbatim()
{
    QFETCH(QString, text);
    const Id r1 = addRoom(m_alice, {m_bob});
    const QString clientId = QStringLiteral("id ") + text;
    const auto stored = send({NewMessage {r1, m_alice, QStringLiteral("before"), QStringLiteral("x")},
                              NewMessage {r1, m_bob, text, clientId}, NewMessage {r1, m_alice, text, std::nullopt},
                              NewMessage {r1, m_alice, QStringLiteral("after"), QStringLiteral("y")}});
    QCOMPARE(stored.size(), 4);
    for (const auto &r : stored)
        QVERIFY(r && !r->duplicate);
    QCOMPARE(stored[0]->message.body, QStringLiteral("before"));
    QCOMPARE(stored[1]->message.body, text);
    QCOMPARE(stored[1]->message.clientId, std::optional<QString>(clientId));
    QCOMPARE(stored[2]->message.body, text);
    QVERIFY(!stored[2]->message.clientId);
    QCOMPARE(stored[3]->message.body, QStringLiteral("after"));
    // The clientId is found again as the same text (a retry is a duplicate, not a new message).
    const auto again = send({NewMessage {r1, m_bob, QStringLiteral("retry"), clientId}});
    QVERIFY(again[0] && again[0]->duplicate);
    QCOMPARE(again[0]->message.id, stored[1]->message.id);
    const auto page = onDb([&](QSqlDatabase &db) { return store::history(db, r1, m_alice, {}, {}, 10); });
    QVERIFY(page);
    QCOMPARE(page->items.size(), 4);
}

void TestRoomStore::batchStatementsFixed()
{
    // A batch's statements on PostgreSQL do not grow with its rooms or rows (each step binds arrays):
    // a batch holds its room locks for a fixed number of round trips. SQLite (in the process) runs
    // per room and per chunk.
    QFETCH(QString, backend);
    const auto cost = [&](int rooms) {
        QList<Id> ids;
        for (int i = 0; i < rooms; ++i)
            ids << addRoom(m_alice, {m_bob});
        QList<NewMessage> batch;
        for (int i = 0; i < 3 * rooms; ++i)
            batch.append(NewMessage {ids[i % rooms], i % 2 ? m_alice : m_bob, QStringLiteral("m%1").arg(i),
                                     QStringLiteral("fixed-%1-%2").arg(rooms).arg(i)});
        return onDb([&](QSqlDatabase &db) {
            const qint64 before = sql::queriesOnThisThread();
            const auto r = store::insertMessages(db, batch, 100);
            if (!r || r->size() != batch.size() || !r->constLast())
                qFatal("insertMessages failed");
            return sql::queriesOnThisThread() - before;
        });
    };
    const qint64 few = cost(2);
    const qint64 many = cost(40);
    if (backend == QLatin1String("postgres"))
        QCOMPARE(many, few);
    else
        QVERIFY2(many > few, "SQLite's statements grow with the rooms (the check above is not vacuous)");
}

void TestRoomStore::concurrentBatches()
{
    const Id room = addRoom(m_alice, {m_bob, m_carol});
    QList<QFuture<Result<QList<Result<store::StoredMessage>>>>> futures;
    for (int b = 0; b < 8; ++b) {
        QList<NewMessage> batch;
        for (int i = 0; i < 25; ++i) {
            // Every batch repeats the clientIds shared-0..4: each is stored once.
            const QString cid = i < 5 ? QStringLiteral("shared-%1").arg(i) : QStringLiteral("b%1-%2").arg(b).arg(i);
            batch.append(NewMessage {room, m_bob, QStringLiteral("x"), cid});
        }
        futures << pool().run([batch](QSqlDatabase &db) { return store::insertMessages(db, batch, 5); });
    }
    QSet<qint64> seqs;
    int duplicates = 0;
    for (auto &f : futures) {
        const auto r = f.result();
        QVERIFY2(r, r ? "" : qPrintable(r.error().message));
        for (const auto &item : *r) {
            QVERIFY(item);
            if (item->duplicate) {
                ++duplicates;
                continue;
            }
            QVERIFY(!seqs.contains(item->message.seq));
            seqs.insert(item->message.seq);
        }
    }
    QCOMPARE(duplicates, 7 * 5);
    QCOMPARE(seqs.size(), 8 * 20 + 5);
    // No gaps: member_joined took 1..3, messages 4..168.
    for (qint64 s = 4; s < 4 + 165; ++s)
        QVERIFY2(seqs.contains(s), qPrintable(QString::number(s)));
    QCOMPARE(events(room).size(), 3 + 165);
}

void TestRoomStore::batchReadsAfterItsLocks_data()
{
    // SQLite has no row locks: PostgreSQL only. What the lock's holder commits while the batch
    // waits for the room: bob removed, dave added, a message with the batch's clientId 'held'.
    QTest::addColumn<QString>("backend");
    QTest::addColumn<bool>("members");
    QTest::addColumn<bool>("clientId");
    QTest::newRow("postgres: members and clientId") << QStringLiteral("postgres") << true << true;
    QTest::newRow("postgres: members only") << QStringLiteral("postgres") << true << false;
    QTest::newRow("postgres: clientId only") << QStringLiteral("postgres") << false << true;
}

void TestRoomStore::batchReadsAfterItsLocks()
{
    // A batch that waits for a room's lock decides on what the lock's holder committed: bob,
    // removed meanwhile, is no member any more; dave, added meanwhile, is; a clientId stored
    // meanwhile is a duplicate. (PostgreSQL's batch locks and reads in one statement, whose
    // snapshot predates the wait: it must read again.) Without that bob's message would be stored
    // after his member_left, and the 'held' send would be stored twice.
    QFETCH(bool, members);
    QFETCH(bool, clientId);
    const Id room = addRoom(m_alice, {m_bob, m_carol}); // seqs 1..3
    const Id dave = addUser(QStringLiteral("dave")).id;
    QSemaphore holding, release;
    auto holder = pool().run([&](QSqlDatabase &db) -> MaybeError {
        sql::Transaction tx(db);
        if (!tx.began())
            return tx.beginError();
        QSqlQuery q(db);
        if (!q.exec(QStringLiteral("SELECT id FROM rooms WHERE id = %1 FOR UPDATE").arg(room)))
            return Error {ErrorCode::Internal, q.lastError().text(), {}};
        q.finish();
        if (members) {
            if (!q.exec(
                    QStringLiteral("DELETE FROM room_members WHERE room_id = %1 AND user_id = %2").arg(room).arg(m_bob))
                || !q.exec(QStringLiteral("INSERT INTO room_members (room_id, user_id, joined_at) VALUES (%1, %2, 1)")
                               .arg(room)
                               .arg(dave)))
                return Error {ErrorCode::Internal, q.lastError().text(), {}};
            auto seq = store::appendEvents(
                db, Channel::room(room),
                {store::EventRow {EventType::MemberLeft, m_bob}, store::EventRow {EventType::MemberJoined, dave}}, 50);
            if (!seq)
                return seq.error();
        }
        if (clientId) {
            auto msgSeq = store::reserveSeqs(db, Channel::room(room), 1);
            if (!msgSeq)
                return msgSeq.error();
            if (!q.exec(
                    QStringLiteral("INSERT INTO messages (room_id, seq, author_id, body, client_id, created_at) VALUES "
                                   "(%1, %2, %3, 'first', 'held', 50) RETURNING id")
                        .arg(room)
                        .arg(*msgSeq)
                        .arg(m_carol))
                || !q.next())
                return Error {ErrorCode::Internal, q.lastError().text(), {}};
            const Id id = q.value(0).toLongLong();
            q.finish();
            if (auto e = store::recordEvents(db, Channel::room(room), *msgSeq,
                                             {store::EventRow {EventType::MessageCreated, id}}, 50))
                return e;
        }
        holding.release();
        release.acquire();
        return tx.commit();
    });
    if (!holding.tryAcquire(1, 30000)) {
        release.release();
        const MaybeError held = holder.result();
        QFAIL(held ? qPrintable(held->message) : "the holder never took the lock");
    }
    const Id bob = m_bob, carol = m_carol;
    auto batch = pool().run([=](QSqlDatabase &db) {
        return store::insertMessages(db,
                                     {NewMessage {room, bob, QStringLiteral("removed"), std::nullopt},
                                      NewMessage {room, dave, QStringLiteral("added"), std::nullopt},
                                      NewMessage {room, carol, QStringLiteral("again"), QStringLiteral("held")},
                                      NewMessage {room, carol, QStringLiteral("new"), QStringLiteral("new")}},
                                     100);
    });
    // Release the holder only once the batch waits for its lock.
    QDeadlineTimer deadline(30000);
    bool waiting = false;
    while (!waiting && !deadline.hasExpired()) {
        waiting = onDb([](QSqlDatabase &db) {
            QSqlQuery q(db);
            return q.exec(QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                         "AND backend_type = 'client backend' AND wait_event_type = 'Lock'"))
                && q.next() && q.value(0).toInt() > 0;
        });
        if (!waiting)
            QThread::msleep(5); // polling interval, not a synchronisation
    }
    release.release();
    const MaybeError held = holder.result();
    const auto r = batch.result();
    QVERIFY2(waiting, "the batch never waited for the room's lock");
    QVERIFY2(!held, held ? qPrintable(held->message) : "");
    QVERIFY2(r, r ? "" : qPrintable(r.error().message));
    QCOMPARE(r->size(), 4);
    // The room's events before the batch: 3, then member_left and member_joined, then 'held'.
    const qint64 before = 3 + (members ? 2 : 0) + (clientId ? 1 : 0);
    qint64 next = before;
    if (members) {
        QVERIFY2(!r->at(0), "bob's message was stored after he left");
        QCOMPARE(r->at(0).error().code, ErrorCode::NotFound);
        QVERIFY(r->at(1) && !r->at(1)->duplicate);
        QCOMPARE(r->at(1)->message.seq, ++next);
    } else {
        QVERIFY(r->at(0) && !r->at(0)->duplicate);
        QCOMPARE(r->at(0)->message.seq, ++next);
        QVERIFY(!r->at(1));
        QCOMPARE(r->at(1).error().code, ErrorCode::NotFound);
    }
    QVERIFY2(r->at(2), r->at(2) ? "" : qPrintable(r->at(2).error().message));
    if (clientId) {
        QVERIFY(r->at(2)->duplicate);
        QCOMPARE(r->at(2)->message.body, QStringLiteral("first"));
        QCOMPARE(r->at(2)->message.seq, before);
    } else {
        QVERIFY(!r->at(2)->duplicate);
        QCOMPARE(r->at(2)->message.seq, ++next);
    }
    QVERIFY(r->at(3) && !r->at(3)->duplicate);
    QCOMPARE(r->at(3)->message.seq, ++next);
    const auto seqs = events(room);
    QCOMPARE(seqs.size(), next);
    for (qsizetype i = 0; i < seqs.size(); ++i)
        QCOMPARE(seqs[i].first, qint64(i + 1));
}

void TestRoomStore::unreadAndReadMarker()
{
    const Id room = addRoom(m_alice, {m_bob});
    send({NewMessage {room, m_alice, QStringLiteral("1"), {}}, NewMessage {room, m_alice, QStringLiteral("2"), {}},
          NewMessage {room, m_bob, QStringLiteral("own"), {}}, NewMessage {room, m_alice, QStringLiteral("3"), {}}});
    auto unread = [&](Id user) {
        return (*onDb([&](QSqlDatabase &db) { return store::roomForMember(db, room, user); }))->unread;
    };
    QCOMPARE(unread(m_bob), qint64(3)); // own message not counted
    QCOMPARE(unread(m_alice), qint64(1));
    // Messages are seqs 3..6 (5 is Bob's own): read up to 4, only 6 is left unread for Bob.
    auto readSeqOf = [&](Id user) {
        return (*onDb([&](QSqlDatabase &db) { return store::roomForMember(db, room, user); }))->readSeq.value_or(-1);
    };
    QCOMPARE(readSeqOf(m_bob), qint64(0)); // nothing read yet
    QCOMPARE(*onDb([&](QSqlDatabase &db) { return store::markRead(db, room, m_bob, 4); }), qint64(4));
    QCOMPARE(unread(m_bob), qint64(1));
    // The caller's own marker, in the single room and in the list.
    QCOMPARE(readSeqOf(m_bob), qint64(4));
    QCOMPARE(readSeqOf(m_alice), qint64(0));
    const auto bobsRooms = *onDb([&](QSqlDatabase &db) { return store::roomsForUser(db, m_bob); });
    const auto listed = std::find_if(bobsRooms.cbegin(), bobsRooms.cend(), [&](const Room &r) { return r.id == room; });
    QVERIFY(listed != bobsRooms.cend());
    QCOMPARE(listed->readSeq.value_or(-1), qint64(4));
    // Never backwards, never past lastSeq.
    QCOMPARE(*onDb([&](QSqlDatabase &db) { return store::markRead(db, room, m_bob, 2); }), qint64(4));
    QCOMPARE(*onDb([&](QSqlDatabase &db) { return store::markRead(db, room, m_bob, 999); }), qint64(6));
    QCOMPARE(unread(m_bob), qint64(0));
    auto outsider = onDb([&](QSqlDatabase &db) { return store::markRead(db, room, m_carol, 1); });
    QCOMPARE(outsider.error().code, ErrorCode::NotFound);
    // A deleted message no longer counts.
    auto sent = send({NewMessage {room, m_alice, QStringLiteral("oops"), {}}});
    QCOMPARE(unread(m_bob), qint64(1));
    QVERIFY(onDb([&](QSqlDatabase &db) { return store::deleteMessage(db, sent[0]->message.id, m_alice, 200); }));
    QCOMPARE(unread(m_bob), qint64(0));
}

void TestRoomStore::editDelete()
{
    const Id room = addRoom(m_alice, {m_bob});
    const Message m = send({NewMessage {room, m_alice, QStringLiteral("first"), QStringLiteral("e1")}})[0]->message;
    QCOMPARE(m.seq, qint64(3));

    auto byBob
        = onDb([&](QSqlDatabase &db) { return store::editMessage(db, m.id, m_bob, QStringLiteral("hijack"), 200); });
    QCOMPARE(byBob.error().code, ErrorCode::Forbidden);
    auto byCarol
        = onDb([&](QSqlDatabase &db) { return store::editMessage(db, m.id, m_carol, QStringLiteral("x"), 200); });
    QCOMPARE(byCarol.error().code, ErrorCode::NotFound);
    auto missing
        = onDb([&](QSqlDatabase &db) { return store::editMessage(db, 999999, m_alice, QStringLiteral("x"), 200); });
    QCOMPARE(missing.error().code, ErrorCode::NotFound);

    auto edited
        = onDb([&](QSqlDatabase &db) { return store::editMessage(db, m.id, m_alice, QStringLiteral("second"), 200); });
    QVERIFY(edited);
    QCOMPARE(edited->message.body, QStringLiteral("second"));
    QCOMPARE(edited->message.seq, m.seq); // the message keeps its seq; the edit event has its own
    QCOMPARE(edited->eventSeq, qint64(4));
    QCOMPARE(edited->message.editedAt, std::optional(store::fromMs(200)));

    auto deleted = onDb([&](QSqlDatabase &db) { return store::deleteMessage(db, m.id, m_alice, 300); });
    QVERIFY(deleted);
    QVERIFY(deleted->message.deleted);
    QVERIFY(deleted->message.body.isEmpty());
    QCOMPARE(deleted->eventSeq, qint64(5));
    auto twice = onDb([&](QSqlDatabase &db) { return store::deleteMessage(db, m.id, m_alice, 400); });
    QVERIFY(twice);
    QCOMPARE(twice->eventSeq, qint64(0)); // nothing changed, no event
    auto editDeleted
        = onDb([&](QSqlDatabase &db) { return store::editMessage(db, m.id, m_alice, QStringLiteral("zombie"), 500); });
    QCOMPARE(editDeleted.error().code, ErrorCode::NotFound);
    QCOMPARE(events(room), (QList<std::pair<qint64, int>> {{1, 5}, {2, 5}, {3, 0}, {4, 1}, {5, 1}}));
}

void TestRoomStore::history_data()
{
    QTest::addColumn<QString>("backend");
    QTest::addColumn<qint64>("before"); // -1: none
    QTest::addColumn<qint64>("after"); // -1: none
    QTest::addColumn<int>("limit");
    QTest::addColumn<qint64>("firstSeq");
    QTest::addColumn<qint64>("lastSeq");
    QTest::addColumn<bool>("hasMore");
    // Messages have seqs 3..102 (member_joined took 1 and 2).
    for (const char *b : {"sqlite", "postgres"}) {
        const QString backend = QString::fromLatin1(b);
        QTest::addRow("%s latest", b) << backend << qint64(-1) << qint64(-1) << 10 << qint64(93) << qint64(102) << true;
        QTest::addRow("%s before 50", b) << backend << qint64(50) << qint64(-1) << 10 << qint64(40) << qint64(49)
                                         << true;
        QTest::addRow("%s before 8", b) << backend << qint64(8) << qint64(-1) << 10 << qint64(3) << qint64(7) << false;
        QTest::addRow("%s after 95", b) << backend << qint64(-1) << qint64(95) << 10 << qint64(96) << qint64(102)
                                        << false;
        QTest::addRow("%s after 0", b) << backend << qint64(-1) << qint64(0) << 5 << qint64(3) << qint64(7) << true;
        QTest::addRow("%s all", b) << backend << qint64(-1) << qint64(-1) << 200 << qint64(3) << qint64(102) << false;
        QTest::addRow("%s exactly all", b)
            << backend << qint64(-1) << qint64(2) << 100 << qint64(3) << qint64(102) << false;
        QTest::addRow("%s after the end", b)
            << backend << qint64(-1) << qint64(102) << 10 << qint64(0) << qint64(0) << false;
    }
}

void TestRoomStore::history()
{
    QFETCH(qint64, before);
    QFETCH(qint64, after);
    QFETCH(int, limit);
    QFETCH(qint64, firstSeq);
    QFETCH(qint64, lastSeq);
    QFETCH(bool, hasMore);
    const Id room = addRoom(m_alice, {m_bob});
    QList<NewMessage> batch;
    for (int i = 0; i < 100; ++i)
        batch.append(NewMessage {room, m_bob, QStringLiteral("m%1").arg(i), {}});
    send(batch);
    auto page = onDb([&](QSqlDatabase &db) {
        return store::history(db, room, m_alice, before < 0 ? std::nullopt : std::optional(before),
                              after < 0 ? std::nullopt : std::optional(after), limit);
    });
    QVERIFY(page);
    QCOMPARE(page->hasMore, hasMore);
    if (firstSeq == 0) {
        QVERIFY(page->items.isEmpty());
        return;
    }
    QCOMPARE(page->items.constFirst().seq, firstSeq);
    QCOMPARE(page->items.constLast().seq, lastSeq);
    QCOMPARE(page->items.size(), qsizetype(lastSeq - firstSeq + 1));
}

void TestRoomStore::historyUsesIndex()
{
    const Id room = addRoom(m_alice, {m_bob});
    for (int r = 0; r < 5; ++r)
        addRoom(m_bob, {m_carol});
    QList<NewMessage> batch;
    for (int i = 0; i < 3000; ++i)
        batch.append(NewMessage {room, m_bob, QStringLiteral("m%1").arg(i), {}});
    send(batch);
    const QString plan = onDb([&](QSqlDatabase &db) {
        QSqlQuery q(db);
        q.exec(QStringLiteral("ANALYZE"));
        q.exec(QStringLiteral("EXPLAIN SELECT id, seq FROM messages WHERE room_id = %1 AND seq < 9223372036854775807 "
                              "ORDER BY seq DESC LIMIT 51")
                   .arg(room));
        QString text;
        while (q.next())
            text += q.value(0).toString() + QLatin1Char('\n');
        return text;
    });
    QVERIFY2(plan.contains(QLatin1String("Index Scan")) && plan.contains(QLatin1String("messages_room_id_seq_key")),
             qPrintable(plan));
    QVERIFY2(!plan.contains(QLatin1String("Seq Scan on messages")), qPrintable(plan));
}

QTEST_GUILESS_MAIN(TestRoomStore)
#include "tst_room_store.moc"
