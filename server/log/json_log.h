// JSON log lines on stdout: one object per line with time, level, category, msg and, for
// structured events, extra fields. Installs itself as Qt's message handler, so every
// qC{Debug,Info,Warning,Critical}(category) call becomes a line. Categories: tm.server, tm.http,
// tm.db, tm.db.migrate, tm.auth, tm.ws, tm.cache, tm.bus, tm.metrics (one per subsystem).
// Thread: any (writes are serialised).
#pragma once

#include <QJsonObject>
#include <QLoggingCategory>
#include <QString>

namespace taskmaster::server {

Q_DECLARE_LOGGING_CATEGORY(lcServer)

// Routes Qt's logging to JSON lines on stdout.
void installJsonLog();
// A structured line: {"time":...,"level":"info","category":...,"msg":...,<fields>}.
void logEvent(const QLoggingCategory &category, QtMsgType level, const QString &msg, const QJsonObject &fields = {});

} // namespace taskmaster::server
