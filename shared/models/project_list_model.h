// ProjectListModel: the projects the user belongs to, in the order the server lists them (GET
// /projects), a project created by this client appended at the end until the next reload.
// Owns: the list of projects (id, name, description). Thread: the GUI thread; not thread-safe.
//
// Feeding it: GET /projects -> reset(); a project created here -> upsert(); logout -> reset({}).
#pragma once

#include "shared/domain/types.h"
#include "shared/models/qml_support.h"

#include <QAbstractListModel>
#include <QList>

#include <optional>

namespace taskmaster {

class ProjectListModel final : public QAbstractListModel {
    Q_OBJECT
    TM_QML_ELEMENT
    Q_PROPERTY(int count READ count NOTIFY countChanged)

public:
    enum Roles {
        ProjectIdRole = Qt::UserRole + 1, // "projectId": qint64
        NameRole, // "name": QString (also Qt::DisplayRole)
        DescriptionRole, // "description": QString, "" when none
    };
    Q_ENUM(Roles)

    explicit ProjectListModel(QObject *parent = nullptr);
    ~ProjectListModel() override;

    [[nodiscard]] int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] int count() const { return static_cast<int>(m_projects.size()); }
    // Row of a project, or -1.
    [[nodiscard]] Q_INVOKABLE int rowForId(qint64 projectId) const;
    [[nodiscard]] std::optional<Project> project(Id projectId) const;
    // Every project, in display order.
    [[nodiscard]] const QList<Project> &projects() const { return m_projects; }

    // Replace everything (a model reset).
    void reset(const QList<Project> &projects);
    // Update the project of the same id in place, or append it.
    void upsert(const Project &project);

Q_SIGNALS:
    void countChanged();

private:
    QList<Project> m_projects; // in display order
};

} // namespace taskmaster
