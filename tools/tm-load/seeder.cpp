#include "tools/tm-load/seeder.h"

#include "shared/codec/rest_json.h"
#include "shared/domain/validation.h"
#include "tools/tm-load/db_verify.h"
#include "tools/tm-load/event_wait.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QSaveFile>
#include <QTextStream>
#include <QTimer>

#include <memory>

namespace taskmaster::load {

namespace {

const QString kPassword = QStringLiteral("tm-load-password");
constexpr int kMaxAttempts = 6;

QString username(const QString &prefix, int index)
{
    return prefix + QStringLiteral("%1").arg(index, 5, 10, QLatin1Char('0'));
}

void printProgress(const QString &line)
{
    QTextStream(stderr) << line << '\n';
}

} // namespace

// ---- SeedData ------------------------------------------------------------------------------

QString SeedData::newPrefix()
{
    return QStringLiteral("ld%1_").arg(QRandomGenerator::global()->generate() & 0xffffffu, 6, 16, QLatin1Char('0'));
}

QJsonObject SeedData::toJson() const
{
    QJsonArray u;
    for (const SeededUser &user : users)
        u.append(QJsonObject {{QStringLiteral("id"), user.id},
                              {QStringLiteral("username"), user.username},
                              {QStringLiteral("token"), user.token}});
    QJsonObject r;
    for (auto it = rooms.cbegin(); it != rooms.cend(); ++it) {
        QJsonArray list;
        for (const SeededRoom &room : it.value())
            list.append(QJsonObject {{QStringLiteral("id"), room.id},
                                     {QStringLiteral("first"), room.first},
                                     {QStringLiteral("count"), room.count}});
        r.insert(QString::number(it.key()), list);
    }
    QJsonObject pr;
    for (auto it = projects.cbegin(); it != projects.cend(); ++it) {
        QJsonArray list;
        for (Id id : it.value())
            list.append(id);
        pr.insert(QString::number(it.key()), list);
    }
    return QJsonObject {{QStringLiteral("prefix"), prefix},
                        {QStringLiteral("users"), u},
                        {QStringLiteral("rooms"), r},
                        {QStringLiteral("projects"), pr}};
}

Result<SeedData> SeedData::fromJson(const QJsonObject &o)
{
    SeedData d;
    d.prefix = o.value(QLatin1String("prefix")).toString();
    if (d.prefix.isEmpty())
        return Error::validation(QStringLiteral("prefix"), QStringLiteral("tokens file without a prefix"));
    for (const QJsonValue &v : o.value(QLatin1String("users")).toArray()) {
        const QJsonObject u = v.toObject();
        SeededUser user {u.value(QLatin1String("id")).toInteger(), u.value(QLatin1String("username")).toString(),
                         u.value(QLatin1String("token")).toString()};
        if (user.id <= 0 || user.token.isEmpty() || user.username != username(d.prefix, int(d.users.size())))
            return Error::validation(QStringLiteral("users"),
                                     QStringLiteral("tokens file: user %1 is not as tm-load "
                                                    "wrote it")
                                         .arg(d.users.size()));
        d.users.append(user);
    }
    const QJsonObject r = o.value(QLatin1String("rooms")).toObject();
    for (auto it = r.constBegin(); it != r.constEnd(); ++it) {
        bool ok = false;
        const int size = it.key().toInt(&ok);
        if (!ok || size <= 0)
            return Error::validation(QStringLiteral("rooms"),
                                     QStringLiteral("tokens file: bad room size '%1'").arg(it.key()));
        QList<SeededRoom> list;
        for (const QJsonValue &v : it.value().toArray()) {
            const QJsonObject room = v.toObject();
            list.append(SeededRoom {room.value(QLatin1String("id")).toInteger(),
                                    room.value(QLatin1String("first")).toInt(),
                                    room.value(QLatin1String("count")).toInt()});
        }
        d.rooms.insert(size, list);
    }
    const QJsonObject pr = o.value(QLatin1String("projects")).toObject();
    for (auto it = pr.constBegin(); it != pr.constEnd(); ++it) {
        QList<Id> ids;
        for (const QJsonValue &v : it.value().toArray())
            ids.append(v.toInteger());
        d.projects.insert(it.key().toInt(), ids);
    }
    return d;
}

Result<SeedData> SeedData::load(const QString &file)
{
    QFile f(file);
    if (file.isEmpty() || !f.exists()) {
        SeedData d;
        d.prefix = newPrefix();
        return d;
    }
    if (!f.open(QIODevice::ReadOnly))
        return Error::badRequest(QStringLiteral("cannot read %1: %2").arg(file, f.errorString()));
    QJsonParseError error {};
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &error);
    if (!doc.isObject())
        return Error::badRequest(QStringLiteral("%1 is not a tokens file: %2").arg(file, error.errorString()));
    return fromJson(doc.object());
}

