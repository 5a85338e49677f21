// AuthController: register, login, logout, me, and the user routes (search, by id).
// Argon2id runs on the credentials pool, SQL on the database pool; nothing blocks the network
// thread. Thread: network thread (routes), workers (the work).
#pragma once

#include "server/http/api_router.h"

namespace taskmaster::server {

class AuthController final {
public:
    static void addRoutes(ApiRouter &router);

private:
    static ApiFuture registerAction(ApiRouter &router, const Call &call);
    static ApiFuture loginAction(ApiRouter &router, const Call &call);
    static ApiFuture logoutAction(ApiRouter &router, const Call &call);
};

} // namespace taskmaster::server
