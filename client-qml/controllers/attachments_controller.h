// AttachmentsController: files and images on messages and tasks, the client's side of
// docs/protocol.md section 6.8.
// - Uploads: an UploadListModel per place that attaches (the composer's, the task editor's). A
//   file is streamed from disk (a pasted image from memory) with POST /uploads?filename=, with
//   progress and cancel; the ids of the finished ones go with the message or the task.
// - Messages with attachments go over REST (POST /rooms/{id}/messages with attachmentIds); the
//   answer joins the open room's timeline at once, the event dedupes by seq.
// - Downloads: GET /attachments/{id} into downloadDir (through a .part file), with progress,
//   then opened with QDesktopServices (unless openDownloads is off: tests).
// - Images: Image cannot send the bearer token, so thumbnails and the viewer's full image are
//   fetched into a cache directory, named by sha256 (the bytes of an id never change), and shown
//   from there: cachedImage() answers the file URL, or "" and imageCached() once it is there.
// Owns: its QNetworkAccessManager, the two UploadListModels, the downloads and image fetches in
// flight, the cache directory. Thread: the GUI thread.
#pragma once

#include "shared/domain/types.h"

#include <QAbstractListModel>
#include <QHash>
#include <QImage>
#include <QNetworkAccessManager>
#include <QPointer>
#include <QSet>
#include <QUrl>
#include <QtQmlIntegration/qqmlintegration.h>

#include <memory>

class QIODevice;
class QNetworkReply;

namespace taskmaster::client {

class ChatController;
class RestClient;

// The files one place (the composer, the task editor) is attaching: uploading, uploaded, or
// failed. Rows are added by AttachmentsController::upload*(); cancel() (the controller's) takes
// one off, aborting its upload.
class UploadListModel final : public QAbstractListModel {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("provided by AttachmentsController")
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    // Some row is still uploading (a send must wait).
    Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)

public:
    enum Roles {
        NameRole = Qt::UserRole + 1, // "name": QString, the file's name as uploaded
        SizeRole, // "size": qint64 bytes
        ProgressRole, // "progress": double 0..1 of the bytes sent
        UploadingRole, // "uploading": bool
        FailedRole, // "failed": bool; errorText says why
        ErrorTextRole, // "errorText": QString
        AttachmentIdRole, // "attachmentId": qint64, 0 until uploaded
        IsImageRole, // "isImage": bool, shown as a thumbnail
        LocalUrlRole, // "localUrl": QUrl of the file on disk (empty for a pasted image)
    };
    Q_ENUM(Roles)

    struct Row {
        quint64 key = 0; // stable while the row lives
        QString name;
        qint64 size = 0;
        double progress = 0;
        bool uploading = true;
        bool failed = false;
        QString errorText;
        Attachment attachment; // id 0 until uploaded
        bool isImage = false;
        QUrl localUrl;
    };

    // No default: QML must not make one (QML_UNCREATABLE with a default constructor would need a
    // class that QML can derive from).
    explicit UploadListModel(QObject *parent) : QAbstractListModel(parent) { }

    [[nodiscard]] int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;
    [[nodiscard]] int count() const { return int(m_rows.size()); }
    [[nodiscard]] bool busy() const;
    // The uploaded attachments' ids, in row order.
    [[nodiscard]] Q_INVOKABLE QVariantList readyIds() const;
    [[nodiscard]] QList<Id> readyIdList() const;
    [[nodiscard]] const Row &rowAt(int row) const { return m_rows.at(row); }

    quint64 add(Row row);
    // The row of key, -1 when it is gone (cancelled).
    [[nodiscard]] int indexOf(quint64 key) const;
    void update(quint64 key, const std::function<void(Row &)> &change);
    void removeAt(int row);
    Q_INVOKABLE void clear();

Q_SIGNALS:
    void countChanged();
    void busyChanged();

private:
    QList<Row> m_rows;
    quint64 m_nextKey = 1;
};

