// KeyNames: key sequences as the platform and the user's language write them, for the shortcuts
// sheet ("Ctrl+K" is "Strg+K" in German, "⌘K" on macOS). The names come from Qt's own catalogue
// (qt_<lang>.qm, installed next to ours by installTranslations()).
// Thread: the GUI thread (QML singleton).
#pragma once

#include <QKeySequence>
#include <QObject>
#include <QtQmlIntegration/qqmlintegration.h>

namespace taskmaster::client {

class KeyNames final : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON

public:
    using QObject::QObject;
    // `portable` in QKeySequence's portable form ("Ctrl+Shift+K", "Alt+Up", "Menu").
    Q_INVOKABLE static QString nativeText(const QString &portable)
    {
        return QKeySequence(portable, QKeySequence::PortableText).toString(QKeySequence::NativeText);
    }
};

} // namespace taskmaster::client
