#include "server/http/user_controller.h"

#include "server/cache/cache.h"
#include "server/http/api_router.h"
#include "server/http/authenticated_queries.h"
#include "server/http/cached_reads.h"
#include "server/storage/user_store.h"
#include "shared/codec/rest_json.h"

namespace taskmaster::server {

namespace {
using Method = QHttpServerRequest::Method;
using Ids = QList<qint64>;
} // namespace

void UserController::addRoutes(ApiRouter &router)
{
    router.add(Method::Get, QStringLiteral("/api/v1/me"), [this](const Call &c, const Ids &) { return meAction(c); });
    router.add(Method::Get, QStringLiteral("/api/v1/users"),
               [this](const Call &c, const Ids &) { return searchAction(c); });
    router.add(Method::Get, QStringLiteral("/api/v1/users/{id}"),
               [this](const Call &c, const Ids &ids) { return userAction(c, ids[0]); });
}

ApiFuture UserController::meAction(const Call &call)
{
    return m_deps.queries.run(
        call, [](QSqlDatabase &, const User &me) -> Result<ApiResponse> { return ApiResponse::json(me).withETag(); });
}

ApiFuture UserController::searchAction(const Call &call)
{
    auto limit = limitParam(call.query);
    if (!limit)
        return answerNow(limit.error());
    const QString q = call.query.queryItemValue(QStringLiteral("q"), QUrl::FullyDecoded);
    if (q.size() > limits::kSearchQueryMax)
        return answerNow(Error::badRequest(QStringLiteral("q is too long"), QStringLiteral("q")));
    return m_deps.queries.run(
        call,
        [q, n = *limit](QSqlDatabase &db, const User &) -> Result<ApiResponse> {
            auto users = store::searchUsers(db, q, n);
            if (!users)
                return users.error();
            return ApiResponse::json(Page<User> {*users, std::nullopt}).withETag();
        },
        ReadFrom::Replica);
}

ApiFuture UserController::userAction(const Call &call, Id id)
{
    const Error notFound {ErrorCode::NotFound, QStringLiteral("user not found"), {}};
    return m_deps.cachedReads.get(call,
                                  CacheKey {"user", "user:" + QByteArray::number(id), {versions::user(id)}, notFound},
                                  [id, notFound](QSqlDatabase &db, const User &) -> Result<CachedRead> {
                                      auto user = store::userById(db, id);
                                      if (!user)
                                          return user.error();
                                      if (!user->has_value())
                                          return notFound;
                                      return CachedRead {ApiResponse::json(**user), true, {}};
                                  });
}

} // namespace taskmaster::server
