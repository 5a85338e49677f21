// Client start-up helpers shared by the app and the GUI tests: registers the shared list models
// with QML (module "TaskMaster.Models": MessageListModel, RoomListModel, TaskListModel,
// ReversedListProxy, ProjectListModel, UserListModel, SearchResultModel) and points an engine at
// the compiled-in QML modules (qrc:/TaskMaster/...).
// Thread: the GUI thread, before the first QML file is loaded.
#pragma once

class QQmlEngine;

namespace taskmaster::client {

// Idempotent.
void registerModelTypes();
// registerModelTypes() plus the import path of the resource-embedded modules.
void prepareEngine(QQmlEngine &engine);

} // namespace taskmaster::client
