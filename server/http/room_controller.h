// RoomController: rooms, their members, read markers and messages over REST (docs/protocol.md).
// A room the caller does not belong to answers 404. The latest page of a room is a cached read;
// older pages, room lists and single rooms are read directly (lists from the read replica).
// Writes report their events to the EventSink and name the cache versions they change.
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

class RoomController final {
public:
    struct Deps {
        AuthenticatedQueries &queries;
        CachedReads &cachedReads;
        EventSink &events; // member and message events of committed writes
        std::function<qint64()> nowMs;
    };

    explicit RoomController(Deps deps) : m_deps(std::move(deps)) { }

    void addRoutes(ApiRouter &router);
    // Puts the latest page (default limit) of these rooms in the cache unless it is there.
    void warm(const QList<Id> &roomIds);

private:
    [[nodiscard]] ApiFuture listAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture createAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture roomAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture addMemberAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture removeMemberAction(const Call &c, const PathIds &ids);
    // The latest page is a cached read; older pages (before/after) are read from the replica.
    [[nodiscard]] ApiFuture historyAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture sendAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture markReadAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture editMessageAction(const Call &c, const PathIds &ids);
    [[nodiscard]] ApiFuture deleteMessageAction(const Call &c, const PathIds &ids);

    Deps m_deps;
};

} // namespace taskmaster::server
