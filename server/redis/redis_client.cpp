#include "server/redis/redis_client.h"

#include "server/redis/hiredis_reply.h"
#include "server/redis/redis_qt_adapter.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QHostInfo>
#include <QPointer>
#include <QVarLengthArray>

#include <algorithm>
#include <deque>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <limits>

namespace taskmaster::server {

Q_LOGGING_CATEGORY(lcRedis, "tm.redis")

namespace {

qint64 nowMs()
{
    static const QElapsedTimer clock = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return clock.elapsed();
}

QString contextError(const redisAsyncContext *ac, const QString &fallback)
{
    if (ac->c.err != 0)
        return QString::fromLocal8Bit(ac->c.errstr);
    return fallback;
}

} // namespace

namespace detail {

struct Pending {
    RedisCallback callback;
    qint64 deadlineMs = 0;
    bool internal = false; // the handshake's own commands: not called once the owner is gone
    bool timedOut = false;
};

// One hiredis context with its adapter. Lifetime: created by connectTo(); deleted when hiredis
// reports the end (disconnect callback, failed connect) or, for a context that never connected,
// by whoever frees it. It outlives its owner when the owner is destroyed inside a callback.
struct RedisLink {
    RedisClientBase *owner = nullptr; // null once the owner is destroyed
    redisAsyncContext *ac = nullptr;
    RedisQtAdapter *adapter = nullptr;
    std::deque<Pending> pending; // regular commands, in send order (= reply order)
    std::deque<qint64> confirmDeadlines; // pub/sub confirmations expected, in order
    bool connected = false; // TCP connect completed
    bool closing = false; // no new commands; the owner reports Down
    bool freeing = false; // redisAsyncFree was called or hiredis is freeing the context
    QString closeReason;
};

// Removes the adapter from a context that is still allocated. The adapter's destructor writes
// into the context and its cleanup hook must not run without it, so: run the cleanup (deletes
// the socket notifiers; idempotent), unhook, then delete the adapter.
void detachAdapter(RedisLink *link)
{
    if (!link->adapter)
        return;
    redisAsyncContext *ac = link->ac;
    if (ac->ev.cleanup)
        ac->ev.cleanup(ac->ev.data);
    ac->ev.addRead = nullptr;
    ac->ev.delRead = nullptr;
    ac->ev.addWrite = nullptr;
    ac->ev.delWrite = nullptr;
    ac->ev.cleanup = nullptr;
    delete link->adapter;
    link->adapter = nullptr;
}

struct RedisLinkAccess {
    static void connected(RedisClientBase *owner) { owner->linkConnected(); }
    static void finished(RedisClientBase *owner, const QString &reason) { owner->linkFinished(reason); }
    static void push(RedisClientBase *owner, const RedisReply &reply) { owner->pushArrived(reply); }

    static void markClosing(RedisLink *link, const QString &reason)
    {
        link->freeing = true; // only hiredis' free hands out null replies
        if (link->closing)
            return;
        link->closing = true;
        link->closeReason = reason;
        if (link->owner)
            link->owner->linkClosing(reason);
    }

    static void onConnect(const redisAsyncContext *cac, int status)
    {
        auto *link = static_cast<RedisLink *>(cac->data);
        if (!link)
            return;
        if (status == REDIS_OK) {
            link->connected = true;
            if (link->owner)
                connected(link->owner);
            return;
        }
        // hiredis frees the context when this returns; nothing was sent on it.
        const QString reason = contextError(cac, QStringLiteral("connect failed"));
        link->closing = link->freeing = true;
        detachAdapter(link);
        link->ac->onDisconnect = nullptr;
        link->ac->data = nullptr;
        RedisClientBase *owner = link->owner;
        delete link;
        if (owner)
            finished(owner, reason);
    }

    // Last callback of a context that connected: every command callback has been called.
    static void onDisconnect(const redisAsyncContext *cac, int)
    {
        auto *link = static_cast<RedisLink *>(cac->data);
        if (!link)
            return;
        QString reason = link->closeReason;
        if (reason.isEmpty())
            reason = contextError(cac, QStringLiteral("connection closed by the server"));
        link->closing = link->freeing = true;
        detachAdapter(link);
        link->ac->data = nullptr;
        RedisClientBase *owner = link->owner;
        delete link;
        if (owner)
            finished(owner, reason);
    }

