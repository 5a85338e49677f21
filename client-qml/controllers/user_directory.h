// UserDirectory: who is who. The logged-in user, the names of the others (each loaded once, in
// the background, the first time something shows it), who is online (presence frames; nobody
// while the socket is down, until the snapshot after the next welcome), and the
// matches of a user search (an assignee picker's list).
// Owns: the known users, the presence set, the search matches (UserListModel).
// Thread: the GUI thread.
#pragma once

#include "shared/codec/ws_frames.h"
#include "shared/domain/types.h"
#include "shared/models/user_list_model.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QtQmlIntegration/qqmlintegration.h>

#include <optional>

namespace taskmaster::client {

class RestClient;
class RealtimeSession;

class UserDirectory final : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("provided by Connection")
    // Bumped when names or presence change, so bindings calling userName()/isOnline() re-run.
    Q_PROPERTY(int revision READ revision NOTIFY changed)
    // The users of the last searchUsers().
    Q_PROPERTY(taskmaster::UserListModel *matches READ matches CONSTANT)

public:
    UserDirectory(RestClient &rest, RealtimeSession &realtime, QObject *parent = nullptr);
    ~UserDirectory() override;

    [[nodiscard]] int revision() const { return m_revision; }
    [[nodiscard]] UserListModel *matches() { return &m_matches; }
    // Display name of a user ("…" until loaded; the lookup happens once, changed() follows).
    [[nodiscard]] Q_INVOKABLE QString userName(qint64 userId);
    [[nodiscard]] Q_INVOKABLE bool isOnline(qint64 userId) const;
    // Failures (e.g. a query the server refuses) go to the error path like every request.
    // preferIds (a room's members, for @completion): those among the matches come first, and the
    // known ones whose username or display name starts with prefix are added when the server's
    // matches (20 of a large directory) did not reach them.
    Q_INVOKABLE void searchUsers(const QString &prefix, const QVariantList &preferIds = {});

    // The logged-in user (id 0 when logged out).
    [[nodiscard]] const User &self() const { return m_self; }
    void setSelf(const User &user);
    [[nodiscard]] std::optional<User> user(Id userId) const;
    // Loads a user's name once, in the background (nothing when logged out).
    void request(Id userId);
    // Users known from an earlier run (the local store): shown at once, loaded again once when
    // something asks for them (request()).
    void restore(const QList<User> &users);
    void onPresence(const ws::Presence &presence);
    // Logged out: no self, nobody online.
    void clear();

Q_SIGNALS:
    void changed();
    // A user's details arrived (for the local store).
    void learned(const taskmaster::User &user);

private:
    void remember(const User &user);

    RestClient &m_rest;
    RealtimeSession &m_realtime;
    User m_self;
    QHash<Id, User> m_users;
    QSet<Id> m_restored; // from restore(), not yet loaded again
    QSet<Id> m_requested;
    QSet<Id> m_online;
    int m_revision = 0;
    UserListModel m_matches;
};

} // namespace taskmaster::client
