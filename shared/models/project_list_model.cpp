#include "shared/models/project_list_model.h"

namespace taskmaster {

ProjectListModel::ProjectListModel(QObject *parent) : QAbstractListModel(parent)
{
    connect(this, &QAbstractItemModel::rowsInserted, this, &ProjectListModel::countChanged);
    connect(this, &QAbstractItemModel::rowsRemoved, this, &ProjectListModel::countChanged);
    connect(this, &QAbstractItemModel::modelReset, this, &ProjectListModel::countChanged);
}

ProjectListModel::~ProjectListModel() = default;

int ProjectListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : count();
}

QVariant ProjectListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.parent().isValid() || index.row() < 0 || index.row() >= count())
        return {};
    const Project &p = m_projects.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case NameRole:
        return p.name;
    case ProjectIdRole:
        return QVariant(p.id);
    case DescriptionRole:
        return p.description;
    default:
        return {};
    }
}

QHash<int, QByteArray> ProjectListModel::roleNames() const
{
    static const QHash<int, QByteArray> names {
        {ProjectIdRole, QByteArrayLiteral("projectId")},
        {NameRole, QByteArrayLiteral("name")},
        {DescriptionRole, QByteArrayLiteral("description")},
    };
    return names;
}

int ProjectListModel::rowForId(qint64 projectId) const
{
    for (int row = 0; row < count(); ++row) {
        if (m_projects.at(row).id == projectId)
            return row;
    }
    return -1;
}

std::optional<Project> ProjectListModel::project(Id projectId) const
{
    const int row = rowForId(projectId);
    return row < 0 ? std::nullopt : std::optional<Project>(m_projects.at(row));
}

void ProjectListModel::reset(const QList<Project> &projects)
{
    beginResetModel();
    m_projects = projects;
    endResetModel();
}

void ProjectListModel::upsert(const Project &project)
{
    const int row = rowForId(project.id);
    if (row >= 0) {
        m_projects[row] = project;
        Q_EMIT dataChanged(index(row), index(row));
        return;
    }
    beginInsertRows({}, count(), count());
    m_projects.append(project);
    endInsertRows();
}

} // namespace taskmaster