    static void onReply(redisAsyncContext *ac, void *reply, void *privdata)
    {
        auto *link = static_cast<RedisLink *>(privdata);
        if (link->pending.empty())
            return; // cannot happen: one pending entry per command sent
        Pending p = std::move(link->pending.front());
        link->pending.pop_front();
        if (!reply) {
            markClosing(link, contextError(ac, QStringLiteral("connection lost")));
            if (!p.callback || (p.internal && !link->owner))
                return;
            const QString message = p.timedOut ? QStringLiteral("redis: ") + link->closeReason
                                               : QStringLiteral("redis unavailable: ") + link->closeReason;
            p.callback(Error {ErrorCode::Unavailable, message, {}});
            return;
        }
        if (!p.callback || (p.internal && !link->owner))
            return;
        p.callback(fromHiredis(static_cast<const redisReply *>(reply)));
    }

    static void onPush(redisAsyncContext *ac, void *reply, void *privdata)
    {
        auto *link = static_cast<RedisLink *>(privdata);
        if (!reply) {
            markClosing(link, contextError(ac, QStringLiteral("connection lost")));
            return;
        }
        if (!link->owner || link->closing)
            return;
        push(link->owner, fromHiredis(static_cast<const redisReply *>(reply)));
    }
};

} // namespace detail

using detail::RedisLink;
using detail::RedisLinkAccess;

RedisClientBase::RedisClientBase(RedisUrl url, RedisOptions options, QObject *parent)
    : QObject(parent), m_url(std::move(url)), m_options(std::move(options)),
      m_backoff(m_options.backoffMin.count(), m_options.backoffMax.count())
{
    m_reconnectTimer.setSingleShot(true);
    m_reconnectTimer.setTimerType(Qt::PreciseTimer); // fires when the breaker lets its probe through
    connect(&m_reconnectTimer, &QTimer::timeout, this, &RedisClientBase::attempt);
    m_connectTimer.setSingleShot(true);
    connect(&m_connectTimer, &QTimer::timeout, this, &RedisClientBase::connectTimedOut);
    m_timeoutTimer.setSingleShot(true);
    m_timeoutTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_timeoutTimer, &QTimer::timeout, this, &RedisClientBase::timeoutFired);
}

RedisClientBase::~RedisClientBase()
{
    m_destroying = true;
    m_reconnectTimer.stop();
    m_connectTimer.stop();
    m_timeoutTimer.stop();
    RedisLink *l = m_link;
    m_link = nullptr;
    if (!l)
        return;
    l->owner = nullptr;
    if (l->freeing)
        return; // hiredis is freeing it already (we run inside one of its callbacks)
    l->closing = l->freeing = true;
    l->closeReason = QStringLiteral("connection closed");
    if (!l->connected) {
        detachAdapter(l);
        l->ac->onConnect = nullptr;
        l->ac->onDisconnect = nullptr;
        l->ac->data = nullptr;
        redisAsyncFree(l->ac);
        delete l;
        return;
    }
    // Calls every pending callback with an error, then the disconnect callback deletes the link;
    // inside a callback of this context hiredis does it when that callback returns.
    redisAsyncFree(l->ac);
}

void RedisClientBase::start()
{
    if (m_started)
        return;
    m_started = true;
    attempt();
}

void RedisClientBase::attempt()
{
    if (m_destroying || m_link)
        return;
    (void)m_breaker.allow(nowMs()); // after a failure this attempt is the breaker's probe
    m_state = State::Connecting;
    ++m_attemptId;
    m_connectTimer.start(m_options.connectTimeout);
    if (!QHostAddress(m_url.host).isNull()) {
        connectTo(m_url.host);
        return;
    }
    const quint64 id = m_attemptId;
    QHostInfo::lookupHost(m_url.host, this, [this, id](const QHostInfo &info) {
        if (id != m_attemptId || m_link || m_state != State::Connecting)
            return;
        const QList<QHostAddress> addresses = info.addresses();
        if (info.error() != QHostInfo::NoError || addresses.isEmpty()) {
            attemptFailed(QStringLiteral("cannot resolve %1: %2").arg(m_url.host, info.errorString()));
            return;
        }
        // Redis binds IPv4 loopback by default: prefer IPv4 when the name has both.
        auto it = std::find_if(addresses.begin(), addresses.end(),
                               [](const QHostAddress &a) { return a.protocol() == QAbstractSocket::IPv4Protocol; });
        connectTo((it != addresses.end() ? *it : addresses.first()).toString());
    });
}

void RedisClientBase::connectTo(const QString &address)
{
    redisAsyncContext *ac = redisAsyncConnect(address.toLatin1().constData(), m_url.port);
    if (!ac) {
        attemptFailed(QStringLiteral("cannot allocate a hiredis context"));
        return;
    }
    if (ac->err != 0) {
        const QString reason = contextError(ac, QStringLiteral("connect failed"));
        redisAsyncFree(ac);
        attemptFailed(reason);
        return;
    }
    auto *link = new RedisLink;
    link->owner = this;
    link->ac = ac;
    ac->data = link;
    link->adapter = new RedisQtAdapter;
    link->adapter->setContext(ac);
    redisEnableKeepAlive(&ac->c);
    // After the adapter: setting the connect callback asks the event hooks for the first write event.
    redisAsyncSetConnectCallback(ac, &RedisLinkAccess::onConnect);
    redisAsyncSetDisconnectCallback(ac, &RedisLinkAccess::onDisconnect);
    m_link = link;
}