class AttachmentsController final : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("provided by Connection")
    Q_PROPERTY(taskmaster::client::UploadListModel *composerUploads READ composerUploads CONSTANT)
    Q_PROPERTY(taskmaster::client::UploadListModel *taskUploads READ taskUploads CONSTANT)
    // Where downloads are saved (default: the user's download folder).
    Q_PROPERTY(QString downloadDir READ downloadDir WRITE setDownloadDir NOTIFY downloadDirChanged)
    // Open a finished download with the desktop's application for it (default on).
    Q_PROPERTY(bool openDownloads MEMBER m_openDownloads NOTIFY openDownloadsChanged)
    // The largest upload the server takes (GET /api/v1/uploads, refreshLimits(); 25 MiB, the
    // server's default, until it answered): larger files fail at once, without a request.
    Q_PROPERTY(qint64 maxUploadBytes MEMBER m_maxUploadBytes NOTIFY maxUploadBytesChanged)

public:
    AttachmentsController(RestClient &rest, ChatController &chat, QObject *parent = nullptr);
    ~AttachmentsController() override;

    [[nodiscard]] UploadListModel *composerUploads() { return &m_composerUploads; }
    [[nodiscard]] UploadListModel *taskUploads() { return &m_taskUploads; }
    [[nodiscard]] QString downloadDir() const { return m_downloadDir; }
    void setDownloadDir(const QString &dir);

    // Uploads local files (file: URLs, from a file dialog or a drop) into `list`.
    Q_INVOKABLE void uploadFiles(taskmaster::client::UploadListModel *list, const QList<QUrl> &urls);
    // Uploads the clipboard's image as a PNG; false when the clipboard holds no image.
    Q_INVOKABLE bool pasteImage(taskmaster::client::UploadListModel *list);
    void uploadImage(UploadListModel *list, const QImage &image, const QString &name);
    // Takes a row off its list; an upload in flight is aborted (nothing is attached).
    Q_INVOKABLE void cancel(taskmaster::client::UploadListModel *list, int row);

    // Sends body with the composer's uploaded attachments to the open room, then empties the
    // composer's list. False (nothing sent) while an upload is running or nothing is to be sent.
    Q_INVOKABLE bool sendToOpenRoom(const QString &body);

    // Downloads attachment id into downloadDir as `name` (a free name when taken).
    Q_INVOKABLE void download(qint64 attachmentId, const QString &name);
    // -1 when no download of it runs, else 0..1.
    [[nodiscard]] Q_INVOKABLE double downloadProgress(qint64 attachmentId) const;
    // The cached file of the image (thumbnail or full), "" while it is being fetched (then
    // imageCached(attachmentId) follows).
    Q_INVOKABLE QUrl cachedImage(qint64 attachmentId, const QString &sha256, bool thumbnail);

    // Asks the server for its upload limits (GET /api/v1/uploads): on every welcome, since a
    // server restarted with other options comes back through a reconnect. An older server (405)
    // or none at all leaves the current values.
    void refreshLimits();

    // For the session's end: aborts everything and empties the lists.
    void clear();

Q_SIGNALS:
    void downloadDirChanged();
    void openDownloadsChanged();
    void maxUploadBytesChanged();
    void downloadProgressChanged(qint64 attachmentId, double progress);
    void downloadFinished(qint64 attachmentId, const QString &path);
    void downloadFailed(qint64 attachmentId, const QString &message);
    void imageCached(qint64 attachmentId);
    // An upload, a send with attachments, or a download failed: the text for the user.
    void failed(const QString &message);

private:
    void startUpload(UploadListModel *list, quint64 key, QIODevice *body, const QString &name,
                     const QString &contentType, qint64 size);
    [[nodiscard]] QNetworkRequest request(const QString &path) const;
    [[nodiscard]] QString cachePath(const QString &sha256, bool thumbnail) const;

    RestClient &m_rest;
    ChatController &m_chat;
    QNetworkAccessManager m_nam;
    UploadListModel m_composerUploads {this};
    UploadListModel m_taskUploads {this};
    QHash<quint64, QPointer<QNetworkReply>> m_uploads; // by row key
    QHash<qint64, QPointer<QNetworkReply>> m_downloads; // by attachment id
    QHash<qint64, double> m_downloadProgress;
    QSet<QString> m_fetching; // cache paths being fetched
    QString m_downloadDir;
    QString m_cacheDir;
    bool m_openDownloads = true;
    qint64 m_maxUploadBytes = 25LL << 20;
};

} // namespace taskmaster::client
