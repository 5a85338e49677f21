// The project, member and task routes of docs/protocol.md against the real taskmaster-server binary,
// every test once on SQLite and once on a fresh PostgreSQL database: happy paths with the shapes
// of the contract, ETag / If-None-Match, If-Match, a pagination walk, list filters, an
// authorization matrix (route x caller) and a bad-input table per route. Every response of every
// test is checked centrally: no 5xx, no missing answer, and every error in the error body shape of
// docs/protocol.md with the code that belongs to its status.
#include "tests/support/api_client.h"
#include "tests/support/server_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"

#include <QDeadlineTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSet>
#include <QSignalSpy>
#include <QTest>
#include <QUuid>

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

using taskmaster::test::Account;
using taskmaster::test::ServerProcess;

namespace {

using Headers = QList<std::pair<QByteArray, QByteArray>>;

const QByteArray kJson = QByteArrayLiteral("application/json");
constexpr qint64 kUnknownId = 9000000000000;

// One HTTP exchange as the test saw it.
struct Reply {
    QByteArray method;
    QString path;
    int status = 0; // 0: no HTTP answer at all
    QByteArray body;
    QByteArray etag;
    QByteArray contentType;
    QString networkError;

    [[nodiscard]] QJsonObject object() const { return QJsonDocument::fromJson(body).object(); }
    [[nodiscard]] QJsonObject error() const { return object().value(QLatin1String("error")).toObject(); }
    [[nodiscard]] QString errorCode() const { return error().value(QLatin1String("code")).toString(); }
    // Empty when the error names no field.
    [[nodiscard]] QString errorField() const { return error().value(QLatin1String("field")).toString(); }
    [[nodiscard]] qint64 id() const { return object().value(QLatin1String("id")).toInteger(); }
    [[nodiscard]] qint64 version() const { return object().value(QLatin1String("version")).toInteger(); }
    [[nodiscard]] QJsonArray items() const { return object().value(QLatin1String("items")).toArray(); }
    [[nodiscard]] QString describe(int expected) const
    {
        return QStringLiteral("%1 %2: expected %3, got %4 %5")
            .arg(QString::fromLatin1(method), path)
            .arg(expected)
            .arg(status)
            .arg(QString::fromUtf8(body.left(400)));
    }
};

// What one back end's tests share: the server and the users registered on it at start.
struct Backend {
    std::unique_ptr<ServerProcess> server;
    Account owner; // creates the projects of the tests
    Account member; // added to them
    Account outsider; // never a member
    Account loggedOut; // its token was revoked by logout
    Account extra; // a second member
    Account spare; // a user who is not a member, to be added
    bool ready = false;
};

// A project of the owner with member and extra as members, and one task in it.
struct World {
    qint64 project = 0;
    qint64 task = 0;
};

QString s(const char *latin1)
{
    return QString::fromLatin1(latin1);
}

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

const QRegularExpression &timestampPattern()
{
    static const QRegularExpression re(QStringLiteral("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$"));
    return re;
}

bool isPositiveInteger(const QJsonValue &v)
{
    return v.isDouble() && v.toDouble() == double(v.toInteger()) && v.toInteger() > 0;
}

QString keysProblem(const QJsonObject &o, QStringList expected)
{
    QStringList keys = o.keys();
    keys.sort();
    expected.sort();
    if (keys != expected) {
        return QStringLiteral("keys %1, expected %2").arg(keys.join(QLatin1Char(',')), expected.join(QLatin1Char(',')));
    }
    return {};
}

// Empty when o has the shape of docs/protocol.md's Project.
QString projectProblem(const QJsonObject &o)
{
    if (QString p = keysProblem(
            o, {s("id"), s("name"), s("description"), s("ownerId"), s("createdAt"), s("updatedAt"), s("version")});
        !p.isEmpty())
        return QStringLiteral("Project: ") + p;
    if (!isPositiveInteger(o.value(QLatin1String("id"))) || !isPositiveInteger(o.value(QLatin1String("ownerId")))
        || !isPositiveInteger(o.value(QLatin1String("version"))))
        return QStringLiteral("Project: id, ownerId and version must be positive integers");
    if (!o.value(QLatin1String("name")).isString() || !o.value(QLatin1String("description")).isString())
        return QStringLiteral("Project: name and description must be strings");
    for (const char *key : {"createdAt", "updatedAt"}) {
        if (!timestampPattern().match(o.value(QLatin1String(key)).toString()).hasMatch())
            return QStringLiteral("Project: %1 is not an RFC 3339 UTC timestamp with ms").arg(s(key));
    }
    return {};
}

// Empty when o has the shape of docs/protocol.md's Task.
QString taskProblem(const QJsonObject &o)
{
    if (QString p = keysProblem(o,
                                {s("id"), s("projectId"), s("title"), s("description"), s("status"), s("priority"),
                                 s("assigneeId"), s("dueDate"), s("createdBy"), s("createdAt"), s("updatedAt"),
                                 s("version"), s("attachments")});
        !p.isEmpty())
        return QStringLiteral("Task: ") + p;
    for (const char *key : {"id", "projectId", "createdBy", "version"}) {
        if (!isPositiveInteger(o.value(QLatin1String(key))))
            return QStringLiteral("Task: %1 must be a positive integer").arg(s(key));
    }
    if (!o.value(QLatin1String("title")).isString() || !o.value(QLatin1String("description")).isString())
        return QStringLiteral("Task: title and description must be strings");
    if (!o.value(QLatin1String("attachments")).isArray())
        return QStringLiteral("Task: attachments must be an array");
    const QStringList statuses {s("todo"), s("in_progress"), s("review"), s("done")};
    const QStringList priorities {s("low"), s("medium"), s("high"), s("urgent")};
    if (!statuses.contains(o.value(QLatin1String("status")).toString()))
        return QStringLiteral("Task: bad status");
    if (!priorities.contains(o.value(QLatin1String("priority")).toString()))
        return QStringLiteral("Task: bad priority");
    const QJsonValue assignee = o.value(QLatin1String("assigneeId"));
    if (!assignee.isNull() && !isPositiveInteger(assignee))
        return QStringLiteral("Task: assigneeId must be null or a positive integer");
    const QJsonValue due = o.value(QLatin1String("dueDate"));
    static const QRegularExpression date(QStringLiteral("^\\d{4}-\\d{2}-\\d{2}$"));
    if (!due.isNull() && !date.match(due.toString()).hasMatch())
        return QStringLiteral("Task: dueDate must be null or YYYY-MM-DD");
    for (const char *key : {"createdAt", "updatedAt"}) {
        if (!timestampPattern().match(o.value(QLatin1String(key)).toString()).hasMatch())
            return QStringLiteral("Task: %1 is not an RFC 3339 UTC timestamp with ms").arg(s(key));
    }
    return {};
}

// Empty when o is {"items":[...],"nextCursor":string|null} with items of the given shape.
QString pageProblem(const QJsonObject &o, QString (*itemProblem)(const QJsonObject &))
{
    if (QString p = keysProblem(o, {s("items"), s("nextCursor")}); !p.isEmpty())
        return QStringLiteral("Page: ") + p;
    const QJsonValue cursor = o.value(QLatin1String("nextCursor"));
    if (!cursor.isNull() && (!cursor.isString() || cursor.toString().isEmpty()))
        return QStringLiteral("Page: nextCursor must be null or a non-empty string");
    if (!o.value(QLatin1String("items")).isArray())
        return QStringLiteral("Page: items must be an array");
    const QJsonArray items = o.value(QLatin1String("items")).toArray();
    for (const QJsonValue &item : items) {
        if (!item.isObject())
            return QStringLiteral("Page: an item is not an object");
        if (QString p = itemProblem(item.toObject()); !p.isEmpty())
            return p;
    }
    return {};
}

QList<qint64> idsOf(const QJsonArray &items)
{
    QList<qint64> ids;
    for (const QJsonValue &item : items)
        ids.append(item.toObject().value(QLatin1String("id")).toInteger());
    return ids;
}

// The error code docs/protocol.md gives each status.
QString codeForStatus(int status)
{
    switch (status) {
    case 400:
        return s("bad_request");
    case 401:
        return s("unauthorized");
    case 403:
        return s("forbidden");
    case 404:
        return s("not_found");
    case 405:
        return s("method_not_allowed");
    case 409:
        return s("conflict");
    case 412:
        return s("precondition_failed");
    case 413:
        return s("payload_too_large");
    case 415:
        return s("unsupported_media_type");
    case 422:
        return s("validation_failed");
    case 429:
        return s("rate_limited");
    case 503:
        return s("unavailable");
    default:
        return {};
    }
}

// Empty when an error response has docs/protocol.md's error body with the code of its status.
QString errorShapeProblem(const Reply &r)
{
    if (!r.contentType.startsWith(kJson))
        return QStringLiteral("error without Content-Type application/json");
    QJsonParseError parseError {};
    const QJsonDocument doc = QJsonDocument::fromJson(r.body, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return QStringLiteral("error body is not a JSON object");
    const QJsonObject o = doc.object();
    if (o.keys() != QStringList {s("error")} || !o.value(QLatin1String("error")).isObject())
        return QStringLiteral("error body must be exactly {\"error\":{...}}");
    const QJsonObject e = r.error();
    for (const QString &key : e.keys()) {
        if (key != QLatin1String("code") && key != QLatin1String("message") && key != QLatin1String("field"))
            return QStringLiteral("unexpected key error.") + key;
    }
    const QString expectedCode = codeForStatus(r.status);
    if (expectedCode.isEmpty())
        return QStringLiteral("status %1 is not in docs/protocol.md's error table").arg(r.status);
    if (e.value(QLatin1String("code")).toString() != expectedCode)
        return QStringLiteral("code %1 does not belong to status %2").arg(r.errorCode()).arg(r.status);
    if (!e.value(QLatin1String("message")).isString() || e.value(QLatin1String("message")).toString().isEmpty())
        return QStringLiteral("error.message must be a non-empty string");
    if (e.contains(QLatin1String("field"))
        && (!e.value(QLatin1String("field")).isString() || e.value(QLatin1String("field")).toString().isEmpty()))
        return QStringLiteral("error.field, when present, must be a non-empty string");
    return {};
}

} // namespace

#define EXPECT_STATUS(reply, expected)                                                                                 \
    do {                                                                                                               \
        const Reply &r_ = (reply);                                                                                     \
        QVERIFY2(r_.status == (expected), qPrintable(r_.describe(expected)));                                          \
    } while (false)

// An error answer with its code and field ("" when no field may be named).
#define EXPECT_ERROR(reply, expectedStatus, code, field)                                                               \
    do {                                                                                                               \
        const Reply &e_ = (reply);                                                                                     \
        EXPECT_STATUS(e_, expectedStatus);                                                                             \
        QCOMPARE(e_.errorCode(), QString::fromLatin1(code));                                                           \
        QCOMPARE(e_.errorField(), QString::fromLatin1(field));                                                         \
    } while (false)

#define EXPECT_SHAPE(problemExpr)                                                                                      \
    do {                                                                                                               \
        const QString p_ = (problemExpr);                                                                              \
        QVERIFY2(p_.isEmpty(), qPrintable(p_));                                                                        \
    } while (false)

// Runs a helper that may fail a check, and stops the test when it did.
#define CHECKED(call)                                                                                                  \
    do {                                                                                                               \
        call;                                                                                                          \
        if (QTest::currentTestFailed())                                                                                \
            return;                                                                                                    \
    } while (false)

class TestHttpProjects final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase_data();
    void initTestCase();
    void init();
    void cleanup();
    void cleanupTestCase();

