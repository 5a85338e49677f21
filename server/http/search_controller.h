// SearchController: GET /api/v1/search (messages and tasks the caller can see, from the read
// replica) and GET /api/v1/admin/stats (admins only: the instance's live figures: database pool,
// totals, uptime, and the real-time layer's figures when there are any).
// Owns: nothing. Thread: network thread (routes), database workers (the work).
#pragma once

#include "server/http/api.h"

#include <functional>

namespace taskmaster::server {

class ApiRouter;
class AuthenticatedQueries;
class DbPool;

class SearchController final {
public:
    struct Deps {
        AuthenticatedQueries &queries;
        DbPool &primary; // its pool figures
        QString instanceName;
        std::function<QByteArray()> realtimeStats; // a JSON object; empty function: none
    };

    explicit SearchController(Deps deps);

    void addRoutes(ApiRouter &router);

private:
    [[nodiscard]] ApiFuture searchAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture statsAction(const Call &c, const PathIds &ids);

    Deps m_deps;
    qint64 m_startedMs; // uptime from here
};

} // namespace taskmaster::server
