// The attachment metadata in SQL (server/attachments/attachment_store.h) on both back ends: the
// uploads a message may name (the author's own), where attachments are used, and the garbage
// collection of unused uploads (old and used nowhere; a blob goes only with its last attachment;
// a deleted project's tasks keep nothing), and that collection racing a write that attaches the
// same upload on PostgreSQL (both orders: the write keeps it, or finds it gone; never a message
// that lost its attachment or a batch that failed).
#include "server/attachments/attachment_store.h"
#include "server/storage/project_store.h"
#include "server/storage/room_store.h"
#include "server/storage/sql.h"
#include "server/storage/task_store.h"
#include "tests/support/store_fixture.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QSemaphore>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

using namespace taskmaster;
using namespace taskmaster::server;

class TestAttachmentStore final : public test::StoreFixture {
    Q_OBJECT
private Q_SLOTS:
    void ownUploadsAndUses_data() { test::backendRows(); }
    void ownUploadsAndUses();
    void collectUnused_data() { test::backendRows(); }
    void collectUnused();
    void collectDeletedProjectsTasks_data() { test::backendRows(); }
    void collectDeletedProjectsTasks();
    // PostgreSQL only: SQLite runs one writing transaction at a time (BEGIN IMMEDIATE).
    void collectSkipsWhatAWriteHolds_data() { postgresRow(); }
    void collectSkipsWhatAWriteHolds();
    void writeAfterCollectFindsItGone_data() { postgresRow(); }
    void writeAfterCollectFindsItGone();

private:
    static void postgresRow()
    {
        QTest::addColumn<QString>("backend");
        QTest::newRow("postgres") << QStringLiteral("postgres");
    }
    Attachment add(const User &who, const QString &sha, qint64 createdAtMs)
    {
        Attachment a;
        a.name = QStringLiteral("f.bin");
        a.size = 3;
        a.contentType = QStringLiteral("application/octet-stream");
        a.sha256 = sha;
        a.createdAt = QDateTime::fromMSecsSinceEpoch(createdAtMs, Qt::UTC);
        a.uploaderId = who.id;
        auto stored = onDb([a](QSqlDatabase &db) { return store::insertAttachment(db, a); });
        if (!stored)
            qFatal("insertAttachment: %s", qPrintable(stored.error().message));
        return *stored;
    }
    Id postMessage(const User &who, Id roomId, const QList<Id> &attachmentIds)
    {
        const qint64 now = tick();
        auto r = onDb([=](QSqlDatabase &db) {
            return store::insertMessages(
                db, {store::NewMessage {roomId, who.id, QStringLiteral("m"), {}, attachmentIds}}, now);
        });
        if (!r || !r->at(0))
            return 0;
        return r->at(0)->message.id;
    }
};

void TestAttachmentStore::ownUploadsAndUses()
{
    const User alice = addUser(QStringLiteral("alice"));
    const User bob = addUser(QStringLiteral("bob"));
    const Attachment a = add(alice, QStringLiteral("aa"), 1000);
    const Attachment b = add(bob, QStringLiteral("bb"), 1000);
    auto known = onDb([&](QSqlDatabase &db) { return store::attachmentsByIds(db, {a.id, b.id, 999}); });
    QVERIFY(known);
    QCOMPARE(known->size(), 2);
    QVERIFY(!store::checkOwnUploads(*known, {a.id}, alice.id));
    QCOMPARE(store::checkOwnUploads(*known, {a.id, b.id}, alice.id)->field, QStringLiteral("attachmentIds"));
    QVERIFY(store::checkOwnUploads(*known, {999}, alice.id));

    const qint64 now = tick();
    auto room
        = onDb([&](QSqlDatabase &db) { return store::createRoom(db, alice.id, QStringLiteral("r"), {bob.id}, now); });
    QVERIFY(room);
    const Id m = postMessage(alice, room->room.id, {a.id});
    QVERIFY(m > 0);
    QCOMPARE(postMessage(bob, room->room.id, {a.id}), Id(0)); // not Bob's upload
    // Bob may read it now (a room member), and the message carries it in history.
    auto readable = onDb([&](QSqlDatabase &db) { return store::readableAttachment(db, a.id, bob.id); });
    QVERIFY(readable && readable->has_value());
    auto page = onDb(
        [&](QSqlDatabase &db) { return store::history(db, room->room.id, bob.id, std::nullopt, std::nullopt, 50); });
    QVERIFY(page);
    QCOMPARE(page->items.constLast().attachments, QList<Attachment> {a});
}

