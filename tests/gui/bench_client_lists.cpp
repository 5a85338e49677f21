// GUI list benchmarks (issue 7): the chat timeline (MessageListModel behind ReversedListProxy in a
// bottom-to-top ListView with the client's real MessageDelegate) and the task list (TaskListModel
// with the real TaskCard) in a headless window.
//   scroll:       live delegates and time per scroll step from the latest message to the oldest
//                 (one screen per step; on big lists 10 stretches of 100 steps spread over the
//                 whole list, then the very start), reuseItems on and off
//   prependPage:  a 50-message history page inserted above the oldest row, the view at the top
//   appendLive:   one live message, the view at the latest
//   taskFilter:   a priority filter change on the task list (model reset and view refill)
// Sizes: TM_BENCH_SIZES (default "10000 100000 1000000"; the test suite runs "10000"),
// TM_BENCH_TASKS (default 100000). Each case runs once with its own timed loop (a model of a
// million rows is filled once, not per QtTest rerun), reports its mean as the benchmark result
// and prints a RESULT line (delegates, RSS, percentiles). Every step ends as an idle moment of
// the event loop would: deferred deletes and posted events are processed (without that, views
// without reuseItems pile up destroyed delegates). "frame" is a render of the window after the
// step (grabWindow, software renderer).
#include "client-qml/app/qml_plugins.h"
#include "client-qml/net/client_setup.h"
#include "shared/models/message_list_model.h"
#include "shared/models/reversed_list_proxy.h"
#include "shared/models/task_list_model.h"

#include <QElapsedTimer>
#include <QFile>
#include <QQmlComponent>
#include <QQmlEngine>
#include <QQuickItem>
#include <QQuickStyle>
#include <QQuickWindow>
#include <QTest>

#include <algorithm>
#include <memory>

using namespace taskmaster;

namespace {

QList<int> sizes()
{
    QList<int> out;
    const QString env = qEnvironmentVariable("TM_BENCH_SIZES", QStringLiteral("10000 100000 1000000"));
    for (const QString &s : env.split(QLatin1Char(' '), Qt::SkipEmptyParts))
        out.append(s.toInt());
    return out;
}

qint64 rssKiB()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return 0;
}

// Messages with seqs [from, to]: 3 authors taking turns in runs, a new day every 500 messages,
// bodies of one to three lines.
QList<Message> messages(Seq from, Seq to)
{
    static const QStringList bodies = {
        QStringLiteral("Short one."),
        QStringLiteral("A message of medium length that wraps in a narrow window, as chat lines do."),
        QStringLiteral("A longer message, with a few sentences in it. It goes on for a while so that it takes "
                       "more than one line in the timeline. Long enough for three lines in a 400 px view."),
    };
    QList<Message> list;
    list.reserve(to - from + 1);
    const QDateTime start(QDate(2020, 1, 1), QTime(8, 0), Qt::UTC);
    for (Seq s = from; s <= to; ++s) {
        Message m;
        m.id = s;
        m.roomId = 1;
        m.seq = s;
        m.authorId = 1 + (s / 3) % 3;
        m.body = bodies.at(int(s % 3));
        m.createdAt = start.addSecs((s / 500) * 86400 + (s % 500) * 60);
        list.append(m);
    }
    return list;
}

// What an idle moment of the event loop does between two frames.
void settle()
{
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    QCoreApplication::processEvents();
}

double msSince(const QElapsedTimer &t)
{
    return double(t.nsecsElapsed()) / 1e6;
}

struct Step {
    double meanMs = 0;
    double p95Ms = 0;
    double maxMs = 0;
};

Step summarise(QList<double> ms)
{
    Step s;
    if (ms.isEmpty())
        return s;
    std::sort(ms.begin(), ms.end());
    double sum = 0;
    for (double v : ms)
        sum += v;
    s.meanMs = sum / double(ms.size());
    s.p95Ms = ms.at(qMin(ms.size() - 1, qsizetype(double(ms.size()) * 0.95)));
    s.maxMs = ms.last();
    return s;
}

} // namespace