void RedisClientBase::attemptFailed(const QString &reason)
{
    m_connectTimer.stop();
    m_state = State::Down;
    m_lastError = reason;
    if (m_backoff.attempts() == 0)
        qCWarning(lcRedis).noquote() << "cannot connect to" << m_url.display() << ":" << reason;
    else
        qCDebug(lcRedis).noquote() << "cannot connect to" << m_url.display() << ":" << reason;
    scheduleReconnect();
}

void RedisClientBase::scheduleReconnect()
{
    if (m_destroying)
        return;
    m_state = State::Down;
    // Equal jitter (shared/core/backoff.h), so instances that lost Redis together spread out.
    const qint64 delay = m_backoff.next();
    m_breaker.open(nowMs(), delay);
    m_reconnectTimer.start(std::chrono::milliseconds(delay));
}

void RedisClientBase::linkConnected()
{
    // Inside hiredis' connect callback: only queue commands here (no signals, no free).
    const auto check = [this](const char *what) {
        return [this, what](Result<RedisReply> r) {
            if (r && r->isError())
                dropConnection(QLatin1String(what) + QStringLiteral(" failed: ") + QString::fromUtf8(r->toByteArray()));
        };
    };
    bool sent = true;
    if (!m_url.password.isEmpty()) {
        QList<QByteArray> auth {"AUTH"};
        if (!m_url.user.isEmpty())
            auth << m_url.user.toUtf8();
        auth << m_url.password.toUtf8();
        RedisCallback cb = check("AUTH");
        sent = sent && sendCommand(auth, cb, true);
    }
    if (m_url.db != 0) {
        RedisCallback cb = check("SELECT");
        sent = sent && sendCommand({"SELECT", QByteArray::number(m_url.db)}, cb, true);
    }
    if (!m_options.clientName.isEmpty()) {
        RedisCallback cb = check("CLIENT SETNAME");
        sent = sent && sendCommand({"CLIENT", "SETNAME", m_options.clientName}, cb, true);
    }
    RedisCallback ping = [this](Result<RedisReply> r) {
        if (!r || !m_link || m_link->closing)
            return; // the connection is going away; its end reports why
        if (r->isError()) {
            dropConnection(QStringLiteral("PING failed: ") + QString::fromUtf8(r->toByteArray()));
            return;
        }
        handshakeDone();
    };
    sent = sent && sendCommand({"PING"}, ping, true);
    if (!sent) // cannot free inside the connect callback: the connect timeout drops it
        qCWarning(lcRedis).noquote() << "handshake to" << m_url.display() << "could not be queued";
}

void RedisClientBase::linkClosing(const QString &reason)
{
    m_state = State::Down;
    m_lastError = reason;
}

void RedisClientBase::linkFinished(const QString &reason)
{
    m_link = nullptr;
    m_timeoutTimer.stop();
    m_connectTimer.stop();
    m_state = State::Down;
    m_lastError = reason;
    const bool wasUp = m_linkWasUp;
    m_linkWasUp = false;
    connectionClosed();
    if (wasUp) {
        qCWarning(lcRedis).noquote() << "connection to" << m_url.display() << "lost:" << reason;
    } else if (m_backoff.attempts() == 0) {
        qCWarning(lcRedis).noquote() << "cannot connect to" << m_url.display() << ":" << reason;
    } else {
        qCDebug(lcRedis).noquote() << "cannot connect to" << m_url.display() << ":" << reason;
    }
    scheduleReconnect();
    if (wasUp)
        Q_EMIT down();
}

void RedisClientBase::markUp()
{
    m_state = State::Up;
    m_linkWasUp = true;
    m_backoff.reset();
    m_breaker.succeeded();
    m_connectTimer.stop();
    ++m_upCount;
    qCInfo(lcRedis).noquote() << "connected to" << m_url.display();
    Q_EMIT up();
}

