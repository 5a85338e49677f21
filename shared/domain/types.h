// Domain types of docs/protocol.md: User, Project, Task, Room, Message, channels and durable events.
// Plain values with no behaviour beyond enum <-> wire-name conversion; validation is in
// validation.h, JSON in shared/codec. Thread: any.
#pragma once

#include <QDate>
#include <QDateTime>
#include <QHashFunctions>
#include <QList>
#include <QString>

#include <optional>

namespace taskmaster {

using Id = qint64; // positive; 0 means "none" only inside the process, never on the wire
using Seq = qint64;

enum class Role { Member, Admin };
enum class TaskStatus { Todo, InProgress, Review, Done };
enum class TaskPriority { Low, Medium, High, Urgent };
enum class RoomKind { Group, Direct };
enum class ChannelKind { Room, Project };

// Wire names ("in_progress", "urgent", ...) and their inverse (nullopt for an unknown name).
[[nodiscard]] QString toWire(Role v);
[[nodiscard]] QString toWire(TaskStatus v);
[[nodiscard]] QString toWire(TaskPriority v);
[[nodiscard]] QString toWire(RoomKind v);
[[nodiscard]] QString toWire(ChannelKind v);
[[nodiscard]] std::optional<Role> roleFromWire(const QString &s);
[[nodiscard]] std::optional<TaskStatus> taskStatusFromWire(const QString &s);
[[nodiscard]] std::optional<TaskPriority> taskPriorityFromWire(const QString &s);
[[nodiscard]] std::optional<RoomKind> roomKindFromWire(const QString &s);

struct User {
    Id id = 0;
    QString username;
    QString displayName;
    Role role = Role::Member;
    QDateTime createdAt;
    friend bool operator==(const User &, const User &) = default;
};

struct Project {
    Id id = 0;
    QString name;
    QString description;
    Id ownerId = 0;
    QDateTime createdAt;
    QDateTime updatedAt;
    qint64 version = 1;
    friend bool operator==(const Project &, const Project &) = default;
};

// An uploaded file as messages and tasks carry it (docs/protocol.md section 6.8). Its url and
// thumbnailUrl on the wire follow from id and contentType.
struct Attachment {
    Id id = 0;
    QString name;
    qint64 size = 0;
    QString contentType; // "type/subtype", lower case
    QString sha256; // lower-case hex
    QDateTime createdAt;
    Id uploaderId = 0;
    friend bool operator==(const Attachment &, const Attachment &) = default;
};
// The image types shown inline and given thumbnails (raster formats; not SVG).
[[nodiscard]] bool isInlineImage(const QString &contentType);

struct Task {
    Id id = 0;
    Id projectId = 0;
    QString title;
    QString description;
    TaskStatus status = TaskStatus::Todo;
    TaskPriority priority = TaskPriority::Medium;
    std::optional<Id> assigneeId;
    std::optional<QDate> dueDate;
    Id createdBy = 0;
    QDateTime createdAt;
    QDateTime updatedAt;
    qint64 version = 1;
    QList<Attachment> attachments {};
    friend bool operator==(const Task &, const Task &) = default;
};

struct Room {
    Id id = 0;
    QString name;
    RoomKind kind = RoomKind::Group;
    QDateTime createdAt;
    Seq lastSeq = 0;
    qint64 unread = 0;
    QList<Id> memberIds;
    // The caller's read marker (room_members.read_seq: messages up to it are read). Optional on
    // the wire: servers before it was added leave it out.
    std::optional<Seq> readSeq;
    friend bool operator==(const Room &, const Room &) = default;
};

struct Message {
    Id id = 0;
    Id roomId = 0;
    Seq seq = 0;
    Id authorId = 0;
    QString body;
    std::optional<QString> clientId;
    QDateTime createdAt;
    std::optional<QDateTime> editedAt;
    bool deleted = false;
    QList<Attachment> attachments {}; // in the order they were given; none on a tombstone
    friend bool operator==(const Message &, const Message &) = default;
};

// "room:12" or "project:3".
struct Channel {
    ChannelKind kind = ChannelKind::Room;
    Id id = 0;

    [[nodiscard]] QString toString() const;
    [[nodiscard]] static std::optional<Channel> parse(const QString &s);
    [[nodiscard]] static Channel room(Id id) { return {ChannelKind::Room, id}; }
    [[nodiscard]] static Channel project(Id id) { return {ChannelKind::Project, id}; }
    friend bool operator==(const Channel &, const Channel &) = default;
    friend auto operator<=>(const Channel &, const Channel &) = default;
};
[[nodiscard]] inline size_t qHash(const Channel &c, size_t seed = 0) noexcept
{
    return ::qHash(c.id * 2 + (c.kind == ChannelKind::Project ? 1 : 0), seed);
}

enum class EventType {
    MessageCreated, // wire "message"
    MessageUpdated, // "message_updated" (edit or delete)
    TaskCreated,
    TaskUpdated,
    TaskDeleted,
    MemberJoined,
    MemberLeft,
};
[[nodiscard]] QString toWire(EventType v);
[[nodiscard]] std::optional<EventType> eventTypeFromWire(const QString &s);

// A durable event of a channel: it has a seq and is never lost. Exactly one payload is set,
// according to the type: message for Message*, task for Task*, userId for Member*.
struct ChannelEvent {
    EventType type = EventType::MessageCreated;
    Channel channel;
    Seq seq = 0;
    std::optional<Message> message;
    std::optional<Task> task;
    std::optional<Id> userId;
    friend bool operator==(const ChannelEvent &, const ChannelEvent &) = default;
};

// A positive id written as digits only (no sign, spaces or leading zero, at most 19 digits), as in
// a path segment ("/rooms/5") or a channel name ("room:5"); nullopt otherwise.
[[nodiscard]] std::optional<Id> parseId(QStringView digits);

// RFC 3339 UTC with milliseconds: "2026-11-23T12:00:00.000Z".
[[nodiscard]] QString formatTimestamp(const QDateTime &t);
// Accepts RFC 3339 with "Z" or an offset, with or without fractional seconds; nullopt otherwise.
[[nodiscard]] std::optional<QDateTime> parseTimestamp(const QString &s);
// "YYYY-MM-DD", a real calendar date.
[[nodiscard]] QString formatDate(const QDate &d);
[[nodiscard]] std::optional<QDate> parseDate(const QString &s);

} // namespace taskmaster
