// Accessibility and keyboard use of the QML client against a real taskmaster-server.
// Every main page (login, rooms, a room with attachments, projects and board, task editor, search,
// admin, the dialogs and the shortcuts sheet, desktop and phone) is walked item by item: each
// visible interactive item (buttons, delegates, text fields, combo boxes, anything focusable by Tab
// or clickable through a MouseArea or TapHandler) must have an accessible name with a letter in it
// (a "+" or "✕" alone says nothing to a screen reader), and images and avatars must be named or
// marked ignored. Then the keyboard: logging in with Tab and Enter, Alt+1..9 and Alt+Up/Down
// switching rooms, Ctrl+N and Tab reaching the composer (Tab and Space sending, Up editing the last
// message in place), deleting a message without the mouse (Shift+F10 while editing it, or Tab
// to the messages and Delete or the Menu key; the confirmation; the tombstone on the server),
// Ctrl+/ and F1 opening the shortcuts sheet
// (one row per entry of AppShell's list), Escape closing dialogs; and the English plurals
// ("1 member", "2 members") in the room list.
#include "client-qml/app/qml_plugins.h"
#include "client-qml/controllers/attachments_controller.h"
#include "client-qml/net/client_setup.h"
#include "client-qml/net/connection.h"
#include "client-qml/net/credential_store.h"
#include "shared/models/message_list_model.h"
#include "shared/models/room_list_model.h"
#include "tests/gui/client_test_support.h"
#include "tests/support/api_client.h"
#include "tests/support/server_process.h"

#include <QAccessible>
#include <QDir>
#include <QHash>
#include <QImage>
#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickStyle>
#include <QQuickWindow>
#include <QTest>
#include <QTimer>

using taskmaster::client::Connection;
using taskmaster::client::RealtimeSession;
using taskmaster::client::UploadListModel;
using taskmaster::test::ApiClient;
using taskmaster::test::ServerProcess;
using taskmaster::test::visualItems;

namespace {

constexpr int kWaitMs = 15000;
const QSize kDesktop(1280, 800);
const QSize kPhone(390, 844);

// The Accessible attached object of an item, when QML made one.
QObject *accessibleAttached(const QQuickItem *item)
{
    const auto children = item->children();
    for (QObject *child : children) {
        if (child->inherits("QQuickAccessibleAttached"))
            return child;
    }
    return nullptr;
}

bool hasEnabledChild(const QQuickItem *item, const char *className)
{
    const auto children = item->children();
    for (QObject *child : children) {
        if (!child->inherits(className) || !child->property("enabled").toBool())
            continue;
        if (auto *childItem = qobject_cast<QQuickItem *>(child); childItem && !childItem->isVisible())
            continue;
        // A MouseArea for the right button only (a context menu) is not the item's action.
        if (child->inherits("QQuickMouseArea") && !(child->property("acceptedButtons").toInt() & Qt::LeftButton))
            continue;
        return true;
    }
    return false;
}

// What a user can press, type into or focus.
bool isInteractive(QQuickItem *item)
{
    // A combo box's text field is its own part (the combo box is named).
    if (item->parentItem() && item->parentItem()->inherits("QQuickComboBox"))
        return false;
    return item->inherits("QQuickAbstractButton") || item->inherits("QQuickTextInput")
        || item->inherits("QQuickTextEdit") || item->inherits("QQuickComboBox") || item->inherits("QQuickSpinBox")
        || item->inherits("QQuickSlider") || item->activeFocusOnTab() || hasEnabledChild(item, "QQuickMouseArea")
        || hasEnabledChild(item, "QQuickTapHandler");
}

// Pictures: Images with something to show, and the client's avatars.
bool isPicture(QQuickItem *item)
{
    // A control's indicator (a combo box's arrow): the control is named.
    if (item->parentItem() && item->parentItem()->inherits("QQuickControl"))
        return false;
    if (item->inherits("QQuickImage"))
        return !item->property("source").toUrl().isEmpty();
    return QByteArray(item->metaObject()->className()).startsWith("Avatar_QMLTYPE");
}

QString accessibleName(QQuickItem *item)
{
    QAccessibleInterface *iface = QAccessible::queryAccessibleInterface(item);
    QString name = iface ? iface->text(QAccessible::Name) : QString();
    // A button without a name of its own is named by its text once a screen reader makes
    // accessibility active (QQuickAbstractButton); the offscreen platform has no screen reader
    // bridge, so QAccessible stays inactive here and the walk applies that rule itself.
    if (name.isEmpty() && !QAccessible::isActive() && item->inherits("QQuickAbstractButton"))
        name = item->property("text").toString();
    // Qt 6.4 hides the name of a password field (it once carried the text): its description says
    // what it is.
    if (name.isEmpty()) {
        const int echoMode = item->property("echoMode").toInt(); // TextInput.Password, PasswordEchoOnEdit
        if (const QObject *attached = accessibleAttached(item); attached && (echoMode == 2 || echoMode == 3))
            name = attached->property("description").toString();
    }
    return name;
}

bool ignored(QQuickItem *item)
{
    const QObject *attached = accessibleAttached(item);
    return attached && attached->property("ignored").toBool();
}

bool saysSomething(const QString &name)
{
    return std::any_of(name.cbegin(), name.cend(), [](QChar c) { return c.isLetter(); });
}

QString describe(QQuickItem *item)
{
    QStringList path;
    for (QQuickItem *i = item; i; i = i->parentItem()) {
        if (!i->objectName().isEmpty())
            path.prepend(i->objectName());
    }
    return QStringLiteral("%1 \"%2\" text \"%3\" in %4")
        .arg(QString::fromLatin1(item->metaObject()->className()), item->objectName(),
             item->property("text").toString(), path.join(QLatin1Char('/')));
}

// The visible items under `root` that fail the rules above, described; `checked` counts the
// interactive items and pictures looked at.
QStringList unnamedItems(QQuickItem *root, int *checked = nullptr)
{
    QStringList failures;
    int count = 0;
    const auto all = visualItems(root);
    for (QQuickItem *i : all) {
        if (!i->isVisible() || i->opacity() <= 0)
            continue;
        if (isInteractive(i) || isPicture(i))
            ++count;
        if (isInteractive(i)) {
            if (ignored(i))
                failures << QStringLiteral("ignored but interactive: ") + describe(i);
            else if (!saysSomething(accessibleName(i)))
                failures << QStringLiteral("no name (\"%1\"): ").arg(accessibleName(i)) + describe(i);
        } else if (isPicture(i) && !ignored(i) && !saysSomething(accessibleName(i))) {
            failures << QStringLiteral("picture without a name: ") + describe(i);
        }
    }
    if (checked)
        *checked = count;
    return failures;
}

} // namespace

