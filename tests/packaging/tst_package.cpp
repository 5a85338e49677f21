// The Debian packages, for real on this machine (as root): builds them with cpack from the
// build directory, checks their control data, installs all three with apt-get, runs the
// installed server the way its systemd unit does (the unit's ExecStart, as the unit's user, with
// NOTIFY_SOCKET like Type=notify) on a temporary data directory and a free port, checks
// `systemd-analyze verify` on both units, then removes and purges the packages and checks what
// each step leaves behind (docs/deploy.md, "What the package does").
// Without root it is skipped. It refuses to touch a taskmaster-server installed by someone else.
#include "tests/support/notify_socket.h"
#include "tests/support/tool_process.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLockFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <grp.h>
#include <memory>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace taskmaster::test;

namespace {

const QString kVersion = QStringLiteral(TM_PROJECT_VERSION);
const QString kBuildDir = QStringLiteral(TM_BUILD_DIR);

ToolRun run(const QString &program, const QStringList &args, int timeoutMs = 120000)
{
    return runTool(program, args, {}, timeoutMs);
}

// dpkg's view of a package: "install ok installed", "deinstall ok config-files" or empty.
QString packageStatus(const QString &package)
{
    const ToolRun r
        = run(QStringLiteral("dpkg-query"), {QStringLiteral("-W"), QStringLiteral("-f=${Status}"), package});
    return r.exitCode == 0 ? QString::fromUtf8(r.out).trimmed() : QString();
}

bool userExists(const char *name)
{
    return ::getpwnam(name) != nullptr;
}

bool groupExists(const char *name)
{
    return ::getgrnam(name) != nullptr;
}

// Package names in a Depends field ("a (>= 1), b | c" -> a, b, c).
QSet<QString> dependsNames(const QString &field)
{
    QSet<QString> names;
    for (QString part : field.split(QRegularExpression(QStringLiteral("[,|]")))) {
        part = part.trimmed();
        part = part.left(part.indexOf(QLatin1Char(' ')) < 0 ? part.size() : part.indexOf(QLatin1Char(' ')));
        if (!part.isEmpty())
            names.insert(part.section(QLatin1Char(':'), 0, 0));
    }
    return names;
}

// The files a process loaded with dlopen() (its LD_DEBUG=files output): the plugins. Qt also
// tries names that do not exist (libqsqlite.so.avx2) and bare library names; those are left out.
QStringList dlopened(const QByteArray &ldDebugOutput)
{
    QStringList files;
    static const QRegularExpression re(QStringLiteral(R"(file=(\S+) \[\d+\];\s+dynamically loaded by)"));
    for (auto it = re.globalMatch(QString::fromUtf8(ldDebugOutput)); it.hasNext();) {
        const QString f = it.next().captured(1);
        if (f.startsWith(QLatin1Char('/')) && QFileInfo::exists(f) && !files.contains(f))
            files << f;
    }
    return files;
}

// The installed package that owns a file (dpkg -S; paths through /lib and /usr/lib both).
QString owner(const QString &file)
{
    const QString canonical = QFileInfo(file).canonicalFilePath();
    for (const QString &path :
         {file, canonical, QString(canonical).replace(QLatin1String("/usr/lib/"), QLatin1String("/lib/"))}) {
        const ToolRun r = run(QStringLiteral("dpkg"), {QStringLiteral("-S"), path});
        if (r.exitCode == 0)
            return QString::fromUtf8(r.out).section(QLatin1Char(':'), 0, 0).trimmed();
    }
    return {};
}

// Starts command (program first) as uid:gid, the way systemd starts a unit with User=, with env
// added to this process's environment, and waits for the "listening" line. Returns that line
// (empty when the server did not get there; `log` then holds its output).
QJsonObject startAs(QProcess &server, QStringList command, uid_t uid, gid_t gid, const QHash<QString, QString> &env,
                    QByteArray &log)
{
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    for (auto it = env.cbegin(); it != env.cend(); ++it)
        e.insert(it.key(), it.value());
    server.setProcessEnvironment(e);
    server.setChildProcessModifier([uid, gid] {
        if (::setgroups(1, &gid) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)
            ::_exit(127);
    });
    server.start(command.takeFirst(), command);
    if (!server.waitForStarted())
        return {};
    for (QDeadlineTimer deadline(30000); !deadline.hasExpired();) {
        if (!server.canReadLine() && !server.waitForReadyRead(500) && server.state() == QProcess::NotRunning)
            break;
        while (server.canReadLine()) {
            const QByteArray line = server.readLine();
            log += line;
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            if (o.value(QLatin1String("msg")).toString() == QLatin1String("listening"))
                return o;
        }
    }
    return {};
}

// The status of GET http://127.0.0.1:port/path (0: no answer within 10 s).
int statusOf(quint16 port, const QString &path)
{
    QNetworkAccessManager nam;
    std::unique_ptr<QNetworkReply> reply(
        nam.get(QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port).arg(path)))));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    if (!reply->isFinished() && !finished.wait(10000))
        return 0;
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

} // namespace

