#include "tests/support/burst_client.h"

#include <QTest>

namespace taskmaster::test {

namespace {

// Parses one complete answer at the start of buffer; false while it is incomplete.
bool parseReply(const QByteArray &buffer, BurstReply *reply)
{
    const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return false;
    const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
    BurstReply r;
    const QList<QByteArray> statusLine = lines.value(0).trimmed().split(' ');
    r.status = statusLine.value(1).toInt();
    qint64 length = 0;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon < 0)
            continue;
        const QByteArray name = lines[i].left(colon).trimmed().toLower();
        const QByteArray value = lines[i].mid(colon + 1).trimmed();
        r.headers.append({name, value});
        if (name == "content-length")
            length = value.toLongLong();
    }
    if (buffer.size() < headEnd + 4 + length)
        return false;
    r.body = buffer.mid(headEnd + 4, length);
    *reply = std::move(r);
    return true;
}

} // namespace

QByteArray BurstReply::header(const QByteArray &name) const
{
    const QByteArray lower = name.toLower();
    for (const auto &[n, v] : headers) {
        if (n == lower)
            return v;
    }
    return {};
}

bool BurstClient::connect(quint16 port, int connections, int timeoutMs)
{
    m_sockets.clear();
    for (int i = 0; i < connections; ++i) {
        auto socket = std::make_unique<QTcpSocket>();
        socket->connectToHost(QStringLiteral("127.0.0.1"), port);
        m_sockets.push_back(std::move(socket));
    }
    return QTest::qWaitFor(
        [this] {
            for (const auto &s : m_sockets) {
                if (s->state() != QAbstractSocket::ConnectedState)
                    return false;
            }
            return true;
        },
        timeoutMs);
}

QList<BurstReply> BurstClient::get(const QString &path, const QList<QByteArray> &tokens, int timeoutMs)
{
    send(path, tokens);
    return wait(timeoutMs);
}

void BurstClient::send(const QString &path, const QList<QByteArray> &tokens)
{
    m_buffers.assign(m_sockets.size(), QByteArray());
    for (size_t i = 0; i < m_sockets.size(); ++i) {
        QByteArray request = "GET " + path.toUtf8() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        if (!tokens.isEmpty())
            request += "Authorization: Bearer " + tokens[qsizetype(i) % tokens.size()] + "\r\n";
        request += "\r\n";
        m_sockets[i]->write(request);
    }
    for (const auto &s : m_sockets)
        s->flush();
}

QList<BurstReply> BurstClient::wait(int timeoutMs)
{
    QList<BurstReply> replies(qsizetype(m_sockets.size()));
    // An answer missing at the deadline stays status 0: the caller sees which.
    static_cast<void>(QTest::qWaitFor(
        [&] {
            bool all = true;
            for (size_t i = 0; i < m_sockets.size(); ++i) {
                if (replies[qsizetype(i)].status != 0)
                    continue;
                m_buffers[i] += m_sockets[i]->readAll();
                if (parseReply(m_buffers[i], &replies[qsizetype(i)]))
                    m_buffers[i].clear();
                else
                    all = false;
            }
            return all;
        },
        timeoutMs));
    return replies;
}

} // namespace taskmaster::test
