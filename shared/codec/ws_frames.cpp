#include "shared/codec/ws_frames.h"

#include "shared/codec/json_reader.h"
#include "shared/codec/json_writer.h"
#include "shared/codec/resource_json.h"
#include "shared/codec/rest_json.h"

#include <algorithm>
#include <array>

namespace taskmaster::ws {

QString toWire(PresenceStatus v)
{
    switch (v) {
    case PresenceStatus::Online:
        return QStringLiteral("online");
    case PresenceStatus::Offline:
        return QStringLiteral("offline");
    }
    return {};
}

std::optional<PresenceStatus> presenceStatusFromWire(const QString &s)
{
    if (s == QLatin1StringView("online"))
        return PresenceStatus::Online;
    if (s == QLatin1StringView("offline"))
        return PresenceStatus::Offline;
    return std::nullopt;
}

namespace {

using PresenceEnum = json::Enum<PresenceStatus, presenceStatusFromWire>;

// The wire "type" of each frame struct (durable events take theirs from EventType).
template<typename F> constexpr const char *kType = nullptr;
template<> constexpr const char *kType<Hello> = "hello";
template<> constexpr const char *kType<Send> = "send";
template<> constexpr const char *kType<Edit> = "edit";
template<> constexpr const char *kType<Delete> = "delete";
template<> constexpr const char *kType<Typing> = "typing";
template<> constexpr const char *kType<Read> = "read";
template<> constexpr const char *kType<HistoryRequest> = "history";
template<> constexpr const char *kType<Ping> = "ping";
template<> constexpr const char *kType<RoomPresenceRequest> = "roomPresence";
template<> constexpr const char *kType<Welcome> = "welcome";
template<> constexpr const char *kType<Ack> = "ack";
template<> constexpr const char *kType<TypingEvent> = "typing";
template<> constexpr const char *kType<ReadEvent> = "read";
template<> constexpr const char *kType<Presence> = "presence";
template<> constexpr const char *kType<ErrorFrame> = "error";
template<> constexpr const char *kType<Reconnect> = "reconnect";
template<> constexpr const char *kType<Resumed> = "resumed";
template<> constexpr const char *kType<Resync> = "resync";
template<> constexpr const char *kType<HistoryReply> = "history";
template<> constexpr const char *kType<Pong> = "pong";
template<> constexpr const char *kType<RoomPresence> = "roomPresence";

// ---- Shared pieces ----

void beginFrame(JsonWriter &w, const char *type, const FrameId &id = std::nullopt)
{
    w.beginObject();
    w.key("type").string(QLatin1StringView(type));
    if (id)
        w.key("id").integer(*id);
}

FrameId readId(JsonReader &r)
{
    return r.optional<json::Int>("id");
}

void writeSeqMap(JsonWriter &w, const char *key, const SeqMap &map)
{
    w.key(key).beginObject();
    for (auto it = map.cbegin(); it != map.cend(); ++it)
        w.key(it.key().toString()).integer(it.value());
    w.endObject();
}

void readSeqMap(JsonReader &r, const char *key, SeqMap &map)
{
    const QJsonObject object = r.required<json::Object>(key);
    for (auto it = object.constBegin(); it != object.constEnd() && r.ok(); ++it) {
        const std::optional<Channel> channel = Channel::parse(it.key());
        const std::optional<qint64> seq = json::Int::convert(it.value());
        if (!channel) {
            r.fail(key, QStringLiteral(" keys must be channels room:<id> or project:<id>"));
        } else if (!seq || *seq < 0) {
            r.fail(key, QStringLiteral(" values must be non-negative integers"));
        } else {
            map.insert(*channel, *seq);
        }
    }
}

void writeTime(JsonWriter &w, const std::optional<double> &t)
{
    if (t)
        w.key("t").number(*t);
}

// ---- Client frames ----

void writeFrame(JsonWriter &w, const Hello &f)
{
    beginFrame(w, kType<Hello>);
    if (f.token)
        w.key("token").string(*f.token);
    if (!f.resume.isEmpty())
        writeSeqMap(w, "resume", f.resume);
    if (f.presenceList)
        w.key("presenceList").boolean(true);
    w.endObject();
}

void readFrame(JsonReader &r, Hello &f)
{
    f.token = r.optional<json::String>("token");
    if (r.has("resume"))
        readSeqMap(r, "resume", f.resume);
    f.presenceList = r.optional<json::Bool>("presenceList").value_or(false);
}

void writeFrame(JsonWriter &w, const Send &f)
{
    beginFrame(w, kType<Send>, f.id);
    w.key("roomId").integer(f.roomId);
    w.key("body").string(f.body);
    if (f.clientId)
        w.key("clientId").string(*f.clientId);
    if (!f.attachmentIds.isEmpty()) {
        w.key("attachmentIds").beginArray();
        for (Id id : f.attachmentIds)
            w.integer(id);
        w.endArray();
    }
    w.endObject();
}

void readFrame(JsonReader &r, Send &f)
{
    f.id = readId(r);
    f.roomId = r.required<json::Id>("roomId");
    SendMessageRequest request; // the rules of POST /rooms/{id}/messages
    readJson(r, request);
    f.body = std::move(request.body);
    f.clientId = std::move(request.clientId);
    f.attachmentIds = std::move(request.attachmentIds);
}

void writeFrame(JsonWriter &w, const Edit &f)
{
    beginFrame(w, kType<Edit>, f.id);
    w.key("messageId").integer(f.messageId);
    w.key("body").string(f.body);
    w.endObject();
}

void readFrame(JsonReader &r, Edit &f)
{
    f.id = readId(r);
    f.messageId = r.required<json::Id>("messageId");
    EditMessageRequest request; // the rules of PATCH /messages/{id}
    readJson(r, request);
    f.body = std::move(request.body);
}

void writeFrame(JsonWriter &w, const Delete &f)
{
    beginFrame(w, kType<Delete>, f.id);
    w.key("messageId").integer(f.messageId);
    w.endObject();
}

void readFrame(JsonReader &r, Delete &f)
{
    f.id = readId(r);
    f.messageId = r.required<json::Id>("messageId");
}

void writeFrame(JsonWriter &w, const Typing &f)
{
    beginFrame(w, kType<Typing>);
    w.key("roomId").integer(f.roomId);
    w.endObject();
}

void readFrame(JsonReader &r, Typing &f)
{
    f.roomId = r.required<json::Id>("roomId");
}

void writeFrame(JsonWriter &w, const Read &f)
{
    beginFrame(w, kType<Read>);
    w.key("roomId").integer(f.roomId);
    w.key("seq").integer(f.seq);
    w.endObject();
}

void readFrame(JsonReader &r, Read &f)
{
    f.roomId = r.required<json::Id>("roomId");
    ReadMarkerRequest request; // the rules of POST /rooms/{id}/read
    readJson(r, request);
    f.seq = request.seq;
}

void writeFrame(JsonWriter &w, const HistoryRequest &f)
{
    beginFrame(w, kType<HistoryRequest>, f.id);
    w.key("channel").string(f.channel.toString());
    w.key("after").integer(f.after);
    w.key("limit").integer(f.limit);
    w.endObject();
}

void readFrame(JsonReader &r, HistoryRequest &f)
{
    f.id = readId(r);
    f.channel = r.required<json::Channel>("channel");
    f.after = r.required<json::NonNegative>("after");
    const qint64 limit = r.optional<json::Id>("limit").value_or(limits::kPageDefault);
    f.limit = static_cast<int>(std::min<qint64>(limit, limits::kPageMax));
}

void writeFrame(JsonWriter &w, const Ping &f)
{
    beginFrame(w, kType<Ping>, f.id);
    writeTime(w, f.t);
    w.endObject();
}

void readFrame(JsonReader &r, Ping &f)
{
    f.id = readId(r);
    f.t = r.optional<json::Number>("t");
}

void writeFrame(JsonWriter &w, const RoomPresenceRequest &f)
{
    beginFrame(w, kType<RoomPresenceRequest>, f.id);
    w.key("roomId").integer(f.roomId);
    w.key("limit").integer(f.limit);
    w.endObject();
}

void readFrame(JsonReader &r, RoomPresenceRequest &f)
{
    f.id = readId(r);
    f.roomId = r.required<json::Id>("roomId");
    const qint64 limit = r.optional<json::Int>("limit").value_or(RoomPresenceRequest::kLimitDefault);
    if (r.ok() && (limit < 1 || limit > RoomPresenceRequest::kLimitMax))
        r.fail("limit", QStringLiteral(" must be between 1 and %1").arg(RoomPresenceRequest::kLimitMax));
    f.limit = static_cast<int>(std::clamp<qint64>(limit, 1, RoomPresenceRequest::kLimitMax));
}

// ---- Server frames ----

void writeFrame(JsonWriter &w, const Welcome &f)
{
    beginFrame(w, kType<Welcome>);
    w.key("userId").integer(f.userId);
    w.key("instance").string(f.instance);
    writeSeqMap(w, "channels", f.channels);
    if (f.reconnectWindowMs)
        w.key("reconnectWindowMs").integer(*f.reconnectWindowMs);
    if (f.presenceRoomLimit)
        w.key("presenceRoomLimit").integer(*f.presenceRoomLimit);
    w.endObject();
}

void readFrame(JsonReader &r, Welcome &f)
{
    f.userId = r.required<json::Id>("userId");
    f.instance = r.required<json::String>("instance");
    readSeqMap(r, "channels", f.channels);
    f.reconnectWindowMs = r.optional<json::NonNegative>("reconnectWindowMs");
    f.presenceRoomLimit = r.optional<json::NonNegative>("presenceRoomLimit");
}

void writeFrame(JsonWriter &w, const Ack &f)
{
    beginFrame(w, kType<Ack>, f.id);
    w.key("message");
    writeJson(w, f.message);
    w.endObject();
}

void readFrame(JsonReader &r, Ack &f)
{
    f.id = readId(r);
    f.message = r.nested<Message>("message");
}

void writeFrame(JsonWriter &w, const ChannelEvent &f)
{
    writeJson(w, f);
}

void writeFrame(JsonWriter &w, const TypingEvent &f)
{
    beginFrame(w, kType<TypingEvent>);
    w.key("roomId").integer(f.roomId);
    w.key("userId").integer(f.userId);
    w.endObject();
}

void readFrame(JsonReader &r, TypingEvent &f)
{
    f.roomId = r.required<json::Id>("roomId");
    f.userId = r.required<json::Id>("userId");
}

void writeFrame(JsonWriter &w, const ReadEvent &f)
{
    beginFrame(w, kType<ReadEvent>);
    w.key("roomId").integer(f.roomId);
    w.key("userId").integer(f.userId);
    w.key("seq").integer(f.seq);
    w.endObject();
}

void readFrame(JsonReader &r, ReadEvent &f)
{
    f.roomId = r.required<json::Id>("roomId");
    f.userId = r.required<json::Id>("userId");
    f.seq = r.required<json::NonNegative>("seq");
}

void writeFrame(JsonWriter &w, const Presence &f)
{
    beginFrame(w, kType<Presence>);
    if (f.userIds.isEmpty()) {
        w.key("userId").integer(f.userId);
    } else {
        w.key("userIds").beginArray();
        for (Id id : f.userIds)
            w.integer(id);
        w.endArray();
    }
    w.key("status").string(toWire(f.status));
    w.endObject();
}

void readFrame(JsonReader &r, Presence &f)
{
    if (r.has("userIds"))
        f.userIds = r.required<json::IdArray>("userIds");
    else
        f.userId = r.required<json::Id>("userId");
    f.status = r.required<PresenceEnum>("status");
}

void writeFrame(JsonWriter &w, const ErrorFrame &f)
{
    beginFrame(w, kType<ErrorFrame>, f.id);
    writeErrorFields(w, f.error);
    w.endObject();
}

void readFrame(JsonReader &r, ErrorFrame &f)
{
    f.id = readId(r);
    readErrorFields(r, f.error);
}

void writeFrame(JsonWriter &w, const Reconnect &f)
{
    beginFrame(w, kType<Reconnect>);
    w.key("reason").string(f.reason);
    w.key("retryAfterMs").integer(f.retryAfterMs);
    w.endObject();
}

void readFrame(JsonReader &r, Reconnect &f)
{
    f.reason = r.required<json::String>("reason");
    f.retryAfterMs = r.required<json::NonNegative>("retryAfterMs");
}

void writeFrame(JsonWriter &w, const Resumed &f)
{
    beginFrame(w, kType<Resumed>);
    w.key("channel").string(f.channel.toString());
    w.key("from").integer(f.from);
    w.key("to").integer(f.to);
    w.endObject();
}

void readFrame(JsonReader &r, Resumed &f)
{
    f.channel = r.required<json::Channel>("channel");
    f.from = r.required<json::NonNegative>("from");
    f.to = r.required<json::NonNegative>("to");
    if (r.ok() && f.to < f.from)
        r.fail("to", QStringLiteral(" must not be less than from"));
}

void writeFrame(JsonWriter &w, const Resync &f)
{
    beginFrame(w, kType<Resync>);
    w.key("channel").string(f.channel.toString());
    w.endObject();
}

void readFrame(JsonReader &r, Resync &f)
{
    f.channel = r.required<json::Channel>("channel");
}

void writeFrame(JsonWriter &w, const HistoryReply &f)
{
    beginFrame(w, kType<HistoryReply>, f.id);
    w.key("channel").string(f.channel.toString());
    w.key("events").beginArray();
    for (const ChannelEvent &event : f.events)
        writeJson(w, event);
    w.endArray();
    w.endObject();
}

void readFrame(JsonReader &r, HistoryReply &f)
{
    f.id = readId(r);
    f.channel = r.required<json::Channel>("channel");
    f.events = r.list<ChannelEvent>("events");
    for (qsizetype i = 0; i < f.events.size() && r.ok(); ++i) {
        if (f.events[i].channel != f.channel) {
            const QString field = QStringLiteral("events[%1].channel").arg(i);
            r.record(Error::validation(field, field + QStringLiteral(" must be the channel of the reply")));
        }
    }
}

void writeFrame(JsonWriter &w, const Pong &f)
{
    beginFrame(w, kType<Pong>, f.id);
    writeTime(w, f.t);
    if (f.reconnectWindowMs)
        w.key("reconnectWindowMs").integer(*f.reconnectWindowMs);
    w.endObject();
}

void readFrame(JsonReader &r, Pong &f)
{
    f.id = readId(r);
    f.t = r.optional<json::Number>("t");
    f.reconnectWindowMs = r.optional<json::NonNegative>("reconnectWindowMs");
}

void writeFrame(JsonWriter &w, const RoomPresence &f)
{
    beginFrame(w, kType<RoomPresence>, f.id);
    w.key("roomId").integer(f.roomId);
    w.key("online").integer(f.online);
    w.key("userIds").beginArray();
    for (Id id : f.userIds)
        w.integer(id);
    w.endArray();
    w.endObject();
}

void readFrame(JsonReader &r, RoomPresence &f)
{
    f.id = readId(r);
    f.roomId = r.required<json::Id>("roomId");
    f.online = r.required<json::NonNegative>("online");
    f.userIds = r.required<json::IdArray>("userIds");
}

// ---- Dispatch by "type" ----

template<typename Variant> struct Decoder {
    const char *type;
    Variant (*read)(JsonReader &);
};

template<typename Variant, typename F> Variant readAs(JsonReader &r)
{
    F frame;
    readFrame(r, frame);
    return Variant(std::move(frame));
}

template<typename Variant, typename... F> constexpr auto decoders()
{
    return std::array<Decoder<Variant>, sizeof...(F)> {Decoder<Variant> {kType<F>, &readAs<Variant, F>}...};
}

constexpr auto kClientDecoders
    = decoders<ClientFrame, Hello, Send, Edit, Delete, Typing, Read, HistoryRequest, Ping, RoomPresenceRequest>();
constexpr auto kServerDecoders = decoders<ServerFrame, Welcome, Ack, TypingEvent, ReadEvent, Presence, ErrorFrame,
                                          Reconnect, Resumed, Resync, HistoryReply, Pong, RoomPresence>();

// Reads "type" and hands the object to the decoder of that type; `fallback` gets a type the
// table does not know (the durable events of server frames) and answers nullopt if it does not
// know it either.
template<typename Variant, std::size_t N, typename Fallback>
Result<Variant> decodeFrame(QByteArrayView json, const std::array<Decoder<Variant>, N> &table, Fallback fallback)
{
    Result<QJsonObject> object = parseObject(json, limits::kFrameBytesMax);
    if (!object)
        return object.error();
    JsonReader r(*object);
    const QString type = r.required<json::String>("type");
    if (!r.ok())
        return *r.error();
    for (const Decoder<Variant> &decoder : table) {
        if (type == QLatin1StringView(decoder.type)) {
            Variant frame = decoder.read(r);
            return r.finish(std::move(frame));
        }
    }
    if (std::optional<Variant> frame = fallback(type, r))
        return r.finish(std::move(*frame));
    return Error::badRequest(QStringLiteral("unknown frame type \"%1\"").arg(type.left(32)), QStringLiteral("type"));
}

template<typename Variant> QByteArray encodeFrame(const Variant &frame)
{
    JsonWriter w;
    std::visit([&w](const auto &f) { writeFrame(w, f); }, frame);
    return w.take();
}

} // namespace

Result<ClientFrame> decodeClientFrame(QByteArrayView json)
{
    return decodeFrame(json, kClientDecoders,
                       [](const QString &, JsonReader &) { return std::optional<ClientFrame>(); });
}

QByteArray encodeClientFrame(const ClientFrame &frame)
{
    return encodeFrame(frame);
}

Result<ServerFrame> decodeServerFrame(QByteArrayView json)
{
    return decodeFrame(json, kServerDecoders, [](const QString &type, JsonReader &r) -> std::optional<ServerFrame> {
        if (!eventTypeFromWire(type))
            return std::nullopt;
        ChannelEvent event;
        readJson(r, event);
        return ServerFrame(std::move(event));
    });
}

QByteArray encodeServerFrame(const ServerFrame &frame)
{
    return encodeFrame(frame);
}

QByteArray encodeEventFrame(const ChannelEvent &event)
{
    return toJson(event);
}

FrameId frameId(QByteArrayView json)
{
    const Result<QJsonObject> object = parseObject(json, limits::kFrameBytesMax);
    if (!object)
        return std::nullopt;
    return json::Int::convert(object->value(QLatin1StringView("id")));
}

} // namespace taskmaster::ws
