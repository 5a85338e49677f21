#include "client-qml/controllers/admin_controller.h"

#include "client-qml/controllers/user_directory.h"
#include "client-qml/net/rest_client.h"

#include <QDateTime>

namespace taskmaster::client {

AdminController::AdminController(RestClient &rest, UserDirectory &users, QObject *parent)
    : QObject(parent), m_rest(rest), m_users(users)
{
    connect(&m_rest, &RestClient::revalidationStatsChanged, this, &AdminController::revalidationChanged);
}

qint64 AdminController::notModifiedCount() const
{
    return m_rest.revalidationStats().notModified;
}

qint64 AdminController::bytesSaved() const
{
    return m_rest.revalidationStats().bytesSaved;
}

AdminController::~AdminController() = default;

void AdminController::refresh()
{
    if (m_users.self().role != Role::Admin)
        return;
    m_rest.send(api::adminStats(), this, [this](QVariantMap stats) {
        stats.insert(QStringLiteral("sampledAt"), QDateTime::currentMSecsSinceEpoch());
        m_stats = stats;
        Q_EMIT statsChanged();
    });
}

void AdminController::clear()
{
    m_stats.clear();
    Q_EMIT statsChanged();
}

} // namespace taskmaster::client
