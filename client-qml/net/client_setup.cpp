#include "client-qml/net/client_setup.h"

#include "shared/models/message_list_model.h"
#include "shared/models/project_list_model.h"
#include "shared/models/reversed_list_proxy.h"
#include "shared/models/room_list_model.h"
#include "shared/models/search_result_model.h"
#include "shared/models/task_list_model.h"
#include "shared/models/user_list_model.h"

#include <QQmlEngine>

namespace taskmaster::client {

void registerModelTypes()
{
    static const bool done = [] {
        const char *uri = "TaskMaster.Models";
        // Only TaskListModel is made in QML (board columns); the others come from Connection's
        // controllers.
        const QString fromConnection = QStringLiteral("provided by Connection");
        qmlRegisterUncreatableType<MessageListModel>(uri, 1, 0, "MessageListModel", fromConnection);
        qmlRegisterUncreatableType<RoomListModel>(uri, 1, 0, "RoomListModel", fromConnection);
        qmlRegisterUncreatableType<ReversedListProxy>(uri, 1, 0, "ReversedListProxy", fromConnection);
        qmlRegisterUncreatableType<ProjectListModel>(uri, 1, 0, "ProjectListModel", fromConnection);
        qmlRegisterUncreatableType<UserListModel>(uri, 1, 0, "UserListModel", fromConnection);
        qmlRegisterUncreatableType<SearchResultModel>(uri, 1, 0, "SearchResultModel", fromConnection);
        qmlRegisterType<TaskListModel>(uri, 1, 0, "TaskListModel");
        return true;
    }();
    Q_UNUSED(done);
}

void prepareEngine(QQmlEngine &engine)
{
    registerModelTypes();
    // Qt 6.4 puts qt_add_qml_module resources under qrc:/<URI path>/ (no qrc:/qt/qml yet).
    engine.addImportPath(QStringLiteral("qrc:/"));
}

} // namespace taskmaster::client