    void projectLifecycle();
    void memberRoutes();
    void taskLifecycle();
    void etagAndIfNoneMatch();
    void ifMatch_data();
    void ifMatch();
    void pagination();
    void filters();
    void sqlMetacharactersStoredVerbatim();
    void authorization_data();
    void authorization();
    void badInput_data();
    void badInput();

private:
    Reply request(const QByteArray &method, const QString &path, const QByteArray &token, const QByteArray &body = {},
                  const QByteArray &contentType = {}, const Headers &headers = {});
    Reply get(const Account &as, const QString &path, const Headers &headers = {})
    {
        return request("GET", path, as.token, {}, {}, headers);
    }
    Reply post(const Account &as, const QString &path, const QJsonObject &body)
    {
        return request("POST", path, as.token, compact(body), kJson);
    }
    Reply patch(const Account &as, const QString &path, const QJsonObject &body, const Headers &headers = {})
    {
        return request("PATCH", path, as.token, compact(body), kJson, headers);
    }
    Reply del(const Account &as, const QString &path) { return request("DELETE", path, as.token); }

    void checkResponse(const Reply &r);
    void startBackend(const QString &name, const QStringList &args);
    void registerAccount(Account &account, const char *role);
    void makeWorld(World &w);
    void verifyUntouched(const World &w);
    void addMember(qint64 projectId, const Account &user);
    void createTask(qint64 projectId, const Account &as, const QJsonObject &fields, QJsonObject *out = nullptr);
    QString expand(QString text, const World &w) const;

    QJsonObject defaultTask(const QString &title) const { return QJsonObject {{s("title"), title}}; }

    std::unique_ptr<QNetworkAccessManager> m_nam;
    std::map<QString, Backend> m_backends;
    Backend *m_b = nullptr; // the back end of the running test
    QStringList m_violations; // responses that break the contract whatever the test expects
    int m_requests = 0;
};

void TestHttpProjects::initTestCase_data()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite") << s("sqlite");
    QTest::newRow("postgres") << s("postgres");
}

void TestHttpProjects::initTestCase()
{
    m_nam = std::make_unique<QNetworkAccessManager>();
    CHECKED(startBackend(s("sqlite"), {}));
    const QString pg = qEnvironmentVariable("TM_TEST_DATABASE_URL");
    if (pg.isEmpty())
        return; // the postgres rows skip (or fail under TM_TEST_REQUIRE_SERVICES=1) in init()
    CHECKED(startBackend(s("postgres"), {s("--database-url"), taskmaster::test::freshPostgresUrl(pg)}));
}

void TestHttpProjects::startBackend(const QString &name, const QStringList &args)
{
    Backend &b = m_backends[name];
    if (b.ready)
        return;
    b.server = std::make_unique<ServerProcess>();
    QVERIFY2(b.server->start(args), qPrintable(b.server->errorText()));
    m_b = &b;
    CHECKED(registerAccount(b.owner, "owner"));
    CHECKED(registerAccount(b.member, "member"));
    CHECKED(registerAccount(b.outsider, "outsider"));
    CHECKED(registerAccount(b.loggedOut, "gone"));
    CHECKED(registerAccount(b.extra, "extra"));
    CHECKED(registerAccount(b.spare, "spare"));
    EXPECT_STATUS(request("POST", s("/api/v1/auth/logout"), b.loggedOut.token), 204);
    EXPECT_STATUS(get(b.loggedOut, s("/api/v1/me")), 401);
    QVERIFY2(m_violations.isEmpty(), qPrintable(m_violations.join(QLatin1Char('\n'))));
    b.ready = true;
    m_b = nullptr;
}

void TestHttpProjects::registerAccount(Account &account, const char *role)
{
    const QString username = s(role) + QLatin1Char('_') + QUuid::createUuid().toString(QUuid::Id128).left(8).toLower();
    const Reply r = request(
        "POST", s("/api/v1/auth/register"), {},
        compact({{s("username"), username}, {s("password"), s("correct horse battery")}, {s("displayName"), s(role)}}),
        kJson);
    EXPECT_STATUS(r, 201);
    account.id = r.object().value(QLatin1String("user")).toObject().value(QLatin1String("id")).toInteger();
    account.token = r.object().value(QLatin1String("token")).toString().toLatin1();
    QVERIFY(account.id > 0);
    QVERIFY(!account.token.isEmpty());
}

void TestHttpProjects::init()
{
    QFETCH_GLOBAL(QString, backend);
    if (backend == QLatin1String("postgres")) {
        TM_REQUIRE_SERVICE(pgUrl, "TM_TEST_DATABASE_URL");
    }
    auto it = m_backends.find(backend);
    QVERIFY2(it != m_backends.end() && it->second.ready, "the server of this back end did not start");
    m_b = &it->second;
    m_violations.clear();
}

void TestHttpProjects::cleanup()
{
    const QStringList violations = std::exchange(m_violations, {});
    if (m_b) {
        QVERIFY2(m_b->server->process().state() == QProcess::Running,
                 qPrintable(QStringLiteral("the server is gone: ") + QString::fromUtf8(m_b->server->output())));
    }
    m_b = nullptr;
    QVERIFY2(violations.isEmpty(), qPrintable(violations.join(QLatin1Char('\n'))));
}

void TestHttpProjects::cleanupTestCase()
{
    qInfo("%d requests checked", m_requests);
    for (auto &[name, backend] : m_backends) {
        if (backend.server)
            QCOMPARE(backend.server->stop(), 0);
    }
}

Reply TestHttpProjects::request(const QByteArray &method, const QString &path, const QByteArray &token,
                                const QByteArray &body, const QByteArray &contentType, const Headers &headers)
{
    Reply r;
    r.method = method;
    r.path = path;
    QUrl url = m_b->server->url();
    const qsizetype q = path.indexOf(QLatin1Char('?'));
    url.setPath(q < 0 ? path : path.left(q), QUrl::TolerantMode);
    if (q >= 0)
        url.setQuery(path.mid(q + 1));
    QNetworkRequest req(url);
    if (!contentType.isEmpty())
        req.setRawHeader("Content-Type", contentType);
    if (!token.isEmpty())
        req.setRawHeader("Authorization", "Bearer " + token);
    for (const auto &[name, value] : headers)
        req.setRawHeader(name, value);
    // A custom request for every method: POST gets no Content-Type added behind the test's back.
    std::unique_ptr<QNetworkReply> reply(body.isNull() && method != "POST"
                                             ? m_nam->sendCustomRequest(req, method)
                                             : m_nam->sendCustomRequest(req, method, body));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    const QDeadlineTimer deadline(30000);
    while (!reply->isFinished() && !deadline.hasExpired())
        finished.wait(int(qMax<qint64>(1, deadline.remainingTime())));
    if (!reply->isFinished()) {
        reply->abort();
        r.networkError = QStringLiteral("no answer within 30 s");
    } else {
        r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        r.body = reply->readAll();
        r.etag = reply->rawHeader("ETag");
        r.contentType = reply->rawHeader("Content-Type");
        if (r.status == 0)
            r.networkError = reply->errorString();
    }
    ++m_requests;
    checkResponse(r);
    return r;
}

