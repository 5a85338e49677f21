#include "client-qml/net/connection.h"

#include "shared/codec/json_reader.h"
#include "shared/codec/json_writer.h"
#include "shared/codec/resource_json.h"
#include "shared/codec/rest_json.h"
#include "shared/codec/ws_frames.h"
#include "shared/core/overloaded.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QSettings>
#include <QUrlQuery>
#include <QUuid>

#include <algorithm>

Q_LOGGING_CATEGORY(lcConn, "tm.client.connection", QtInfoMsg)

namespace taskmaster::client {

namespace {

constexpr int kHeartbeatMs = 15000; // a ping every 15 s; no frame in between: the socket is dead
constexpr int kTypingSendMs = 3000;
constexpr int kTypingShowMs = 6000;
constexpr int kHistoryPage = 50;

QString keyServer()
{
    return QStringLiteral("server/url");
}
QString keyToken()
{
    return QStringLiteral("session/token");
}

QVariantMap projectMap(const Project &p)
{
    return {{QStringLiteral("projectId"), p.id},
            {QStringLiteral("name"), p.name},
            {QStringLiteral("description"), p.description}};
}

// Id from a QML value: numbers and numeric strings; 0 for null/undefined/empty.
Id idFrom(const QVariant &v)
{
    return v.isValid() && !v.isNull() ? v.toLongLong() : 0;
}

} // namespace

Connection::Connection(QObject *parent) : QObject(parent)
{
    m_clock.start();
    m_timeline.setSourceModel(&m_messages);
    m_serverUrl = settings()->value(keyServer(), QStringLiteral("http://127.0.0.1:8080")).toString();

    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &Connection::openSocket);
    m_heartbeatTimer.setInterval(kHeartbeatMs);
    connect(&m_heartbeatTimer, &QTimer::timeout, this, &Connection::heartbeat);
    m_sendTimer.setInterval(1000);
    connect(&m_sendTimer, &QTimer::timeout, this, &Connection::checkSendTimeouts);
    m_typingTimer.setInterval(1000);
    connect(&m_typingTimer, &QTimer::timeout, this, &Connection::pruneTyping);

    connect(&m_socket, &QWebSocket::connected, this, &Connection::onSocketConnected);
    connect(&m_socket, &QWebSocket::stateChanged, this, &Connection::onSocketState);
    connect(&m_socket, &QWebSocket::textMessageReceived, this, &Connection::onText);

    // The message model asks for pages and for missing seqs; answer outside its signal.
    connect(
        &m_messages, &MessageListModel::fetchOlderRequested, this,
        [this](qint64 beforeSeq) { loadHistory(m_currentRoomId, beforeSeq); }, Qt::QueuedConnection);
    connect(
        &m_messages, &MessageListModel::gapDetected, this,
        [this](qint64 from, qint64 to) {
            if (m_currentRoomId != 0)
                requestHistory(Channel::room(m_currentRoomId), from - 1, int(std::min<qint64>(to - from + 1, 200)));
        },
        Qt::QueuedConnection);
}

Connection::~Connection()
{
    m_wantSocket = false;
    m_socket.abort();
}

std::unique_ptr<QSettings> Connection::settings() const
{
    if (!m_settingsFile.isEmpty())
        return std::make_unique<QSettings>(m_settingsFile, QSettings::IniFormat);
    return std::make_unique<QSettings>();
}

void Connection::setSettingsFile(const QString &path)
{
    m_settingsFile = path;
    const QString saved = settings()->value(keyServer()).toString();
    if (!saved.isEmpty() && saved != m_serverUrl) {
        m_serverUrl = saved;
        Q_EMIT serverUrlChanged();
    }
}

void Connection::setServerUrl(const QString &url)
{
    QString u = url.trimmed();
    while (u.endsWith(QLatin1Char('/')))
        u.chop(1);
    if (!u.isEmpty() && !u.contains(QLatin1String("://")))
        u.prepend(QLatin1String("http://"));
    if (u == m_serverUrl)
        return;
    m_serverUrl = u;
    settings()->setValue(keyServer(), u);
    Q_EMIT serverUrlChanged();
}

QString Connection::stateName() const
{
    switch (m_state) {
    case Offline:
        return QStringLiteral("offline");
    case Connecting:
        return QStringLiteral("connecting");
    case Resyncing:
        return QStringLiteral("resyncing");
    case Online:
        return QStringLiteral("online");
    }
    return {};
}

void Connection::setState(State s)
{
    if (s == m_state)
        return;
    m_state = s;
    qCDebug(lcConn) << "state" << stateName();
    Q_EMIT stateChanged();
}

void Connection::setBusy(bool on)
{
    if (on != m_busy) {
        m_busy = on;
        Q_EMIT busyChanged();
    }
}

void Connection::setError(const QString &message)
{
    if (message != m_lastError) {
        m_lastError = message;
        Q_EMIT lastErrorChanged();
    }
}

void Connection::clearError()
{
    setError({});
}

void Connection::setReconnectBaseMs(int ms)
{
    m_reconnectBaseMs = std::max(1, ms);
    Q_EMIT reconnectPolicyChanged();
}

void Connection::setReconnectMaxMs(int ms)
{
    m_reconnectMaxMs = std::max(1, ms);
    Q_EMIT reconnectPolicyChanged();
}

void Connection::setSendTimeoutMs(int ms)
{
    m_sendTimeoutMs = std::max(100, ms);
    Q_EMIT reconnectPolicyChanged();
}

qint64 Connection::channelSeq(const QString &channel) const
{
    const auto ch = Channel::parse(channel);
    if (!ch)
        return 0;
    const auto it = m_channels.constFind(*ch);
    return it == m_channels.cend() ? 0 : it->contiguousSeq();
}

// ---- REST ----------------------------------------------------------------------------------

void Connection::rest(const QByteArray &method, const QString &pathAndQuery, const QByteArray &body, RestCallback cb,
                      const Headers &headers)
{
    QNetworkRequest req(QUrl(m_serverUrl + pathAndQuery));
    req.setTransferTimeout(15000);
    if (!m_token.isEmpty())
        req.setRawHeader("Authorization", "Bearer " + m_token);
    for (const auto &[name, value] : headers)
        req.setRawHeader(name, value);
    if (!body.isEmpty() || method == "POST" || method == "PATCH")
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    QNetworkReply *reply = m_nam.sendCustomRequest(req, method, body);
    const quint64 generation = m_generation;
    connect(reply, &QNetworkReply::finished, this, [this, reply, generation, cb = std::move(cb)] {
        reply->deleteLater();
        if (generation != m_generation)
            return; // the session that asked has ended
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray data = reply->readAll();
        if (status == 401 && loggedIn()) {
            endSession(tr("Your session has expired; please log in again."));
            return;
        }
        cb(status, data);
    });
}