class BenchClientLists final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void scroll_data();
    void scroll();
    void prependPage_data();
    void prependPage();
    void appendLive_data();
    void appendLive();
    void taskFilter_data();
    void taskFilter();

private:
    // A window with a ListView of the given QML (delegate and direction) over `model`.
    QQuickItem *makeView(const QByteArray &qml, QAbstractItemModel *model, bool reuse);
    void sizeRows(bool withReuse);
    int live(QQuickItem *view) const { return view->property("live").toInt(); }

    QQmlEngine m_engine;
    std::unique_ptr<QQuickWindow> m_window;
    std::unique_ptr<QQuickItem> m_view;
};

void BenchClientLists::initTestCase()
{
    QQuickStyle::setStyle(QStringLiteral("Basic"));
    client::prepareEngine(m_engine);
}

QQuickItem *BenchClientLists::makeView(const QByteArray &qml, QAbstractItemModel *model, bool reuse)
{
    m_view.reset();
    m_window = std::make_unique<QQuickWindow>();
    m_window->resize(400, 800);
    QQmlComponent component(&m_engine);
    component.setData(qml, QUrl(QStringLiteral("bench.qml")));
    auto *view = qobject_cast<QQuickItem *>(component.createWithInitialProperties(
        {{QStringLiteral("reuseItems"), reuse}, {QStringLiteral("model"), QVariant::fromValue(model)}}));
    if (!view) {
        qWarning() << component.errors();
        return nullptr;
    }
    m_view.reset(view);
    view->setParentItem(m_window->contentItem());
    m_window->show();
    if (!QTest::qWaitForWindowExposed(m_window.get()))
        return nullptr;
    QMetaObject::invokeMethod(view, "forceLayout");
    return view;
}

static const QByteArray kTimelineQml = R"(
import QtQuick
import TaskMaster.Chat
ListView {
    id: view
    width: 400; height: 800
    property int live: 0
    verticalLayoutDirection: ListView.BottomToTop
    cacheBuffer: 400
    delegate: MessageDelegate {
        width: view.width
        Component.onCompleted: ++view.live
        Component.onDestruction: --view.live
    }
}
)";

static const QByteArray kTaskQml = R"(
import QtQuick
import TaskMaster.Tasks
ListView {
    id: view
    width: 400; height: 800
    property int live: 0
    spacing: 8
    delegate: TaskCard {
        width: view.width
        Component.onCompleted: ++view.live
        Component.onDestruction: --view.live
    }
}
)";

void BenchClientLists::sizeRows(bool withReuse)
{
    QTest::addColumn<int>("rows");
    QTest::addColumn<bool>("reuse");
    for (int n : sizes()) {
        QTest::addRow("%d reuse", n) << n << true;
        if (withReuse)
            QTest::addRow("%d no-reuse", n) << n << false;
    }
}

void BenchClientLists::scroll_data()
{
    sizeRows(true);
}

