// What the client GUI suites share: a keychain in memory, typing into a window, the visual tree, a client
// Connection of the test's own (settings and store in the test's directory, quick reconnects)
// and signing it in until it is online.
// Thread: the test's (GUI) thread.
#pragma once

#include "client-qml/net/connection.h"
#include "client-qml/net/credential_store.h"
#include "client-qml/net/realtime_session.h"

#include <QDeadlineTimer>
#include <QHash>
#include <QQuickItem>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QUrl>
#include <QWindow>

#include <memory>
#include <optional>

namespace taskmaster::test {

// A keychain that works, in memory: a client that uses it shows no notice about a token kept in
// its settings file.
class MemoryKeychain final : public client::CredentialStore {
public:
    void read(const QString &account, QObject *context, ReadCallback done) override
    {
        const auto it = m_entries.constFind(account);
        ReadResult r {it == m_entries.cend() ? std::nullopt : std::optional<QByteArray>(*it), {}};
        QTimer::singleShot(0, context, [r, done = std::move(done)] { done(r); });
    }
    void write(const QString &account, const QByteArray &secret, QObject *context, WriteCallback done) override
    {
        m_entries.insert(account, secret);
        QTimer::singleShot(0, context, [done = std::move(done)] { done(true, {}); });
    }
    void remove(const QString &account) override { m_entries.remove(account); }

private:
    QHash<QString, QByteArray> m_entries;
};

// QTest has keyClicks() for widgets only: one keyClick per character (Latin-1) for a window.
inline void typeText(QWindow *window, const QString &text)
{
    for (const QChar c : text)
        QTest::keyClick(window, c.toLatin1());
}
inline void typeText(QWindow *window, const char *text)
{
    typeText(window, QString::fromLatin1(text));
}

// Every item under root in the visual tree (delegates of views and popups have no QObject parent
// there, so findChildren does not reach them).
inline QList<QQuickItem *> visualItems(QQuickItem *root)
{
    QList<QQuickItem *> out;
    const auto children = root->childItems();
    for (QQuickItem *child : children) {
        out.append(child);
        out += visualItems(child);
    }
    return out;
}

// A client of `name` on server: settings in dir/<name>.ini, with a local store in
// dir/<name>-store unless withStore is false; reconnects after 100 to 800 ms.
inline std::unique_ptr<client::Connection> makeTestClient(const QTemporaryDir &dir, const QString &name,
                                                          const QUrl &server, bool withStore = true)
{
    auto c = std::make_unique<client::Connection>();
    c->setSettingsFile(dir.filePath(name + QStringLiteral(".ini")));
    if (withStore)
        c->setStoreDirectory(dir.filePath(name + QStringLiteral("-store")));
    c->setServerUrl(server.toString());
    c->realtime()->setReconnectLimits(100, 800);
    return c;
}

// Signs c in as user (password "password123"; registerFirst: creates the account, display name
// the user capitalised) and waits until it is online and its token saved for the next start
// (keychain, or the settings file without one). False when that did not happen within waitMs.
inline bool loginAndWait(client::Connection &c, const QString &user, bool registerFirst, int waitMs)
{
    if (registerFirst)
        c.registerAccount(user, QStringLiteral("password123"), user.at(0).toUpper() + user.mid(1));
    else
        c.login(user, QStringLiteral("password123"));
    auto ready = [&] {
        return c.loggedIn() && c.realtime()->state() == client::RealtimeSession::Online
            && c.tokenStorage() != client::Connection::TokenStorage::Saving;
    };
    QDeadlineTimer deadline(waitMs);
    while (!deadline.hasExpired() && !ready())
        QTest::qWait(20);
    return ready();
}

} // namespace taskmaster::test
