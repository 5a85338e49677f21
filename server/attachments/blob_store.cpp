#include "server/attachments/blob_store.h"

#include "server/storage/sql.h"

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>

#include <algorithm>
#include <cstdio>
#include <unistd.h>

namespace taskmaster::server {

namespace {

Error ioError(const QString &what)
{
    return Error {ErrorCode::Unavailable, QStringLiteral("attachment storage: ") + what, {}};
}

bool isHexKey(const QByteArray &s)
{
    return s.size() == 64
        && std::all_of(s.cbegin(), s.cend(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

class FileBlobStore final : public BlobStore {
public:
    explicit FileBlobStore(const QString &root) : m_root(root) { }

    Result<QString> stage(QSqlDatabase &) override
    {
        if (!QDir().mkpath(stagingDir()))
            return ioError(QStringLiteral("cannot create %1").arg(stagingDir()));
        const QString key = QString::number(QRandomGenerator::system()->generate64(), 16)
            + QString::number(QRandomGenerator::system()->generate64(), 16);
        QFile f(stagingPath(key));
        if (!f.open(QIODevice::WriteOnly | QIODevice::NewOnly))
            return ioError(f.errorString());
        return key;
    }

    MaybeError append(QSqlDatabase &, const QString &staging, qint64 n, const QByteArray &bytes) override
    {
        QFile f(stagingPath(staging));
        if (!f.open(QIODevice::ReadWrite))
            return ioError(f.errorString());
        if (f.size() != n * kChunkBytes || !f.seek(n * kChunkBytes))
            return ioError(QStringLiteral("chunk %1 out of order").arg(n));
        if (f.write(bytes) != bytes.size())
            return ioError(f.errorString());
        return std::nullopt;
    }

    MaybeError commit(QSqlDatabase &, const QString &staging, const QByteArray &sha256, qint64 size) override
    {
        if (!isHexKey(sha256))
            return ioError(QStringLiteral("bad blob key"));
        const QString from = stagingPath(staging);
        if (QFileInfo(from).size() != size)
            return ioError(QStringLiteral("staged size differs"));
        const QString to = blobPath(sha256);
        if (QFileInfo::exists(to)) {
            QFile::remove(from); // the same bytes are stored already
            return std::nullopt;
        }
        if (!QDir().mkpath(QFileInfo(to).path()))
            return ioError(QStringLiteral("cannot create %1").arg(QFileInfo(to).path()));
        {
            QFile f(from);
            if (f.open(QIODevice::ReadWrite))
                ::fsync(f.handle()); // the bytes are on disk before the row that names them
        }
        // rename(2) replaces atomically: a concurrent commit of the same bytes ends the same.
        if (::rename(QFile::encodeName(from).constData(), QFile::encodeName(to).constData()) != 0)
            return ioError(QStringLiteral("cannot move the upload into place"));
        return std::nullopt;
    }

    void discard(QSqlDatabase &, const QString &staging) override { QFile::remove(stagingPath(staging)); }

    Result<QByteArray> read(QSqlDatabase &, const QByteArray &sha256, qint64 offset, qint64 length) override
    {
        if (!isHexKey(sha256))
            return ioError(QStringLiteral("bad blob key"));
        QFile f(blobPath(sha256));
        if (!f.open(QIODevice::ReadOnly))
            return ioError(f.errorString());
        if (!f.seek(offset))
            return ioError(f.errorString());
        QByteArray out = f.read(std::min(length, kChunkBytes));
        if (out.size() != std::min(length, kChunkBytes))
            return ioError(QStringLiteral("blob shorter than recorded"));
        return out;
    }

    MaybeError remove(QSqlDatabase &, const QByteArray &sha256) override
    {
        if (!isHexKey(sha256))
            return ioError(QStringLiteral("bad blob key"));
        QFile::remove(blobPath(sha256));
        return std::nullopt;
    }

    void discardStale(QSqlDatabase &, qint64 olderThanMs) override
    {
        QDirIterator it(stagingDir(), {QStringLiteral("*.part")}, QDir::Files);
        while (it.hasNext()) {
            const QFileInfo info(it.next());
            if (info.lastModified().toMSecsSinceEpoch() < olderThanMs)
                QFile::remove(info.filePath());
        }
    }

private:
    QString stagingDir() const { return m_root + QStringLiteral("/staging"); }
    QString stagingPath(const QString &key) const
    {
        return stagingDir() + QLatin1Char('/') + key + QStringLiteral(".part");
    }
    QString blobPath(const QByteArray &sha256) const
    {
        return m_root + QStringLiteral("/blobs/") + QString::fromLatin1(sha256.first(2)) + QLatin1Char('/')
            + QString::fromLatin1(sha256);
    }

    QString m_root;
};

// blobs(id, sha256 NULL while staged, size, created_at); blob_chunks(blob_id, n, data).
class PostgresBlobStore final : public BlobStore {
public:
    Result<QString> stage(QSqlDatabase &db) override
    {
        auto q = sql::run(db, "blob_stage", QStringLiteral("INSERT INTO blobs (created_at) VALUES (?) RETURNING id"),
                          {QDateTime::currentMSecsSinceEpoch()});
        if (!q)
            return q.error();
        if (!q->next())
            return ioError(QStringLiteral("no staging id"));
        return QString::number(q->value(0).toLongLong());
    }

    // A staged chunk commits without waiting for its WAL to reach the disk (synchronous_commit off
    // for its transaction): nothing is acknowledged on it. The upload's commit() waits for the
    // flush of the WAL up to its own commit record, which comes after every chunk's: the `201`
    // still means every byte is durable. Without it each 256 KiB chunk waits for an fsync, and the
    // group commits of the messages wait behind those flushes (docs/BENCHMARKS.md, attachments).
    MaybeError append(QSqlDatabase &db, const QString &staging, qint64 n, const QByteArray &bytes) override
    {
        sql::Transaction tx(db);
        if (!tx.began())
            return tx.beginError();
        if (auto q = sql::run(db, "blob_append_async", QStringLiteral("SET LOCAL synchronous_commit TO OFF")); !q)
            return q.error();
        // In binary (sql::pgBinary): QPSQL would send the chunk as hex in the statement's text.
        auto q = sql::pgBinary(db, "blob_append", "INSERT INTO blob_chunks (blob_id, n, data) VALUES ($1, $2, $3)",
                               {staging.toLongLong(), n, bytes});
        if (!q)
            return q.error();
        return tx.commit();
    }

    MaybeError commit(QSqlDatabase &db, const QString &staging, const QByteArray &sha256, qint64 size) override
    {
        return commitOrShare(db, staging, sha256, size);
    }

    MaybeError commitOnce(QSqlDatabase &db, const QString &staging, const QByteArray &sha256, qint64 size)
    {
        sql::Transaction tx(db);
        if (!tx.began())
            return tx.beginError();
        auto existing = sql::run(db, "blob_find", QStringLiteral("SELECT id FROM blobs WHERE sha256 = ?"),
                                 {QString::fromLatin1(sha256)});
        if (!existing)
            return existing.error();
        if (existing->next()) {
            existing->finish();
            if (auto q = sql::run(db, "blob_discard", QStringLiteral("DELETE FROM blobs WHERE id = ?"),
                                  {staging.toLongLong()});
                !q)
                return q.error();
            return tx.commit();
        }
        existing->finish();
        auto q = sql::run(db, "blob_commit", QStringLiteral("UPDATE blobs SET sha256 = ?, size = ? WHERE id = ?"),
                          {QString::fromLatin1(sha256), size, staging.toLongLong()});
        if (q)
            return tx.commit();
        return q.error();
    }

    MaybeError commitOrShare(QSqlDatabase &db, const QString &staging, const QByteArray &sha256, qint64 size)
    {
        MaybeError e = commitOnce(db, staging, sha256, size);
        if (e && e->code == ErrorCode::Conflict) {
            // A concurrent upload of the same bytes committed first: theirs serves both.
            discard(db, staging);
            return std::nullopt;
        }
        return e;
    }

    void discard(QSqlDatabase &db, const QString &staging) override
    {
        (void)sql::run(db, "blob_discard", QStringLiteral("DELETE FROM blobs WHERE id = ?"), {staging.toLongLong()});
    }

    Result<QByteArray> read(QSqlDatabase &db, const QByteArray &sha256, qint64 offset, qint64 length) override
    {
        // Chunks are kChunkBytes each: the one holding offset, and the slice of it asked for.
        // Only the slice asked for leaves the database (the chunks are stored uncompressed,
        // STORAGE EXTERNAL: substring reads just the TOAST pieces it needs), in binary.
        const qint64 at = offset % kChunkBytes;
        const qint64 want = std::min(length, kChunkBytes - at);
        auto q = sql::pgBinary(db, "blob_read",
                               "SELECT substring(c.data FROM $3::integer FOR $4::integer) FROM blobs b "
                               "JOIN blob_chunks c ON c.blob_id = b.id WHERE b.sha256 = $1 AND c.n = $2",
                               {QString::fromLatin1(sha256), offset / kChunkBytes, at + 1, want});
        if (!q)
            return q.error();
        if (q->isEmpty())
            return ioError(QStringLiteral("blob chunk missing"));
        if (want <= 0 || q->constFirst().size() < want)
            return ioError(QStringLiteral("blob shorter than recorded"));
        return q->constFirst();
    }

    MaybeError remove(QSqlDatabase &db, const QByteArray &sha256) override
    {
        auto q = sql::run(db, "blob_remove", QStringLiteral("DELETE FROM blobs WHERE sha256 = ?"),
                          {QString::fromLatin1(sha256)});
        if (!q)
            return q.error();
        return std::nullopt;
    }

    void discardStale(QSqlDatabase &db, qint64 olderThanMs) override
    {
        (void)sql::run(db, "blob_discard_stale",
                       QStringLiteral("DELETE FROM blobs WHERE sha256 IS NULL AND created_at < ?"), {olderThanMs});
    }
};

} // namespace

std::unique_ptr<BlobStore> makeFileBlobStore(const QString &rootDir)
{
    return std::make_unique<FileBlobStore>(rootDir);
}

std::unique_ptr<BlobStore> makePostgresBlobStore()
{
    return std::make_unique<PostgresBlobStore>();
}

} // namespace taskmaster::server
