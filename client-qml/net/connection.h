// Connection: the client's session with one taskmaster-server (PROTOCOL.md). Owns the server
// address and token (kept in QSettings), the REST client (QNetworkAccessManager), the WebSocket
// (QWebSocket: hello/welcome, reconnect with exponential backoff and full jitter, resume of every
// channel from its last contiguous seq, history requests for gaps, heartbeat pings), the sends in
// flight (pending until their ack, resent after a reconnect, failed after a timeout, retried by the
// user with the same clientId so the server dedupes), and the models it feeds: the user's rooms,
// the messages of the open room (and its bottom-to-top proxy), the tasks of the open project
// (plus any board column models attached to it), projects, users, presence, typing, search and
// admin stats.
// Thread: the GUI thread (every object here, and the models, live there).
//
// State: Offline (logged out, or waiting to reconnect), Connecting (socket opening, waiting for
// welcome), Resyncing (welcomed, replays of channels that were behind not finished yet), Online.
#pragma once

#include "shared/domain/types.h"
#include "shared/models/message_list_model.h"
#include "shared/models/reversed_list_proxy.h"
#include "shared/models/room_list_model.h"
#include "shared/models/seq_gap_tracker.h"
#include "shared/models/task_list_model.h"

#include <QElapsedTimer>
#include <QHash>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTimer>
#include <QVariantList>
#include <QVariantMap>
#include <QWebSocket>
#include <QtQmlIntegration/qqmlintegration.h>

#include <functional>
#include <memory>

class QSettings;

namespace taskmaster {
struct ChannelEvent;
namespace ws {
struct Welcome;
}
} // namespace taskmaster

namespace taskmaster::client {

class Connection : public QObject { // not final: QML_ELEMENT derives from it
    Q_OBJECT
    QML_ELEMENT
    // Base URL of the server, e.g. "http://127.0.0.1:8080" (saved in the settings).
    Q_PROPERTY(QString serverUrl READ serverUrl WRITE setServerUrl NOTIFY serverUrlChanged)
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    Q_PROPERTY(QString stateName READ stateName NOTIFY stateChanged)
    Q_PROPERTY(bool loggedIn READ loggedIn NOTIFY sessionChanged)
    Q_PROPERTY(qint64 userId READ userId NOTIFY sessionChanged)
    Q_PROPERTY(QString username READ username NOTIFY sessionChanged)
    Q_PROPERTY(QString displayName READ displayName NOTIFY sessionChanged)
    Q_PROPERTY(bool isAdmin READ isAdmin NOTIFY sessionChanged)
    // A login/register request is in flight.
    Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
    // The last error meant for the user ("" when none).
    Q_PROPERTY(QString lastError READ lastError NOTIFY lastErrorChanged)
    Q_PROPERTY(QString instance READ instance NOTIFY stateChanged)
    Q_PROPERTY(int reconnectAttempt READ reconnectAttempt NOTIFY stateChanged)
    // Backoff: attempt n waits a random time in [d/2, d], d = min(max, base * 2^(n-1)).
    Q_PROPERTY(int reconnectBaseMs READ reconnectBaseMs WRITE setReconnectBaseMs NOTIFY reconnectPolicyChanged)
    Q_PROPERTY(int reconnectMaxMs READ reconnectMaxMs WRITE setReconnectMaxMs NOTIFY reconnectPolicyChanged)
    // A send without ack for this long turns failed (the user may retry).
    Q_PROPERTY(int sendTimeoutMs READ sendTimeoutMs WRITE setSendTimeoutMs NOTIFY reconnectPolicyChanged)

