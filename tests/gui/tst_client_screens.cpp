// The client's QML against a real taskmaster-server: logging in through the login page, the
// desktop and phone layouts (side by side vs one page at a time), history loaded when the
// bottom-to-top timeline is scrolled to its top (the view's fetchMore, no timer), the board's
// columns fed live, and a screenshot of each main page at desktop and phone sizes, light and
// dark (the room list, a room with its header, the room's member drawer, ...), written to
// TM_SCREENSHOT_DIR (the build tree) as test artifacts, with eli online; then (after the pictures)
// the admin page's cache hit rate after cached reads, a card dragged onto another column of the
// board with the mouse (the task's status changes on the server), and the task editor's assignee
// picked from a user search.
#include "client-qml/app/qml_plugins.h"
#include "client-qml/net/client_setup.h"
#include "client-qml/net/connection.h"
#include "client-qml/net/credential_store.h"
#include "tests/gui/client_test_support.h"
#include "tests/support/api_client.h"
#include "tests/support/server_process.h"

#include <QDir>
#include <QHash>
#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickStyle>
#include <QQuickWindow>
#include <QSet>
#include <QTest>
#include <QTimer>

using taskmaster::client::Connection;
using taskmaster::client::RealtimeSession;
using taskmaster::test::ApiClient;
using taskmaster::test::ServerProcess;
using taskmaster::test::visualItems;

namespace {

constexpr int kWaitMs = 15000;
const QSize kDesktop(1280, 800);
const QSize kPhone(390, 844);

// The visible item under `root` with objectName `name`, or the TaskCard (a "title" and a "taskId")
// of `title` in the column of `status`; nullptr when none. (A view's pooled delegates stay
// visible: the status tells the card in use from an old one.)
QQuickItem *findVisual(QQuickItem *root, const QString &name, const QString &title = {}, const QString &status = {})
{
    const auto all = visualItems(root);
    for (QQuickItem *i : all) {
        if (!i->isVisible())
            continue;
        if (!name.isEmpty() && i->objectName() == name)
            return i;
        if (!title.isEmpty() && i->property("title").toString() == title && i->property("taskId").isValid()
            && i->property("status").toString() == status)
            return i;
    }
    return nullptr;
}

int distinctColours(const QImage &image)
{
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 3) {
        for (int x = 0; x < image.width(); x += 3)
            colours.insert(image.pixel(x, y));
    }
    return int(colours.size());
}

} // namespace

class TestClientScreens final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void loginThroughPage();
    void layouts_data();
    void layouts();
    void historyOnScroll();
    void screenshots_data();
    void screenshots();
    void adminCacheHitRate();
    void dragCardToColumn();
    void assigneePicker();

private:
    template<typename T = QQuickItem> T *item(const char *objectName) const
    {
        return m_window ? m_window->findChild<T *>(QLatin1String(objectName)) : nullptr;
    }
    bool resizeTo(QSize size);
    bool shoot(const QString &name, QSize size, QImage *out = nullptr);
    void setSection(const QString &section);

    ServerProcess m_server;
    QTemporaryDir m_dir;
    taskmaster::test::MemoryKeychain m_keychain; // outlives the engine's Connection
    std::unique_ptr<Connection> m_eli; // online while the pictures are taken
    std::unique_ptr<QQmlApplicationEngine> m_engine;
    QQuickWindow *m_window = nullptr;
    Connection *m_conn = nullptr;
    qint64 m_roomId = 0;
    qint64 m_bigRoomId = 0;
    qint64 m_projectId = 0;
    qint64 m_eliId = 0;
};

