#include "tests/support/ws_client.h"

#include <QDeadlineTimer>
#include <QNetworkRequest>
#include <QTest>

namespace taskmaster::test {

WsClient::WsClient(QObject *parent) : QObject(parent)
{
    connect(&m_socket, &QWebSocket::textMessageReceived, this, [this](const QString &text) {
        auto frame = ws::decodeServerFrame(text.toUtf8());
        if (!frame) {
            ++m_bad;
            return;
        }
        m_all.append(*frame);
        m_pending.append(*frame);
    });
    connect(&m_socket, &QWebSocket::disconnected, this, [this] { m_closed = true; });
}

WsClient::~WsClient()
{
    m_socket.abort();
}

bool WsClient::waitUntil(const std::function<bool()> &condition, int timeoutMs)
{
    // Processes events until the condition holds or the deadline passes.
    return QTest::qWaitFor(condition, timeoutMs);
}

bool WsClient::open(const QUrl &url, const QByteArray &bearer, int timeoutMs)
{
    QNetworkRequest request(url);
    if (!bearer.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + bearer);
    m_closed = false;
    m_socket.open(request);
    return waitUntil([this] { return isOpen() || m_closed; }, timeoutMs) && isOpen();
}

std::optional<ws::Welcome> WsClient::connectAs(const QUrl &url, const QByteArray &token, const ws::SeqMap &resume,
                                               int timeoutMs)
{
    if (!open(url, {}, timeoutMs))
        return std::nullopt;
    send(ws::Hello {QString::fromUtf8(token), resume, false});
    return take<ws::Welcome>({}, timeoutMs);
}

void WsClient::send(const ws::ClientFrame &frame)
{
    m_socket.sendTextMessage(QString::fromUtf8(ws::encodeClientFrame(frame)));
}

void WsClient::sendText(const QString &text)
{
    m_socket.sendTextMessage(text);
}

void WsClient::sendBinary(const QByteArray &bytes)
{
    m_socket.sendBinaryMessage(bytes);
}

QList<ChannelEvent> WsClient::events(const Channel &channel) const
{
    QList<ChannelEvent> out;
    for (const ws::ServerFrame &f : m_all) {
        if (const auto *e = std::get_if<ChannelEvent>(&f); e && e->channel == channel)
            out.append(*e);
    }
    return out;
}

bool WsClient::waitForEvents(const Channel &channel, qsizetype n, int timeoutMs)
{
    return waitUntil([&] { return events(channel).size() >= n; }, timeoutMs);
}

bool WsClient::waitForClosed(int timeoutMs)
{
    return waitUntil([this] { return m_closed; }, timeoutMs);
}

} // namespace taskmaster::test
