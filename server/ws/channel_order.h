// ChannelOrder: puts the durable events that reach this instance back into seq order per
// channel before they are fanned out. Events arrive out of order when writes on different
// database workers commit close together (later, also from other instances over Redis); an
// event ahead of the next expected seq is held back until the missing ones arrive or
// ChannelReplay fills the gap from the database (stalled()). Events at or below the delivered
// seq are duplicates and are dropped. Only channels with local subscribers are tracked (the
// SubscriptionTable owns it).
// Thread: network thread (plain data, no locking).
#pragma once

#include "shared/domain/types.h"

#include <QHash>
#include <QList>

#include <map>

namespace taskmaster::server {

// A durable event on its way out, with the monotonic time (ns) its frame arrived at this
// instance when it came from a WebSocket send (0 otherwise), for the delivery-time metric.
struct Outgoing {
    ChannelEvent event;
    qint64 arrivalNs = 0;
};

class ChannelOrder {
public:
    // Starts tracking a channel as delivered up to `delivered`; no effect when already tracked.
    void track(const Channel &channel, Seq delivered);
    void forget(const Channel &channel);
    [[nodiscard]] bool isTracked(const Channel &channel) const { return m_channels.contains(channel); }
    // The last seq released for the channel (0 when untracked).
    [[nodiscard]] Seq delivered(const Channel &channel) const;

    // Offers an event of a tracked channel; returns the events that are now in order (the
    // offered one and any held ones it unblocks), possibly none.
    [[nodiscard]] QList<Outgoing> offer(Outgoing out, qint64 nowMs);

    struct Gap {
        Channel channel;
        Seq after = 0; // delivered
        Seq before = 0; // first held seq
    };
    // Channels whose oldest held event has waited at least ageMs.
    [[nodiscard]] QList<Gap> stalled(qint64 nowMs, qint64 ageMs) const;
    [[nodiscard]] bool hasHeld() const { return m_heldChannels > 0; }

private:
    struct State {
        Seq delivered = 0;
        std::map<Seq, Outgoing> held;
        qint64 heldSinceMs = 0;
    };
    QHash<Channel, State> m_channels;
    int m_heldChannels = 0;
};

} // namespace taskmaster::server
