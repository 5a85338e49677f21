// SearchController: full-text search over the messages and tasks the user can see (GET /search);
// the hits go into a SearchResultModel, each message with the name of its room.
// Owns: the SearchResultModel. Thread: the GUI thread.
#pragma once

#include "shared/models/search_result_model.h"

#include <QObject>
#include <QtQmlIntegration/qqmlintegration.h>

namespace taskmaster::client {

class RestClient;
class RoomsController;
class UserDirectory;

class SearchController final : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("provided by Connection")
    Q_PROPERTY(taskmaster::SearchResultModel *results READ results CONSTANT)

public:
    SearchController(RestClient &rest, RoomsController &rooms, UserDirectory &users, QObject *parent = nullptr);
    ~SearchController() override;

    [[nodiscard]] SearchResultModel *results() { return &m_results; }
    // Up to 50 hits; an empty query clears the results.
    Q_INVOKABLE void search(const QString &query);
    void clear() { m_results.clear(); }

private:
    RestClient &m_rest;
    RoomsController &m_rooms;
    UserDirectory &m_users;
    SearchResultModel m_results;
};

} // namespace taskmaster::client
