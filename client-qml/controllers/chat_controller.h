// ChatController: the open room. Its messages (MessageListModel, and the newest-first proxy the
// bottom-to-top view shows): the latest page when it opens, older pages as the view asks
// (fetchMore), gaps filled from history, live events, the user's sends in flight (from the
// Outbox); edits and deletes; the read marker ("new messages" line, markRead, the jump to the
// first unread message). Who is typing there: TypingIndicator.
// Owns: the MessageListModel and its ReversedListProxy, which room is open, the unread-jump
// state. Thread: the GUI thread.
#pragma once

#include "shared/codec/ws_frames.h"
#include "shared/domain/types.h"
#include "shared/models/message_list_model.h"
#include "shared/models/reversed_list_proxy.h"

#include <QObject>
#include <QtQmlIntegration/qqmlintegration.h>

namespace taskmaster::client {

class LocalStore;
class Outbox;
class RealtimeSession;
class RestClient;
class RoomsController;
class UserDirectory;

class ChatController final : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("provided by Connection")
    Q_PROPERTY(qint64 roomId READ roomId NOTIFY roomChanged)
    Q_PROPERTY(QString roomName READ roomName NOTIFY roomChanged)
    Q_PROPERTY(taskmaster::MessageListModel *messages READ messages CONSTANT)
    // messages, newest first: the model of the bottom-to-top chat view.
    Q_PROPERTY(taskmaster::ReversedListProxy *timeline READ timeline CONSTANT)
    // Unread messages of the open room when it was opened (the room's unread count, with the
    // server's read marker known), until jumpToFirstUnread() reached them; 0 otherwise. The
    // timeline's "new messages" line stays at that marker while the room is open.
    Q_PROPERTY(qint64 firstUnreadCount READ firstUnreadCount NOTIFY firstUnreadChanged)
    // jumpToFirstUnread() is loading history back to the marker.
    Q_PROPERTY(bool jumpingToFirstUnread READ jumpingToFirstUnread NOTIFY firstUnreadChanged)

public:
    ChatController(RestClient &rest, RealtimeSession &realtime, Outbox &outbox, UserDirectory &users,
                   RoomsController &rooms, QObject *parent = nullptr);
    ~ChatController() override;

    [[nodiscard]] qint64 roomId() const { return m_roomId; }
    [[nodiscard]] QString roomName() const;
    [[nodiscard]] MessageListModel *messages() { return &m_messages; }
    [[nodiscard]] ReversedListProxy *timeline() { return &m_timeline; }
    [[nodiscard]] qint64 firstUnreadCount() const { return m_firstUnreadCount; }
    [[nodiscard]] bool jumpingToFirstUnread() const { return m_unreadJumpMarker >= 0; }

    // 0 closes the open room.
    // The account's local store (nullptr: none): a room opens with its cached messages, then the
    // latest page merges in; the latest page and live messages are saved to it.
    void setStore(LocalStore *store) { m_store = store; }
    Q_INVOKABLE void openRoom(qint64 roomId);
    Q_INVOKABLE void closeRoom() { openRoom(0); }
    // Asks for the page before the oldest loaded message when one may exist and none is in
    // flight (the model's fetchMore). The chat view calls it as its top comes near.
    Q_INVOKABLE void loadOlder();
    // Loads history (the model's fetchMore, pages sized to reach it) until the first message
    // after the open room's read marker is loaded, then emits firstUnreadReady. No-op without
    // a marker.
    Q_INVOKABLE void jumpToFirstUnread();
    // Sends to the open room through the Outbox; returns the clientId of the pending row ("" when
    // no room is open or the body is empty).
    Q_INVOKABLE QString sendMessage(const QString &body);
    Q_INVOKABLE void editMessage(qint64 messageId, const QString &body);
    Q_INVOKABLE void deleteMessage(qint64 messageId);
    // Moves the read marker of the open room to its newest confirmed message.
    Q_INVOKABLE void markRead();

    // From the session (through Connection): a room event, an update that came as the ack of
    // something not sent by the Outbox; reload() after a resync of the open room.
    void onEvent(const ChannelEvent &event, bool fresh);
    void applyUpdate(const Message &message);
    void reload();
    void clear();

Q_SIGNALS:
    void roomChanged();
    void firstUnreadChanged();
    // The open room's history request finished (ok or not).
    void historyLoaded(qint64 roomId, bool ok);
    // jumpToFirstUnread() finished: the message with this seq (messages' firstUnreadSeq) is
    // loaded; -1 when there is none to show (e.g. the unread messages were deleted).
    void firstUnreadReady(qint64 seq);

private:
    void addPendingRows();
    void loadHistory(Id roomId, Seq beforeSeq);
    void continueUnreadJump();
    void endUnreadJump();

    RestClient &m_rest;
    RealtimeSession &m_realtime;
    Outbox &m_outbox;
    UserDirectory &m_users;
    RoomsController &m_rooms;

    MessageListModel m_messages;
    ReversedListProxy m_timeline;
    Id m_roomId = 0;
    // The open room's read marker when it was opened pins the "new messages" line (the model's
    // readSeq) for the visit; without unread messages then, the line follows markRead().
    bool m_readLinePinned = false;
    qint64 m_firstUnreadCount = 0;
    Seq m_unreadJumpMarker = -1; // jumpToFirstUnread() in progress: load back to this seq
    LocalStore *m_store = nullptr;
    Seq m_cachedNewest = 0; // the newest cached message shown until the latest page arrives
};

} // namespace taskmaster::client
