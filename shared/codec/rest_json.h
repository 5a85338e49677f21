// REST bodies of docs/protocol.md: request structs (decoded by the server with fromJson<T>(body), which
// applies the field rules of validation.h; encoded by clients with toJson(request)), response
// bodies (encoded by the server, decoded by clients), the error body, and the query parameters of
// the list routes with their opaque page cursor.
// Request decoding: body over limits::kBodyBytesMax -> PayloadTooLarge; not JSON / not an object
// -> BadRequest; missing field, wrong type or broken rule -> ValidationFailed with the field
// (PayloadTooLarge, field "body", for a message body over 8192 characters); a PATCH with no field
// to change -> ValidationFailed without field. Unknown fields are ignored.
// Query parameters: any problem -> BadRequest with the parameter as field; an empty value
// ("?status=") counts as absent; a parameter given twice is a BadRequest.
// Thread: any (pure functions).
#pragma once

#include "shared/codec/json_reader.h"
#include "shared/codec/json_writer.h"
#include "shared/codec/resource_json.h"
#include "shared/domain/types.h"

#include <QMap>
#include <QUrlQuery>

namespace taskmaster {

// ---- Requests ------------------------------------------------------------------------------

// POST /api/v1/auth/register. username is case-folded (foldUsername) when decoded.
struct RegisterRequest {
    QString username;
    QString password;
    QString displayName;
    friend bool operator==(const RegisterRequest &, const RegisterRequest &) = default;
};

// POST /api/v1/auth/login. Only JSON types are checked (and username folded): a value outside the
// registration rules simply does not match, which answers 401 like any wrong credential.
struct LoginRequest {
    QString username;
    QString password;
    friend bool operator==(const LoginRequest &, const LoginRequest &) = default;
};

// POST /api/v1/projects. description is optional (empty when absent).
struct CreateProjectRequest {
    QString name;
    QString description;
    friend bool operator==(const CreateProjectRequest &, const CreateProjectRequest &) = default;
};

// PATCH /api/v1/projects/{id}: the fields to change.
struct PatchProjectRequest {
    std::optional<QString> name;
    std::optional<QString> description;
    friend bool operator==(const PatchProjectRequest &, const PatchProjectRequest &) = default;
};

// POST /api/v1/projects/{id}/members and /api/v1/rooms/{id}/members.
struct AddMemberRequest {
    Id userId = 0;
    friend bool operator==(const AddMemberRequest &, const AddMemberRequest &) = default;
};

// POST /api/v1/projects/{id}/tasks. Absent fields take the defaults below; assigneeId and
// dueDate may be absent or null.
struct CreateTaskRequest {
    QString title;
    QString description;
    TaskStatus status = TaskStatus::Todo;
    TaskPriority priority = TaskPriority::Medium;
    std::optional<Id> assigneeId;
    std::optional<QDate> dueDate;
    QList<Id> attachmentIds {}; // the caller's uploads (docs/protocol.md section 6.8); absent: none
    friend bool operator==(const CreateTaskRequest &, const CreateTaskRequest &) = default;
};

// PATCH /api/v1/tasks/{id}: the fields to change. assigneeId and dueDate are tri-state:
// absent (unchanged), null (cleared) or a value.
struct PatchTaskRequest {
    std::optional<QString> title;
    std::optional<QString> description;
    std::optional<TaskStatus> status;
    std::optional<TaskPriority> priority;
    Patch<Id> assigneeId;
    Patch<QDate> dueDate;
    std::optional<QList<Id>> attachmentIds {}; // given: replaces the task's attachments
    friend bool operator==(const PatchTaskRequest &, const PatchTaskRequest &) = default;
};

// POST /api/v1/rooms. memberIds may be absent (empty); at most limits::kRoomMembersMax.
struct CreateRoomRequest {
    QString name;
    QList<Id> memberIds;
    friend bool operator==(const CreateRoomRequest &, const CreateRoomRequest &) = default;
};

// POST /api/v1/rooms/{id}/messages. clientId may be absent or null.
struct SendMessageRequest {
    QString body;
    std::optional<QString> clientId;
    QList<Id> attachmentIds {}; // the caller's uploads (docs/protocol.md section 6.8); absent: none
    friend bool operator==(const SendMessageRequest &, const SendMessageRequest &) = default;
};

// PATCH /api/v1/messages/{id}.
struct EditMessageRequest {
    QString body;
    friend bool operator==(const EditMessageRequest &, const EditMessageRequest &) = default;
};

// POST /api/v1/rooms/{id}/read.
struct ReadMarkerRequest {
    Seq seq = 0;
    friend bool operator==(const ReadMarkerRequest &, const ReadMarkerRequest &) = default;
};

// ---- Responses -----------------------------------------------------------------------------

// 201/200 of register and login: {"user": User, "token": "..."}.
struct AuthResponse {
    User user;
    QString token;
    friend bool operator==(const AuthResponse &, const AuthResponse &) = default;
};

// Every non-2xx response: {"error":{"code","message","field"?}}.
struct ErrorBody {
    Error error;
    friend bool operator==(const ErrorBody &, const ErrorBody &) = default;
};

// A cursor page: {"items":[...],"nextCursor":"..."|null}.
template<typename T> struct Page {
    QList<T> items;
    std::optional<QString> nextCursor;
    friend bool operator==(const Page &, const Page &) = default;
};

// A page of room history by seq: {"items":[Message...],"hasMore":bool}, ascending seq.
struct HistoryPage {
    QList<Message> items;
    bool hasMore = false;
    friend bool operator==(const HistoryPage &, const HistoryPage &) = default;
};

// GET /api/v1/search: {"messages":[...],"tasks":[...]}.
struct SearchResult {
    QList<Message> messages;
    QList<Task> tasks;
    friend bool operator==(const SearchResult &, const SearchResult &) = default;
};

// GET /health and /health/ready: {"status":"ok"} or {"status":"...","checks":{"database":"ok",...}}
// ("checks" is written only when not empty).
struct HealthBody {
    QString status;
    QMap<QString, QString> checks;
    friend bool operator==(const HealthBody &, const HealthBody &) = default;
};

void writeJson(JsonWriter &w, const RegisterRequest &v);
void writeJson(JsonWriter &w, const LoginRequest &v);
void writeJson(JsonWriter &w, const CreateProjectRequest &v);
void writeJson(JsonWriter &w, const PatchProjectRequest &v);
void writeJson(JsonWriter &w, const AddMemberRequest &v);
void writeJson(JsonWriter &w, const CreateTaskRequest &v);
void writeJson(JsonWriter &w, const PatchTaskRequest &v);
void writeJson(JsonWriter &w, const CreateRoomRequest &v);
void writeJson(JsonWriter &w, const SendMessageRequest &v);
void writeJson(JsonWriter &w, const EditMessageRequest &v);
void writeJson(JsonWriter &w, const ReadMarkerRequest &v);
void writeJson(JsonWriter &w, const AuthResponse &v);
void writeJson(JsonWriter &w, const ErrorBody &v);
void writeJson(JsonWriter &w, const HistoryPage &v);
void writeJson(JsonWriter &w, const SearchResult &v);
void writeJson(JsonWriter &w, const HealthBody &v);

void readJson(JsonReader &r, RegisterRequest &v);
void readJson(JsonReader &r, LoginRequest &v);
void readJson(JsonReader &r, CreateProjectRequest &v);
void readJson(JsonReader &r, PatchProjectRequest &v);
void readJson(JsonReader &r, AddMemberRequest &v);
void readJson(JsonReader &r, CreateTaskRequest &v);
void readJson(JsonReader &r, PatchTaskRequest &v);
void readJson(JsonReader &r, CreateRoomRequest &v);
void readJson(JsonReader &r, SendMessageRequest &v);
void readJson(JsonReader &r, EditMessageRequest &v);
void readJson(JsonReader &r, ReadMarkerRequest &v);
void readJson(JsonReader &r, AuthResponse &v);
void readJson(JsonReader &r, ErrorBody &v);
void readJson(JsonReader &r, HistoryPage &v);
void readJson(JsonReader &r, SearchResult &v);
void readJson(JsonReader &r, HealthBody &v);

template<typename T> void writeJson(JsonWriter &w, const Page<T> &page)
{
    w.beginObject();
    w.key("items").beginArray();
    for (const T &item : page.items)
        writeJson(w, item);
    w.endArray();
    w.key("nextCursor");
    if (page.nextCursor)
        w.string(*page.nextCursor);
    else
        w.null();
    w.endObject();
}

template<typename T> void readJson(JsonReader &r, Page<T> &page)
{
    page.items = r.list<T>("items");
    page.nextCursor = r.nullable<json::String>("nextCursor");
}

// ---- Query parameters ----------------------------------------------------------------------

// Position in a newest-first list (tasks: createdAt descending, then id descending): the last
// item of the page. On the wire it is opaque: base64url (no padding) of "<createdAt ms>|<id>".
struct PageCursor {
    QDateTime createdAt;
    Id id = 0;
    friend bool operator==(const PageCursor &, const PageCursor &) = default;
};
[[nodiscard]] QString encodeCursor(const PageCursor &cursor);
// Anything that encodeCursor did not produce -> BadRequest, field "cursor".
[[nodiscard]] Result<PageCursor> decodeCursor(QStringView text);

// limit: default limits::kPageDefault, larger than limits::kPageMax is clamped; not a decimal
// integer, or <= 0 -> BadRequest, field "limit".
[[nodiscard]] Result<int> limitParam(const QUrlQuery &query);
// A non-negative seq (before, after) or nullopt when absent.
[[nodiscard]] Result<std::optional<Seq>> seqParam(const QUrlQuery &query, const QString &name);
// A positive id (assigneeId) or nullopt when absent.
[[nodiscard]] Result<std::optional<Id>> idParam(const QUrlQuery &query, const QString &name);
[[nodiscard]] Result<std::optional<TaskStatus>> taskStatusParam(const QUrlQuery &query);
[[nodiscard]] Result<std::optional<PageCursor>> cursorParam(const QUrlQuery &query);

// GET /api/v1/projects/{id}/tasks?status=&assigneeId=&cursor=&limit=
struct TaskListQuery {
    std::optional<TaskStatus> status;
    std::optional<Id> assigneeId;
    std::optional<PageCursor> cursor;
    int limit = limits::kPageDefault;
    friend bool operator==(const TaskListQuery &, const TaskListQuery &) = default;
};
[[nodiscard]] Result<TaskListQuery> parseTaskListQuery(const QUrlQuery &query);
[[nodiscard]] QUrlQuery toQuery(const TaskListQuery &q);

// GET /api/v1/rooms/{id}/messages?before=&limit= or ?after=&limit= (both -> BadRequest, field
// "after"); neither: the latest page.
struct HistoryQuery {
    std::optional<Seq> before;
    std::optional<Seq> after;
    int limit = limits::kPageDefault;
    friend bool operator==(const HistoryQuery &, const HistoryQuery &) = default;
};
[[nodiscard]] Result<HistoryQuery> parseHistoryQuery(const QUrlQuery &query);
[[nodiscard]] QUrlQuery toQuery(const HistoryQuery &q);

// GET /api/v1/search?q=&limit= and /api/v1/users?q=&limit=. q is empty when absent (the route
// decides whether that is allowed); when present it must pass validateSearchQuery.
struct SearchQuery {
    QString q;
    int limit = limits::kPageDefault;
    friend bool operator==(const SearchQuery &, const SearchQuery &) = default;
};
[[nodiscard]] Result<SearchQuery> parseSearchQuery(const QUrlQuery &query);
[[nodiscard]] QUrlQuery toQuery(const SearchQuery &q);

} // namespace taskmaster
