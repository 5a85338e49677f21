#include "server/bus/cluster_bus.h"

#include "server/log/json_log.h"
#include "shared/codec/ws_frames.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

namespace taskmaster::server {

namespace {
const QByteArray kEventPattern = QByteArrayLiteral("tm:ch:*");
const QByteArray kControl = QByteArrayLiteral("tm:ctl");

QJsonArray idArray(const QList<Id> &ids)
{
    QJsonArray a;
    for (Id id : ids)
        a.append(id);
    return a;
}

QList<Id> idList(const QJsonValue &v)
{
    QList<Id> ids;
    const QJsonArray a = v.toArray();
    for (const QJsonValue &x : a)
        ids.append(x.toInteger());
    return ids;
}
} // namespace

ClusterBus::ClusterBus(const RedisUrl &url, QString instance, RemoteEventSink *receiver, QObject *parent)
    : QObject(parent), m_instance(std::move(instance)), m_receiver(receiver),
      m_originPrefix(QByteArrayLiteral("{\"o\":")
                     + QJsonDocument(QJsonArray {m_instance}).toJson(QJsonDocument::Compact).mid(1).chopped(1)
                     + QByteArrayLiteral(",\"e\":")),
      m_pub(url,
            RedisOptions {std::chrono::milliseconds(2000), std::chrono::milliseconds(2000),
                          std::chrono::milliseconds(50), std::chrono::milliseconds(2000),
                          QByteArrayLiteral("tm-bus-pub")}),
      m_sub(url,
            RedisOptions {std::chrono::milliseconds(2000), std::chrono::milliseconds(2000),
                          std::chrono::milliseconds(50), std::chrono::milliseconds(2000),
                          QByteArrayLiteral("tm-bus-sub")})
{
    connect(&m_sub, &RedisSubscriber::patternMessage, this,
            [this](const QByteArray &, const QByteArray &, const QByteArray &payload) { onEvent(payload); });
    connect(&m_sub, &RedisSubscriber::message, this, [this](const QByteArray &channel, const QByteArray &payload) {
        if (channel == kControl)
            onControl(payload);
    });
    connect(&m_sub, &RedisSubscriber::resubscribed, this, [this] {
        logEvent(lcServer(), QtInfoMsg, QStringLiteral("cluster bus subscribed"), {});
        // Whatever was published while we were not listening is read from the database.
        m_receiver->verifyChannels();
        // And who is online elsewhere is asked for now, not learnt from the next 30 s exchange:
        // a started instance knows nobody, and the users of the next instance of a rolling
        // restart, reconnecting here, would each be announced to their rooms' members as news.
        requestPresenceSnapshots();
    });
    connect(&m_pub, &RedisConnection::up, this, &ClusterBus::flush);
    connect(&m_sub, &RedisSubscriber::down, this,
            [] { logEvent(lcServer(), QtWarningMsg, QStringLiteral("cluster bus down"), {}); });
}

void ClusterBus::start()
{
    m_sub.psubscribe(kEventPattern);
    m_sub.subscribe(kControl);
    m_pub.start();
    m_sub.start();
}

bool ClusterBus::isUp() const
{
    return m_pub.isUp() && m_sub.isUp();
}

void ClusterBus::send(const QByteArray &redisChannel, const QByteArray &payload)
{
    if (!m_pub.isUp() || !m_waiting.isEmpty()) {
        if (m_waiting.size() >= kWaitingMax)
            return; // dropped: the other instances read it from the database when they resubscribe
        m_waiting.append({redisChannel, payload});
        return;
    }
    // A refused publication is lost like any other at-most-once message.
    m_pub.command({QByteArrayLiteral("PUBLISH"), redisChannel, payload}, [](const Result<RedisReply> &) {});
}

qsizetype ClusterBus::publishing() const
{
    return m_pub.isUp() ? m_pub.inFlight() + m_waiting.size() : 0;
}

void ClusterBus::flush()
{
    const auto waiting = std::exchange(m_waiting, {});
    for (const auto &[channel, payload] : waiting)
        send(channel, payload);
}

void ClusterBus::publish(QList<ChannelEvent> events)
{
    for (const ChannelEvent &e : events) {
        // {"o":"<instance>","e":<the event frame>}: the frame is spliced in as clients get it.
        const QByteArray payload = m_originPrefix + ws::encodeEventFrame(e) + '}';
        send(QByteArrayLiteral("tm:ch:") + e.channel.toString().toUtf8(), payload);
    }
}

void ClusterBus::subscribe(const Channel &channel, const QList<Id> &userIds, Seq seq)
{
    send(kControl,
         QJsonDocument(QJsonObject {{QStringLiteral("o"), m_instance},
                                    {QStringLiteral("op"), QStringLiteral("subscribe")},
                                    {QStringLiteral("channel"), channel.toString()},
                                    {QStringLiteral("users"), idArray(userIds)},
                                    {QStringLiteral("seq"), seq}})
             .toJson(QJsonDocument::Compact));
}

void ClusterBus::closeChannel(const Channel &channel, const QList<Id> &userIds)
{
    send(kControl,
         QJsonDocument(QJsonObject {{QStringLiteral("o"), m_instance},
                                    {QStringLiteral("op"), QStringLiteral("close")},
                                    {QStringLiteral("channel"), channel.toString()},
                                    {QStringLiteral("users"), idArray(userIds)}})
             .toJson(QJsonDocument::Compact));
}

void ClusterBus::revokeToken(const QByteArray &tokenDigest)
{
    send(kControl,
         QJsonDocument(QJsonObject {{QStringLiteral("o"), m_instance},
                                    {QStringLiteral("op"), QStringLiteral("revoke")},
                                    {QStringLiteral("digest"), QString::fromLatin1(tokenDigest.toHex())}})
             .toJson(QJsonDocument::Compact));
}

void ClusterBus::relayVolatile(const Channel &room, const QByteArray &frame, Id exceptUser)
{
    if (!m_pub.isUp())
        return; // volatile: not queued for later
    send(kControl,
         QJsonDocument(QJsonObject {{QStringLiteral("o"), m_instance},
                                    {QStringLiteral("op"), QStringLiteral("volatile")},
                                    {QStringLiteral("channel"), room.toString()},
                                    {QStringLiteral("except"), exceptUser},
                                    {QStringLiteral("frame"), QString::fromUtf8(frame)}})
             .toJson(QJsonDocument::Compact));
}

void ClusterBus::relayPresence(Id userId, bool online, const QList<Id> &roomIds)
{
    send(kControl,
         QJsonDocument(QJsonObject {{QStringLiteral("o"), m_instance},
                                    {QStringLiteral("op"), QStringLiteral("presence")},
                                    {QStringLiteral("user"), userId},
                                    {QStringLiteral("online"), online},
                                    {QStringLiteral("rooms"), idArray(roomIds)}})
             .toJson(QJsonDocument::Compact));
}

void ClusterBus::relayPresenceSnapshot(const QList<Id> &online, qint64 graceMs)
{
    QJsonObject o {{QStringLiteral("o"), m_instance},
                   {QStringLiteral("op"), QStringLiteral("online")},
                   {QStringLiteral("users"), idArray(online)}};
    if (graceMs > 0)
        o.insert(QStringLiteral("graceMs"), graceMs); // an older instance ignores it: its own grace
    send(kControl, QJsonDocument(o).toJson(QJsonDocument::Compact));
}

void ClusterBus::relayPresenceRooms(const QHash<Id, QList<Id>> &roomsByUser)
{
    QJsonObject users;
    for (auto it = roomsByUser.cbegin(); it != roomsByUser.cend(); ++it)
        users.insert(QString::number(it.key()), idArray(it.value()));
    send(kControl,
         QJsonDocument(QJsonObject {{QStringLiteral("o"), m_instance},
                                    {QStringLiteral("op"), QStringLiteral("online-rooms")},
                                    {QStringLiteral("users"), users}})
             .toJson(QJsonDocument::Compact));
}

void ClusterBus::relayLoad(qint64 connections, bool draining)
{
    send(kControl,
         QJsonDocument(QJsonObject {{QStringLiteral("o"), m_instance},
                                    {QStringLiteral("op"), QStringLiteral("load")},
                                    {QStringLiteral("connections"), connections},
                                    {QStringLiteral("draining"), draining}})
             .toJson(QJsonDocument::Compact));
}

void ClusterBus::requestPresenceSnapshots()
{
    send(kControl,
         QJsonDocument(
             QJsonObject {{QStringLiteral("o"), m_instance}, {QStringLiteral("op"), QStringLiteral("online?")}})
             .toJson(QJsonDocument::Compact));
}

void ClusterBus::onEvent(const QByteArray &payload)
{
    const QJsonObject o = QJsonDocument::fromJson(payload).object();
    if (o.value(QLatin1String("o")).toString() == m_instance)
        return; // our own publication: delivered locally already
    const QByteArray frame = QJsonDocument(o.value(QLatin1String("e")).toObject()).toJson(QJsonDocument::Compact);
    auto decoded = ws::decodeServerFrame(frame);
    if (!decoded || !std::holds_alternative<ChannelEvent>(*decoded)) {
        qCWarning(lcServer) << "cluster bus: undecodable event ignored";
        return;
    }
    m_receiver->remoteEvents({std::get<ChannelEvent>(*decoded)});
}

void ClusterBus::onControl(const QByteArray &payload)
{
    const QJsonObject o = QJsonDocument::fromJson(payload).object();
    if (o.value(QLatin1String("o")).toString() == m_instance)
        return;
    const QString op = o.value(QLatin1String("op")).toString();
    if (op == QLatin1String("revoke")) {
        m_receiver->remoteRevokeToken(QByteArray::fromHex(o.value(QLatin1String("digest")).toString().toLatin1()));
        return;
    }
    const QString origin = o.value(QLatin1String("o")).toString();
    if (op == QLatin1String("presence")) {
        m_receiver->remotePresence(origin, o.value(QLatin1String("user")).toInteger(),
                                   o.value(QLatin1String("online")).toBool(), idList(o.value(QLatin1String("rooms"))));
        return;
    }
    if (op == QLatin1String("online?")) { // an older instance ignores it: the 30 s snapshots
        m_receiver->remotePresenceSnapshotRequested();
        return;
    }
    if (op == QLatin1String("online-rooms")) {
        QHash<Id, QList<Id>> roomsByUser;
        const QJsonObject users = o.value(QLatin1String("users")).toObject();
        for (auto it = users.constBegin(); it != users.constEnd(); ++it) {
            bool ok = false;
            const Id user = it.key().toLongLong(&ok);
            if (ok && user > 0)
                roomsByUser.insert(user, idList(it.value()));
        }
        m_receiver->remotePresenceRooms(origin, roomsByUser);
        return;
    }
    if (op == QLatin1String("load")) { // an older instance ignores it: it does not rebalance
        m_receiver->remoteLoad(origin, std::max<qint64>(0, o.value(QLatin1String("connections")).toInteger()),
                               o.value(QLatin1String("draining")).toBool());
        return;
    }
    if (op == QLatin1String("online")) {
        m_receiver->remotePresenceSnapshot(
            origin, idList(o.value(QLatin1String("users"))),
            std::clamp<qint64>(o.value(QLatin1String("graceMs")).toInteger(), 0, 600000));
        return;
    }
    const auto channel = Channel::parse(o.value(QLatin1String("channel")).toString());
    if (!channel)
        return;
    if (op == QLatin1String("volatile")) {
        m_receiver->remoteVolatile(*channel, o.value(QLatin1String("frame")).toString(),
                                   o.value(QLatin1String("except")).toInteger());
        return;
    }
    if (op == QLatin1String("subscribe"))
        m_receiver->remoteSubscribe(*channel, idList(o.value(QLatin1String("users"))),
                                    o.value(QLatin1String("seq")).toInteger());
    else if (op == QLatin1String("close"))
        m_receiver->remoteCloseChannel(*channel, idList(o.value(QLatin1String("users"))));
}

} // namespace taskmaster::server