class TestClientAccessibility final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void loginPageNamed();
    void loginWithKeyboard();
    void pagesNamed_data();
    void pagesNamed();
    void dialogsNamed_data();
    void dialogsNamed();
    void pluralsInRoomList();
    void roomSwitcher();
    void composerByKeyboard();
    void deleteByKeyboard();
    void shortcutsSheet();

private:
    template<typename T = QQuickItem> T *item(const char *objectName) const
    {
        return m_window ? m_window->findChild<T *>(QLatin1String(objectName)) : nullptr;
    }
    QQuickItem *visualItem(const QString &objectName) const;
    bool resizeTo(QSize size);
    void setSection(const QString &section);
    QString section() const;
    qint64 roomAtRow(int row) const;
    QUrl writeFile(const QString &name, const QByteArray &bytes);
    bool uploadsDone(const UploadListModel &list);

    ServerProcess m_server;
    QTemporaryDir m_dir;
    taskmaster::test::MemoryKeychain m_keychain;
    std::unique_ptr<QQmlApplicationEngine> m_engine;
    QQuickWindow *m_window = nullptr;
    Connection *m_conn = nullptr;
    QByteArray m_danaToken;
    qint64 m_roomId = 0;
    qint64 m_projectId = 0;
    qint64 m_taskId = 0;
};

