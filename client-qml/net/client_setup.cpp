#include "client-qml/net/client_setup.h"

#include "shared/models/message_list_model.h"
#include "shared/models/project_list_model.h"
#include "shared/models/reversed_list_proxy.h"
#include "shared/models/room_list_model.h"
#include "shared/models/search_result_model.h"
#include "shared/models/task_list_model.h"
#include "shared/models/user_list_model.h"

#include <QCoreApplication>
#include <QLibraryInfo>
#include <QLocale>
#include <QQmlEngine>
#include <QTranslator>

#include <memory>

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

QString installTranslations(const QString &language)
{
    static std::unique_ptr<QTranslator> own;
    static std::unique_ptr<QTranslator> qt;
    for (auto *old : {own.get(), qt.get()}) {
        if (old)
            QCoreApplication::removeTranslator(old);
    }
    QString name = language;
    if (name.isEmpty())
        name = qEnvironmentVariable("TM_LANGUAGE");
    const QLocale locale = name.isEmpty() ? QLocale::system() : QLocale(name);
    const QString dir = QStringLiteral(":/i18n");
    auto translator = std::make_unique<QTranslator>();
    // QTranslator::load(QLocale, ...) tries each of the locale's UI languages in turn.
    if (!translator->load(locale, QStringLiteral("taskmaster"), QStringLiteral("_"), dir)
        && !translator->load(QStringLiteral("taskmaster_en"), dir)) {
        return {};
    }
    const QString loaded = translator->language().section(QLatin1Char('_'), 0, 0);
    QCoreApplication::installTranslator(translator.get());
    own = std::move(translator);
    qt.reset();
    if (loaded != QLatin1String("en")) {
        auto qtTranslator = std::make_unique<QTranslator>();
        if (qtTranslator->load(QLocale(loaded), QStringLiteral("qt"), QStringLiteral("_"),
                               QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
            QCoreApplication::installTranslator(qtTranslator.get());
            qt = std::move(qtTranslator);
        }
    }
    return loaded;
}

} // namespace taskmaster::client
