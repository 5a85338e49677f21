// The backup and restore procedure of docs/deploy.md, on both back ends, with the tools it names:
// a running server gets data over REST, is backed up while it runs (SQLite: `sqlite3 .backup`;
// PostgreSQL: `pg_dump --format=custom`), gets one more message, and the backup is restored into
// a fresh data directory (`pg_restore --no-owner` into a new database). A second server on the
// restored copy serves the same data as of the backup: the same user with the same session
// token, room, messages (ids, seqs, bodies), project and task, and not the later message.
#include "tests/support/api_client.h"
#include "tests/support/server_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"
#include "tests/support/tool_process.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace taskmaster::test;

namespace {

// What a user sees of the data: the room's messages (id, seq, body), the room, the project and
// its tasks, as compact JSON texts that must match between the original and the restored server.
QStringList snapshot(ApiClient &api, const Account &user, qint64 room, qint64 project)
{
    QStringList out;
    const ApiReply messages = api.get(QStringLiteral("/api/v1/rooms/%1/messages?limit=50").arg(room), user.token);
    out << QString::number(messages.status);
    for (const QJsonValue &m : messages.items()) {
        const QJsonObject o = m.toObject();
        out << QStringLiteral("%1/%2/%3")
                   .arg(o.value(QLatin1String("id")).toInteger())
                   .arg(o.value(QLatin1String("seq")).toInteger())
                   .arg(o.value(QLatin1String("body")).toString());
    }
    const ApiReply me = api.get(QStringLiteral("/api/v1/users/%1").arg(user.id), user.token);
    out << QString::number(me.status) << me.json().value(QLatin1String("username")).toString();
    const ApiReply r = api.get(QStringLiteral("/api/v1/rooms/%1").arg(room), user.token);
    out << QString::number(r.status) << r.json().value(QLatin1String("name")).toString();
    const ApiReply p = api.get(QStringLiteral("/api/v1/projects/%1").arg(project), user.token);
    out << QString::number(p.status) << p.json().value(QLatin1String("name")).toString();
    const ApiReply tasks = api.get(QStringLiteral("/api/v1/projects/%1/tasks").arg(project), user.token);
    out << QString::number(tasks.status);
    for (const QJsonValue &t : tasks.items())
        out << t.toObject().value(QLatin1String("title")).toString();
    return out;
}

} // namespace

class TestBackupRestore final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void backupServesSameData_data() { backendRows(); }
    void backupServesSameData();
};

void TestBackupRestore::backupServesSameData()
{
    QFETCH(QString, backend);
    const bool pg = backend == QLatin1String("postgres");
    QString adminUrl;
    if (pg) {
        TM_REQUIRE_SERVICE(url, "TM_TEST_DATABASE_URL");
        adminUrl = url;
    }
    QTemporaryDir backupDir;
    QVERIFY(backupDir.isValid());

    // The original server, with data.
    const QString originalUrl = pg ? freshPostgresUrl(adminUrl) : QString();
    ServerProcess original;
    QVERIFY2(original.start(pg ? QStringList {QStringLiteral("--database-url"), originalUrl} : QStringList {}),
             qPrintable(original.errorText()));
    ApiClient api(original.url());
    const Account alice = api.signUp("backup");
    const qint64 room = api.createRoom(alice, {});
    QVERIFY(room > 0);
    for (int i = 1; i <= 3; ++i) {
        const ApiReply sent = api.post(QStringLiteral("/api/v1/rooms/%1/messages").arg(room),
                                       {{QStringLiteral("body"), QStringLiteral("before backup %1").arg(i)},
                                        {QStringLiteral("clientId"), QStringLiteral("b-%1").arg(i)}},
                                       alice.token);
        QCOMPARE(sent.status, 201);
    }
    const ApiReply project
        = api.post(QStringLiteral("/api/v1/projects"), {{QStringLiteral("name"), uniqueName("project")}}, alice.token);
    QCOMPARE(project.status, 201);
    QCOMPARE(api.post(QStringLiteral("/api/v1/projects/%1/tasks").arg(project.id()),
                      {{QStringLiteral("title"), QStringLiteral("restore me")}}, alice.token)
                 .status,
             201);
    const QStringList before = snapshot(api, alice, room, project.id());
    QCOMPARE(before.constFirst(), QStringLiteral("200"));
    QCOMPARE(before.size(), 12); // 3 messages, 1 task, 8 statuses and names
    QVERIFY(before.contains(QStringLiteral("restore me")));
    qint64 lastSeq = 0;
    for (const QString &entry : before.mid(1, 3))
        lastSeq = qMax(lastSeq, entry.section(QLatin1Char('/'), 1, 1).toLongLong());
    QVERIFY(lastSeq > 0);

    // The backup, while the server runs.
    ToolRun backup;
    const QString file
        = backupDir.filePath(pg ? QStringLiteral("taskmaster.dump") : QStringLiteral("taskmaster.sqlite"));
    if (pg) {
        backup = runTool(QStringLiteral("pg_dump"),
                         {QStringLiteral("--format=custom"), QStringLiteral("--file=") + file, originalUrl});
    } else {
        backup = runTool(
            QStringLiteral("sqlite3"),
            {original.dataDir() + QStringLiteral("/taskmaster.sqlite"), QStringLiteral(".backup '%1'").arg(file)});
    }
    QVERIFY2(backup.exitCode == 0 && QFile::exists(file), qPrintable(backup.describe()));
    // Written after the backup: not in the restored copy.
    QCOMPARE(api.post(QStringLiteral("/api/v1/rooms/%1/messages").arg(room),
                      {{QStringLiteral("body"), QStringLiteral("after backup")},
                       {QStringLiteral("clientId"), QStringLiteral("a-1")}},
                      alice.token)
                 .status,
             201);
    QCOMPARE(original.stop(), 0);

    // The restore, into a fresh data directory (and a new database), and a server on it.
    ServerProcess restored;
    QStringList args;
    if (pg) {
        const QString restoredUrl = freshPostgresUrl(adminUrl);
        const ToolRun restore
            = runTool(QStringLiteral("pg_restore"),
                      {QStringLiteral("--no-owner"), QStringLiteral("--dbname=") + restoredUrl, file});
        QVERIFY2(restore.exitCode == 0, qPrintable(restore.describe()));
        args << QStringLiteral("--database-url") << restoredUrl;
    } else {
        QVERIFY(QFile::copy(file, restored.dataDir() + QStringLiteral("/taskmaster.sqlite")));
    }
    QVERIFY2(restored.start(args), qPrintable(restored.errorText()));
    ApiClient restoredApi(restored.url());
    const QStringList after = snapshot(restoredApi, alice, room, project.id());
    QCOMPARE(after, before);
    // The restored server goes on where the backup ended: the next message takes the next seq.
    const ApiReply next = restoredApi.post(QStringLiteral("/api/v1/rooms/%1/messages").arg(room),
                                           {{QStringLiteral("body"), QStringLiteral("after restore")},
                                            {QStringLiteral("clientId"), QStringLiteral("r-1")}},
                                           alice.token);
    QCOMPARE(next.status, 201);
    QCOMPARE(next.json().value(QLatin1String("seq")).toInteger(), lastSeq + 1);
    QCOMPARE(restored.stop(), 0);
}

QTEST_GUILESS_MAIN(TestBackupRestore)
#include "tst_backup_restore.moc"