QString Connection::errorText(int status, const QByteArray &body)
{
    if (status == 0)
        return tr("Cannot reach the server.");
    if (auto e = fromJson<ErrorBody>(body); e && !e->error.message.isEmpty())
        return e->error.message;
    return tr("The server answered %1.").arg(status);
}

// ---- session -------------------------------------------------------------------------------

bool Connection::restoreSession()
{
    const QByteArray token = settings()->value(keyToken()).toByteArray();
    if (token.isEmpty() || loggedIn())
        return false;
    m_token = token;
    setBusy(true);
    rest("GET", QStringLiteral("/api/v1/me"), {}, [this, token](int status, const QByteArray &body) {
        setBusy(false);
        auto user = status == 200 ? fromJson<User>(body) : Result<User>(Error {});
        if (!user) {
            m_token.clear();
            if (status == 401)
                settings()->remove(keyToken());
            else
                setError(errorText(status, body));
            return;
        }
        startSession(*user, token);
    });
    return true;
}

void Connection::login(const QString &username, const QString &password)
{
    authRequest(QStringLiteral("/api/v1/auth/login"), toJson(LoginRequest {username.trimmed(), password}));
}

void Connection::registerAccount(const QString &username, const QString &password, const QString &displayName)
{
    authRequest(QStringLiteral("/api/v1/auth/register"),
                toJson(RegisterRequest {username.trimmed(), password, displayName.trimmed()}));
}

void Connection::authRequest(const QString &path, const QByteArray &body)
{
    if (m_busy)
        return;
    setError({});
    setBusy(true);
    m_token.clear();
    rest("POST", path, body, [this](int status, const QByteArray &reply) {
        setBusy(false);
        if (status == 401) {
            setError(tr("Wrong username or password."));
            return;
        }
        auto auth = (status == 200 || status == 201) ? fromJson<AuthResponse>(reply) : Result<AuthResponse>(Error {});
        if (!auth) {
            setError(errorText(status, reply));
            return;
        }
        startSession(auth->user, auth->token.toUtf8());
    });
}

void Connection::startSession(const User &user, const QByteArray &token)
{
    m_token = token;
    m_self = user;
    rememberUser(user);
    {
        auto s = settings();
        s->setValue(keyToken(), QString::fromUtf8(token));
        s->setValue(keyServer(), m_serverUrl);
    }
    Q_EMIT sessionChanged();
    m_wantSocket = true;
    m_attempt = 0;
    openSocket();
    loadRooms();
    loadProjects();
}

void Connection::logout()
{
    if (!m_token.isEmpty()) {
        // Best effort: the token is forgotten here whatever the server answers.
        QNetworkRequest req(QUrl(m_serverUrl + QStringLiteral("/api/v1/auth/logout")));
        req.setRawHeader("Authorization", "Bearer " + m_token);
        QNetworkReply *reply = m_nam.post(req, QByteArray());
        connect(reply, &QNetworkReply::finished, reply, &QObject::deleteLater);
    }
    endSession({});
}

void Connection::endSession(const QString &reason)
{
    ++m_generation;
    settings()->remove(keyToken());
    m_token.clear();
    m_self = {};
    closeSocket();
    resetClientState();
    setError(reason);
    Q_EMIT sessionChanged();
}

void Connection::resetClientState()
{
    m_channels.clear();
    m_welcomeSeqs.clear();
    m_awaitingResume.clear();
    m_historyRequests.clear();
    m_pending.clear();
    m_sendFrames.clear();
    m_sendTimer.stop();
    m_typing.clear();
    m_online.clear();
    m_currentRoomId = 0;
    m_messages.setRoomId(0);
    m_readLinePinned = false;
    m_firstUnreadCount = 0;
    m_unreadJumpMarker = -1;
    m_rooms.reset({});
    m_currentProjectId = 0;
    m_projectTasks.clear();
    resetTaskModels();
    m_projects.clear();
    m_searchResults.clear();
    m_adminStats.clear();
    Q_EMIT currentRoomChanged();
    Q_EMIT currentProjectChanged();
    Q_EMIT projectsChanged();
    Q_EMIT pendingChanged();
    Q_EMIT typingChanged();
    Q_EMIT searchResultsChanged();
    Q_EMIT adminStatsChanged();
    Q_EMIT firstUnreadChanged();
}

// ---- WebSocket -----------------------------------------------------------------------------

void Connection::openSocket()
{
    if (!m_wantSocket || m_token.isEmpty())
        return;
    m_reconnectTimer.stop();
    QUrl url(m_serverUrl);
    url.setScheme(url.scheme() == QLatin1String("https") ? QStringLiteral("wss") : QStringLiteral("ws"));
    url.setPath(url.path() + QStringLiteral("/ws"));
    m_welcomed = false;
    setState(Connecting);
    qCDebug(lcConn) << "opening" << url << "attempt" << m_attempt;
    m_socket.open(url);
}

void Connection::closeSocket()
{
    m_wantSocket = false;
    m_reconnectTimer.stop();
    m_heartbeatTimer.stop();
    if (m_socket.state() != QAbstractSocket::UnconnectedState)
        m_socket.close();
    m_welcomed = false;
    setState(Offline);
}

void Connection::onSocketConnected()
{
    ws::Hello hello;
    hello.token = QString::fromUtf8(m_token);
    for (auto it = m_channels.cbegin(); it != m_channels.cend(); ++it) {
        if (it->started())
            hello.resume.insert(it.key(), it->contiguousSeq());
    }
    m_awaitingPong = false;
    m_heartbeatTimer.start();
    sendFrame(ws::encodeClientFrame(hello));
}

void Connection::onSocketState(QAbstractSocket::SocketState state)
{
    if (state != QAbstractSocket::UnconnectedState)
        return;
    m_heartbeatTimer.stop();
    m_welcomed = false;
    const auto code = int(m_socket.closeCode());
    if (m_wantSocket && (code == 4001 || code == 4003)) {
        endSession(tr("Your session has ended; please log in again."));
        return;
    }
    if (!m_wantSocket) {
        setState(Offline);
        return;
    }
    // Sends in flight stay pending; they go out again after the next welcome.
    for (auto &p : m_pending)
        p.frameId = 0;
    m_sendFrames.clear();
    m_historyRequests.clear();
    scheduleReconnect();
}