void TestHttpProjects::checkResponse(const Reply &r)
{
    const QString where = QString::fromLatin1(r.method) + QLatin1Char(' ') + r.path + QStringLiteral(": ");
    if (r.status == 0) {
        m_violations << where + QStringLiteral("no HTTP answer (") + r.networkError + QLatin1Char(')');
        return;
    }
    if (r.status >= 500)
        m_violations << where + QStringLiteral("status %1 %2").arg(r.status).arg(QString::fromUtf8(r.body.left(300)));
    if (r.status >= 400) {
        if (const QString p = errorShapeProblem(r); !p.isEmpty())
            m_violations << where + p
                    + QStringLiteral(" (status %1, body %2)").arg(r.status).arg(QString::fromUtf8(r.body));
    } else if (r.status == 204 || r.status == 304) {
        if (!r.body.isEmpty())
            m_violations << where + QStringLiteral("%1 with a body").arg(r.status);
    } else if (!r.contentType.startsWith(kJson) || !QJsonDocument::fromJson(r.body).isObject()) {
        m_violations << where + QStringLiteral("a success without a JSON object body");
    }
}

void TestHttpProjects::addMember(qint64 projectId, const Account &user)
{
    EXPECT_STATUS(
        post(m_b->owner, QStringLiteral("/api/v1/projects/%1/members").arg(projectId), {{s("userId"), user.id}}), 200);
}

void TestHttpProjects::createTask(qint64 projectId, const Account &as, const QJsonObject &fields, QJsonObject *out)
{
    const Reply r = post(as, QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId), fields);
    EXPECT_STATUS(r, 201);
    if (out)
        *out = r.object();
}

void TestHttpProjects::makeWorld(World &w)
{
    const Reply p = post(m_b->owner, s("/api/v1/projects"), {{s("name"), s("World")}, {s("description"), s("d")}});
    EXPECT_STATUS(p, 201);
    w.project = p.id();
    CHECKED(addMember(w.project, m_b->member));
    CHECKED(addMember(w.project, m_b->extra));
    QJsonObject task;
    CHECKED(createTask(w.project, m_b->owner, defaultTask(s("the task")), &task));
    w.task = task.value(QLatin1String("id")).toInteger();
}

// A request that failed changed nothing: the project and task are at version 1, the members are
// the same, the task list holds the one task.
void TestHttpProjects::verifyUntouched(const World &w)
{
    const QString project = QStringLiteral("/api/v1/projects/%1").arg(w.project);
    const Reply p = get(m_b->owner, project);
    EXPECT_STATUS(p, 200);
    QCOMPARE(p.version(), 1);
    QCOMPARE(p.object().value(QLatin1String("name")).toString(), s("World"));
    const Reply t = get(m_b->owner, QStringLiteral("/api/v1/tasks/%1").arg(w.task));
    EXPECT_STATUS(t, 200);
    QCOMPARE(t.version(), 1);
    EXPECT_STATUS(get(m_b->member, project), 200);
    EXPECT_STATUS(get(m_b->extra, project), 200);
    EXPECT_STATUS(get(m_b->spare, project), 404);
    EXPECT_STATUS(get(m_b->outsider, project), 404);
    const Reply list = get(m_b->owner, project + QStringLiteral("/tasks"));
    EXPECT_STATUS(list, 200);
    QCOMPARE(idsOf(list.items()), QList<qint64> {w.task});
}

QString TestHttpProjects::expand(QString text, const World &w) const
{
    text.replace(QLatin1String("{p}"), QString::number(w.project));
    text.replace(QLatin1String("{t}"), QString::number(w.task));
    text.replace(QLatin1String("{owner}"), QString::number(m_b->owner.id));
    text.replace(QLatin1String("{member}"), QString::number(m_b->member.id));
    text.replace(QLatin1String("{outsider}"), QString::number(m_b->outsider.id));
    text.replace(QLatin1String("{extra}"), QString::number(m_b->extra.id));
    text.replace(QLatin1String("{spare}"), QString::number(m_b->spare.id));
    text.replace(QLatin1String("{unknown}"), QString::number(kUnknownId));
    return text;
}

// ---- Happy paths ---------------------------------------------------------------------------

void TestHttpProjects::projectLifecycle()
{
    const Account &owner = m_b->owner;
    const Reply created = post(owner, s("/api/v1/projects"), {{s("name"), s("Apollo")}, {s("description"), s("moon")}});
    EXPECT_STATUS(created, 201);
    const QJsonObject p = created.object();
    EXPECT_SHAPE(projectProblem(p));
    QCOMPARE(p.value(QLatin1String("name")).toString(), s("Apollo"));
    QCOMPARE(p.value(QLatin1String("description")).toString(), s("moon"));
    QCOMPARE(p.value(QLatin1String("ownerId")).toInteger(), owner.id);
    QCOMPARE(p.value(QLatin1String("version")).toInteger(), 1);
    QCOMPARE(p.value(QLatin1String("updatedAt")), p.value(QLatin1String("createdAt")));
    const qint64 id = created.id();
    const QString path = QStringLiteral("/api/v1/projects/%1").arg(id);

    // description is optional
    const Reply bare = post(owner, s("/api/v1/projects"), {{s("name"), s("Gemini")}});
    EXPECT_STATUS(bare, 201);
    QCOMPARE(bare.object().value(QLatin1String("description")).toString(), QString());

    const Reply list = get(owner, s("/api/v1/projects"));
    EXPECT_STATUS(list, 200);
    EXPECT_SHAPE(pageProblem(list.object(), projectProblem));
    QVERIFY(list.object().value(QLatin1String("nextCursor")).isNull());
    QVERIFY(!list.etag.isEmpty());
    const QList<qint64> ids = idsOf(list.items());
    QVERIFY(ids.contains(id) && ids.contains(bare.id()));
    QVERIFY(std::is_sorted(ids.cbegin(), ids.cend()));

    const Reply one = get(owner, path);
    EXPECT_STATUS(one, 200);
    QVERIFY(!one.etag.isEmpty());
    QCOMPARE(one.object(), p);

    const Reply renamed = patch(owner, path, {{s("name"), s("Apollo 11")}});
    EXPECT_STATUS(renamed, 200);
    EXPECT_SHAPE(projectProblem(renamed.object()));
    QCOMPARE(renamed.object().value(QLatin1String("name")).toString(), s("Apollo 11"));
    QCOMPARE(renamed.object().value(QLatin1String("description")).toString(), s("moon"));
    QCOMPARE(renamed.version(), 2);
    QCOMPARE(renamed.object().value(QLatin1String("createdAt")), p.value(QLatin1String("createdAt")));
    QVERIFY(renamed.object().value(QLatin1String("updatedAt")).toString()
            >= p.value(QLatin1String("updatedAt")).toString());

    const Reply described = patch(owner, path, {{s("description"), s("first landing\nJuly 1969")}});
    EXPECT_STATUS(described, 200);
    QCOMPARE(described.version(), 3);
    QCOMPARE(described.object().value(QLatin1String("name")).toString(), s("Apollo 11"));

    // The same values again: no new version.
    const Reply same = patch(owner, path, {{s("name"), s("Apollo 11")}});
    EXPECT_STATUS(same, 200);
    QCOMPARE(same.version(), 3);
    QCOMPARE(get(owner, path).object(), described.object());

    // Invisible to a non-member.
    EXPECT_ERROR(get(m_b->outsider, path), 404, "not_found", "");
    QVERIFY(!idsOf(get(m_b->outsider, s("/api/v1/projects")).items()).contains(id));

    const Reply deleted = del(owner, path);
    EXPECT_STATUS(deleted, 204);
    QVERIFY(deleted.body.isEmpty());
    EXPECT_ERROR(get(owner, path), 404, "not_found", "");
    EXPECT_ERROR(patch(owner, path, {{s("name"), s("again")}}), 404, "not_found", "");
    EXPECT_ERROR(del(owner, path), 404, "not_found", "");
    QVERIFY(!idsOf(get(owner, s("/api/v1/projects")).items()).contains(id));
}

