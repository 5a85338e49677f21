#include "server/ws/presence_batch.h"

#include <algorithm>

namespace taskmaster::server {

void PresenceBatch::add(Id userId, const QSet<Channel> &rooms, ws::PresenceStatus status, quint64 seq)
{
    m_changes.insert(userId, Change {status, seq});
    for (const Channel &ch : rooms)
        m_rooms[ch].insert(userId);
}

void PresenceBatch::clear()
{
    m_changes.clear();
    m_rooms.clear();
}

PresenceBatch::Told PresenceBatch::toldTo(Id self, quint64 after, const QList<Channel> &rooms) const
{
    QSet<Id> users;
    for (const Channel &ch : rooms) {
        if (const auto it = m_rooms.constFind(ch); it != m_rooms.cend())
            users.unite(*it);
    }
    Told told;
    for (Id user : std::as_const(users)) {
        const auto change = m_changes.constFind(user);
        if (user == self || change == m_changes.cend() || change->seq <= after)
            continue;
        (change->status == ws::PresenceStatus::Online ? told.online : told.offline).append(user);
    }
    std::sort(told.online.begin(), told.online.end());
    std::sort(told.offline.begin(), told.offline.end());
    return told;
}

quint64 PresenceBatch::firstSeq(const Channel &room) const
{
    const auto it = m_rooms.constFind(room);
    if (it == m_rooms.cend())
        return 0;
    quint64 first = 0;
    for (Id user : *it) {
        const quint64 seq = m_changes.value(user).seq;
        if (first == 0 || seq < first)
            first = seq;
    }
    return first;
}

QList<ws::Presence> PresenceBatch::frames(const Told &told, bool asList)
{
    QList<ws::Presence> out;
    const auto add = [&](const QList<Id> &users, ws::PresenceStatus status) {
        if (users.isEmpty())
            return;
        if (asList && users.size() > 1) {
            out.append(ws::Presence {0, status, users});
            return;
        }
        for (Id user : users)
            out.append(ws::Presence {user, status, {}});
    };
    add(told.offline, ws::PresenceStatus::Offline);
    add(told.online, ws::PresenceStatus::Online);
    return out;
}

} // namespace taskmaster::server