void Connection::scheduleReconnect(int minDelayMs)
{
    if (!m_wantSocket || m_reconnectTimer.isActive())
        return;
    ++m_attempt;
    const int shift = std::min(m_attempt - 1, 20);
    const qint64 ceiling = std::min<qint64>(m_reconnectMaxMs, qint64(m_reconnectBaseMs) << shift);
    const qint64 jittered = ceiling / 2 + QRandomGenerator::global()->bounded(ceiling / 2 + 1);
    const int delay = int(std::max<qint64>(jittered, minDelayMs));
    qCDebug(lcConn) << "reconnect in" << delay << "ms";
    setState(Offline);
    m_reconnectTimer.start(delay);
}

void Connection::reconnectNow()
{
    if (m_wantSocket && m_socket.state() == QAbstractSocket::UnconnectedState) {
        m_reconnectTimer.stop();
        openSocket();
    }
}

void Connection::sendFrame(const QByteArray &bytes)
{
    if (m_socket.state() == QAbstractSocket::ConnectedState)
        m_socket.sendTextMessage(QString::fromUtf8(bytes));
}

void Connection::heartbeat()
{
    if (m_awaitingPong) {
        qCInfo(lcConn) << "no frame for" << kHeartbeatMs << "ms: dropping the socket";
        m_socket.abort();
        return;
    }
    m_awaitingPong = true;
    sendFrame(ws::encodeClientFrame(ws::Ping {nextFrameId(), double(QDateTime::currentMSecsSinceEpoch())}));
}

void Connection::onText(const QString &text)
{
    m_awaitingPong = false;
    auto frame = ws::decodeServerFrame(text.toUtf8());
    if (!frame) {
        qCWarning(lcConn) << "undecodable frame:" << frame.error().message;
        return;
    }
    std::visit(Overloaded {
                   [this](const ws::Welcome &w) { onWelcome(w); },
                   [this](const ChannelEvent &e) { onEvent(e); },
                   [this](const ws::Ack &a) {
                       const QString clientId = m_sendFrames.take(a.id.value_or(0));
                       if (!clientId.isEmpty()) {
                           m_pending.remove(clientId);
                           if (a.message.roomId == m_currentRoomId)
                               m_messages.acknowledge(clientId, a.message);
                           Q_EMIT pendingChanged();
                       } else if (a.message.roomId == m_currentRoomId) {
                           m_messages.applyUpdate(a.message);
                       }
                   },
                   [this](const ws::ErrorFrame &e) {
                       const QString clientId = m_sendFrames.take(e.id.value_or(0));
                       if (!clientId.isEmpty()) {
                           auto it = m_pending.find(clientId);
                           if (it != m_pending.end()) {
                               it->failed = true;
                               if (it->roomId == m_currentRoomId)
                                   m_messages.markFailed(clientId);
                           }
                       }
                       setError(e.error.message);
                   },
                   [this](const ws::TypingEvent &t) {
                       if (t.userId == m_self.id)
                           return;
                       m_typing[t.roomId][t.userId] = m_clock.elapsed() + kTypingShowMs;
                       if (!m_typingTimer.isActive())
                           m_typingTimer.start();
                       if (t.roomId == m_currentRoomId)
                           Q_EMIT typingChanged();
                   },
                   [this](const ws::ReadEvent &r) {
                       if (r.userId == m_self.id)
                           m_rooms.markRead(r.roomId, r.seq);
                   },
                   [this](const ws::Presence &p) {
                       const bool online = p.status == ws::PresenceStatus::Online;
                       if (online ? !m_online.contains(p.userId) : m_online.contains(p.userId)) {
                           if (online)
                               m_online.insert(p.userId);
                           else
                               m_online.remove(p.userId);
                           ++m_directoryRevision;
                           Q_EMIT directoryChanged();
                       }
                   },
                   [this](const ws::Reconnect &r) {
                       // The instance is draining: go elsewhere (through the balancer) and resume.
                       qCInfo(lcConn) << "server asked to reconnect:" << r.reason;
                       m_socket.close();
                       m_reconnectTimer.stop();
                       scheduleReconnect(int(r.retryAfterMs));
                   },
                   [this](const ws::Resumed &r) {
                       ++m_resumedCount;
                       Q_EMIT channelResumed(r.channel.toString(), r.from, r.to);
                       onResumeEnded(r.channel);
                   },
                   [this](const ws::Resync &r) { resyncChannel(r.channel); },
                   [this](const ws::HistoryReply &h) {
                       m_historyRequests.remove(h.id.value_or(0));
                       for (const ChannelEvent &e : h.events)
                           onEvent(e);
                   },
                   [](const ws::Pong &) {},
               },
               *frame);
}

void Connection::onWelcome(const ws::Welcome &w)
{
    m_welcomed = true;
    m_attempt = 0;
    m_instance = w.instance;
    m_welcomeSeqs.clear();
    m_awaitingResume.clear();
    const bool firstWelcome = m_channels.isEmpty(); // the login already loaded rooms and projects
    bool unknownChannels = false;
    // Channels no longer listed: membership ended while away.
    const auto known = m_channels.keys();
    for (const Channel &ch : known) {
        if (!w.channels.contains(ch)) {
            m_channels.remove(ch);
            if (ch.kind == ChannelKind::Room) {
                m_rooms.remove(ch.id);
                if (ch.id == m_currentRoomId)
                    closeRoom();
            } else {
                unknownChannels = true; // reload the project list
            }
        }
    }
    for (auto it = w.channels.cbegin(); it != w.channels.cend(); ++it) {
        m_welcomeSeqs.insert(it.key(), it.value());
        auto tracker = m_channels.find(it.key());
        if (tracker == m_channels.end() || !tracker->started()) {
            // Not resumed: the REST snapshot loaded below (or at login) is the starting point.
            m_channels[it.key()].setSynced(it.value());
            unknownChannels = true;
        } else if (it.value() > tracker->contiguousSeq()) {
            m_awaitingResume.insert(it.key()); // `resumed` (or `resync`) follows
        }
    }
    if (unknownChannels && !firstWelcome) {
        loadRooms();
        loadProjects();
    }
    // Everything still pending goes out again (the server dedupes by clientId).
    for (auto &p : m_pending) {
        if (!p.failed)
            transmit(p);
    }
    setState(m_awaitingResume.isEmpty() ? Online : Resyncing);
    Q_EMIT stateChanged(); // instance, attempt
}

