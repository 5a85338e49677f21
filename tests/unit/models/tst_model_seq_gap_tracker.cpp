// SeqGapTracker on its own: which seqs it reports missing, once, and what it says is missing.
#include "shared/models/seq_gap_tracker.h"

#include <QTest>

using namespace taskmaster;

class TestSeqGapTracker final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void notStarted();
    void firstFeedStarts();
    void reportsEachMissingSeqOnce();
    void missingRanges();
    void setSyncedClosesHolesAndNeverGoesBack();
    void ignoresNonPositive();
    void reset();
};

void TestSeqGapTracker::notStarted()
{
    const SeqGapTracker t;
    QVERIFY(!t.started());
    QCOMPARE(t.lastSeq(), 0);
    QCOMPARE(t.contiguousSeq(), 0);
    QVERIFY(!t.hasGap());
    QVERIFY(t.missingRanges().isEmpty());
}

void TestSeqGapTracker::firstFeedStarts()
{
    SeqGapTracker t;
    const auto r = t.feed(41);
    QVERIFY(r.fresh);
    QVERIFY(!r.newGap); // nothing known before the first event
    QVERIFY(t.started());
    QCOMPARE(t.contiguousSeq(), 41);
    QCOMPARE(t.lastSeq(), 41);
    QVERIFY(!t.feed(41).fresh);
    QVERIFY(!t.feed(40).fresh);
}

void TestSeqGapTracker::reportsEachMissingSeqOnce()
{
    SeqGapTracker t;
    t.setSynced(0);
    auto r = t.feed(3);
    QVERIFY(r.fresh);
    QCOMPARE(r.newGap, (SeqRange {1, 2}));
    r = t.feed(3);
    QVERIFY(!r.fresh);
    QVERIFY(!r.newGap);
    r = t.feed(6);
    QCOMPARE(r.newGap, (SeqRange {4, 5})); // only the newly discovered part
    QVERIFY(!t.feed(2).newGap);
    QVERIFY(!t.feed(1).newGap);
    QCOMPARE(t.contiguousSeq(), 3);
    QVERIFY(!t.feed(7).newGap); // 4..5 still missing, but already reported
    QCOMPARE(t.lastSeq(), 7);
    QVERIFY(t.hasGap());
}

void TestSeqGapTracker::missingRanges()
{
    SeqGapTracker t;
    t.setSynced(10);
    for (const Seq s : {12, 15, 16, 20})
        (void)t.feed(s);
    const QList<SeqRange> expected {{11, 11}, {13, 14}, {17, 19}};
    QCOMPARE(t.missingRanges(), expected);
    for (const Seq s : {11, 13, 14})
        (void)t.feed(s);
    QCOMPARE(t.contiguousSeq(), 16);
    QCOMPARE(t.missingRanges(), (QList<SeqRange> {{17, 19}}));
}

void TestSeqGapTracker::setSyncedClosesHolesAndNeverGoesBack()
{
    SeqGapTracker t;
    (void)t.feed(1);
    (void)t.feed(5);
    (void)t.feed(9);
    t.setSynced(6); // a reload covering 1..6: 7..8 still missing, 9 seen
    QCOMPARE(t.contiguousSeq(), 6);
    QCOMPARE(t.missingRanges(), (QList<SeqRange> {{7, 8}}));
    t.setSynced(3);
    QCOMPARE(t.contiguousSeq(), 6);
    t.setSynced(8);
    QCOMPARE(t.contiguousSeq(), 9); // absorbs the 9 seen earlier
    QVERIFY(!t.hasGap());
}

void TestSeqGapTracker::ignoresNonPositive()
{
    SeqGapTracker t;
    QVERIFY(!t.feed(0).fresh);
    QVERIFY(!t.feed(-4).fresh);
    QVERIFY(!t.started());
}

void TestSeqGapTracker::reset()
{
    SeqGapTracker t;
    (void)t.feed(1);
    (void)t.feed(4);
    t.reset();
    QVERIFY(!t.started());
    QVERIFY(!t.hasGap());
    QCOMPARE(t.lastSeq(), 0);
    QVERIFY(!t.feed(9).newGap);
}

QTEST_APPLESS_MAIN(TestSeqGapTracker)
#include "tst_model_seq_gap_tracker.moc"