void RedisClientBase::dropConnection(const QString &reason)
{
    RedisLink *l = m_link;
    if (!l || l->freeing)
        return;
    l->closing = l->freeing = true;
    l->closeReason = reason;
    linkClosing(reason);
    if (!l->connected) {
        // Not connected yet: no callback is registered, hiredis calls none.
        detachAdapter(l);
        l->ac->onConnect = nullptr;
        l->ac->onDisconnect = nullptr;
        l->ac->data = nullptr;
        redisAsyncFree(l->ac);
        delete l;
        linkFinished(reason);
        return;
    }
    // Fails the pending callbacks, then onDisconnect -> linkFinished (deferred by hiredis when
    // called from inside one of this context's callbacks).
    redisAsyncFree(l->ac);
}

bool RedisClientBase::canSend() const
{
    return m_link && m_link->connected && !m_link->closing;
}

qsizetype RedisClientBase::commandsInFlight() const
{
    return m_link ? qsizetype(m_link->pending.size()) : 0;
}

// Hands one command to hiredis as an argv list (binary safe); false when hiredis refuses it.
static bool writeArgv(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata, const QList<QByteArray> &args)
{
    QVarLengthArray<const char *, 16> argv;
    QVarLengthArray<size_t, 16> lengths;
    for (const QByteArray &a : args) {
        argv.append(a.constData());
        lengths.append(size_t(a.size()));
    }
    return redisAsyncCommandArgv(ac, fn, privdata, int(args.size()), argv.data(), lengths.data()) == REDIS_OK;
}

bool RedisClientBase::sendCommand(const QList<QByteArray> &args, RedisCallback &callback, bool internal)
{
    if (!canSend() || args.isEmpty())
        return false;
    if (!writeArgv(m_link->ac, &RedisLinkAccess::onReply, m_link, args))
        return false;
    m_link->pending.push_back({std::move(callback), nowMs() + m_options.commandTimeout.count(), internal, false});
    if (!m_timeoutTimer.isActive())
        armTimeout();
    return true;
}

bool RedisClientBase::sendPubSub(const QList<QByteArray> &args, int confirmations)
{
    if (!canSend() || args.isEmpty())
        return false;
    if (!writeArgv(m_link->ac, &RedisLinkAccess::onPush, m_link, args))
        return false;
    const qint64 deadline = nowMs() + m_options.commandTimeout.count();
    for (int i = 0; i < confirmations; ++i)
        m_link->confirmDeadlines.push_back(deadline);
    if (!m_timeoutTimer.isActive())
        armTimeout();
    return true;
}

void RedisClientBase::confirmationArrived()
{
    if (m_link && !m_link->confirmDeadlines.empty())
        m_link->confirmDeadlines.pop_front();
}

void RedisClientBase::armTimeout()
{
    if (!m_link || m_link->freeing) {
        m_timeoutTimer.stop();
        return;
    }
    qint64 next = std::numeric_limits<qint64>::max();
    if (!m_link->pending.empty())
        next = m_link->pending.front().deadlineMs;
    if (!m_link->confirmDeadlines.empty())
        next = std::min(next, m_link->confirmDeadlines.front());
    if (next == std::numeric_limits<qint64>::max()) {
        m_timeoutTimer.stop();
        return;
    }
    m_timeoutTimer.start(std::chrono::milliseconds(std::max<qint64>(0, next - nowMs())));
}

void RedisClientBase::timeoutFired()
{
    RedisLink *l = m_link;
    if (!l || l->freeing)
        return;
    const qint64 now = nowMs();
    const qint64 ms = m_options.commandTimeout.count();
    if (!l->pending.empty() && l->pending.front().deadlineMs <= now) {
        l->pending.front().timedOut = true;
        if (m_linkWasUp) // a handshake that times out is reported as a failed attempt
            qCWarning(lcRedis).noquote() << "command to" << m_url.display() << "timed out after" << ms
                                         << "ms; dropping the connection";
        dropConnection(QStringLiteral("command timed out after %1 ms").arg(ms));
        return; // `this` may be gone: a failed callback may have destroyed it
    }
    if (!l->confirmDeadlines.empty() && l->confirmDeadlines.front() <= now) {
        qCWarning(lcRedis).noquote() << "subscription on" << m_url.display() << "not confirmed within" << ms
                                     << "ms; dropping the connection";
        dropConnection(QStringLiteral("subscription not confirmed within %1 ms").arg(ms));
        return;
    }
    armTimeout();
}

void RedisClientBase::connectTimedOut()
{
    if (m_state == State::Up)
        return;
    const QString reason = QStringLiteral("no connection within %1 ms").arg(m_options.connectTimeout.count());
    if (m_link) {
        dropConnection(reason); // only handshake callbacks are pending: no user code runs
        return;
    }
    ++m_attemptId; // ignore the host lookup still under way
    attemptFailed(reason);
}

qint64 RedisClientBase::retryAfterMs() const
{
    return m_breaker.retryAfterMs(nowMs());
}

} // namespace taskmaster::server
