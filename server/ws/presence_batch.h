// PresenceBatch: the presence changes of one window (HubOptions::presenceBatchMs), told to each
// connection together when the window ends instead of one frame per change and member as each
// happens. In a storm (thousands of users of one big room connecting within seconds) every
// connect used to write a frame to every online member: O(connections x members) frames; with
// the batch a member gets one frame per status and window (list form when its hello asked for
// `presenceList`), so the storm costs O(connections) frames per window. Per user only the latest
// status of the window counts (online then offline within it: offline). Each change carries a
// sequence number: a connection opened after a change already had it in its snapshot and is not
// told again. Clients that did not ask for the list form still get one frame per user.
// Pure logic (no sockets, no timers): PresenceTracker fills it, ends the window and writes.
// Owns: the window's changes, by user and by room. Thread: network thread.
#pragma once

#include "shared/codec/ws_frames.h"

#include <QHash>
#include <QList>
#include <QSet>

namespace taskmaster::server {

class PresenceBatch final {
public:
    struct Change {
        ws::PresenceStatus status = ws::PresenceStatus::Online;
        quint64 seq = 0; // the change's place among all changes (increasing)
    };
    // What one connection is told at the end of the window: ascending ids per status.
    struct Told {
        QList<Id> online;
        QList<Id> offline;
        friend bool operator==(const Told &, const Told &) = default;
    };

    // The user's status changed for the members of these rooms; seq above every earlier one.
    // A later change of the same user replaces the earlier status; the rooms add up.
    void add(Id userId, const QSet<Channel> &rooms, ws::PresenceStatus status, quint64 seq);
    [[nodiscard]] bool isEmpty() const { return m_changes.isEmpty(); }
    void clear();

    // room -> the users changed for its members in this window.
    [[nodiscard]] const QHash<Channel, QSet<Id>> &rooms() const { return m_rooms; }
    [[nodiscard]] const QHash<Id, Change> &changes() const { return m_changes; }

    // What a connection of user `self` that follows `rooms` (changed rooms of this window) is
    // told: the users changed in them except itself and changes with seq <= `after` (its
    // snapshot after welcome had them).
    [[nodiscard]] Told toldTo(Id self, quint64 after, const QList<Channel> &rooms) const;
    // The smallest seq of the changes of a room (0 when none).
    [[nodiscard]] quint64 firstSeq(const Channel &room) const;
    // The frames for `told`, offline before online: asList: one list frame per status with two
    // users or more (a single user in the single form); otherwise one frame per user, ascending.
    [[nodiscard]] static QList<ws::Presence> frames(const Told &told, bool asList);

private:
    QHash<Id, Change> m_changes;
    QHash<Channel, QSet<Id>> m_rooms;
};

} // namespace taskmaster::server
