// Credentials: Argon2id password hashes (libsodium) computed on a dedicated worker pool, so the
// network thread never spends the ~50 ms a hash costs; opaque session tokens (256 random bits,
// base64url) and the SHA-256 digest under which a token is stored (the token itself never is).
// As with DbPool, a result is available (QFuture::result()) as soon as it is computed, but the
// future finishes on the thread that created Credentials, through its event loop: Qt 6.4 runs a
// continuation twice when a future finishes on another thread while then() attaches it.
// Owns: the hashing thread pool. Thread: created on the network thread; hash()/verify() may be
// called from any thread; the work runs on the pool; futures finish on the network thread.
#pragma once

#include <QByteArray>
#include <QFuture>
#include <QObject>
#include <QString>
#include <QThreadPool>

namespace taskmaster::server {

struct Argon2Cost {
    // OWASP's minimum for Argon2id: 19 MiB, 2 passes. Tests lower it.
    unsigned long long opsLimit = 2;
    size_t memLimitBytes = 19u * 1024u * 1024u;
};

class Credentials final {
public:
    explicit Credentials(int threads, Argon2Cost cost = {});
    ~Credentials();

    // "$argon2id$v=19$m=...": salt and parameters included.
    [[nodiscard]] QFuture<QString> hash(const QString &password);
    // False for a wrong password or a malformed hash. With an empty stored hash (unknown user)
    // it still spends the time of one verification, so timing does not reveal which names exist.
    [[nodiscard]] QFuture<bool> verify(const QString &storedHash, const QString &password);

    // A new random token: 32 bytes from libsodium's CSPRNG, base64url without padding (43 chars).
    [[nodiscard]] static QString newToken();
    // SHA-256 of the token's bytes: the key a session is stored under.
    [[nodiscard]] static QByteArray tokenDigest(const QString &token);

private:
    template<typename T, typename Fn> QFuture<T> onPool(Fn fn);

    QObject m_home; // lives on the creating thread: futures finish there
    QThreadPool m_pool;
    Argon2Cost m_cost;
    QString m_dummyHash; // verified against for unknown users
};

} // namespace taskmaster::server