class TestPackage final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void packagesBuilt();
    void install();
    void unitsVerify();
    void serverUnderUnitCommandLine();
    void instanceUnitCommandLine();
    void clientStartsFromPackage();
    void upgradeKeepsConfigAndData();
    void removeKeepsConfigDataAndUser();
    void purgeLeavesMachineClean();
    void containerImageSteps();
    void cleanupTestCase();

private:
    [[nodiscard]] QString deb(const char *package) const
    {
        return m_out.filePath(QStringLiteral("%1_%2-1_amd64.deb").arg(QLatin1String(package), kVersion));
    }
    [[nodiscard]] QString field(const char *package, const char *name) const
    {
        return QString::fromUtf8(
                   run(QStringLiteral("dpkg-deb"), {QStringLiteral("-f"), deb(package), QLatin1String(name)}).out)
            .trimmed();
    }
    QTemporaryDir m_out;
    std::unique_ptr<QLockFile> m_lock;
    bool m_installedByUs = false;
    bool m_imageUserMade = false; // containerImageSteps' user, removed by the test itself
};

void TestPackage::initTestCase()
{
    if (::geteuid() != 0)
        QSKIP("installs packages with apt-get and dpkg: needs root");
    if (QStandardPaths::findExecutable(QStringLiteral("apt-get")).isEmpty()
        || QStandardPaths::findExecutable(QStringLiteral("dpkg-shlibdeps")).isEmpty())
        QSKIP("needs apt-get and dpkg-shlibdeps (dpkg-dev, scripts/packages.txt)");
    // One package test at a time on this machine (several checkouts may run their suites).
    m_lock = std::make_unique<QLockFile>(QStringLiteral("/tmp/taskmaster-package-test.lock"));
    m_lock->setStaleLockTime(0);
    QVERIFY2(m_lock->tryLock(600000), "another package test holds the lock for 10 minutes");
    const bool require = qEnvironmentVariableIntValue("TM_TEST_REQUIRE_SERVICES") == 1;
    for (const char *p : {"taskmaster-server", "taskmaster", "tm-load"}) {
        if (packageStatus(QLatin1String(p)).isEmpty()
            && !(qstrcmp(p, "taskmaster-server") == 0 && userExists("taskmaster")))
            continue;
        const QByteArray why = QByteArray(p)
            + " (or the user taskmaster) is on this machine already; this test installs "
              "and purges the packages: `apt-get purge taskmaster-server taskmaster tm-load` first";
        if (require)
            QFAIL(why.constData());
        QSKIP(why.constData());
    }
    QVERIFY(m_out.isValid());
    qputenv("DEBIAN_FRONTEND", "noninteractive");
}

