// TrustedProxies: the client address of a REST request (what register and login are rate limited
// by). The peer is the client unless it is one of --trusted-proxies (nginx); then X-Forwarded-For
// is read right to left, past the hops those proxies added, and the first address that is not
// one of them is the client. An unparsable hop stops the walk at the last address believed.
// Owns: the list of trusted subnets. Thread: any (read-only after construction).
#pragma once

#include "server/http/api.h"

#include <QHostAddress>
#include <QList>

#include <utility>

namespace taskmaster::server {

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as plain IPv4; any other address unchanged.
[[nodiscard]] QHostAddress plainAddress(const QHostAddress &address);

class TrustedProxies final {
public:
    using Subnet = std::pair<QHostAddress, int>;

    explicit TrustedProxies(QList<Subnet> subnets = {}) : m_subnets(std::move(subnets)) { }

    // The peer, or from X-Forwarded-For when the peer is a trusted proxy (IPv4-mapped addresses
    // as plain IPv4).
    [[nodiscard]] QHostAddress clientAddress(const Call &call) const;
    // The same from a peer and its X-Forwarded-For value.
    [[nodiscard]] QHostAddress clientAddress(const QHostAddress &peer, const QByteArray &forwardedFor) const;
    // Whether `address` is one of the trusted proxies.
    [[nodiscard]] bool isTrusted(const QHostAddress &address) const { return trusted(address); }

private:
    [[nodiscard]] bool trusted(const QHostAddress &address) const;

    QList<Subnet> m_subnets;
};

} // namespace taskmaster::server