    Q_PROPERTY(taskmaster::RoomListModel *rooms READ rooms CONSTANT)
    Q_PROPERTY(taskmaster::MessageListModel *messages READ messages CONSTANT)
    // messages, newest first: the model of the bottom-to-top chat view.
    Q_PROPERTY(taskmaster::ReversedListProxy *timeline READ timeline CONSTANT)
    Q_PROPERTY(taskmaster::TaskListModel *tasks READ tasks CONSTANT)
    Q_PROPERTY(qint64 currentRoomId READ currentRoomId NOTIFY currentRoomChanged)
    Q_PROPERTY(QString currentRoomName READ currentRoomName NOTIFY currentRoomChanged)
    Q_PROPERTY(qint64 currentProjectId READ currentProjectId NOTIFY currentProjectChanged)
    Q_PROPERTY(QString currentProjectName READ currentProjectName NOTIFY currentProjectChanged)
    // [{projectId, name, description}]
    Q_PROPERTY(QVariantList projects READ projects NOTIFY projectsChanged)
    // Who is typing in the open room, ready to show ("Alice is typing…"), "" when nobody.
    Q_PROPERTY(QString typingText READ typingText NOTIFY typingChanged)
    // Bumped when user names or presence change, so bindings calling userName()/isOnline() re-run.
    Q_PROPERTY(int directoryRevision READ directoryRevision NOTIFY directoryChanged)
    // Sends not acknowledged yet (pending or failed), over all rooms.
    Q_PROPERTY(int pendingCount READ pendingCount NOTIFY pendingChanged)
    // {messages: [{messageId, roomId, roomName, authorId, body, createdAt}], tasks: [{taskId,
    // projectId, title, status, priority}], query}
    Q_PROPERTY(QVariantMap searchResults READ searchResults NOTIFY searchResultsChanged)
    // [{userId, username, displayName}] of the last searchUsers().
    Q_PROPERTY(QVariantList userResults READ userResults NOTIFY userResultsChanged)
    // The body of GET /admin/stats plus "sampledAt" (ms since epoch); {} until loaded.
    Q_PROPERTY(QVariantMap adminStats READ adminStats NOTIFY adminStatsChanged)
    // Unread messages of the open room when it was opened (the room's unread count, with the
    // server's read marker known), until jumpToFirstUnread() reached them; 0 otherwise. The
    // timeline's "new messages" line stays at that marker while the room is open.
    Q_PROPERTY(qint64 firstUnreadCount READ firstUnreadCount NOTIFY firstUnreadChanged)
    // jumpToFirstUnread() is loading history back to the marker.
    Q_PROPERTY(bool jumpingToFirstUnread READ jumpingToFirstUnread NOTIFY firstUnreadChanged)

public:
    enum State { Offline, Connecting, Resyncing, Online };
    Q_ENUM(State)

    explicit Connection(QObject *parent = nullptr);
    ~Connection() override;

    // Settings file (INI) instead of the application's default QSettings: tests and several
    // clients in one process. Call before anything else.
    void setSettingsFile(const QString &path);

    [[nodiscard]] QString serverUrl() const { return m_serverUrl; }
    void setServerUrl(const QString &url);
    [[nodiscard]] State state() const { return m_state; }
    [[nodiscard]] QString stateName() const;
    [[nodiscard]] bool loggedIn() const { return !m_token.isEmpty() && m_self.id != 0; }
    [[nodiscard]] qint64 userId() const { return m_self.id; }
    [[nodiscard]] QString username() const { return m_self.username; }
    [[nodiscard]] QString displayName() const { return m_self.displayName; }
    [[nodiscard]] bool isAdmin() const { return m_self.role == Role::Admin; }
    [[nodiscard]] bool busy() const { return m_busy; }
    [[nodiscard]] QString lastError() const { return m_lastError; }
    [[nodiscard]] QString instance() const { return m_instance; }
    [[nodiscard]] QByteArray token() const { return m_token; }
    [[nodiscard]] int reconnectAttempt() const { return m_attempt; }
    [[nodiscard]] int reconnectBaseMs() const { return m_reconnectBaseMs; }
    void setReconnectBaseMs(int ms);
    [[nodiscard]] int reconnectMaxMs() const { return m_reconnectMaxMs; }
    void setReconnectMaxMs(int ms);
    [[nodiscard]] int sendTimeoutMs() const { return m_sendTimeoutMs; }
    void setSendTimeoutMs(int ms);

