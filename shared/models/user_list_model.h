// UserListModel: a list of users as the server returned them, e.g. the matches of a user search
// (GET /users?q=) for an assignee picker.
// Owns: the list of users. Thread: the GUI thread; not thread-safe.
#pragma once

#include "shared/domain/types.h"
#include "shared/models/qml_support.h"

#include <QAbstractListModel>
#include <QList>

namespace taskmaster {

class UserListModel final : public QAbstractListModel {
    Q_OBJECT
    TM_QML_ELEMENT
    Q_PROPERTY(int count READ count NOTIFY countChanged)

public:
    enum Roles {
        UserIdRole = Qt::UserRole + 1, // "userId": qint64
        UsernameRole, // "username": QString, the login name
        DisplayNameRole, // "displayName": QString (also Qt::DisplayRole)
    };
    Q_ENUM(Roles)

    explicit UserListModel(QObject *parent = nullptr);
    ~UserListModel() override;

    [[nodiscard]] int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] int count() const { return static_cast<int>(m_users.size()); }
    // The user of a row. Precondition: valid row.
    [[nodiscard]] const User &userAt(int row) const { return m_users.at(row); }

    // Replace everything (a model reset).
    void reset(const QList<User> &users);

Q_SIGNALS:
    void countChanged();

private:
    QList<User> m_users;
};

} // namespace taskmaster