// cpack from the build directory: three packages with the project's version, their dependencies
// from dpkg-shlibdeps plus the plugins and QML modules listed by hand, the config a conffile.
void TestPackage::packagesBuilt()
{
    const ToolRun cpack = run(QStringLiteral("cpack"),
                              {QStringLiteral("-G"), QStringLiteral("DEB"), QStringLiteral("--config"),
                               kBuildDir + QStringLiteral("/CPackConfig.cmake"), QStringLiteral("-B"), m_out.path()},
                              300000);
    QVERIFY2(cpack.exitCode == 0, qPrintable(cpack.describe()));
    for (const char *p : {"taskmaster-server", "taskmaster", "tm-load"}) {
        QVERIFY2(QFile::exists(deb(p)), qPrintable(deb(p) + QStringLiteral(" missing; ") + cpack.describe()));
        QCOMPARE(field(p, "Package"), QLatin1String(p));
        QCOMPARE(field(p, "Version"), kVersion + QStringLiteral("-1"));
    }
    const QSet<QString> server = dependsNames(field("taskmaster-server", "Depends"));
    for (const char *d : {"libqt6core6", "libqt6httpserver6", "libqt6websockets6", "libhiredis0.14", "libsodium23",
                          "libsystemd0", "libqt6sql6-sqlite", "libqt6sql6-psql", "adduser"})
        QVERIFY2(server.contains(QLatin1String(d)), d);
    const QSet<QString> client = dependsNames(field("taskmaster", "Depends"));
    for (const char *d : {"libqt6quick6", "libqt6websockets6", "qml6-module-qtquick-controls", "qt6-qpa-plugins"})
        QVERIFY2(client.contains(QLatin1String(d)), d);
    QVERIFY(dependsNames(field("tm-load", "Depends")).contains(QStringLiteral("libqt6websockets6")));

    const ToolRun conffiles = run(QStringLiteral("dpkg-deb"),
                                  {QStringLiteral("--info"), deb("taskmaster-server"), QStringLiteral("conffiles")});
    QCOMPARE(QString::fromUtf8(conffiles.out).trimmed(), QStringLiteral("/etc/taskmaster/taskmaster.conf"));
    const QString files
        = QString::fromUtf8(run(QStringLiteral("dpkg-deb"), {QStringLiteral("-c"), deb("taskmaster-server")}).out);
    for (const char *f :
         {"./usr/bin/taskmaster-server", "./etc/taskmaster/taskmaster.conf",
          "./lib/systemd/system/taskmaster-server.service", "./lib/systemd/system/taskmaster-server@.service",
          "./usr/share/doc/taskmaster-server/deploy.md"})
        QVERIFY2(files.contains(QLatin1String(f)), f);
    const QString clientFiles
        = QString::fromUtf8(run(QStringLiteral("dpkg-deb"), {QStringLiteral("-c"), deb("taskmaster")}).out);
    for (const char *f : {"./usr/bin/taskmaster", "./usr/share/applications/taskmaster.desktop",
                          "./usr/share/icons/hicolor/scalable/apps/taskmaster.svg"})
        QVERIFY2(clientFiles.contains(QLatin1String(f)), f);
}

// apt-get installs the three with their dependencies; postinst makes the user, the data
// directory and gives the config file to the user's group.
void TestPackage::install()
{
    const ToolRun apt
        = run(QStringLiteral("apt-get"),
              {QStringLiteral("install"), QStringLiteral("-y"), QStringLiteral("-q"), QStringLiteral("-o"),
               QStringLiteral("DPkg::Lock::Timeout=120"), deb("taskmaster-server"), deb("taskmaster"), deb("tm-load")},
              300000);
    m_installedByUs = true;
    QVERIFY2(apt.exitCode == 0, qPrintable(apt.describe()));
    for (const char *p : {"taskmaster-server", "taskmaster", "tm-load"})
        QCOMPARE(packageStatus(QLatin1String(p)), QStringLiteral("install ok installed"));

    const ToolRun version = run(QStringLiteral("/usr/bin/taskmaster-server"), {QStringLiteral("--version")});
    QCOMPARE(version.exitCode, 0);
    QCOMPARE(QString::fromUtf8(version.out), QStringLiteral("taskmaster-server %1\n").arg(kVersion));
    QCOMPARE(QString::fromUtf8(run(QStringLiteral("/usr/bin/tm-load"), {QStringLiteral("--version")}).out),
             QStringLiteral("tm-load %1\n").arg(kVersion));

    const passwd *user = ::getpwnam("taskmaster");
    QVERIFY(user);
    QCOMPARE(QString::fromLocal8Bit(user->pw_dir), QStringLiteral("/var/lib/taskmaster"));
    QCOMPARE(QString::fromLocal8Bit(user->pw_shell), QStringLiteral("/usr/sbin/nologin"));
    QVERIFY2(user->pw_uid < 1000, "a system user");
    struct stat st { };
    QCOMPARE(::stat("/var/lib/taskmaster", &st), 0);
    QCOMPARE(st.st_uid, user->pw_uid);
    QCOMPARE(st.st_mode & 07777, mode_t(0750));
    QCOMPARE(::stat("/etc/taskmaster/taskmaster.conf", &st), 0);
    QCOMPARE(st.st_uid, uid_t(0));
    QCOMPARE(st.st_gid, user->pw_gid);
    QCOMPARE(st.st_mode & 07777, mode_t(0640));
    const ToolRun desktop
        = run(QStringLiteral("desktop-file-validate"), {QStringLiteral("/usr/share/applications/taskmaster.desktop")});
    QVERIFY2(desktop.exitCode == 0 && desktop.out.isEmpty(), qPrintable(desktop.describe()));
}

