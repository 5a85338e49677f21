#include "server/http/direct_room_controller.h"

#include "server/http/api_router.h"
#include "server/http/authenticated_queries.h"
#include "server/storage/direct_room_store.h"
#include "server/ws/event_sink.h"
#include "shared/codec/rest_json.h"

namespace taskmaster::server {

void DirectRoomController::addRoutes(ApiRouter &router)
{
    router.add(QHttpServerRequest::Method::Post, QStringLiteral("/api/v1/direct-rooms"), this,
               &DirectRoomController::openAction);
}

ApiFuture DirectRoomController::openAction(const Call &c, const PathIds &)
{
    // Same body as adding a member: {"userId"}, a positive integer.
    auto req = decodeBody<AddMemberRequest>(c);
    if (!req)
        return answerNow(req.error());
    return m_deps.queries.run(c,
                              [userId = req->userId, now = m_deps.nowMs(),
                               sink = &m_deps.events](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
                                  auto opened = store::openDirectRoom(db, me.id, userId, now);
                                  if (!opened)
                                      return opened.error();
                                  if (!opened->created)
                                      return ApiResponse::json(opened->write.room);
                                  const Channel ch = Channel::room(opened->write.room.id);
                                  const Seq first = opened->write.firstSeq;
                                  sink->publish({events::member(EventType::MemberJoined, ch, first, me.id),
                                                 events::member(EventType::MemberJoined, ch, first + 1, userId)});
                                  return ApiResponse::json(opened->write.room, 201);
                              });
}

} // namespace taskmaster::server
