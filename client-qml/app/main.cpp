// taskmaster client entry point: loads the QML application window.
// --screenshot FILE renders the first frame to a PNG and exits (used by tests and the docs);
// --theme light|dark|system forces a palette; --server URL presets the server address;
// --language NAME (or TM_LANGUAGE) picks the translation instead of the system's language.
#include "client-qml/app/qml_plugins.h"
#include "client-qml/net/client_setup.h"
#include "shared/core/version.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QQmlApplicationEngine>
#include <QQuickStyle>
#include <QQuickWindow>
#include <QUrl>

#include <cstdio>

int main(int argc, char *argv[])
{
    // A QApplication (not just a QGuiApplication) for the system tray's notifications
    // (ChatNotifier); the window is QML all the same.
    QApplication app(argc, argv);
    QGuiApplication::setApplicationName(QStringLiteral("TaskMaster"));
    QGuiApplication::setOrganizationName(QStringLiteral("TaskMaster"));
    QGuiApplication::setApplicationVersion(QLatin1String(taskmaster::kVersion));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("TaskMaster desktop and mobile client."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                        QStringLiteral("Render the first frame to FILE (PNG) and exit."),
                                        QStringLiteral("FILE"));
    const QCommandLineOption theme(QStringLiteral("theme"), QStringLiteral("Palette: system (default), light or dark."),
                                   QStringLiteral("MODE"), QStringLiteral("system"));
    const QCommandLineOption server(QStringLiteral("server"), QStringLiteral("Server address to preset."),
                                    QStringLiteral("URL"));
    const QCommandLineOption language(QStringLiteral("language"),
                                      QStringLiteral("Language of the interface, e.g. en or de (default: "
                                                     "TM_LANGUAGE, else the system's)."),
                                      QStringLiteral("NAME"));
    parser.addOption(screenshot);
    parser.addOption(theme);
    parser.addOption(server);
    parser.addOption(language);
    parser.process(app);
    taskmaster::client::installTranslations(parser.value(language));

    QQuickStyle::setStyle(QStringLiteral("Basic"));
    QQmlApplicationEngine engine;
    taskmaster::client::prepareEngine(engine);
    engine.setInitialProperties({{QStringLiteral("themeMode"), parser.value(theme)},
                                 {QStringLiteral("autoRestore"), !parser.isSet(screenshot)}});
    // Qt 6.4 places qt_add_qml_module files under qrc:/<URI path>/<source path> (no loadFromModule
    // before 6.5).
    engine.load(QUrl(QStringLiteral("qrc:/TaskMaster/App/app/Main.qml")));
    if (engine.rootObjects().isEmpty())
        return 1;
    auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
    if (!window)
        return 1;
    if (parser.isSet(server)) {
        if (QObject *conn = window->property("connection").value<QObject *>())
            conn->setProperty("serverUrl", parser.value(server));
    }

    if (parser.isSet(screenshot)) {
        const QString file = parser.value(screenshot);
        QObject::connect(
            window, &QQuickWindow::frameSwapped, &app,
            [window, file] {
                const bool saved = window->grabWindow().save(file, "PNG");
                std::fprintf(saved ? stdout : stderr, "%s %s\n", saved ? "screenshot" : "cannot write",
                             qPrintable(file));
                QCoreApplication::exit(saved ? 0 : 1);
            },
            Qt::SingleShotConnection);
    }
    return QGuiApplication::exec();
}