// systemd-analyze verify on the installed units (the template through an instance name), and
// their sandbox's exposure score (`security --offline`) at most 2.0 ("OK"; 1.6 when written).
void TestPackage::unitsVerify()
{
    if (QStandardPaths::findExecutable(QStringLiteral("systemd-analyze")).isEmpty())
        QSKIP("systemd-analyze is not installed (package systemd): the units are not verified");
    QTemporaryDir dir;
    const QString instance = dir.filePath(QStringLiteral("taskmaster-server@tm-check.service"));
    QVERIFY(QFile::copy(QStringLiteral("/lib/systemd/system/taskmaster-server@.service"), instance));
    for (const QString &unit : {QStringLiteral("/lib/systemd/system/taskmaster-server.service"), instance}) {
        const ToolRun verify = run(QStringLiteral("systemd-analyze"), {QStringLiteral("verify"), unit});
        // Complaints about other units of this machine are not ours: only lines naming ours count.
        QStringList ours;
        for (const QByteArray &line : QByteArray(verify.out + verify.err).split('\n')) {
            if (line.contains("taskmaster"))
                ours << QString::fromUtf8(line);
        }
        QVERIFY2(verify.exitCode == 0 && ours.isEmpty(),
                 qPrintable(unit + QLatin1Char('\n') + ours.join(QLatin1Char('\n'))));
        const ToolRun security = run(
            QStringLiteral("systemd-analyze"),
            {QStringLiteral("security"), QStringLiteral("--offline=true"), QStringLiteral("--threshold=20"), unit});
        QVERIFY2(security.exitCode == 0, security.out.right(600).constData());
    }
}

