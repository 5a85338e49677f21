// RoomController: rooms, their members, read markers and messages over REST (PROTOCOL.md).
// A room the caller does not belong to answers 404. Thread: network thread (routes), database
// workers (the work).
#pragma once

#include "server/http/api_router.h"

namespace taskmaster::server {

class RoomController final {
public:
    static void addRoutes(ApiRouter &router);
};

} // namespace taskmaster::server
