// RedisClientBase: one supervised hiredis async connection (hiredis' Qt adapter), the common part
// of RedisConnection (commands) and RedisSubscriber (pub/sub). It connects, authenticates
// (AUTH, SELECT, CLIENT SETNAME, then PING), reports state() with up()/down(), and after any
// disconnect or failed attempt reconnects by itself with exponential backoff and jitter
// (backoffMin doubling to backoffMax, each delay drawn from [d/2, d]: shared/core/backoff.h). Host names are resolved
// with QHostInfo first, so connecting never blocks; TCP keepalive is on.
// Commands are pipelined: any number in flight, replies in order. A command whose reply has not
// come within commandTimeout fails with a timeout error and the connection is dropped (every
// other command in flight fails with Unavailable) and re-established.
// Circuit breaker (shared/core/circuit_breaker.h): a lost connection or failed attempt opens it
// for the reconnect delay, the reconnect attempt is its half-open probe, Up closes it. While it is
// not closed commands fail at once (RedisConnection::command, with retryAfterMs).
// Owns: the hiredis context, its adapter and the callbacks of the commands in flight.
// Thread: network thread (everything; not thread-safe).
#pragma once

#include "server/redis/redis_reply.h"
#include "server/redis/redis_url.h"
#include "shared/core/backoff.h"
#include "shared/core/circuit_breaker.h"
#include "shared/core/error.h"

#include <QByteArray>
#include <QList>
#include <QLoggingCategory>
#include <QObject>
#include <QTimer>

#include <chrono>
#include <functional>

namespace taskmaster::server {

Q_DECLARE_LOGGING_CATEGORY(lcRedis)

struct RedisOptions {
    std::chrono::milliseconds commandTimeout {2000}; // per command, from send to reply
    std::chrono::milliseconds connectTimeout {2000}; // from the attempt to Up (lookup, TCP, handshake)
    std::chrono::milliseconds backoffMin {50}; // first reconnect delay (before jitter)
    std::chrono::milliseconds backoffMax {2000}; // cap of the doubling delay
    QByteArray clientName; // CLIENT SETNAME after connecting when not empty (no spaces)
};

// Called exactly once per command: with the reply (which may be a Redis error reply), or with
// Error{Unavailable} when the command could not be sent, the connection dropped before its reply,
// it timed out ("timed out" in the message) or the connection object was destroyed.
using RedisCallback = std::function<void(Result<RedisReply>)>;

namespace detail {
struct RedisLink;
struct RedisLinkAccess;
} // namespace detail

class RedisClientBase : public QObject {
    Q_OBJECT
public:
    enum class State {
        Down, // not started, or waiting for the next attempt after a failure
        Connecting, // an attempt is under way (lookup, TCP connect, handshake)
        Up, // commands (subscriptions) are accepted
    };
    Q_ENUM(State)

    // Closes the connection. Callbacks of commands still in flight are called (Unavailable)
    // before the destructor returns, or, when it runs inside one of this connection's callbacks,
    // right after that callback returns. No signal is emitted from the destructor.
    ~RedisClientBase() override;

    // Starts connecting (then keeps the connection up until destruction). Idempotent.
    void start();

    [[nodiscard]] State state() const { return m_state; }
    [[nodiscard]] bool isUp() const { return m_state == State::Up; }
    [[nodiscard]] const RedisUrl &url() const { return m_url; }
    [[nodiscard]] const RedisOptions &options() const { return m_options; }
    // How many times the connection came up (1 after the first connect).
    [[nodiscard]] qint64 upCount() const { return m_upCount; }
    // Why the connection went down or the last attempt failed (empty while none did).
    [[nodiscard]] QString lastError() const { return m_lastError; }
    // The breaker (see above) and its observer (metrics, logs; set it before start()).
    [[nodiscard]] CircuitBreaker::State breakerState() const { return m_breaker.state(); }
    void setBreakerObserver(CircuitBreaker::Observer observer) { m_breaker.setObserver(std::move(observer)); }
    // Until the next reconnect attempt (0 while Up or connecting): a refused command's Retry-After.
    [[nodiscard]] qint64 retryAfterMs() const;

Q_SIGNALS:
    void up(); // the connection came up (after its handshake); also after each reconnect
    void down(); // an Up connection was lost; reconnecting has been scheduled

protected:
    RedisClientBase(RedisUrl url, RedisOptions options, QObject *parent);

    // Sends a regular command on the current connection (it must be past its TCP connect and not
    // closing). Returns false, leaving `callback` untouched, when it cannot be sent. Internal
    // callbacks are not called once the owner is being destroyed.
    bool sendCommand(const QList<QByteArray> &args, RedisCallback &callback, bool internal = false);
    // Sends a (P)SUBSCRIBE/(P)UNSUBSCRIBE whose `confirmations` pushes must come within the
    // command timeout; the pushes arrive through pushArrived(). Returns false when not sent.
    bool sendPubSub(const QList<QByteArray> &args, int confirmations);
    // A confirmation counted by sendPubSub arrived.
    void confirmationArrived();

    // The handshake succeeded; the default marks the connection Up.
    virtual void handshakeDone() { markUp(); }
    // A subscription push (message, (un)subscribe confirmation) arrived.
    virtual void pushArrived(const RedisReply &) { }
    // The connection is gone (called before down() is emitted); drop per-connection state.
    virtual void connectionClosed() { }

    // Marks the connection Up and emits up(). Call last: a slot may destroy this object.
    void markUp();
    // Drops the current connection (it reconnects). `this` may be destroyed on return when
    // called outside a hiredis callback: guard with QPointer.
    void dropConnection(const QString &reason);
    // Past TCP connect and not closing: commands can be sent.
    [[nodiscard]] bool canSend() const;
    // Number of regular commands waiting for their reply.
    [[nodiscard]] qsizetype commandsInFlight() const;

private:
    friend struct detail::RedisLinkAccess;

    void attempt();
    void connectTo(const QString &address);
    void attemptFailed(const QString &reason);
    void scheduleReconnect();
    void linkConnected();
    void linkClosing(const QString &reason);
    void linkFinished(const QString &reason);
    void armTimeout();
    void timeoutFired();
    void connectTimedOut();

    RedisUrl m_url;
    RedisOptions m_options;
    State m_state = State::Down;
    bool m_started = false;
    bool m_destroying = false;
    bool m_linkWasUp = false;
    Backoff m_backoff; // consecutive failed attempts and their delays
    CircuitBreaker m_breaker {CircuitBreakerOptions {1, 1}}; // open for each reconnect delay
    quint64 m_attemptId = 0; // tells stale host lookups apart
    qint64 m_upCount = 0;
    QString m_lastError;
    detail::RedisLink *m_link = nullptr;
    QTimer m_reconnectTimer;
    QTimer m_connectTimer;
    QTimer m_timeoutTimer;
};

} // namespace taskmaster::server