void TestClientAccessibility::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY2(m_server.start(), qPrintable(m_server.errorText()));
    QCOMPARE(taskmaster::client::installTranslations(QStringLiteral("en")), QStringLiteral("en"));

    // dana (admin, the one logging in) and eli; "design" with a conversation, "pair" (dana and
    // eli, no messages) and "solo" (dana alone, no messages); a project with tasks.
    ApiClient api(m_server.url());
    const auto [danaId, dana] = api.registerUser(QStringLiteral("dana"));
    const auto [eliId, eli] = api.registerUser(QStringLiteral("eli"));
    m_danaToken = dana;
    auto post = [&](const QString &path, const QJsonObject &body, const QByteArray &token) {
        const auto r = api.post(path, body, token);
        if (r.status != 201 && r.status != 200)
            qFatal("seed %s: %d %s", qPrintable(path), r.status, r.body.constData());
        return r.json().value(QLatin1String("id")).toInteger();
    };
    m_roomId = post(
        QStringLiteral("/api/v1/rooms"),
        {{QStringLiteral("name"), QStringLiteral("design")}, {QStringLiteral("memberIds"), QJsonArray {eliId}}}, dana);
    post(QStringLiteral("/api/v1/rooms"),
         {{QStringLiteral("name"), QStringLiteral("pair")}, {QStringLiteral("memberIds"), QJsonArray {eliId}}}, dana);
    post(QStringLiteral("/api/v1/rooms"),
         {{QStringLiteral("name"), QStringLiteral("solo")}, {QStringLiteral("memberIds"), QJsonArray {}}}, dana);
    int n = 0;
    for (const auto &[token, body] : {std::pair {eli, QStringLiteral("The board is up for review, @dana.")},
                                      std::pair {dana, QStringLiteral("Thanks, looking now.")}}) {
        post(QStringLiteral("/api/v1/rooms/%1/messages").arg(m_roomId),
             {{QStringLiteral("body"), body}, {QStringLiteral("clientId"), QStringLiteral("seed-%1").arg(++n)}}, token);
    }
    m_projectId = post(QStringLiteral("/api/v1/projects"),
                       {{QStringLiteral("name"), QStringLiteral("Website relaunch")},
                        {QStringLiteral("description"), QStringLiteral("New site by December")}},
                       dana);
    post(QStringLiteral("/api/v1/projects/%1/members").arg(m_projectId), {{QStringLiteral("userId"), eliId}}, dana);
    m_taskId = post(QStringLiteral("/api/v1/projects/%1/tasks").arg(m_projectId),
                    {{QStringLiteral("title"), QStringLiteral("Draft the home page copy")},
                     {QStringLiteral("priority"), QStringLiteral("high")},
                     {QStringLiteral("assigneeId"), eliId},
                     {QStringLiteral("dueDate"), QStringLiteral("2026-11-30")}},
                    dana);
    post(QStringLiteral("/api/v1/projects/%1/tasks").arg(m_projectId),
         {{QStringLiteral("title"), QStringLiteral("Buy the domain")},
          {QStringLiteral("status"), QStringLiteral("done")}},
         dana);

    QQuickStyle::setStyle(QStringLiteral("Basic"));
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
    m_conn->setStoreDirectory(m_dir.filePath(QStringLiteral("store")));
    m_conn->setSettingsFile(m_dir.filePath(QStringLiteral("a11y.ini")));
    m_conn->attachments()->setDownloadDir(m_dir.filePath(QStringLiteral("downloads")));
    QVERIFY(resizeTo(kDesktop));
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
    // Shortcuts go to the focused window.
    m_window->requestActivate();
    QVERIFY(QTest::qWaitForWindowActive(m_window));
}

void TestClientAccessibility::cleanupTestCase()
{
    m_engine.reset();
    m_server.stop();
}

QQuickItem *TestClientAccessibility::visualItem(const QString &objectName) const
{
    const auto all = visualItems(m_window->contentItem());
    for (QQuickItem *i : all) {
        if (i->isVisible() && i->objectName() == objectName)
            return i;
    }
    return nullptr;
}

bool TestClientAccessibility::resizeTo(QSize size)
{
    return taskmaster::test::resizeWindow(m_window, size, kWaitMs);
}

void TestClientAccessibility::setSection(const QString &section)
{
    QObject *shell = m_window->property("shell").value<QObject *>();
    QVERIFY(shell);
    shell->setProperty("section", section);
}

QString TestClientAccessibility::section() const
{
    return m_window->property("shell").value<QObject *>()->property("section").toString();
}

qint64 TestClientAccessibility::roomAtRow(int row) const
{
    const auto *rooms = m_conn->rooms()->model();
    return rooms->data(rooms->index(row), taskmaster::RoomListModel::IdRole).toLongLong();
}

QUrl TestClientAccessibility::writeFile(const QString &name, const QByteArray &bytes)
{
    QFile f(m_dir.filePath(name));
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
        qFatal("cannot write %s", qPrintable(f.fileName()));
    return QUrl::fromLocalFile(f.fileName());
}

