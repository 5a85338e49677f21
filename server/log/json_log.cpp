#include "server/log/json_log.h"

#include "shared/domain/types.h"

#include <QDateTime>
#include <QJsonDocument>

#include <cstdio>
#include <mutex>

namespace taskmaster::server {

Q_LOGGING_CATEGORY(lcServer, "tm.server")

namespace {
std::mutex g_logMutex;

const char *levelName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return "debug";
    case QtInfoMsg:
        return "info";
    case QtWarningMsg:
        return "warning";
    case QtCriticalMsg:
        return "error";
    case QtFatalMsg:
        return "fatal";
    }
    return "info";
}

void writeLine(QtMsgType type, const char *category, const QString &msg, const QJsonObject &fields)
{
    QJsonObject o = fields;
    o.insert(QStringLiteral("time"), formatTimestamp(QDateTime::currentDateTimeUtc()));
    o.insert(QStringLiteral("level"), QString::fromLatin1(levelName(type)));
    o.insert(QStringLiteral("category"), QString::fromUtf8(category ? category : "default"));
    o.insert(QStringLiteral("msg"), msg);
    const QByteArray line = QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
    std::lock_guard lock(g_logMutex);
    std::fwrite(line.constData(), 1, size_t(line.size()), stdout);
    std::fflush(stdout);
}

void handler(QtMsgType type, const QMessageLogContext &context, const QString &msg)
{
    writeLine(type, context.category, msg, {});
}
} // namespace

void installJsonLog()
{
    qInstallMessageHandler(handler);
    // Debug lines are off unless QT_LOGGING_RULES asks for them.
    QLoggingCategory::setFilterRules(QStringLiteral("tm.*.debug=false"));
}

void logEvent(const QLoggingCategory &category, QtMsgType level, const QString &msg, const QJsonObject &fields)
{
    const bool enabled = (level == QtDebugMsg && category.isDebugEnabled())
        || (level == QtInfoMsg && category.isInfoEnabled()) || (level == QtWarningMsg && category.isWarningEnabled())
        || (level == QtCriticalMsg && category.isCriticalEnabled()) || level == QtFatalMsg;
    if (enabled)
        writeLine(level, category.categoryName(), msg, fields);
}

} // namespace taskmaster::server