MaybeError SeedData::save(const QString &file) const
{
    QSaveFile f(file);
    if (!f.open(QIODevice::WriteOnly))
        return Error::badRequest(QStringLiteral("cannot write %1: %2").arg(file, f.errorString()));
    f.write(QJsonDocument(toJson()).toJson(QJsonDocument::Compact));
    if (!f.commit())
        return Error::badRequest(QStringLiteral("cannot write %1: %2").arg(file, f.errorString()));
    return std::nullopt;
}

QList<SeededRoom> roomLayout(int users, int size)
{
    QList<SeededRoom> rooms;
    for (int first = 0; size > 0 && first < users; first += size)
        rooms.append(SeededRoom {0, first, std::min(size, users - first)});
    return rooms;
}

// ---- Seeder --------------------------------------------------------------------------------

Seeder::Seeder(QUrl base, int concurrency, QObject *parent)
    : QObject(parent), m_base(std::move(base)), m_concurrency(concurrency)
{
    m_nam.setProxy(QNetworkProxy::NoProxy); // loopback only; never an environment proxy
}

void Seeder::cancelAll()
{
    m_cancelled = true;
    m_queue.clear();
    const QSet<QNetworkReply *> replies = m_replies;
    for (QNetworkReply *reply : replies)
        reply->abort(); // finishes at once; the handler sees m_cancelled
}

void Seeder::enqueue(Job job)
{
    if (m_cancelled)
        return;
    m_queue.push_back(std::move(job));
    startJobs();
}

void Seeder::startJobs()
{
    while (m_inFlight < m_concurrency && !m_queue.empty()) {
        Job job = std::move(m_queue.front());
        m_queue.pop_front();
        startJob(std::move(job));
    }
}

