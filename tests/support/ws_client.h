// WsClient: a WebSocket client for tests, over QWebSocket against a real server. It keeps every
// frame it receives (raw and decoded with the shared codec) and waits for frames, for the
// connection and for the close with deadlines (poll-with-deadline on the event loop, no
// sleeps). Thread: the test's thread.
#pragma once

#include "shared/codec/ws_frames.h"

#include <QList>
#include <QObject>
#include <QUrl>
#include <QWebSocket>

#include <functional>
#include <optional>

namespace taskmaster::test {

class WsClient final : public QObject {
    Q_OBJECT
public:
    explicit WsClient(QObject *parent = nullptr);
    ~WsClient() override;

    // Connects to url (ws://host:port/ws...), optionally with "Authorization: Bearer <token>".
    // True once the upgrade completed.
    [[nodiscard]] bool open(const QUrl &url, const QByteArray &bearer = {}, int timeoutMs = 10000);
    // open() then hello with the token (and resume); returns the welcome, or nullopt.
    [[nodiscard]] std::optional<ws::Welcome> connectAs(const QUrl &url, const QByteArray &token,
                                                       const ws::SeqMap &resume = {}, int timeoutMs = 10000);

    void send(const ws::ClientFrame &frame);
    void sendText(const QString &text);
    void sendBinary(const QByteArray &bytes);
    [[nodiscard]] QWebSocket &socket() { return m_socket; }

    // The first received, not yet taken frame of type T that satisfies pred (any, when pred is
    // empty), waiting up to timeoutMs for it; it is taken (later calls do not see it again).
    template<typename T> std::optional<T> take(std::function<bool(const T &)> pred = {}, int timeoutMs = 10000)
    {
        std::optional<T> found;
        waitUntil(
            [&] {
                for (qsizetype i = 0; i < m_pending.size(); ++i) {
                    const T *f = std::get_if<T>(&m_pending.at(i));
                    if (f && (!pred || pred(*f))) {
                        found = *f;
                        m_pending.removeAt(i);
                        return true;
                    }
                }
                return false;
            },
            timeoutMs);
        return found;
    }
    // Durable events of a channel received so far (taken or not), in arrival order.
    [[nodiscard]] QList<ChannelEvent> events(const Channel &channel) const;
    // Waits until at least n durable events of the channel have arrived.
    bool waitForEvents(const Channel &channel, qsizetype n, int timeoutMs = 20000);
    // Every frame received, decoded, in order (undecodable ones are counted in badFrames()).
    [[nodiscard]] const QList<ws::ServerFrame> &received() const { return m_all; }
    [[nodiscard]] int badFrames() const { return m_bad; }
    void clearPending() { m_pending.clear(); }

    [[nodiscard]] bool isOpen() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    // Waits for the socket to be closed; the close code the server sent (-1 when none came).
    [[nodiscard]] bool waitForClosed(int timeoutMs = 10000);
    [[nodiscard]] int closeCode() const { return m_closed ? int(m_socket.closeCode()) : -1; }
    void close() { m_socket.close(); }
    void abort() { m_socket.abort(); }

    bool waitUntil(const std::function<bool()> &condition, int timeoutMs);

private:
    QWebSocket m_socket;
    QList<ws::ServerFrame> m_all;
    QList<ws::ServerFrame> m_pending;
    int m_bad = 0;
    bool m_closed = false;
};

} // namespace taskmaster::test
