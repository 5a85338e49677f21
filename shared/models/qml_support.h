// TM_QML_ELEMENT: QML_ELEMENT when QtQmlIntegration (header-only, no QtQml link) is available,
// nothing otherwise, so the server can build tm_shared without the QML development package.
// The models carry only the class info; tm_shared is not a QML module, so the client registers
// them itself, e.g. qmlRegisterTypesAndRevisions<MessageListModel>("org.taskmaster.models", 1)
// or a QML_FOREIGN wrapper in its own QML module.
#pragma once

#ifdef QT_QMLINTEGRATION_LIB
#include <QtQmlIntegration/qqmlintegration.h>
#define TM_QML_ELEMENT QML_ELEMENT
#else
#define TM_QML_ELEMENT
#endif
