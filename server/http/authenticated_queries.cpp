#include "server/http/authenticated_queries.h"

#include "server/http/authenticator.h"
#include "server/http/pending_answer.h"
#include "server/storage/db_pool.h"
#include "server/storage/read_routing.h"

#include <memory>

namespace taskmaster::server {

AuthenticatedQueries::AuthenticatedQueries(Authenticator &authenticator, DbPool &primary,
                                           OptionalRef<ReadRouting> reads, QObject *parent)
    : QObject(parent), m_authenticator(authenticator), m_primary(primary), m_reads(reads)
{
}

ApiFuture AuthenticatedQueries::run(const Call &call, Work fn, ReadFrom from)
{
    PendingAnswer answer;
    const bool write = call.method != QHttpServerRequest::Method::Get;
    m_authenticator.authenticate(call, [this, answer, fn = std::move(fn), from, write](Result<User> user) {
        if (!user) {
            answer.settle(user.error());
            return;
        }
        const User me = *user;
        // On the replica, a failure that is not the caller's (the replica behind on the schema,
        // unreachable, a conflict with recovery) is retried once on the primary.
        auto runOn = std::make_shared<std::function<void(DbPool *)>>();
        *runOn = [this, answer, fn, me, write, weak = std::weak_ptr(runOn)](DbPool *pool) {
            if (!pool) {
                answer.settle(DbPool::unavailable());
                return;
            }
            const bool onReplica = pool != &m_primary;
            auto self = weak.lock(); // the caller holds it now; the continuation keeps it for a retry
            pool->query([fn, me](QSqlDatabase &db) -> Result<ApiResponse> { return fn(db, me); })
                .then(this, [this, answer, me, write, onReplica, self](const Result<ApiResponse> &r) {
                    if (!r && onReplica && self
                        && (r.error().code == ErrorCode::Internal || r.error().code == ErrorCode::Unavailable)) {
                        (*self)(&m_primary);
                        return;
                    }
                    // The caller's next reads stay on the primary for a while, on every instance.
                    if (r && write && m_reads) {
                        m_reads->wrote({me.id}, [answer, r] { answer.settle(r); });
                        return;
                    }
                    answer.settle(r);
                });
        };
        if (from == ReadFrom::Replica && m_reads)
            m_reads->poolFor(me.id, [runOn](DbPool *pool) { (*runOn)(pool); });
        else
            (*runOn)(&m_primary);
    });
    return answer.future();
}

} // namespace taskmaster::server
