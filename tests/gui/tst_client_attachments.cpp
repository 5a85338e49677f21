// The client's attachments (AttachmentsController, docs/protocol.md section 6.8) against a real
// taskmaster-server started by the test (SQLite, files under its data dir): files uploaded from
// disk and an image from the clipboard into the composer's list with progress, sent with a
// message that then carries them (and that another member reads); the message's delegate
// (MessageDelegate.qml) shows a chip for the file and the image's thumbnail, fetched with the
// token into the cache; a download saves the same bytes with progress; a cancelled upload leaves
// nothing attached; files dropped on the composer (Qt's drag-and-drop events) are uploaded; a task
// saved with an upload carries it; the largest upload comes from the server (GET /api/v1/uploads).
#include "client-qml/app/qml_plugins.h"
#include "client-qml/net/client_setup.h"
#include "client-qml/net/connection.h"
#include "tests/support/api_client.h"
#include "tests/support/server_process.h"

#include <QClipboard>
#include <QCryptographicHash>
#include <QGuiApplication>
#include <QImage>
#include <QMimeData>
#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickStyle>
#include <QQuickWindow>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using taskmaster::Message;
using taskmaster::MessageListModel;
using taskmaster::client::AttachmentsController;
using taskmaster::client::ChatController;
using taskmaster::client::Connection;
using taskmaster::client::RealtimeSession;
using taskmaster::client::UploadListModel;
using taskmaster::test::ApiClient;
using taskmaster::test::ServerProcess;

namespace {

constexpr int kWaitMs = 20000;

QByteArray pattern(qint64 size)
{
    QByteArray out(size, Qt::Uninitialized);
    for (qint64 i = 0; i < size; ++i)
        out[i] = char((i * 31 + (i >> 12)) & 0xff);
    return out;
}

QByteArray sha256(const QByteArray &bytes)
{
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex();
}

// The attachments role of the model's row whose body is `body` (-1 row: not there yet).
QVariantList attachmentsOf(const MessageListModel &m, const QString &body, int *row = nullptr)
{
    for (int r = 0; r < m.count(); ++r) {
        if (m.messageAt(r).body == body) {
            if (row)
                *row = r;
            return m.data(m.index(r), MessageListModel::AttachmentsRole).toList();
        }
    }
    if (row)
        *row = -1;
    return {};
}

// The first item named `name` under root in the item tree (delegates are not in the window's
// QObject tree).
QQuickItem *findItem(QQuickItem *root, const QString &name)
{
    if (!root)
        return nullptr;
    if (root->objectName() == name)
        return root;
    const QList<QQuickItem *> children = root->childItems();
    for (QQuickItem *c : children) {
        if (QQuickItem *found = findItem(c, name))
            return found;
    }
    return nullptr;
}

} // namespace

class TestClientAttachments final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void limitFromTheServer();
    void uploadWithProgressAndSend();
    void delegateShowsChipAndThumbnail();
    void downloadSavesTheSameBytes();
    void cancelLeavesNothingAttached();
    void filesDroppedOnTheComposer();
    void taskSavedWithAnUpload();

private:
    QUrl writeFile(const QString &name, const QByteArray &bytes);
    // Waits until every row of the list finished uploading; false on the deadline.
    static bool uploadsDone(const UploadListModel &list);

    ServerProcess m_server;
    QTemporaryDir m_dir;
    std::unique_ptr<Connection> m_alice;
    taskmaster::test::Account m_bob;
    qint64 m_roomId = 0;
    QByteArray m_file; // the file of uploadWithProgressAndSend
    qint64 m_fileId = 0;
    QString m_fileName;
};

QUrl TestClientAttachments::writeFile(const QString &name, const QByteArray &bytes)
{
    QFile f(m_dir.filePath(name));
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
        qFatal("cannot write %s", qPrintable(f.fileName()));
    return QUrl::fromLocalFile(f.fileName());
}

bool TestClientAttachments::uploadsDone(const UploadListModel &list)
{
    QDeadlineTimer deadline(kWaitMs);
    while (!deadline.hasExpired() && list.busy())
        QTest::qWait(20);
    return !list.busy();
}

