#include "server/http/room_controller.h"

#include "server/cache/cache.h"
#include "server/http/api_router.h"
#include "server/http/authenticated_queries.h"
#include "server/http/cached_reads.h"
#include "server/storage/room_store.h"
#include "server/storage/sql.h"
#include "server/ws/event_sink.h"
#include "shared/codec/rest_json.h"

namespace taskmaster::server {

namespace {
using Method = QHttpServerRequest::Method;

Error roomNotFound()
{
    return Error {ErrorCode::NotFound, QStringLiteral("room not found"), {}};
}

CacheKey latestPageKey(Id roomId, int limit)
{
    return CacheKey {"messages",
                     "messages:" + QByteArray::number(roomId) + ':' + QByteArray::number(limit),
                     {versions::room(roomId)},
                     roomNotFound()};
}

// The latest page as `caller` reads it (nullopt: as any member does, for warming), with the
// room's members as the audience of the cached value.
Result<CachedRead> latestPage(QSqlDatabase &db, Id roomId, int limit, std::optional<Id> caller)
{
    auto members = store::roomMemberIds(db, roomId);
    if (!members)
        return members.error();
    if (!caller && members->isEmpty())
        return roomNotFound();
    auto page = store::history(db, roomId, caller.value_or(members->constFirst()), std::nullopt, std::nullopt, limit);
    if (!page)
        return page.error();
    return CachedRead {ApiResponse::json(HistoryPage {page->items, page->hasMore}), false, *members};
}

} // namespace

void RoomController::warm(const QList<Id> &roomIds)
{
    for (Id roomId : roomIds) {
        m_deps.cachedReads.warm(latestPageKey(roomId, limits::kPageDefault), [roomId](QSqlDatabase &db) {
            return latestPage(db, roomId, limits::kPageDefault, std::nullopt);
        });
    }
}

void RoomController::addRoutes(ApiRouter &router)
{
    router.add(Method::Get, QStringLiteral("/api/v1/rooms"), this, &RoomController::listAction);
    router.add(Method::Post, QStringLiteral("/api/v1/rooms"), this, &RoomController::createAction);
    router.add(Method::Get, QStringLiteral("/api/v1/rooms/{id}"), this, &RoomController::roomAction);
    router.add(Method::Post, QStringLiteral("/api/v1/rooms/{id}/members"), this, &RoomController::addMemberAction);
    router.add(Method::Delete, QStringLiteral("/api/v1/rooms/{id}/members/{id}"), this,
               &RoomController::removeMemberAction);
    router.add(Method::Get, QStringLiteral("/api/v1/rooms/{id}/messages"), this, &RoomController::historyAction);
    router.add(Method::Post, QStringLiteral("/api/v1/rooms/{id}/messages"), this, &RoomController::sendAction);
    router.add(Method::Post, QStringLiteral("/api/v1/rooms/{id}/read"), this, &RoomController::markReadAction);
    router.add(Method::Patch, QStringLiteral("/api/v1/messages/{id}"), this, &RoomController::editMessageAction);
    router.add(Method::Delete, QStringLiteral("/api/v1/messages/{id}"), this, &RoomController::deleteMessageAction);
}

ApiFuture RoomController::listAction(const Call &c, const PathIds &)
{
    return m_deps.queries.run(
        c,
        [](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
            auto rooms = store::roomsForUser(db, me.id);
            if (!rooms)
                return rooms.error();
            return ApiResponse::json(Page<Room> {*rooms, std::nullopt}).withETag();
        },
        ReadFrom::Replica);
}

ApiFuture RoomController::createAction(const Call &c, const PathIds &)
{
    auto req = decodeBody<CreateRoomRequest>(c);
    if (!req)
        return answerNow(req.error());
    return m_deps.queries.run(
        c,
        [r = *req, now = m_deps.nowMs(), sink = &m_deps.events](QSqlDatabase &db,
                                                                const User &me) -> Result<ApiResponse> {
            auto created = store::createRoom(db, me.id, r.name, r.memberIds, now);
            if (!created)
                return created.error();
            // One member_joined per member, the creator first (as the store appended them).
            QList<ChannelEvent> joined;
            const Channel ch = Channel::room(created->room.id);
            QList<Id> members {me.id};
            for (Id m : r.memberIds) {
                if (!members.contains(m))
                    members.append(m);
            }
            for (qsizetype i = 0; i < members.size(); ++i)
                joined.append(events::member(EventType::MemberJoined, ch, created->firstSeq + i, members.at(i)));
            sink->publish(std::move(joined));
            return ApiResponse::json(created->room, 201);
        });
}

ApiFuture RoomController::roomAction(const Call &c, const PathIds &ids)
{
    return m_deps.queries.run(c, [roomId = ids[0]](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
        auto room = store::roomForMember(db, roomId, me.id);
        if (!room)
            return room.error();
        if (!room->has_value())
            return roomNotFound();
        return ApiResponse::json(**room).withETag();
    });
}

ApiFuture RoomController::addMemberAction(const Call &c, const PathIds &ids)
{
    auto req = decodeBody<AddMemberRequest>(c);
    if (!req)
        return answerNow(req.error());
    return m_deps.queries.run(
        c,
        [roomId = ids[0], userId = req->userId, now = m_deps.nowMs(),
         sink = &m_deps.events](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
            auto added = store::addRoomMember(db, roomId, me.id, userId, now);
            if (!added)
                return added.error();
            sink->publish({events::member(EventType::MemberJoined, Channel::room(roomId), added->firstSeq, userId)});
            return ApiResponse::json(added->room).invalidating({versions::room(roomId)});
        });
}

ApiFuture RoomController::removeMemberAction(const Call &c, const PathIds &ids)
{
    return m_deps.queries.run(
        c,
        [roomId = ids[0], userId = ids[1], now = m_deps.nowMs(),
         sink = &m_deps.events](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
            auto removed = store::removeRoomMember(db, roomId, me.id, userId, now);
            if (!removed)
                return removed.error();
            sink->publish({events::member(EventType::MemberLeft, Channel::room(roomId), removed->firstSeq, userId)});
            return ApiResponse::noContent().invalidating({versions::room(roomId)});
        });
}

ApiFuture RoomController::historyAction(const Call &c, const PathIds &ids)
{
    auto q = parseHistoryQuery(c.query);
    if (!q)
        return answerNow(q.error());
    const Id roomId = ids[0];
    if (q->before || q->after) {
        // Older pages: read once while scrolling back, not worth a cache entry.
        return m_deps.queries.run(
            c,
            [roomId, q = *q](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
                auto page = store::history(db, roomId, me.id, q.before, q.after, q.limit);
                if (!page)
                    return page.error();
                return ApiResponse::json(HistoryPage {page->items, page->hasMore}).withETag();
            },
            ReadFrom::Replica);
    }
    // The latest page, what every client opening the room asks for: cached per room and limit.
    return m_deps.cachedReads.get(c, latestPageKey(roomId, q->limit),
                                  [roomId, limit = q->limit](QSqlDatabase &db, const User &me) -> Result<CachedRead> {
                                      return latestPage(db, roomId, limit, me.id);
                                  });
}

ApiFuture RoomController::sendAction(const Call &c, const PathIds &ids)
{
    auto req = decodeBody<SendMessageRequest>(c);
    if (!req)
        return answerNow(req.error());
    return m_deps.queries.run(
        c,
        [roomId = ids[0], r = *req, now = m_deps.nowMs(),
         sink = &m_deps.events](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
            auto stored = store::insertMessages(
                db, {store::NewMessage {roomId, me.id, r.body, r.clientId, r.attachmentIds}}, now);
            if (!stored) {
                if (sql::outcomeUnknown(stored.error()))
                    sink->writeInDoubt({roomId}, {}, now);
                return stored.error();
            }
            const auto &item = stored->constFirst();
            if (!item)
                return item.error();
            // Also for a repeated clientId: the first attempt may have been committed by an
            // instance that died before publishing it (receivers drop the repeat by seq).
            sink->publish({events::message(EventType::MessageCreated, item->message.seq, item->message)});
            // A repeated clientId answers the first message: 200 instead of 201, nothing new.
            return ApiResponse::json(item->message, item->duplicate ? 200 : 201).invalidating({versions::room(roomId)});
        });
}

ApiFuture RoomController::markReadAction(const Call &c, const PathIds &ids)
{
    auto req = decodeBody<ReadMarkerRequest>(c);
    if (!req)
        return answerNow(req.error());
    return m_deps.queries.run(
        c, [roomId = ids[0], seq = req->seq](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
            auto marker = store::markRead(db, roomId, me.id, seq);
            if (!marker)
                return marker.error();
            return ApiResponse::noContent();
        });
}

ApiFuture RoomController::editMessageAction(const Call &c, const PathIds &ids)
{
    auto req = decodeBody<EditMessageRequest>(c);
    if (!req)
        return answerNow(req.error());
    return m_deps.queries.run(
        c,
        [messageId = ids[0], text = req->body, now = m_deps.nowMs(),
         sink = &m_deps.events](QSqlDatabase &db, const User &me) -> Result<ApiResponse> {
            auto edited = store::editMessage(db, messageId, me.id, text, now);
            if (!edited) {
                if (sql::outcomeUnknown(edited.error()))
                    sink->writeInDoubt({}, {messageId}, now);
                return edited.error();
            }
            sink->publish({events::message(EventType::MessageUpdated, edited->eventSeq, edited->message)});
            return ApiResponse::json(edited->message).invalidating({versions::room(edited->message.roomId)});
        });
}

ApiFuture RoomController::deleteMessageAction(const Call &c, const PathIds &ids)
{
    return m_deps.queries.run(
        c,
        [messageId = ids[0], now = m_deps.nowMs(), sink = &m_deps.events](QSqlDatabase &db,
                                                                          const User &me) -> Result<ApiResponse> {
            auto deleted = store::deleteMessage(db, messageId, me.id, now);
            if (!deleted) {
                if (sql::outcomeUnknown(deleted.error()))
                    sink->writeInDoubt({}, {messageId}, now);
                return deleted.error();
            }
            if (deleted->eventSeq > 0)
                sink->publish({events::message(EventType::MessageUpdated, deleted->eventSeq, deleted->message)});
            return ApiResponse::json(deleted->message).invalidating({versions::room(deleted->message.roomId)});
        });
}

} // namespace taskmaster::server
