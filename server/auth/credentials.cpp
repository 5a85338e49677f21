#include "server/auth/credentials.h"

#include <QPromise>

#include <memory>
#include <sodium.h>

namespace taskmaster::server {

namespace {
QString hashNow(const QString &password, const Argon2Cost &cost)
{
    const QByteArray utf8 = password.toUtf8();
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, utf8.constData(), static_cast<unsigned long long>(utf8.size()), cost.opsLimit,
                              cost.memLimitBytes, crypto_pwhash_ALG_ARGON2ID13)
        != 0) {
        return {}; // out of memory
    }
    return QString::fromLatin1(out);
}

bool verifyNow(const QString &stored, const QString &password)
{
    const QByteArray hash = stored.toLatin1();
    const QByteArray utf8 = password.toUtf8();
    if (hash.isEmpty() || hash.size() >= crypto_pwhash_STRBYTES)
        return false;
    return crypto_pwhash_str_verify(hash.constData(), utf8.constData(), static_cast<unsigned long long>(utf8.size()))
        == 0;
}
} // namespace

Credentials::Credentials(int threads, Argon2Cost cost) : m_cost(cost)
{
    if (sodium_init() < 0)
        qFatal("libsodium cannot be initialised");
    m_pool.setMaxThreadCount(std::max(1, threads));
    m_pool.setObjectName(QStringLiteral("tm-hash"));
    m_dummyHash = hashNow(QStringLiteral("not-a-real-password"), m_cost);
}

Credentials::~Credentials()
{
    m_pool.waitForDone();
}

template<typename T, typename Fn> QFuture<T> Credentials::onPool(Fn fn)
{
    auto promise = std::make_shared<QPromise<T>>();
    promise->start();
    QFuture<T> future = promise->future();
    QObject *home = &m_home; // outlives every job: the destructor waits for the pool first
    m_pool.start([promise, home, fn = std::move(fn)]() mutable {
        promise->addResult(fn());
        // Finished on the home thread (see the header). Should Credentials be destroyed before the
        // event is delivered, the promise's destructor finishes the future.
        QMetaObject::invokeMethod(
            home, [promise] { promise->finish(); }, Qt::QueuedConnection);
    });
    return future;
}

QFuture<QString> Credentials::hash(const QString &password)
{
    return onPool<QString>([password, cost = m_cost] { return hashNow(password, cost); });
}

QFuture<bool> Credentials::verify(const QString &storedHash, const QString &password)
{
    if (storedHash.isEmpty()) {
        return onPool<bool>([dummy = m_dummyHash, password] {
            verifyNow(dummy, password);
            return false;
        });
    }
    return onPool<bool>([storedHash, password] { return verifyNow(storedHash, password); });
}

QString Credentials::newToken()
{
    if (sodium_init() < 0)
        qFatal("libsodium cannot be initialised");
    QByteArray bytes(32, Qt::Uninitialized);
    randombytes_buf(bytes.data(), size_t(bytes.size()));
    return QString::fromLatin1(bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

QByteArray Credentials::tokenDigest(const QString &token)
{
    const QByteArray utf8 = token.toUtf8();
    QByteArray digest(crypto_hash_sha256_BYTES, Qt::Uninitialized);
    crypto_hash_sha256(reinterpret_cast<unsigned char *>(digest.data()),
                       reinterpret_cast<const unsigned char *>(utf8.constData()),
                       static_cast<unsigned long long>(utf8.size()));
    return digest;
}

} // namespace taskmaster::server
