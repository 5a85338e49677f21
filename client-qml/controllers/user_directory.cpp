#include "client-qml/controllers/user_directory.h"

#include "client-qml/net/realtime_session.h"
#include "client-qml/net/rest_client.h"

#include <QSet>

#include <algorithm>

namespace taskmaster::client {

UserDirectory::UserDirectory(RestClient &rest, RealtimeSession &realtime, QObject *parent)
    : QObject(parent), m_rest(rest), m_realtime(realtime)
{
    // Without the socket nobody's presence is known: nobody is shown online until the snapshot
    // that follows the next welcome (users who left meanwhile would otherwise stay online).
    connect(&m_realtime, &RealtimeSession::socketLost, this, [this] {
        if (m_online.isEmpty())
            return;
        m_online.clear();
        ++m_revision;
        Q_EMIT changed();
    });
}

UserDirectory::~UserDirectory() = default;

void UserDirectory::setSelf(const User &user)
{
    m_self = user;
    remember(user);
}

void UserDirectory::remember(const User &user)
{
    m_users.insert(user.id, user);
    m_restored.remove(user.id);
    ++m_revision;
    Q_EMIT changed();
    Q_EMIT learned(user);
}

void UserDirectory::restore(const QList<User> &users)
{
    bool any = false;
    for (const User &u : users) {
        if (u.id <= 0 || m_users.contains(u.id))
            continue;
        m_users.insert(u.id, u);
        m_restored.insert(u.id);
        any = true;
    }
    if (any) {
        ++m_revision;
        Q_EMIT changed();
    }
}

std::optional<User> UserDirectory::user(Id userId) const
{
    const auto it = m_users.constFind(userId);
    return it == m_users.cend() ? std::nullopt : std::optional<User>(*it);
}

QString UserDirectory::userName(qint64 userId)
{
    if (userId <= 0)
        return {};
    const auto it = m_users.constFind(userId);
    if (it != m_users.cend())
        return it->displayName;
    request(userId);
    return QStringLiteral("…");
}

void UserDirectory::request(Id userId)
{
    if (userId <= 0 || (m_users.contains(userId) && !m_restored.contains(userId)) || m_requested.contains(userId)
        || m_self.id == 0)
        return;
    m_requested.insert(userId);
    // A name that cannot be loaded stays "…": nothing to tell the user.
    m_rest.send(
        api::user(userId), this, [this](const User &u) { remember(u); }, [](const RestError &) {});
}

bool UserDirectory::isOnline(qint64 userId) const
{
    if (userId == m_self.id)
        return m_realtime.state() == RealtimeSession::Online || m_realtime.state() == RealtimeSession::Resyncing;
    return m_online.contains(userId);
}

void UserDirectory::onPresence(const ws::Presence &p)
{
    const bool online = p.status == ws::PresenceStatus::Online;
    bool anyChange = false;
    const auto apply = [&](Id user) {
        if (online == m_online.contains(user))
            return;
        if (online)
            m_online.insert(user);
        else
            m_online.remove(user);
        anyChange = true;
    };
    if (p.userIds.isEmpty())
        apply(p.userId);
    for (Id user : p.userIds) // the list form: the snapshot after welcome
        apply(user);
    if (!anyChange)
        return;
    ++m_revision;
    Q_EMIT changed();
}

void UserDirectory::searchUsers(const QString &prefix, const QVariantList &preferIds)
{
    QList<Id> prefer;
    prefer.reserve(preferIds.size());
    for (const QVariant &v : preferIds)
        prefer.append(v.toLongLong());
    const QString p = prefix.trimmed();
    m_rest.send(api::users(p, 20), this, [this, p, prefer](const Page<User> &page) {
        for (const User &u : page.items) {
            if (!m_users.contains(u.id))
                m_users.insert(u.id, u);
        }
        if (prefer.isEmpty()) {
            m_matches.reset(page.items);
            return;
        }
        // The preferred among the server's matches in its order, the known preferred it did not
        // return by username, then everyone else in the server's order.
        QList<User> first;
        QList<User> rest;
        QSet<Id> seen;
        for (const User &u : page.items) {
            (prefer.contains(u.id) ? first : rest).append(u);
            seen.insert(u.id);
        }
        QList<User> known;
        for (Id id : prefer) {
            const auto it = m_users.constFind(id);
            if (it == m_users.cend() || seen.contains(id))
                continue;
            if (it->username.startsWith(p, Qt::CaseInsensitive) || it->displayName.startsWith(p, Qt::CaseInsensitive))
                known.append(*it);
        }
        std::sort(known.begin(), known.end(),
                  [](const User &a, const User &b) { return a.username.compare(b.username, Qt::CaseInsensitive) < 0; });
        m_matches.reset(first + known + rest);
    });
}

void UserDirectory::clear()
{
    m_self = {};
    m_online.clear();
}

} // namespace taskmaster::client