void TestHttpProjects::memberRoutes()
{
    const Backend &b = *m_b;
    const Reply created = post(b.owner, s("/api/v1/projects"), {{s("name"), s("Members")}});
    EXPECT_STATUS(created, 201);
    const QString path = QStringLiteral("/api/v1/projects/%1").arg(created.id());
    const QString members = path + QStringLiteral("/members");

    EXPECT_ERROR(get(b.member, path), 404, "not_found", "");
    const Reply added = post(b.owner, members, {{s("userId"), b.member.id}});
    EXPECT_STATUS(added, 200);
    EXPECT_SHAPE(projectProblem(added.object()));
    QCOMPARE(added.id(), created.id());
    EXPECT_STATUS(get(b.member, path), 200);
    QVERIFY(idsOf(get(b.member, s("/api/v1/projects")).items()).contains(created.id()));

    EXPECT_ERROR(post(b.owner, members, {{s("userId"), b.member.id}}), 409, "conflict", "userId");
    EXPECT_ERROR(post(b.owner, members, {{s("userId"), kUnknownId}}), 422, "validation_failed", "userId");

    // Any member adds; only the owner removes someone else.
    EXPECT_STATUS(post(b.member, members, {{s("userId"), b.extra.id}}), 200);
    EXPECT_STATUS(get(b.extra, path), 200);
    EXPECT_ERROR(del(b.member, members + QStringLiteral("/%1").arg(b.extra.id)), 403, "forbidden", "");
    EXPECT_STATUS(get(b.extra, path), 200);
    const Reply removed = del(b.owner, members + QStringLiteral("/%1").arg(b.extra.id));
    EXPECT_STATUS(removed, 204);
    QVERIFY(removed.body.isEmpty());
    EXPECT_ERROR(get(b.extra, path), 404, "not_found", "");
    EXPECT_ERROR(del(b.owner, members + QStringLiteral("/%1").arg(b.extra.id)), 404, "not_found", "userId");

    // The owner can neither be removed nor leave; a non-owner member may not delete the project.
    EXPECT_ERROR(del(b.member, members + QStringLiteral("/%1").arg(b.owner.id)), 403, "forbidden", "");
    EXPECT_ERROR(del(b.owner, members + QStringLiteral("/%1").arg(b.owner.id)), 403, "forbidden", "");
    EXPECT_ERROR(del(b.member, path), 403, "forbidden", "");
    EXPECT_STATUS(get(b.owner, path), 200);

    // A member leaves.
    EXPECT_STATUS(del(b.member, members + QStringLiteral("/%1").arg(b.member.id)), 204);
    EXPECT_ERROR(get(b.member, path), 404, "not_found", "");
    QVERIFY(!idsOf(get(b.member, s("/api/v1/projects")).items()).contains(created.id()));
    // Gone for them: a former member is a non-member.
    EXPECT_ERROR(post(b.member, members, {{s("userId"), b.member.id}}), 404, "not_found", "");
}

void TestHttpProjects::taskLifecycle()
{
    const Backend &b = *m_b;
    const Reply project = post(b.owner, s("/api/v1/projects"), {{s("name"), s("Tasks")}});
    EXPECT_STATUS(project, 201);
    const qint64 projectId = project.id();
    CHECKED(addMember(projectId, b.member));
    const QString tasks = QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId);

    const Reply plain = post(b.owner, tasks, defaultTask(s("Write the spec")));
    EXPECT_STATUS(plain, 201);
    const QJsonObject t1 = plain.object();
    EXPECT_SHAPE(taskProblem(t1));
    QCOMPARE(t1.value(QLatin1String("projectId")).toInteger(), projectId);
    QCOMPARE(t1.value(QLatin1String("title")).toString(), s("Write the spec"));
    QCOMPARE(t1.value(QLatin1String("description")).toString(), QString());
    QCOMPARE(t1.value(QLatin1String("status")).toString(), s("todo"));
    QCOMPARE(t1.value(QLatin1String("priority")).toString(), s("medium"));
    QVERIFY(t1.value(QLatin1String("assigneeId")).isNull());
    QVERIFY(t1.value(QLatin1String("dueDate")).isNull());
    QCOMPARE(t1.value(QLatin1String("createdBy")).toInteger(), b.owner.id);
    QCOMPARE(t1.value(QLatin1String("version")).toInteger(), 1);

    const QJsonObject full {{s("title"), s("Ship it")},      {s("description"), s("all of it\n- tests")},
                            {s("status"), s("in_progress")}, {s("priority"), s("urgent")},
                            {s("assigneeId"), b.member.id},  {s("dueDate"), s("2026-12-31")}};
    const Reply second = post(b.member, tasks, full);
    EXPECT_STATUS(second, 201);
    const QJsonObject t2 = second.object();
    EXPECT_SHAPE(taskProblem(t2));
    for (auto it = full.constBegin(); it != full.constEnd(); ++it)
        QCOMPARE(t2.value(it.key()), it.value());
    QCOMPARE(t2.value(QLatin1String("createdBy")).toInteger(), b.member.id);

    const QString task2 = QStringLiteral("/api/v1/tasks/%1").arg(second.id());
    const Reply read = get(b.owner, task2);
    EXPECT_STATUS(read, 200);
    QVERIFY(!read.etag.isEmpty());
    QCOMPARE(read.object(), t2);
    QCOMPARE(get(b.member, task2).object(), t2);
    EXPECT_ERROR(get(b.outsider, task2), 404, "not_found", "");

    const Reply review = patch(b.member, task2, {{s("status"), s("review")}});
    EXPECT_STATUS(review, 200);
    EXPECT_SHAPE(taskProblem(review.object()));
    QCOMPARE(review.object().value(QLatin1String("status")).toString(), s("review"));
    QCOMPARE(review.object().value(QLatin1String("title")).toString(), s("Ship it"));
    QCOMPARE(review.object().value(QLatin1String("assigneeId")).toInteger(), b.member.id);
    QCOMPARE(review.version(), 2);

    // null clears the tri-state fields
    const Reply cleared
        = patch(b.owner, task2, {{s("assigneeId"), QJsonValue::Null}, {s("dueDate"), QJsonValue::Null}});
    EXPECT_STATUS(cleared, 200);
    QVERIFY(cleared.object().value(QLatin1String("assigneeId")).isNull());
    QVERIFY(cleared.object().value(QLatin1String("dueDate")).isNull());
    QCOMPARE(cleared.object().value(QLatin1String("status")).toString(), s("review"));
    QCOMPARE(cleared.version(), 3);

    const QJsonObject everything {{s("title"), s("Shipped")},    {s("description"), s("done")},
                                  {s("status"), s("done")},      {s("priority"), s("low")},
                                  {s("assigneeId"), b.owner.id}, {s("dueDate"), s("2027-01-15")}};
    const Reply changed = patch(b.owner, task2, everything);
    EXPECT_STATUS(changed, 200);
    for (auto it = everything.constBegin(); it != everything.constEnd(); ++it)
        QCOMPARE(changed.object().value(it.key()), it.value());
    QCOMPARE(changed.version(), 4);
    QCOMPARE(changed.object().value(QLatin1String("createdAt")), t2.value(QLatin1String("createdAt")));
    const Reply unchanged = patch(b.owner, task2, everything);
    EXPECT_STATUS(unchanged, 200);
    QCOMPARE(unchanged.object(), changed.object());
    QCOMPARE(get(b.owner, task2).object(), changed.object());

    const Reply list = get(b.member, tasks);
    EXPECT_STATUS(list, 200);
    EXPECT_SHAPE(pageProblem(list.object(), taskProblem));
    QCOMPARE(idsOf(list.items()), (QList<qint64> {second.id(), plain.id()})); // newest first
    QVERIFY(list.object().value(QLatin1String("nextCursor")).isNull());

    const Reply deleted = del(b.member, task2);
    EXPECT_STATUS(deleted, 204);
    QVERIFY(deleted.body.isEmpty());
    EXPECT_ERROR(get(b.owner, task2), 404, "not_found", "");
    EXPECT_ERROR(patch(b.owner, task2, {{s("title"), s("x")}}), 404, "not_found", "");
    EXPECT_ERROR(del(b.owner, task2), 404, "not_found", "");
    QCOMPARE(idsOf(get(b.owner, tasks).items()), QList<qint64> {plain.id()});

    // Deleting the project takes its tasks with it.
    EXPECT_STATUS(del(b.owner, QStringLiteral("/api/v1/projects/%1").arg(projectId)), 204);
    const QString task1 = QStringLiteral("/api/v1/tasks/%1").arg(plain.id());
    EXPECT_ERROR(get(b.owner, task1), 404, "not_found", "");
    EXPECT_ERROR(patch(b.owner, task1, {{s("title"), s("x")}}), 404, "not_found", "");
    EXPECT_ERROR(get(b.owner, tasks), 404, "not_found", "");
    EXPECT_ERROR(post(b.owner, tasks, defaultTask(s("late"))), 404, "not_found", "");
}

