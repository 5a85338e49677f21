// CredentialStore: where the client keeps a session token between runs, behind a small interface
// so that the Connection does not depend on the platform (and a test can put a fake keychain in).
//   KeychainCredentialStore  the platform's keychain through qtkeychain (Secret Service on Linux,
//                            macOS Keychain, Windows Credential Store, Android Keystore), service
//                            "TaskMaster", one entry per account (server URL and user id)
// A keychain can be missing (no Secret Service daemon, a headless session): writes then fail and
// the Connection falls back to the settings file, and says so (Connection::tokenStorage).
// Owns: nothing but its jobs in flight. Thread: the GUI thread; callbacks run there, later
// (never from inside the call).
#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>

#include <functional>
#include <optional>

namespace taskmaster::client {

class CredentialStore {
public:
    // A read's outcome: the secret, none saved (secret empty, error empty), or an error (the
    // keychain is unavailable or refused).
    struct ReadResult {
        std::optional<QByteArray> secret;
        QString error;
    };
    using ReadCallback = std::function<void(const ReadResult &)>;
    // ok false: not stored (error says why).
    using WriteCallback = std::function<void(bool ok, const QString &error)>;

    CredentialStore() = default;
    virtual ~CredentialStore() = default;
    CredentialStore(const CredentialStore &) = delete;
    CredentialStore &operator=(const CredentialStore &) = delete;

    // `context` guards the callback: it is not called once context is destroyed.
    virtual void read(const QString &account, QObject *context, ReadCallback done) = 0;
    virtual void write(const QString &account, const QByteArray &secret, QObject *context, WriteCallback done) = 0;
    // Best effort; nothing is reported.
    virtual void remove(const QString &account) = 0;
};

class KeychainCredentialStore final : public CredentialStore {
public:
    void read(const QString &account, QObject *context, ReadCallback done) override;
    void write(const QString &account, const QByteArray &secret, QObject *context, WriteCallback done) override;
    void remove(const QString &account) override;
};

} // namespace taskmaster::client
