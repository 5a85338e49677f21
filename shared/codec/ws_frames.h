// The WebSocket frames of docs/protocol.md ("WebSocket: GET /ws") as structs, one std::variant per
// direction, and their JSON codecs. Frames reuse the resource codecs (Message, Task, ChannelEvent)
// and the field rules of the REST requests (send/edit/read), so both transports accept the same.
// Decoding errors: frame over limits::kFrameBytesMax -> PayloadTooLarge (the WebSocket layer closes
// with 1009); not JSON, not an object, or an unknown "type" -> BadRequest; missing field, wrong
// type, bad channel name or broken rule -> ValidationFailed with the field (a message body over
// 8192 characters: PayloadTooLarge, field "body"). The WebSocket layer answers these with an
// `error` frame carrying frameId(bytes) and closes with 4000 after too many in a row.
// Encoding: compact JSON, "type" first; encode a durable event once with encodeEventFrame() and
// send the same bytes to every subscriber.
// Thread: any (pure functions).
#pragma once

#include "shared/core/error.h"
#include "shared/domain/types.h"
#include "shared/domain/validation.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QMap>

#include <optional>
#include <variant>

namespace taskmaster::ws {

// The client-chosen `id` of a frame, echoed by its reply.
using FrameId = std::optional<qint64>;
// Channel -> seq, as in hello's "resume" and welcome's "channels".
using SeqMap = QMap<Channel, Seq>;

// The close codes of the WebSocket channel (docs/protocol.md, "Close codes"). Clients decide
// from them whether to reconnect: after Unauthorized and Revoked only with a new token.
enum class CloseCode : quint16 {
    GoingAway = 1001, // server draining (after a `reconnect` frame) or the socket idle too long
    TooBig = 1009, // a frame larger than the size limit
    ServerError = 1011, // the database failed during hello or a replay: reconnect and resume
    // Too many hellos waiting: reconnect after the `reconnect` frame's retryAfterMs. (Not 1013
    // "try again later": Qt 6.4's QWebSocket takes 1012-1014 for a protocol error, 1002.)
    Busy = 4013,
    Malformed = 4000, // too many malformed frames in a row
    Unauthorized = 4001, // no valid hello in time, or a bad token
    Revoked = 4003, // the session ended while connected (logout elsewhere)
    SlowConsumer = 4008, // the outbound queue went over its limit: reconnect with resume
    RateLimited = 4029, // over the per-connection rate limit for too long
};
[[nodiscard]] constexpr quint16 closeCodeValue(CloseCode code)
{
    return quint16(code);
}

// ---- Client -> server ----------------------------------------------------------------------

// First frame. token may be absent when the upgrade request carried it.
struct Hello {
    std::optional<QString> token;
    SeqMap resume;
    // The client reads the list form of `presence` (userIds): the snapshot after `welcome` comes
    // as one frame instead of one per online member (docs/protocol.md 9.1, an addition).
    bool presenceList = false;
    friend bool operator==(const Hello &, const Hello &) = default;
};
struct Send {
    FrameId id;
    Id roomId = 0;
    QString body;
    std::optional<QString> clientId;
    QList<Id> attachmentIds {}; // docs/protocol.md section 6.8
    friend bool operator==(const Send &, const Send &) = default;
};
struct Edit {
    FrameId id;
    Id messageId = 0;
    QString body;
    friend bool operator==(const Edit &, const Edit &) = default;
};
struct Delete {
    FrameId id;
    Id messageId = 0;
    friend bool operator==(const Delete &, const Delete &) = default;
};
struct Typing {
    Id roomId = 0;
    friend bool operator==(const Typing &, const Typing &) = default;
};
struct Read {
    Id roomId = 0;
    Seq seq = 0;
    friend bool operator==(const Read &, const Read &) = default;
};
// "history": the durable events of `channel` after seq `after`. limit defaults to
// limits::kPageDefault and is clamped to limits::kPageMax; <= 0 is ValidationFailed.
struct HistoryRequest {
    FrameId id;
    Channel channel;
    Seq after = 0;
    int limit = limits::kPageDefault;
    friend bool operator==(const HistoryRequest &, const HistoryRequest &) = default;
};
// t is any number the client likes (usually its clock), echoed by pong; it may be absent.
struct Ping {
    FrameId id;
    std::optional<double> t;
    friend bool operator==(const Ping &, const Ping &) = default;
};

// "roomPresence" (an addition): who of the members of room `roomId` is online, asked on demand
// (rooms over the server's presenceRoomLimit get no presence pushed). limit: the ids wanted, in
// [1, kLimitMax], default kLimitDefault; outside: ValidationFailed ("limit").
struct RoomPresenceRequest {
    static constexpr int kLimitDefault = 100;
    static constexpr int kLimitMax = 1000;
    FrameId id;
    Id roomId = 0;
    int limit = kLimitDefault;
    friend bool operator==(const RoomPresenceRequest &, const RoomPresenceRequest &) = default;
};

using ClientFrame = std::variant<Hello, Send, Edit, Delete, Typing, Read, HistoryRequest, Ping, RoomPresenceRequest>;

// ---- Server -> client ----------------------------------------------------------------------

struct Welcome {
    Id userId = 0;
    QString instance;
    SeqMap channels;
    // Should this connection drop without a `reconnect` frame (the instance died), the client
    // spreads its first attempt over [0, this] (at least its own base): the instance's size over
    // the rate the others can take its clients back at. Absent: the client's own backoff.
    std::optional<qint64> reconnectWindowMs;
    // Rooms with more members than this get no presence pushed (ask with roomPresence); absent:
    // no limit, every room's presence is pushed (an addition).
    std::optional<qint64> presenceRoomLimit;
    friend bool operator==(const Welcome &, const Welcome &) = default;
};
// Reply to send, edit and delete.
struct Ack {
    FrameId id;
    Message message;
    friend bool operator==(const Ack &, const Ack &) = default;
};
// Durable events (message, message_updated, task_*, member_*) are taskmaster::ChannelEvent.
struct TypingEvent {
    Id roomId = 0;
    Id userId = 0;
    friend bool operator==(const TypingEvent &, const TypingEvent &) = default;
};
struct ReadEvent {
    Id roomId = 0;
    Id userId = 0;
    Seq seq = 0;
    friend bool operator==(const ReadEvent &, const ReadEvent &) = default;
};
enum class PresenceStatus { Online, Offline };
[[nodiscard]] QString toWire(PresenceStatus v); // "online", "offline"
[[nodiscard]] std::optional<PresenceStatus> presenceStatusFromWire(const QString &s);
// One user's status, or (list form, userIds not empty, userId 0) the same status for every user
// of userIds: the snapshot after `welcome` for a client whose hello asked for it.
struct Presence {
    Id userId = 0;
    PresenceStatus status = PresenceStatus::Online;
    QList<Id> userIds;
    friend bool operator==(const Presence &, const Presence &) = default;
};
// {"type":"error","id"?,"code","message","field"?}: "field" is an addition to docs/protocol.md's
// table, present when one field of the frame is at fault.
struct ErrorFrame {
    FrameId id;
    Error error;
    friend bool operator==(const ErrorFrame &, const ErrorFrame &) = default;
};
struct Reconnect {
    QString reason;
    qint64 retryAfterMs = 0;
    friend bool operator==(const Reconnect &, const Reconnect &) = default;
};
// End of a replay after hello's resume: events from..to of `channel` were sent (from <= to).
struct Resumed {
    Channel channel;
    Seq from = 0;
    Seq to = 0;
    friend bool operator==(const Resumed &, const Resumed &) = default;
};
struct Resync {
    Channel channel;
    friend bool operator==(const Resync &, const Resync &) = default;
};
// "history": reply to HistoryRequest; every event belongs to `channel`.
struct HistoryReply {
    FrameId id;
    Channel channel;
    QList<ChannelEvent> events;
    friend bool operator==(const HistoryReply &, const HistoryReply &) = default;
};
struct Pong {
    FrameId id;
    std::optional<double> t;
    std::optional<qint64> reconnectWindowMs; // as in Welcome, as of now
    friend bool operator==(const Pong &, const Pong &) = default;
};

// "roomPresence": reply to RoomPresenceRequest. online: the room's members online on any
// instance (a grace included); userIds: the first `limit` of them, ascending.
struct RoomPresence {
    FrameId id;
    Id roomId = 0;
    qint64 online = 0;
    QList<Id> userIds;
    friend bool operator==(const RoomPresence &, const RoomPresence &) = default;
};

using ServerFrame = std::variant<Welcome, Ack, ChannelEvent, TypingEvent, ReadEvent, Presence, ErrorFrame, Reconnect,
                                 Resumed, Resync, HistoryReply, Pong, RoomPresence>;

// ---- Codecs --------------------------------------------------------------------------------

[[nodiscard]] Result<ClientFrame> decodeClientFrame(QByteArrayView json);
[[nodiscard]] QByteArray encodeClientFrame(const ClientFrame &frame);

[[nodiscard]] Result<ServerFrame> decodeServerFrame(QByteArrayView json);
[[nodiscard]] QByteArray encodeServerFrame(const ServerFrame &frame);
// The event frame of a durable event, without copying the event into a ServerFrame first.
[[nodiscard]] QByteArray encodeEventFrame(const ChannelEvent &event);

// The integer "id" of a frame, when the frame is a JSON object within the size limit that has
// one, even if the rest of the frame does not decode: lets the server answer error {id, ...}.
[[nodiscard]] FrameId frameId(QByteArrayView json);

} // namespace taskmaster::ws
