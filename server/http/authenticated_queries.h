// AuthenticatedQueries: the database work of an authenticated route. run() authenticates the
// caller (Authenticator), then runs fn(db, user) on one database worker: the primary, or for a
// read that allows it the read replica ReadRouting picks (the primary for a caller who wrote
// lately). A replica failure that is not the caller's (behind on the schema, unreachable, a
// conflict with recovery) is retried once on the primary. A successful write (not GET) marks
// its caller as a fresh writer on every instance before it is answered (read-your-writes).
// Owns: nothing (uses the authenticator, the primary pool and the optional read routing).
// Thread: network thread; fn runs on a database worker.
#pragma once

#include "server/http/api.h"
#include "server/http/optional_ref.h"
#include "shared/domain/types.h"

#include <QObject>
#include <QSqlDatabase>

#include <functional>

namespace taskmaster::server {

class Authenticator;
class DbPool;
class ReadRouting;

// Where an authenticated handler's queries run.
enum class ReadFrom {
    Primary,
    Replica, // history and lists: the read replica when there is one, unless the caller wrote lately
};

class AuthenticatedQueries final : public QObject {
    Q_OBJECT
public:
    using Work = std::function<Result<ApiResponse>(QSqlDatabase &, const User &)>;

    // reads: absent without read routing (everything on the primary, no fresh-writer marks).
    AuthenticatedQueries(Authenticator &authenticator, DbPool &primary, OptionalRef<ReadRouting> reads,
                         QObject *parent = nullptr);

    // fn's response for the caller, or 401/429/503 before it runs.
    [[nodiscard]] ApiFuture run(const Call &call, Work fn, ReadFrom from = ReadFrom::Primary);

private:
    Authenticator &m_authenticator;
    DbPool &m_primary;
    OptionalRef<ReadRouting> m_reads;
};

} // namespace taskmaster::server
