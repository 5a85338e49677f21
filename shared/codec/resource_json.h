// JSON of the resources of docs/protocol.md (User, Project, Task, Room, Message) and of the durable
// ChannelEvent, which is also the WebSocket event frame
// {"type":"message","channel":"room:12","seq":345,"message":{...}}.
// Field names and order are docs/protocol.md's; ids are JSON numbers, timestamps RFC 3339 with
// milliseconds, dueDate YYYY-MM-DD; clientId, editedAt, assigneeId and dueDate are null when absent.
// Room's readSeq is left out when unknown and may be absent when decoding (older servers).
// Decoding checks JSON types, ids, enums, timestamps and the consistency of an event (payload of
// its type, channel of the right kind and id); it does not re-apply the length rules of
// validation.h to resources a server sent, so a later change of a limit cannot make a client
// refuse existing data.
// Use toJson(value) / fromJson<T>(bytes or object) of json_writer.h / json_reader.h.
// Thread: any (pure functions).
#pragma once

#include "shared/codec/json_reader.h"
#include "shared/codec/json_writer.h"
#include "shared/domain/types.h"

namespace taskmaster {

void writeJson(JsonWriter &w, const User &user);
void writeJson(JsonWriter &w, const Project &project);
void writeJson(JsonWriter &w, const Task &task);
void writeJson(JsonWriter &w, const Room &room);
void writeJson(JsonWriter &w, const Message &message);
void writeJson(JsonWriter &w, const Attachment &attachment);
void writeJson(JsonWriter &w, const ChannelEvent &event);

void readJson(JsonReader &r, User &user);
void readJson(JsonReader &r, Project &project);
void readJson(JsonReader &r, Task &task);
void readJson(JsonReader &r, Room &room);
void readJson(JsonReader &r, Message &message);
void readJson(JsonReader &r, Attachment &attachment);
void readJson(JsonReader &r, ChannelEvent &event);

// The members of an error: "code", "message" and "field" when it is set, inside an object the
// caller has begun. The REST error body nests them under "error"; the WebSocket error frame has
// them at its top level. An unknown code does not decode (ValidationFailed, field "code").
void writeErrorFields(JsonWriter &w, const Error &error);
void readErrorFields(JsonReader &r, Error &error);

namespace json {
using RoleEnum = Enum<Role, roleFromWire>;
using TaskStatusEnum = Enum<TaskStatus, taskStatusFromWire>;
using TaskPriorityEnum = Enum<TaskPriority, taskPriorityFromWire>;
using RoomKindEnum = Enum<RoomKind, roomKindFromWire>;
using EventTypeEnum = Enum<EventType, eventTypeFromWire>;
} // namespace json

} // namespace taskmaster
