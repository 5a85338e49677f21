// PresenceBatch (server/ws/presence_batch.h): the presence changes of one window and what each
// connection is told at its end. Tables: a window's changes (in order, seq 1, 2, ...) and a
// recipient (its user, the seq its snapshot had, the changed rooms it follows) with the users it
// is told online and offline; then the frames for list and single clients.
#include "server/ws/presence_batch.h"

#include <QTest>

using namespace taskmaster;
using namespace taskmaster::server;

namespace {
// "3+1,2 4-1" : user 3 online for the members of rooms 1 and 2, then user 4 offline in room 1.
PresenceBatch batchOf(const QString &spec)
{
    PresenceBatch batch;
    quint64 seq = 0;
    for (const QString &change : spec.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        const bool online = change.contains(QLatin1Char('+'));
        const QStringList parts = change.split(online ? QLatin1Char('+') : QLatin1Char('-'));
        QSet<Channel> rooms;
        for (const QString &room : parts.at(1).split(QLatin1Char(','), Qt::SkipEmptyParts))
            rooms.insert(Channel::room(room.toLongLong()));
        batch.add(parts.at(0).toLongLong(), rooms, online ? ws::PresenceStatus::Online : ws::PresenceStatus::Offline,
                  ++seq);
    }
    return batch;
}

QList<Channel> roomsOf(const QList<Id> &ids)
{
    QList<Channel> rooms;
    for (Id id : ids)
        rooms.append(Channel::room(id));
    return rooms;
}
} // namespace

class TestPresenceBatch final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void toldTo_data();
    void toldTo();
    void frames_data();
    void frames();
    void roomsAndFirstSeq();
};

void TestPresenceBatch::toldTo_data()
{
    QTest::addColumn<QString>("changes");
    QTest::addColumn<Id>("self");
    QTest::addColumn<quint64>("after");
    QTest::addColumn<QList<Id>>("rooms");
    QTest::addColumn<QList<Id>>("online");
    QTest::addColumn<QList<Id>>("offline");
    const QList<Id> none;
    QTest::newRow("nothing changed") << QStringLiteral("") << Id(1) << quint64(0) << QList<Id> {1} << none << none;
    QTest::newRow("a storm in one room: all, ascending")
        << QStringLiteral("9+1 3+1 7+1 5+1") << Id(1) << quint64(0) << QList<Id> {1} << QList<Id> {3, 5, 7, 9} << none;
    QTest::newRow("not told about itself")
        << QStringLiteral("2+1 3+1") << Id(3) << quint64(0) << QList<Id> {1} << QList<Id> {2} << none;
    QTest::newRow("only its rooms") << QStringLiteral("2+1 3+2 4+3") << Id(1) << quint64(0) << QList<Id> {1, 3}
                                    << QList<Id> {2, 4} << none;
    QTest::newRow("a user in two of its rooms: once")
        << QStringLiteral("2+1,2") << Id(1) << quint64(0) << QList<Id> {1, 2} << QList<Id> {2} << none;
    QTest::newRow("latest status wins: online then offline")
        << QStringLiteral("2+1 2-1") << Id(1) << quint64(0) << QList<Id> {1} << none << QList<Id> {2};
    QTest::newRow("latest status wins: offline then online")
        << QStringLiteral("2-1 2+1") << Id(1) << quint64(0) << QList<Id> {1} << QList<Id> {2} << none;
    QTest::newRow("both statuses") << QStringLiteral("2+1 3-1 4+1") << Id(1) << quint64(0) << QList<Id> {1}
                                   << QList<Id> {2, 4} << QList<Id> {3};
    QTest::newRow("opened after some changes: its snapshot had them")
        << QStringLiteral("2+1 3+1 4+1") << Id(1) << quint64(2) << QList<Id> {1} << QList<Id> {4} << none;
    QTest::newRow("opened after all changes: nothing")
        << QStringLiteral("2+1 3+1") << Id(1) << quint64(2) << QList<Id> {1} << none << none;
    QTest::newRow("a change after the snapshot replaces one before it")
        << QStringLiteral("2+1 3+1 2-1") << Id(1) << quint64(2) << QList<Id> {1} << none << QList<Id> {2};
    QTest::newRow("rooms add up: online in 1, offline in 2")
        << QStringLiteral("2+1 2-2") << Id(1) << quint64(0) << QList<Id> {1} << none << QList<Id> {2};
}

