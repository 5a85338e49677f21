// Seeder: creates the users and rooms a load run needs over the server's REST API
// (POST /api/v1/auth/register, POST /api/v1/rooms, POST /api/v1/rooms/{id}/members) with a
// bounded number of requests in flight (Argon2id makes registration slow on purpose), and keeps
// them in a JSON "tokens file" so that later runs against the same server reuse them.
// Owns: its QNetworkAccessManager and the request queue. Thread: main (it runs the event loop
// while it waits).
#pragma once

#include "shared/core/error.h"
#include "shared/domain/types.h"

#include <QDeadlineTimer>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QNetworkAccessManager>
#include <QObject>
#include <QSet>
#include <QString>
#include <QUrl>

class QNetworkReply;

#include <deque>
#include <functional>

namespace taskmaster::load {

struct SeededUser {
    Id id = 0;
    QString username;
    QString token;
    friend bool operator==(const SeededUser &, const SeededUser &) = default;
};

// Room k of a size holds users first .. first+count-1 (indexes into SeedData::users).
struct SeededRoom {
    Id id = 0;
    int first = 0;
    int count = 0;
    friend bool operator==(const SeededRoom &, const SeededRoom &) = default;
};

struct SeedData {
    QString prefix; // usernames are <prefix><5-digit index>
    QList<SeededUser> users;
    QMap<int, QList<SeededRoom>> rooms; // by room size
    QMap<int, QList<Id>> projects; // by room size: project k has the members of room k (REST mix)

    [[nodiscard]] QJsonObject toJson() const;
    [[nodiscard]] static Result<SeedData> fromJson(const QJsonObject &o);
    // Reads FILE (an empty SeedData with a fresh prefix when it does not exist).
    [[nodiscard]] static Result<SeedData> load(const QString &file);
    [[nodiscard]] MaybeError save(const QString &file) const;
    [[nodiscard]] static QString newPrefix();
};

// Room k of `size` over `users` users: users k*size .. min(users, (k+1)*size) - 1.
[[nodiscard]] QList<SeededRoom> roomLayout(int users, int size);

class Seeder final : public QObject {
    Q_OBJECT
public:
    Seeder(QUrl base, int concurrency, QObject *parent = nullptr);

    // True when the token is accepted by GET /api/v1/me (a tokens file from another database is not).
    [[nodiscard]] bool tokenValid(const QString &token, QDeadlineTimer deadline);
    // Registers users until data holds `users` of them (a taken name logs in instead).
    [[nodiscard]] MaybeError ensureUsers(SeedData &data, int users, QDeadlineTimer deadline);
    // The same, registering only the first user over REST and inserting the others (with its
    // password hash, and a session each) straight into the server's PostgreSQL at dbUrl: seconds
    // for 10,000 users instead of minutes of Argon2id.
    [[nodiscard]] MaybeError ensureUsersInDb(SeedData &data, int users, const QString &dbUrl, QDeadlineTimer deadline);
    // Creates the rooms of `size` over the first `users` users that data does not hold yet.
    [[nodiscard]] MaybeError ensureRooms(SeedData &data, int users, int size, QDeadlineTimer deadline);
    // One project per room of `size` (ensureRooms first), owned by the room's first user, with the
    // room's other members added: the tasks routes of the REST mix.
    [[nodiscard]] MaybeError ensureProjects(SeedData &data, int size, QDeadlineTimer deadline);

    [[nodiscard]] qint64 requestsDone() const { return m_done; }

private:
    struct Job {
        QByteArray method;
        QString path;
        QByteArray body;
        QString token;
        // Called with the HTTP status (0: no reply) and the body of the final attempt.
        std::function<void(int status, const QByteArray &body)> done;
        int attempts = 0;
    };
    void enqueue(Job job);
    void startJobs();
    void startJob(Job job);
    bool waitIdle(QDeadlineTimer deadline, const std::function<QString()> &progress);
    // Drops the queue and aborts the requests in flight; no callback runs afterwards.
    void cancelAll();

    QUrl m_base;
    int m_concurrency;
    QNetworkAccessManager m_nam;
    std::deque<Job> m_queue;
    QSet<QNetworkReply *> m_replies;
    int m_inFlight = 0; // requests on the wire and retries waiting for their turn
    quint32 m_requestNumber = 0; // numbers each request's X-Forwarded-For address
    bool m_cancelled = false;
    qint64 m_done = 0;
};

} // namespace taskmaster::load