void Connection::onResumeEnded(const Channel &channel)
{
    if (m_awaitingResume.remove(channel) && m_awaitingResume.isEmpty() && m_welcomed)
        setState(Online);
}

void Connection::resyncChannel(const Channel &channel)
{
    ++m_resyncCount;
    const Seq seq = m_welcomeSeqs.value(channel, 0);
    m_channels[channel].reset();
    m_channels[channel].setSynced(seq);
    if (channel.kind == ChannelKind::Room) {
        fetchRoom(channel.id);
        if (channel.id == m_currentRoomId) {
            m_messages.clear();
            m_messages.fetchMore({});
        }
    } else if (channel.id == m_currentProjectId) {
        loadTasks(channel.id, {}, {});
    }
    Q_EMIT channelResynced(channel.toString());
    onResumeEnded(channel);
}

void Connection::requestHistory(const Channel &channel, Seq after, int limit)
{
    if (m_socket.state() != QAbstractSocket::ConnectedState)
        return; // the resume after the reconnect covers it
    const qint64 id = nextFrameId();
    m_historyRequests.insert(id, channel);
    sendFrame(ws::encodeClientFrame(ws::HistoryRequest {id, channel, after, std::clamp(limit, 1, 200)}));
}

void Connection::onEvent(const ChannelEvent &e)
{
    SeqGapTracker &tracker = m_channels[e.channel];
    const auto fed = tracker.feed(e.seq);
    if (fed.newGap)
        requestHistory(e.channel, fed.newGap->from - 1, int(fed.newGap->to - fed.newGap->from + 1));

    if (e.channel.kind == ChannelKind::Room) {
        const Id roomId = e.channel.id;
        const bool open = roomId == m_currentRoomId;
        switch (e.type) {
        case EventType::MessageCreated:
            if (!e.message)
                break;
            if (fed.fresh && m_rooms.rowForId(roomId) < 0)
                fetchRoom(roomId); // a room we were just added to
            if (fed.fresh)
                m_rooms.onMessage(roomId, e.seq, e.message->createdAt, e.message->authorId, m_self.id);
            if (open)
                m_messages.appendLive(*e.message); // deduped by seq; replaces our pending row
            if (e.message->clientId && e.message->authorId == m_self.id && m_pending.remove(*e.message->clientId))
                Q_EMIT pendingChanged();
            if (fed.fresh && m_typing.contains(roomId) && m_typing[roomId].remove(e.message->authorId) && open)
                Q_EMIT typingChanged();
            break;
        case EventType::MessageUpdated:
            if (open && e.message)
                m_messages.applyUpdate(*e.message, e.seq);
            break;
        case EventType::MemberJoined:
        case EventType::MemberLeft:
            if (open)
                m_messages.noteEventSeq(e.seq);
            if (fed.fresh) {
                if (e.type == EventType::MemberLeft && e.userId == m_self.id) {
                    m_rooms.remove(roomId);
                    m_channels.remove(e.channel);
                    if (open)
                        closeRoom();
                } else {
                    fetchRoom(roomId); // a new room for us, or its member list changed
                }
            }
            break;
        default:
            break;
        }
        return;
    }

    // project channel
    if (!fed.fresh && e.channel.id != m_currentProjectId)
        return;
    switch (e.type) {
    case EventType::TaskCreated:
    case EventType::TaskUpdated:
        if (e.task && e.channel.id == m_currentProjectId)
            feedTask(*e.task);
        break;
    case EventType::TaskDeleted:
        if (e.task && e.channel.id == m_currentProjectId)
            removeTask(e.task->id);
        break;
    case EventType::MemberJoined:
    case EventType::MemberLeft:
        if (fed.fresh && e.userId == m_self.id)
            loadProjects();
        break;
    default:
        break;
    }
}

// ---- rooms and messages --------------------------------------------------------------------

void Connection::loadRooms()
{
    rest("GET", QStringLiteral("/api/v1/rooms?limit=200"), {}, [this](int status, const QByteArray &body) {
        auto page = status == 200 ? fromJson<Page<Room>>(body) : Result<Page<Room>>(Error {});
        if (!page) {
            setError(errorText(status, body));
            return;
        }
        QSet<Id> present;
        for (const Room &r : std::as_const(page->items)) {
            present.insert(r.id);
            m_rooms.upsert(r); // keeps live counts that are newer than the snapshot
            for (Id member : r.memberIds)
                requestUser(member); // warm the directory
        }
        for (int row = m_rooms.count() - 1; row >= 0; --row) {
            const Id id = m_rooms.roomAt(row).id;
            if (!present.contains(id))
                m_rooms.remove(id);
        }
        if (m_currentRoomId != 0)
            Q_EMIT currentRoomChanged(); // name may have arrived
    });
}

void Connection::fetchRoom(Id roomId)
{
    rest("GET", QStringLiteral("/api/v1/rooms/%1").arg(roomId), {}, [this, roomId](int status, const QByteArray &body) {
        if (status == 404) {
            m_rooms.remove(roomId);
            return;
        }
        if (auto room = status == 200 ? fromJson<Room>(body) : Result<Room>(Error {})) {
            m_rooms.upsert(*room);
            if (roomId == m_currentRoomId)
                Q_EMIT currentRoomChanged();
        }
    });
}

QString Connection::currentRoomName() const
{
    const auto room = m_rooms.room(m_currentRoomId);
    return room ? room->name : QString();
}

void Connection::openRoom(qint64 roomId)
{
    if (roomId == m_currentRoomId)
        return;
    m_currentRoomId = roomId;
    m_messages.setRoomId(roomId);
    // The server's read marker places the "new messages" line; with unread messages it stays
    // there for the visit (markRead() moves only the marker of the room list and the server's).
    const auto room = m_rooms.room(roomId);
    const bool marker = room && room->readSeq;
    m_readLinePinned = marker && room->unread > 0;
    m_firstUnreadCount = m_readLinePinned ? room->unread : 0;
    m_unreadJumpMarker = -1;
    m_messages.setReadSeq(marker ? *room->readSeq : -1);
    Q_EMIT firstUnreadChanged();
    // The local rows of this room's sends still in flight.
    for (const PendingSend &p : std::as_const(m_pending)) {
        if (p.roomId == roomId) {
            m_messages.addPending(p.clientId, p.body, m_self.id);
            if (p.failed)
                m_messages.markFailed(p.clientId);
        }
    }
    Q_EMIT currentRoomChanged();
    Q_EMIT typingChanged();
    if (roomId != 0)
        m_messages.fetchMore({}); // the latest page (fetchOlderRequested(0))
}