bool TestClientAccessibility::uploadsDone(const UploadListModel &list)
{
    QDeadlineTimer deadline(kWaitMs);
    while (list.busy() && !deadline.hasExpired())
        QTest::qWait(10);
    return !list.busy();
}

void TestClientAccessibility::loginPageNamed()
{
    QQuickItem *login = item("loginPage");
    QVERIFY(login && login->isVisible());
    QStringList failures = unnamedItems(m_window->contentItem());
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QLatin1Char('\n'))));
    // The account form too (the display name field).
    login->setProperty("registering", true);
    failures = unnamedItems(m_window->contentItem());
    login->setProperty("registering", false);
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QLatin1Char('\n'))));
    QCOMPARE(accessibleName(item("serverField")), QStringLiteral("Server address"));

    QCOMPARE(accessibleName(item("passwordField")), QStringLiteral("Password"));
}

void TestClientAccessibility::loginWithKeyboard()
{
    // Tab from nothing focused reaches the server field first; then username, password, Enter.
    QQuickItem *server = item("serverField");
    QTest::keyClick(m_window, Qt::Key_Tab);
    QVERIFY2(server->hasActiveFocus(), qPrintable(QDebug::toString(m_window->activeFocusItem())));
    QTest::keyClick(m_window, Qt::Key_A, Qt::ControlModifier);
    taskmaster::test::typeText(m_window, m_server.url().toString());
    QTest::keyClick(m_window, Qt::Key_Tab);
    QVERIFY(item("usernameField")->hasActiveFocus());
    taskmaster::test::typeText(m_window, QStringLiteral("dana"));
    QTest::keyClick(m_window, Qt::Key_Tab); // the display name field is hidden when logging in
    QVERIFY(item("passwordField")->hasActiveFocus());
    taskmaster::test::typeText(m_window, QStringLiteral("password123"));
    QTest::keyClick(m_window, Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(m_conn->loggedIn(), kWaitMs);
    QCOMPARE(m_conn->serverUrl(), m_server.url().toString());
    QTRY_COMPARE_WITH_TIMEOUT(m_conn->realtime()->state(), RealtimeSession::Online, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(item("roomList")->property("count").toInt(), 3, kWaitMs);
}

void TestClientAccessibility::pagesNamed_data()
{
    QTest::addColumn<QString>("section");
    QTest::addColumn<bool>("open"); // a room / project open
    QTest::addColumn<QSize>("size");
    for (const auto &[name, size] :
         {std::pair {QByteArray("desktop"), kDesktop}, std::pair {QByteArray("phone"), kPhone}}) {
        QTest::addRow("rooms-%s", name.constData()) << "chat" << false << size;
        QTest::addRow("room-%s", name.constData()) << "chat" << true << size;
        QTest::addRow("projects-%s", name.constData()) << "projects" << false << size;
        QTest::addRow("board-%s", name.constData()) << "projects" << true << size;
        QTest::addRow("search-%s", name.constData()) << "search" << false << size;
        QTest::addRow("admin-%s", name.constData()) << "admin" << false << size;
    }
}

void TestClientAccessibility::pagesNamed()
{
    QFETCH(QString, section);
    QFETCH(bool, open);
    QFETCH(QSize, size);
    QVERIFY(m_conn->loggedIn());
    QVERIFY(resizeTo(size));
    QVERIFY(taskmaster::test::openSection(m_window, *m_conn, section, open ? m_roomId : 0, open ? m_projectId : 0,
                                          QStringLiteral("board"), kWaitMs));
    if (section == QLatin1String("chat")) {
        if (open) {
            QTRY_VERIFY_WITH_TIMEOUT(m_conn->chat()->messages()->count() >= 2, kWaitMs);
            static bool attached = false;
            if (!attached) {
                // A message with a file and an image (a chip and a thumbnail in the timeline),
                // and a file waiting in the composer (its chip with a cancel button).
                auto *at = m_conn->attachments();
                UploadListModel *list = at->composerUploads();
                QImage image(320, 200, QImage::Format_RGB32);
                image.fill(QColor(30, 120, 200));
                QVERIFY(image.save(m_dir.filePath(QStringLiteral("mock-up.png")), "PNG"));
                at->uploadFiles(list,
                                {writeFile(QStringLiteral("notes.txt"), "some notes\n"),
                                 QUrl::fromLocalFile(m_dir.filePath(QStringLiteral("mock-up.png")))});
                QVERIFY(uploadsDone(*list));
                QVERIFY(at->sendToOpenRoom(QStringLiteral("two files")));
                at->uploadFiles(list, {writeFile(QStringLiteral("later.txt"), "later\n")});
                QVERIFY(uploadsDone(*list));
                attached = true;
            }
            QTRY_VERIFY_WITH_TIMEOUT(visualItem(QStringLiteral("attachmentChip")), kWaitMs);
            QTRY_VERIFY_WITH_TIMEOUT(visualItem(QStringLiteral("attachmentThumbnail")), kWaitMs);
        }
    } else if (section == QLatin1String("projects") && open) {
        QTRY_COMPARE_WITH_TIMEOUT(m_conn->board()->tasks()->totalCount(), 2, kWaitMs);
    }
    int checked = 0;
    const QStringList failures = unnamedItems(m_window->contentItem(), &checked);
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QLatin1Char('\n'))));
    QVERIFY2(checked >= 3, qPrintable(QString::number(checked))); // the walk saw the page's controls
}

