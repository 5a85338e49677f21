// UserStore on both back ends: the first user is admin (also under concurrent registration),
// usernames are unique, user search escapes LIKE metacharacters, text is stored verbatim,
// sessions expire, slide and are revoked.
#include "server/storage/user_store.h"
#include "tests/support/store_fixture.h"

#include <QTest>

using namespace taskmaster;
using namespace taskmaster::server;
using taskmaster::test::backendRows;

class TestUserStore final : public test::StoreFixture {
    Q_OBJECT
private Q_SLOTS:
    void usersAndAdmin_data() { backendRows(); }
    void usersAndAdmin();
    void concurrentFirstUsers_data() { backendRows(); }
    void concurrentFirstUsers();
    void search_data();
    void search();
    void sessions_data() { backendRows(); }
    void sessions();
};

void TestUserStore::usersAndAdmin()
{
    const User alice = addUser(QStringLiteral("alice"));
    QCOMPARE(alice.role, Role::Admin);
    QVERIFY(alice.id > 0);
    QCOMPARE(alice.createdAt, store::fromMs(1000));
    const User bob = addUser(QStringLiteral("bob"));
    QCOMPARE(bob.role, Role::Member);

    auto dup = onDb([](QSqlDatabase &db) {
        return store::createUser(db, QStringLiteral("alice"), QStringLiteral("x"), QStringLiteral("h"), 1);
    });
    QVERIFY(!dup);
    QCOMPARE(dup.error().code, ErrorCode::Conflict);
    QCOMPARE(dup.error().field, QStringLiteral("username"));

    const QString nasty = QStringLiteral("'; DROP TABLE users; -- \U0001F600");
    auto carol = onDb([&](QSqlDatabase &db) {
        return store::createUser(db, QStringLiteral("carol"), nasty, QStringLiteral("h2"), 2);
    });
    QVERIFY(carol);
    auto found = onDb([&](QSqlDatabase &db) { return store::userById(db, carol->id); });
    QVERIFY(found && found->has_value());
    QCOMPARE((*found)->displayName, nasty);

    auto creds = onDb([](QSqlDatabase &db) { return store::credentialsFor(db, QStringLiteral("carol")); });
    QVERIFY(creds && creds->has_value());
    QCOMPARE((*creds)->passwordHash, QStringLiteral("h2"));
    auto none = onDb([](QSqlDatabase &db) { return store::credentialsFor(db, QStringLiteral("nobody")); });
    QVERIFY(none && !none->has_value());
    auto noId = onDb([](QSqlDatabase &db) { return store::userById(db, 999999); });
    QVERIFY(noId && !noId->has_value());
}

void TestUserStore::concurrentFirstUsers()
{
    QList<QFuture<Result<User>>> futures;
    for (int i = 0; i < 8; ++i) {
        futures << pool().run([i](QSqlDatabase &db) {
            return store::createUser(db, QStringLiteral("user%1").arg(i), QStringLiteral("U"), QStringLiteral("h"), i);
        });
    }
    int admins = 0;
    for (auto &f : futures) {
        const Result<User> r = f.result();
        QVERIFY2(r, r ? "" : qPrintable(r.error().message));
        admins += r->role == Role::Admin ? 1 : 0;
    }
    QCOMPARE(admins, 1);
}

void TestUserStore::search_data()
{
    QTest::addColumn<QString>("backend");
    QTest::addColumn<QString>("prefix");
    QTest::addColumn<QStringList>("expected");
    for (const char *b : {"sqlite", "postgres"}) {
        const QString backend = QString::fromLatin1(b);
        QTest::addRow("%s prefix", b) << backend << QStringLiteral("al")
                                      << QStringList {QStringLiteral("alice"), QStringLiteral("alan_b")};
        QTest::addRow("%s case-insensitive display name", b)
            << backend << QStringLiteral("BO") << QStringList {QStringLiteral("bob")};
        QTest::addRow("%s underscore is literal", b)
            << backend << QStringLiteral("alan_") << QStringList {QStringLiteral("alan_b")};
        QTest::addRow("%s percent is literal", b) << backend << QStringLiteral("%") << QStringList {};
        QTest::addRow("%s no match", b) << backend << QStringLiteral("zed") << QStringList {};
    }
}

void TestUserStore::search()
{
    QFETCH(QString, prefix);
    QFETCH(QStringList, expected);
    for (const char *n : {"alice", "alan_b", "alanxb", "bob"})
        addUser(QString::fromLatin1(n));
    auto users = onDb([&](QSqlDatabase &db) { return store::searchUsers(db, prefix, 50); });
    QVERIFY(users);
    QStringList names;
    for (const User &u : *users)
        names << u.username;
    if (prefix == QLatin1String("al"))
        expected = QStringList {QStringLiteral("alan_b"), QStringLiteral("alanxb"), QStringLiteral("alice")};
    QCOMPARE(names, expected);
    auto limited = onDb([](QSqlDatabase &db) { return store::searchUsers(db, QStringLiteral("a"), 2); });
    QCOMPARE(limited->size(), 2);
}

void TestUserStore::sessions()
{
    const User alice = addUser(QStringLiteral("alice"));
    const QByteArray digest(32, 'd');
    const qint64 ttl = 1000000;
    QVERIFY(!onDb([&](QSqlDatabase &db) { return store::createSession(db, digest, alice.id, 0, ttl); }));

    auto at
        = [&](qint64 now) { return onDb([&](QSqlDatabase &db) { return store::sessionUser(db, digest, now, ttl); }); };
    auto u = at(100);
    QVERIFY(u && u->has_value());
    QCOMPARE((*u)->id, alice.id);
    // Created at 0, expiring at 1000000. Less than half its life left: the expiry slides.
    QVERIFY(at(600000)->has_value()); // slides to 1600000
    QVERIFY(at(1500000)->has_value()); // before 1600000, slides to 2500000
    QVERIFY(!at(2500000)->has_value()); // the expiry itself is past
    QVERIFY(!at(2500001)->has_value());
    auto other = onDb([&](QSqlDatabase &db) { return store::sessionUser(db, QByteArray(32, 'x'), 0, ttl); });
    QVERIFY(other && !other->has_value());

    QVERIFY(!onDb([&](QSqlDatabase &db) { return store::createSession(db, digest + "2", alice.id, 0, ttl); }));
    QVERIFY(!onDb([&](QSqlDatabase &db) { return store::deleteSession(db, digest + "2"); }));
    auto revoked = onDb([&](QSqlDatabase &db) { return store::sessionUser(db, digest + "2", 1, ttl); });
    QVERIFY(revoked && !revoked->has_value());
}

QTEST_GUILESS_MAIN(TestUserStore)
#include "tst_user_store.moc"