void Connection::closeRoom()
{
    openRoom(0);
}

void Connection::loadOlder()
{
    if (m_messages.canFetchMore({}))
        m_messages.fetchMore({});
}

void Connection::jumpToFirstUnread()
{
    if (m_currentRoomId == 0 || m_messages.readSeq() < 0 || m_unreadJumpMarker >= 0)
        return;
    m_unreadJumpMarker = m_messages.readSeq();
    Q_EMIT firstUnreadChanged();
    continueUnreadJump();
}

void Connection::continueUnreadJump()
{
    if (m_unreadJumpMarker < 0)
        return;
    // Reached when a message at or before the marker is loaded (the first unread is then a
    // loaded row after it), or the whole room is.
    const bool reached = !m_messages.hasMoreHistory()
        || (m_messages.confirmedCount() > 0 && m_messages.messageAt(0).seq <= m_unreadJumpMarker);
    if (reached) {
        m_unreadJumpMarker = -1;
        m_firstUnreadCount = 0;
        Q_EMIT firstUnreadChanged();
        Q_EMIT firstUnreadReady(m_messages.firstUnreadSeq());
        return;
    }
    // Otherwise the next page; one already in flight continues the jump when it arrives.
    if (m_messages.canFetchMore({}))
        m_messages.fetchMore({});
}

void Connection::endUnreadJump()
{
    if (m_unreadJumpMarker < 0)
        return;
    m_unreadJumpMarker = -1;
    Q_EMIT firstUnreadChanged();
}

void Connection::loadHistory(Id roomId, Seq beforeSeq)
{
    if (roomId == 0 || roomId != m_currentRoomId)
        return;
    HistoryQuery q;
    if (beforeSeq > 0)
        q.before = beforeSeq;
    q.limit = kHistoryPage;
    // Jumping to the first unread: one page reaching the marker when it can (there are no more
    // messages between the marker and beforeSeq than seqs), at most the protocol's 200.
    if (m_unreadJumpMarker >= 0 && beforeSeq > 0)
        q.limit = int(std::clamp<qint64>(beforeSeq - m_unreadJumpMarker, kHistoryPage, 200));
    const QString path
        = QStringLiteral("/api/v1/rooms/%1/messages?%2").arg(roomId).arg(toQuery(q).toString(QUrl::FullyEncoded));
    rest("GET", path, {}, [this, roomId, beforeSeq](int status, const QByteArray &body) {
        if (roomId != m_currentRoomId)
            return;
        auto page = status == 200 ? fromJson<HistoryPage>(body) : Result<HistoryPage>(Error {});
        if (!page) {
            m_messages.fetchOlderFailed();
            setError(errorText(status, body));
            endUnreadJump();
            Q_EMIT historyLoaded(roomId, false);
            return;
        }
        qCDebug(lcConn) << "history page of room" << roomId << "before" << beforeSeq << ":" << page->items.size()
                        << "items, hasMore" << page->hasMore;
        for (const Message &m : std::as_const(page->items))
            requestUser(m.authorId);
        m_messages.prependPage(page->items, page->hasMore);
        if (beforeSeq == 0) {
            // The latest page plus the live events received meanwhile reflect the channel up
            // to what the connection has seen without a hole.
            const auto it = m_channels.constFind(Channel::room(roomId));
            if (it != m_channels.cend() && it->started())
                m_messages.setSyncedSeq(it->contiguousSeq());
            markRead();
        }
        continueUnreadJump();
        Q_EMIT historyLoaded(roomId, true);
    });
}

void Connection::createRoom(const QString &name, const QVariantList &memberIds)
{
    CreateRoomRequest req;
    req.name = name.trimmed();
    for (const QVariant &v : memberIds) {
        if (const Id id = idFrom(v); id > 0 && id != m_self.id)
            req.memberIds.append(id);
    }
    rest("POST", QStringLiteral("/api/v1/rooms"), toJson(req), [this](int status, const QByteArray &body) {
        auto room = status == 201 || status == 200 ? fromJson<Room>(body) : Result<Room>(Error {});
        if (!room) {
            setError(errorText(status, body));
            return;
        }
        m_rooms.upsert(*room);
        Q_EMIT roomCreated(room->id);
    });
}

void Connection::addRoomMember(qint64 roomId, qint64 userId)
{
    rest("POST", QStringLiteral("/api/v1/rooms/%1/members").arg(roomId), toJson(AddMemberRequest {userId}),
         [this, roomId](int status, const QByteArray &body) {
             if (status >= 300)
                 setError(errorText(status, body));
             else
                 fetchRoom(roomId);
         });
}

QString Connection::sendMessage(const QString &body)
{
    const QString text = body.trimmed();
    if (m_currentRoomId == 0 || text.isEmpty())
        return {};
    PendingSend p;
    p.roomId = m_currentRoomId;
    p.body = text;
    p.clientId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    m_messages.addPending(p.clientId, p.body, m_self.id);
    auto it = m_pending.insert(p.clientId, p);
    if (m_welcomed)
        transmit(*it);
    if (!m_sendTimer.isActive())
        m_sendTimer.start();
    Q_EMIT pendingChanged();
    return p.clientId;
}

void Connection::transmit(PendingSend &p)
{
    p.frameId = nextFrameId();
    p.sentAtMs = m_clock.elapsed();
    m_sendFrames.insert(p.frameId, p.clientId);
    sendFrame(ws::encodeClientFrame(ws::Send {p.frameId, p.roomId, p.body, p.clientId}));
}

void Connection::checkSendTimeouts()
{
    bool any = false;
    const qint64 now = m_clock.elapsed();
    for (auto &p : m_pending) {
        if (p.failed)
            continue;
        any = true;
        // Not transmitted (offline) counts from when it was queued.
        if (p.sentAtMs == 0)
            p.sentAtMs = now;
        if (now - p.sentAtMs >= m_sendTimeoutMs) {
            p.failed = true;
            m_sendFrames.remove(p.frameId);
            if (p.roomId == m_currentRoomId)
                m_messages.markFailed(p.clientId);
        }
    }
    if (!any)
        m_sendTimer.stop();
}

