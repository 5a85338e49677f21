#include "client-qml/controllers/search_controller.h"

#include "client-qml/controllers/rooms_controller.h"
#include "client-qml/controllers/user_directory.h"
#include "client-qml/net/rest_client.h"

namespace taskmaster::client {

SearchController::SearchController(RestClient &rest, RoomsController &rooms, UserDirectory &users, QObject *parent)
    : QObject(parent), m_rest(rest), m_rooms(rooms), m_users(users)
{
}

SearchController::~SearchController() = default;

void SearchController::search(const QString &query)
{
    const QString text = query.trimmed();
    if (text.isEmpty()) {
        m_results.clear();
        return;
    }
    m_rest.send(api::search(SearchQuery {text, 50}), this, [this, text](const SearchResult &r) {
        QList<SearchResultModel::MessageHit> messages;
        messages.reserve(r.messages.size());
        for (const Message &m : r.messages) {
            const auto room = m_rooms.model()->room(m.roomId);
            messages.append({m, room ? room->name : QString()});
            m_users.request(m.authorId);
        }
        m_results.reset(text, r.tasks, messages);
    });
}

} // namespace taskmaster::client
