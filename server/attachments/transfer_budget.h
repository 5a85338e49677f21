// TransferBudget: the attachment bytes an instance moves a second, uploads and downloads together
// (--attachment-mib-per-s). A transfer on loopback or a fast network moves as fast as the cores
// let it: two clients moving files back to back took most of this 2-core machine and raised the
// delivery p99 of busy rooms five- to twentyfold (docs/BENCHMARKS.md, attachments). Each transfer
// charges the chunk it moved and waits the time the instance's budget needs to cover it before
// it moves the next (its socket is not read, or no more is written, meanwhile: TCP holds the
// client back); with several transfers at once each waits for all of them, so they share the
// rate. A burst of a quarter of a second's worth (at least one chunk) goes at once: small files
// are not slowed. Pure arithmetic on a monotonic clock the caller passes.
// Owns: the balance. Thread: the network thread (AttachmentService's).
#pragma once

#include "server/ratelimit/token_bucket.h"

#include <QtGlobal>

#include <algorithm>

namespace taskmaster::server {

// A TokenBucket of bytes that may go into debt: a chunk is charged whole once moved, and the
// transfer waits until the flow paid it back.
class TransferBudget final {
public:
    // bytesPerSecond 0: no limit. chunkBytes: the most one charge() moves (the burst's floor).
    TransferBudget(qint64 bytesPerSecond, qint64 chunkBytes)
        : m_rule {double(std::max<qint64>(0, bytesPerSecond)),
                  std::max(double(std::max<qint64>(0, bytesPerSecond)) / 4.0, double(chunkBytes))},
          m_bucket(TokenBucket::full(m_rule, 0))
    {
    }

    // `bytes` were moved at nowMs: how long (ms) the transfer waits before it moves more; 0: at once.
    [[nodiscard]] qint64 charge(qint64 bytes, qint64 nowMs)
    {
        if (!m_rule.enabled())
            return 0;
        m_bucket.refill(m_rule, nowMs);
        m_bucket.spend(double(bytes));
        return m_bucket.msUntil(m_rule, 0);
    }

private:
    RateRule m_rule;
    TokenBucket m_bucket;
};

} // namespace taskmaster::server
