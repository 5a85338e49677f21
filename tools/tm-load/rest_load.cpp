#include "tools/tm-load/rest_load.h"

#include "shared/codec/rest_json.h"
#include "tools/tm-load/sim_client.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QRandomGenerator>

#include <algorithm>
#include <cmath>

namespace taskmaster::load {

namespace {

// The mix, repeated: 3 rooms lists, 3 history pages, 2 task lists, 1 task created, 1 updated.
constexpr std::array<RestRoute, 10> kMix {
    RestRoute::RoomsList,  RestRoute::History,   RestRoute::TasksList, RestRoute::RoomsList, RestRoute::History,
    RestRoute::TaskCreate, RestRoute::RoomsList, RestRoute::History,   RestRoute::TasksList, RestRoute::TaskUpdate};
constexpr int kNams = 4; // QNetworkAccessManager opens at most 6 connections per host
constexpr qsizetype kTasksKept = 32;

} // namespace

QString routeTemplate(RestRoute r)
{
    switch (r) {
    case RestRoute::RoomsList:
        return QStringLiteral("GET /api/v1/rooms");
    case RestRoute::History:
        return QStringLiteral("GET /api/v1/rooms/{id}/messages");
    case RestRoute::TasksList:
        return QStringLiteral("GET /api/v1/projects/{id}/tasks");
    case RestRoute::TaskCreate:
        return QStringLiteral("POST /api/v1/projects/{id}/tasks");
    case RestRoute::TaskUpdate:
        return QStringLiteral("PATCH /api/v1/tasks/{id}");
    }
    return {};
}

RestLoad::RestLoad(QUrl base, QList<SeededUser> users, QList<SeededRoom> rooms, QList<Id> projects, QObject *parent)
    : QObject(parent), m_base(std::move(base)), m_users(std::move(users)), m_rooms(std::move(rooms)),
      m_projects(std::move(projects))
{
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(2);
    connect(&m_timer, &QTimer::timeout, this, &RestLoad::onTick);
}

RestLoad::~RestLoad() = default;

void RestLoad::start(double rate)
{
    if (m_nams.empty()) {
        for (int i = 0; i < kNams; ++i) {
            auto nam = std::make_unique<QNetworkAccessManager>(this);
            nam->setProxy(QNetworkProxy::NoProxy);
            m_nams.push_back(std::move(nam));
        }
    }
    m_rate = rate;
    m_startNs = nowNs();
    m_scheduled = 0;
    if (rate > 0 && !m_rooms.isEmpty())
        m_timer.start();
}

void RestLoad::stop()
{
    m_timer.stop();
}

RestSnapshot RestLoad::snapshot()
{
    return std::exchange(m_window, {});
}

std::array<RouteFigures, kRestRoutes> RestLoad::take()
{
    return std::exchange(m_figures, {});
}

void RestLoad::onTick()
{
    const qint64 now = nowNs();
    const auto target = qint64(std::floor(double(now - m_startNs) / 1e9 * m_rate));
    // Like the message schedule: at most 250 ms worth at once after a stall.
    const qint64 burst = std::max<qint64>(5, qint64(std::ceil(m_rate * 0.25)));
    if (target - m_scheduled > burst)
        m_scheduled = target - burst;
    while (m_scheduled < target) {
        ++m_scheduled;
        issue(m_startNs + qint64(double(m_scheduled) * 1e9 / m_rate));
    }
}

void RestLoad::issue(qint64 scheduledNs)
{
    auto *rng = QRandomGenerator::global();
    const qsizetype k = qsizetype(rng->bounded(quint32(m_rooms.size())));
    const SeededRoom &room = m_rooms.at(k);
    const SeededUser &user = m_users.at(room.first + int(rng->bounded(quint32(std::max(1, room.count)))));
    const Id project = k < m_projects.size() ? m_projects.at(k) : 0;
    RestRoute route = kMix[m_counter % kMix.size()];
    if ((route == RestRoute::TasksList || route == RestRoute::TaskCreate) && project == 0)
        route = RestRoute::RoomsList;
    QList<Id> tasks = m_tasks.value(project);
    if (route == RestRoute::TaskUpdate && tasks.isEmpty())
        route = project != 0 ? RestRoute::TaskCreate : RestRoute::RoomsList;
    QByteArray method = "GET";
    QString path;
    QByteArray body;
    switch (route) {
    case RestRoute::RoomsList:
        path = QStringLiteral("/api/v1/rooms");
        break;
    case RestRoute::History:
        path = QStringLiteral("/api/v1/rooms/%1/messages").arg(room.id);
        break;
    case RestRoute::TasksList:
        path = QStringLiteral("/api/v1/projects/%1/tasks").arg(project);
        break;
    case RestRoute::TaskCreate: {
        method = "POST";
        path = QStringLiteral("/api/v1/projects/%1/tasks").arg(project);
        CreateTaskRequest req;
        req.title = QStringLiteral("load task %1").arg(m_counter);
        body = toJson(req);
        break;
    }
    case RestRoute::TaskUpdate: {
        method = "PATCH";
        path = QStringLiteral("/api/v1/tasks/%1").arg(tasks.at(qsizetype(rng->bounded(quint32(tasks.size())))));
        PatchTaskRequest req;
        req.status = (m_counter / kMix.size()) % 2 == 0 ? TaskStatus::InProgress : TaskStatus::Review;
        body = toJson(req);
        break;
    }
    }
    QUrl url = m_base;
    url.setPath(m_base.path() + path);
    QNetworkRequest request(url);
    request.setTransferTimeout(30000);
    request.setRawHeader("Authorization", "Bearer " + user.token.toUtf8());
    if (!body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    QNetworkAccessManager &nam = *m_nams[m_counter % m_nams.size()];
    ++m_counter;
    ++m_inFlight;
    QNetworkReply *reply = nam.sendCustomRequest(request, method, body);
    connect(reply, &QNetworkReply::finished, this, [this, reply, route, scheduledNs, project] {
        reply->deleteLater();
        --m_inFlight;
        finished(route, scheduledNs, reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
                 reply->readAll(), project);
    });
}

void RestLoad::finished(RestRoute route, qint64 scheduledNs, int status, const QByteArray &body, Id projectId)
{
    const qint64 latency = nowNs() - scheduledNs;
    RouteFigures &f = m_figures[std::size_t(route)];
    ++f.requests;
    ++f.statuses[status];
    f.latency.add(latency);
    const bool ok = status >= 200 && status < 300;
    if (!ok)
        ++f.errors;
    ++m_window.done;
    if (!ok)
        ++m_window.errors;
    m_window.recent.push_back(latency);
    if (ok && route == RestRoute::TaskCreate) {
        const Id id = QJsonDocument::fromJson(body).object().value(QLatin1String("id")).toInteger();
        if (id > 0) {
            QList<Id> &kept = m_tasks[projectId];
            kept.append(id);
            if (kept.size() > kTasksKept)
                kept.removeFirst();
        }
    }
}

} // namespace taskmaster::load
