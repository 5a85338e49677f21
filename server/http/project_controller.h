// ProjectController: projects, their members and their tasks over REST (PROTOCOL.md).
// A project or task the caller may not see answers 404. Writes answer the resource (201 for a
// create, 200 for a change and a member added) or 204 (deletes, member removed). PATCH takes
// If-Match: <version> ("5" or "\"5\"", "*" for any); anything else in it is a 400 naming If-Match.
// DELETE takes no If-Match (PROTOCOL.md defines it for PATCH only; the stores' deletes have none).
// Thread: network thread (routes), database workers (the work).
#pragma once

#include "server/http/api_router.h"

namespace taskmaster::server {

class ProjectController final {
public:
    static void addRoutes(ApiRouter &router);
    // Puts these projects and their first task page (no filter) in the cache unless they are.
    static void warm(ApiRouter &router, const QList<Id> &projectIds);
};

} // namespace taskmaster::server
