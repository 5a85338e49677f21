#include "server/ws/channel_replay.h"

#include "server/log/json_log.h"
#include "server/storage/event_store.h"
#include "server/ws/hub_metrics.h"
#include "server/ws/subscription_table.h"

#include <algorithm>

namespace taskmaster::server {

ChannelReplay::ChannelReplay(DbPool *db, const HubOptions &options, const QElapsedTimer &clock,
                             ClientConnections &connections, SubscriptionTable &subscriptions, HubStats &stats,
                             QObject *parent)
    : QObject(parent), m_db(db), m_options(options), m_clock(clock), m_connections(connections),
      m_subscriptions(subscriptions), m_stats(stats)
{
    m_gapTimer.setInterval(std::max(1, m_options.gapWaitMs / 2));
    connect(&m_gapTimer, &QTimer::timeout, this, &ChannelReplay::fillGaps);
}

void ChannelReplay::resume(ClientConnection &c, const ws::SeqMap &resume, const ws::SeqMap &channels)
{
    ChannelOrder &order = m_subscriptions.order();
    for (auto it = channels.cbegin(); it != channels.cend(); ++it) {
        const Channel &ch = it.key();
        const Seq current = it.value();
        Seq start = current;
        Seq announce = -1;
        if (const auto r = resume.constFind(ch); r != resume.cend()) {
            if (*r > current || current - *r > m_options.replayLimit) {
                ++m_stats.resyncs;
                m_connections.writeFrame(c, ws::Resync {ch});
            } else if (*r < current) {
                start = *r;
                announce = *r;
            }
        }
        order.track(ch, current);
        m_subscriptions.add(c, ch, start);
        c.channels[ch].announceFrom = announce;
        if (start < std::max(current, order.delivered(ch)))
            catchUp(c.id, ch);
    }
}

void ChannelReplay::catchUp(ConnId id, const Channel &channel)
{
    ClientConnection *c = m_connections.find(id);
    if (!c)
        return;
    const auto it = c->channels.find(channel);
    if (it == c->channels.end() || it->catchingUp)
        return;
    it->catchingUp = true; // live events wait in the cursor from now on
    m_queued.push_back({id, channel});
    readQueued();
}

void ChannelReplay::readQueued()
{
    while (m_reading < std::max(1, m_options.replayConcurrency) && !m_queued.empty()) {
        const auto [id, channel] = m_queued.front();
        m_queued.pop_front();
        ClientConnection *c = m_connections.find(id);
        const auto it = c ? c->channels.find(channel) : QHash<Channel, Cursor>::iterator();
        if (!c || it == c->channels.end())
            continue; // closed or unsubscribed while it waited
        ++m_reading;
        read(id, channel, it->sent);
    }
}

void ChannelReplay::read(ConnId id, const Channel &channel, Seq after)
{
    const int limit = m_options.replayLimit;
    m_db->query([channel, after, limit](QSqlDatabase &db) -> Result<QList<ChannelEvent>> {
            return store::eventsAfter(db, channel, after, limit);
        })
        .then(this, [this, id, channel, limit](const Result<QList<ChannelEvent>> &r) {
            --m_reading;
            readQueued();
            ClientConnection *conn = m_connections.find(id);
            if (!conn || conn->state != ClientConnection::State::Open)
                return;
            const auto cit = conn->channels.find(channel);
            if (cit == conn->channels.end())
                return;
            Cursor &cur = *cit;
            if (!r) {
                // The client resumes from what it has when it comes back.
                m_connections.closeWith(*conn, ws::CloseCode::ServerError,
                                        QStringLiteral("replay failed: ") + r.error().message);
                return;
            }
            for (const ChannelEvent &e : *r) {
                if (e.seq != cur.sent + 1)
                    continue;
                if (!m_connections.writeDurable(*conn, QString::fromUtf8(ws::encodeEventFrame(e))))
                    return;
                cur.sent = e.seq;
                ++m_stats.replayedEvents;
            }
            cur.catchingUp = false;
            const bool more = r->size() >= limit;
            if (more && (cur.waiting.empty() || cur.waiting.begin()->first > cur.sent + 1)) {
                catchUp(id, channel);
                return;
            }
            if (cur.announceFrom >= 0) {
                if (cur.sent > cur.announceFrom)
                    m_connections.writeFrame(*conn, ws::Resumed {channel, cur.announceFrom + 1, cur.sent});
                cur.announceFrom = -1;
            }
            std::map<Seq, QString> waiting = std::exchange(cur.waiting, {});
            for (auto w = waiting.begin(); w != waiting.end(); ++w) {
                if (w->first <= cur.sent)
                    continue;
                if (w->first != cur.sent + 1) {
                    cur.waiting.insert(w, waiting.end());
                    catchUp(id, channel);
                    return;
                }
                if (!m_connections.writeDurable(*conn, w->second))
                    return;
                cur.sent = w->first;
                ++m_stats.eventsFannedOut;
            }
        });
}

void ChannelReplay::watchGaps()
{
    if (!m_gapTimer.isActive())
        m_gapTimer.start();
}

void ChannelReplay::fillGaps()
{
    ChannelOrder &order = m_subscriptions.order();
    const QList<ChannelOrder::Gap> gaps = order.stalled(m_clock.elapsed(), m_options.gapWaitMs);
    for (const ChannelOrder::Gap &gap : gaps) {
        if (m_filling.contains(gap.channel))
            continue;
        m_filling.insert(gap.channel);
        ++m_stats.gapFills;
        const int limit = int(std::min<qint64>(gap.before - gap.after - 1, m_options.replayLimit));
        m_db->query([gap, limit](QSqlDatabase &db) -> Result<QList<ChannelEvent>> {
                return store::eventsAfter(db, gap.channel, gap.after, limit);
            })
            .then(this, [this, channel = gap.channel](const Result<QList<ChannelEvent>> &r) {
                m_filling.remove(channel);
                if (!r) {
                    qCWarning(lcServer) << "gap fill failed for" << channel.toString() << r.error().message;
                    return;
                }
                QList<Outgoing> out;
                for (const ChannelEvent &e : *r)
                    out.append(Outgoing {e, 0});
                m_subscriptions.publish(std::move(out));
            });
    }
    if (!order.hasHeld())
        m_gapTimer.stop();
}

void ChannelReplay::verifyChannels()
{
    const QList<std::pair<Channel, Seq>> tracked = m_subscriptions.delivered();
    if (tracked.isEmpty())
        return;
    const int limit = m_options.replayLimit;
    m_db->query([tracked, limit](QSqlDatabase &db) -> Result<QList<ChannelEvent>> {
            QList<ChannelEvent> missing;
            for (const auto &[channel, delivered] : tracked) {
                auto seq = store::channelSeq(db, channel);
                if (!seq || *seq <= delivered)
                    continue; // gone (a deleted project) or up to date
                auto events = store::eventsAfter(db, channel, delivered, limit);
                if (!events)
                    return events.error();
                missing += *events;
            }
            return missing;
        })
        .then(this, [this](const Result<QList<ChannelEvent>> &r) {
            if (!r) {
                qCWarning(lcServer) << "channel verification failed:" << r.error().message;
                return;
            }
            if (r->isEmpty())
                return;
            ++m_stats.gapFills;
            QList<Outgoing> out;
            out.reserve(r->size());
            for (const ChannelEvent &e : *r)
                out.append(Outgoing {e, 0});
            m_subscriptions.publish(std::move(out));
        });
}

} // namespace taskmaster::server