// The unit's ExecStart line, run as the unit's User= with the environment an EnvironmentFile would
// give (a free port and a temporary data directory override the installed config file) and a
// notify socket: READY=1, /health and /health/ready, the SQLite file owned by the user, a clean
// drain on SIGTERM with STOPPING=1. The plugins it loads are all in its Depends.
void TestPackage::serverUnderUnitCommandLine()
{
    QFile unitFile(QStringLiteral("/lib/systemd/system/taskmaster-server.service"));
    QVERIFY(unitFile.open(QIODevice::ReadOnly));
    const QString unit = QString::fromUtf8(unitFile.readAll());
    const auto execStart
        = QRegularExpression(QStringLiteral("^ExecStart=(.+)$"), QRegularExpression::MultilineOption).match(unit);
    QVERIFY(execStart.hasMatch());
    QStringList command = execStart.captured(1).split(QLatin1Char(' '), Qt::SkipEmptyParts);
    QCOMPARE(command.constFirst(), QStringLiteral("/usr/bin/taskmaster-server"));
    QVERIFY(unit.contains(QLatin1String("\nUser=taskmaster\n")));
    QVERIFY(unit.contains(QLatin1String("\nType=notify\n")));

    const passwd *user = ::getpwnam("taskmaster");
    QVERIFY(user);
    const uid_t uid = user->pw_uid;
    const gid_t gid = user->pw_gid;
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(::chmod(QFile::encodeName(dir.path()).constData(), 0755) == 0);
    const QString dataDir = dir.filePath(QStringLiteral("data"));
    QVERIFY(QDir().mkdir(dataDir));
    QVERIFY(::chown(QFile::encodeName(dataDir).constData(), uid, gid) == 0);
    const QString socketPath = dir.filePath(QStringLiteral("notify"));
    NotifySocket manager(socketPath);
    QVERIFY(manager.bound());
    QVERIFY(::chmod(QFile::encodeName(socketPath).constData(), 0777) == 0);

    QProcess server;
    QByteArray out;
    const QJsonObject listening = startAs(server, command, uid, gid,
                                          {{QStringLiteral("TM_LISTEN"), QStringLiteral("127.0.0.1:0")},
                                           {QStringLiteral("TM_DATA_DIR"), dataDir},
                                           {QStringLiteral("NOTIFY_SOCKET"), socketPath},
                                           {QStringLiteral("LD_DEBUG"), QStringLiteral("files")}},
                                          out);
    const auto port = quint16(listening.value(QLatin1String("port")).toInt());
    QByteArray err = server.readAllStandardError(); // LD_DEBUG's lines, kept for the end
    QVERIFY2(port != 0, QByteArray(out + err.right(3000)).constData());
    const QByteArray ready = manager.next(QDeadlineTimer(10000));
    QVERIFY2(ready.split('\n').contains("READY=1"), ready.constData());
    QCOMPARE(statusOf(port, QStringLiteral("/health")), 200);
    QCOMPARE(statusOf(port, QStringLiteral("/health/ready")), 200);
    struct stat st { };
    QCOMPARE(::stat(QFile::encodeName(dataDir + QStringLiteral("/taskmaster.sqlite")).constData(), &st), 0);
    QCOMPARE(st.st_uid, uid);

    server.terminate();
    QVERIFY(server.waitForFinished(20000));
    QCOMPARE(server.exitStatus(), QProcess::NormalExit);
    QCOMPARE(server.exitCode(), 0);
    bool stopping = false;
    for (QByteArray d = manager.next(QDeadlineTimer(0)); !d.isEmpty(); d = manager.next(QDeadlineTimer(0)))
        stopping = stopping || d.startsWith("STOPPING=1");
    QVERIFY(stopping);

    const QSet<QString> depends = dependsNames(field("taskmaster-server", "Depends"));
    err += server.readAllStandardError();
    const QStringList plugins = dlopened(err);
    QVERIFY2(plugins.contains(QStringLiteral("/usr/lib/x86_64-linux-gnu/qt6/plugins/sqldrivers/libqsqlite.so")),
             qPrintable(plugins.join(QLatin1Char(' '))));
    for (const QString &plugin : plugins) {
        const QString package = owner(plugin);
        QVERIFY2(depends.contains(package),
                 qPrintable(plugin + QStringLiteral(" belongs to ") + package
                            + QStringLiteral(", which is not in Depends")));
    }
}

// taskmaster-server@tm-check.service's ExecStart (%i substituted) with the packaged example
// instance config as /etc/taskmaster/tm-check.conf: the instance's name and data directory come
// from the command line (the directory made as StateDirectory= would make it).
void TestPackage::instanceUnitCommandLine()
{
    QFile unitFile(QStringLiteral("/lib/systemd/system/taskmaster-server@.service"));
    QVERIFY(unitFile.open(QIODevice::ReadOnly));
    const QString unit = QString::fromUtf8(unitFile.readAll());
    const auto execStart
        = QRegularExpression(QStringLiteral("^ExecStart=(.+)$"), QRegularExpression::MultilineOption).match(unit);
    QVERIFY(execStart.hasMatch());
    const QString name = QStringLiteral("tm-check");
    const QStringList command
        = execStart.captured(1).replace(QLatin1String("%i"), name).split(QLatin1Char(' '), Qt::SkipEmptyParts);
    QVERIFY(unit.contains(QLatin1String("\nStateDirectory=taskmaster/%i\n")));
    const QString conf = QStringLiteral("/etc/taskmaster/%1.conf").arg(name);
    QVERIFY(QFile::copy(QStringLiteral("/usr/share/doc/taskmaster-server/examples/instance.conf"), conf));
    const QString dataDir = QStringLiteral("/var/lib/taskmaster/") + name;
    const passwd *user = ::getpwnam("taskmaster");
    QVERIFY(user);
    const uid_t uid = user->pw_uid;
    const gid_t gid = user->pw_gid;
    QVERIFY(QDir().mkdir(dataDir));
    QVERIFY(::chown(QFile::encodeName(dataDir).constData(), uid, gid) == 0);

    QProcess server;
    QByteArray out;
    // The example listens on 8081: a free port instead, through the environment (below the command line).
    const QJsonObject listening
        = startAs(server, command, uid, gid, {{QStringLiteral("TM_LISTEN"), QStringLiteral("127.0.0.1:0")}}, out);
    const auto port = quint16(listening.value(QLatin1String("port")).toInt());
    QVERIFY2(port != 0, QByteArray(out + server.readAllStandardError()).constData());
    QCOMPARE(listening.value(QLatin1String("instance")).toString(), name);
    QCOMPARE(statusOf(port, QStringLiteral("/health/ready")), 200);
    QVERIFY(QFile::exists(dataDir + QStringLiteral("/taskmaster.sqlite")));
    server.terminate();
    QVERIFY(server.waitForFinished(20000));
    QCOMPARE(server.exitCode(), 0);
    QVERIFY(QFile::remove(conf)); // an administrator's file: purge would leave it
}

