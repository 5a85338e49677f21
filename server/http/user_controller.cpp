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
} // namespace

void UserController::addRoutes(ApiRouter &router)
{
    router.add(Method::Get, QStringLiteral("/api/v1/me"), this, &UserController::meAction);
    router.add(Method::Get, QStringLiteral("/api/v1/users"), this, &UserController::searchAction);
    router.add(Method::Get, QStringLiteral("/api/v1/users/{id}"), this, &UserController::userAction);
}

ApiFuture UserController::meAction(const Call &call, const PathIds &)
{
    return m_deps.queries.run(
        call, [](QSqlDatabase &, const User &me) -> Result<ApiResponse> { return ApiResponse::json(me).withETag(); });
}

ApiFuture UserController::searchAction(const Call &call, const PathIds &)
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

ApiFuture UserController::userAction(const Call &call, const PathIds &ids)
{
    const Id id = ids[0];
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
