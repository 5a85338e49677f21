// What the client GUI suites share: a keychain in memory, typing into a window, the visual tree, a client
// Connection of the test's own (settings and store in the test's directory, quick reconnects),
// signing it in until it is online, a restart of it from its saved session (offline: with a
// project's board from the store), and for the suites that drive Main.qml: the window resized, a
// section of its AppShell opened with its page filled.
// Thread: the test's (GUI) thread.
#pragma once

#include "client-qml/controllers/admin_controller.h"
#include "client-qml/controllers/search_controller.h"
#include "client-qml/net/connection.h"
#include "client-qml/net/credential_store.h"
#include "client-qml/net/realtime_session.h"

#include <QDeadlineTimer>
#include <QHash>
#include <QQuickItem>
#include <QQuickWindow>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QUrl>
#include <QWindow>

#include <functional>
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

// A restart of the client: c (a new Connection on the settings and store of an earlier run)
// restores the saved session and is logged in (online: its socket welcomed too; offline: from the
// store, with or without a server). False when there was no session or that did not happen
// within waitMs.
inline bool restoreAndWait(client::Connection &c, bool online, int waitMs)
{
    if (!c.restoreSession())
        return false;
    auto ready = [&] { return c.loggedIn() && (!online || c.realtime()->state() == client::RealtimeSession::Online); };
    QDeadlineTimer deadline(waitMs);
    while (!deadline.hasExpired() && !ready())
        QTest::qWait(20);
    return ready();
}

// A restart of the client with the server down (restoreAndWait offline) that opens the board of
// projectId from the store, which shows taskCount tasks. False when that did not happen within
// waitMs.
inline bool restoreOfflineBoard(client::Connection &c, qint64 projectId, int taskCount, int waitMs)
{
    if (!restoreAndWait(c, false, waitMs))
        return false;
    c.board()->openProject(projectId);
    QDeadlineTimer deadline(waitMs);
    while (!deadline.hasExpired() && c.board()->tasks()->count() != taskCount)
        QTest::qWait(20);
    return c.board()->tasks()->count() == taskCount;
}

// The window resized to size (its content item follows asynchronously). False when it did not
// within waitMs.
inline bool resizeWindow(QQuickWindow *window, QSize size, int waitMs)
{
    window->resize(size);
    QDeadlineTimer deadline(waitMs);
    while (QSizeF(window->contentItem()->size()).toSize() != size && !deadline.hasExpired())
        QTest::qWait(10);
    return QSizeF(window->contentItem()->size()).toSize() == size;
}

// Main.qml's AppShell (its `shell`) on section ("chat", "projects", "search", "admin") with the
// page filled: chat with roomId open (0: none), projects with projectId open (0: none), search
// with the results of query, admin with its first stats; and the user's own name loaded. What a
// page needs beyond that (a room's messages, a board's tasks) the caller waits for. False when
// something was not there within waitMs.
inline bool openSection(QQuickWindow *window, client::Connection &c, const QString &section, qint64 roomId,
                        qint64 projectId, const QString &query, int waitMs)
{
    QObject *shell = window->property("shell").value<QObject *>();
    if (!shell)
        return false;
    shell->setProperty("section", section);
    std::function<bool()> ready = [] { return true; };
    if (section == QLatin1String("chat")) {
        c.chat()->openRoom(roomId);
    } else if (section == QLatin1String("projects")) {
        c.board()->openProject(projectId);
    } else if (section == QLatin1String("search")) {
        QObject *field = window->findChild<QObject *>(QStringLiteral("searchField"));
        if (!field)
            return false;
        field->setProperty("text", query);
        c.search()->search(query);
        ready = [&c] { return c.search()->results()->messageCount() > 0; };
    } else if (section == QLatin1String("admin")) {
        ready = [&c] { return c.admin()->stats().contains(QStringLiteral("realtime")); };
    }
    QDeadlineTimer deadline(waitMs);
    auto done = [&] { return ready() && c.users()->userName(c.userId()) != QStringLiteral("…"); };
    while (!deadline.hasExpired() && !done())
        QTest::qWait(20);
    return done();
}

} // namespace taskmaster::test