// The installed client renders its first frame (offscreen), and every plugin and QML module it
// loads comes from a package in its Depends.
void TestPackage::clientStartsFromPackage()
{
    QTemporaryDir home;
    QVERIFY(home.isValid());
    QProcess client;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HOME"), home.path());
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home.path());
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("QT_QUICK_BACKEND"), QStringLiteral("software"));
    env.insert(QStringLiteral("LD_DEBUG"), QStringLiteral("files"));
    client.setProcessEnvironment(env);
    const QString png = home.filePath(QStringLiteral("first.png"));
    client.start(QStringLiteral("/usr/bin/taskmaster"), {QStringLiteral("--screenshot"), png});
    QVERIFY(client.waitForFinished(60000));
    const QByteArray err = client.readAllStandardError();
    QVERIFY2(client.exitCode() == 0 && QFile::exists(png), err.right(3000).constData());

    const QSet<QString> depends = dependsNames(field("taskmaster", "Depends"));
    const QStringList plugins = dlopened(err);
    QVERIFY2(!plugins.filter(QStringLiteral("/qml/QtQuick/Controls/")).isEmpty()
                 && !plugins.filter(QStringLiteral("/plugins/platforms/")).isEmpty(),
             qPrintable(plugins.join(QLatin1Char(' '))));
    for (const QString &plugin : plugins) {
        const QString package = owner(plugin);
        QVERIFY2(depends.contains(package),
                 qPrintable(plugin + QStringLiteral(" belongs to ") + package
                            + QStringLiteral(", which is not in Depends")));
    }
}

// An upgrade (the same build as release 2): the administrator's edit of the conffile, the data,
// the user and the config file's group and mode stay.
void TestPackage::upgradeKeepsConfigAndData()
{
    const QString next = m_out.filePath(QStringLiteral("next"));
    const ToolRun cpack = run(QStringLiteral("cpack"),
                              {QStringLiteral("-G"), QStringLiteral("DEB"), QStringLiteral("--config"),
                               kBuildDir + QStringLiteral("/CPackConfig.cmake"), QStringLiteral("-B"), next,
                               QStringLiteral("-D"), QStringLiteral("CPACK_DEBIAN_PACKAGE_RELEASE=2"),
                               QStringLiteral("-D"), QStringLiteral("CPACK_COMPONENTS_ALL=server")},
                              300000);
    const QString deb2 = next + QStringLiteral("/taskmaster-server_%1-2_amd64.deb").arg(kVersion);
    QVERIFY2(cpack.exitCode == 0 && QFile::exists(deb2), qPrintable(cpack.describe()));

    QFile conf(QStringLiteral("/etc/taskmaster/taskmaster.conf"));
    QVERIFY(conf.open(QIODevice::Append));
    conf.write("instance-name = edited-by-the-admin\n");
    conf.close();
    QFile data(QStringLiteral("/var/lib/taskmaster/kept-by-upgrade"));
    QVERIFY(data.open(QIODevice::WriteOnly));
    data.close();
    const uid_t uid = ::getpwnam("taskmaster")->pw_uid;

    const ToolRun apt = run(QStringLiteral("apt-get"),
                            {QStringLiteral("install"), QStringLiteral("-y"), QStringLiteral("-q"),
                             QStringLiteral("-o"), QStringLiteral("DPkg::Lock::Timeout=120"), deb2},
                            300000);
    QVERIFY2(apt.exitCode == 0, qPrintable(apt.describe()));
    const ToolRun version
        = run(QStringLiteral("dpkg-query"),
              {QStringLiteral("-W"), QStringLiteral("-f=${Version}"), QStringLiteral("taskmaster-server")});
    QCOMPARE(QString::fromUtf8(version.out), kVersion + QStringLiteral("-2"));
    QVERIFY(conf.open(QIODevice::ReadOnly));
    QVERIFY(conf.readAll().contains("instance-name = edited-by-the-admin\n"));
    QVERIFY(data.exists());
    QCOMPARE(::getpwnam("taskmaster")->pw_uid, uid);
    struct stat st { };
    QCOMPARE(::stat("/etc/taskmaster/taskmaster.conf", &st), 0);
    QCOMPARE(st.st_gid, ::getpwnam("taskmaster")->pw_gid);
    QCOMPARE(st.st_mode & 07777, mode_t(0640));
    QCOMPARE(run(QStringLiteral("/usr/bin/taskmaster-server"), {QStringLiteral("--version")}).exitCode, 0);
}

