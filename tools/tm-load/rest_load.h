// RestLoad: the REST side of a load run, next to the WebSockets: an open-loop schedule of
// requests at a total rate over a fixed mix of routes, each made by a seeded user on its own room
// and project (rooms list, latest history page, task list, task created, task updated), with the
// latency of each request (from its scheduled time, so queueing counts) and its status per route
// template. Errors are answers that are not 2xx and requests without an answer.
// Owns: its QNetworkAccessManagers and the samples. Thread: its own event-loop thread (moved there
// by LoadRun); the main thread calls the public functions through QMetaObject::invokeMethod.
#pragma once

#include "tools/tm-load/load_stats.h"
#include "tools/tm-load/seeder.h"

#include <QList>
#include <QMap>
#include <QNetworkAccessManager>
#include <QObject>
#include <QTimer>
#include <QUrl>

#include <array>
#include <memory>
#include <vector>

namespace taskmaster::load {

// The routes of the mix, in the order of the report.
enum class RestRoute { RoomsList, History, TasksList, TaskCreate, TaskUpdate };
inline constexpr int kRestRoutes = 5;
[[nodiscard]] QString routeTemplate(RestRoute r);

// Figures of one route (merged into the report at the end).
struct RouteFigures {
    qint64 requests = 0;
    qint64 errors = 0;
    QMap<int, qint64> statuses; // HTTP status (0: no answer) -> count
    LatencySamples latency;
};

struct RestSnapshot {
    qint64 done = 0;
    qint64 errors = 0;
    std::vector<qint64> recent; // latencies since the previous snapshot
};

class RestLoad final : public QObject {
    Q_OBJECT
public:
    // Users u of `users` act on room/project u / roomSize.
    RestLoad(QUrl base, QList<SeededUser> users, QList<SeededRoom> rooms, QList<Id> projects,
             QObject *parent = nullptr);
    ~RestLoad() override;

    void start(double rate);
    void stop();
    [[nodiscard]] RestSnapshot snapshot();
    [[nodiscard]] qint64 inFlight() const { return m_inFlight; }
    // The figures per route (call after stop() and once nothing is in flight).
    [[nodiscard]] std::array<RouteFigures, kRestRoutes> take();

private:
    void onTick();
    void issue(qint64 scheduledNs);
    void finished(RestRoute route, qint64 scheduledNs, int status, const QByteArray &body, Id projectId);

    QUrl m_base;
    QList<SeededUser> m_users;
    QList<SeededRoom> m_rooms;
    QList<Id> m_projects;
    std::vector<std::unique_ptr<QNetworkAccessManager>> m_nams; // more connections than one allows
    QTimer m_timer {this}; // a child: it moves to the thread with this object
    double m_rate = 0;
    qint64 m_startNs = 0;
    qint64 m_scheduled = 0;
    qint64 m_inFlight = 0;
    quint64 m_counter = 0;
    QMap<Id, QList<Id>> m_tasks; // project -> some task ids created by the run
    std::array<RouteFigures, kRestRoutes> m_figures;
    RestSnapshot m_window;
};

} // namespace taskmaster::load