void BenchClientLists::scroll()
{
    QFETCH(int, rows);
    QFETCH(bool, reuse);
    const qint64 rssBefore = rssKiB();
    MessageListModel model;
    model.setRoomId(1);
    QElapsedTimer fill;
    fill.start();
    model.prependPage(messages(1, rows), false);
    const qint64 fillMs = fill.elapsed();
    const qint64 rssModel = rssKiB();
    ReversedListProxy proxy;
    proxy.setSourceModel(&model);
    QQuickItem *view = makeView(kTimelineQml, &proxy, reuse);
    QVERIFY(view);
    QCOMPARE(view->property("count").toInt(), rows);

    // From the latest (proxy row 0, the bottom) towards the oldest, one screen per step.
    QList<double> steps;
    QList<double> frames;
    int maxLive = live(view);
    QElapsedTimer t;
    auto stepUp = [&] {
        t.start();
        view->setProperty("contentY", view->property("contentY").toReal() - 800);
        QMetaObject::invokeMethod(view, "forceLayout");
        settle();
        steps.append(msSince(t));
        maxLive = qMax(maxLive, live(view));
        t.start();
        const QImage frame = m_window->grabWindow();
        frames.append(msSince(t));
        Q_UNUSED(frame);
    };
    const int stretches = rows > 20000 ? 10 : 1;
    const int perStretch = rows > 20000 ? 100 : 1000000;
    for (int st = 0; st < stretches; ++st) {
        if (stretches > 1) {
            QMetaObject::invokeMethod(view, "positionViewAtIndex", Q_ARG(int, int(qint64(rows) * st / stretches)),
                                      Q_ARG(int, 0)); // ListView.Beginning
            settle();
        }
        for (int i = 0; i < perStretch && !view->property("atYBeginning").toBool(); ++i)
            stepUp();
    }
    QMetaObject::invokeMethod(view, "positionViewAtEnd"); // the oldest message
    settle();
    maxLive = qMax(maxLive, live(view));
    const Step s = summarise(steps);
    const Step f = summarise(frames);
    const qint64 rssView = rssKiB();
    qInfo("RESULT scroll rows=%d reuse=%d steps=%lld maxLiveDelegates=%d stepMeanMs=%.3f stepP95Ms=%.3f stepMaxMs=%.3f "
          "frameMeanMs=%.3f frameP95Ms=%.3f fillMs=%lld rssModelMiB=%.1f rssTotalMiB=%.1f",
          rows, int(reuse), qint64(steps.size()), maxLive, s.meanMs, s.p95Ms, s.maxMs, f.meanMs, f.p95Ms, fillMs,
          double(rssModel - rssBefore) / 1024.0, double(rssView) / 1024.0);
    QTest::setBenchmarkResult(s.meanMs, QTest::WalltimeMilliseconds);
    QVERIFY2(maxLive < 100, "more than 100 live delegates");
    m_view.reset();
    m_window.reset();
}

void BenchClientLists::prependPage_data()
{
    sizeRows(false);
}

void BenchClientLists::prependPage()
{
    QFETCH(int, rows);
    QFETCH(bool, reuse);
    MessageListModel model;
    model.setRoomId(1);
    // Room for the pages prepended below: seqs start high.
    const Seq first = 10'000'000;
    model.prependPage(messages(first, first + rows - 1), true);
    ReversedListProxy proxy;
    proxy.setSourceModel(&model);
    QQuickItem *view = makeView(kTimelineQml, &proxy, reuse);
    QVERIFY(view);
    QMetaObject::invokeMethod(view, "positionViewAtEnd"); // the user is at the top, reading history
    settle();
    Seq next = first;
    int maxLive = live(view);
    QList<double> times;
    QElapsedTimer t;
    for (int i = 0; i < 100; ++i) {
        const QList<Message> page = messages(next - 50, next - 1);
        t.start();
        if (proxy.canFetchMore({}))
            proxy.fetchMore({});
        model.prependPage(page, true);
        QMetaObject::invokeMethod(view, "forceLayout");
        settle();
        times.append(msSince(t));
        next -= 50;
        maxLive = qMax(maxLive, live(view));
    }
    const Step s = summarise(times);
    qInfo("RESULT prependPage rows=%d pages=%lld meanMs=%.3f p95Ms=%.3f maxMs=%.3f maxLiveDelegates=%d", rows,
          qint64(times.size()), s.meanMs, s.p95Ms, s.maxMs, maxLive);
    QTest::setBenchmarkResult(s.meanMs, QTest::WalltimeMilliseconds);
    QCOMPARE(model.count(), rows + 100 * 50);
    m_view.reset();
    m_window.reset();
}

void BenchClientLists::appendLive_data()
{
    sizeRows(false);
}

