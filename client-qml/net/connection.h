// Connection: the client's session with one taskmaster-server (docs/protocol.md), the object QML
// creates (`Connection { id: conn }`). It logs in (or restores a saved token), ends the session
// (logout, an expired or revoked token), and routes what the realtime session receives to the
// piece that owns it; everything else belongs to those pieces, reached through its properties:
//   realtime  RealtimeSession    WebSocket, reconnect, resume, heartbeat, connection state
//   outbox    Outbox             sends in flight: pending, failed, retry, discard
//   users     UserDirectory      names, presence, user search
//   rooms     RoomsController    the user's rooms (RoomListModel), create, add member
//   chat      ChatController     the open room: messages, history, send, edit, read marker
//   typing    TypingIndicator    who is typing in the open room; the user's typing told to it
//   projects  ProjectsController the user's projects (ProjectListModel), create, add member
//   board     TaskBoardController the open project's tasks and board columns
//   search    SearchController   full-text search (SearchResultModel)
//   admin     AdminController    the instance's stats for administrators
//   attachments AttachmentsController uploads, downloads, cached images (docs/protocol.md 6.8)
// Owns: the server address (kept in QSettings), the token (kept in the platform's keychain through
// a CredentialStore, or in the settings file when there is no keychain: tokenStorage says which,
// and the window shows tokenStorageNotice), the RestClient, each piece above, and the account's
// LocalStore (client-qml/store: rooms and recent messages shown at a start before the network
// answers, the outbox kept across runs; deleted by logout) with its StoreMirror.
// Thread: the GUI thread (every object here, and the models, live there).
// Size: about 38 public members, over the ~20 of STYLE.md: the session's own (address, user,
// busy, error, login/logout: ~17; where the token and the local store are kept: ~8) plus one
// accessor for each of the ten pieces. New features go into a piece (or a new one), not here:
// the store's content is LocalStore's and StoreMirror's, the keychain is CredentialStore's.
#pragma once

#include "client-qml/controllers/admin_controller.h"
#include "client-qml/controllers/attachments_controller.h"
#include "client-qml/controllers/chat_controller.h"
#include "client-qml/controllers/chat_notifier.h"
#include "client-qml/controllers/projects_controller.h"
#include "client-qml/controllers/rooms_controller.h"
#include "client-qml/controllers/search_controller.h"
#include "client-qml/controllers/task_board_controller.h"
#include "client-qml/controllers/typing_indicator.h"
#include "client-qml/controllers/user_directory.h"
#include "client-qml/net/credential_store.h"
#include "client-qml/net/outbox.h"
#include "client-qml/net/realtime_session.h"
#include "client-qml/net/rest_client.h"
#include "client-qml/store/local_store.h"
#include "client-qml/store/store_mirror.h"
#include "shared/domain/types.h"

#include <QObject>
#include <QSet>
#include <QtQmlIntegration/qqmlintegration.h>

#include <memory>

class QSettings;

namespace taskmaster::client {

class Connection : public QObject { // not final: QML_ELEMENT derives from it
    Q_OBJECT
    QML_ELEMENT
    // Base URL of the server, e.g. "http://127.0.0.1:8080" (saved in the settings).
    Q_PROPERTY(QString serverUrl READ serverUrl WRITE setServerUrl NOTIFY serverUrlChanged)
    Q_PROPERTY(bool loggedIn READ loggedIn NOTIFY sessionChanged)
    Q_PROPERTY(qint64 userId READ userId NOTIFY sessionChanged)
    Q_PROPERTY(QString displayName READ displayName NOTIFY sessionChanged)
    Q_PROPERTY(QString username READ username NOTIFY sessionChanged)
    Q_PROPERTY(bool isAdmin READ isAdmin NOTIFY sessionChanged)
    // A login/register/restore request is in flight.
    Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
    // The last error meant for the user ("" when none).
    Q_PROPERTY(QString lastError READ lastError NOTIFY lastErrorChanged)
    // Where the session token is kept for the next start.
    Q_PROPERTY(TokenStorage tokenStorage READ tokenStorage NOTIFY tokenStorageChanged)
    // For the user when the token had to go to the settings file ("" otherwise).
    Q_PROPERTY(QString tokenStorageNotice READ tokenStorageNotice NOTIFY tokenStorageChanged)
    // Directory of the per-account local stores ("" = none kept: the default of a bare Connection;
    // the app sets defaultStoreDirectory()).
    Q_PROPERTY(QString storeDirectory READ storeDirectory WRITE setStoreDirectory NOTIFY storeDirectoryChanged)

