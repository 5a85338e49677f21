// Where the client keeps its session token, against a real taskmaster-server: in a keychain that
// works (a fake CredentialStore standing in for the platform's), the settings file keeps only the
// account name and a second client restores the session from the keychain; with a keychain that
// fails, the token goes to the settings file and the Connection says so (tokenStorageNotice, shown
// by the window); a plain-text token written by an earlier version is moved into the keychain on
// the next start; a logout removes it from both; and the platform's own keychain (qtkeychain) in
// this environment: headless without a Secret Service daemon it fails and the fallback is taken,
// with a daemon the token is in the keychain; either way a restart restores the session.
#include "client-qml/net/connection.h"
#include "client-qml/net/credential_store.h"
#include "tests/support/api_client.h"
#include "tests/support/server_process.h"

#include <QHash>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <memory>

using taskmaster::client::Connection;
using taskmaster::client::CredentialStore;
using taskmaster::client::RealtimeSession;
using taskmaster::test::ApiClient;
using taskmaster::test::ServerProcess;
using TokenStorage = taskmaster::client::Connection::TokenStorage;

namespace {

constexpr int kWaitMs = 15000;

// A keychain in memory; `working` false makes every call fail as a missing Secret Service does.
// Answers come later from the event loop, as a real keychain's do.
class FakeKeychain final : public CredentialStore {
public:
    bool working = true;
    QHash<QString, QByteArray> entries;
    int writes = 0;

    void read(const QString &account, QObject *context, ReadCallback done) override
    {
        const ReadResult r = !working   ? ReadResult {std::nullopt, QStringLiteral("no keychain")}
            : entries.contains(account) ? ReadResult {entries.value(account), {}}
                                        : ReadResult {std::nullopt, {}};
        QTimer::singleShot(0, context, [r, done = std::move(done)] { done(r); });
    }
    void write(const QString &account, const QByteArray &secret, QObject *context, WriteCallback done) override
    {
        ++writes;
        if (working)
            entries.insert(account, secret);
        const bool ok = working;
        QTimer::singleShot(0, context,
                           [ok, done = std::move(done)] { done(ok, ok ? QString() : QStringLiteral("no keychain")); });
    }
    void remove(const QString &account) override
    {
        if (working)
            entries.remove(account);
    }
};

} // namespace

class TestClientCredentials final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void keychainWorks();
    void keychainMissingFallsBack();
    void plainTokenMigrated();
    void platformKeychain();

private:
    std::unique_ptr<Connection> makeClient(const QString &settingsName, CredentialStore *store);
    static bool waitOnline(Connection &c);
    [[nodiscard]] QString settingsPath(const QString &name) const
    {
        return m_dir.filePath(name + QStringLiteral(".ini"));
    }
    [[nodiscard]] QString savedPlainToken(const QString &name) const
    {
        return QSettings(settingsPath(name), QSettings::IniFormat).value(QStringLiteral("session/token")).toString();
    }

    ServerProcess m_server;
    QTemporaryDir m_dir;
};

std::unique_ptr<Connection> TestClientCredentials::makeClient(const QString &settingsName, CredentialStore *store)
{
    auto c = std::make_unique<Connection>();
    if (store)
        c->setCredentialStore(store);
    c->setSettingsFile(settingsPath(settingsName));
    c->setServerUrl(m_server.url().toString());
    return c;
}

bool TestClientCredentials::waitOnline(Connection &c)
{
    auto ready = [&] {
        return c.loggedIn() && c.realtime()->state() == RealtimeSession::Online
            && c.tokenStorage() != TokenStorage::Saving;
    };
    QDeadlineTimer deadline(kWaitMs);
    while (!deadline.hasExpired() && !ready())
        QTest::qWait(20);
    return ready();
}

void TestClientCredentials::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY2(m_server.start(), qPrintable(m_server.errorText()));
    ApiClient api(m_server.url());
    for (const char *name : {"dora", "erin", "fred", "gina"})
        api.registerUser(QString::fromLatin1(name));
}

void TestClientCredentials::cleanupTestCase()
{
    m_server.stop();
}

