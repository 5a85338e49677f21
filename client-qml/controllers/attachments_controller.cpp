#include "client-qml/controllers/attachments_controller.h"

#include "client-qml/controllers/chat_controller.h"
#include "client-qml/net/api_requests.h"
#include "client-qml/net/rest_client.h"
#include "shared/codec/json_reader.h"
#include "shared/codec/resource_json.h"
#include "shared/codec/rest_json.h"

#include <QBuffer>
#include <QClipboard>
#include <QDateTime>
#include <QDesktopServices>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QGuiApplication>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMimeDatabase>
#include <QNetworkReply>
#include <QSaveFile>
#include <QStandardPaths>
#include <QUuid>

namespace taskmaster::client {

// ---- UploadListModel

int UploadListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant UploadListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case NameRole:
        return r.name;
    case SizeRole:
        return r.size;
    case ProgressRole:
        return r.progress;
    case UploadingRole:
        return r.uploading;
    case FailedRole:
        return r.failed;
    case ErrorTextRole:
        return r.errorText;
    case AttachmentIdRole:
        return r.attachment.id;
    case IsImageRole:
        return r.isImage;
    case LocalUrlRole:
        return r.localUrl;
    default:
        return {};
    }
}

QHash<int, QByteArray> UploadListModel::roleNames() const
{
    static const QHash<int, QByteArray> names {
        {NameRole, QByteArrayLiteral("name")},
        {SizeRole, QByteArrayLiteral("size")},
        {ProgressRole, QByteArrayLiteral("progress")},
        {UploadingRole, QByteArrayLiteral("uploading")},
        {FailedRole, QByteArrayLiteral("failed")},
        {ErrorTextRole, QByteArrayLiteral("errorText")},
        {AttachmentIdRole, QByteArrayLiteral("attachmentId")},
        {IsImageRole, QByteArrayLiteral("isImage")},
        {LocalUrlRole, QByteArrayLiteral("localUrl")},
    };
    return names;
}

bool UploadListModel::busy() const
{
    return std::any_of(m_rows.cbegin(), m_rows.cend(), [](const Row &r) { return r.uploading; });
}

QList<Id> UploadListModel::readyIdList() const
{
    QList<Id> out;
    for (const Row &r : m_rows) {
        if (r.attachment.id > 0)
            out.append(r.attachment.id);
    }
    return out;
}

QVariantList UploadListModel::readyIds() const
{
    QVariantList out;
    for (const Id id : readyIdList())
        out.append(id);
    return out;
}

quint64 UploadListModel::add(Row row)
{
    const bool wasBusy = busy();
    row.key = m_nextKey++;
    beginInsertRows({}, int(m_rows.size()), int(m_rows.size()));
    m_rows.append(std::move(row));
    endInsertRows();
    Q_EMIT countChanged();
    if (busy() != wasBusy)
        Q_EMIT busyChanged();
    return m_rows.constLast().key;
}

int UploadListModel::indexOf(quint64 key) const
{
    for (int i = 0; i < int(m_rows.size()); ++i) {
        if (m_rows.at(i).key == key)
            return i;
    }
    return -1;
}

void UploadListModel::update(quint64 key, const std::function<void(Row &)> &change)
{
    const int i = indexOf(key);
    if (i < 0)
        return;
    const bool wasBusy = busy();
    change(m_rows[i]);
    Q_EMIT dataChanged(index(i), index(i));
    if (busy() != wasBusy)
        Q_EMIT busyChanged();
}

void UploadListModel::removeAt(int row)
{
    if (row < 0 || row >= int(m_rows.size()))
        return;
    const bool wasBusy = busy();
    beginRemoveRows({}, row, row);
    m_rows.removeAt(row);
    endRemoveRows();
    Q_EMIT countChanged();
    if (busy() != wasBusy)
        Q_EMIT busyChanged();
}

void UploadListModel::clear()
{
    if (m_rows.isEmpty())
        return;
    const bool wasBusy = busy();
    beginResetModel();
    m_rows.clear();
    endResetModel();
    Q_EMIT countChanged();
    if (wasBusy)
        Q_EMIT busyChanged();
}

// ---- AttachmentsController

