#include "client-qml/net/credential_store.h"

#include <qt6keychain/keychain.h>

namespace taskmaster::client {

namespace {

QString service()
{
    return QStringLiteral("TaskMaster");
}

} // namespace

void KeychainCredentialStore::read(const QString &account, QObject *context, ReadCallback done)
{
    auto *job = new QKeychain::ReadPasswordJob(service());
    job->setAutoDelete(true);
    job->setKey(account);
    QObject::connect(job, &QKeychain::Job::finished, context, [job, done = std::move(done)] {
        if (job->error() == QKeychain::NoError)
            done({job->binaryData(), {}});
        else if (job->error() == QKeychain::EntryNotFound)
            done({std::nullopt, {}});
        else
            done({std::nullopt, job->errorString().isEmpty() ? QStringLiteral("keychain error") : job->errorString()});
    });
    job->start();
}

void KeychainCredentialStore::write(const QString &account, const QByteArray &secret, QObject *context,
                                    WriteCallback done)
{
    auto *job = new QKeychain::WritePasswordJob(service());
    job->setAutoDelete(true);
    job->setKey(account);
    job->setBinaryData(secret);
    QObject::connect(job, &QKeychain::Job::finished, context, [job, done = std::move(done)] {
        const bool ok = job->error() == QKeychain::NoError;
        done(ok, ok ? QString() : job->errorString());
    });
    job->start();
}

void KeychainCredentialStore::remove(const QString &account)
{
    auto *job = new QKeychain::DeletePasswordJob(service());
    job->setAutoDelete(true);
    job->setKey(account);
    job->start();
}

} // namespace taskmaster::client
