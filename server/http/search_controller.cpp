#include "server/http/search_controller.h"

#include "server/http/api_router.h"
#include "server/http/authenticated_queries.h"
#include "server/storage/db_pool.h"
#include "server/storage/search_store.h"
#include "server/storage/sql.h"
#include "shared/codec/rest_json.h"

#include <QDateTime>

namespace taskmaster::server {

namespace {
using Method = QHttpServerRequest::Method;

struct AdminStats {
    QString instance;
    qint64 uptimeSeconds = 0;
    DbPoolStats pool;
    QList<std::pair<QString, qint64>> totals;
    QByteArray realtime; // a JSON object from the hub; empty when there is none
};

void writeJson(JsonWriter &w, const AdminStats &s)
{
    w.beginObject();
    w.key("instance");
    w.string(s.instance);
    w.key("uptimeSeconds");
    w.integer(s.uptimeSeconds);
    w.key("dbPool");
    w.beginObject();
    w.key("threads");
    w.integer(s.pool.threads);
    w.key("busy");
    w.integer(s.pool.busy);
    w.key("idle");
    w.integer(s.pool.idle);
    w.key("waiting");
    w.integer(s.pool.waiting);
    w.key("completed");
    w.integer(s.pool.completed);
    w.endObject();
    w.key("totals");
    w.beginObject();
    for (const auto &[name, n] : s.totals) {
        w.key(name);
        w.integer(n);
    }
    w.endObject();
    if (!s.realtime.isEmpty()) {
        w.key("realtime");
        w.raw(s.realtime);
    }
    w.endObject();
}
} // namespace

SearchController::SearchController(Deps deps)
    : m_deps(std::move(deps)), m_startedMs(QDateTime::currentMSecsSinceEpoch())
{
}

void SearchController::addRoutes(ApiRouter &router)
{
    router.add(Method::Get, QStringLiteral("/api/v1/search"), this, &SearchController::searchAction);
    router.add(Method::Get, QStringLiteral("/api/v1/admin/stats"), this, &SearchController::statsAction);
}

ApiFuture SearchController::searchAction(const Call &c, const PathIds &)
{
    auto q = parseSearchQuery(c.query);
    if (!q)
        return answerNow(q.error());
    return m_deps.queries.run(
        c,
        [q = *q](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
            auto hits = store::search(db, me.id, q.q, q.limit);
            if (!hits)
                return hits.error();
            return ApiResponse::json(SearchResult {hits->messages, hits->tasks}).withETag();
        },
        ReadFrom::Replica);
}

ApiFuture SearchController::statsAction(const Call &c, const PathIds &)
{
    // The hub's figures are read here, on the network thread that owns them.
    const QByteArray realtime = m_deps.realtimeStats ? m_deps.realtimeStats() : QByteArray();
    return m_deps.queries.run(
        c,
        [pool = &m_deps.primary, instanceName = m_deps.instanceName, started = m_startedMs,
         realtime](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
            if (me.role != Role::Admin)
                return Error {ErrorCode::Forbidden, QStringLiteral("admins only"), {}};
            AdminStats s;
            s.instance = instanceName;
            s.realtime = realtime;
            s.uptimeSeconds = (QDateTime::currentMSecsSinceEpoch() - started) / 1000;
            s.pool = pool->stats();
            auto q = sql::run(
                db, "admin.totals",
                QStringLiteral(
                    "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM rooms), "
                    "(SELECT count(*) FROM messages), (SELECT count(*) FROM projects WHERE deleted = false), "
                    "(SELECT count(*) FROM tasks WHERE deleted = false), (SELECT count(*) FROM sessions)"));
            if (!q)
                return q.error();
            q->next();
            const char *names[] = {"users", "rooms", "messages", "projects", "tasks", "sessions"};
            for (int i = 0; i < 6; ++i)
                s.totals.append({QString::fromLatin1(names[i]), q->value(i).toLongLong()});
            return ApiResponse::json(s);
        });
}

} // namespace taskmaster::server