void TestClientAttachments::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true); // the image cache under ~/.qttest
    QVERIFY(m_dir.isValid());
    QVERIFY2(m_server.start({QStringLiteral("--rate-upload"), QStringLiteral("0"), QStringLiteral("--max-upload-mib"),
                             QStringLiteral("30")}),
             qPrintable(m_server.errorText()));
    ApiClient api(m_server.url());
    m_alice = std::make_unique<Connection>();
    m_alice->setSettingsFile(m_dir.filePath(QStringLiteral("alice.ini")));
    m_alice->setServerUrl(m_server.url().toString());
    m_alice->registerAccount(QStringLiteral("alice"), QStringLiteral("password123"), QStringLiteral("Alice"));
    QTRY_VERIFY_WITH_TIMEOUT(m_alice->loggedIn() && m_alice->realtime()->state() == RealtimeSession::Online, kWaitMs);
    m_bob = api.signUp("bob");
    taskmaster::test::Account alice {m_alice->userId(), m_alice->token()};
    m_roomId = api.createRoom(alice, {m_bob});
    QVERIFY(m_roomId > 0);
    QTRY_VERIFY_WITH_TIMEOUT(m_alice->rooms()->model()->rowForId(m_roomId) >= 0, kWaitMs);
    QSignalSpy loaded(m_alice->chat(), &ChatController::historyLoaded);
    m_alice->chat()->openRoom(m_roomId);
    QTRY_COMPARE_WITH_TIMEOUT(loaded.size(), 1, kWaitMs);
    AttachmentsController *at = m_alice->attachments();
    at->setDownloadDir(m_dir.filePath(QStringLiteral("downloads")));
    at->setProperty("openDownloads", false);
}

void TestClientAttachments::cleanupTestCase()
{
    m_alice.reset();
    m_server.stop();
}

void TestClientAttachments::limitFromTheServer()
{
    // The server takes 30 MiB (not the 25 MiB default): the client learns it on welcome, and a
    // larger file fails at once, without a request (cancelLeavesNothingAttached sends 24 MiB).
    AttachmentsController *at = m_alice->attachments();
    QTRY_COMPARE_WITH_TIMEOUT(at->property("maxUploadBytes").toLongLong(), 30LL << 20, kWaitMs);
    UploadListModel *list = at->composerUploads();
    at->uploadFiles(list, {writeFile(QStringLiteral("too big.bin"), QByteArray((30 << 20) + 1, 'b'))});
    QCOMPARE(list->count(), 1);
    QVERIFY(!list->busy());
    QVERIFY(list->rowAt(0).failed);
    QVERIFY2(list->rowAt(0).errorText.contains(QStringLiteral("30 MiB")), qPrintable(list->rowAt(0).errorText));
    at->cancel(list, 0);
    QCOMPARE(list->count(), 0);
}

