// The real taskmaster-server binary starts, answers GET /health, refuses bad options with a
// message naming the option, and exits cleanly on SIGTERM.
#include "tests/support/server_process.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTest>

using taskmaster::test::ServerProcess;

class TestServerSmoke final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void health();
    void badOptions_data();
    void badOptions();
    void help();

private:
    static QNetworkReply *getAndWait(QNetworkAccessManager &nam, const QUrl &url);
};

QNetworkReply *TestServerSmoke::getAndWait(QNetworkAccessManager &nam, const QUrl &url)
{
    QNetworkReply *reply = nam.get(QNetworkRequest(url));
    QSignalSpy finished(reply, &QNetworkReply::finished);
    if (!reply->isFinished())
        finished.wait(10000);
    return reply;
}

void TestServerSmoke::health()
{
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorText()));
    QVERIFY(server.port() != 0);

    QNetworkAccessManager nam;
    std::unique_ptr<QNetworkReply> reply(getAndWait(nam, server.url(QStringLiteral("/health"))));
    QVERIFY(reply->isFinished());
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    const QJsonObject body = QJsonDocument::fromJson(reply->readAll()).object();
    QCOMPARE(body.value(QLatin1String("status")).toString(), QStringLiteral("ok"));

    QCOMPARE(server.stop(), 0);
}

void TestServerSmoke::badOptions_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("bad listen") << QStringList {QStringLiteral("--listen"), QStringLiteral("nowhere")} << "listen";
    QTest::newRow("bad redis") << QStringList {QStringLiteral("--redis-url"), QStringLiteral("tcp://x")} << "redis-url";
    QTest::newRow("unknown") << QStringList {QStringLiteral("--no-such-option")} << "no-such-option";
}

void TestServerSmoke::badOptions()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    QProcess p;
    p.start(ServerProcess::binary(), args);
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 2);
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(err.contains(mentions), qPrintable(err));
}

void TestServerSmoke::help()
{
    QProcess p;
    p.start(ServerProcess::binary(), {QStringLiteral("--help")});
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 0);
    const QString out = QString::fromUtf8(p.readAllStandardOutput());
    QVERIFY2(out.contains(QLatin1String("--database-url")) && out.contains(QLatin1String("TM_REDIS_URL")),
             qPrintable(out));
}

QTEST_GUILESS_MAIN(TestServerSmoke)
#include "tst_server_smoke.moc"