    [[nodiscard]] RoomListModel *rooms() { return &m_rooms; }
    [[nodiscard]] MessageListModel *messages() { return &m_messages; }
    [[nodiscard]] ReversedListProxy *timeline() { return &m_timeline; }
    [[nodiscard]] TaskListModel *tasks() { return &m_tasks; }
    [[nodiscard]] qint64 currentRoomId() const { return m_currentRoomId; }
    [[nodiscard]] QString currentRoomName() const;
    [[nodiscard]] qint64 currentProjectId() const { return m_currentProjectId; }
    [[nodiscard]] QString currentProjectName() const;
    [[nodiscard]] QVariantList projects() const { return m_projects; }
    [[nodiscard]] QString typingText() const;
    [[nodiscard]] int directoryRevision() const { return m_directoryRevision; }
    [[nodiscard]] int pendingCount() const { return static_cast<int>(m_pending.size()); }
    [[nodiscard]] QVariantMap searchResults() const { return m_searchResults; }
    [[nodiscard]] QVariantList userResults() const { return m_userResults; }
    [[nodiscard]] QVariantMap adminStats() const { return m_adminStats; }
    [[nodiscard]] qint64 firstUnreadCount() const { return m_firstUnreadCount; }
    [[nodiscard]] bool jumpingToFirstUnread() const { return m_unreadJumpMarker >= 0; }
    // Seq up to which every event of the channel was seen ("room:12"), 0 when unknown.
    [[nodiscard]] Q_INVOKABLE qint64 channelSeq(const QString &channel) const;
    // Resumes that ended with `resumed` / `resync` since this object was made (tests, status).
    [[nodiscard]] int resumedCount() const { return m_resumedCount; }
    [[nodiscard]] int resyncCount() const { return m_resyncCount; }

    // ---- session -------------------------------------------------------------------------
    // A token saved by an earlier run: check it (GET /me) and connect. False when none is saved.
    Q_INVOKABLE bool restoreSession();
    Q_INVOKABLE void login(const QString &username, const QString &password);
    Q_INVOKABLE void registerAccount(const QString &username, const QString &password, const QString &displayName);
    Q_INVOKABLE void logout();
    Q_INVOKABLE void clearError();
    // While waiting to reconnect: try now instead of at the end of the backoff delay.
    Q_INVOKABLE void reconnectNow();

    // ---- rooms and messages --------------------------------------------------------------
    Q_INVOKABLE void openRoom(qint64 roomId);
    Q_INVOKABLE void closeRoom();
    // Asks for the page before the oldest loaded message when one may exist and none is in
    // flight (the model's fetchMore). The chat view calls it as its top comes near.
    Q_INVOKABLE void loadOlder();
    // Loads history (the model's fetchMore, pages sized to reach it) until the first message
    // after the open room's read marker is loaded, then emits firstUnreadReady. No-op without
    // a marker.
    Q_INVOKABLE void jumpToFirstUnread();
    Q_INVOKABLE void createRoom(const QString &name, const QVariantList &memberIds);
    Q_INVOKABLE void addRoomMember(qint64 roomId, qint64 userId);
    // Sends to the open room; returns the clientId of the pending row ("" when no room is open
    // or the body is empty).
    Q_INVOKABLE QString sendMessage(const QString &body);
    Q_INVOKABLE void retrySend(const QString &clientId);
    Q_INVOKABLE void discardSend(const QString &clientId);
    Q_INVOKABLE void editMessage(qint64 messageId, const QString &body);
    Q_INVOKABLE void deleteMessage(qint64 messageId);
    // Throttled: at most one typing frame per room every 3 s.
    Q_INVOKABLE void notifyTyping();
    // Moves the read marker of the open room to its newest confirmed message.
    Q_INVOKABLE void markRead();

