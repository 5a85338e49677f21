// GroupCommit on both back ends, with a cache whose bumps the test answers by hand: the next
// batch goes to the database while the previous one waits for its Redis round trips (pipelining),
// acknowledgements and published events still come in submission order whatever order the bumps
// answer in, and no more than a bounded number of committed batches wait at once.
#include "server/cache/cache.h"
#include "server/storage/room_store.h"
#include "server/ws/channel_order.h"
#include "server/ws/group_commit.h"
#include "tests/support/store_fixture.h"

#include <QTest>

using namespace taskmaster;
using namespace taskmaster::server;
using taskmaster::test::backendRows;

namespace {

// A cache that keeps every bump's callback until the test releases it.
class HeldCache final : public Cache {
public:
    HeldCache() : Cache(nullptr, nullptr) { }
    void get(const QByteArray &, const QByteArray &, const QList<QByteArray> &, LookupDone done) override
    {
        done(CacheLookup {});
    }
    void put(const QByteArray &, const QByteArray &, const QByteArray &) override { }
    void bump(const QList<QByteArray> &, std::function<void()> done) override { held.append(std::move(done)); }
    [[nodiscard]] bool usable() const override { return true; }

    // Answers the bump requested index-th (0 = first); each is answered once.
    void release(qsizetype index)
    {
        auto done = std::exchange(held[index], nullptr);
        QVERIFY2(done, "bump released twice");
        done();
    }

    QList<std::function<void()>> held;
};

} // namespace

class TestGroupCommit final : public test::StoreFixture {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void nextBatchWhileBumpWaits_data() { backendRows(); }
    void nextBatchWhileBumpWaits();
    void finishingBatchesAreBounded_data() { backendRows(); }
    void finishingBatchesAreBounded();

private:
    WriteOp send(const QString &body) const;
    // Submits op; its ack appends body (or "error") to m_acks.
    void submit(const QString &body);

    Id m_alice = 0;
    Id m_room = 0;
    HeldCache *m_cache = nullptr;
    GroupCommit *m_commit = nullptr;
    QStringList m_acks;
    QList<Outgoing> m_published;
};

void TestGroupCommit::init()
{
    StoreFixture::init();
    m_alice = addUser(QStringLiteral("alice")).id;
    const qint64 now = tick();
    auto created
        = onDb([&](QSqlDatabase &db) { return store::createRoom(db, m_alice, QStringLiteral("room"), {}, now); });
    QVERIFY(created);
    m_room = created->room.id;
    m_acks.clear();
    m_published.clear();
    m_cache = new HeldCache;
    m_commit = new GroupCommit(
        &pool(), true, 100, [this] { return tick(); }, [this](QList<Outgoing> events) { m_published += events; });
    m_commit->setCache(m_cache);
}

void TestGroupCommit::cleanup()
{
    // A batch still in the database (a failed test) finishes on the pool; its answer is dropped
    // with the GroupCommit.
    delete m_commit;
    delete m_cache;
    StoreFixture::cleanup();
}

WriteOp TestGroupCommit::send(const QString &body) const
{
    WriteOp op;
    op.kind = WriteOp::Kind::Send;
    op.userId = m_alice;
    op.roomId = m_room;
    op.body = body;
    return op;
}

void TestGroupCommit::submit(const QString &body)
{
    m_commit->submit(send(body), [this, body](const Result<WriteOutcome> &r) {
        m_acks << (r ? r->message.body : QStringLiteral("error"));
    });
}

void TestGroupCommit::nextBatchWhileBumpWaits()
{
    submit(QStringLiteral("1")); // batch 1, alone
    submit(QStringLiteral("2")); // batch 2 waits for batch 1's commit
    submit(QStringLiteral("3"));
    QCOMPARE(m_commit->stats().batches, 1);
    // Batch 1 committed and asks for its bump; batch 2 goes to the database meanwhile and commits
    // too, while batch 1's bump is still unanswered.
    QTRY_COMPARE(m_cache->held.size(), 2);
    QCOMPARE(m_commit->stats().batches, 2);
    QCOMPARE(m_commit->stats().writes, 3);
    QVERIFY(m_acks.isEmpty());

    m_cache->release(1); // batch 2's bump answers first: it still waits for batch 1
    QVERIFY(m_acks.isEmpty());
    QVERIFY(m_published.isEmpty());

    m_cache->release(0);
    QCOMPARE(m_acks, QStringList({QStringLiteral("1"), QStringLiteral("2"), QStringLiteral("3")}));
    QCOMPARE(m_published.size(), 3);
    for (qsizetype i = 0; i < m_published.size(); ++i) {
        QVERIFY(m_published.at(i).event.message);
        QCOMPARE(m_published.at(i).event.message->body, QString::number(i + 1));
        if (i > 0)
            QVERIFY(m_published.at(i).event.seq > m_published.at(i - 1).event.seq);
    }
}

void TestGroupCommit::finishingBatchesAreBounded()
{
    // Each send commits on its own (the previous one is out of the database before the next is
    // submitted) and waits for its bump; the fifth finds every place taken and stays queued.
    constexpr int kPlaces = 4;
    for (int i = 1; i <= kPlaces; ++i) {
        submit(QString::number(i));
        QTRY_COMPARE(m_cache->held.size(), i);
    }
    submit(QStringLiteral("5"));
    submit(QStringLiteral("6"));
    QCOMPARE(m_commit->stats().batches, kPlaces);
    QVERIFY(m_acks.isEmpty());

    m_cache->release(0); // a place frees: 5 and 6 go as one batch
    QCOMPARE(m_acks, QStringList({QStringLiteral("1")}));
    QCOMPARE(m_commit->stats().batches, kPlaces + 1);
    QCOMPARE(m_commit->stats().largestBatch, 2);
    QTRY_COMPARE(m_cache->held.size(), kPlaces + 1);

    for (int i = kPlaces; i >= 1; --i) // answered newest first: acks still in order
        m_cache->release(i);
    QCOMPARE(m_acks,
             QStringList({QStringLiteral("1"), QStringLiteral("2"), QStringLiteral("3"), QStringLiteral("4"),
                          QStringLiteral("5"), QStringLiteral("6")}));
    QCOMPARE(m_published.size(), 6);
}

QTEST_GUILESS_MAIN(TestGroupCommit)
#include "tst_group_commit.moc"