void TestClientAttachments::uploadWithProgressAndSend()
{
    AttachmentsController *at = m_alice->attachments();
    UploadListModel *list = at->composerUploads();
    m_file = pattern(6 << 20);
    m_fileName = QStringLiteral("report 2026 (final).bin");
    const QUrl file = writeFile(m_fileName, m_file);
    QList<double> seen;
    const auto progress = connect(list, &QAbstractItemModel::dataChanged, this, [&](const QModelIndex &from) {
        seen << list->data(from, UploadListModel::ProgressRole).toDouble();
    });
    const auto disconnectProgress = qScopeGuard([&] { disconnect(progress); });
    at->uploadFiles(list, {file});
    QCOMPARE(list->count(), 1);
    QVERIFY(list->busy());
    QCOMPARE(list->data(list->index(0), UploadListModel::NameRole).toString(), m_fileName);
    QCOMPARE(list->data(list->index(0), UploadListModel::SizeRole).toLongLong(), qint64(m_file.size()));
    QVERIFY(uploadsDone(*list));
    QVERIFY2(!list->rowAt(0).failed, qPrintable(list->rowAt(0).errorText));
    m_fileId = list->rowAt(0).attachment.id;
    QVERIFY(m_fileId > 0);
    QCOMPARE(list->rowAt(0).attachment.sha256.toLatin1(), sha256(m_file));
    // Progress was shown on the way, ending at 1.
    QVERIFY(!seen.isEmpty());
    QVERIFY2(std::any_of(seen.cbegin(), seen.cend(), [](double p) { return p > 0 && p < 1; }),
             "no progress between 0 and 1");
    QCOMPARE(seen.constLast(), 1.0);
    QVERIFY(std::is_sorted(seen.cbegin(), seen.cend()));

    // An image pasted from the clipboard.
    QImage image(640, 400, QImage::Format_RGB32);
    image.fill(QColor(30, 120, 200));
    QGuiApplication::clipboard()->setImage(image);
    QVERIFY(at->pasteImage(list));
    QCOMPARE(list->count(), 2);
    QVERIFY(list->rowAt(1).isImage);
    QVERIFY(uploadsDone(*list));
    QVERIFY2(!list->rowAt(1).failed, qPrintable(list->rowAt(1).errorText));
    QVERIFY(list->rowAt(1).attachment.id > 0);
    QCOMPARE(list->readyIds().size(), 2);

    // Sent with a message: the list empties, the message carries both, in order.
    QVERIFY(at->sendToOpenRoom(QStringLiteral("two files")));
    QCOMPARE(list->count(), 0);
    QVariantList carried;
    QTRY_VERIFY_WITH_TIMEOUT(
        (carried = attachmentsOf(*m_alice->chat()->messages(), QStringLiteral("two files"))).size() == 2, kWaitMs);
    QCOMPARE(carried.at(0).toMap().value(QStringLiteral("attachmentId")).toLongLong(), m_fileId);
    QCOMPARE(carried.at(0).toMap().value(QStringLiteral("name")).toString(), m_fileName);
    QCOMPARE(carried.at(0).toMap().value(QStringLiteral("isImage")).toBool(), false);
    QCOMPARE(carried.at(1).toMap().value(QStringLiteral("isImage")).toBool(), true);

    // Bob, a member, reads the message with them and the file's bytes.
    ApiClient api(m_server.url());
    const auto page = api.get(QStringLiteral("/api/v1/rooms/%1/messages?limit=5").arg(m_roomId), m_bob.token);
    QCOMPARE(page.status, 200);
    QCOMPARE(page.items().last().toObject().value(QLatin1String("attachments")).toArray().size(), 2);
    const auto bytes = api.get(QStringLiteral("/api/v1/attachments/%1").arg(m_fileId), m_bob.token);
    QCOMPARE(bytes.status, 200);
    QCOMPARE(sha256(bytes.body), sha256(m_file));
}

void TestClientAttachments::delegateShowsChipAndThumbnail()
{
    QVERIFY2(m_fileId > 0, "uploadWithProgressAndSend failed");
    QQuickStyle::setStyle(QStringLiteral("Basic"));
    QQmlApplicationEngine engine;
    taskmaster::client::prepareEngine(engine);
    engine.setInitialProperties(
        {{QStringLiteral("connection"), QVariant::fromValue(static_cast<QObject *>(m_alice.get()))}});
    engine.loadData(R"(
        import QtQuick
        import TaskMaster.Net
        import TaskMaster.Chat
        Window {
            id: window
            width: 800
            height: 900
            visible: true
            required property Connection connection
            ListView {
                anchors.fill: parent
                model: window.connection.chat.messages
                delegate: MessageDelegate { width: ListView.view.width; connection: window.connection }
            }
        })");
    QCOMPARE(engine.rootObjects().size(), 1);
    auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
    QVERIFY(window);
    QVERIFY(QTest::qWaitForWindowExposed(window));
    QQuickItem *chip = nullptr;
    QQuickItem *thumbnail = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT(
        (chip = findItem(window->contentItem(), QStringLiteral("attachmentChip")))
            && (thumbnail = findItem(window->contentItem(), QStringLiteral("attachmentThumbnail"))),
        kWaitMs);
    QVERIFY(chip->isVisible() && chip->width() > 0);
    QCOMPARE(chip->property("attachment").toMap().value(QStringLiteral("name")).toString(), m_fileName);
    // The thumbnail comes through the cache (the bearer token), at most 320 px.
    QQuickItem *image = findItem(thumbnail, QStringLiteral("thumbnailImage"));
    QVERIFY(image);
    QTRY_COMPARE_WITH_TIMEOUT(image->property("status").toInt(), 1 /* Image.Ready */, kWaitMs);
    QVERIFY(image->property("source").toUrl().isLocalFile());
    QCOMPARE(image->property("sourceSize").toSize(), QSize(320, 200));
}