void Connection::retrySend(const QString &clientId)
{
    auto it = m_pending.find(clientId);
    if (it == m_pending.end())
        return;
    it->failed = false;
    it->sentAtMs = 0;
    if (it->roomId == m_currentRoomId)
        m_messages.addPending(clientId, it->body, m_self.id); // back to pending
    if (m_welcomed)
        transmit(*it);
    if (!m_sendTimer.isActive())
        m_sendTimer.start();
}

void Connection::discardSend(const QString &clientId)
{
    const auto p = m_pending.take(clientId);
    if (p.roomId == m_currentRoomId)
        m_messages.discardPending(clientId);
    Q_EMIT pendingChanged();
}

void Connection::editMessage(qint64 messageId, const QString &body)
{
    rest("PATCH", QStringLiteral("/api/v1/messages/%1").arg(messageId), toJson(EditMessageRequest {body.trimmed()}),
         [this](int status, const QByteArray &reply) {
             auto m = status == 200 ? fromJson<Message>(reply) : Result<Message>(Error {});
             if (!m) {
                 setError(errorText(status, reply));
                 return;
             }
             if (m->roomId == m_currentRoomId)
                 m_messages.applyUpdate(*m);
         });
}

void Connection::deleteMessage(qint64 messageId)
{
    rest("DELETE", QStringLiteral("/api/v1/messages/%1").arg(messageId), {},
         [this](int status, const QByteArray &reply) {
             if (status >= 300) {
                 setError(errorText(status, reply));
                 return;
             }
             if (auto m = fromJson<Message>(reply); m && m->roomId == m_currentRoomId)
                 m_messages.applyUpdate(*m);
         });
}

void Connection::notifyTyping()
{
    if (m_currentRoomId == 0 || !m_welcomed)
        return;
    const qint64 now = m_clock.elapsed();
    const auto last = m_lastTypingSent.constFind(m_currentRoomId);
    if (last != m_lastTypingSent.cend() && now - *last < kTypingSendMs)
        return;
    m_lastTypingSent.insert(m_currentRoomId, now);
    sendFrame(ws::encodeClientFrame(ws::Typing {m_currentRoomId}));
}

void Connection::markRead()
{
    if (m_currentRoomId == 0)
        return;
    Seq seq = 0;
    for (int row = m_messages.confirmedCount() - 1; row >= 0 && seq == 0; --row)
        seq = m_messages.messageAt(row).seq;
    if (seq <= 0)
        return;
    const auto room = m_rooms.room(m_currentRoomId);
    if (room && room->unread == 0 && room->readSeq.value_or(-1) >= seq)
        return;
    if (!m_readLinePinned)
        m_messages.setReadSeq(seq);
    m_rooms.markRead(m_currentRoomId, seq);
    if (m_welcomed)
        sendFrame(ws::encodeClientFrame(ws::Read {m_currentRoomId, seq}));
    else
        rest("POST", QStringLiteral("/api/v1/rooms/%1/read").arg(m_currentRoomId), toJson(ReadMarkerRequest {seq}),
             [](int, const QByteArray &) {});
}

QString Connection::typingText() const
{
    const auto it = m_typing.constFind(m_currentRoomId);
    if (it == m_typing.cend() || it->isEmpty())
        return {};
    QStringList names;
    for (auto u = it->cbegin(); u != it->cend(); ++u) {
        const auto user = m_users.constFind(u.key());
        names << (user != m_users.cend() ? user->displayName : tr("Someone"));
    }
    names.sort();
    if (names.size() == 1)
        return tr("%1 is typing…").arg(names.first());
    if (names.size() == 2)
        return tr("%1 and %2 are typing…").arg(names.at(0), names.at(1));
    return tr("%1 people are typing…").arg(names.size());
}

void Connection::pruneTyping()
{
    const qint64 now = m_clock.elapsed();
    bool changedOpen = false;
    for (auto room = m_typing.begin(); room != m_typing.end();) {
        for (auto u = room->begin(); u != room->end();) {
            if (u.value() <= now) {
                changedOpen = changedOpen || room.key() == m_currentRoomId;
                u = room->erase(u);
            } else {
                ++u;
            }
        }
        room = room->isEmpty() ? m_typing.erase(room) : std::next(room);
    }
    if (m_typing.isEmpty())
        m_typingTimer.stop();
    if (changedOpen)
        Q_EMIT typingChanged();
}

// ---- projects and tasks --------------------------------------------------------------------

void Connection::loadProjects()
{
    rest("GET", QStringLiteral("/api/v1/projects?limit=200"), {}, [this](int status, const QByteArray &body) {
        auto page = status == 200 ? fromJson<Page<Project>>(body) : Result<Page<Project>>(Error {});
        if (!page) {
            setError(errorText(status, body));
            return;
        }
        QVariantList list;
        for (const Project &p : std::as_const(page->items))
            list.append(projectMap(p));
        m_projects = list;
        Q_EMIT projectsChanged();
        Q_EMIT currentProjectChanged();
    });
}

QString Connection::currentProjectName() const
{
    for (const QVariant &v : m_projects) {
        const QVariantMap p = v.toMap();
        if (p.value(QStringLiteral("projectId")).toLongLong() == m_currentProjectId)
            return p.value(QStringLiteral("name")).toString();
    }
    return {};
}

void Connection::createProject(const QString &name, const QString &description)
{
    rest("POST", QStringLiteral("/api/v1/projects"), toJson(CreateProjectRequest {name.trimmed(), description}),
         [this](int status, const QByteArray &body) {
             auto p = status == 201 || status == 200 ? fromJson<Project>(body) : Result<Project>(Error {});
             if (!p) {
                 setError(errorText(status, body));
                 return;
             }
             m_projects.append(projectMap(*p));
             Q_EMIT projectsChanged();
             Q_EMIT projectCreated(p->id);
         });
}

void Connection::addProjectMember(qint64 projectId, qint64 userId)
{
    rest("POST", QStringLiteral("/api/v1/projects/%1/members").arg(projectId), toJson(AddMemberRequest {userId}),
         [this](int status, const QByteArray &body) {
             if (status >= 300)
                 setError(errorText(status, body));
         });
}