void TestHttpProjects::etagAndIfNoneMatch()
{
    World w;
    CHECKED(makeWorld(w));
    const Account &owner = m_b->owner;
    const QStringList paths {s("/api/v1/projects"), QStringLiteral("/api/v1/projects/%1").arg(w.project),
                             QStringLiteral("/api/v1/projects/%1/tasks").arg(w.project),
                             QStringLiteral("/api/v1/tasks/%1").arg(w.task)};
    QList<QByteArray> etags;
    for (const QString &path : paths) {
        const Reply first = get(owner, path);
        EXPECT_STATUS(first, 200);
        QVERIFY2(!first.etag.isEmpty(), qPrintable(path));
        const Reply again = get(owner, path);
        QCOMPARE(again.etag, first.etag); // stable while nothing changes
        const Reply cached = get(owner, path, {{"If-None-Match", first.etag}});
        EXPECT_STATUS(cached, 304);
        QVERIFY(cached.body.isEmpty());
        QCOMPARE(cached.etag, first.etag);
        EXPECT_STATUS(get(owner, path, {{"If-None-Match", "W/\"something-else\""}}), 200);
        etags << first.etag;
    }

    // A change of the project changes the ETags of the project and the list of projects; a
    // change of the task those of the task and the task list.
    EXPECT_STATUS(patch(owner, paths[1], {{s("name"), s("Renamed")}}), 200);
    EXPECT_STATUS(patch(owner, paths[3], {{s("status"), s("done")}}), 200);
    for (qsizetype i = 0; i < paths.size(); ++i) {
        const Reply stale = get(owner, paths[i], {{"If-None-Match", etags[i]}});
        EXPECT_STATUS(stale, 200);
        QVERIFY2(!stale.etag.isEmpty() && stale.etag != etags[i], qPrintable(paths[i]));
        EXPECT_STATUS(get(owner, paths[i], {{"If-None-Match", stale.etag}}), 304);
    }
}

void TestHttpProjects::ifMatch_data()
{
    QTest::addColumn<QString>("resource");
    QTest::addColumn<QByteArray>("ifMatch");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("field");
    struct Row {
        const char *name;
        QByteArray value;
        int status;
    };
    const Row rows[] = {
        {"current version", "1", 200}, {"current version quoted", "\"1\"", 200},
        {"any version", "*", 200},     {"older version", "2", 412},
        {"version 0", "0", 412},       {"other version quoted", "\"7\"", 412},
        {"not a number", "abc", 400},  {"weak etag", "W/\"1\"", 400},
        {"negative", "-1", 400},       {"fraction", "1.0", 400},
        {"half quoted", "\"1", 400},   {"too many digits", "123456789012345678901234", 400},
    };
    for (const char *resource : {"project", "task"}) {
        for (const Row &row : rows) {
            QTest::addRow("%s: %s", resource, row.name)
                << s(resource) << row.value << row.status << (row.status == 400 ? s("If-Match") : QString());
        }
    }
}

void TestHttpProjects::ifMatch()
{
    QFETCH(QString, resource);
    QFETCH(QByteArray, ifMatch);
    QFETCH(int, status);
    QFETCH(QString, field);
    World w;
    CHECKED(makeWorld(w));
    const bool project = resource == QLatin1String("project");
    const QString path = project ? QStringLiteral("/api/v1/projects/%1").arg(w.project)
                                 : QStringLiteral("/api/v1/tasks/%1").arg(w.task);
    const QJsonObject change = project ? QJsonObject {{s("name"), s("Changed")}} : QJsonObject {{s("title"), s("x")}};
    const Reply r = patch(m_b->member, path, change, {{"If-Match", ifMatch}});
    EXPECT_STATUS(r, status);
    if (status == 200) {
        QCOMPARE(r.version(), 2);
        QCOMPARE(get(m_b->owner, path).version(), 2);
        // The version just seen is the one to send next; after that it is stale.
        const QString key = project ? s("name") : s("title");
        const Reply next = patch(m_b->owner, path, {{key, s("second")}}, {{"If-Match", "2"}});
        EXPECT_STATUS(next, 200);
        QCOMPARE(next.version(), 3);
        EXPECT_ERROR(patch(m_b->owner, path, {{key, s("third")}}, {{"If-Match", "2"}}), 412, "precondition_failed", "");
        QCOMPARE(get(m_b->owner, path).object().value(key).toString(), s("second"));
        return;
    }
    QCOMPARE(r.errorCode(), codeForStatus(status));
    QCOMPARE(r.errorField(), field);
    CHECKED(verifyUntouched(w));
}

void TestHttpProjects::pagination()
{
    const Account &owner = m_b->owner;
    const Reply project = post(owner, s("/api/v1/projects"), {{s("name"), s("Many")}});
    EXPECT_STATUS(project, 201);
    const QString tasks = QStringLiteral("/api/v1/projects/%1/tasks").arg(project.id());
    constexpr int kCount = 120;
    QList<qint64> created;
    for (int i = 0; i < kCount; ++i) {
        QJsonObject t;
        CHECKED(createTask(project.id(), owner, defaultTask(QStringLiteral("task %1").arg(i)), &t));
        created.append(t.value(QLatin1String("id")).toInteger());
    }

    QList<qint64> seen;
    QList<int> pageSizes;
    QString cursor;
    QList<QByteArray> etags;
    for (int page = 0; page < 10; ++page) {
        QString path = tasks + QStringLiteral("?limit=50");
        if (!cursor.isEmpty())
            path += QStringLiteral("&cursor=") + cursor;
        const Reply r = get(owner, path);
        EXPECT_STATUS(r, 200);
        EXPECT_SHAPE(pageProblem(r.object(), taskProblem));
        QVERIFY(!r.etag.isEmpty());
        etags << r.etag;
        const QList<qint64> ids = idsOf(r.items());
        pageSizes << int(ids.size());
        seen += ids;
        const QJsonValue next = r.object().value(QLatin1String("nextCursor"));
        if (next.isNull())
            break;
        cursor = next.toString();
    }
    QCOMPARE(pageSizes, (QList<int> {50, 50, 20}));
    QCOMPARE(QSet<qint64>(seen.cbegin(), seen.cend()).size(), kCount); // each task once
    QList<qint64> newestFirst = created;
    std::reverse(newestFirst.begin(), newestFirst.end());
    QCOMPARE(seen, newestFirst);
    QCOMPARE(QSet<QByteArray>(etags.cbegin(), etags.cend()).size(), 3);

    // Default limit 50; a larger limit than 200 is clamped, not an error.
    const Reply defaults = get(owner, tasks);
    EXPECT_STATUS(defaults, 200);
    QCOMPARE(defaults.items().size(), 50);
    QVERIFY(defaults.object().value(QLatin1String("nextCursor")).isString());
    const Reply large = get(owner, tasks + QStringLiteral("?limit=100000"));
    EXPECT_STATUS(large, 200);
    QCOMPARE(idsOf(large.items()), newestFirst);
    QVERIFY(large.object().value(QLatin1String("nextCursor")).isNull());
    const Reply exact = get(owner, tasks + QStringLiteral("?limit=120"));
    QCOMPARE(exact.items().size(), kCount);
    QVERIFY(exact.object().value(QLatin1String("nextCursor")).isNull()); // no empty last page

    // A task deleted between two pages is simply not on the next one.
    const Reply first = get(owner, tasks + QStringLiteral("?limit=50"));
    EXPECT_STATUS(del(owner, QStringLiteral("/api/v1/tasks/%1").arg(newestFirst[60])), 204);
    const Reply second = get(owner,
                             tasks + QStringLiteral("?limit=50&cursor=")
                                 + first.object().value(QLatin1String("nextCursor")).toString());
    EXPECT_STATUS(second, 200);
    QCOMPARE(second.items().size(), 50);
    QVERIFY(!idsOf(second.items()).contains(newestFirst[60]));
    QCOMPARE(idsOf(second.items()).constFirst(), newestFirst[50]);
}

