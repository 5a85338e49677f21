#include "client-qml/net/connection.h"

#include "client-qml/controllers/mentions.h"
#include "shared/core/overloaded.h"

#include <QLoggingCategory>
#include <QSettings>

namespace taskmaster::client {

namespace {

QString keyServer()
{
    return QStringLiteral("server/url");
}
// The token in plain text: the fallback without a keychain (and where versions before the keychain
// kept it).
QString keyToken()
{
    return QStringLiteral("session/token");
}
// The keychain entry's name: server URL and user id.
QString keyAccount()
{
    return QStringLiteral("session/account");
}

Q_LOGGING_CATEGORY(lcSession, "tm.client.session", QtInfoMsg)

} // namespace

Connection::Connection(QObject *parent) : QObject(parent)
{
    m_serverUrl = settings()->value(keyServer(), QStringLiteral("http://127.0.0.1:8080")).toString();
    m_rest.setServerUrl(m_serverUrl);

    connect(&m_rest, &RestClient::failed, this, &Connection::setError);
    connect(&m_rest, &RestClient::sessionExpired, this,
            [this] { endSession(tr("Your session has expired; please log in again.")); });
    connect(&m_realtime, &RealtimeSession::sessionRejected, this,
            [this] { endSession(tr("Your session has ended; please log in again.")); });
    connect(&m_realtime, &RealtimeSession::welcomed, this, &Connection::onWelcomed);
    connect(&m_realtime, &RealtimeSession::channelEvent, this, &Connection::onChannelEvent);
    connect(&m_realtime, &RealtimeSession::frameReceived, this, &Connection::onFrame);
    connect(&m_realtime, &RealtimeSession::channelCaughtUp, this, &Connection::onCaughtUp);
    connect(&m_realtime, &RealtimeSession::socketLost, &m_outbox, &Outbox::onSocketLost);
    connect(&m_attachments, &AttachmentsController::failed, this, &Connection::setError);
    connect(&m_rooms, &RoomsController::directRoomOpened, &m_chat, &ChatController::openRoom);
    connect(&m_notifier, &ChatNotifier::openRequested, &m_chat, &ChatController::openRoom);
    m_notifier.setSettingsSource([this] { return settings(); });
}

Connection::~Connection() = default;

std::unique_ptr<QSettings> Connection::settings() const
{
    if (!m_settingsFile.isEmpty())
        return std::make_unique<QSettings>(m_settingsFile, QSettings::IniFormat);
    return std::make_unique<QSettings>();
}

void Connection::setSettingsFile(const QString &path)
{
    m_settingsFile = path;
    m_notifier.setSettingsSource([this] { return settings(); }); // read again from this file
    const QString saved = settings()->value(keyServer()).toString();
    if (!saved.isEmpty() && saved != m_serverUrl) {
        m_serverUrl = saved;
        m_rest.setServerUrl(saved);
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
    m_rest.setServerUrl(u);
    settings()->setValue(keyServer(), u);
    Q_EMIT serverUrlChanged();
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

void Connection::setToken(const QByteArray &token)
{
    m_token = token;
    m_rest.setToken(token);
}

// ---- session -------------------------------------------------------------------------------

bool Connection::restoreSession()
{
    if (loggedIn() || m_busy)
        return false;
    auto s = settings();
    const QByteArray plain = s->value(keyToken()).toByteArray();
    const QString account = s->value(keyAccount()).toString();
    if (!plain.isEmpty()) {
        checkSavedToken(plain); // saved again once valid: into the keychain when there is one
        return true;
    }
    if (account.isEmpty())
        return false;
    setBusy(true);
    m_credentials->read(account, this, [this](const CredentialStore::ReadResult &r) {
        if (r.secret && !r.secret->isEmpty()) {
            checkSavedToken(*r.secret);
            return;
        }
        setBusy(false);
        if (r.error.isEmpty()) {
            settings()->remove(keyAccount()); // nothing there any more
        } else {
            qCWarning(lcSession) << "the saved session could not be read from the keychain:" << r.error;
            setError(tr("The saved session could not be read from the keychain; please log in."));
        }
    });
    return true;
}

void Connection::setStoreDirectory(const QString &dir)
{
    if (dir != m_storeDir) {
        m_storeDir = dir;
        Q_EMIT storeDirectoryChanged();
    }
}

QString Connection::defaultStoreDirectory()
{
    return LocalStore::defaultDirectory();
}

bool Connection::openStore(Id userId)
{
    if (m_storeDir.isEmpty() || userId == 0)
        return false;
    const QString path = LocalStore::fileFor(m_storeDir, m_serverUrl, userId);
    if (m_store && m_store->path() == path)
        return m_store->self().has_value();
    closeStore(false);
    auto store = std::make_unique<LocalStore>(path);
    if (!store->open())
        return false;
    m_store = std::move(store);
    m_chat.setStore(m_store.get());
    m_board.setStore(m_store.get());
    m_rest.setStore(m_store.get()); // GETs revalidate with the ETags of the last run
    // Shown before the network answers.
    const QList<Room> rooms = m_store->rooms();
    if (!rooms.isEmpty() && m_rooms.model()->count() == 0) {
        m_rooms.model()->reset(rooms);
        // The newest message of each room; one naming the user above the read marker marks the
        // room as mentioned (older mentions are not known after a restart).
        const auto self = m_store->self();
        const QString me = self ? self->username : m_users.self().username;
        for (const Message &m : m_store->lastMessages()) {
            m_rooms.model()->setLastMessage(m);
            if (m.authorId != userId && !m.deleted && mentions::mentions(m.body, me))
                m_rooms.model()->setMention(m.roomId, m.seq);
        }
    }
    m_users.restore(m_store->users()); // names shown offline
    if (m_projects.model()->count() == 0)
        m_projects.model()->reset(m_store->projects());
    QList<Outbox::Entry> sends;
    for (const LocalStore::OutboxRow &row : m_store->outbox())
        sends.append({row.roomId, row.body, row.clientId, row.failed});
    m_outbox.restore(sends);
    // The next hello resumes from the seqs seen by the last run.
    QHash<Channel, Seq> seen;
    const auto seqs = m_store->channelSeqs();
    for (auto it = seqs.cbegin(); it != seqs.cend(); ++it) {
        if (const auto ch = Channel::parse(it.key()))
            seen.insert(*ch, it.value());
    }
    m_realtime.seedSeen(seen);
    m_resumable = QSet<Channel>(seen.keyBegin(), seen.keyEnd());
    m_mirror.attach(m_store.get());
    return m_store->self().has_value();
}

void Connection::closeStore(bool deleteFile)
{
    if (!m_store)
        return;
    m_mirror.attach(nullptr);
    m_rest.setStore(nullptr);
    m_chat.setStore(nullptr);
    m_board.setStore(nullptr);
    const QString path = m_store->path();
    m_store.reset();
    if (deleteFile && !LocalStore::remove(path))
        qCWarning(lcSession) << "the local store" << path << "could not be deleted";
}

void Connection::checkSavedToken(const QByteArray &token)
{
    setToken(token);
    // The user of the saved account, when its store knows them: the session goes on from the store
    // at once (rooms, the last room's messages, the outbox), GET /me confirms it meanwhile.
    const QString account = settings()->value(keyAccount()).toString();
    const qsizetype hash = account.lastIndexOf(QLatin1Char('#'));
    const Id savedUser = hash > 0 && account.left(hash) == m_serverUrl ? account.mid(hash + 1).toLongLong() : 0;
    if (savedUser != 0 && openStore(savedUser)) {
        const User cached = *m_store->self();
        m_offlineStart = false;
        startSession(cached, token);
        m_rest.send(
            api::me(), this,
            [this](const User &user) {
                m_users.setSelf(user);
                if (m_store)
                    m_store->saveSelf(user);
                Q_EMIT sessionChanged();
            },
            [this](const RestError &e) {
                if (e.status == 401) {
                    endSession(tr("Your session has expired; please log in again."));
                } else {
                    qCInfo(lcSession) << "starting offline from the local store:" << e.message;
                    m_offlineStart = true;
                }
            });
        return;
    }
    setBusy(true);
    m_rest.send(
        api::me(), this,
        [this, token](const User &user) {
            setBusy(false);
            startSession(user, token);
        },
        [this](const RestError &e) {
            setBusy(false);
            setToken({});
            if (e.status == 401)
                forgetSavedToken();
            else
                setError(e.message);
        });
}

void Connection::saveToken(const User &user, const QByteArray &token)
{
    const QString account = QStringLiteral("%1#%2").arg(m_serverUrl).arg(user.id);
    {
        auto s = settings();
        s->setValue(keyServer(), m_serverUrl);
        s->setValue(keyAccount(), account);
    }
    setTokenStorage(TokenStorage::Saving);
    const int generation = ++m_saveGeneration;
    m_credentials->write(account, token, this, [this, generation, token](bool ok, const QString &error) {
        if (generation != m_saveGeneration || m_token != token)
            return; // logged out or in again meanwhile
        auto s = settings();
        if (ok) {
            s->remove(keyToken()); // also a plain-text token of an earlier version
            setTokenStorage(TokenStorage::Keychain);
            return;
        }
        qCWarning(lcSession).noquote() << QStringLiteral(
                                              "no keychain available (%1): the session token is kept in plain "
                                              "text in %2")
                                              .arg(error, s->fileName());
        s->setValue(keyToken(), QString::fromUtf8(token));
        setTokenStorage(TokenStorage::SettingsFile);
    });
}

void Connection::forgetSavedToken()
{
    ++m_saveGeneration;
    auto s = settings();
    const QString account = s->value(keyAccount()).toString();
    if (!account.isEmpty())
        m_credentials->remove(account);
    s->remove(keyToken());
    s->remove(keyAccount());
    setTokenStorage(TokenStorage::NotSaved);
}

void Connection::setTokenStorage(TokenStorage storage)
{
    if (storage != m_tokenStorage) {
        m_tokenStorage = storage;
        Q_EMIT tokenStorageChanged();
    }
}

QString Connection::tokenStorageNotice() const
{
    if (m_tokenStorage != TokenStorage::SettingsFile)
        return {};
    return tr("No keychain is available, so your session is saved in plain text in %1. Log out to remove it.")
        .arg(settings()->fileName());
}

void Connection::login(const QString &username, const QString &password)
{
    authenticate(api::login(LoginRequest {username.trimmed(), password}));
}

void Connection::registerAccount(const QString &username, const QString &password, const QString &displayName)
{
    authenticate(api::registerAccount(RegisterRequest {username.trimmed(), password, displayName.trimmed()}));
}

void Connection::authenticate(const Request<AuthResponse> &request)
{
    if (m_busy)
        return;
    setError({});
    setBusy(true);
    setToken({});
    m_rest.send(
        request, this,
        [this](const AuthResponse &auth) {
            setBusy(false);
            startSession(auth.user, auth.token.toUtf8());
        },
        [this](const RestError &e) {
            setBusy(false);
            setError(e.status == 401 ? tr("Wrong username or password.") : e.message);
        });
}

void Connection::startSession(const User &user, const QByteArray &token)
{
    setToken(token);
    m_rest.setSessionEstablished(true);
    m_users.setSelf(user);
    saveToken(user, token);
    openStore(user.id);
    if (m_store)
        m_store->saveSelf(user);
    Q_EMIT sessionChanged();
    m_realtime.start(m_serverUrl, token);
    m_rooms.reload();
    m_projects.reload();
    // The room open when the app last quit, from the store.
    if (m_store && m_chat.roomId() == 0) {
        const Id last = m_store->value(QStringLiteral("lastRoom")).toLongLong();
        if (last != 0 && m_rooms.model()->rowForId(last) >= 0)
            m_chat.openRoom(last);
    }
}

void Connection::logout()
{
    if (!m_token.isEmpty())
        m_rest.sendUnanswered(api::logout()); // the token is forgotten here whatever the answer
    closeStore(true); // the account's data leaves the device with it
    endSession({});
}

void Connection::endSession(const QString &reason)
{
    m_rest.abandon(); // answers to this session are dropped
    m_rest.setSessionEstablished(false);
    closeStore(false); // kept for the next login of the account (the outbox too)
    m_offlineStart = false;
    forgetSavedToken();
    setToken({});
    m_users.clear();
    m_realtime.stop();
    m_outbox.clear();
    m_chat.clear();
    m_typing.clear();
    m_notifier.clear();
    m_rooms.clear();
    m_board.clear();
    m_projects.clear();
    m_search.clear();
    m_admin.clear();
    m_attachments.clear();
    setError(reason);
    Q_EMIT sessionChanged();
}

// ---- what the realtime session received ----------------------------------------------------

void Connection::onWelcomed(const WelcomeOutcome &outcome)
{
    bool reload = outcome.newChannels;
    for (const Channel &ch : outcome.dropped) {
        if (ch.kind == ChannelKind::Room)
            m_rooms.leave(ch.id);
        else
            reload = true; // the project list
    }
    if (reload && !outcome.first) {
        m_rooms.reload();
        m_projects.reload();
    }
    if (m_offlineStart) {
        // Started from the store while the server was away: the lists are loaded now; the open
        // room is reloaded unless its channel resumes from the store's seq (the replay brings
        // what it missed).
        m_offlineStart = false;
        m_rooms.reload();
        m_projects.reload();
        if (m_chat.roomId() != 0 && !m_resumable.contains(Channel::room(m_chat.roomId())))
            m_chat.reload();
    }
    // Everything still pending goes out again (the server dedupes by clientId).
    m_outbox.transmitAll();
    m_board.sendPendingChanges(); // task changes made offline, with If-Match of their version
    m_attachments.refreshLimits();
}

void Connection::onChannelEvent(const ChannelEvent &event, bool fresh)
{
    if (event.channel.kind == ChannelKind::Room) {
        m_rooms.onEvent(event, fresh);
        m_chat.onEvent(event, fresh);
        m_typing.onEvent(event, fresh);
        m_notifier.onEvent(event, fresh);
    } else {
        m_projects.onEvent(event, fresh);
        m_board.onEvent(event, fresh);
    }
}

void Connection::onFrame(const ws::ServerFrame &frame)
{
    std::visit(Overloaded {
                   [this](const ws::Ack &a) {
                       if (!m_outbox.onAck(a))
                           m_chat.applyUpdate(a.message);
                   },
                   [this](const ws::ErrorFrame &e) {
                       m_outbox.onError(e);
                       setError(e.error.message);
                   },
                   [this](const ws::TypingEvent &t) { m_typing.onTyping(t); },
                   [this](const ws::ReadEvent &r) { m_rooms.onRead(r); },
                   [this](const ws::Presence &p) { m_users.onPresence(p); },
                   [](const auto &) {}, // the session's own frames
               },
               frame);
}

void Connection::onCaughtUp(const Channel &channel, bool replayed)
{
    if (replayed)
        return; // the missed events came through onChannelEvent
    // Too far behind for a replay: what is shown of the channel is loaded again.
    if (channel.kind == ChannelKind::Room) {
        m_rooms.refreshAfterResync(channel.id); // with the mentions the replay would have marked
        if (channel.id == m_chat.roomId())
            m_chat.reload();
    } else if (channel.id == m_board.projectId()) {
        m_board.reload();
    }
}

} // namespace taskmaster::client