void TestClientScreens::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY(QDir().mkpath(QStringLiteral(TM_SCREENSHOT_DIR)));
    QVERIFY2(m_server.start(), qPrintable(m_server.errorText()));

    // Seed: dana (admin, the one logging in), eli and finn; rooms with a conversation, a room
    // with 160 messages; a project with tasks in every column.
    ApiClient api(m_server.url());
    const auto [danaId, dana] = api.registerUser(QStringLiteral("dana"));
    const auto [eliId, eli] = api.registerUser(QStringLiteral("eli"));
    m_eliId = eliId;
    const auto [finnId, finn] = api.registerUser(QStringLiteral("finn"));
    auto post = [&](const QString &path, const QJsonObject &body, const QByteArray &token) {
        const auto r = api.post(path, body, token);
        if (r.status != 201 && r.status != 200)
            qFatal("seed %s: %d %s", qPrintable(path), r.status, r.body.constData());
        return r.json().value(QLatin1String("id")).toInteger();
    };
    m_roomId = post(
        QStringLiteral("/api/v1/rooms"),
        {{QStringLiteral("name"), QStringLiteral("design")}, {QStringLiteral("memberIds"), QJsonArray {eliId, finnId}}},
        dana);
    post(QStringLiteral("/api/v1/rooms"),
         {{QStringLiteral("name"), QStringLiteral("random")}, {QStringLiteral("memberIds"), QJsonArray {danaId}}}, eli);
    m_bigRoomId = post(
        QStringLiteral("/api/v1/rooms"),
        {{QStringLiteral("name"), QStringLiteral("archive")}, {QStringLiteral("memberIds"), QJsonArray {danaId}}},
        finn);
    const QList<std::pair<QByteArray, QString>> talk = {
        {eli, QStringLiteral("Morning! The new board layout is up for review.")},
        {eli, QStringLiteral("Columns by status, filters for assignee and priority.")},
        {finn, QStringLiteral("Looks good. Can cards move with the keyboard?")},
        {dana, QStringLiteral("Yes: Left and Right move a card, Enter edits it.")},
        {finn, QStringLiteral("Great, merging after lunch.")},
    };
    int n = 0;
    for (const auto &[token, body] : talk) {
        post(QStringLiteral("/api/v1/rooms/%1/messages").arg(m_roomId),
             {{QStringLiteral("body"), body}, {QStringLiteral("clientId"), QStringLiteral("seed-%1").arg(++n)}}, token);
    }
    for (int i = 1; i <= 160; ++i) {
        post(QStringLiteral("/api/v1/rooms/%1/messages").arg(m_bigRoomId),
             {{QStringLiteral("body"), QStringLiteral("archived message %1").arg(i)},
              {QStringLiteral("clientId"), QStringLiteral("arch-%1").arg(i)}},
             i % 2 ? finn : dana);
    }
    m_projectId = post(QStringLiteral("/api/v1/projects"),
                       {{QStringLiteral("name"), QStringLiteral("Website relaunch")},
                        {QStringLiteral("description"), QStringLiteral("New site by December")}},
                       dana);
    post(QStringLiteral("/api/v1/projects/%1/members").arg(m_projectId), {{QStringLiteral("userId"), eliId}}, dana);
    const QList<std::tuple<QString, QString, QString, qint64, QString>> tasks = {
        {QStringLiteral("Draft the home page copy"), QStringLiteral("todo"), QStringLiteral("high"), eliId,
         QStringLiteral("2026-11-30")},
        {QStringLiteral("Pick the colour palette"), QStringLiteral("todo"), QStringLiteral("medium"), 0, QString()},
        {QStringLiteral("Set up the staging server"), QStringLiteral("in_progress"), QStringLiteral("urgent"), danaId,
         QStringLiteral("2026-11-20")},
        {QStringLiteral("Review the navigation"), QStringLiteral("review"), QStringLiteral("low"), eliId, QString()},
        {QStringLiteral("Buy the domain"), QStringLiteral("done"), QStringLiteral("high"), danaId, QString()},
    };
    for (const auto &[title, status, priority, assignee, due] : tasks) {
        QJsonObject body {{QStringLiteral("title"), title},
                          {QStringLiteral("status"), status},
                          {QStringLiteral("priority"), priority}};
        if (assignee)
            body.insert(QStringLiteral("assigneeId"), assignee);
        if (!due.isEmpty())
            body.insert(QStringLiteral("dueDate"), due);
        post(QStringLiteral("/api/v1/projects/%1/tasks").arg(m_projectId), body, dana);
    }

    // Eli is online (his own client), so the pictures show presence: the room header's online
    // count, the green dots in the room list and the member drawer.
    m_eli = std::make_unique<Connection>();
    m_eli->setCredentialStore(&m_keychain);
    m_eli->setSettingsFile(m_dir.filePath(QStringLiteral("eli.ini")));
    m_eli->setServerUrl(m_server.url().toString());
    m_eli->login(QStringLiteral("eli"), QStringLiteral("password123"));
    QTRY_VERIFY_WITH_TIMEOUT(m_eli->loggedIn() && m_eli->realtime()->state() == RealtimeSession::Online, kWaitMs);

    QQuickStyle::setStyle(QStringLiteral("Basic"));
    // As the app does: the English catalogue ("2 members", not "2 member(s)").
    QCOMPARE(taskmaster::client::installTranslations(QStringLiteral("en")), QStringLiteral("en"));
    m_engine = std::make_unique<QQmlApplicationEngine>();
    taskmaster::client::prepareEngine(*m_engine);
    m_engine->setInitialProperties(
        {{QStringLiteral("autoRestore"), false}, {QStringLiteral("themeMode"), QStringLiteral("light")}});
    m_engine->load(QUrl(QStringLiteral("qrc:/TaskMaster/App/app/Main.qml")));
    QVERIFY(!m_engine->rootObjects().isEmpty());
    m_window = qobject_cast<QQuickWindow *>(m_engine->rootObjects().constFirst());
    QVERIFY(m_window);
    m_conn = m_window->property("connection").value<Connection *>();
    QVERIFY(m_conn);
    m_conn->setCredentialStore(&m_keychain);
    m_conn->setStoreDirectory(m_dir.filePath(QStringLiteral("store"))); // not the user's AppData
    m_conn->setSettingsFile(m_dir.filePath(QStringLiteral("screens.ini")));
    QVERIFY(resizeTo(kDesktop));
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
}

