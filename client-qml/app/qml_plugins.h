// The static QML plugins of the client's feature modules. Include in exactly one source file of
// each executable that loads the client's QML (the app, GUI tests, benchmarks).
// Thread: none (static registration at start-up).
#pragma once

#include <QtQml/qqmlextensionplugin.h>

Q_IMPORT_QML_PLUGIN(TaskMaster_NetPlugin)
Q_IMPORT_QML_PLUGIN(TaskMaster_UiPlugin)
Q_IMPORT_QML_PLUGIN(TaskMaster_ChatPlugin)
Q_IMPORT_QML_PLUGIN(TaskMaster_TasksPlugin)
Q_IMPORT_QML_PLUGIN(TaskMaster_AppPlugin)
