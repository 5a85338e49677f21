// RestClient against an in-process QHttpServer on localhost: a 2xx answer decoded into the
// request's type, the bearer token and a request's own headers sent, and the one error path:
// the server's error message, an answer that does not decode, no answer at all, the default
// report through failed(), a 401 while a session is established (sessionExpired, no callback),
// answers abandoned with their session and callbacks whose context object is gone.
#include "client-qml/net/rest_client.h"
#include "shared/codec/json_writer.h"
#include "shared/codec/resource_json.h"

#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QSignalSpy>
#include <QTest>

#include <memory>
#include <optional>

using namespace taskmaster;
using namespace taskmaster::client;

namespace {

constexpr int kWaitMs = 5000;

QByteArray errorBody(const QString &message)
{
    return toJson(ErrorBody {Error {ErrorCode::NotFound, message, {}, 0}});
}

} // namespace

class TestClientRest final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void decodesAnswer();
    void sendsTokenAndHeaders();
    void errors_data();
    void errors();
    void noAnswer();
    void reportsByDefault();
    void unauthorized();
    void abandonedAndGone();

private:
    // The server answers every request with this (status, JSON body).
    void answer(int status, const QByteArray &body)
    {
        m_status = status;
        m_body = body;
    }

    QHttpServer m_server;
    quint16 m_port = 0;
    int m_status = 200;
    QByteArray m_body;
    QHttpServerRequest::Method m_method = QHttpServerRequest::Method::Unknown;
    QString m_path;
    QList<QPair<QByteArray, QByteArray>> m_headers;
    std::unique_ptr<RestClient> m_rest;
};

void TestClientRest::initTestCase()
{
    m_server.setMissingHandler([this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        m_method = request.method();
        m_path = request.url().path();
        m_headers = request.headers();
        QHttpServerResponse(QByteArrayLiteral("application/json"), m_body, QHttpServerResponse::StatusCode(m_status))
            .write(std::move(responder));
    });
    m_port = m_server.listen(QHostAddress::LocalHost);
    QVERIFY(m_port != 0);
}

void TestClientRest::init()
{
    m_rest = std::make_unique<RestClient>();
    m_rest->setServerUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port));
    m_headers.clear();
}

void TestClientRest::decodesAnswer()
{
    User u;
    u.id = 7;
    u.username = QStringLiteral("bob");
    u.displayName = QStringLiteral("Bob");
    u.createdAt = QDateTime(QDate(2026, 11, 1), QTime(8, 0), Qt::UTC);
    answer(200, toJson(u));
    std::optional<User> got;
    m_rest->send(api::user(7), this, [&](const User &user) { got = user; });
    QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), kWaitMs);
    QCOMPARE(*got, u);
    QCOMPARE(m_method, QHttpServerRequest::Method::Get);
    QCOMPARE(m_path, QStringLiteral("/api/v1/users/7"));

    // A body the client does not read: any 2xx will do.
    answer(204, {});
    bool done = false;
    m_rest->send(api::deleteTask(3), this, [&](NoContent) { done = true; });
    QTRY_VERIFY_WITH_TIMEOUT(done, kWaitMs);
    QCOMPARE(m_method, QHttpServerRequest::Method::Delete);
}

void TestClientRest::sendsTokenAndHeaders()
{
    Task task;
    task.id = 4;
    task.projectId = 1;
    task.title = QStringLiteral("t");
    task.status = TaskStatus::Done;
    task.createdBy = 1;
    task.createdAt = task.updatedAt = QDateTime(QDate(2026, 11, 1), QTime(8, 0), Qt::UTC);
    task.version = 3;
    answer(200, toJson(task));
    m_rest->setToken(QByteArrayLiteral("secret"));
    PatchTaskRequest patch;
    patch.status = TaskStatus::Done;
    std::optional<Task> got;
    m_rest->send(api::patchTask(4, patch, 2), this, [&](const Task &t) { got = t; });
    QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), kWaitMs);
    QCOMPARE(*got, task);
    QCOMPARE(m_method, QHttpServerRequest::Method::Patch);
    auto header = [&](const char *name) {
        for (const auto &[k, v] : std::as_const(m_headers)) {
            if (k.compare(name, Qt::CaseInsensitive) == 0)
                return v;
        }
        return QByteArray();
    };
    QCOMPARE(header("Authorization"), QByteArrayLiteral("Bearer secret"));
    QCOMPARE(header("If-Match"), QByteArrayLiteral("2"));
    QCOMPARE(header("Content-Type"), QByteArrayLiteral("application/json"));
}

