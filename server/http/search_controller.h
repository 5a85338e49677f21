// SearchController: GET /api/v1/search (messages and tasks the caller can see) and
// GET /api/v1/admin/stats (admins only: the instance's live figures known so far: database pool,
// totals, uptime; the hub and cluster add theirs). Thread: network thread (routes), database
// workers (the work).
#pragma once

#include "server/http/api_router.h"

namespace taskmaster::server {

class SearchController final {
public:
    static void addRoutes(ApiRouter &router, const QString &instanceName);
};

} // namespace taskmaster::server
