// taskmaster client entry point: loads the QML application window.
// --screenshot FILE renders the first frame to a PNG and exits (used by tests and the docs).
#include <QCommandLineParser>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQuickWindow>
#include <QUrl>

#include <cstdio>

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
    QGuiApplication::setApplicationName(QStringLiteral("TaskMaster"));
    QGuiApplication::setOrganizationName(QStringLiteral("TaskMaster"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("TaskMaster desktop and mobile client."));
    parser.addHelpOption();
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                        QStringLiteral("Render the first frame to FILE (PNG) and exit."),
                                        QStringLiteral("FILE"));
    parser.addOption(screenshot);
    parser.process(app);

    QQmlApplicationEngine engine;
    // Qt 6.4 places qt_add_qml_module files under qrc:/<URI>/ (loadFromModule arrived in 6.5).
    engine.load(QUrl(QStringLiteral("qrc:/TaskMaster/qml/Main.qml")));
    if (engine.rootObjects().isEmpty())
        return 1;
    auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
    if (!window)
        return 1;

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
