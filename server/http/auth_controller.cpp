#include "server/http/auth_controller.h"

#include "server/auth/credentials.h"
#include "server/auth/sessions.h"
#include "server/cache/cache.h"
#include "server/storage/user_store.h"
#include "shared/codec/rest_json.h"

#include <QPromise>
#include <QtConcurrent/QtConcurrentRun>

#include <memory>

namespace taskmaster::server {

namespace {
using Method = QHttpServerRequest::Method;

// Stores a new session for the user; returns the token.
Result<QString> openSession(QSqlDatabase &db, Id userId, qint64 now, qint64 ttl)
{
    const QString token = Credentials::newToken();
    if (auto e = store::createSession(db, Credentials::tokenDigest(token), userId, now, now + ttl))
        return *e;
    return token;
}
} // namespace

void AuthController::addRoutes(ApiRouter &router)
{
    router.add(Method::Post, QStringLiteral("/api/v1/auth/register"), [&router](const Call &c, const QList<qint64> &) {
        return router.limitedByAddress(c, [&router, c] { return registerAction(router, c); });
    });
    router.add(Method::Post, QStringLiteral("/api/v1/auth/login"), [&router](const Call &c, const QList<qint64> &) {
        return router.limitedByAddress(c, [&router, c] { return loginAction(router, c); });
    });
    router.add(Method::Post, QStringLiteral("/api/v1/auth/logout"),
               [&router](const Call &c, const QList<qint64> &) { return logoutAction(router, c); });
    router.add(Method::Get, QStringLiteral("/api/v1/me"), [&router](const Call &c, const QList<qint64> &) {
        return router.authenticated(
            c, [](QSqlDatabase &, const User &me) -> Result<ApiResponse> { return ApiResponse::json(me).withETag(); });
    });
    router.add(Method::Get, QStringLiteral("/api/v1/users"), [&router](const Call &c, const QList<qint64> &) {
        auto limit = limitParam(c.query);
        if (!limit)
            return ApiRouter::ready(limit.error());
        const QString q = c.query.queryItemValue(QStringLiteral("q"), QUrl::FullyDecoded);
        if (q.size() > limits::kSearchQueryMax)
            return ApiRouter::ready(Error::badRequest(QStringLiteral("q is too long"), QStringLiteral("q")));
        return router.authenticated(
            c,
            [q, n = *limit](QSqlDatabase &db, const User &) -> Result<ApiResponse> {
                auto users = store::searchUsers(db, q, n);
                if (!users)
                    return users.error();
                return ApiResponse::json(Page<User> {*users, std::nullopt}).withETag();
            },
            ReadFrom::Replica);
    });
    router.add(Method::Get, QStringLiteral("/api/v1/users/{id}"), [&router](const Call &c, const QList<qint64> &ids) {
        const Id id = ids[0];
        const Error notFound {ErrorCode::NotFound, QStringLiteral("user not found"), {}};
        return router.cached(c, CacheKey {"user", "user:" + QByteArray::number(id), {versions::user(id)}, notFound},
                             [id, notFound](QSqlDatabase &db, const User &) -> Result<CachedRead> {
                                 auto user = store::userById(db, id);
                                 if (!user)
                                     return user.error();
                                 if (!user->has_value())
                                     return notFound;
                                 return CachedRead {ApiResponse::json(**user), true, {}};
                             });
    });
}

ApiFuture AuthController::registerAction(ApiRouter &router, const Call &call)
{
    auto request = decodeBody<RegisterRequest>(call);
    if (!request)
        return ApiRouter::ready(request.error());
    const Services &s = router.services();
    const RegisterRequest r = *request;
    // Hash on the credentials pool, then store user and session in one database job.
    return s.credentials->hash(r.password)
        .then(&router,
              [&router, r](const QString &hash) -> ApiFuture {
                  const Services &sv = router.services();
                  if (hash.isEmpty())
                      return ApiRouter::ready(Error {ErrorCode::Unavailable, QStringLiteral("try again"), {}});
                  const qint64 now = sv.nowMs();
                  const qint64 ttl = sv.sessionTtlMs;
                  return sv.db->query([r, hash, now, ttl](QSqlDatabase &db) -> Result<ApiResponse> {
                      auto user = store::createUser(db, r.username, r.displayName, hash, now);
                      if (!user)
                          return user.error();
                      auto token = openSession(db, user->id, now, ttl);
                      if (!token)
                          return token.error();
                      return ApiResponse::json(AuthResponse {*user, *token}, 201);
                  });
              })
        .unwrap();
}

ApiFuture AuthController::loginAction(ApiRouter &router, const Call &call)
{
    auto request = decodeBody<LoginRequest>(call);
    if (!request)
        return ApiRouter::ready(request.error());
    const LoginRequest r = *request;
    const Services &s = router.services();
    // 1. credentials from the database; 2. verify on the hashing pool (also for unknown names, so
    //    timing tells nothing); 3. open the session.
    return s.db
        ->query([username = r.username](QSqlDatabase &db) -> Result<std::optional<store::Credentials>> {
            return store::credentialsFor(db, username);
        })
        .then(&router,
              [&router, r](const Result<std::optional<store::Credentials>> &found) -> ApiFuture {
                  if (!found)
                      return ApiRouter::ready(found.error());
                  const std::optional<store::Credentials> creds = *found;
                  const QString stored = creds ? creds->passwordHash : QString();
                  return router.services()
                      .credentials->verify(stored, r.password)
                      .then(&router,
                            [&router, creds](bool ok) -> ApiFuture {
                                if (!ok || !creds)
                                    return ApiRouter::ready(Error {
                                        ErrorCode::Unauthorized, QStringLiteral("wrong username or password"), {}});
                                const Services &sv = router.services();
                                const qint64 now = sv.nowMs();
                                const qint64 ttl = sv.sessionTtlMs;
                                const User user = creds->user;
                                return sv.db->query([user, now, ttl](QSqlDatabase &db) -> Result<ApiResponse> {
                                    auto token = openSession(db, user.id, now, ttl);
                                    if (!token)
                                        return token.error();
                                    return ApiResponse::json(AuthResponse {user, *token});
                                });
                            })
                      .unwrap();
              })
        .unwrap();
}

ApiFuture AuthController::logoutAction(ApiRouter &router, const Call &call)
{
    const QByteArray digest = Credentials::tokenDigest(QString::fromLatin1(call.bearerToken));
    EventSink *sink = router.services().events;
    // Delete the row, close the token's sockets on every instance, then make every instance's
    // session cache refuse it, all before the 204.
    auto promise = std::make_shared<QPromise<Result<ApiResponse>>>();
    promise->start();
    ApiFuture future = promise->future();
    router
        .authenticated(call,
                       [digest, sink](QSqlDatabase &db, const User &) -> Result<ApiResponse> {
                           if (auto e = store::deleteSession(db, digest))
                               return *e;
                           sink->revokeToken(digest);
                           return ApiResponse::noContent();
                       })
        .then(&router, [&router, digest, promise](const Result<ApiResponse> &result) {
            auto settle = [promise, result] {
                promise->addResult(result);
                promise->finish();
            };
            if (!result) {
                settle();
                return;
            }
            router.services().sessions->revoke(digest, settle);
        });
    return future;
}

} // namespace taskmaster::server