void TestClientAccessibility::dialogsNamed_data()
{
    QTest::addColumn<QString>("section");
    QTest::addColumn<QString>("dialog");
    QTest::addRow("new room") << "chat"
                              << "newRoomDialog";
    QTest::addRow("new direct message") << "chat"
                                        << "newDirectDialog";
    QTest::addRow("new project") << "projects"
                                 << "newProjectDialog";
    QTest::addRow("task editor") << "projects"
                                 << "taskEditor";
    QTest::addRow("shortcuts") << "chat"
                               << "shortcutsSheet";
}

void TestClientAccessibility::dialogsNamed()
{
    QFETCH(QString, section);
    QFETCH(QString, dialog);
    QVERIFY(resizeTo(kDesktop));
    setSection(section);
    m_conn->board()->openProject(m_projectId);
    auto *popup = m_window->findChild<QObject *>(dialog);
    QVERIFY(popup);
    if (dialog == QLatin1String("taskEditor"))
        QVERIFY(QMetaObject::invokeMethod(popup, "openFor", Q_ARG(QVariant, QVariant(m_taskId))));
    else
        QVERIFY(QMetaObject::invokeMethod(popup, "open"));
    QTRY_VERIFY_WITH_TIMEOUT(popup->property("opened").toBool(), kWaitMs);
    if (dialog == QLatin1String("newDirectDialog")) {
        // With candidates listed.
        auto *field = m_window->findChild<QQuickItem *>(QStringLiteral("directSearchField"));
        field->forceActiveFocus();
        taskmaster::test::typeText(m_window, QStringLiteral("el"));
        QTRY_VERIFY_WITH_TIMEOUT(visualItem(QStringLiteral("directCandidate")), kWaitMs);
    }
    const QStringList failures = unnamedItems(m_window->contentItem());
    // Escape closes every dialog.
    QTest::keyClick(m_window, Qt::Key_Escape);
    QTRY_VERIFY_WITH_TIMEOUT(!popup->property("visible").toBool(), kWaitMs);
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QLatin1Char('\n'))));
}

void TestClientAccessibility::pluralsInRoomList()
{
    // Rooms without messages show their members, in English plurals.
    QVERIFY(resizeTo(kDesktop));
    setSection(QStringLiteral("chat"));
    QStringList previews;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            previews.clear();
            const auto all = visualItems(item("roomList"));
            for (QQuickItem *i : all) {
                if (i->isVisible() && i->objectName() == QLatin1String("roomPreview"))
                    previews << i->property("text").toString();
            }
            return previews.contains(QStringLiteral("1 member")) && previews.contains(QStringLiteral("2 members"));
        }(),
        kWaitMs);
}

