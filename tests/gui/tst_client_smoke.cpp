// The real taskmaster client binary starts headless, shows its window and renders a frame.
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

class TestClientSmoke final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void rendersWindow();
};

void TestClientSmoke::rendersWindow()
{
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("main.png"));
    QProcess p;
    p.start(QStringLiteral(TM_CLIENT_BINARY), {QStringLiteral("--screenshot"), file});
    QVERIFY2(p.waitForFinished(30000), "client did not exit after its screenshot");
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, p.readAllStandardError().constData());
    QImage image(file);
    QVERIFY(!image.isNull());
    QCOMPARE(image.size(), QSize(1024, 720));
    // Not a blank image: the window paints its background and the title text.
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 4) {
        for (int x = 0; x < image.width(); x += 4)
            colours.insert(image.pixel(x, y));
    }
    QVERIFY2(colours.size() > 2, "screenshot has no content");
}

QTEST_GUILESS_MAIN(TestClientSmoke)
#include "tst_client_smoke.moc"
