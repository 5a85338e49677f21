// AdminController: the instance's live figures for administrators (GET /admin/stats), sampled
// when the admin page asks (every 2 s while it is shown), and this client's HTTP revalidation
// counts (RestClient).
// Owns: the last sample. Thread: the GUI thread.
#pragma once

#include <QObject>
#include <QVariantMap>
#include <QtQmlIntegration/qqmlintegration.h>

namespace taskmaster::client {

class RestClient;
class UserDirectory;

class AdminController final : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("provided by Connection")
    // The body of GET /admin/stats (docs/protocol.md) plus "sampledAt" (ms since epoch); {} until
    // loaded. A JSON object shown as it is, not a list: no model.
    Q_PROPERTY(QVariantMap stats READ stats NOTIFY statsChanged)
    // This client's GETs answered 304 (If-None-Match) and the bytes those did not download again
    // (RestClient's revalidation), for any user.
    Q_PROPERTY(qint64 notModifiedCount READ notModifiedCount NOTIFY revalidationChanged)
    Q_PROPERTY(qint64 bytesSaved READ bytesSaved NOTIFY revalidationChanged)

public:
    AdminController(RestClient &rest, UserDirectory &users, QObject *parent = nullptr);
    ~AdminController() override;

    [[nodiscard]] QVariantMap stats() const { return m_stats; }
    [[nodiscard]] qint64 notModifiedCount() const;
    [[nodiscard]] qint64 bytesSaved() const;
    // Nothing for a user who is not an administrator.
    Q_INVOKABLE void refresh();
    void clear();

Q_SIGNALS:
    void statsChanged();
    void revalidationChanged();

private:
    RestClient &m_rest;
    UserDirectory &m_users;
    QVariantMap m_stats;
};

} // namespace taskmaster::client
