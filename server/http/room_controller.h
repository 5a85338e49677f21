// RoomController: rooms, their members, read markers and messages over REST (PROTOCOL.md).
// A room the caller does not belong to answers 404. Thread: network thread (routes), database
// workers (the work).
#pragma once

#include "server/http/api_router.h"

namespace taskmaster::server {

class RoomController final {
public:
    static void addRoutes(ApiRouter &router);
    // Puts the latest page (default limit) of these rooms in the cache unless it is there.
    static void warm(ApiRouter &router, const QList<Id> &roomIds);
};

} // namespace taskmaster::server
