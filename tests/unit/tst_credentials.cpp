// Credentials: Argon2id hashes verify the right password only and carry their own salt; tokens
// are 256-bit, distinct, and stored as a 32-byte digest. (That the work runs on the hashing pool
// is QtConcurrent::run's guarantee; a check from outside would race with the hash finishing.)
#include "server/auth/credentials.h"

#include <QSet>
#include <QTest>

using namespace taskmaster::server;

class TestCredentials final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void hashAndVerify_data();
    void hashAndVerify();
    void saltedAndMalformed();
    void tokens();

private:
    // Cheap parameters keep the test fast; the algorithm is the same.
    Credentials m_credentials {2, Argon2Cost {1, 8u * 1024u}};
};

void TestCredentials::hashAndVerify_data()
{
    QTest::addColumn<QString>("password");
    QTest::addColumn<QString>("attempt");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("same") << QStringLiteral("correct horse") << QStringLiteral("correct horse") << true;
    QTest::newRow("case differs") << QStringLiteral("correct horse") << QStringLiteral("Correct horse") << false;
    QTest::newRow("prefix") << QStringLiteral("correct horse") << QStringLiteral("correct hors") << false;
    QTest::newRow("unicode") << QStringLiteral("p\u00e4ssw\u00f6rd \U0001F600")
                             << QStringLiteral("p\u00e4ssw\u00f6rd \U0001F600") << true;
    QTest::newRow("unicode differs") << QStringLiteral("p\u00e4ssw\u00f6rd") << QStringLiteral("passwort") << false;
    QTest::newRow("256 chars") << QString(256, QLatin1Char('x')) << QString(256, QLatin1Char('x')) << true;
}

void TestCredentials::hashAndVerify()
{
    QFETCH(QString, password);
    QFETCH(QString, attempt);
    QFETCH(bool, accepted);
    const QString hash = m_credentials.hash(password).result();
    QVERIFY(hash.startsWith(QLatin1String("$argon2id$")));
    QVERIFY(!hash.contains(password));
    QCOMPARE(m_credentials.verify(hash, attempt).result(), accepted);
}

void TestCredentials::saltedAndMalformed()
{
    const QString a = m_credentials.hash(QStringLiteral("same password")).result();
    const QString b = m_credentials.hash(QStringLiteral("same password")).result();
    QVERIFY(a != b); // each hash has its own salt
    QVERIFY(m_credentials.verify(a, QStringLiteral("same password")).result());
    QVERIFY(!m_credentials.verify(QString(), QStringLiteral("anything")).result()); // unknown user
    QVERIFY(!m_credentials.verify(QStringLiteral("$argon2id$garbage"), QStringLiteral("x")).result());
    QVERIFY(!m_credentials.verify(QString(200, QLatin1Char('$')), QStringLiteral("x")).result());
}

void TestCredentials::tokens()
{
    QSet<QString> seen;
    for (int i = 0; i < 1000; ++i) {
        const QString t = Credentials::newToken();
        QCOMPARE(t.size(), 43); // 256 bits in base64url
        for (QChar c : t)
            QVERIFY(c.isLetterOrNumber() || c == QLatin1Char('-') || c == QLatin1Char('_'));
        seen.insert(t);
    }
    QCOMPARE(seen.size(), 1000);
    const QString t = Credentials::newToken();
    QCOMPARE(Credentials::tokenDigest(t).size(), 32);
    QCOMPARE(Credentials::tokenDigest(t), Credentials::tokenDigest(t));
    QVERIFY(Credentials::tokenDigest(t) != Credentials::tokenDigest(Credentials::newToken()));
    // SHA-256("abc"), the FIPS 180-2 test vector.
    QCOMPARE(Credentials::tokenDigest(QStringLiteral("abc")).toHex(),
             QByteArray("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

QTEST_GUILESS_MAIN(TestCredentials)
#include "tst_credentials.moc"
