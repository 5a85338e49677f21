#include "client-qml/controllers/projects_controller.h"

#include "client-qml/controllers/user_directory.h"
#include "client-qml/net/rest_client.h"

namespace taskmaster::client {

ProjectsController::ProjectsController(RestClient &rest, UserDirectory &users, QObject *parent)
    : QObject(parent), m_rest(rest), m_users(users)
{
}

ProjectsController::~ProjectsController() = default;

void ProjectsController::reload()
{
    m_rest.send(api::projects(), this, [this](const Page<Project> &page) {
        m_projects.reset(page.items);
        Q_EMIT reloaded();
    });
}

void ProjectsController::createProject(const QString &name, const QString &description)
{
    m_rest.send(api::createProject(CreateProjectRequest {name.trimmed(), description}), this, [this](const Project &p) {
        m_projects.upsert(p);
        Q_EMIT projectCreated(p.id);
    });
}

void ProjectsController::addProjectMember(qint64 projectId, qint64 userId)
{
    m_rest.send(api::addProjectMember(projectId, userId), this, [](NoContent) {});
}

void ProjectsController::onEvent(const ChannelEvent &e, bool fresh)
{
    if ((e.type == EventType::MemberJoined || e.type == EventType::MemberLeft) && fresh
        && e.userId == m_users.self().id)
        reload();
}

} // namespace taskmaster::client