namespace {

// The server's error message of an answer, or Qt's text for a transport failure.
QString replyError(QNetworkReply *reply)
{
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status != 0)
        return RestClient::errorText(status, reply->readAll());
    return reply->errorString();
}

// name, or "name (2).ext" ... when a file of that name exists in dir.
QString freePath(const QString &dir, const QString &name)
{
    QString safe = name;
    safe.replace(QLatin1Char('/'), QLatin1Char('_')).replace(QLatin1Char('\\'), QLatin1Char('_'));
    if (safe.isEmpty() || safe == QLatin1String(".") || safe == QLatin1String(".."))
        safe = QStringLiteral("download");
    const QFileInfo info(safe);
    const QString base = info.completeBaseName();
    const QString suffix = info.suffix().isEmpty() ? QString() : QLatin1Char('.') + info.suffix();
    QString path = QDir(dir).filePath(safe);
    for (int n = 2; QFile::exists(path); ++n)
        path = QDir(dir).filePath(QStringLiteral("%1 (%2)%3").arg(base).arg(n).arg(suffix));
    return path;
}

} // namespace

AttachmentsController::AttachmentsController(RestClient &rest, ChatController &chat, QObject *parent)
    : QObject(parent), m_rest(rest), m_chat(chat)
{
    m_downloadDir = QStandardPaths::writableLocation(QStandardPaths::DownloadLocation);
    if (m_downloadDir.isEmpty())
        m_downloadDir = QDir::homePath();
    m_cacheDir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + QStringLiteral("/attachments");
}

AttachmentsController::~AttachmentsController()
{
    clear();
}

void AttachmentsController::setDownloadDir(const QString &dir)
{
    if (dir == m_downloadDir)
        return;
    m_downloadDir = dir;
    Q_EMIT downloadDirChanged();
}

QNetworkRequest AttachmentsController::request(const QString &path) const
{
    QNetworkRequest r(QUrl(m_rest.serverUrl() + path));
    if (!m_rest.token().isEmpty())
        r.setRawHeader("Authorization", "Bearer " + m_rest.token());
    return r;
}

void AttachmentsController::refreshLimits()
{
    QNetworkReply *reply = m_nam.get(request(QStringLiteral("/api/v1/uploads")));
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        if (reply->error() != QNetworkReply::NoError)
            return;
        const qint64 max
            = QJsonDocument::fromJson(reply->readAll()).object().value(QLatin1String("maxBytes")).toInteger();
        if (max > 0 && max != m_maxUploadBytes) {
            m_maxUploadBytes = max;
            Q_EMIT maxUploadBytesChanged();
        }
    });
}

void AttachmentsController::uploadFiles(UploadListModel *list, const QList<QUrl> &urls)
{
    if (!list)
        return;
    static const QMimeDatabase mimes;
    for (const QUrl &url : urls) {
        // A file: URL from a file dialog or a drop; on Android the system picker gives content:
        // URLs, which QFile opens by their text (docs/mobile.md).
        const QString path = url.isLocalFile() ? url.toLocalFile() : url.toString();
        auto *file = new QFile(path, this);
        UploadListModel::Row row;
        row.name = QFileInfo(path).fileName();
        row.size = QFileInfo(path).size();
        row.localUrl = url;
        const QString type = mimes.mimeTypeForFile(path).name();
        row.isImage = isInlineImage(type);
        if (!file->open(QIODevice::ReadOnly)) {
            row.uploading = false;
            row.failed = true;
            row.errorText = tr("Cannot read %1").arg(path);
            list->add(row);
            delete file;
            continue;
        }
        if (row.size > m_maxUploadBytes) {
            row.uploading = false;
            row.failed = true;
            row.errorText = tr("%1 is larger than the server takes (%2 MiB)").arg(row.name).arg(m_maxUploadBytes >> 20);
            list->add(row);
            delete file;
            continue;
        }
        const quint64 key = list->add(row);
        startUpload(list, key, file, row.name, type, row.size);
    }
}