    Q_PROPERTY(taskmaster::client::RealtimeSession *realtime READ realtime CONSTANT)
    Q_PROPERTY(taskmaster::client::Outbox *outbox READ outbox CONSTANT)
    Q_PROPERTY(taskmaster::client::UserDirectory *users READ users CONSTANT)
    Q_PROPERTY(taskmaster::client::RoomsController *rooms READ rooms CONSTANT)
    Q_PROPERTY(taskmaster::client::ChatController *chat READ chat CONSTANT)
    Q_PROPERTY(taskmaster::client::TypingIndicator *typing READ typing CONSTANT)
    Q_PROPERTY(taskmaster::client::ProjectsController *projects READ projects CONSTANT)
    Q_PROPERTY(taskmaster::client::TaskBoardController *board READ board CONSTANT)
    Q_PROPERTY(taskmaster::client::SearchController *search READ search CONSTANT)
    Q_PROPERTY(taskmaster::client::AdminController *admin READ admin CONSTANT)
    Q_PROPERTY(taskmaster::client::AttachmentsController *attachments READ attachments CONSTANT)
    Q_PROPERTY(taskmaster::client::ChatNotifier *notifier READ notifier CONSTANT)

public:
    enum class TokenStorage {
        NotSaved, // logged out, or not yet
        Saving, // the keychain was asked
        Keychain, // in the platform's keychain; the settings file has only the account name
        SettingsFile, // no keychain available: in plain text in the settings file (the fallback)
    };
    Q_ENUM(TokenStorage)

    explicit Connection(QObject *parent = nullptr);
    ~Connection() override;

    // The keychain to use instead of the platform's (not owned; it must outlive this object):
    // tests. Call before anything else.
    void setCredentialStore(CredentialStore *store) { m_credentials = store; }
    [[nodiscard]] QString storeDirectory() const { return m_storeDir; }
    // Takes effect at the next login or restore.
    void setStoreDirectory(const QString &dir);
    // LocalStore::defaultDirectory(): AppDataLocation/store.
    Q_INVOKABLE static QString defaultStoreDirectory();
    // The open account's store (nullptr when logged out or when none could be made).
    [[nodiscard]] LocalStore *store() { return m_store.get(); }
    [[nodiscard]] TokenStorage tokenStorage() const { return m_tokenStorage; }
    [[nodiscard]] QString tokenStorageNotice() const;

    // Settings file (INI) instead of the application's default QSettings: tests and several
    // clients in one process. Call before anything else.
    void setSettingsFile(const QString &path);

    [[nodiscard]] QString serverUrl() const { return m_serverUrl; }
    void setServerUrl(const QString &url);
    [[nodiscard]] bool loggedIn() const { return !m_token.isEmpty() && m_users.self().id != 0; }
    [[nodiscard]] qint64 userId() const { return m_users.self().id; }
    [[nodiscard]] QString displayName() const { return m_users.self().displayName; }
    [[nodiscard]] QString username() const { return m_users.self().username; }
    [[nodiscard]] bool isAdmin() const { return m_users.self().role == Role::Admin; }
    [[nodiscard]] bool busy() const { return m_busy; }
    [[nodiscard]] QString lastError() const { return m_lastError; }
    [[nodiscard]] QByteArray token() const { return m_token; }

