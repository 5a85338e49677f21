// UserController: GET /api/v1/me, /api/v1/users (search by name, from the read replica) and
// /api/v1/users/{id} (cached for every authenticated user).
// Owns: nothing. Thread: network thread (routes), database workers (the work).
#pragma once

#include "server/http/api.h"

namespace taskmaster::server {

class ApiRouter;
class AuthenticatedQueries;
class CachedReads;

class UserController final {
public:
    struct Deps {
        AuthenticatedQueries &queries;
        CachedReads &cachedReads;
    };

    explicit UserController(Deps deps) : m_deps(deps) { }

    void addRoutes(ApiRouter &router);

private:
    [[nodiscard]] ApiFuture meAction(const Call &call, const PathIds &ids);
    [[nodiscard]] ApiFuture searchAction(const Call &call, const PathIds &ids);
    [[nodiscard]] ApiFuture userAction(const Call &call, const PathIds &ids);

    Deps m_deps;
};

} // namespace taskmaster::server
