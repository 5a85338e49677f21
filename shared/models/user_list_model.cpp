#include "shared/models/user_list_model.h"

namespace taskmaster {

UserListModel::UserListModel(QObject *parent) : QAbstractListModel(parent)
{
    connect(this, &QAbstractItemModel::modelReset, this, &UserListModel::countChanged);
}

UserListModel::~UserListModel() = default;

int UserListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : count();
}

QVariant UserListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.parent().isValid() || index.row() < 0 || index.row() >= count())
        return {};
    const User &u = m_users.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case DisplayNameRole:
        return u.displayName;
    case UserIdRole:
        return QVariant(u.id);
    case UsernameRole:
        return u.username;
    default:
        return {};
    }
}

QHash<int, QByteArray> UserListModel::roleNames() const
{
    static const QHash<int, QByteArray> names {
        {UserIdRole, QByteArrayLiteral("userId")},
        {UsernameRole, QByteArrayLiteral("username")},
        {DisplayNameRole, QByteArrayLiteral("displayName")},
    };
    return names;
}

void UserListModel::reset(const QList<User> &users)
{
    beginResetModel();
    m_users = users;
    endResetModel();
}

} // namespace taskmaster
