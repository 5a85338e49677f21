#include "server/http/rest_api.h"

#include "server/http/api_router.h"
#include "server/http/auth_controller.h"
#include "server/http/authenticated_queries.h"
#include "server/http/authenticator.h"
#include "server/http/cached_reads.h"
#include "server/http/direct_room_controller.h"
#include "server/http/project_controller.h"
#include "server/http/room_controller.h"
#include "server/http/search_controller.h"
#include "server/http/user_controller.h"

#include <QDateTime>

namespace taskmaster::server {

RestApi::RestApi(DbPool &db, Credentials &credentials, Sessions &sessions, EventSink &events, RestApiOptions options)
{
    if (!options.nowMs)
        options.nowMs = [] { return QDateTime::currentMSecsSinceEpoch(); };
    m_router = std::make_unique<ApiRouter>(options.cache, options.metrics);
    m_authenticator = std::make_unique<Authenticator>(sessions, RateLimit(options.limiter, "api", options.apiRate));
    m_queries = std::make_unique<AuthenticatedQueries>(*m_authenticator, db, options.reads);
    m_cachedReads
        = std::make_unique<CachedReads>(*m_authenticator, db, options.cache, options.metrics, options.coalesceMisses);
    m_auth = std::make_unique<AuthController>(AuthController::Deps {
        .db = db,
        .credentials = credentials,
        .sessions = sessions,
        .queries = *m_queries,
        .events = events,
        .addressRate = RateLimit(options.limiter, "auth", options.authRate),
        .proxies = TrustedProxies(options.trustedProxies),
        .sessionTtlMs = options.sessionTtlMs,
        .nowMs = options.nowMs,
    });
    m_users = std::make_unique<UserController>(UserController::Deps {*m_queries, *m_cachedReads});
    m_rooms
        = std::make_unique<RoomController>(RoomController::Deps {*m_queries, *m_cachedReads, events, options.nowMs});
    m_directRooms
        = std::make_unique<DirectRoomController>(DirectRoomController::Deps {*m_queries, events, options.nowMs});
    m_projects = std::make_unique<ProjectController>(
        ProjectController::Deps {*m_queries, *m_cachedReads, events, options.nowMs});
    m_search = std::make_unique<SearchController>(
        SearchController::Deps {*m_queries, db, options.instanceName, options.realtimeStats});
    // The order of the table (a path is matched in it first to last).
    m_auth->addRoutes(*m_router);
    m_users->addRoutes(*m_router);
    m_rooms->addRoutes(*m_router);
    m_directRooms->addRoutes(*m_router);
    m_projects->addRoutes(*m_router);
    m_search->addRoutes(*m_router);
}

RestApi::~RestApi() = default;

void RestApi::warm(const QList<Id> &roomIds, const QList<Id> &projectIds)
{
    m_rooms->warm(roomIds);
    m_projects->warm(projectIds);
}

} // namespace taskmaster::server