// remove: the programs and units go; the configuration, the data and the user stay.
void TestPackage::removeKeepsConfigDataAndUser()
{
    QFile marker(QStringLiteral("/var/lib/taskmaster/kept-by-remove"));
    QVERIFY(marker.open(QIODevice::WriteOnly));
    marker.close();
    const ToolRun apt = run(QStringLiteral("apt-get"),
                            {QStringLiteral("remove"), QStringLiteral("-y"), QStringLiteral("-q"), QStringLiteral("-o"),
                             QStringLiteral("DPkg::Lock::Timeout=120"), QStringLiteral("taskmaster-server")});
    QVERIFY2(apt.exitCode == 0, qPrintable(apt.describe()));
    QCOMPARE(packageStatus(QStringLiteral("taskmaster-server")), QStringLiteral("deinstall ok config-files"));
    QVERIFY(!QFile::exists(QStringLiteral("/usr/bin/taskmaster-server")));
    QVERIFY(!QFile::exists(QStringLiteral("/lib/systemd/system/taskmaster-server.service")));
    QVERIFY(QFile::exists(QStringLiteral("/etc/taskmaster/taskmaster.conf")));
    QVERIFY(marker.exists());
    QVERIFY(userExists("taskmaster"));
}

// purge: nothing of the packages is left: files, configuration, data, the unit's enablement, the
// user and its group.
void TestPackage::purgeLeavesMachineClean()
{
    const ToolRun apt = run(QStringLiteral("apt-get"),
                            {QStringLiteral("purge"), QStringLiteral("-y"), QStringLiteral("-q"), QStringLiteral("-o"),
                             QStringLiteral("DPkg::Lock::Timeout=120"), QStringLiteral("taskmaster-server"),
                             QStringLiteral("taskmaster"), QStringLiteral("tm-load")});
    QVERIFY2(apt.exitCode == 0, qPrintable(apt.describe()));
    m_installedByUs = false;
    for (const char *p : {"taskmaster-server", "taskmaster", "tm-load"})
        QVERIFY2(packageStatus(QLatin1String(p)).isEmpty()
                     || packageStatus(QLatin1String(p)).startsWith(QLatin1String("unknown")),
                 qPrintable(packageStatus(QLatin1String(p))));
    for (const char *f :
         {"/usr/bin/taskmaster-server", "/usr/bin/taskmaster", "/usr/bin/tm-load", "/etc/taskmaster",
          "/var/lib/taskmaster", "/usr/share/doc/taskmaster-server", "/usr/share/applications/taskmaster.desktop",
          "/etc/systemd/system/multi-user.target.wants/taskmaster-server.service",
          "/var/lib/systemd/deb-systemd-helper-enabled/taskmaster-server.service.dsh-also"})
        QVERIFY2(!QFileInfo::exists(QLatin1String(f)) && !QFileInfo(QLatin1String(f)).isSymLink(), f);
    QVERIFY(!userExists("taskmaster"));
    QVERIFY(!groupExists("taskmaster"));
}

