#include "tests/support/store_fixture.h"

#include "server/storage/event_store.h"
#include "server/storage/project_store.h"
#include "server/storage/sql.h"
#include "server/storage/user_store.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"

#include <QTest>

namespace taskmaster::test {

void StoreFixture::openDatabase(const QString &backend)
{
    m_pool.reset();
    m_pool = std::make_unique<server::DbPool>(freshDatabase(backend, m_dir, m_pgUrl));
    m_now = 1000;
}

User StoreFixture::addUser(const QString &name)
{
    auto u = onDb([&](QSqlDatabase &db) {
        return server::store::createUser(db, name, name.toUpper(), QStringLiteral("hash"), 1000);
    });
    if (!u)
        qFatal("createUser failed: %s", qPrintable(u.error().message));
    return *u;
}

Project StoreFixture::addProject(const User &owner, const QString &name)
{
    const qint64 now = tick();
    auto p = onDb([&](QSqlDatabase &db) { return server::store::createProject(db, owner.id, name, QString(), now); });
    if (!p)
        qFatal("createProject failed: %s", qPrintable(p.error().message));
    return *p;
}

void StoreFixture::addMember(const Project &p, const User &by, const User &who)
{
    const qint64 now = tick();
    auto m = onDb([&](QSqlDatabase &db) { return server::store::addProjectMember(db, p.id, by.id, who.id, now); });
    if (!m)
        qFatal("addProjectMember failed: %s", qPrintable(m.error().message));
}

QStringList StoreFixture::channelEvents(Id projectId)
{
    return onDb([&](QSqlDatabase &db) {
        QStringList out;
        auto q = server::sql::run(
            db, "test.events",
            QStringLiteral("SELECT seq, type, entity_id FROM channel_events WHERE channel_kind = ? AND "
                           "channel_id = ? ORDER BY seq"),
            {server::store::channelKindCode(ChannelKind::Project), projectId});
        if (!q)
            return QStringList {QStringLiteral("error")};
        while (q->next()) {
            out << QStringLiteral("%1:%2:%3")
                       .arg(q->value(0).toLongLong())
                       .arg(q->value(1).toInt())
                       .arg(q->value(2).toLongLong());
        }
        return out;
    });
}

void StoreFixture::initTestCase()
{
    TM_REQUIRE_SERVICE(url, "TM_TEST_DATABASE_URL");
    m_pgUrl = url;
}

void StoreFixture::init()
{
    openDatabase(rowBackend());
}

void StoreFixture::cleanup()
{
    m_pool.reset();
}

} // namespace taskmaster::test