void Connection::openProject(qint64 projectId)
{
    if (projectId == m_currentProjectId)
        return;
    m_currentProjectId = projectId;
    m_projectTasks.clear();
    resetTaskModels();
    Q_EMIT currentProjectChanged();
    if (projectId != 0)
        loadTasks(projectId, {}, {});
}

void Connection::loadTasks(Id projectId, const QString &cursor, QList<Task> acc)
{
    TaskListQuery q;
    q.limit = 200;
    if (!cursor.isEmpty()) {
        if (auto c = decodeCursor(cursor))
            q.cursor = *c;
    }
    const QString path
        = QStringLiteral("/api/v1/projects/%1/tasks?%2").arg(projectId).arg(toQuery(q).toString(QUrl::FullyEncoded));
    rest("GET", path, {}, [this, projectId, acc = std::move(acc)](int status, const QByteArray &body) mutable {
        if (projectId != m_currentProjectId)
            return;
        auto page = status == 200 ? fromJson<Page<Task>>(body) : Result<Page<Task>>(Error {});
        if (!page) {
            setError(errorText(status, body));
            return;
        }
        acc += page->items;
        if (page->nextCursor && !page->items.isEmpty()) {
            loadTasks(projectId, *page->nextCursor, std::move(acc));
            return;
        }
        // Live events that arrived during the load are newer than the pages: keep them.
        for (const Task &t : std::as_const(acc)) {
            const auto held = m_projectTasks.constFind(t.id);
            if (held == m_projectTasks.cend() || held->version <= t.version)
                m_projectTasks.insert(t.id, t);
        }
        resetTaskModels();
        for (const Task &t : std::as_const(acc)) {
            if (t.assigneeId)
                requestUser(*t.assigneeId);
        }
        Q_EMIT tasksLoaded(projectId);
    });
}

void Connection::resetTaskModels()
{
    const QList<Task> all = m_projectTasks.values();
    m_tasks.setProjectId(m_currentProjectId);
    m_tasks.reset(all);
    m_boardModels.removeAll(nullptr);
    for (const auto &model : std::as_const(m_boardModels)) {
        model->setProjectId(m_currentProjectId);
        model->reset(all);
    }
}

void Connection::feedTask(const Task &task)
{
    const auto held = m_projectTasks.constFind(task.id);
    if (held != m_projectTasks.cend() && held->version > task.version)
        return;
    showTask(task);
    if (task.assigneeId)
        requestUser(*task.assigneeId);
}

void Connection::removeTask(Id taskId)
{
    m_projectTasks.remove(taskId);
    m_tasks.remove(taskId);
    for (const auto &model : std::as_const(m_boardModels)) {
        if (model)
            model->remove(taskId);
    }
}

void Connection::attachTaskModel(TaskListModel *model)
{
    if (!model || m_boardModels.contains(model))
        return;
    m_boardModels.append(model);
    model->setProjectId(m_currentProjectId);
    model->reset(m_projectTasks.values());
}

void Connection::detachTaskModel(TaskListModel *model)
{
    m_boardModels.removeAll(model);
}

QVariantMap Connection::taskInfo(qint64 taskId) const
{
    const auto it = m_projectTasks.constFind(taskId);
    if (it == m_projectTasks.cend())
        return {};
    const Task &t = *it;
    return {{QStringLiteral("taskId"), t.id},
            {QStringLiteral("title"), t.title},
            {QStringLiteral("description"), t.description},
            {QStringLiteral("status"), toWire(t.status)},
            {QStringLiteral("priority"), toWire(t.priority)},
            {QStringLiteral("assigneeId"), t.assigneeId ? QVariant(*t.assigneeId) : QVariant()},
            {QStringLiteral("dueDate"), t.dueDate ? formatDate(*t.dueDate) : QString()},
            {QStringLiteral("version"), t.version}};
}

void Connection::createTask(const QVariantMap &fields)
{
    if (m_currentProjectId == 0)
        return;
    CreateTaskRequest req;
    req.title = fields.value(QStringLiteral("title")).toString().trimmed();
    req.description = fields.value(QStringLiteral("description")).toString();
    if (auto s = taskStatusFromWire(fields.value(QStringLiteral("status")).toString()))
        req.status = *s;
    if (auto p = taskPriorityFromWire(fields.value(QStringLiteral("priority")).toString()))
        req.priority = *p;
    if (const Id a = idFrom(fields.value(QStringLiteral("assigneeId"))); a > 0)
        req.assigneeId = a;
    if (auto d = parseDate(fields.value(QStringLiteral("dueDate")).toString()))
        req.dueDate = *d;
    const Id projectId = m_currentProjectId;
    rest("POST", QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId), toJson(req),
         [this, projectId](int status, const QByteArray &body) {
             auto t = status == 201 || status == 200 ? fromJson<Task>(body) : Result<Task>(Error {});
             if (!t) {
                 setError(errorText(status, body));
                 return;
             }
             if (projectId == m_currentProjectId)
                 feedTask(*t);
         });
}

void Connection::updateTask(qint64 taskId, const QVariantMap &changes)
{
    PatchTaskRequest req;
    const auto has = [&](const char *k) { return changes.contains(QLatin1String(k)); };
    const auto get = [&](const char *k) { return changes.value(QLatin1String(k)); };
    if (has("title"))
        req.title = get("title").toString().trimmed();
    if (has("description"))
        req.description = get("description").toString();
    if (has("status"))
        req.status = taskStatusFromWire(get("status").toString());
    if (has("priority"))
        req.priority = taskPriorityFromWire(get("priority").toString());
    if (has("assigneeId")) {
        const Id a = idFrom(get("assigneeId"));
        req.assigneeId = a > 0 ? std::optional<Id>(a) : std::optional<Id>();
    }
    if (has("dueDate"))
        req.dueDate = parseDate(get("dueDate").toString());
    rest("PATCH", QStringLiteral("/api/v1/tasks/%1").arg(taskId), toJson(req),
         [this](int status, const QByteArray &body) {
             auto t = status == 200 ? fromJson<Task>(body) : Result<Task>(Error {});
             if (!t) {
                 setError(errorText(status, body));
                 return;
             }
             if (t->projectId == m_currentProjectId)
                 feedTask(*t);
         });
}