void TestClientAttachments::downloadSavesTheSameBytes()
{
    QVERIFY2(m_fileId > 0, "uploadWithProgressAndSend failed");
    AttachmentsController *at = m_alice->attachments();
    QList<double> seen;
    const auto progress = connect(at, &AttachmentsController::downloadProgressChanged, this, [&](qint64 id, double p) {
        if (id == m_fileId)
            seen << p;
    });
    const auto disconnectProgress = qScopeGuard([&] { disconnect(progress); });
    QSignalSpy finished(at, &AttachmentsController::downloadFinished);
    at->download(m_fileId, m_fileName);
    QCOMPARE(at->downloadProgress(m_fileId), 0.0);
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, kWaitMs);
    const QString path = finished.constFirst().at(1).toString();
    QCOMPARE(path, m_dir.filePath(QStringLiteral("downloads/") + m_fileName));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(sha256(f.readAll()), sha256(m_file));
    QCOMPARE(at->downloadProgress(m_fileId), -1.0);
    QVERIFY(seen.size() >= 2);
    QCOMPARE(seen.constLast(), 1.0);
    // Again: a free name beside the first, the same bytes.
    at->download(m_fileId, m_fileName);
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, kWaitMs);
    QVERIFY(finished.at(1).at(1).toString().endsWith(QStringLiteral("report 2026 (final) (2).bin")));
}

void TestClientAttachments::cancelLeavesNothingAttached()
{
    AttachmentsController *at = m_alice->attachments();
    UploadListModel *list = at->composerUploads();
    const QUrl file = writeFile(QStringLiteral("big.bin"), pattern(24 << 20));
    // Cancelled as soon as the first bytes are out.
    bool cancelled = false;
    const auto c = connect(list, &QAbstractItemModel::dataChanged, this, [&] {
        if (!cancelled && list->count() == 1 && list->rowAt(0).progress > 0) {
            cancelled = true;
            QMetaObject::invokeMethod(
                this, [&] { at->cancel(list, 0); }, Qt::QueuedConnection);
        }
    });
    at->uploadFiles(list, {file});
    QVERIFY(list->busy());
    const auto disconnectCancel = qScopeGuard([&] { disconnect(c); });
    QTRY_VERIFY_WITH_TIMEOUT(cancelled && list->count() == 0, kWaitMs);
    QVERIFY(!list->busy());
    QVERIFY(list->readyIds().isEmpty());
    // Nothing goes with the next message.
    QVERIFY(!at->sendToOpenRoom(QString())); // nothing to send
    m_alice->chat()->sendMessage(QStringLiteral("after the cancel"));
    const MessageListModel &m = *m_alice->chat()->messages();
    const auto confirmedRow = [&m]() -> int {
        for (int r = 0; r < m.confirmedCount(); ++r) {
            if (m.messageAt(r).body == QStringLiteral("after the cancel"))
                return r;
        }
        return -1;
    };
    QTRY_VERIFY_WITH_TIMEOUT(confirmedRow() >= 0, kWaitMs);
    const Message last = m.messageAt(confirmedRow());
    QVERIFY(last.attachments.isEmpty());
}