    // ---- projects and tasks --------------------------------------------------------------
    Q_INVOKABLE void loadProjects();
    Q_INVOKABLE void createProject(const QString &name, const QString &description);
    Q_INVOKABLE void openProject(qint64 projectId);
    Q_INVOKABLE void addProjectMember(qint64 projectId, qint64 userId);
    // fields: title, description, status, priority (wire names), assigneeId (0/null: none),
    // dueDate ("YYYY-MM-DD", "" for none).
    Q_INVOKABLE void createTask(const QVariantMap &fields);
    // Only the fields present in `changes` change (same names as createTask).
    Q_INVOKABLE void updateTask(qint64 taskId, const QVariantMap &changes);
    // Moves a task of the open project to another status (the board's keyboard moves and drag and
    // drop): shown at once, PATCHed with If-Match of the version shown; when the PATCH fails the
    // task goes back to what it was (and after a 412 the server's version is loaded).
    Q_INVOKABLE void setTaskStatus(qint64 taskId, const QString &status);
    Q_INVOKABLE void deleteTask(qint64 taskId);
    // A board column (or any other view) that wants the open project's tasks: fed on load and on
    // every task event until it is destroyed or detached. Its projectId follows the project.
    Q_INVOKABLE void attachTaskModel(taskmaster::TaskListModel *model);
    Q_INVOKABLE void detachTaskModel(taskmaster::TaskListModel *model);
    // {taskId, title, ...} of a task of the open project ({} when unknown).
    [[nodiscard]] Q_INVOKABLE QVariantMap taskInfo(qint64 taskId) const;

    // ---- directory, search, admin ---------------------------------------------------------
    // Display name of a user ("…" until loaded; the lookup happens once, directoryChanged follows).
    [[nodiscard]] Q_INVOKABLE QString userName(qint64 userId);
    [[nodiscard]] Q_INVOKABLE bool isOnline(qint64 userId) const;
    Q_INVOKABLE void searchUsers(const QString &prefix);
    Q_INVOKABLE void search(const QString &query);
    Q_INVOKABLE void refreshAdminStats();

Q_SIGNALS:
    void serverUrlChanged();
    void stateChanged();
    void sessionChanged();
    void busyChanged();
    void lastErrorChanged();
    void reconnectPolicyChanged();
    void currentRoomChanged();
    void currentProjectChanged();
    void projectsChanged();
    void typingChanged();
    void directoryChanged();
    void pendingChanged();
    void searchResultsChanged();
    void userResultsChanged();
    void adminStatsChanged();
    void firstUnreadChanged();
    // A room was created by this client (createRoom).
    void roomCreated(qint64 roomId);
    void projectCreated(qint64 projectId);
    // The open room's history request finished (ok or not).
    void historyLoaded(qint64 roomId, bool ok);
    // jumpToFirstUnread() finished: the message with this seq (messages' firstUnreadSeq) is
    // loaded; -1 when there is none to show (e.g. the unread messages were deleted).
    void firstUnreadReady(qint64 seq);
    void tasksLoaded(qint64 projectId);
    // The server replayed a channel after resume (from..to) or asked for a REST reload.
    void channelResumed(const QString &channel, qint64 fromSeq, qint64 toSeq);
    void channelResynced(const QString &channel);

private:
    struct PendingSend {
        Id roomId = 0;
        QString body;
        QString clientId;
        qint64 frameId = 0; // of the last transmission, 0 when not transmitted
        qint64 sentAtMs = 0;
        bool failed = false;
    };
    using RestCallback = std::function<void(int status, const QByteArray &body)>;
    using Headers = QList<std::pair<QByteArray, QByteArray>>;

    [[nodiscard]] std::unique_ptr<QSettings> settings() const;
    void setState(State s);
    void setBusy(bool on);
    void setError(const QString &message);
    void rest(const QByteArray &method, const QString &pathAndQuery, const QByteArray &body, RestCallback cb,
              const Headers &headers = {});
    [[nodiscard]] static QString errorText(int status, const QByteArray &body);
    void authRequest(const QString &path, const QByteArray &body);
    void startSession(const User &user, const QByteArray &token);
    void endSession(const QString &reason);
    void resetClientState();

