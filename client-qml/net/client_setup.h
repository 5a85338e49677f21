// Client start-up helpers shared by the app and the GUI tests: registers the shared list models
// with QML (module "TaskMaster.Models": MessageListModel, RoomListModel, TaskListModel,
// ReversedListProxy, ProjectListModel, UserListModel, SearchResultModel) and points an engine at
// the compiled-in QML modules (qrc:/TaskMaster/...); installs the client's translations
// (client-qml/i18n/taskmaster_<lang>.ts, compiled into the binary under :/i18n).
// Thread: the GUI thread, before the first QML file is loaded.
#pragma once

#include <QString>

class QQmlEngine;

namespace taskmaster::client {

// Idempotent.
void registerModelTypes();
// registerModelTypes() plus the import path of the resource-embedded modules.
void prepareEngine(QQmlEngine &engine);

// Loads the catalogue for `language` (a locale name such as "de" or "de_DE"; empty: the
// TM_LANGUAGE environment variable, else the system's UI languages) into the application, with
// Qt's own for the same language when installed (standard buttons). A language without a
// catalogue gets the English one (its plural forms: "1 member", "2 members"). Replaces what an
// earlier call installed. Returns the catalogue's language ("en", "de"). Needs a
// QCoreApplication; call before the QML is loaded.
QString installTranslations(const QString &language = {});

} // namespace taskmaster::client
