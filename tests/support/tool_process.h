// Running the project's own tools from a test: a program (tm-load) to its end with a deadline,
// its output and JSON report collected; the KEY=value environment file that cluster.sh writes, a
// cluster.sh command, and whether every instance of a cluster is ready.
// Thread: the test's thread (blocks until the program ends).
#pragma once

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QUrl>

namespace taskmaster::test {

struct ToolRun {
    int exitCode = -1; // -1: crashed, or killed at the deadline
    QByteArray out;
    QByteArray err;
    QJsonObject json; // the report file, when one was named and written

    // json[section][name] as an integer, -1 when absent.
    [[nodiscard]] qint64 field(const char *section, const char *name) const;
    // Exit code, stdout and the tail of stderr: a failed check's message.
    [[nodiscard]] QString describe(qsizetype stderrTail = 4000) const;
};

// Runs program with args until it ends (killed after timeoutMs); reads jsonFile afterwards when
// it is not empty.
[[nodiscard]] ToolRun runTool(const QString &program, const QStringList &args, const QString &jsonFile = {},
                              int timeoutMs = 120000);

// KEY=value lines of <dir>/cluster.env (cluster.sh; the values tests read need no shell unquoting).
[[nodiscard]] QHash<QString, QString> readClusterEnv(const QString &dir);

// bash <script> <args...> to its end (killed after timeoutMs); its output is logged (qInfo).
// True when it exited 0.
[[nodiscard]] bool runClusterCommand(const QString &script, const QStringList &args, int timeoutMs = 120000);

// The HTTP status of a GET of url (0 when no answer came within timeoutMs).
[[nodiscard]] int httpStatus(const QUrl &url, int timeoutMs = 5000);

// The instance numbers of the cluster's pool (TM_CLUSTER_MEMBERS of cluster.env, read now:
// add-instance and remove-instance change it).
[[nodiscard]] QList<int> clusterMembers(const QString &dir);

// Every instance of the pool answers /health/ready with 200 (false for an empty pool).
[[nodiscard]] bool clusterReady(const QString &dir);

} // namespace taskmaster::test
