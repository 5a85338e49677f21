#include "client-qml/net/api_requests.h"

#include "shared/codec/json_writer.h"
#include "shared/codec/resource_json.h"

#include <QUrl>
#include <QUrlQuery>

namespace taskmaster::client::api {

namespace {

template<typename T> Request<T> get(const QString &path)
{
    return {QByteArrayLiteral("GET"), path, {}};
}

template<typename T> Request<T> post(const QString &path, const QByteArray &body)
{
    return {QByteArrayLiteral("POST"), path, body};
}

QString withQuery(const QString &path, const QUrlQuery &query)
{
    return path + QLatin1Char('?') + query.toString(QUrl::FullyEncoded);
}

} // namespace

Request<User> me()
{
    return get<User>(QStringLiteral("/api/v1/me"));
}

Request<AuthResponse> login(const LoginRequest &body)
{
    return post<AuthResponse>(QStringLiteral("/api/v1/auth/login"), toJson(body));
}

Request<AuthResponse> registerAccount(const RegisterRequest &body)
{
    return post<AuthResponse>(QStringLiteral("/api/v1/auth/register"), toJson(body));
}

Request<NoContent> logout()
{
    return post<NoContent>(QStringLiteral("/api/v1/auth/logout"), {});
}

Request<Page<Room>> rooms()
{
    return get<Page<Room>>(QStringLiteral("/api/v1/rooms?limit=200"));
}

Request<Room> room(Id roomId)
{
    return get<Room>(QStringLiteral("/api/v1/rooms/%1").arg(roomId));
}

Request<Room> createRoom(const CreateRoomRequest &body)
{
    return post<Room>(QStringLiteral("/api/v1/rooms"), toJson(body));
}

Request<NoContent> addRoomMember(Id roomId, Id userId)
{
    return post<NoContent>(QStringLiteral("/api/v1/rooms/%1/members").arg(roomId), toJson(AddMemberRequest {userId}));
}

Request<Room> openDirectRoom(Id userId)
{
    return post<Room>(QStringLiteral("/api/v1/direct-rooms"), toJson(AddMemberRequest {userId}));
}

Request<HistoryPage> history(Id roomId, const HistoryQuery &query)
{
    return get<HistoryPage>(withQuery(QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId), toQuery(query)));
}

Request<Message> editMessage(Id messageId, const QString &body)
{
    return {QByteArrayLiteral("PATCH"), QStringLiteral("/api/v1/messages/%1").arg(messageId),
            toJson(EditMessageRequest {body})};
}

Request<Message> deleteMessage(Id messageId)
{
    return {QByteArrayLiteral("DELETE"), QStringLiteral("/api/v1/messages/%1").arg(messageId), {}};
}

Request<NoContent> markRead(Id roomId, Seq seq)
{
    return post<NoContent>(QStringLiteral("/api/v1/rooms/%1/read").arg(roomId), toJson(ReadMarkerRequest {seq}));
}

Request<Page<Project>> projects()
{
    return get<Page<Project>>(QStringLiteral("/api/v1/projects?limit=200"));
}

Request<Project> createProject(const CreateProjectRequest &body)
{
    return post<Project>(QStringLiteral("/api/v1/projects"), toJson(body));
}

Request<NoContent> addProjectMember(Id projectId, Id userId)
{
    return post<NoContent>(QStringLiteral("/api/v1/projects/%1/members").arg(projectId),
                           toJson(AddMemberRequest {userId}));
}

Request<Page<Task>> tasks(Id projectId, const TaskListQuery &query)
{
    return get<Page<Task>>(withQuery(QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId), toQuery(query)));
}

Request<Task> task(Id taskId)
{
    return get<Task>(QStringLiteral("/api/v1/tasks/%1").arg(taskId));
}

Request<Task> createTask(Id projectId, const CreateTaskRequest &body)
{
    return post<Task>(QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId), toJson(body));
}

Request<Task> patchTask(Id taskId, const PatchTaskRequest &body, qint64 ifMatch)
{
    Request<Task> r {QByteArrayLiteral("PATCH"), QStringLiteral("/api/v1/tasks/%1").arg(taskId), toJson(body)};
    if (ifMatch > 0)
        r.headers.append({QByteArrayLiteral("If-Match"), QByteArray::number(ifMatch)});
    return r;
}

Request<NoContent> deleteTask(Id taskId)
{
    return {QByteArrayLiteral("DELETE"), QStringLiteral("/api/v1/tasks/%1").arg(taskId), {}};
}

Request<User> user(Id userId)
{
    return get<User>(QStringLiteral("/api/v1/users/%1").arg(userId));
}

Request<Page<User>> users(const QString &prefix, int limit)
{
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("q"), prefix);
    q.addQueryItem(QStringLiteral("limit"), QString::number(limit));
    return get<Page<User>>(withQuery(QStringLiteral("/api/v1/users"), q));
}

Request<SearchResult> search(const SearchQuery &query)
{
    return get<SearchResult>(withQuery(QStringLiteral("/api/v1/search"), toQuery(query)));
}

Request<QVariantMap> adminStats()
{
    return get<QVariantMap>(QStringLiteral("/api/v1/admin/stats"));
}

} // namespace taskmaster::client::api