void TestClientCredentials::keychainWorks()
{
    FakeKeychain keychain;
    auto first = makeClient(QStringLiteral("dora"), &keychain);
    first->login(QStringLiteral("dora"), QStringLiteral("password123"));
    QVERIFY(waitOnline(*first));
    QCOMPARE(first->tokenStorage(), TokenStorage::Keychain);
    QVERIFY(first->tokenStorageNotice().isEmpty());
    QCOMPARE(keychain.entries.size(), 1);
    QCOMPARE(keychain.entries.cbegin().value(), first->token());
    QVERIFY(savedPlainToken(QStringLiteral("dora")).isEmpty()); // not in the settings file
    QVERIFY(!QSettings(settingsPath(QStringLiteral("dora")), QSettings::IniFormat)
                 .value(QStringLiteral("session/account"))
                 .toString()
                 .isEmpty());

    // The next start reads it from the keychain.
    auto second = makeClient(QStringLiteral("dora"), &keychain);
    QVERIFY(second->restoreSession());
    QVERIFY(waitOnline(*second));
    QCOMPARE(second->token(), first->token());
    QCOMPARE(second->tokenStorage(), TokenStorage::Keychain);

    // A logout removes it.
    second->logout();
    QVERIFY(keychain.entries.isEmpty());
    QCOMPARE(second->tokenStorage(), TokenStorage::NotSaved);
    auto third = makeClient(QStringLiteral("dora"), &keychain);
    QVERIFY(!third->restoreSession());
}

void TestClientCredentials::keychainMissingFallsBack()
{
    FakeKeychain keychain;
    keychain.working = false;
    auto first = makeClient(QStringLiteral("erin"), &keychain);
    first->login(QStringLiteral("erin"), QStringLiteral("password123"));
    QVERIFY(waitOnline(*first));
    QCOMPARE(first->tokenStorage(), TokenStorage::SettingsFile);
    QVERIFY2(first->tokenStorageNotice().contains(settingsPath(QStringLiteral("erin"))),
             qPrintable(first->tokenStorageNotice()));
    QCOMPARE(savedPlainToken(QStringLiteral("erin")).toUtf8(), first->token());

    auto second = makeClient(QStringLiteral("erin"), &keychain);
    QVERIFY(second->restoreSession());
    QVERIFY(waitOnline(*second));
    QCOMPARE(second->token(), first->token());
    QCOMPARE(second->tokenStorage(), TokenStorage::SettingsFile);
    second->logout();
    QVERIFY(savedPlainToken(QStringLiteral("erin")).isEmpty());
    QVERIFY(second->tokenStorageNotice().isEmpty());
}

void TestClientCredentials::plainTokenMigrated()
{
    // What a version without the keychain left: the token in plain text in the settings file.
    ApiClient api(m_server.url());
    const auto login = api.post(QStringLiteral("/api/v1/auth/login"),
                                {{QStringLiteral("username"), QStringLiteral("fred")},
                                 {QStringLiteral("password"), QStringLiteral("password123")}});
    QCOMPARE(login.status, 200);
    const QString token = login.json().value(QLatin1String("token")).toString();
    QVERIFY(!token.isEmpty());
    {
        QSettings s(settingsPath(QStringLiteral("fred")), QSettings::IniFormat);
        s.setValue(QStringLiteral("server/url"), m_server.url().toString());
        s.setValue(QStringLiteral("session/token"), token);
    }
    FakeKeychain keychain;
    auto c = makeClient(QStringLiteral("fred"), &keychain);
    QVERIFY(c->restoreSession());
    QVERIFY(waitOnline(*c));
    QCOMPARE(c->token(), token.toUtf8());
    QCOMPARE(c->tokenStorage(), TokenStorage::Keychain);
    QCOMPARE(keychain.entries.size(), 1);
    QCOMPARE(keychain.entries.cbegin().value(), token.toUtf8());
    QVERIFY(savedPlainToken(QStringLiteral("fred")).isEmpty()); // moved out of the file
}

void TestClientCredentials::platformKeychain()
{
    auto first = makeClient(QStringLiteral("gina"), nullptr);
    first->login(QStringLiteral("gina"), QStringLiteral("password123"));
    QVERIFY(waitOnline(*first));
    const bool fallback = first->tokenStorage() == TokenStorage::SettingsFile;
    qInfo("the platform keychain here: %s", fallback ? "unavailable, settings file" : "available");
    QVERIFY(first->tokenStorage() == TokenStorage::Keychain || fallback);
    QCOMPARE(savedPlainToken(QStringLiteral("gina")).toUtf8(), fallback ? first->token() : QByteArray());
    QCOMPARE(first->tokenStorageNotice().isEmpty(), !fallback);

    auto second = makeClient(QStringLiteral("gina"), nullptr);
    QVERIFY(second->restoreSession());
    QVERIFY(waitOnline(*second));
    QCOMPARE(second->token(), first->token());
    second->logout();
    QVERIFY(savedPlainToken(QStringLiteral("gina")).isEmpty());
    auto third = makeClient(QStringLiteral("gina"), nullptr);
    QVERIFY(!third->restoreSession());
}

QTEST_MAIN(TestClientCredentials)
#include "tst_client_credentials.moc"
