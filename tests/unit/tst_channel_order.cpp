// ChannelOrder (server/ws/channel_order.h): events released in seq order per channel, held back
// across a gap until it is filled, duplicates and old events dropped, stalled gaps reported after
// their wait, untracked channels ignored. Tables of arrival orders with the expected releases.
#include "server/ws/channel_order.h"

#include <QTest>

using namespace taskmaster;
using namespace taskmaster::server;

namespace {
Outgoing ev(Id room, Seq seq)
{
    ChannelEvent e;
    e.channel = Channel::room(room);
    e.seq = seq;
    return Outgoing {e, 0};
}

QList<Seq> seqs(const QList<Outgoing> &out)
{
    QList<Seq> s;
    for (const Outgoing &o : out)
        s.append(o.event.seq);
    return s;
}
} // namespace

class TestChannelOrder final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void releasesInOrder_data();
    void releasesInOrder();
    void untrackedIsIgnored();
    void stalledAfterWait();
    void channelsAreIndependent();
    void forgetDropsHeld();
};

void TestChannelOrder::releasesInOrder_data()
{
    QTest::addColumn<Seq>("delivered"); // tracked from
    QTest::addColumn<QList<Seq>>("arrivals");
    QTest::addColumn<QList<Seq>>("released"); // in release order
    QTest::addColumn<Seq>("last");
    QTest::newRow("in order") << Seq(0) << QList<Seq> {1, 2, 3} << QList<Seq> {1, 2, 3} << Seq(3);
    QTest::newRow("swapped pair") << Seq(0) << QList<Seq> {2, 1, 3} << QList<Seq> {1, 2, 3} << Seq(3);
    QTest::newRow("reversed") << Seq(10) << QList<Seq> {14, 13, 12, 11} << QList<Seq> {11, 12, 13, 14} << Seq(14);
    QTest::newRow("duplicate") << Seq(0) << QList<Seq> {1, 1, 2, 2} << QList<Seq> {1, 2} << Seq(2);
    QTest::newRow("duplicate while held") << Seq(0) << QList<Seq> {3, 3, 2, 1} << QList<Seq> {1, 2, 3} << Seq(3);
    QTest::newRow("old events") << Seq(5) << QList<Seq> {3, 5, 6} << QList<Seq> {6} << Seq(6);
    QTest::newRow("gap stays open") << Seq(0) << QList<Seq> {1, 3, 4} << QList<Seq> {1} << Seq(1);
    QTest::newRow("two gaps filled") << Seq(0) << QList<Seq> {2, 4, 1, 3} << QList<Seq> {1, 2, 3, 4} << Seq(4);
}

void TestChannelOrder::releasesInOrder()
{
    QFETCH(Seq, delivered);
    QFETCH(QList<Seq>, arrivals);
    QFETCH(QList<Seq>, released);
    QFETCH(Seq, last);
    ChannelOrder order;
    order.track(Channel::room(1), delivered);
    QList<Seq> out;
    for (Seq s : arrivals)
        out += seqs(order.offer(ev(1, s), 0));
    QCOMPARE(out, released);
    QCOMPARE(order.delivered(Channel::room(1)), last);
}

void TestChannelOrder::untrackedIsIgnored()
{
    ChannelOrder order;
    QVERIFY(order.offer(ev(1, 1), 0).isEmpty());
    QVERIFY(!order.isTracked(Channel::room(1)));
    order.track(Channel::room(1), 4);
    order.track(Channel::room(1), 0); // already tracked: unchanged
    QCOMPARE(order.delivered(Channel::room(1)), 4);
}

void TestChannelOrder::stalledAfterWait()
{
    ChannelOrder order;
    order.track(Channel::room(1), 0);
    QVERIFY(order.offer(ev(1, 3), 100).isEmpty());
    QVERIFY(order.hasHeld());
    QVERIFY(order.stalled(120, 50).isEmpty()); // not waited long enough
    const auto gaps = order.stalled(150, 50);
    QCOMPARE(gaps.size(), 1);
    QCOMPARE(gaps.at(0).after, 0);
    QCOMPARE(gaps.at(0).before, 3);
    // The fill from the database brings 1 and 2 (and 3 again: dropped as a duplicate).
    QCOMPARE(seqs(order.offer(ev(1, 1), 160)), QList<Seq> {1});
    QCOMPARE(seqs(order.offer(ev(1, 2), 160)), (QList<Seq> {2, 3}));
    QVERIFY(order.offer(ev(1, 3), 160).isEmpty());
    QVERIFY(!order.hasHeld());
    QVERIFY(order.stalled(1000, 50).isEmpty());
}

void TestChannelOrder::channelsAreIndependent()
{
    ChannelOrder order;
    order.track(Channel::room(1), 0);
    order.track(Channel::project(1), 0); // same id, other kind
    QVERIFY(order.offer(ev(1, 2), 0).isEmpty());
    ChannelEvent p;
    p.channel = Channel::project(1);
    p.seq = 1;
    QCOMPARE(order.offer(Outgoing {p, 0}, 0).size(), 1);
    QCOMPARE(order.delivered(Channel::room(1)), 0);
    QCOMPARE(order.delivered(Channel::project(1)), 1);
}

void TestChannelOrder::forgetDropsHeld()
{
    ChannelOrder order;
    order.track(Channel::room(1), 0);
    QVERIFY(order.offer(ev(1, 5), 0).isEmpty());
    QVERIFY(order.hasHeld());
    order.forget(Channel::room(1));
    QVERIFY(!order.hasHeld());
    QVERIFY(!order.isTracked(Channel::room(1)));
}

QTEST_GUILESS_MAIN(TestChannelOrder)
#include "tst_channel_order.moc"
