// taskmaster client entry point: loads the QML application window.
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QUrl>

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
    QGuiApplication::setApplicationName(QStringLiteral("TaskMaster"));
    QGuiApplication::setOrganizationName(QStringLiteral("TaskMaster"));

    QQmlApplicationEngine engine;
    QObject::connect(
        &engine, &QQmlApplicationEngine::objectCreationFailed, &app, [] { QCoreApplication::exit(1); },
        Qt::QueuedConnection);
    // Qt 6.4 places qt_add_qml_module files under qrc:/<URI>/ (loadFromModule arrived in 6.5).
    engine.load(QUrl(QStringLiteral("qrc:/TaskMaster/qml/Main.qml")));
    return QGuiApplication::exec();
}
