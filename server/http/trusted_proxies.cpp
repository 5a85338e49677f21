#include "server/http/trusted_proxies.h"

namespace taskmaster::server {

QHostAddress plainAddress(const QHostAddress &address)
{
    bool v4 = false;
    const quint32 ip = address.toIPv4Address(&v4);
    return v4 ? QHostAddress(ip) : address;
}

bool TrustedProxies::trusted(const QHostAddress &address) const
{
    for (const auto &subnet : m_subnets) {
        if (address.isInSubnet(subnet))
            return true;
    }
    return false;
}

QHostAddress TrustedProxies::clientAddress(const Call &call) const
{
    return clientAddress(call.peer, call.forwardedFor);
}

QHostAddress TrustedProxies::clientAddress(const QHostAddress &peer, const QByteArray &forwardedFor) const
{
    QHostAddress client = plainAddress(peer);
    if (forwardedFor.isEmpty() || !trusted(client))
        return client;
    // Right to left: the hops our proxies added, until the first address none of them is.
    const QList<QByteArray> hops = forwardedFor.split(',');
    for (qsizetype i = hops.size() - 1; i >= 0; --i) {
        const QHostAddress hop(QString::fromLatin1(hops.at(i).trimmed()));
        if (hop.isNull())
            return client; // garbage from the client: the last address we could trust
        client = plainAddress(hop);
        if (!trusted(client))
            return client;
    }
    return client;
}

} // namespace taskmaster::server
