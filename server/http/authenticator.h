// Authenticator: who calls an authenticated route. The bearer token resolves to its user through
// Sessions (401 when missing, unknown or expired; 503 when the session store cannot tell), then
// one token of that user's API rate is taken (429 with Retry-After when there is none).
// Owns: the per-user API rate limit. Thread: network thread (done runs on it).
#pragma once

#include "server/http/api.h"
#include "server/http/rate_limit.h"
#include "shared/domain/types.h"

#include <QObject>

#include <functional>

namespace taskmaster::server {

class Sessions;

class Authenticator final : public QObject {
    Q_OBJECT
public:
    // apiRate: the "api" scope, keyed by user id.
    Authenticator(Sessions &sessions, RateLimit apiRate, QObject *parent = nullptr);

    // The caller, or why not (401, 429, 503).
    void authenticate(const Call &call, std::function<void(Result<User>)> done);

private:
    Sessions &m_sessions;
    RateLimit m_apiRate;
};

} // namespace taskmaster::server