void BenchClientLists::appendLive()
{
    QFETCH(int, rows);
    QFETCH(bool, reuse);
    MessageListModel model;
    model.setRoomId(1);
    model.prependPage(messages(1, rows), false);
    ReversedListProxy proxy;
    proxy.setSourceModel(&model);
    QQuickItem *view = makeView(kTimelineQml, &proxy, reuse);
    QVERIFY(view);
    settle();
    Seq next = rows + 1;
    int maxLive = live(view);
    QList<double> times;
    QElapsedTimer t;
    for (int i = 0; i < 500; ++i) {
        const Message m = messages(next, next).constFirst();
        t.start();
        model.appendLive(m);
        QMetaObject::invokeMethod(view, "forceLayout");
        settle();
        times.append(msSince(t));
        ++next;
        maxLive = qMax(maxLive, live(view));
    }
    const Step s = summarise(times);
    qInfo("RESULT appendLive rows=%d appends=%lld meanMs=%.3f p95Ms=%.3f maxMs=%.3f maxLiveDelegates=%d", rows,
          qint64(times.size()), s.meanMs, s.p95Ms, s.maxMs, maxLive);
    QTest::setBenchmarkResult(s.meanMs, QTest::WalltimeMilliseconds);
    QCOMPARE(model.count(), int(next - 1));
    QVERIFY(view->property("atYEnd").toBool()); // still showing the latest
    m_view.reset();
    m_window.reset();
}

void BenchClientLists::taskFilter_data()
{
    QTest::addColumn<int>("rows");
    QTest::addColumn<bool>("reuse");
    const int n
        = qEnvironmentVariableIntValue("TM_BENCH_TASKS") > 0 ? qEnvironmentVariableIntValue("TM_BENCH_TASKS") : 100000;
    QTest::addRow("%d reuse", n) << n << true;
    QTest::addRow("%d no-reuse", n) << n << false;
}

void BenchClientLists::taskFilter()
{
    QFETCH(int, rows);
    QFETCH(bool, reuse);
    const qint64 rssBefore = rssKiB();
    TaskListModel model;
    QList<Task> tasks;
    tasks.reserve(rows);
    const QDateTime start(QDate(2026, 1, 1), QTime(8, 0), Qt::UTC);
    for (int i = 1; i <= rows; ++i) {
        Task t;
        t.id = i;
        t.projectId = 1;
        t.title = QStringLiteral("Task number %1 with a title of a usual length").arg(i);
        t.status = TaskStatus(i % 4);
        t.priority = TaskPriority((i / 4) % 4);
        if (i % 3)
            t.assigneeId = 1 + i % 7;
        if (i % 5 == 0)
            t.dueDate = QDate(2026, 12, 1).addDays(i % 60 - 30);
        t.createdAt = start.addSecs(i);
        t.updatedAt = t.createdAt;
        tasks.append(t);
    }
    model.reset(tasks);
    const qint64 rssModel = rssKiB();
    QQuickItem *view = makeView(kTaskQml, &model, reuse);
    QVERIFY(view);
    // Half way down first, as a user looking at the list would be.
    QMetaObject::invokeMethod(view, "positionViewAtIndex", Q_ARG(int, rows / 2), Q_ARG(int, 0));
    settle();
    bool urgent = false;
    int maxLive = live(view);
    QList<double> times;
    QElapsedTimer t;
    for (int i = 0; i < 20; ++i) {
        urgent = !urgent;
        t.start();
        model.setPriorityFilterWire(urgent ? QStringLiteral("urgent") : QString());
        QMetaObject::invokeMethod(view, "forceLayout");
        settle();
        times.append(msSince(t));
        maxLive = qMax(maxLive, live(view));
    }
    const Step s = summarise(times);
    qInfo("RESULT taskFilter rows=%d reuse=%d changes=%lld meanMs=%.3f p95Ms=%.3f maxMs=%.3f maxLiveDelegates=%d "
          "rssModelMiB=%.1f",
          rows, int(reuse), qint64(times.size()), s.meanMs, s.p95Ms, s.maxMs, maxLive,
          double(rssModel - rssBefore) / 1024.0);
    QTest::setBenchmarkResult(s.meanMs, QTest::WalltimeMilliseconds);
    QVERIFY2(maxLive < 100, "more than 100 live delegates");
    QCOMPARE(model.count(), rows); // back to every priority after an even number of changes
    m_view.reset();
    m_window.reset();
}

QTEST_MAIN(BenchClientLists)
#include "bench_client_lists.moc"