void TestClientAttachments::filesDroppedOnTheComposer()
{
    // Two files dropped on the composer through Qt's drag-and-drop events (what the platform
    // delivers for a drop from a file manager: enter, move, drop with text/uri-list), and a drag
    // of plain text that is refused: the composer's list holds the two, uploaded.
    QQuickStyle::setStyle(QStringLiteral("Basic"));
    QQmlApplicationEngine engine;
    taskmaster::client::prepareEngine(engine);
    engine.setInitialProperties(
        {{QStringLiteral("connection"), QVariant::fromValue(static_cast<QObject *>(m_alice.get()))}});
    engine.loadData(R"(
        import QtQuick
        import TaskMaster.Net
        import TaskMaster.Chat
        Window {
            id: window
            width: 600
            height: 300
            visible: true
            required property Connection connection
            Composer { objectName: "composer"; anchors.fill: parent; connection: window.connection }
        })");
    QCOMPARE(engine.rootObjects().size(), 1);
    auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
    QVERIFY(window);
    QVERIFY(QTest::qWaitForWindowExposed(window));
    UploadListModel *list = m_alice->attachments()->composerUploads();
    QCOMPARE(list->count(), 0);
    const QPoint at(300, 150);
    const auto dropOnto = [&](QMimeData *mime) {
        QDragEnterEvent enter(at, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(window, &enter);
        QDragMoveEvent move(at, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(window, &move);
        QDropEvent drop(QPointF(at), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(window, &drop);
        return drop.isAccepted();
    };
    QMimeData text;
    text.setText(QStringLiteral("just words"));
    dropOnto(&text);
    QCOMPARE(list->count(), 0); // not files: nothing to upload
    const QByteArray one = pattern(300000);
    const QByteArray two = pattern(1000) + "two";
    QMimeData files;
    files.setUrls(
        {writeFile(QStringLiteral("dropped one.bin"), one), writeFile(QStringLiteral("dropped two.txt"), two)});
    QVERIFY(dropOnto(&files));
    QCOMPARE(list->count(), 2);
    QVERIFY(uploadsDone(*list));
    QCOMPARE(list->rowAt(0).attachment.sha256.toLatin1(), sha256(one));
    QCOMPARE(list->rowAt(1).attachment.sha256.toLatin1(), sha256(two));
    QCOMPARE(list->rowAt(1).attachment.name, QStringLiteral("dropped two.txt"));
    while (list->count() > 0)
        m_alice->attachments()->cancel(list, 0);
}

void TestClientAttachments::taskSavedWithAnUpload()
{
    AttachmentsController *at = m_alice->attachments();
    UploadListModel *list = at->taskUploads();
    const QByteArray spec = "the spec\n";
    at->uploadFiles(list, {writeFile(QStringLiteral("spec.txt"), spec)});
    QVERIFY(uploadsDone(*list));
    QCOMPARE(list->readyIds().size(), 1);
    const qint64 specId = list->readyIds().constFirst().toLongLong();

    ApiClient api(m_server.url());
    const auto project = api.post(QStringLiteral("/api/v1/projects"), {{QStringLiteral("name"), QStringLiteral("p")}},
                                  m_alice->token());
    QCOMPARE(project.status, 201);
    const qint64 projectId = project.id();
    m_alice->board()->openProject(projectId);
    QTRY_COMPARE_WITH_TIMEOUT(m_alice->board()->property("projectId").toLongLong(), projectId, kWaitMs);
    m_alice->board()->createTask({{QStringLiteral("title"), QStringLiteral("with a spec")},
                                  {QStringLiteral("attachmentIds"), list->readyIds()}});
    const auto tasks
        = [&] { return api.get(QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId), m_alice->token()); };
    QTRY_VERIFY_WITH_TIMEOUT(tasks().items().size() == 1, kWaitMs);
    const QJsonObject task = tasks().items().at(0).toObject();
    QCOMPARE(task.value(QLatin1String("attachments")).toArray().size(), 1);
    QCOMPARE(task.value(QLatin1String("attachments")).toArray().at(0).toObject().value(QLatin1String("id")).toInteger(),
             specId);
    const qint64 taskId = task.value(QLatin1String("id")).toInteger();
    QTRY_COMPARE_WITH_TIMEOUT(m_alice->board()->taskInfo(taskId).value(QStringLiteral("attachments")).toList().size(),
                              1, kWaitMs);
    // Taken off again.
    m_alice->board()->updateTask(taskId, {{QStringLiteral("attachmentIds"), QVariantList()}});
    QTRY_VERIFY_WITH_TIMEOUT(m_alice->board()->taskInfo(taskId).value(QStringLiteral("attachments")).toList().isEmpty(),
                             kWaitMs);
}

QTEST_MAIN(TestClientAttachments)
#include "tst_client_attachments.moc"