    [[nodiscard]] RealtimeSession *realtime() { return &m_realtime; }
    [[nodiscard]] Outbox *outbox() { return &m_outbox; }
    [[nodiscard]] UserDirectory *users() { return &m_users; }
    [[nodiscard]] RoomsController *rooms() { return &m_rooms; }
    [[nodiscard]] ChatController *chat() { return &m_chat; }
    [[nodiscard]] TypingIndicator *typing() { return &m_typing; }
    [[nodiscard]] ProjectsController *projects() { return &m_projects; }
    [[nodiscard]] TaskBoardController *board() { return &m_board; }
    [[nodiscard]] SearchController *search() { return &m_search; }
    [[nodiscard]] AdminController *admin() { return &m_admin; }
    [[nodiscard]] AttachmentsController *attachments() { return &m_attachments; }
    [[nodiscard]] ChatNotifier *notifier() { return &m_notifier; }

    // A token saved by an earlier run (keychain, or the settings file: a token found there is moved
    // to the keychain when one works): check it (GET /me) and connect. False when none is saved.
    Q_INVOKABLE bool restoreSession();
    Q_INVOKABLE void login(const QString &username, const QString &password);
    Q_INVOKABLE void registerAccount(const QString &username, const QString &password, const QString &displayName);
    Q_INVOKABLE void logout();
    Q_INVOKABLE void clearError() { setError({}); }

Q_SIGNALS:
    void serverUrlChanged();
    void sessionChanged();
    void busyChanged();
    void lastErrorChanged();
    void tokenStorageChanged();
    void storeDirectoryChanged();

private:
    [[nodiscard]] std::unique_ptr<QSettings> settings() const;
    void setBusy(bool on);
    void setError(const QString &message);
    void authenticate(const Request<AuthResponse> &request);
    void startSession(const User &user, const QByteArray &token);
    void endSession(const QString &reason);
    void setToken(const QByteArray &token);
    void checkSavedToken(const QByteArray &token);
    // The account's store opened (when it is not yet) and its content shown; true when it knew the
    // user (a start can go on from it before the network answers).
    bool openStore(Id userId);
    void closeStore(bool deleteFile);
    void saveToken(const User &user, const QByteArray &token);
    void forgetSavedToken();
    void setTokenStorage(TokenStorage storage);

    // What the realtime session received, to the piece that owns it.
    void onWelcomed(const WelcomeOutcome &outcome);
    void onChannelEvent(const ChannelEvent &event, bool fresh);
    void onFrame(const ws::ServerFrame &frame);
    void onCaughtUp(const Channel &channel, bool replayed);

    QString m_settingsFile;
    QString m_serverUrl;
    QByteArray m_token;
    bool m_busy = false;
    QString m_lastError;
    KeychainCredentialStore m_keychain;
    CredentialStore *m_credentials = &m_keychain;
    TokenStorage m_tokenStorage = TokenStorage::NotSaved;
    int m_saveGeneration = 0; // a keychain answer for an older save is dropped
    QString m_storeDir;
    std::unique_ptr<LocalStore> m_store;
    bool m_offlineStart = false; // began from the store without the server: reload at the first welcome
    QSet<Channel> m_resumable; // channels the store had seqs of (seeded into the realtime session)

    // In dependency order (each is built from the ones above it).
    RestClient m_rest;
    RealtimeSession m_realtime;
    Outbox m_outbox {m_realtime};
    UserDirectory m_users {m_rest, m_realtime};
    RoomsController m_rooms {m_rest, m_realtime, m_users};
    ChatController m_chat {m_rest, m_realtime, m_outbox, m_users, m_rooms};
    TypingIndicator m_typing {m_realtime, m_users, m_chat};
    ProjectsController m_projects {m_rest, m_users};
    TaskBoardController m_board {m_rest, m_users, m_projects};
    SearchController m_search {m_rest, m_rooms, m_users};
    AdminController m_admin {m_rest, m_users};
    AttachmentsController m_attachments {m_rest, m_chat};
    ChatNotifier m_notifier {m_users, *m_rooms.model()};
    StoreMirror m_mirror {*m_rooms.model(), *m_projects.model(), m_users, m_outbox, m_realtime};
};

} // namespace taskmaster::client
