#include "shared/codec/resource_json.h"

namespace taskmaster {

namespace {
void writeAttachments(JsonWriter &w, const QList<Attachment> &attachments)
{
    w.key("attachments").beginArray();
    for (const Attachment &a : attachments)
        writeJson(w, a);
    w.endArray();
}
} // namespace

void writeJson(JsonWriter &w, const User &user)
{
    w.beginObject();
    w.key("id").integer(user.id);
    w.key("username").string(user.username);
    w.key("displayName").string(user.displayName);
    w.key("role").string(toWire(user.role));
    w.key("createdAt").string(formatTimestamp(user.createdAt));
    w.endObject();
}

void readJson(JsonReader &r, User &user)
{
    user.id = r.required<json::Id>("id");
    user.username = r.required<json::String>("username");
    user.displayName = r.required<json::String>("displayName");
    user.role = r.required<json::RoleEnum>("role");
    user.createdAt = r.required<json::Timestamp>("createdAt");
}

void writeJson(JsonWriter &w, const Project &project)
{
    w.beginObject();
    w.key("id").integer(project.id);
    w.key("name").string(project.name);
    w.key("description").string(project.description);
    w.key("ownerId").integer(project.ownerId);
    w.key("createdAt").string(formatTimestamp(project.createdAt));
    w.key("updatedAt").string(formatTimestamp(project.updatedAt));
    w.key("version").integer(project.version);
    w.endObject();
}

void readJson(JsonReader &r, Project &project)
{
    project.id = r.required<json::Id>("id");
    project.name = r.required<json::String>("name");
    project.description = r.required<json::String>("description");
    project.ownerId = r.required<json::Id>("ownerId");
    project.createdAt = r.required<json::Timestamp>("createdAt");
    project.updatedAt = r.required<json::Timestamp>("updatedAt");
    project.version = r.required<json::Id>("version");
}

void writeJson(JsonWriter &w, const Task &task)
{
    w.beginObject();
    w.key("id").integer(task.id);
    w.key("projectId").integer(task.projectId);
    w.key("title").string(task.title);
    w.key("description").string(task.description);
    w.key("status").string(toWire(task.status));
    w.key("priority").string(toWire(task.priority));
    w.key("assigneeId");
    task.assigneeId ? w.integer(*task.assigneeId) : w.null();
    w.key("dueDate");
    task.dueDate ? w.string(formatDate(*task.dueDate)) : w.null();
    w.key("createdBy").integer(task.createdBy);
    w.key("createdAt").string(formatTimestamp(task.createdAt));
    w.key("updatedAt").string(formatTimestamp(task.updatedAt));
    w.key("version").integer(task.version);
    writeAttachments(w, task.attachments);
    w.endObject();
}

void readJson(JsonReader &r, Task &task)
{
    task.id = r.required<json::Id>("id");
    task.projectId = r.required<json::Id>("projectId");
    task.title = r.required<json::String>("title");
    task.description = r.required<json::String>("description");
    task.status = r.required<json::TaskStatusEnum>("status");
    task.priority = r.required<json::TaskPriorityEnum>("priority");
    task.assigneeId = r.nullable<json::Id>("assigneeId");
    task.dueDate = r.nullable<json::Date>("dueDate");
    task.createdBy = r.required<json::Id>("createdBy");
    task.createdAt = r.required<json::Timestamp>("createdAt");
    task.updatedAt = r.required<json::Timestamp>("updatedAt");
    task.version = r.required<json::Id>("version");
    task.attachments = r.optionalList<Attachment>("attachments"); // absent from older servers
}

void writeJson(JsonWriter &w, const Room &room)
{
    w.beginObject();
    w.key("id").integer(room.id);
    w.key("name").string(room.name);
    w.key("kind").string(toWire(room.kind));
    w.key("createdAt").string(formatTimestamp(room.createdAt));
    w.key("lastSeq").integer(room.lastSeq);
    w.key("unread").integer(room.unread);
    if (room.readSeq)
        w.key("readSeq").integer(*room.readSeq);
    w.key("memberIds").beginArray();
    for (Id id : room.memberIds)
        w.integer(id);
    w.endArray();
    w.endObject();
}

void readJson(JsonReader &r, Room &room)
{
    room.id = r.required<json::Id>("id");
    room.name = r.required<json::String>("name");
    room.kind = r.required<json::RoomKindEnum>("kind");
    room.createdAt = r.required<json::Timestamp>("createdAt");
    room.lastSeq = r.required<json::NonNegative>("lastSeq");
    room.unread = r.required<json::NonNegative>("unread");
    room.readSeq = r.optional<json::NonNegative>("readSeq"); // absent from older servers
    room.memberIds = r.required<json::IdArray>("memberIds");
}

void writeJson(JsonWriter &w, const Message &message)
{
    w.beginObject();
    w.key("id").integer(message.id);
    w.key("roomId").integer(message.roomId);
    w.key("seq").integer(message.seq);
    w.key("authorId").integer(message.authorId);
    w.key("body").string(message.body);
    w.key("clientId");
    message.clientId ? w.string(*message.clientId) : w.null();
    w.key("createdAt").string(formatTimestamp(message.createdAt));
    w.key("editedAt");
    message.editedAt ? w.string(formatTimestamp(*message.editedAt)) : w.null();
    w.key("deleted").boolean(message.deleted);
    writeAttachments(w, message.attachments);
    w.endObject();
}

void readJson(JsonReader &r, Message &message)
{
    message.id = r.required<json::Id>("id");
    message.roomId = r.required<json::Id>("roomId");
    message.seq = r.required<json::NonNegative>("seq");
    message.authorId = r.required<json::Id>("authorId");
    message.body = r.required<json::String>("body");
    message.clientId = r.nullable<json::String>("clientId");
    message.createdAt = r.required<json::Timestamp>("createdAt");
    message.editedAt = r.nullable<json::Timestamp>("editedAt");
    message.deleted = r.required<json::Bool>("deleted");
    message.attachments = r.optionalList<Attachment>("attachments"); // absent from older servers
}

void writeJson(JsonWriter &w, const Attachment &a)
{
    const QString url = QStringLiteral("/api/v1/attachments/") + QString::number(a.id);
    w.beginObject();
    w.key("id").integer(a.id);
    w.key("name").string(a.name);
    w.key("size").integer(a.size);
    w.key("contentType").string(a.contentType);
    w.key("sha256").string(a.sha256);
    w.key("createdAt").string(formatTimestamp(a.createdAt));
    w.key("uploaderId").integer(a.uploaderId);
    w.key("url").string(url);
    w.key("thumbnailUrl");
    isInlineImage(a.contentType) ? w.string(QString(url + QStringLiteral("/thumbnail"))) : w.null();
    w.endObject();
}

void readJson(JsonReader &r, Attachment &a)
{
    a.id = r.required<json::Id>("id");
    a.name = r.required<json::String>("name");
    a.size = r.required<json::NonNegative>("size");
    a.contentType = r.required<json::String>("contentType");
    a.sha256 = r.required<json::String>("sha256");
    a.createdAt = r.required<json::Timestamp>("createdAt");
    a.uploaderId = r.required<json::Id>("uploaderId");
}

namespace {

enum class Payload { Message, Task, UserId };

Payload payloadOf(EventType type)
{
    switch (type) {
    case EventType::MessageCreated:
    case EventType::MessageUpdated:
        return Payload::Message;
    case EventType::TaskCreated:
    case EventType::TaskUpdated:
    case EventType::TaskDeleted:
        return Payload::Task;
    case EventType::MemberJoined:
    case EventType::MemberLeft:
        break;
    }
    return Payload::UserId;
}

} // namespace

void writeJson(JsonWriter &w, const ChannelEvent &event)
{
    w.beginObject();
    w.key("type").string(toWire(event.type));
    w.key("channel").string(event.channel.toString());
    w.key("seq").integer(event.seq);
    // A payload missing for its type is written as null, which the decoder refuses.
    switch (payloadOf(event.type)) {
    case Payload::Message:
        w.key("message");
        if (event.message)
            writeJson(w, *event.message);
        else
            w.null();
        break;
    case Payload::Task:
        w.key("task");
        if (event.task)
            writeJson(w, *event.task);
        else
            w.null();
        break;
    case Payload::UserId:
        w.key("userId");
        event.userId ? w.integer(*event.userId) : w.null();
        break;
    }
    w.endObject();
}

void readJson(JsonReader &r, ChannelEvent &event)
{
    event.type = r.required<json::EventTypeEnum>("type");
    event.channel = r.required<json::Channel>("channel");
    event.seq = r.required<json::NonNegative>("seq");
    if (!r.ok())
        return;
    switch (payloadOf(event.type)) {
    case Payload::Message:
        event.message = r.nested<Message>("message");
        if (r.ok() && event.channel != Channel::room(event.message->roomId)) {
            r.record(Error::validation(QStringLiteral("channel"),
                                       QStringLiteral("channel must be the room of the message")));
        }
        break;
    case Payload::Task:
        event.task = r.nested<Task>("task");
        if (r.ok() && event.channel != Channel::project(event.task->projectId)) {
            r.record(Error::validation(QStringLiteral("channel"),
                                       QStringLiteral("channel must be the project of the task")));
        }
        break;
    case Payload::UserId:
        event.userId = r.required<json::Id>("userId");
        break;
    }
}

void writeErrorFields(JsonWriter &w, const Error &error)
{
    w.key("code").string(errorCodeName(error.code));
    w.key("message").string(error.message);
    if (!error.field.isEmpty())
        w.key("field").string(error.field);
}

void readErrorFields(JsonReader &r, Error &error)
{
    error.code = r.required<json::ErrorCodeName>("code");
    error.message = r.required<json::String>("message");
    error.field = r.optional<json::String>("field").value_or(QString());
}

} // namespace taskmaster