void Connection::setTaskStatus(qint64 taskId, const QString &status)
{
    const auto s = taskStatusFromWire(status);
    const auto it = m_projectTasks.constFind(taskId);
    if (!s || it == m_projectTasks.cend() || it->status == *s)
        return;
    // Optimistic: the board moves the card at once; the reply (or its event) confirms it.
    const Task before = *it;
    Task moved = before;
    moved.status = *s;
    showTask(moved);
    PatchTaskRequest req;
    req.status = *s;
    rest("PATCH", QStringLiteral("/api/v1/tasks/%1").arg(taskId), toJson(req),
         [this, before](int code, const QByteArray &body) {
             if (auto t = code == 200 ? fromJson<Task>(body) : Result<Task>(Error {})) {
                 if (t->projectId == m_currentProjectId)
                     feedTask(*t);
                 return;
             }
             setError(errorText(code, body));
             if (before.projectId != m_currentProjectId)
                 return;
             // Back where it was, unless a newer version arrived meanwhile (or it was deleted).
             const auto held = m_projectTasks.constFind(before.id);
             if (held != m_projectTasks.cend() && held->version == before.version)
                 showTask(before);
             if (code == 412)
                 fetchTask(before.id); // changed by someone else first: show their version
         },
         {{QByteArrayLiteral("If-Match"), QByteArray::number(before.version)}});
}

void Connection::showTask(const Task &task)
{
    m_projectTasks.insert(task.id, task);
    m_tasks.upsert(task);
    for (const auto &model : std::as_const(m_boardModels)) {
        if (model)
            model->upsert(task);
    }
}

void Connection::fetchTask(Id taskId)
{
    rest("GET", QStringLiteral("/api/v1/tasks/%1").arg(taskId), {}, [this](int status, const QByteArray &body) {
        if (auto t = status == 200 ? fromJson<Task>(body) : Result<Task>(Error {});
            t && t->projectId == m_currentProjectId)
            feedTask(*t);
    });
}

void Connection::deleteTask(qint64 taskId)
{
    rest("DELETE", QStringLiteral("/api/v1/tasks/%1").arg(taskId), {},
         [this, taskId](int status, const QByteArray &body) {
             if (status >= 300) {
                 setError(errorText(status, body));
                 return;
             }
             removeTask(taskId);
         });
}

// ---- directory, search, admin ----------------------------------------------------------------

void Connection::rememberUser(const User &user)
{
    m_users.insert(user.id, user);
    ++m_directoryRevision;
    Q_EMIT directoryChanged();
}

QString Connection::userName(qint64 userId)
{
    if (userId <= 0)
        return {};
    const auto it = m_users.constFind(userId);
    if (it != m_users.cend())
        return it->displayName;
    requestUser(userId);
    return QStringLiteral("…");
}

void Connection::requestUser(Id userId)
{
    if (userId > 0 && !m_users.contains(userId) && !m_userRequests.contains(userId) && loggedIn()) {
        m_userRequests.insert(userId);
        rest("GET", QStringLiteral("/api/v1/users/%1").arg(userId), {}, [this](int status, const QByteArray &body) {
            if (auto u = status == 200 ? fromJson<User>(body) : Result<User>(Error {}))
                rememberUser(*u);
        });
    }
}

bool Connection::isOnline(qint64 userId) const
{
    return userId == m_self.id ? m_state == Online || m_state == Resyncing : m_online.contains(userId);
}

void Connection::searchUsers(const QString &prefix)
{
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("q"), prefix.trimmed());
    q.addQueryItem(QStringLiteral("limit"), QStringLiteral("20"));
    rest("GET", QStringLiteral("/api/v1/users?") + q.toString(QUrl::FullyEncoded), {},
         [this](int status, const QByteArray &body) {
             auto page = status == 200 ? fromJson<Page<User>>(body) : Result<Page<User>>(Error {});
             if (!page)
                 return;
             QVariantList list;
             for (const User &u : std::as_const(page->items)) {
                 if (!m_users.contains(u.id))
                     m_users.insert(u.id, u);
                 list.append(QVariantMap {{QStringLiteral("userId"), u.id},
                                          {QStringLiteral("username"), u.username},
                                          {QStringLiteral("displayName"), u.displayName}});
             }
             m_userResults = list;
             Q_EMIT userResultsChanged();
         });
}

void Connection::search(const QString &query)
{
    const QString text = query.trimmed();
    if (text.isEmpty()) {
        m_searchResults.clear();
        Q_EMIT searchResultsChanged();
        return;
    }
    rest("GET", QStringLiteral("/api/v1/search?") + toQuery(SearchQuery {text, 50}).toString(QUrl::FullyEncoded), {},
         [this, text](int status, const QByteArray &body) {
             auto r = status == 200 ? fromJson<SearchResult>(body) : Result<SearchResult>(Error {});
             if (!r) {
                 setError(errorText(status, body));
                 return;
             }
             QVariantList messages;
             for (const Message &m : std::as_const(r->messages)) {
                 const auto room = m_rooms.room(m.roomId);
                 messages.append(QVariantMap {{QStringLiteral("messageId"), m.id},
                                              {QStringLiteral("roomId"), m.roomId},
                                              {QStringLiteral("roomName"), room ? room->name : QString()},
                                              {QStringLiteral("authorId"), m.authorId},
                                              {QStringLiteral("body"), m.body},
                                              {QStringLiteral("createdAt"), m.createdAt}});
                 requestUser(m.authorId);
             }
             QVariantList tasks;
             for (const Task &t : std::as_const(r->tasks)) {
                 tasks.append(QVariantMap {{QStringLiteral("taskId"), t.id},
                                           {QStringLiteral("projectId"), t.projectId},
                                           {QStringLiteral("title"), t.title},
                                           {QStringLiteral("status"), toWire(t.status)},
                                           {QStringLiteral("priority"), toWire(t.priority)}});
             }
             m_searchResults = {{QStringLiteral("query"), text},
                                {QStringLiteral("messages"), messages},
                                {QStringLiteral("tasks"), tasks}};
             Q_EMIT searchResultsChanged();
         });
}

void Connection::refreshAdminStats()
{
    if (!isAdmin())
        return;
    rest("GET", QStringLiteral("/api/v1/admin/stats"), {}, [this](int status, const QByteArray &body) {
        if (status != 200) {
            setError(errorText(status, body));
            return;
        }
        QVariantMap stats = QJsonDocument::fromJson(body).object().toVariantMap();
        stats.insert(QStringLiteral("sampledAt"), QDateTime::currentMSecsSinceEpoch());
        m_adminStats = stats;
        Q_EMIT adminStatsChanged();
    });
}

} // namespace taskmaster::client
