// ProjectsController: the projects the user belongs to (ProjectListModel): loaded at login and
// when the user joins or leaves one; creating a project and adding a member.
// Owns: the ProjectListModel. Thread: the GUI thread.
#pragma once

#include "shared/domain/types.h"
#include "shared/models/project_list_model.h"

#include <QObject>
#include <QtQmlIntegration/qqmlintegration.h>

namespace taskmaster::client {

class RestClient;
class UserDirectory;

class ProjectsController final : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("provided by Connection")
    Q_PROPERTY(taskmaster::ProjectListModel *model READ model CONSTANT)

public:
    ProjectsController(RestClient &rest, UserDirectory &users, QObject *parent = nullptr);
    ~ProjectsController() override;

    [[nodiscard]] ProjectListModel *model() { return &m_projects; }
    Q_INVOKABLE void reload();
    Q_INVOKABLE void createProject(const QString &name, const QString &description);
    Q_INVOKABLE void addProjectMember(qint64 projectId, qint64 userId);

    // A project channel's event: the user's own membership changes reload the list.
    void onEvent(const ChannelEvent &event, bool fresh);
    void clear() { m_projects.reset({}); }

Q_SIGNALS:
    void projectCreated(qint64 projectId);
    // The list was loaded again (names may have changed).
    void reloaded();

private:
    RestClient &m_rest;
    UserDirectory &m_users;
    ProjectListModel m_projects;
};

} // namespace taskmaster::client
