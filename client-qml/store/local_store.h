// LocalStore: what the client keeps on disk between runs for one account on one server, so that a
// start shows the rooms and the last opened room's messages before the network answers, and the
// sends made offline survive quitting. One SQLite file (Qt Sql, QSQLITE) per account and server,
// under QStandardPaths::AppDataLocation/store/ (fileFor() names it).
// Owns: that file and its QSqlDatabase connection (a name of its own per instance): the user
// (self), rooms, the recent messages of each room (the last kMessagesPerRoom by seq), users,
// projects, the tasks of each project, each channel's last seq, small values (the last opened
// room), the outbox (sends not acknowledged yet), the task changes made offline (TaskBoardController's
// pending PATCHes, with the version each was based on) and the ETag and body of the last 200 of each GET
// (RestClient's revalidation, so a restarted client sends If-None-Match). Values are the resources' JSON of
// docs/protocol.md (shared/codec/resource_json.h), so a field added later needs no migration.
// Schema: PRAGMA user_version, kSchemaVersion, with ordered migrations (migrate()). A file that
// cannot be opened, fails SQLite's quick_check or carries a newer version is discarded with a log
// line and started again empty; nothing here throws or crashes on a bad file, and a write that
// fails is logged and dropped (the store is a cache; the server has the data).
// Thread: the thread that created it (QSqlDatabase's rule); the client uses it on the GUI thread.
#pragma once

#include "shared/domain/types.h"

#include <QHash>
#include <QList>
#include <QString>

#include <optional>

namespace taskmaster::client {

class LocalStore final {
public:
    static constexpr int kSchemaVersion = 3;
    static constexpr int kMessagesPerRoom = 200;
    // Bodies of kept GET answers in all; the least recently used go first beyond it.
    static constexpr qint64 kHttpAnswerBytes = 16 << 20;

    // A send not acknowledged yet (Outbox::Entry, without the client's session state).
    struct OutboxRow {
        Id roomId = 0;
        QString clientId;
        QString body;
        bool failed = false;
    };

    // A task change not sent yet (TaskBoardController): the PATCH body (PatchTaskRequest's JSON) and
    // the version of the task it was made on (sent as If-Match).
    struct TaskChangeRow {
        Id taskId = 0;
        Id projectId = 0;
        qint64 baseVersion = 0;
        QByteArray patch;
    };

    // The last 200 of a GET: its ETag and body.
    struct HttpAnswer {
        QByteArray etag;
        QByteArray body;
    };

    explicit LocalStore(QString path);
    ~LocalStore();
    LocalStore(const LocalStore &) = delete;
    LocalStore &operator=(const LocalStore &) = delete;

    // QStandardPaths::AppDataLocation + "/store".
    [[nodiscard]] static QString defaultDirectory();
    // The file of (serverUrl, userId) in dir.
    [[nodiscard]] static QString fileFor(const QString &dir, const QString &serverUrl, Id userId);
    // Deletes a store's file (and SQLite's -wal/-shm beside it): logout. True when none is left.
    static bool remove(const QString &path);

    // Opens (creating, migrating, or discarding an unreadable file first). False only when not
    // even an empty store could be made (a read-only directory): then every call is a no-op.
    bool open();
    [[nodiscard]] bool isOpen() const { return m_open; }
    [[nodiscard]] QString path() const { return m_path; }
    // Set by open() when an existing file was thrown away (and why), for the log and tests.
    [[nodiscard]] QString discardedReason() const { return m_discarded; }

    void saveSelf(const User &user);
    [[nodiscard]] std::optional<User> self() const;
    // Replaces the room list.
    void saveRooms(const QList<Room> &rooms);
    [[nodiscard]] QList<Room> rooms() const;
    // Adds or replaces messages of a room by seq, then keeps its last kMessagesPerRoom.
    void saveMessages(Id roomId, const QList<Message> &messages);
    // Ascending seq.
    [[nodiscard]] QList<Message> messages(Id roomId) const;
    // The newest stored message of every room that has one (the room list's previews).
    [[nodiscard]] QList<Message> lastMessages() const;
    void saveUsers(const QList<User> &users);
    [[nodiscard]] QList<User> users() const;
    void saveProjects(const QList<Project> &projects);
    [[nodiscard]] QList<Project> projects() const;
    // Replaces the tasks of a project.
    void saveTasks(Id projectId, const QList<Task> &tasks);
    [[nodiscard]] QList<Task> tasks(Id projectId) const;
    // The last seq seen of a channel ("room:12", "project:3").
    void setChannelSeq(const QString &channel, Seq seq);
    [[nodiscard]] QHash<QString, Seq> channelSeqs() const;
    // Replaces the outbox.
    void saveOutbox(const QList<OutboxRow> &rows);
    [[nodiscard]] QList<OutboxRow> outbox() const;
    // Replaces the task changes not sent yet (one per task).
    void saveTaskChanges(const QList<TaskChangeRow> &rows);
    // By task id.
    [[nodiscard]] QList<TaskChangeRow> taskChanges() const;
    // Revalidation: a GET's last 200 by path (with its query), replacing the one kept before.
    void saveHttpAnswer(const QString &path, const HttpAnswer &answer);
    [[nodiscard]] std::optional<HttpAnswer> httpAnswer(const QString &path) const;
    // The answer served again (a 304): the last to be dropped.
    void touchHttpAnswer(const QString &path);
    void removeHttpAnswer(const QString &path);
    void setValue(const QString &key, const QString &value);
    [[nodiscard]] QString value(const QString &key) const;

private:
    bool openFile(QString *why);
    bool migrate(QString *why);
    void close();
    bool exec(const QString &sql, const QVariantList &binds = {}) const;

    QString m_path;
    QString m_connectionName;
    bool m_open = false;
    QString m_discarded;
};

} // namespace taskmaster::client