// What packaging/container/Containerfile does, minus the image: its RUN that makes the user with
// a fixed uid, then the package: postinst keeps that user, the data directory is its, and the
// server runs as that uid with the image's environment (but a free loopback port).
void TestPackage::containerImageSteps()
{
    QFile f(QStringLiteral(TM_SOURCE_DIR "/packaging/container/Containerfile"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(f.readAll()).replace(QLatin1String("\\\n"), QLatin1String(" "));
    const auto runUser
        = QRegularExpression(QStringLiteral("^RUN (groupadd .+)$"), QRegularExpression::MultilineOption).match(text);
    const auto user
        = QRegularExpression(QStringLiteral("^USER (\\d+):(\\d+)$"), QRegularExpression::MultilineOption).match(text);
    const auto dataDir = QRegularExpression(QStringLiteral("TM_DATA_DIR=(\\S+)")).match(text);
    QVERIFY(runUser.hasMatch() && user.hasMatch() && dataDir.hasMatch());
    const uid_t uid = user.captured(1).toUInt();
    const gid_t gid = user.captured(2).toUInt();
    if (::getpwuid(uid) || ::getgrgid(gid))
        QSKIP("uid or gid of the image's user is taken on this machine");

    const ToolRun made = run(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), runUser.captured(1)});
    m_imageUserMade = true;
    QVERIFY2(made.exitCode == 0, qPrintable(made.describe()));
    const ToolRun apt = run(QStringLiteral("apt-get"),
                            {QStringLiteral("install"), QStringLiteral("-y"), QStringLiteral("-q"),
                             QStringLiteral("--no-install-recommends"), QStringLiteral("-o"),
                             QStringLiteral("DPkg::Lock::Timeout=120"), deb("taskmaster-server")},
                            300000);
    m_installedByUs = true;
    QVERIFY2(apt.exitCode == 0, qPrintable(apt.describe()));
    const passwd *pw = ::getpwnam("taskmaster");
    QVERIFY(pw);
    QCOMPARE(pw->pw_uid, uid);
    QCOMPARE(pw->pw_gid, gid);
    struct stat st { };
    QCOMPARE(::stat(QFile::encodeName(dataDir.captured(1)).constData(), &st), 0);
    QCOMPARE(st.st_uid, uid);

    QProcess server;
    server.setWorkingDirectory(dataDir.captured(1));
    QByteArray out;
    const QJsonObject listening = startAs(server, {QStringLiteral("/usr/bin/taskmaster-server")}, uid, gid,
                                          {{QStringLiteral("TM_DATA_DIR"), dataDir.captured(1)},
                                           {QStringLiteral("TM_LISTEN"), QStringLiteral("127.0.0.1:0")}},
                                          out);
    const auto port = quint16(listening.value(QLatin1String("port")).toInt());
    QVERIFY2(port != 0, QByteArray(out + server.readAllStandardError()).constData());
    QCOMPARE(statusOf(port, QStringLiteral("/health/ready")), 200);
    server.terminate();
    QVERIFY(server.waitForFinished(20000));
    QCOMPARE(server.exitCode(), 0);

    const ToolRun purge = run(
        QStringLiteral("apt-get"),
        {QStringLiteral("purge"), QStringLiteral("-y"), QStringLiteral("-q"), QStringLiteral("taskmaster-server")});
    QVERIFY2(purge.exitCode == 0, qPrintable(purge.describe()));
    m_installedByUs = false;
    QVERIFY(!QFileInfo::exists(dataDir.captured(1)));
    // Purge removes only a system user (uid < 1000, what postinst makes); one made beforehand
    // with another uid, as the image's, is the administrator's and stays.
    QVERIFY(userExists("taskmaster"));
    QCOMPARE(run(QStringLiteral("userdel"), {QStringLiteral("taskmaster")}).exitCode, 0);
    m_imageUserMade = false;
    QVERIFY(!userExists("taskmaster"));
    QVERIFY(!groupExists("taskmaster"));
}

void TestPackage::cleanupTestCase()
{
    // A failure half-way leaves the machine as it found it all the same.
    if (m_installedByUs)
        (void)run(QStringLiteral("apt-get"),
                  {QStringLiteral("purge"), QStringLiteral("-y"), QStringLiteral("-q"),
                   QStringLiteral("taskmaster-server"), QStringLiteral("taskmaster"), QStringLiteral("tm-load")});
    if (m_imageUserMade) {
        (void)run(QStringLiteral("userdel"), {QStringLiteral("taskmaster")});
        (void)run(QStringLiteral("groupdel"), {QStringLiteral("taskmaster")});
    }
}

QTEST_GUILESS_MAIN(TestPackage)
#include "tst_package.moc"