void TestClientAccessibility::roomSwitcher()
{
    QVERIFY(resizeTo(kDesktop));
    setSection(QStringLiteral("projects"));
    m_conn->chat()->closeRoom();
    QCOMPARE(m_conn->rooms()->model()->count(), 3);
    // Alt+N opens the Nth room of the list (switching to the chat), whatever has the focus.
    for (int row : {2, 0, 1}) {
        const qint64 expected = roomAtRow(row);
        QTest::keyClick(m_window, Qt::Key(Qt::Key_1 + row), Qt::AltModifier);
        QTRY_COMPARE_WITH_TIMEOUT(m_conn->chat()->roomId(), expected, kWaitMs);
        QCOMPARE(section(), QStringLiteral("chat"));
    }
    // Alt+Down / Alt+Up: the next and previous room of the list (as it is when pressed).
    for (const auto &[key, delta] :
         {std::pair {Qt::Key_Down, 1}, std::pair {Qt::Key_Up, -1}, std::pair {Qt::Key_Up, -1}}) {
        const int row = m_conn->rooms()->model()->rowForId(m_conn->chat()->roomId());
        const int to = std::clamp(row + delta, 0, 2);
        const qint64 expected = roomAtRow(to);
        QTest::keyClick(m_window, key, Qt::AltModifier);
        QTRY_COMPARE_WITH_TIMEOUT(m_conn->chat()->roomId(), expected, kWaitMs);
    }
    // Ctrl+2 and Ctrl+1: sections.
    QTest::keyClick(m_window, Qt::Key_2, Qt::ControlModifier);
    QTRY_COMPARE_WITH_TIMEOUT(section(), QStringLiteral("projects"), kWaitMs);
    QTest::keyClick(m_window, Qt::Key_1, Qt::ControlModifier);
    QTRY_COMPARE_WITH_TIMEOUT(section(), QStringLiteral("chat"), kWaitMs);
}

