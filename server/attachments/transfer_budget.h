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

#include <QtGlobal>

#include <algorithm>
#include <cmath>

namespace taskmaster::server {

class TransferBudget final {
public:
    // bytesPerSecond 0: no limit. chunkBytes: the most one charge() moves (the burst's floor).
    TransferBudget(qint64 bytesPerSecond, qint64 chunkBytes)
        : m_rate(double(std::max<qint64>(0, bytesPerSecond))), m_burst(std::max(m_rate / 4.0, double(chunkBytes))),
          m_balance(m_burst)
    {
    }

    // `bytes` were moved at nowMs: how long (ms) the transfer waits before it moves more; 0: at once.
    [[nodiscard]] qint64 charge(qint64 bytes, qint64 nowMs)
    {
        if (m_rate <= 0)
            return 0;
        if (m_lastMs >= 0)
            m_balance = std::min(m_burst, m_balance + m_rate * double(std::max<qint64>(0, nowMs - m_lastMs)) / 1000.0);
        m_lastMs = nowMs;
        m_balance -= double(bytes);
        return m_balance >= 0 ? 0 : qint64(std::ceil(-m_balance * 1000.0 / m_rate));
    }

private:
    double m_rate;
    double m_burst;
    double m_balance;
    qint64 m_lastMs = -1;
};

} // namespace taskmaster::server
