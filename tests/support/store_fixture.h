// StoreFixture: the base class of the store suites (tst_*_store). It owns what every one of them
// needs: the "backend" data rows (sqlite, postgres), a fresh migrated database for every test
// (SQLite in a temporary directory, or a new database on the PostgreSQL of
// TM_TEST_DATABASE_URL) with its DbPool, onDb() to run a job on that pool and wait for it, a
// test clock, and the users, projects and members most tests start from.
// A suite derives from it instead of QObject and gets its initTestCase(), init() and cleanup()
// slots; a suite that declares its own init() opens the database itself (StoreFixture::init()
// or openDatabase()).
// Thread: the test's thread; the jobs given to onDb() run on the pool's worker threads.
#pragma once

#include "server/storage/db_pool.h"
#include "shared/domain/types.h"
#include "tests/support/test_env.h"

#include <QObject>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>
#include <utility>

namespace taskmaster::test {

class StoreFixture : public QObject {
    Q_OBJECT
protected:
    // Replaces the pool with one on a new, empty, migrated database of backend ("sqlite" or
    // "postgres"), and sets the clock back to 1000.
    void openDatabase(const QString &backend);
    [[nodiscard]] server::DbPool &pool() { return *m_pool; }
    // Runs f(QSqlDatabase &) on a pool worker and returns its result.
    template<typename F> auto onDb(F &&f) { return m_pool->run(std::forward<F>(f)).result(); }

    // The test clock in ms since the epoch: 1000 on a new database; tick() advances it by one and
    // returns the new time, so every write of a test has its own, increasing timestamp.
    qint64 tick() { return ++m_now; }

    // These abort the run when the store refuses: nothing after it could mean anything.
    // A new user "name" with display name NAME, password hash "hash", created at 1000 ms; the
    // first user of a database is its admin.
    User addUser(const QString &name);
    // A project of owner without a description, created at tick().
    Project addProject(const User &owner, const QString &name);
    // by adds who to project p at tick().
    void addMember(const Project &p, const User &by, const User &who);
    // "seq:type:entity" for every durable event of channel project:<projectId>, in seq order
    // (["error"] when the query fails).
    QStringList channelEvents(Id projectId);

protected Q_SLOTS:
    // Reads TM_TEST_DATABASE_URL: skips the suite without it (fails under
    // TM_TEST_REQUIRE_SERVICES=1).
    void initTestCase();
    // A fresh database on rowBackend().
    void init();
    // Closes the pool (the PostgreSQL databases stay until the test server is removed).
    void cleanup();

private:
    QTemporaryDir m_dir;
    QString m_pgUrl;
    std::unique_ptr<server::DbPool> m_pool;
    qint64 m_now = 1000;
};

} // namespace taskmaster::test