void TestClientRest::errors_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("message");
    QTest::newRow("server message") << 404 << errorBody(QStringLiteral("no such user")) << "no such user";
    QTest::newRow("no message") << 500 << QByteArray("oops") << "The server answered 500.";
    QTest::newRow("2xx that does not decode") << 200 << QByteArray(R"({"id":"x"})") << "The server answered 200.";
    QTest::newRow("401 before a session") << 401 << errorBody(QStringLiteral("bad token")) << "bad token";
}

void TestClientRest::errors()
{
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    QFETCH(QString, message);
    answer(status, body);
    QSignalSpy failed(m_rest.get(), &RestClient::failed);
    std::optional<RestError> error;
    bool ok = false;
    m_rest->send(
        api::user(1), this, [&](const User &) { ok = true; }, [&](const RestError &e) { error = e; });
    QTRY_VERIFY_WITH_TIMEOUT(error.has_value(), kWaitMs);
    QCOMPARE(error->status, status);
    QCOMPARE(error->message, message);
    QVERIFY(!ok);
    QCOMPARE(failed.count(), 0); // the caller's handler took it
}

void TestClientRest::noAnswer()
{
    m_rest->setServerUrl(QStringLiteral("http://127.0.0.1:1"));
    std::optional<RestError> error;
    m_rest->send(
        api::me(), this, [](const User &) {}, [&](const RestError &e) { error = e; });
    QTRY_VERIFY_WITH_TIMEOUT(error.has_value(), kWaitMs);
    QCOMPARE(error->status, 0);
    QCOMPARE(error->message, QStringLiteral("Cannot reach the server."));
}

void TestClientRest::reportsByDefault()
{
    answer(409, errorBody(QStringLiteral("taken")));
    QSignalSpy failed(m_rest.get(), &RestClient::failed);
    m_rest->send(api::createRoom(CreateRoomRequest {QStringLiteral("x"), {}}), this, [](const Room &) {});
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, kWaitMs);
    QCOMPARE(failed.constFirst().at(0).toString(), QStringLiteral("taken"));
    QCOMPARE(m_method, QHttpServerRequest::Method::Post);
}

void TestClientRest::unauthorized()
{
    answer(401, errorBody(QStringLiteral("expired")));
    m_rest->setSessionEstablished(true);
    QSignalSpy expired(m_rest.get(), &RestClient::sessionExpired);
    QSignalSpy failed(m_rest.get(), &RestClient::failed);
    bool called = false;
    m_rest->send(
        api::rooms(), this, [&](const Page<Room> &) { called = true; }, [&](const RestError &) { called = true; });
    QTRY_COMPARE_WITH_TIMEOUT(expired.count(), 1, kWaitMs);
    QTest::qWait(50);
    QVERIFY(!called);
    QCOMPARE(failed.count(), 0);
}

void TestClientRest::abandonedAndGone()
{
    answer(200, QByteArrayLiteral(R"({"items":[],"nextCursor":null})"));
    QSignalSpy failed(m_rest.get(), &RestClient::failed);
    int calls = 0;
    m_rest->send(api::projects(), this, [&](const Page<Project> &) { ++calls; });
    m_rest->abandon(); // the session that asked has ended
    auto context = std::make_unique<QObject>();
    m_rest->send(api::projects(), context.get(), [&](const Page<Project> &) { ++calls; });
    context.reset(); // the object that asked is gone
    m_rest->send(api::projects(), this, [&](const Page<Project> &) { calls += 10; });
    QTRY_COMPARE_WITH_TIMEOUT(calls, 10, kWaitMs);
    QTest::qWait(50);
    QCOMPARE(calls, 10);
    QCOMPARE(failed.count(), 0);
}

QTEST_GUILESS_MAIN(TestClientRest)
#include "tst_client_rest.moc"