void TestClientAccessibility::composerByKeyboard()
{
    QVERIFY(resizeTo(kDesktop));
    setSection(QStringLiteral("projects"));
    m_conn->chat()->openRoom(m_roomId);
    auto *composer = item("composerField");
    QVERIFY(composer);
    QVERIFY(!composer->hasActiveFocus());
    // Ctrl+N: the chat, the composer focused; typing and Enter send.
    QTest::keyClick(m_window, Qt::Key_N, Qt::ControlModifier);
    QTRY_VERIFY_WITH_TIMEOUT(composer->hasActiveFocus(), kWaitMs);
    QCOMPARE(section(), QStringLiteral("chat"));
    const int before = m_conn->chat()->messages()->count();
    taskmaster::test::typeText(m_window, QStringLiteral("sent from the keyboard"));
    QTest::keyClick(m_window, Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(m_conn->chat()->messages()->count(), before + 1, kWaitMs);
    QCOMPARE(composer->property("text").toString(), QString());

    // Tab reaches the composer from the room list's header.
    auto *newRoom = item("newRoomButton");
    newRoom->forceActiveFocus();
    QVERIFY(newRoom->hasActiveFocus());
    int presses = 0;
    while (!composer->hasActiveFocus() && presses < 60) {
        QTest::keyClick(m_window, Qt::Key_Tab);
        ++presses;
    }
    QVERIFY2(composer->hasActiveFocus(), qPrintable(QStringLiteral("%1 Tabs").arg(presses)));
    // ... and leaves it again (no tab character typed): Tab to the send button, Space sends,
    // Shift+Tab goes back.
    taskmaster::test::typeText(m_window, QStringLiteral("sent with Space"));
    QTest::keyClick(m_window, Qt::Key_Tab);
    QCOMPARE(m_window->activeFocusItem(), item("sendButton"));
    QCOMPARE(composer->property("text").toString(), QStringLiteral("sent with Space"));
    QTest::keyClick(m_window, Qt::Key_Space);
    QTRY_COMPARE_WITH_TIMEOUT(m_conn->chat()->messages()->count(), before + 2, kWaitMs);
    QCOMPARE(composer->property("text").toString(), QString());
    QTest::keyClick(m_window, Qt::Key_Backtab, Qt::ShiftModifier);
    QVERIFY(composer->hasActiveFocus());

    // Up in the empty composer edits the last own message in place; Enter saves it and gives the
    // composer the focus back.
    auto *messages = m_conn->chat()->messages();
    QCOMPARE(messages->messageAt(messages->count() - 1).body, QStringLiteral("sent with Space"));
    // (Once the server acknowledged it: a pending message cannot be edited yet.)
    QTRY_VERIFY_WITH_TIMEOUT(
        !messages->data(messages->index(messages->count() - 1), taskmaster::MessageListModel::PendingRole).toBool(),
        kWaitMs);
    // ... and the view's newest row shows it as editable (the view follows the model's change
    // through the timeline proxy; pressing Up before that edited the message before it).
    const auto newestEditable = [&] {
        QQuickItem *row = nullptr;
        QMetaObject::invokeMethod(item("timeline"), "itemAtIndex", Q_RETURN_ARG(QQuickItem *, row), Q_ARG(int, 0));
        return row && row->property("editable").toBool()
            && row->property("body").toString() == QStringLiteral("sent with Space");
    };
    QTRY_VERIFY_WITH_TIMEOUT(newestEditable(), kWaitMs);
    QTest::keyClick(m_window, Qt::Key_Up);
    QQuickItem *editField = m_window->activeFocusItem();
    QVERIFY(editField);
    QCOMPARE(editField->objectName(), QStringLiteral("editField"));
    QCOMPARE(editField->property("text").toString(), QStringLiteral("sent with Space"));
    taskmaster::test::typeText(m_window, QStringLiteral(" (edited)"));
    QTest::keyClick(m_window, Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(messages->messageAt(messages->count() - 1).body,
                              QStringLiteral("sent with Space (edited)"), kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(composer->hasActiveFocus(), kWaitMs);
}

// Deleting a message without the mouse: while editing it (Up in the empty composer) Shift+F10
// opens its menu, Delete there asks, Enter confirms; and on a message chosen in the timeline (Tab
// to it) the Delete key asks, Enter confirms. The server has the tombstones.
void TestClientAccessibility::deleteByKeyboard()
{
    QVERIFY(resizeTo(kDesktop));
    m_conn->chat()->openRoom(m_roomId);
    auto *composer = item("composerField");
    QVERIFY(composer);
    auto *messages = m_conn->chat()->messages();
    auto *timeline = item("timeline");
    QVERIFY(timeline);
    // Sends `body` from the keyboard; its id once the server acknowledged it and the view's newest
    // row shows it as editable.
    const auto sendByKeyboard = [&](const QString &body) -> qint64 {
        QTest::keyClick(m_window, Qt::Key_N, Qt::ControlModifier);
        if (!QTest::qWaitFor([&] { return composer->hasActiveFocus(); }, kWaitMs))
            return 0;
        taskmaster::test::typeText(m_window, body);
        QTest::keyClick(m_window, Qt::Key_Return);
        const bool shown = QTest::qWaitFor(
            [&] {
                QQuickItem *row = nullptr;
                QMetaObject::invokeMethod(timeline, "itemAtIndex", Q_RETURN_ARG(QQuickItem *, row), Q_ARG(int, 0));
                return row && row->property("editable").toBool() && row->property("body").toString() == body;
            },
            kWaitMs);
        return shown ? messages->messageAt(messages->count() - 1).id : 0;
    };
    const auto deletedOnServer = [&](qint64 id) {
        ApiClient api(m_server.url());
        const auto page = api.get(QStringLiteral("/api/v1/rooms/%1/messages?limit=50").arg(m_roomId), m_danaToken);
        for (const QJsonValue &m : page.items()) {
            if (m.toObject().value(QLatin1String("id")).toInteger() == id)
                return m.toObject().value(QLatin1String("deleted")).toBool();
        }
        return false;
    };
    // The open context menu of a message's delegate (null: none), its current item's row.
    const auto menuOf
        = [](QQuickItem *message) { return message ? message->property("menu").value<QObject *>() : nullptr; };
    const auto menuAt = [&](QQuickItem *message, int row) {
        QObject *menu = menuOf(message);
        return menu && menu->property("opened").toBool() && menu->property("currentIndex").toInt() == row;
    };
    const auto newest = [&] {
        QQuickItem *row = nullptr;
        QMetaObject::invokeMethod(timeline, "itemAtIndex", Q_RETURN_ARG(QQuickItem *, row), Q_ARG(int, 0));
        return row;
    };
    const auto dialogOpen = [&] {
        const auto all = visualItems(m_window->contentItem());
        for (QQuickItem *i : all) {
            if (i->objectName() == QLatin1String("deleteMessageConfirm") && i->isVisible())
                return i->hasActiveFocus();
        }
        return false;
    };

    // 1. While editing: Up, Shift+F10, Down to Delete, Enter; the dialog: Enter.
    const qint64 first = sendByKeyboard(QStringLiteral("delete me by menu"));
    QVERIFY(first > 0);
    QTest::keyClick(m_window, Qt::Key_Up);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->activeFocusItem()->objectName(), QStringLiteral("editField"), kWaitMs);
    QTest::keyClick(m_window, Qt::Key_F10, Qt::ShiftModifier);
    QTRY_VERIFY_WITH_TIMEOUT(menuAt(newest(), 0), kWaitMs); // Edit
    QTest::keyClick(m_window, Qt::Key_Down);
    QTRY_VERIFY_WITH_TIMEOUT(menuAt(newest(), 1), kWaitMs); // Delete
    QTest::keyClick(m_window, Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(dialogOpen(), kWaitMs);
    QVERIFY(!deletedOnServer(first)); // it asks first
    QTest::keyClick(m_window, Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(deletedOnServer(first), kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(composer->hasActiveFocus(), kWaitMs); // the edit ended

    // 2. A message chosen in the timeline: Shift+Tab from the composer to the messages (the newest
    // is chosen, framed), Delete asks, Escape keeps it, Delete again and Enter deletes it.
    const qint64 second = sendByKeyboard(QStringLiteral("delete me by key"));
    QVERIFY(second > 0);
    int presses = 0;
    while (!timeline->hasActiveFocus() && presses < 10) {
        QTest::keyClick(m_window, Qt::Key_Backtab, Qt::ShiftModifier);
        ++presses;
    }
    QVERIFY2(timeline->hasActiveFocus(), qPrintable(QStringLiteral("%1 Shift+Tabs").arg(presses)));
    auto *current = timeline->property("currentItem").value<QQuickItem *>();
    QVERIFY(current);
    QCOMPARE(current->property("body").toString(), QStringLiteral("delete me by key"));
    QTest::keyClick(m_window, Qt::Key_Delete);
    QTRY_VERIFY_WITH_TIMEOUT(dialogOpen(), kWaitMs);
    QTest::keyClick(m_window, Qt::Key_Escape);
    QTRY_VERIFY_WITH_TIMEOUT(!dialogOpen(), kWaitMs);
    QVERIFY(!deletedOnServer(second));
    QTRY_VERIFY_WITH_TIMEOUT(timeline->hasActiveFocus(), kWaitMs);
    // The Menu key opens its menu too.
    QTest::keyClick(m_window, Qt::Key_Menu);
    QTRY_VERIFY_WITH_TIMEOUT(menuAt(current, 0), kWaitMs);
    QTest::keyClick(m_window, Qt::Key_Escape);
    QTRY_VERIFY_WITH_TIMEOUT(!menuOf(current), kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(timeline->hasActiveFocus(), kWaitMs);
    QTest::keyClick(m_window, Qt::Key_Delete);
    QTRY_VERIFY_WITH_TIMEOUT(dialogOpen(), kWaitMs);
    QTest::keyClick(m_window, Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(deletedOnServer(second), kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(messages->messageAt(messages->count() - 1).deleted, kWaitMs);
}

void TestClientAccessibility::shortcutsSheet()
{
    QVERIFY(resizeTo(kDesktop));
    auto *sheet = m_window->findChild<QObject *>(QStringLiteral("shortcutsSheet"));
    QVERIFY(sheet);
    QObject *shell = m_window->property("shell").value<QObject *>();
    const QVariantList entries = shell->property("shortcuts").toList();
    QVERIFY(entries.size() > 10);
    for (const auto &[key, modifiers] : {std::pair {Qt::Key_Slash, Qt::KeyboardModifiers(Qt::ControlModifier)},
                                         std::pair {Qt::Key_F1, Qt::KeyboardModifiers()}}) {
        QTest::keyClick(m_window, key, modifiers);
        QTRY_VERIFY_WITH_TIMEOUT(sheet->property("opened").toBool(), kWaitMs);
        // One row per entry of the list that also installs the shortcuts.
        auto *list = m_window->findChild<QQuickItem *>(QStringLiteral("shortcutList"));
        QVERIFY(list);
        QCOMPARE(list->property("count").toInt(), entries.size());
        QStringList keys;
        const auto all = visualItems(list);
        for (QQuickItem *i : all) {
            if (i->objectName() == QLatin1String("shortcutKeys"))
                keys << i->property("text").toString();
        }
        QVERIFY2(keys.contains(QStringLiteral("Ctrl+/ or F1")), qPrintable(keys.join(QLatin1String(", "))));
        QVERIFY2(keys.contains(QStringLiteral("Alt+1 … Alt+9")), qPrintable(keys.join(QLatin1String(", "))));
        QTest::keyClick(m_window, Qt::Key_Escape);
        QTRY_VERIFY_WITH_TIMEOUT(!sheet->property("visible").toBool(), kWaitMs);
    }
}

QTEST_MAIN(TestClientAccessibility)
#include "tst_client_accessibility.moc"