void TestClientScreens::cleanupTestCase()
{
    m_engine.reset();
    m_eli.reset();
    m_server.stop();
}

bool TestClientScreens::resizeTo(QSize size)
{
    return taskmaster::test::resizeWindow(m_window, size, kWaitMs);
}

bool TestClientScreens::shoot(const QString &name, QSize size, QImage *out)
{
    if (!resizeTo(size))
        return false;
    const QImage image = m_window->grabWindow();
    if (out)
        *out = image;
    return !image.isNull() && image.save(QStringLiteral(TM_SCREENSHOT_DIR "/%1.png").arg(name), "PNG");
}

void TestClientScreens::setSection(const QString &section)
{
    QObject *shell = m_window->property("shell").value<QObject *>();
    QVERIFY(shell);
    shell->setProperty("section", section);
}

void TestClientScreens::loginThroughPage()
{
    QQuickItem *login = item("loginPage");
    QVERIFY(login);
    QVERIFY(login->isVisible());
    QImage image;
    QVERIFY(shoot(QStringLiteral("login-desktop"), kDesktop, &image));
    QVERIFY(shoot(QStringLiteral("login-phone"), kPhone));

    item("serverField")->setProperty("text", m_server.url().toString());
    item("usernameField")->setProperty("text", QStringLiteral("dana"));
    item("passwordField")->setProperty("text", QStringLiteral("wrong-password"));
    QVERIFY(QMetaObject::invokeMethod(login, "submit"));
    QTRY_COMPARE_WITH_TIMEOUT(item("loginError")->property("text").toString(),
                              QStringLiteral("Wrong username or password."), kWaitMs);
    QVERIFY(item("loginError")->isVisible());

    item("passwordField")->setProperty("text", QStringLiteral("password123"));
    QVERIFY(QMetaObject::invokeMethod(login, "submit"));
    QTRY_VERIFY_WITH_TIMEOUT(m_conn->loggedIn(), kWaitMs);
    QCOMPARE(m_conn->serverUrl(), m_server.url().toString());
    QTRY_COMPARE_WITH_TIMEOUT(m_conn->realtime()->state(), RealtimeSession::Online, kWaitMs);
    QVERIFY(!login->isVisible());
    QTRY_COMPARE_WITH_TIMEOUT(item("roomList")->property("count").toInt(), 3, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(item("projectList")->property("count").toInt(), 1, kWaitMs);
    QCOMPARE(item("connectionState")->property("text").toString(), QStringLiteral("Online"));
}

void TestClientScreens::layouts_data()
{
    QTest::addColumn<QSize>("size");
    QTest::addColumn<bool>("listWithRoom"); // rooms list still shown with a room open
    QTest::newRow("desktop") << kDesktop << true;
    QTest::newRow("phone") << kPhone << false;
    // The small and the large common Android phones (docs/mobile.md).
    QTest::newRow("phone 360x800") << QSize(360, 800) << false;
    QTest::newRow("phone 412x915") << QSize(412, 915) << false;
}

void TestClientScreens::layouts()
{
    QFETCH(QSize, size);
    QFETCH(bool, listWithRoom);
    QVERIFY(m_conn->loggedIn());
    setSection(QStringLiteral("chat"));
    QVERIFY(resizeTo(size));
    m_conn->chat()->closeRoom();
    QObject *shell = m_window->property("shell").value<QObject *>();
    const QByteArray where = "shell width " + shell->property("width").toByteArray() + ", phone "
        + shell->property("phone").toByteArray() + ", window width " + QByteArray::number(m_window->width());
    QVERIFY2(item("roomsPage")->isVisible(), where.constData());
    QVERIFY2(item("roomPage")->isVisible() == listWithRoom, where.constData());
    m_conn->chat()->openRoom(m_roomId);
    QTRY_COMPARE_WITH_TIMEOUT(item("timeline")->property("count").toInt(), 5, kWaitMs);
    QCOMPARE(item("roomsPage")->isVisible(), listWithRoom);
    QVERIFY(item("roomPage")->isVisible());
    // Nothing wider than the window: the room (header, timeline, composer) fits across.
    QVERIFY2(item("roomPage")->width() <= size.width() && item("timeline")->width() <= size.width(),
             qPrintable(QStringLiteral("room %1, timeline %2 in %3")
                            .arg(item("roomPage")->width())
                            .arg(item("timeline")->width())
                            .arg(size.width())));
    m_conn->chat()->closeRoom();
}

void TestClientScreens::historyOnScroll()
{
    setSection(QStringLiteral("chat"));
    QVERIFY(resizeTo(kDesktop));
    m_conn->chat()->openRoom(m_bigRoomId);
    QQuickItem *timeline = item("timeline");
    QTRY_COMPARE_WITH_TIMEOUT(m_conn->chat()->messages()->count(), 50, kWaitMs);
    // Nothing more is loaded while the view stays at the latest messages.
    QTRY_VERIFY_WITH_TIMEOUT(!m_conn->chat()->messages()->fetchingOlder(), kWaitMs);
    QCOMPARE(m_conn->chat()->messages()->count(), 50);
    QVERIFY(timeline->property("atLatest").toBool());
    // Scrolling to the top (the end of a bottom-to-top view) creates the oldest row's delegate,
    // and the delegate model asks for more: page after page until the room's start.
    QDeadlineTimer deadline(60000);
    while (m_conn->chat()->messages()->hasMoreHistory() && !deadline.hasExpired()) {
        QMetaObject::invokeMethod(timeline, "positionViewAtEnd");
        QTest::qWait(20);
    }
    QTRY_COMPARE_WITH_TIMEOUT(m_conn->chat()->messages()->count(), 160, kWaitMs);
    QVERIFY(!m_conn->chat()->messages()->hasMoreHistory());
    QCOMPARE(m_conn->chat()->messages()->messageAt(0).body, QStringLiteral("archived message 1"));
    QVERIFY(!timeline->property("atLatest").toBool());
    // Jump to latest.
    QVERIFY(item("jumpToLatest")->isVisible());
    QMetaObject::invokeMethod(timeline, "positionViewAtBeginning");
    QTRY_VERIFY_WITH_TIMEOUT(timeline->property("atLatest").toBool(), kWaitMs);
    m_conn->chat()->closeRoom();
}

void TestClientScreens::screenshots_data()
{
    QTest::addColumn<QString>("section");
    QTest::addColumn<bool>("open"); // a room / project open
    QTest::addColumn<QString>("theme");
    QTest::addColumn<bool>("members"); // the open room's member drawer open
    for (const auto &[name, size] :
         {std::pair {QStringLiteral("desktop"), kDesktop}, std::pair {QStringLiteral("phone"), kPhone}}) {
        Q_UNUSED(size);
        QTest::addRow("chat-list-%s", qPrintable(name)) << "chat" << false << "light" << false;
        QTest::addRow("chat-list-dark-%s", qPrintable(name)) << "chat" << false << "dark" << false;
        QTest::addRow("chat-room-%s", qPrintable(name)) << "chat" << true << "light" << false;
        QTest::addRow("chat-room-dark-%s", qPrintable(name)) << "chat" << true << "dark" << false;
        QTest::addRow("chat-members-%s", qPrintable(name)) << "chat" << true << "light" << true;
        QTest::addRow("chat-members-dark-%s", qPrintable(name)) << "chat" << true << "dark" << true;
        QTest::addRow("board-%s", qPrintable(name)) << "projects" << true << "light" << false;
        QTest::addRow("board-dark-%s", qPrintable(name)) << "projects" << true << "dark" << false;
        QTest::addRow("search-%s", qPrintable(name)) << "search" << false << "light" << false;
        QTest::addRow("admin-%s", qPrintable(name)) << "admin" << false << "light" << false;
    }
}

void TestClientScreens::screenshots()
{
    QFETCH(QString, section);
    QFETCH(bool, open);
    QFETCH(QString, theme);
    QFETCH(bool, members);
    const QString name = QString::fromLatin1(QTest::currentDataTag());
    const QSize size = name.endsWith(QLatin1String("phone")) ? kPhone : kDesktop;
    QVERIFY(m_conn->loggedIn());
    m_window->setProperty("themeMode", theme);
    // Names (loaded on first use) and the rest of the data in place before the picture.
    QVERIFY(taskmaster::test::openSection(m_window, *m_conn, section, open ? m_roomId : 0, open ? m_projectId : 0,
                                          QStringLiteral("board"), kWaitMs));
    if (section == QLatin1String("chat") && open) {
        QTRY_COMPARE_WITH_TIMEOUT(item("timeline")->property("count").toInt(), 5, kWaitMs);
        // The header: dana (connected) and eli online of three.
        QTRY_COMPARE_WITH_TIMEOUT(item("roomHeader")->property("subtitle").toString(),
                                  QCoreApplication::translate("RoomHeader", "%n member(s)", nullptr, 3)
                                      + QCoreApplication::translate("RoomHeader", ", %n online", nullptr, 2),
                                  kWaitMs);
    } else if (section == QLatin1String("projects") && open) {
        QTRY_COMPARE_WITH_TIMEOUT(m_conn->board()->tasks()->totalCount(), 5, kWaitMs);
    }
    QObject *drawer = item<QObject>("membersDrawer");
    if (members) {
        QVERIFY(resizeTo(size)); // the drawer takes its size from the window's
        QVERIFY(QMetaObject::invokeMethod(item("roomHeader"), "openMembers"));
        QTRY_VERIFY_WITH_TIMEOUT(drawer->property("opened").toBool(), kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(findVisual(m_window->contentItem(), QStringLiteral("memberRow")), kWaitMs);
    }
    QImage image;
    QVERIFY(shoot(name, size, &image));
    if (members) {
        QVERIFY(QMetaObject::invokeMethod(drawer, "close"));
        QTRY_VERIFY_WITH_TIMEOUT(!drawer->property("visible").toBool(), kWaitMs);
    }
    QCOMPARE(image.size(), size * m_window->devicePixelRatio());
    QVERIFY2(distinctColours(image) > 8, "screenshot has no content");
    // Dark pages are dark: the top-left pixel (a background) is darker than mid-grey.
    const bool dark = QColor(image.pixel(2, image.height() / 2)).lightness() < 128;
    QCOMPARE(dark, theme == QLatin1String("dark"));
    m_window->setProperty("themeMode", QStringLiteral("light"));
}

void TestClientScreens::adminCacheHitRate()
{
    QVERIFY(m_conn->loggedIn() && m_conn->isAdmin());
    QVERIFY(resizeTo(kDesktop));
    // Reads the REST cache serves: the same user twice (the second from the cache).
    ApiClient api(m_server.url());
    const QString userPath = QStringLiteral("/api/v1/users/%1").arg(m_conn->userId());
    QCOMPARE(api.get(userPath, m_conn->token()).status, 200);
    const auto again = api.get(userPath, m_conn->token());
    QCOMPARE(again.status, 200);
    QCOMPARE(again.header("X-Cache"), QByteArray("HIT"));

    setSection(QStringLiteral("admin"));
    QQuickItem *card = item("cacheHitRate");
    QVERIFY(card);
    QVERIFY(card->isVisible());
    // The page polls the stats: the card shows the rate since start, and its chart has samples.
    QTRY_VERIFY_WITH_TIMEOUT(card->property("value").toString().endsWith(QLatin1String(" %")), kWaitMs);
    const QString value = card->property("value").toString();
    bool ok = false;
    const double percent = value.chopped(2).toDouble(&ok);
    QVERIFY2(ok && percent > 0 && percent <= 100, qPrintable(value));
    QVERIFY(card->property("detail").toString().contains(QLatin1String("hits")));
    QTRY_VERIFY_WITH_TIMEOUT(card->property("series").toList().size() >= 2, kWaitMs);
    for (const QVariant &v : card->property("series").toList())
        QVERIFY(v.toDouble() >= 0 && v.toDouble() <= 100);
    QImage image;
    QVERIFY(shoot(QStringLiteral("admin-cache-desktop"), kDesktop, &image));
}

void TestClientScreens::dragCardToColumn()
{
    setSection(QStringLiteral("projects"));
    QVERIFY(resizeTo(kDesktop));
    m_conn->board()->openProject(m_projectId);
    QTRY_COMPARE_WITH_TIMEOUT(m_conn->board()->tasks()->totalCount(), 5, kWaitMs);
    // The card of a task in "To do" and the "Review" column.
    const QString title = QStringLiteral("Pick the colour palette");
    const QString todo = QStringLiteral("todo");
    const QString inReview = QStringLiteral("review");
    QTRY_VERIFY_WITH_TIMEOUT(findVisual(m_window->contentItem(), {}, title, todo), kWaitMs);
    QQuickItem *card = findVisual(m_window->contentItem(), {}, title, todo);
    const qint64 taskId = card->property("taskId").toLongLong();
    // (After the phone-sized pictures the board lays its columns out again for the desktop.)
    QTRY_VERIFY_WITH_TIMEOUT(findVisual(m_window->contentItem(), QStringLiteral("dropArea_review")), kWaitMs);
    QQuickItem *review = findVisual(m_window->contentItem(), QStringLiteral("dropArea_review"));

    // Press on the card, move over the column in steps (the drag starts past its threshold, the
    // drop area sees it enter), release: the card's copy is dropped there.
    const QPoint from = card->mapToScene(card->boundingRect().center()).toPoint();
    const QPoint to = review->mapToScene(review->boundingRect().center()).toPoint();
    QTest::mousePress(m_window, Qt::LeftButton, {}, from);
    constexpr int kSteps = 12;
    for (int i = 1; i <= kSteps; ++i) {
        QTest::mouseMove(m_window, from + (to - from) * i / kSteps);
        QCoreApplication::processEvents(); // the drag's move events are posted
    }
    QTRY_VERIFY_WITH_TIMEOUT(review->property("containsDrag").toBool(), kWaitMs);
    QVERIFY(item("dragGhost")->isVisible());
    QTest::mouseRelease(m_window, Qt::LeftButton, {}, to);
    QTRY_VERIFY_WITH_TIMEOUT(!item("dragGhost")->isVisible(), kWaitMs);

    // The move went through the connection (If-Match PATCH) to the server.
    ApiClient api(m_server.url());
    const QString taskPath = QStringLiteral("/api/v1/tasks/%1").arg(taskId);
    QTRY_COMPARE_WITH_TIMEOUT(api.get(taskPath, m_conn->token()).json().value(QLatin1String("status")).toString(),
                              QStringLiteral("review"), kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(m_conn->board()->taskInfo(taskId).value(QStringLiteral("status")).toString(),
                              QStringLiteral("review"), kWaitMs);
    QCOMPARE(m_conn->board()->taskInfo(taskId).value(QStringLiteral("version")).toLongLong(), 2);

    // Dropped on its own column (or nowhere): nothing changes.
    QTRY_VERIFY_WITH_TIMEOUT(findVisual(m_window->contentItem(), {}, title, inReview), kWaitMs);
    QQuickItem *moved = findVisual(m_window->contentItem(), {}, title, inReview);
    QVERIFY(review->mapRectToScene(review->boundingRect()).contains(moved->mapToScene(QPointF(1, 1))));
    const QPoint at = moved->mapToScene(moved->boundingRect().center()).toPoint();
    QTest::mousePress(m_window, Qt::LeftButton, {}, at);
    for (int i = 1; i <= kSteps; ++i) {
        QTest::mouseMove(m_window, at + QPoint(0, 3 * i));
        QCoreApplication::processEvents();
    }
    QTRY_VERIFY_WITH_TIMEOUT(item("dragGhost")->isVisible(), kWaitMs);
    QTest::mouseRelease(m_window, Qt::LeftButton, {}, at + QPoint(0, 3 * kSteps));
    QTRY_VERIFY_WITH_TIMEOUT(!item("dragGhost")->isVisible(), kWaitMs);
    QCOMPARE(api.get(taskPath, m_conn->token()).json().value(QLatin1String("version")).toInteger(), 2);
    QCOMPARE(m_conn->board()->taskInfo(taskId).value(QStringLiteral("status")).toString(), QStringLiteral("review"));
}

void TestClientScreens::assigneePicker()
{
    // The task editor's assignee field: typing searches the users (the directory's matches, a
    // list model), a match clicked becomes the assignee.
    setSection(QStringLiteral("projects"));
    QVERIFY(resizeTo(kDesktop));
    m_conn->board()->openProject(m_projectId);
    QObject *editor = m_window->findChild<QObject *>(QStringLiteral("taskEditor"));
    QVERIFY(editor);
    QVERIFY(QMetaObject::invokeMethod(editor, "openFor", Q_ARG(QVariant, QVariant(0))));
    QTRY_VERIFY_WITH_TIMEOUT(editor->property("opened").toBool(), kWaitMs);
    auto *field = m_window->findChild<QQuickItem *>(QStringLiteral("assigneeField"));
    QVERIFY(field);
    field->forceActiveFocus();
    QTRY_VERIFY_WITH_TIMEOUT(field->hasActiveFocus(), kWaitMs);
    QTest::keyClick(m_window, 'e');
    QTest::keyClick(m_window, 'l');
    QCOMPARE(field->property("text").toString(), QStringLiteral("el"));
    auto match = [&]() -> QQuickItem * {
        const auto all = visualItems(m_window->contentItem());
        for (QQuickItem *i : all) {
            if (i->isVisible() && i->property("text").toString() == QStringLiteral("eli (@eli)"))
                return i;
        }
        return nullptr;
    };
    QTRY_VERIFY_WITH_TIMEOUT(match() && match()->width() > 0, kWaitMs);
    QQuickItem *eli = match();
    QTest::mouseClick(m_window, Qt::LeftButton, {}, eli->mapToScene(eli->boundingRect().center()).toPoint());
    QTRY_COMPARE_WITH_TIMEOUT(editor->property("assigneeId").toLongLong(), m_eliId, kWaitMs);
    QCOMPARE(field->property("text").toString(), QStringLiteral("eli"));
    QVERIFY(QMetaObject::invokeMethod(editor, "close"));
}

QTEST_MAIN(TestClientScreens)
#include "tst_client_screens.moc"