void TestAttachmentStore::collectUnused()
{
    const User alice = addUser(QStringLiteral("alice"));
    const qint64 day = 24LL * 3600 * 1000;
    const qint64 now = 10 * day;
    const Attachment oldUnused = add(alice, QStringLiteral("s1"), now - 2 * day);
    const Attachment oldUsed = add(alice, QStringLiteral("s2"), now - 2 * day);
    const Attachment oldSharing = add(alice, QStringLiteral("s3"), now - 2 * day); // same bytes as recent
    const Attachment recent = add(alice, QStringLiteral("s3"), now - 1000);
    const qint64 t = tick();
    auto room = onDb([&](QSqlDatabase &db) { return store::createRoom(db, alice.id, QStringLiteral("r"), {}, t); });
    QVERIFY(room);
    QVERIFY(postMessage(alice, room->room.id, {oldUsed.id}) > 0);

    auto orphans = onDb([&](QSqlDatabase &db) { return store::collectUnused(db, now - day, 100); });
    QVERIFY(orphans);
    QCOMPARE(*orphans, QList<QByteArray> {QByteArrayLiteral("s1")}); // s3 is still recent's
    auto left = onDb([&](QSqlDatabase &db) {
        return store::attachmentsByIds(db, {oldUnused.id, oldUsed.id, oldSharing.id, recent.id});
    });
    QVERIFY(left);
    QVERIFY(!left->contains(oldUnused.id));
    QVERIFY(left->contains(oldUsed.id));
    QVERIFY(!left->contains(oldSharing.id));
    QVERIFY(left->contains(recent.id));
}

void TestAttachmentStore::collectDeletedProjectsTasks()
{
    const User alice = addUser(QStringLiteral("alice"));
    const qint64 day = 24LL * 3600 * 1000;
    const qint64 now = 10 * day;
    const Attachment onDeleted = add(alice, QStringLiteral("d1"), now - 2 * day);
    const Attachment onLive = add(alice, QStringLiteral("d2"), now - 2 * day);
    const Project gone = addProject(alice, QStringLiteral("gone"));
    const Project kept = addProject(alice, QStringLiteral("kept"));
    for (const auto &[project, attachment] : {std::pair {gone, onDeleted}, std::pair {kept, onLive}}) {
        const qint64 t = tick();
        store::NewTask fields;
        fields.title = QStringLiteral("t");
        fields.attachmentIds = {attachment.id};
        auto task = onDb([&](QSqlDatabase &db) { return store::createTask(db, project.id, alice.id, fields, t); });
        QVERIFY(task);
    }
    const qint64 t = tick();
    QVERIFY(onDb([&](QSqlDatabase &db) { return store::deleteProject(db, gone.id, alice.id, t); }));

    auto orphans = onDb([&](QSqlDatabase &db) { return store::collectUnused(db, now - day, 100); });
    QVERIFY(orphans);
    QCOMPARE(*orphans, QList<QByteArray> {QByteArrayLiteral("d1")});
    auto left = onDb([&](QSqlDatabase &db) { return store::attachmentsByIds(db, {onDeleted.id, onLive.id}); });
    QVERIFY(left);
    QVERIFY(!left->contains(onDeleted.id));
    QVERIFY(left->contains(onLive.id));
    // Its links went with it; a second run finds nothing more.
    auto again = onDb([&](QSqlDatabase &db) { return store::collectUnused(db, now - day, 100); });
    QVERIFY(again);
    QVERIFY(again->isEmpty());
}

namespace {
// Whether some session of the database waits for a lock (pg_stat_activity).
bool someoneWaitsForALock(QSqlDatabase &db)
{
    QSqlQuery q(db);
    return q.exec(QStringLiteral("SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
                                 " AND wait_event_type = 'Lock'"))
        && q.next();
}
} // namespace

