// DirectRoomController: POST /api/v1/direct-rooms, the one-to-one room of the caller and another
// user (docs/protocol.md section 6.4, "Direct rooms"): 201 when this call created it, 200 when it
// existed. A created room's member_joined events go to the EventSink like any room's, so both
// users' live sockets, on every instance, are subscribed to it.
// Owns: nothing. Thread: network thread (routes), database workers (the work).
#pragma once

#include "server/http/api.h"

#include <functional>

namespace taskmaster::server {

class ApiRouter;
class AuthenticatedQueries;
class EventSink;

class DirectRoomController final {
public:
    struct Deps {
        AuthenticatedQueries &queries;
        EventSink &events; // the member_joined events of a created room
        std::function<qint64()> nowMs;
    };

    explicit DirectRoomController(Deps deps) : m_deps(std::move(deps)) { }

    void addRoutes(ApiRouter &router);

private:
    [[nodiscard]] ApiFuture openAction(const Call &c, const PathIds &ids);

    Deps m_deps;
};

} // namespace taskmaster::server
