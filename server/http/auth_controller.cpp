#include "server/http/auth_controller.h"

#include "server/auth/credentials.h"
#include "server/auth/sessions.h"
#include "server/http/api_router.h"
#include "server/http/authenticated_queries.h"
#include "server/http/pending_answer.h"
#include "server/storage/db_pool.h"
#include "server/storage/user_store.h"
#include "server/ws/event_sink.h"
#include "shared/codec/rest_json.h"

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

AuthController::AuthController(Deps deps, QObject *parent) : QObject(parent), m_deps(std::move(deps)) { }

void AuthController::addRoutes(ApiRouter &router)
{
    router.add(Method::Post, QStringLiteral("/api/v1/auth/register"), [this](const Call &c, const PathIds &) {
        return limitedByAddress(c, [this, c] { return registerAction(c); });
    });
    router.add(Method::Post, QStringLiteral("/api/v1/auth/login"), [this](const Call &c, const PathIds &) {
        return limitedByAddress(c, [this, c] { return loginAction(c); });
    });
    router.add(Method::Post, QStringLiteral("/api/v1/auth/logout"),
               [this](const Call &c, const PathIds &) { return logoutAction(c); });
}

ApiFuture AuthController::limitedByAddress(const Call &call, std::function<ApiFuture()> next)
{
    if (!m_deps.addressRate.enabled())
        return next();
    PendingAnswer answer;
    const QByteArray address = m_deps.proxies.clientAddress(call).toString().toLatin1();
    m_deps.addressRate.take(address, [this, answer, next = std::move(next)](MaybeError refused) {
        if (refused)
            answer.settle(*refused);
        else
            answer.settleFrom(next(), this);
    });
    return answer.future();
}

ApiFuture AuthController::registerAction(const Call &call)
{
    auto request = decodeBody<RegisterRequest>(call);
    if (!request)
        return answerNow(request.error());
    const RegisterRequest r = *request;
    // Hash on the credentials pool, then store user and session in one database job.
    return m_deps.credentials.hash(r.password)
        .then(this,
              [this, r](const QString &hash) -> ApiFuture {
                  if (hash.isEmpty())
                      return answerNow(Error {ErrorCode::Unavailable, QStringLiteral("try again"), {}});
                  const qint64 now = m_deps.nowMs();
                  const qint64 ttl = m_deps.sessionTtlMs;
                  return m_deps.db.query([r, hash, now, ttl](QSqlDatabase &db) -> Result<ApiResponse> {
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

ApiFuture AuthController::loginAction(const Call &call)
{
    auto request = decodeBody<LoginRequest>(call);
    if (!request)
        return answerNow(request.error());
    const LoginRequest r = *request;
    // 1. credentials from the database; 2. verify on the hashing pool (also for unknown names, so
    //    timing tells nothing); 3. open the session.
    return m_deps.db
        .query([username = r.username](QSqlDatabase &db) -> Result<std::optional<store::Credentials>> {
            return store::credentialsFor(db, username);
        })
        .then(this,
              [this, r](const Result<std::optional<store::Credentials>> &found) -> ApiFuture {
                  if (!found)
                      return answerNow(found.error());
                  const std::optional<store::Credentials> creds = *found;
                  const QString stored = creds ? creds->passwordHash : QString();
                  return m_deps.credentials.verify(stored, r.password)
                      .then(this,
                            [this, creds](bool ok) -> ApiFuture {
                                if (!ok || !creds)
                                    return answerNow(Error {
                                        ErrorCode::Unauthorized, QStringLiteral("wrong username or password"), {}});
                                const qint64 now = m_deps.nowMs();
                                const qint64 ttl = m_deps.sessionTtlMs;
                                const User user = creds->user;
                                return m_deps.db.query([user, now, ttl](QSqlDatabase &db) -> Result<ApiResponse> {
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

ApiFuture AuthController::logoutAction(const Call &call)
{
    const QByteArray digest = Credentials::tokenDigest(QString::fromLatin1(call.bearerToken));
    EventSink *sink = &m_deps.events;
    // Delete the row, close the token's sockets on every instance, then make every instance's
    // session cache refuse it, all before the 204.
    ApiFuture deleted = m_deps.queries.run(call, [digest, sink](QSqlDatabase &db, const User &) -> Result<ApiResponse> {
        if (auto e = store::deleteSession(db, digest))
            return *e;
        sink->revokeToken(digest);
        return ApiResponse::noContent();
    });
    Sessions *sessions = &m_deps.sessions;
    return answerAfter(std::move(deleted), this, [sessions, digest](const ApiResponse &, std::function<void()> done) {
        sessions->revoke(digest, std::move(done));
    });
}

} // namespace taskmaster::server