void TestPresenceBatch::toldTo()
{
    QFETCH(QString, changes);
    QFETCH(Id, self);
    QFETCH(quint64, after);
    QFETCH(QList<Id>, rooms);
    QFETCH(QList<Id>, online);
    QFETCH(QList<Id>, offline);
    const PresenceBatch batch = batchOf(changes);
    QCOMPARE(batch.isEmpty(), changes.isEmpty());
    const PresenceBatch::Told told = batch.toldTo(self, after, roomsOf(rooms));
    QCOMPARE(told.online, online);
    QCOMPARE(told.offline, offline);
}

void TestPresenceBatch::frames_data()
{
    QTest::addColumn<QList<Id>>("online");
    QTest::addColumn<QList<Id>>("offline");
    QTest::addColumn<bool>("asList");
    // Expected frames as "<status><ids>": "+3,5" a list frame online, "-4" a single frame offline.
    QTest::addColumn<QStringList>("expected");
    const QList<Id> none;
    QTest::newRow("nothing") << none << none << true << QStringList {};
    QTest::newRow("list: one frame for many")
        << QList<Id> {3, 5, 7} << none << true << QStringList {QStringLiteral("+3,5,7")};
    QTest::newRow("list: one user in the single form")
        << QList<Id> {3} << none << true << QStringList {QStringLiteral("+3")};
    QTest::newRow("list: offline first, then online")
        << QList<Id> {3, 5} << QList<Id> {4, 6} << true << QStringList {QStringLiteral("-4,6"), QStringLiteral("+3,5")};
    QTest::newRow("single: one frame per user")
        << QList<Id> {3, 5} << QList<Id> {4} << false
        << QStringList {QStringLiteral("-4"), QStringLiteral("+3"), QStringLiteral("+5")};
}

void TestPresenceBatch::frames()
{
    QFETCH(QList<Id>, online);
    QFETCH(QList<Id>, offline);
    QFETCH(bool, asList);
    QFETCH(QStringList, expected);
    QStringList got;
    for (const ws::Presence &p : PresenceBatch::frames({online, offline}, asList)) {
        QStringList ids;
        if (p.userIds.isEmpty()) {
            ids.append(QString::number(p.userId));
        } else {
            QVERIFY(p.userIds.size() > 1);
            QCOMPARE(p.userId, Id(0));
            for (Id id : p.userIds)
                ids.append(QString::number(id));
        }
        got.append((p.status == ws::PresenceStatus::Online ? QStringLiteral("+") : QStringLiteral("-"))
                   + ids.join(QLatin1Char(',')));
    }
    QCOMPARE(got, expected);
}

void TestPresenceBatch::roomsAndFirstSeq()
{
    PresenceBatch batch = batchOf(QStringLiteral("2+1 3+1,2 4+2 2-1"));
    QCOMPARE(batch.rooms().size(), 2);
    QCOMPARE(batch.rooms().value(Channel::room(1)), (QSet<Id> {2, 3}));
    QCOMPARE(batch.rooms().value(Channel::room(2)), (QSet<Id> {3, 4}));
    // Room 1's changes are now seq 2 (user 3) and 4 (user 2, replaced); room 2's 2 and 3.
    QCOMPARE(batch.firstSeq(Channel::room(1)), quint64(2));
    QCOMPARE(batch.firstSeq(Channel::room(2)), quint64(2));
    QCOMPARE(batch.firstSeq(Channel::room(9)), quint64(0));
    batch.clear();
    QVERIFY(batch.isEmpty());
    QVERIFY(batch.rooms().isEmpty());
}

QTEST_APPLESS_MAIN(TestPresenceBatch)
#include "tst_presence_batch.moc"