void TestHttpProjects::filters()
{
    const Backend &b = *m_b;
    const Reply project = post(b.owner, s("/api/v1/projects"), {{s("name"), s("Filters")}});
    EXPECT_STATUS(project, 201);
    const qint64 projectId = project.id();
    CHECKED(addMember(projectId, b.member));
    const QString tasks = QStringLiteral("/api/v1/projects/%1/tasks").arg(projectId);
    const QStringList statuses {s("todo"), s("in_progress"), s("review"), s("done")};
    const QList<std::optional<qint64>> assignees {b.owner.id, b.member.id, std::nullopt};
    struct Made {
        qint64 id;
        QString status;
        std::optional<qint64> assignee;
    };
    QList<Made> made; // oldest first
    for (int i = 0; i < 24; ++i) {
        QJsonObject fields = defaultTask(QStringLiteral("f%1").arg(i));
        fields.insert(s("status"), statuses[i % 4]);
        const std::optional<qint64> assignee = assignees[(i / 4) % 3];
        fields.insert(s("assigneeId"), assignee ? QJsonValue(*assignee) : QJsonValue(QJsonValue::Null));
        QJsonObject t;
        CHECKED(createTask(projectId, b.owner, fields, &t));
        made.append(Made {t.value(QLatin1String("id")).toInteger(), statuses[i % 4], assignee});
    }
    // Newest first, the ones that match.
    const auto expected = [&made](const std::optional<QString> &status, const std::optional<qint64> &assignee) {
        QList<qint64> ids;
        for (auto it = made.crbegin(); it != made.crend(); ++it) {
            if ((!status || it->status == *status) && (!assignee || it->assignee == *assignee))
                ids.append(it->id);
        }
        return ids;
    };
    // Every page of a query, walked with a small limit.
    const auto walk = [this, &b, &tasks](const QString &query, int limit) {
        QList<qint64> ids;
        QString cursor;
        for (int page = 0; page < 50; ++page) {
            QString path = tasks + QStringLiteral("?limit=%1").arg(limit) + query;
            if (!cursor.isEmpty())
                path += QStringLiteral("&cursor=") + cursor;
            const Reply r = get(b.owner, path);
            if (r.status != 200)
                return QList<qint64> {-r.status};
            ids += idsOf(r.items());
            const QJsonValue next = r.object().value(QLatin1String("nextCursor"));
            if (next.isNull())
                break;
            cursor = next.toString();
        }
        return ids;
    };

    for (const QString &status : statuses) {
        QCOMPARE(walk(QStringLiteral("&status=") + status, 50), expected(status, std::nullopt));
        QCOMPARE(walk(QStringLiteral("&status=") + status, 2), expected(status, std::nullopt));
    }
    for (const qint64 assignee : {b.owner.id, b.member.id}) {
        QCOMPARE(walk(QStringLiteral("&assigneeId=%1").arg(assignee), 50), expected(std::nullopt, assignee));
        QCOMPARE(walk(QStringLiteral("&assigneeId=%1").arg(assignee), 3), expected(std::nullopt, assignee));
        for (const QString &status : statuses) {
            QCOMPARE(walk(QStringLiteral("&status=%1&assigneeId=%2").arg(status).arg(assignee), 1),
                     expected(status, assignee));
        }
    }
    QCOMPARE(walk(QStringLiteral("&assigneeId=%1").arg(b.outsider.id), 50), QList<qint64> {});
    QCOMPARE(walk(QStringLiteral("&assigneeId=%1").arg(kUnknownId), 50), QList<qint64> {});
    QCOMPARE(walk(QStringLiteral("&status="), 7), expected(std::nullopt, std::nullopt)); // empty = absent
    QCOMPARE(walk(QString(), 5), expected(std::nullopt, std::nullopt));

    // A change moves a task between filtered lists.
    const Made &moved = made.first();
    EXPECT_STATUS(patch(b.member, QStringLiteral("/api/v1/tasks/%1").arg(moved.id),
                        {{s("status"), s("done")}, {s("assigneeId"), b.member.id}}),
                  200);
    QVERIFY(walk(QStringLiteral("&status=done&assigneeId=%1").arg(b.member.id), 50).contains(moved.id));
    QVERIFY(!walk(QStringLiteral("&status=todo"), 50).contains(moved.id));
}

void TestHttpProjects::sqlMetacharactersStoredVerbatim()
{
    const Account &owner = m_b->owner;
    const QString name = s("x'); DROP TABLE projects; --");
    const QString description
        = QString::fromUtf8("%_\\ \" ' ; -- /* */ OR 1=1 $1 ? :name \\x00 \\' \u00e9\u4e2d\U0001F600\n\ttab");
    const Reply p = post(owner, s("/api/v1/projects"), {{s("name"), name}, {s("description"), description}});
    EXPECT_STATUS(p, 201);
    QCOMPARE(p.object().value(QLatin1String("name")).toString(), name);
    QCOMPARE(p.object().value(QLatin1String("description")).toString(), description);
    const QString path = QStringLiteral("/api/v1/projects/%1").arg(p.id());
    QCOMPARE(get(owner, path).object().value(QLatin1String("name")).toString(), name);
    QCOMPARE(get(owner, path).object().value(QLatin1String("description")).toString(), description);

    const QString title = s("Robert'); DELETE FROM tasks WHERE ''='");
    QJsonObject t;
    CHECKED(createTask(p.id(), owner, {{s("title"), title}, {s("description"), description}}, &t));
    const QString taskPath = QStringLiteral("/api/v1/tasks/%1").arg(t.value(QLatin1String("id")).toInteger());
    QCOMPARE(get(owner, taskPath).object().value(QLatin1String("title")).toString(), title);
    QCOMPARE(get(owner, taskPath).object().value(QLatin1String("description")).toString(), description);
    const QString renamed = s("100% \"done\" _ \\ '; SELECT 1; --");
    EXPECT_STATUS(patch(owner, taskPath, {{s("title"), renamed}}), 200);
    QCOMPARE(get(owner, taskPath).object().value(QLatin1String("title")).toString(), renamed);
    EXPECT_STATUS(patch(owner, path, {{s("name"), renamed}}), 200);
    QCOMPARE(get(owner, path).object().value(QLatin1String("name")).toString(), renamed);

    // Everything else is still there.
    const Reply list = get(owner, path + QStringLiteral("/tasks"));
    EXPECT_STATUS(list, 200);
    QCOMPARE(list.items().size(), 1);
    QVERIFY(idsOf(get(owner, s("/api/v1/projects")).items()).size() >= 1);

    // Metacharacters in path and query are no ids, no statuses, no cursors.
    EXPECT_ERROR(get(owner, s("/api/v1/projects/1%20OR%201=1")), 404, "not_found", "");
    EXPECT_ERROR(get(owner, path + QStringLiteral("/tasks?status=todo'%20OR%20'1'='1")), 400, "bad_request", "status");
    EXPECT_ERROR(get(owner, path + QStringLiteral("/tasks?assigneeId=1%3B%20DROP%20TABLE%20tasks")), 400, "bad_request",
                 "assigneeId");
}

// ---- Authorization matrix --------------------------------------------------------------------

void TestHttpProjects::authorization_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("caller");
    QTest::addColumn<int>("status");
    struct Route {
        const char *method;
        const char *path;
        const char *body;
        int owner;
        int member; // a member who is not the owner
        int nonMember;
    };
    const Route routes[] = {
        {"GET", "/api/v1/projects", nullptr, 200, 200, 200},
        {"POST", "/api/v1/projects", R"({"name":"new"})", 201, 201, 201},
        {"GET", "/api/v1/projects/{p}", nullptr, 200, 200, 404},
        {"PATCH", "/api/v1/projects/{p}", R"({"name":"changed"})", 200, 200, 404},
        {"DELETE", "/api/v1/projects/{p}", nullptr, 204, 403, 404},
        {"POST", "/api/v1/projects/{p}/members", R"({"userId":{spare}})", 200, 200, 404},
        {"DELETE", "/api/v1/projects/{p}/members/{extra}", nullptr, 204, 403, 404},
        {"GET", "/api/v1/projects/{p}/tasks", nullptr, 200, 200, 404},
        {"POST", "/api/v1/projects/{p}/tasks", R"({"title":"new"})", 201, 201, 404},
        {"GET", "/api/v1/tasks/{t}", nullptr, 200, 200, 404},
        {"PATCH", "/api/v1/tasks/{t}", R"({"status":"done"})", 200, 200, 404},
        {"DELETE", "/api/v1/tasks/{t}", nullptr, 204, 204, 404},
    };
    for (const Route &r : routes) {
        const std::pair<const char *, int> callers[] = {
            {"owner", r.owner}, {"member", r.member},   {"non-member", r.nonMember},
            {"no token", 401},  {"unknown token", 401}, {"logged-out token", 401},
        };
        for (const auto &[caller, status] : callers) {
            QTest::addRow("%s %s as %s", r.method, r.path, caller)
                << QByteArray(r.method) << s(r.path) << (r.body ? QByteArray(r.body) : QByteArray()) << s(caller)
                << status;
        }
    }
}

void TestHttpProjects::authorization()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    QFETCH(QString, caller);
    QFETCH(int, status);
    World w;
    CHECKED(makeWorld(w));
    QByteArray token;
    if (caller == QLatin1String("owner"))
        token = m_b->owner.token;
    else if (caller == QLatin1String("member"))
        token = m_b->member.token;
    else if (caller == QLatin1String("non-member"))
        token = m_b->outsider.token;
    else if (caller == QLatin1String("unknown token"))
        token = QByteArrayLiteral("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    else if (caller == QLatin1String("logged-out token"))
        token = m_b->loggedOut.token;
    const QString target = expand(path, w);
    const QByteArray payload = expand(QString::fromUtf8(body), w).toUtf8();
    const Reply r
        = request(method, target, token, body.isNull() ? QByteArray() : payload, body.isNull() ? QByteArray() : kJson);
    EXPECT_STATUS(r, status);
    if (status >= 400) {
        QCOMPARE(r.errorCode(), codeForStatus(status));
        QCOMPARE(r.errorField(), QString());
        CHECKED(verifyUntouched(w));
        return;
    }
    // Successes answer the resource of docs/protocol.md.
    const bool list
        = method == "GET" && (target.endsWith(QLatin1String("/projects")) || target.endsWith(QLatin1String("/tasks")));
    if (status == 204) {
        QVERIFY(r.body.isEmpty());
    } else if (list) {
        const bool tasks = target.endsWith(QLatin1String("/tasks"));
        EXPECT_SHAPE(pageProblem(r.object(), tasks ? taskProblem : projectProblem));
        QCOMPARE(idsOf(r.items()).contains(tasks ? w.task : w.project), caller != QLatin1String("non-member"));
    } else if (target.contains(QLatin1String("/tasks")) && !target.endsWith(QLatin1String("/members"))) {
        EXPECT_SHAPE(taskProblem(r.object()));
    } else {
        EXPECT_SHAPE(projectProblem(r.object()));
    }
    if (method == "DELETE" && target.contains(QLatin1String("/tasks/")))
        EXPECT_STATUS(get(m_b->owner, target), 404);
    else if (method == "DELETE" && target.contains(QLatin1String("/members/")))
        EXPECT_STATUS(get(m_b->extra, QStringLiteral("/api/v1/projects/%1").arg(w.project)), 404);
    else if (method == "DELETE")
        EXPECT_STATUS(get(m_b->owner, target), 404);
    else if (target.endsWith(QLatin1String("/members")))
        EXPECT_STATUS(get(m_b->spare, QStringLiteral("/api/v1/projects/%1").arg(w.project)), 200);
}

