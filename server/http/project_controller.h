// ProjectController: projects, their members and their tasks over REST (docs/protocol.md).
// A project or task the caller may not see answers 404. Writes answer the resource (201 for a
// create, 200 for a change and a member added) or 204 (deletes, member removed). PATCH takes
// If-Match: <version> ("5" or "\"5\"", "*" for any); anything else in it is a 400 naming If-Match.
// DELETE takes no If-Match (docs/protocol.md defines it for PATCH only; the stores' deletes have none).
// A project and its task lists are cached reads; project lists come from the read replica.
// Owns: nothing. Thread: network thread (routes), database workers (the work).
#pragma once

#include "server/http/api.h"
#include "shared/domain/types.h"

#include <functional>

namespace taskmaster::server {

class ApiRouter;
class AuthenticatedQueries;
class CachedReads;
class EventSink;

class ProjectController final {
public:
    struct Deps {
        AuthenticatedQueries &queries;
        CachedReads &cachedReads;
        EventSink &events; // member and task events of committed writes, new and closed channels
        std::function<qint64()> nowMs;
    };

    explicit ProjectController(Deps deps) : m_deps(std::move(deps)) { }

    void addRoutes(ApiRouter &router);
    // Puts these projects and their first task page (no filter) in the cache unless they are.
    void warm(const QList<Id> &projectIds);

private:
    [[nodiscard]] ApiFuture listAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture createAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture projectAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture patchAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture deleteAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture addMemberAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture removeMemberAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture tasksAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture createTaskAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture taskAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture patchTaskAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture deleteTaskAction(const Call &c, const PathIds &ids);

    Deps m_deps;
};

} // namespace taskmaster::server