// A write holds the upload (attachmentsByIds, FOR SHARE) and has not linked it yet when the
// collection runs: the collection skips it without waiting, and the write links it.
void TestAttachmentStore::collectSkipsWhatAWriteHolds()
{
    const User alice = addUser(QStringLiteral("alice"));
    const qint64 day = 24LL * 3600 * 1000;
    const qint64 now = 10 * day;
    const Attachment a = add(alice, QStringLiteral("r1"), now - 2 * day);
    const qint64 t = tick();
    auto room = onDb([&](QSqlDatabase &db) { return store::createRoom(db, alice.id, QStringLiteral("r"), {}, t); });
    QVERIFY(room);
    const Id message = postMessage(alice, room->room.id, {});
    QVERIFY(message > 0);

    QSemaphore held, go;
    auto write = pool().run([&](QSqlDatabase &db) -> MaybeError {
        sql::Transaction tx(db);
        if (!tx.began())
            return tx.beginError();
        auto known = store::attachmentsByIds(db, {a.id});
        held.release();
        go.acquire();
        if (!known)
            return known.error();
        if (auto e = store::checkOwnUploads(*known, {a.id}, alice.id))
            return e;
        if (auto e = store::linkMessage(db, message, {a.id}))
            return e;
        return tx.commit();
    });
    QVERIFY(held.tryAcquire(1, 10000));
    // A collection that waited for the lock would fail here (lock_timeout) instead of hanging.
    auto orphans = onDb([&](QSqlDatabase &db) {
        QSqlQuery(db).exec(QStringLiteral("SET lock_timeout = '10s'"));
        auto r = store::collectUnused(db, now - day, 100);
        QSqlQuery(db).exec(QStringLiteral("RESET lock_timeout"));
        return r;
    });
    go.release();
    QVERIFY2(orphans, orphans ? "" : qPrintable(orphans.error().message));
    QVERIFY(orphans->isEmpty());
    const MaybeError written = write.result();
    QVERIFY2(!written, written ? qPrintable(written->message) : "");
    auto carried = onDb([&](QSqlDatabase &db) { return store::attachmentsOfMessages(db, {message}); });
    QVERIFY(carried);
    QCOMPARE(carried->value(message), QList<Attachment> {a});
    // Used now: a later collection keeps it too.
    auto later = onDb([&](QSqlDatabase &db) { return store::collectUnused(db, now - day, 100); });
    QVERIFY(later && later->isEmpty());
}

// The collection has deleted the upload and not committed yet when a batch of messages names
// it: the batch waits, then answers that message 422 (attachmentIds) and stores the others.
void TestAttachmentStore::writeAfterCollectFindsItGone()
{
    const User alice = addUser(QStringLiteral("alice"));
    const qint64 day = 24LL * 3600 * 1000;
    const qint64 now = 10 * day;
    const Attachment a = add(alice, QStringLiteral("r2"), now - 2 * day);
    const qint64 t = tick();
    auto room = onDb([&](QSqlDatabase &db) { return store::createRoom(db, alice.id, QStringLiteral("r"), {}, t); });
    QVERIFY(room);

    QSemaphore held, go;
    auto collect = pool().run([&](QSqlDatabase &db) -> Result<QList<QByteArray>> {
        // collectUnused up to its commit: held there.
        sql::Transaction tx(db);
        if (!tx.began())
            return tx.beginError();
        QSqlQuery q(db);
        q.prepare(QStringLiteral("DELETE FROM attachments WHERE id = ?"));
        q.addBindValue(a.id);
        const bool ok = q.exec();
        held.release();
        go.acquire();
        if (!ok)
            return Error {ErrorCode::Internal, q.lastError().text(), {}};
        if (auto e = tx.commit())
            return *e;
        return QList<QByteArray> {};
    });
    QVERIFY(held.tryAcquire(1, 10000));
    const qint64 sentAt = tick();
    auto batch = pool().run([&](QSqlDatabase &db) {
        return store::insertMessages(db,
                                     {store::NewMessage {room->room.id, alice.id, QStringLiteral("with"), {}, {a.id}},
                                      store::NewMessage {room->room.id, alice.id, QStringLiteral("without"), {}, {}}},
                                     sentAt);
    });
    // The batch waits for the collection's lock (polled, with a deadline), then the collection commits.
    QDeadlineTimer deadline(10000);
    bool waiting = false;
    while (!waiting && !deadline.hasExpired()) {
        waiting = onDb([](QSqlDatabase &db) { return someoneWaitsForALock(db); });
        if (!waiting)
            QTest::qWait(20);
    }
    go.release();
    QVERIFY(waiting);
    QVERIFY(collect.result());
    auto stored = batch.result();
    QVERIFY2(stored, stored ? "" : qPrintable(stored.error().message));
    QCOMPARE(stored->size(), 2);
    QVERIFY(!stored->at(0));
    QCOMPARE(stored->at(0).error().field, QStringLiteral("attachmentIds"));
    QVERIFY(stored->at(1));
}

QTEST_GUILESS_MAIN(TestAttachmentStore)
#include "tst_attachment_store.moc"