    void openSocket();
    void closeSocket();
    void onSocketConnected();
    void onSocketState(QAbstractSocket::SocketState state);
    void scheduleReconnect(int minDelayMs = 0);
    void onText(const QString &text);
    void onWelcome(const ws::Welcome &welcome);
    void onEvent(const ChannelEvent &event);
    void onResumeEnded(const Channel &channel);
    void resyncChannel(const Channel &channel);
    void sendFrame(const QByteArray &bytes);
    [[nodiscard]] qint64 nextFrameId() { return ++m_frameId; }
    void requestHistory(const Channel &channel, Seq after, int limit);
    void heartbeat();

    void loadRooms();
    void fetchRoom(Id roomId);
    void loadHistory(Id roomId, Seq beforeSeq);
    void continueUnreadJump();
    void endUnreadJump();
    void transmit(PendingSend &p);
    void checkSendTimeouts();
    void pruneTyping();
    void loadTasks(Id projectId, const QString &cursor, QList<Task> acc);
    void feedTask(const Task &task);
    void showTask(const Task &task); // into every task model, whatever its version
    void fetchTask(Id taskId);
    void removeTask(Id taskId);
    void resetTaskModels();
    void rememberUser(const User &user);
    void requestUser(Id userId); // load a user's name once, in the background

    QString m_settingsFile;
    QString m_serverUrl;
    QByteArray m_token;
    User m_self;
    State m_state = Offline;
    bool m_busy = false;
    QString m_lastError;
    QString m_instance;
    quint64 m_generation = 0; // bumped at logout: replies of an older session are dropped

    QNetworkAccessManager m_nam;
    QWebSocket m_socket;
    bool m_wantSocket = false;
    bool m_welcomed = false;
    int m_attempt = 0;
    int m_reconnectBaseMs = 500;
    int m_reconnectMaxMs = 30000;
    int m_sendTimeoutMs = 15000;
    QTimer m_reconnectTimer;
    QTimer m_heartbeatTimer;
    bool m_awaitingPong = false;
    qint64 m_frameId = 0;
    QElapsedTimer m_clock;

    QHash<Channel, SeqGapTracker> m_channels;
    QHash<Channel, Seq> m_welcomeSeqs;
    QSet<Channel> m_awaitingResume;
    QHash<qint64, Channel> m_historyRequests; // frame id -> channel
    int m_resumedCount = 0;
    int m_resyncCount = 0;

    RoomListModel m_rooms;
    MessageListModel m_messages;
    ReversedListProxy m_timeline;
    TaskListModel m_tasks;
    QList<QPointer<TaskListModel>> m_boardModels;
    QHash<Id, Task> m_projectTasks;
    Id m_currentRoomId = 0;
    // The open room's read marker when it was opened pins the "new messages" line (the model's
    // readSeq) for the visit; without unread messages then, the line follows markRead().
    bool m_readLinePinned = false;
    qint64 m_firstUnreadCount = 0;
    Seq m_unreadJumpMarker = -1; // jumpToFirstUnread() in progress: load back to this seq
    Id m_currentProjectId = 0;
    QVariantList m_projects;

    QHash<QString, PendingSend> m_pending; // by clientId, in no order
    QHash<qint64, QString> m_sendFrames; // frame id -> clientId
    QTimer m_sendTimer;

    QHash<Id, User> m_users;
    QSet<Id> m_userRequests;
    QSet<Id> m_online;
    int m_directoryRevision = 0;
    QHash<Id, QHash<Id, qint64>> m_typing; // room -> user -> expiry (m_clock ms)
    QTimer m_typingTimer;
    QHash<Id, qint64> m_lastTypingSent; // room -> m_clock ms

    QVariantMap m_searchResults;
    QVariantList m_userResults;
    QVariantMap m_adminStats;
};

} // namespace taskmaster::client
