#include "server/ws/channel_order.h"

namespace taskmaster::server {

void ChannelOrder::track(const Channel &channel, Seq delivered)
{
    if (!m_channels.contains(channel))
        m_channels.insert(channel, State {delivered, {}, 0});
}

void ChannelOrder::forget(const Channel &channel)
{
    const auto it = m_channels.find(channel);
    if (it == m_channels.end())
        return;
    if (!it->held.empty())
        --m_heldChannels;
    m_channels.erase(it);
}

Seq ChannelOrder::delivered(const Channel &channel) const
{
    const auto it = m_channels.constFind(channel);
    return it == m_channels.cend() ? 0 : it->delivered;
}

QList<Outgoing> ChannelOrder::offer(Outgoing out, qint64 nowMs)
{
    QList<Outgoing> released;
    const auto it = m_channels.find(out.event.channel);
    if (it == m_channels.end())
        return released;
    State &s = *it;
    const Seq seq = out.event.seq;
    if (seq <= s.delivered)
        return released; // already delivered: a duplicate
    if (seq > s.delivered + 1) {
        if (s.held.empty()) {
            ++m_heldChannels;
            s.heldSinceMs = nowMs;
        }
        s.held.emplace(seq, std::move(out));
        return released;
    }
    released.append(std::move(out));
    s.delivered = seq;
    if (!s.held.empty()) {
        while (!s.held.empty() && s.held.begin()->first <= s.delivered + 1) {
            auto node = s.held.extract(s.held.begin());
            if (node.key() == s.delivered + 1) {
                released.append(std::move(node.mapped()));
                s.delivered = node.key();
            }
        }
        if (s.held.empty())
            --m_heldChannels;
        else
            s.heldSinceMs = nowMs; // progress: the rest gets a fresh wait
    }
    return released;
}

QList<ChannelOrder::Gap> ChannelOrder::stalled(qint64 nowMs, qint64 ageMs) const
{
    QList<Gap> gaps;
    if (m_heldChannels == 0)
        return gaps;
    for (auto it = m_channels.cbegin(); it != m_channels.cend(); ++it) {
        if (!it->held.empty() && nowMs - it->heldSinceMs >= ageMs)
            gaps.append(Gap {it.key(), it->delivered, it->held.begin()->first});
    }
    return gaps;
}

} // namespace taskmaster::server