bool AttachmentsController::pasteImage(UploadListModel *list)
{
    const QImage image = QGuiApplication::clipboard()->image();
    if (image.isNull() || !list)
        return false;
    uploadImage(
        list, image,
        QStringLiteral("pasted-%1.png").arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"))));
    return true;
}

void AttachmentsController::uploadImage(UploadListModel *list, const QImage &image, const QString &name)
{
    auto *buffer = new QBuffer(this);
    buffer->open(QIODevice::ReadWrite);
    image.save(buffer, "PNG");
    buffer->seek(0);
    UploadListModel::Row row;
    row.name = name;
    row.size = buffer->size();
    row.isImage = true;
    const quint64 key = list->add(row);
    startUpload(list, key, buffer, name, QStringLiteral("image/png"), row.size);
}

void AttachmentsController::startUpload(UploadListModel *list, quint64 key, QIODevice *body, const QString &name,
                                        const QString &contentType, qint64 size)
{
    // Every byte of the name percent-encoded but the unreserved ones (docs/protocol.md 6.8).
    QNetworkRequest r
        = request(QStringLiteral("/api/v1/uploads?filename=") + QString::fromLatin1(QUrl::toPercentEncoding(name)));
    r.setHeader(QNetworkRequest::ContentTypeHeader, contentType);
    r.setHeader(QNetworkRequest::ContentLengthHeader, size);
    QNetworkReply *reply = m_nam.post(r, body);
    body->setParent(reply); // read while the reply lives, deleted with it
    m_uploads.insert(key, reply);
    QPointer<UploadListModel> target(list);
    connect(reply, &QNetworkReply::uploadProgress, this, [target, key](qint64 sent, qint64 total) {
        if (target && total > 0)
            target->update(key, [&](UploadListModel::Row &row) { row.progress = double(sent) / double(total); });
    });
    connect(reply, &QNetworkReply::finished, this, [this, reply, target, key] {
        reply->deleteLater();
        m_uploads.remove(key);
        if (!target || reply->error() == QNetworkReply::OperationCanceledError)
            return; // cancelled: the row is gone already
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (status == 201) {
            const QJsonObject a
                = QJsonDocument::fromJson(reply->readAll()).object().value(QLatin1String("attachment")).toObject();
            auto decoded = fromJson<Attachment>(a);
            if (decoded) {
                target->update(key, [&](UploadListModel::Row &row) {
                    row.uploading = false;
                    row.progress = 1;
                    row.attachment = *decoded;
                });
                return;
            }
        }
        const QString message = replyError(reply);
        target->update(key, [&](UploadListModel::Row &row) {
            row.uploading = false;
            row.failed = true;
            row.errorText = message;
        });
        Q_EMIT failed(message);
    });
}

void AttachmentsController::cancel(UploadListModel *list, int row)
{
    if (!list || row < 0 || row >= list->count())
        return;
    const quint64 key = list->rowAt(row).key;
    list->removeAt(row); // first: the aborted reply's finished() finds no row
    if (QPointer<QNetworkReply> reply = m_uploads.take(key); reply)
        reply->abort();
}

bool AttachmentsController::sendToOpenRoom(const QString &text)
{
    const Id roomId = m_chat.roomId();
    if (roomId == 0 || m_composerUploads.busy())
        return false;
    SendMessageRequest req;
    req.attachmentIds = m_composerUploads.readyIdList();
    req.body = text.trimmed();
    if (req.body.isEmpty()) {
        QStringList names;
        for (int i = 0; i < m_composerUploads.count(); ++i) {
            if (m_composerUploads.rowAt(i).attachment.id > 0)
                names << m_composerUploads.rowAt(i).name;
        }
        req.body = names.join(QStringLiteral(", "));
    }
    if (req.body.isEmpty())
        return false;
    req.clientId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    const Request<Message> post {QByteArrayLiteral("POST"), QStringLiteral("/api/v1/rooms/%1/messages").arg(roomId),
                                 toJson(req)};
    m_composerUploads.clear();
    m_rest.send(
        post, this,
        [this](const Message &m) {
            if (m.roomId == m_chat.roomId())
                m_chat.messages()->appendLive(m); // deduped by seq with its event
        },
        [this](const RestError &e) { Q_EMIT failed(e.message); });
    return true;
}

void AttachmentsController::download(qint64 attachmentId, const QString &name)
{
    if (m_downloads.value(attachmentId))
        return;
    QDir().mkpath(m_downloadDir);
    const QString path = freePath(m_downloadDir, name);
    auto file = std::make_shared<QSaveFile>(path); // written as a temporary file, renamed when whole
    if (!file->open(QIODevice::WriteOnly)) {
        Q_EMIT downloadFailed(attachmentId, tr("Cannot write %1").arg(path));
        return;
    }
    QNetworkReply *reply = m_nam.get(request(QStringLiteral("/api/v1/attachments/%1").arg(attachmentId)));
    m_downloads.insert(attachmentId, reply);
    m_downloadProgress.insert(attachmentId, 0);
    Q_EMIT downloadProgressChanged(attachmentId, 0);
    connect(reply, &QNetworkReply::readyRead, this, [reply, file] {
        if (reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 200)
            file->write(reply->readAll());
    });
    connect(reply, &QNetworkReply::downloadProgress, this, [this, attachmentId](qint64 got, qint64 total) {
        if (total <= 0)
            return;
        m_downloadProgress.insert(attachmentId, double(got) / double(total));
        Q_EMIT downloadProgressChanged(attachmentId, double(got) / double(total));
    });
    connect(reply, &QNetworkReply::finished, this, [this, reply, file, attachmentId, path] {
        reply->deleteLater();
        m_downloads.remove(attachmentId);
        m_downloadProgress.remove(attachmentId);
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (reply->error() != QNetworkReply::NoError || status != 200) {
            file->cancelWriting();
            const QString message = replyError(reply);
            Q_EMIT downloadProgressChanged(attachmentId, -1);
            Q_EMIT downloadFailed(attachmentId, message);
            Q_EMIT failed(message);
            return;
        }
        file->write(reply->readAll());
        if (!file->commit()) {
            Q_EMIT downloadFailed(attachmentId, tr("Cannot write %1").arg(path));
            return;
        }
        Q_EMIT downloadProgressChanged(attachmentId, 1);
        Q_EMIT downloadFinished(attachmentId, path);
        if (m_openDownloads)
            QDesktopServices::openUrl(QUrl::fromLocalFile(path));
    });
}

double AttachmentsController::downloadProgress(qint64 attachmentId) const
{
    return m_downloadProgress.value(attachmentId, -1);
}

QString AttachmentsController::cachePath(const QString &sha256, bool thumbnail) const
{
    return m_cacheDir + QLatin1Char('/') + sha256 + (thumbnail ? QStringLiteral("-thumbnail") : QString());
}

QUrl AttachmentsController::cachedImage(qint64 attachmentId, const QString &sha256, bool thumbnail)
{
    // sha256 names the file: only hex digits, so no path can be smuggled in.
    if (sha256.isEmpty() || sha256.size() > 64 || !std::all_of(sha256.cbegin(), sha256.cend(), [](QChar c) {
            return (c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f') || (c >= u'A' && c <= u'F');
        }))
        return {};
    const QString path = cachePath(sha256, thumbnail);
    if (QFile::exists(path))
        return QUrl::fromLocalFile(path);
    if (m_fetching.contains(path))
        return {};
    m_fetching.insert(path);
    QDir().mkpath(m_cacheDir);
    QNetworkReply *reply = m_nam.get(request(QStringLiteral("/api/v1/attachments/%1%2")
                                                 .arg(attachmentId)
                                                 .arg(thumbnail ? QStringLiteral("/thumbnail") : QString())));
    connect(reply, &QNetworkReply::finished, this, [this, reply, path, attachmentId] {
        reply->deleteLater();
        m_fetching.remove(path);
        if (reply->error() != QNetworkReply::NoError
            || reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() != 200)
            return;
        QSaveFile out(path);
        if (out.open(QIODevice::WriteOnly) && out.write(reply->readAll()) >= 0 && out.commit())
            Q_EMIT imageCached(attachmentId);
    });
    return {};
}

void AttachmentsController::clear()
{
    const auto uploads = m_uploads;
    m_uploads.clear();
    m_composerUploads.clear();
    m_taskUploads.clear();
    for (const QPointer<QNetworkReply> &r : uploads) {
        if (r)
            r->abort();
    }
    const auto downloads = m_downloads;
    for (const QPointer<QNetworkReply> &r : downloads) {
        if (r)
            r->abort();
    }
}

} // namespace taskmaster::client