void Seeder::startJob(Job job)
{
    QUrl url = m_base;
    url.setPath(m_base.path() + job.path);
    QNetworkRequest request(url);
    request.setTransferTimeout(30000);
    if (!job.body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    if (!job.token.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + job.token.toUtf8());
    // Seeding stands for many people on many machines: each request comes from an address of its
    // own (believed through nginx, whose instances trust loopback), so the per-address limit of
    // register/login (--rate-auth) does not make a 10,000-user seed wait for minutes.
    const quint32 n = ++m_requestNumber;
    request.setRawHeader("X-Forwarded-For",
                         QByteArrayLiteral("10.") + QByteArray::number((n >> 16) & 0xff) + '.'
                             + QByteArray::number((n >> 8) & 0xff) + '.' + QByteArray::number(n & 0xff));
    ++m_inFlight;
    ++job.attempts;
    QNetworkReply *reply = m_nam.sendCustomRequest(request, job.method, job.body);
    m_replies.insert(reply);
    connect(reply, &QNetworkReply::finished, this, [this, reply, job = std::move(job)]() mutable {
        reply->deleteLater();
        m_replies.remove(reply);
        --m_inFlight;
        if (m_cancelled)
            return;
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray body = reply->readAll();
        // No reply, rate limited or unavailable: try again a little later (Retry-After when given).
        if ((status == 0 || status == 429 || status == 503) && job.attempts < kMaxAttempts) {
            int delayMs = 250 * job.attempts;
            if (const QByteArray ra = reply->rawHeader("Retry-After"); !ra.isEmpty())
                delayMs = std::max(delayMs, ra.toInt() * 1000);
            auto pending = std::make_shared<Job>(std::move(job));
            ++m_inFlight; // the retry holds its slot
            QTimer::singleShot(delayMs, this, [this, pending] {
                --m_inFlight;
                if (!m_cancelled)
                    startJob(std::move(*pending));
            });
            return;
        }
        ++m_done;
        job.done(status, body);
        startJobs();
    });
}

bool Seeder::waitIdle(QDeadlineTimer deadline, const std::function<QString()> &progress)
{
    QElapsedTimer sinceLine;
    sinceLine.start();
    return waitUntil(
        [&] {
            if (progress && sinceLine.elapsed() >= 1000) {
                sinceLine.restart();
                printProgress(progress());
            }
            return m_inFlight == 0 && m_queue.empty();
        },
        deadline);
}

bool Seeder::tokenValid(const QString &token, QDeadlineTimer deadline)
{
    int result = -1;
    enqueue(Job {"GET", QStringLiteral("/api/v1/me"), {}, token, [&result](int status, const QByteArray &) {
                     result = status;
                 }});
    if (!waitIdle(deadline, {}))
        cancelAll();
    return result == 200;
}

MaybeError Seeder::ensureUsers(SeedData &data, int users, QDeadlineTimer deadline)
{
    const int have = int(data.users.size());
    if (have >= users)
        return std::nullopt;
    data.users.resize(users);
    MaybeError failure;
    int registered = 0;
    for (int i = have; i < users; ++i) {
        const QString name = username(data.prefix, i);
        RegisterRequest req {name, kPassword, QStringLiteral("Load user %1").arg(i)};
        auto onAuth = [&data, &failure, &registered, i](int status, const QByteArray &body) {
            auto auth = fromJson<AuthResponse>(body);
            if ((status == 200 || status == 201) && auth) {
                data.users[i] = SeededUser {auth->user.id, auth->user.username, auth->token};
                ++registered;
            } else if (!failure) {
                failure = Error::badRequest(QStringLiteral("registering user %1 failed: HTTP %2 %3")
                                                .arg(i)
                                                .arg(status)
                                                .arg(QString::fromUtf8(body.left(200))));
            }
        };
        enqueue(Job {"POST",
                     QStringLiteral("/api/v1/auth/register"),
                     toJson(req),
                     {},
                     [this, &failure, onAuth, name](int status, const QByteArray &body) {
                         if (status == 409) { // taken (a tokens file was lost): log in instead
                             enqueue(Job {"POST",
                                          QStringLiteral("/api/v1/auth/login"),
                                          toJson(LoginRequest {name, kPassword}),
                                          {},
                                          onAuth});
                             return;
                         }
                         onAuth(status, body);
                     }});
    }
    QElapsedTimer t;
    t.start();
    const bool finished = waitIdle(deadline, [&] {
        return QStringLiteral("seeding: %1/%2 users registered (%3/s)")
            .arg(have + registered)
            .arg(users)
            .arg(double(registered) * 1000.0 / double(std::max<qint64>(1, t.elapsed())), 0, 'f', 1);
    });
    if (!finished) {
        cancelAll(); // no callback may write into `data` or the locals after we return
        data.users.resize(have);
        return Error {ErrorCode::Unavailable, QStringLiteral("seeding users did not finish before the hard cap"), {}};
    }
    if (failure) {
        data.users.resize(have);
        return failure;
    }
    return std::nullopt;
}

MaybeError Seeder::ensureUsersInDb(SeedData &data, int users, const QString &dbUrl, QDeadlineTimer deadline)
{
    if (const MaybeError e = ensureUsers(data, std::min(users, 1), deadline))
        return e;
    const int have = int(data.users.size());
    if (have >= users)
        return std::nullopt;
    DbReader db;
    if (const MaybeError e = db.open(dbUrl, QStringLiteral("seed-db")))
        return e;
    constexpr int kChunk = 2000;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (int from = have; from < users; from += kChunk) {
        if (deadline.hasExpired())
            return Error {ErrorCode::Unavailable, QStringLiteral("seeding ran out of time"), {}};
        QStringList names;
        for (int i = from; i < std::min(users, from + kChunk); ++i)
            names << username(data.prefix, i);
        auto inserted = db.insertUsers(names, data.users.constFirst().id, now, 30LL * 24 * 3600 * 1000);
        if (!inserted)
            return inserted.error();
        for (qsizetype k = 0; k < names.size(); ++k)
            data.users.append(SeededUser {inserted->at(k).first, names.at(k), inserted->at(k).second});
    }
    return std::nullopt;
}

MaybeError Seeder::ensureRooms(SeedData &data, int users, int size, QDeadlineTimer deadline)
{
    QList<SeededRoom> wanted = roomLayout(users, size);
    QList<SeededRoom> &have = data.rooms[size];
    MaybeError failure;
    int created = 0;
    int toCreate = 0;
    for (qsizetype k = 0; k < wanted.size(); ++k) {
        SeededRoom &room = wanted[k];
        if (k < have.size() && have[k].first == room.first && have[k].count == room.count && have[k].id > 0) {
            room.id = have[k].id;
            continue;
        }
        ++toCreate;
        CreateRoomRequest req;
        req.name = QStringLiteral("load-%1-%2").arg(size).arg(k);
        const int inCreate = std::min(room.count - 1, limits::kRoomMembersMax);
        for (int m = 1; m <= inCreate; ++m)
            req.memberIds.append(data.users[room.first + m].id);
        const QString creatorToken = data.users[room.first].token;
        enqueue(Job {
            "POST", QStringLiteral("/api/v1/rooms"), toJson(req), creatorToken,
            [this, &wanted, &failure, &created, &data, k, inCreate, creatorToken](int status, const QByteArray &body) {
                auto r = fromJson<Room>(body);
                if (status != 201 || !r) {
                    if (!failure)
                        failure = Error::badRequest(QStringLiteral("creating room %1 failed: HTTP %2 %3")
                                                        .arg(k)
                                                        .arg(status)
                                                        .arg(QString::fromUtf8(body.left(200))));
                    return;
                }
                SeededRoom &made = wanted[k];
                made.id = r->id;
                ++created;
                // Members beyond what one create request may name join one by one.
                for (int m = inCreate + 1; m < made.count; ++m) {
                    enqueue(Job {"POST", QStringLiteral("/api/v1/rooms/%1/members").arg(made.id),
                                 toJson(AddMemberRequest {data.users[made.first + m].id}), creatorToken,
                                 [&failure, &made](int s, const QByteArray &b) {
                                     if (s != 200 && s != 201 && s != 204 && !failure) {
                                         failure = Error::badRequest(
                                             QStringLiteral("adding a member to room %1 failed: HTTP %2 %3")
                                                 .arg(made.id)
                                                 .arg(s)
                                                 .arg(QString::fromUtf8(b.left(200))));
                                     }
                                 }});
                }
            }});
    }
    const bool finished = waitIdle(deadline, [&] {
        return QStringLiteral("seeding: %1/%2 rooms of %3 created").arg(created).arg(toCreate).arg(size);
    });
    if (!finished) {
        cancelAll();
        return Error {ErrorCode::Unavailable, QStringLiteral("seeding rooms did not finish before the hard cap"), {}};
    }
    if (failure)
        return failure;
    have = wanted;
    return std::nullopt;
}

MaybeError Seeder::ensureProjects(SeedData &data, int size, QDeadlineTimer deadline)
{
    const QList<SeededRoom> rooms = data.rooms.value(size);
    QList<Id> have = data.projects.value(size);
    if (have.size() >= rooms.size())
        return std::nullopt;
    QList<Id> made = have;
    made.resize(rooms.size());
    MaybeError failure;
    int created = 0;
    for (qsizetype k = have.size(); k < rooms.size(); ++k) {
        const SeededRoom room = rooms.at(k);
        const QString owner = data.users.at(room.first).token;
        enqueue(Job {"POST", QStringLiteral("/api/v1/projects"),
                     toJson(CreateProjectRequest {QStringLiteral("load-%1-%2").arg(size).arg(k), QString()}), owner,
                     [this, &data, &failure, &made, &created, room, owner, k](int status, const QByteArray &body) {
                         auto p = fromJson<Project>(body);
                         if (status != 201 || !p) {
                             if (!failure)
                                 failure = Error::badRequest(QStringLiteral("creating project %1 failed: HTTP %2 %3")
                                                                 .arg(k)
                                                                 .arg(status)
                                                                 .arg(QString::fromUtf8(body.left(200))));
                             return;
                         }
                         made[k] = p->id;
                         ++created;
                         for (int m = 1; m < room.count; ++m) {
                             enqueue(Job {"POST", QStringLiteral("/api/v1/projects/%1/members").arg(p->id),
                                          toJson(AddMemberRequest {data.users[room.first + m].id}), owner,
                                          [&failure, id = p->id](int s, const QByteArray &b) {
                                              if (s != 200 && s != 201 && s != 204 && !failure) {
                                                  failure = Error::badRequest(
                                                      QStringLiteral("adding a member to project %1 failed: HTTP %2 %3")
                                                          .arg(id)
                                                          .arg(s)
                                                          .arg(QString::fromUtf8(b.left(200))));
                                              }
                                          }});
                         }
                     }});
    }
    const bool finished = waitIdle(deadline, [&] {
        return QStringLiteral("seeding: %1/%2 projects created").arg(created).arg(rooms.size() - have.size());
    });
    if (!finished) {
        cancelAll();
        return Error {
            ErrorCode::Unavailable, QStringLiteral("seeding projects did not finish before the hard cap"), {}};
    }
    if (failure)
        return failure;
    data.projects.insert(size, made);
    return std::nullopt;
}

} // namespace taskmaster::load
