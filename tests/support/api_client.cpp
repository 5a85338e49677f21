#include "tests/support/api_client.h"

#include <QBuffer>
#include <QDebug>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QUuid>

namespace taskmaster::test {

QByteArray ApiReply::header(const QByteArray &name) const
{
    for (const auto &[k, v] : headers) {
        if (k.compare(name, Qt::CaseInsensitive) == 0)
            return v;
    }
    return {};
}

QString ApiReply::errorCode() const
{
    return json().value(QLatin1String("error")).toObject().value(QLatin1String("code")).toString();
}

QString ApiReply::errorField() const
{
    return json().value(QLatin1String("error")).toObject().value(QLatin1String("field")).toString();
}

ApiReply ApiClient::send(const QByteArray &method, const QString &path, const QByteArray &body,
                         const RequestOptions &options)
{
    QUrl url = m_base;
    const qsizetype q = path.indexOf(QLatin1Char('?'));
    url.setPath(q < 0 ? path : path.left(q));
    if (q >= 0)
        url.setQuery(path.mid(q + 1));
    QNetworkRequest request(url);
    if (!body.isEmpty() && !options.contentType.isEmpty())
        request.setRawHeader("Content-Type", options.contentType);
    if (!options.token.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + options.token);
    for (const auto &[k, v] : options.headers)
        request.setRawHeader(k, v);
    auto *buffer = new QBuffer;
    buffer->setData(body);
    QNetworkReply *reply = m_nam.sendCustomRequest(request, method, buffer);
    buffer->setParent(reply);
    QSignalSpy finished(reply, &QNetworkReply::finished);
    if (!reply->isFinished())
        finished.wait(30000);
    ApiReply r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    r.headers = reply->rawHeaderPairs();
    reply->deleteLater();
    return r;
}

std::pair<qint64, QByteArray> ApiClient::registerUser(const QString &username, const QString &password)
{
    const ApiReply r = post(QStringLiteral("/api/v1/auth/register"),
                            {{QStringLiteral("username"), username},
                             {QStringLiteral("password"), password},
                             {QStringLiteral("displayName"), username}});
    if (r.status != 201)
        qFatal("register %s failed: %d %s", qPrintable(username), r.status, r.body.constData());
    const QJsonObject o = r.json();
    return {o.value(QLatin1String("user")).toObject().value(QLatin1String("id")).toInteger(),
            o.value(QLatin1String("token")).toString().toLatin1()};
}

Account ApiClient::signUp(const char *prefix)
{
    const auto [id, token] = registerUser(uniqueName(prefix));
    return Account {id, token};
}

qint64 ApiClient::createRoom(const Account &owner, const QList<Account> &members)
{
    QJsonArray ids;
    for (const Account &m : members)
        ids.append(m.id);
    const ApiReply reply = post(
        QStringLiteral("/api/v1/rooms"),
        QJsonObject {{QStringLiteral("name"), uniqueName("room")}, {QStringLiteral("memberIds"), ids}}, owner.token);
    if (reply.status != 201)
        qWarning() << "room creation failed" << reply.status << reply.body;
    return reply.id();
}

QString uniqueName(const char *prefix)
{
    return QString::fromLatin1(prefix) + QUuid::createUuid().toString(QUuid::Id128).left(12);
}

} // namespace taskmaster::test