// ---- Bad input -------------------------------------------------------------------------------

void TestHttpProjects::badInput_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("ifMatch");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("field");

    const QByteArray json = kJson;
    const QByteArray none; // no Content-Type header
    const QByteArray huge = "{\"name\":\"" + QByteArray(1024 * 1024, 'a') + "\"}";
    const QByteArray hugeTitle = "{\"title\":\"" + QByteArray(1024 * 1024, 'a') + "\"}";
    const QByteArray longName = "\"" + QByteArray(101, 'n') + "\"";
    const QByteArray longTitle = "\"" + QByteArray(201, 't') + "\"";
    const QByteArray longDescription = "\"" + QByteArray(10001, 'd') + "\"";
    const auto row = [](const char *name, const char *method, const char *path, const QByteArray &contentType,
                        const QByteArray &body, int status, const char *field = "", const QByteArray &ifMatch = {}) {
        QTest::newRow(name) << QByteArray(method) << s(path) << contentType << body << ifMatch << status << s(field);
    };

    // POST /api/v1/projects
    row("create project: malformed JSON", "POST", "/api/v1/projects", json, R"({"name":)", 400);
    row("create project: JSON array", "POST", "/api/v1/projects", json, R"([{"name":"a"}])", 400);
    row("create project: JSON string", "POST", "/api/v1/projects", json, R"("a")", 400);
    row("create project: empty body", "POST", "/api/v1/projects", json, "", 400);
    row("create project: invalid UTF-8", "POST", "/api/v1/projects", json, "{\"name\":\"\xff\xfe\"}", 400);
    row("create project: no Content-Type", "POST", "/api/v1/projects", none, R"({"name":"a"})", 415);
    row("create project: text/plain", "POST", "/api/v1/projects", "text/plain", R"({"name":"a"})", 415);
    row("create project: form", "POST", "/api/v1/projects", "application/x-www-form-urlencoded", "name=a", 415);
    row("create project: name number", "POST", "/api/v1/projects", json, R"({"name":5})", 422, "name");
    row("create project: name null", "POST", "/api/v1/projects", json, R"({"name":null})", 422, "name");
    row("create project: name object", "POST", "/api/v1/projects", json, R"({"name":{}})", 422, "name");
    row("create project: name missing", "POST", "/api/v1/projects", json, R"({"description":"d"})", 422, "name");
    row("create project: name empty", "POST", "/api/v1/projects", json, R"({"name":""})", 422, "name");
    row("create project: name 101 chars", "POST", "/api/v1/projects", json, "{\"name\":" + longName + "}", 422, "name");
    row("create project: name control char", "POST", "/api/v1/projects", json, R"({"name":"a\u0000b"})", 422, "name");
    row("create project: description number", "POST", "/api/v1/projects", json, R"({"name":"a","description":1})", 422,
        "description");
    row("create project: description too long", "POST", "/api/v1/projects", json,
        "{\"name\":\"a\",\"description\":" + longDescription + "}", 422, "description");
    row("create project: lone surrogate", "POST", "/api/v1/projects", json, R"({"name":"a\ud800"})", 422, "name");
    row("create project: body over 1 MiB", "POST", "/api/v1/projects", json, huge, 413);
    row("create project: charset parameter", "POST", "/api/v1/projects", "application/json; charset=utf-8",
        R"({"name":"ok"})", 201);
    row("create project: wrong method", "PUT", "/api/v1/projects", json, R"({"name":"a"})", 405);

    // GET / PATCH / DELETE /api/v1/projects/{id}
    for (const char *method : {"GET", "DELETE"}) {
        const QByteArray m(method);
        QTest::addRow("%s project: unknown id", method)
            << m << s("/api/v1/projects/{unknown}") << none << QByteArray() << QByteArray() << 404 << QString();
        for (const char *id : {"abc", "0", "-1", "1.5", "012", "99999999999999999999", "1e3"}) {
            QTest::addRow("%s project: id %s", method, id) << m << QStringLiteral("/api/v1/projects/%1").arg(s(id))
                                                           << none << QByteArray() << QByteArray() << 404 << QString();
        }
    }
    row("patch project: malformed JSON", "PATCH", "/api/v1/projects/{p}", json, "{name:1}", 400);
    row("patch project: JSON array", "PATCH", "/api/v1/projects/{p}", json, "[]", 400);
    row("patch project: no Content-Type", "PATCH", "/api/v1/projects/{p}", none, R"({"name":"a"})", 415);
    row("patch project: text/plain", "PATCH", "/api/v1/projects/{p}", "text/plain", R"({"name":"a"})", 415);
    row("patch project: no field", "PATCH", "/api/v1/projects/{p}", json, "{}", 422);
    row("patch project: only unknown fields", "PATCH", "/api/v1/projects/{p}", json, R"({"title":"a"})", 422);
    row("patch project: name number", "PATCH", "/api/v1/projects/{p}", json, R"({"name":5})", 422, "name");
    row("patch project: name null", "PATCH", "/api/v1/projects/{p}", json, R"({"name":null})", 422, "name");
    row("patch project: name empty", "PATCH", "/api/v1/projects/{p}", json, R"({"name":""})", 422, "name");
    row("patch project: name 101 chars", "PATCH", "/api/v1/projects/{p}", json, "{\"name\":" + longName + "}", 422,
        "name");
    row("patch project: description array", "PATCH", "/api/v1/projects/{p}", json, R"({"description":[]})", 422,
        "description");
    row("patch project: malformed If-Match", "PATCH", "/api/v1/projects/{p}", json, R"({"name":"a"})", 400, "If-Match",
        "v1");
    row("patch project: unknown id", "PATCH", "/api/v1/projects/{unknown}", json, R"({"name":"a"})", 404);
    row("patch project: id abc", "PATCH", "/api/v1/projects/abc", json, R"({"name":"a"})", 404);
    row("patch project: body over 1 MiB", "PATCH", "/api/v1/projects/{p}", json, huge, 413);
    row("project: wrong method", "PUT", "/api/v1/projects/{p}", json, R"({"name":"a"})", 405);

    // POST /api/v1/projects/{id}/members, DELETE .../members/{userId}
    row("add member: malformed JSON", "POST", "/api/v1/projects/{p}/members", json, R"({"userId":})", 400);
    row("add member: JSON array", "POST", "/api/v1/projects/{p}/members", json, "[{spare}]", 400);
    row("add member: no Content-Type", "POST", "/api/v1/projects/{p}/members", none, R"({"userId":{spare}})", 415);
    row("add member: text/plain", "POST", "/api/v1/projects/{p}/members", "text/plain", R"({"userId":{spare}})", 415);
    row("add member: userId string", "POST", "/api/v1/projects/{p}/members", json, R"({"userId":"{spare}"})", 422,
        "userId");
    row("add member: userId missing", "POST", "/api/v1/projects/{p}/members", json, "{}", 422, "userId");
    row("add member: userId 0", "POST", "/api/v1/projects/{p}/members", json, R"({"userId":0})", 422, "userId");
    row("add member: userId negative", "POST", "/api/v1/projects/{p}/members", json, R"({"userId":-4})", 422, "userId");
    row("add member: userId fraction", "POST", "/api/v1/projects/{p}/members", json, R"({"userId":1.5})", 422,
        "userId");
    row("add member: userId unknown", "POST", "/api/v1/projects/{p}/members", json, R"({"userId":{unknown}})", 422,
        "userId");
    row("add member: already a member", "POST", "/api/v1/projects/{p}/members", json, R"({"userId":{member}})", 409,
        "userId");
    row("add member: unknown project", "POST", "/api/v1/projects/{unknown}/members", json, R"({"userId":{spare}})",
        404);
    row("add member: project abc", "POST", "/api/v1/projects/abc/members", json, R"({"userId":{spare}})", 404);
    row("add member: body over 1 MiB", "POST", "/api/v1/projects/{p}/members", json, huge, 413);
    row("remove member: not a member", "DELETE", "/api/v1/projects/{p}/members/{outsider}", none, {}, 404, "userId");
    row("remove member: unknown user", "DELETE", "/api/v1/projects/{p}/members/{unknown}", none, {}, 404, "userId");
    row("remove member: user abc", "DELETE", "/api/v1/projects/{p}/members/abc", none, {}, 404);
    row("remove member: the owner", "DELETE", "/api/v1/projects/{p}/members/{owner}", none, {}, 403);
    row("remove member: unknown project", "DELETE", "/api/v1/projects/{unknown}/members/{member}", none, {}, 404);
    row("members: wrong method", "GET", "/api/v1/projects/{p}/members", none, {}, 405);

    // GET /api/v1/projects/{id}/tasks
    row("list tasks: status DONE", "GET", "/api/v1/projects/{p}/tasks?status=DONE", none, {}, 400, "status");
    row("list tasks: status twice", "GET", "/api/v1/projects/{p}/tasks?status=done&status=todo", none, {}, 400,
        "status");
    row("list tasks: limit 0", "GET", "/api/v1/projects/{p}/tasks?limit=0", none, {}, 400, "limit");
    row("list tasks: limit negative", "GET", "/api/v1/projects/{p}/tasks?limit=-5", none, {}, 400, "limit");
    row("list tasks: limit abc", "GET", "/api/v1/projects/{p}/tasks?limit=abc", none, {}, 400, "limit");
    row("list tasks: limit fraction", "GET", "/api/v1/projects/{p}/tasks?limit=2.5", none, {}, 400, "limit");
    row("list tasks: cursor garbage", "GET", "/api/v1/projects/{p}/tasks?cursor=!!!", none, {}, 400, "cursor");
    row("list tasks: cursor not ours", "GET", "/api/v1/projects/{p}/tasks?cursor=eHx5", none, {}, 400, "cursor");
    row("list tasks: assigneeId abc", "GET", "/api/v1/projects/{p}/tasks?assigneeId=abc", none, {}, 400, "assigneeId");
    row("list tasks: assigneeId 0", "GET", "/api/v1/projects/{p}/tasks?assigneeId=0", none, {}, 400, "assigneeId");
    row("list tasks: unknown project", "GET", "/api/v1/projects/{unknown}/tasks", none, {}, 404);
    row("list tasks: project abc", "GET", "/api/v1/projects/abc/tasks", none, {}, 404);

    // POST /api/v1/projects/{id}/tasks
    const char *tasks = "/api/v1/projects/{p}/tasks";
    row("create task: malformed JSON", "POST", tasks, json, R"({"title":"a",})", 400);
    row("create task: JSON array", "POST", tasks, json, R"([{"title":"a"}])", 400);
    row("create task: JSON number", "POST", tasks, json, "42", 400);
    row("create task: no Content-Type", "POST", tasks, none, R"({"title":"a"})", 415);
    row("create task: text/plain", "POST", tasks, "text/plain", R"({"title":"a"})", 415);
    row("create task: title number", "POST", tasks, json, R"({"title":5})", 422, "title");
    row("create task: title missing", "POST", tasks, json, R"({"status":"todo"})", 422, "title");
    row("create task: title empty", "POST", tasks, json, R"({"title":""})", 422, "title");
    row("create task: title 201 chars", "POST", tasks, json, "{\"title\":" + longTitle + "}", 422, "title");
    row("create task: title newline", "POST", tasks, json, R"({"title":"a\nb"})", 422, "title");
    row("create task: description too long", "POST", tasks, json,
        "{\"title\":\"a\",\"description\":" + longDescription + "}", 422, "description");
    row("create task: description NUL", "POST", tasks, json, R"({"title":"a","description":"x\u0000y"})", 422,
        "description");
    row("create task: status DONE", "POST", tasks, json, R"({"title":"a","status":"DONE"})", 422, "status");
    row("create task: status number", "POST", tasks, json, R"({"title":"a","status":3})", 422, "status");
    row("create task: status null", "POST", tasks, json, R"({"title":"a","status":null})", 422, "status");
    row("create task: priority critical", "POST", tasks, json, R"({"title":"a","priority":"critical"})", 422,
        "priority");
    row("create task: assigneeId string", "POST", tasks, json, R"({"title":"a","assigneeId":"{member}"})", 422,
        "assigneeId");
    row("create task: assigneeId not a member", "POST", tasks, json, R"({"title":"a","assigneeId":{outsider}})", 422,
        "assigneeId");
    row("create task: assigneeId unknown", "POST", tasks, json, R"({"title":"a","assigneeId":{unknown}})", 422,
        "assigneeId");
    row("create task: dueDate not a date", "POST", tasks, json, R"({"title":"a","dueDate":"2026-02-30"})", 422,
        "dueDate");
    row("create task: dueDate timestamp", "POST", tasks, json, R"({"title":"a","dueDate":"2026-02-03T00:00:00.000Z"})",
        422, "dueDate");
    row("create task: dueDate number", "POST", tasks, json, R"({"title":"a","dueDate":20260101})", 422, "dueDate");
    row("create task: unknown project", "POST", "/api/v1/projects/{unknown}/tasks", json, R"({"title":"a"})", 404);
    row("create task: body over 1 MiB", "POST", tasks, json, hugeTitle, 413);
    row("tasks: wrong method", "DELETE", tasks, none, {}, 405);

    // GET / PATCH / DELETE /api/v1/tasks/{id}
    for (const char *method : {"GET", "DELETE"}) {
        const QByteArray m(method);
        QTest::addRow("%s task: unknown id", method)
            << m << s("/api/v1/tasks/{unknown}") << none << QByteArray() << QByteArray() << 404 << QString();
        for (const char *id : {"abc", "0", "-1", "99999999999999999999"}) {
            QTest::addRow("%s task: id %s", method, id) << m << QStringLiteral("/api/v1/tasks/%1").arg(s(id)) << none
                                                        << QByteArray() << QByteArray() << 404 << QString();
        }
    }
    const char *task = "/api/v1/tasks/{t}";
    row("patch task: malformed JSON", "PATCH", task, json, R"({"title" "a"})", 400);
    row("patch task: JSON array", "PATCH", task, json, R"([])", 400);
    row("patch task: JSON null", "PATCH", task, json, "null", 400);
    row("patch task: no Content-Type", "PATCH", task, none, R"({"title":"a"})", 415);
    row("patch task: text/plain", "PATCH", task, "text/plain", R"({"title":"a"})", 415);
    row("patch task: no field", "PATCH", task, json, "{}", 422);
    row("patch task: title number", "PATCH", task, json, R"({"title":1})", 422, "title");
    row("patch task: title empty", "PATCH", task, json, R"({"title":""})", 422, "title");
    row("patch task: title null", "PATCH", task, json, R"({"title":null})", 422, "title");
    row("patch task: title 201 chars", "PATCH", task, json, "{\"title\":" + longTitle + "}", 422, "title");
    row("patch task: status DONE", "PATCH", task, json, R"({"status":"DONE"})", 422, "status");
    row("patch task: priority null", "PATCH", task, json, R"({"priority":null})", 422, "priority");
    row("patch task: assigneeId not a member", "PATCH", task, json, R"({"assigneeId":{outsider}})", 422, "assigneeId");
    row("patch task: assigneeId boolean", "PATCH", task, json, R"({"assigneeId":true})", 422, "assigneeId");
    row("patch task: dueDate word", "PATCH", task, json, R"({"dueDate":"tomorrow"})", 422, "dueDate");
    row("patch task: malformed If-Match", "PATCH", task, json, R"({"title":"a"})", 400, "If-Match", "W/\"x\"");
    row("patch task: unknown id", "PATCH", "/api/v1/tasks/{unknown}", json, R"({"title":"a"})", 404);
    row("patch task: id abc", "PATCH", "/api/v1/tasks/abc", json, R"({"title":"a"})", 404);
    row("patch task: body over 1 MiB", "PATCH", task, json, hugeTitle, 413);
    row("task: wrong method", "POST", task, json, R"({"title":"a"})", 405);
}

void TestHttpProjects::badInput()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, path);
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, ifMatch);
    QFETCH(int, status);
    QFETCH(QString, field);
    World w;
    CHECKED(makeWorld(w));
    Headers headers;
    if (!ifMatch.isEmpty())
        headers.append({"If-Match", ifMatch});
    // The JSON of the bodies is built from the placeholders as bytes: invalid UTF-8 stays invalid.
    QByteArray payload = body;
    for (const char *key : {"{p}", "{t}", "{owner}", "{member}", "{outsider}", "{extra}", "{spare}", "{unknown}"})
        payload.replace(key, expand(s(key), w).toLatin1());
    // Every row runs as the owner, who may do everything a member may.
    const Reply r = request(method, expand(path, w), m_b->owner.token, body.isNull() ? QByteArray() : payload,
                            contentType, headers);
    EXPECT_STATUS(r, status);
    if (status >= 400) {
        QCOMPARE(r.errorCode(), codeForStatus(status));
        QCOMPARE(r.errorField(), field);
    }
    CHECKED(verifyUntouched(w));
}

QTEST_GUILESS_MAIN(TestHttpProjects)
#include "tst_http_projects.moc"
