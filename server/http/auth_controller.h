// AuthController: register, login and logout. Register and login are rate limited per client
// address (--rate-auth); Argon2id runs on the credentials pool, SQL on the database pool; nothing
// blocks the network thread. Logout deletes the session, closes the token's sockets on every
// instance and makes every instance's session cache refuse it, all before its 204.
// Owns: its rate limit and proxy list (values). Thread: network thread (routes), workers (the work).
#pragma once

#include "server/http/api.h"
#include "server/http/rate_limit.h"
#include "server/http/trusted_proxies.h"

#include <QObject>

#include <functional>

namespace taskmaster::server {

class ApiRouter;
class AuthenticatedQueries;
class Credentials;
class DbPool;
class EventSink;
class Sessions;

class AuthController final : public QObject {
    Q_OBJECT
public:
    struct Deps {
        DbPool &db;
        Credentials &credentials;
        Sessions &sessions;
        AuthenticatedQueries &queries; // logout
        EventSink &events; // a logout closes the token's sockets
        RateLimit addressRate; // "auth", keyed by client address
        TrustedProxies proxies; // who the client is behind nginx
        qint64 sessionTtlMs = 0; // sliding
        std::function<qint64()> nowMs;
    };

    explicit AuthController(Deps deps, QObject *parent = nullptr);

    void addRoutes(ApiRouter &router);

private:
    [[nodiscard]] ApiFuture registerAction(const Call &call);
    [[nodiscard]] ApiFuture loginAction(const Call &call);
    [[nodiscard]] ApiFuture logoutAction(const Call &call);
    // next() when the client address is within --rate-auth, else 429.
    [[nodiscard]] ApiFuture limitedByAddress(const Call &call, std::function<ApiFuture()> next);

    Deps m_deps;
};

} // namespace taskmaster::server
