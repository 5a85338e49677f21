// The REST requests of the client (docs/protocol.md, "REST"), each typed with the body it answers:
// RestClient::send(api::room(12), ...) hands the callback a Room decoded from a 2xx answer.
// One function per request the client makes; building one sends nothing.
// Owns: nothing (plain values). Thread: any.
#pragma once

#include "shared/codec/rest_json.h"
#include "shared/domain/types.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QVariantMap>

#include <utility>

namespace taskmaster::client {

// The answer of a request whose body the client does not read (204, or one it ignores).
struct NoContent { };

// A request whose 2xx answer decodes as T (NoContent: not decoded; QVariantMap: any JSON object).
template<typename T> struct Request {
    using Answer = T;
    QByteArray method;
    QString path; // and query, e.g. "/api/v1/rooms?limit=200"
    QByteArray body; // JSON, empty for none
    QList<std::pair<QByteArray, QByteArray>> headers = {};
};

namespace api {

// ---- session
Request<User> me();
Request<AuthResponse> login(const LoginRequest &body);
Request<AuthResponse> registerAccount(const RegisterRequest &body);
Request<NoContent> logout();

// ---- rooms and messages
Request<Page<Room>> rooms();
Request<Room> room(Id roomId);
Request<Room> createRoom(const CreateRoomRequest &body);
Request<NoContent> addRoomMember(Id roomId, Id userId);
// POST /direct-rooms: the one-to-one room with userId (created by the first call, 201; then 200).
Request<Room> openDirectRoom(Id userId);
Request<HistoryPage> history(Id roomId, const HistoryQuery &query);
Request<Message> editMessage(Id messageId, const QString &body);
Request<Message> deleteMessage(Id messageId);
Request<NoContent> markRead(Id roomId, Seq seq);

// ---- projects and tasks
Request<Page<Project>> projects();
Request<Project> createProject(const CreateProjectRequest &body);
Request<NoContent> addProjectMember(Id projectId, Id userId);
Request<Page<Task>> tasks(Id projectId, const TaskListQuery &query);
Request<Task> task(Id taskId);
Request<Task> createTask(Id projectId, const CreateTaskRequest &body);
// ifMatch > 0: only when the task is still at that version (else 412).
Request<Task> patchTask(Id taskId, const PatchTaskRequest &body, qint64 ifMatch = 0);
Request<NoContent> deleteTask(Id taskId);

// ---- users, search, admin
Request<User> user(Id userId);
Request<Page<User>> users(const QString &prefix, int limit);
Request<SearchResult> search(const SearchQuery &query);
Request<QVariantMap> adminStats();

} // namespace api

} // namespace taskmaster::client
