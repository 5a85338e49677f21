#include "server/http/authenticator.h"

#include "server/auth/credentials.h"
#include "server/auth/sessions.h"
#include "server/storage/db_pool.h"

#include <QPointer>

namespace taskmaster::server {

Authenticator::Authenticator(Sessions &sessions, RateLimit apiRate, QObject *parent)
    : QObject(parent), m_sessions(sessions), m_apiRate(std::move(apiRate))
{
}

void Authenticator::authenticate(const Call &call, std::function<void(Result<User>)> done)
{
    if (call.bearerToken.isEmpty()) {
        done(Error {ErrorCode::Unauthorized, QStringLiteral("missing bearer token"), {}});
        return;
    }
    const QByteArray digest = Credentials::tokenDigest(QString::fromLatin1(call.bearerToken));
    QPointer<Authenticator> self(this);
    m_sessions.lookup(digest, [self, done = std::move(done)](Result<std::optional<User>> found) {
        if (!self || !found) {
            done(found ? DbPool::unavailable() : found.error());
            return;
        }
        if (!found->has_value()) {
            done(Error {ErrorCode::Unauthorized, QStringLiteral("unknown or expired token"), {}});
            return;
        }
        const User user = **found;
        self->m_apiRate.take(QByteArray::number(user.id), [user, done](MaybeError refused) {
            if (refused)
                done(*refused);
            else
                done(user);
        });
    });
}

} // namespace taskmaster::server
