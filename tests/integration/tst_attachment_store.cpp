// The attachment metadata in SQL (server/attachments/attachment_store.h) on both back ends: the
// uploads a message may name (the author's own), where attachments are used, and the garbage
// collection of unused uploads (old and used nowhere; a blob goes only with its last attachment).
#include "server/attachments/attachment_store.h"
#include "server/storage/room_store.h"
#include "server/storage/sql.h"
#include "tests/support/store_fixture.h"

#include <QDateTime>
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

private:
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

QTEST_GUILESS_MAIN(TestAttachmentStore)
#include "tst_attachment_store.moc"
