#include "client-qml/store/local_store.h"

#include "shared/codec/resource_json.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QUuid>

#include <functional>

namespace taskmaster::client {

Q_LOGGING_CATEGORY(lcStore, "tm.client.store", QtInfoMsg)

namespace {

// Migration n (1-based) brings a store of version n-1 to version n. Append, never edit.
const QList<QStringList> &migrations()
{
    static const QList<QStringList> steps {
        // 1: the first schema.
        {
            QStringLiteral("CREATE TABLE self (id INTEGER PRIMARY KEY CHECK (id = 1), json BLOB NOT NULL)"),
            QStringLiteral("CREATE TABLE rooms (id INTEGER PRIMARY KEY, json BLOB NOT NULL)"),
            QStringLiteral("CREATE TABLE messages (room_id INTEGER NOT NULL, seq INTEGER NOT NULL, json BLOB NOT NULL, "
                           "PRIMARY KEY (room_id, seq))"),
            QStringLiteral("CREATE TABLE users (id INTEGER PRIMARY KEY, json BLOB NOT NULL)"),
            QStringLiteral("CREATE TABLE projects (id INTEGER PRIMARY KEY, json BLOB NOT NULL)"),
            QStringLiteral("CREATE TABLE tasks (project_id INTEGER NOT NULL, id INTEGER NOT NULL, json BLOB NOT NULL, "
                           "PRIMARY KEY (project_id, id))"),
            QStringLiteral("CREATE TABLE channels (channel TEXT PRIMARY KEY, seq INTEGER NOT NULL)"),
            QStringLiteral("CREATE TABLE outbox (position INTEGER PRIMARY KEY, client_id TEXT NOT NULL UNIQUE, "
                           "room_id INTEGER NOT NULL, body TEXT NOT NULL, failed INTEGER NOT NULL)"),
            QStringLiteral("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)"),
        },
        // 2: GET answers for revalidation across runs (RestClient); `used` orders them by last use.
        {
            QStringLiteral("CREATE TABLE http_answers (path TEXT PRIMARY KEY, etag BLOB NOT NULL, body BLOB NOT NULL, "
                           "used INTEGER NOT NULL)"),
        },
        // 3: task changes made offline (TaskBoardController), sent with If-Match of base_version.
        {
            QStringLiteral("CREATE TABLE task_changes (task_id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, "
                           "base_version INTEGER NOT NULL, patch BLOB NOT NULL)"),
        },
    };
    return steps;
}

template<typename T> QList<T> decodeAll(QSqlQuery &q)
{
    QList<T> out;
    while (q.next()) {
        auto value = fromJson<T>(q.value(0).toByteArray());
        if (value)
            out.append(std::move(*value));
        else
            qCWarning(lcStore) << "an undecodable row skipped";
    }
    return out;
}

} // namespace

LocalStore::LocalStore(QString path)
    : m_path(std::move(path)),
      m_connectionName(QStringLiteral("tm-store-") + QUuid::createUuid().toString(QUuid::WithoutBraces))
{
}

LocalStore::~LocalStore()
{
    close();
}

QString LocalStore::defaultDirectory()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/store");
}

QString LocalStore::fileFor(const QString &dir, const QString &serverUrl, Id userId)
{
    const QByteArray server = QCryptographicHash::hash(serverUrl.toUtf8(), QCryptographicHash::Sha256).toHex().left(16);
    return QDir(dir).filePath(QStringLiteral("%1-%2.sqlite").arg(QString::fromLatin1(server)).arg(userId));
}

bool LocalStore::remove(const QString &path)
{
    bool ok = true;
    for (const QString &suffix :
         {QString(), QStringLiteral("-wal"), QStringLiteral("-shm"), QStringLiteral("-journal")}) {
        QFile f(path + suffix);
        if (f.exists() && !f.remove())
            ok = false;
    }
    return ok;
}

bool LocalStore::open()
{
    if (m_open)
        return true;
    m_discarded.clear();
    QDir().mkpath(QFileInfo(m_path).absolutePath());
    QString why;
    if (openFile(&why) && migrate(&why)) {
        m_open = true;
        return true;
    }
    close();
    if (QFileInfo::exists(m_path)) {
        m_discarded = why;
        qCWarning(lcStore).noquote()
            << QStringLiteral("local store %1 unreadable (%2): discarded, starting empty").arg(m_path, why);
        remove(m_path);
        if (openFile(&why) && migrate(&why)) {
            m_open = true;
            return true;
        }
        close();
    }
    qCWarning(lcStore).noquote() << QStringLiteral("no local store at %1 (%2): running without one").arg(m_path, why);
    return false;
}

bool LocalStore::openFile(QString *why)
{
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
    db.setDatabaseName(m_path);
    if (!db.open()) {
        *why = db.lastError().text();
        return false;
    }
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("PRAGMA quick_check")) || !q.next()) {
        *why = q.lastError().text().isEmpty() ? QStringLiteral("quick_check gave no answer") : q.lastError().text();
        return false;
    }
    if (q.value(0).toString() != QLatin1String("ok")) {
        *why = QStringLiteral("quick_check: ") + q.value(0).toString();
        return false;
    }
    q.finish();
    // Small writes from the GUI thread: WAL keeps them cheap; a lost last write is acceptable.
    q.exec(QStringLiteral("PRAGMA journal_mode=WAL"));
    q.finish();
    q.exec(QStringLiteral("PRAGMA synchronous=NORMAL"));
    return true;
}

bool LocalStore::migrate(QString *why)
{
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("PRAGMA user_version")) || !q.next()) {
        *why = q.lastError().text();
        return false;
    }
    const int version = q.value(0).toInt();
    q.finish();
    const auto &steps = migrations();
    static_assert(kSchemaVersion >= 1);
    Q_ASSERT(steps.size() == kSchemaVersion);
    if (version > kSchemaVersion || version < 0) {
        *why = QStringLiteral("schema version %1, this client knows up to %2").arg(version).arg(kSchemaVersion);
        return false;
    }
    for (int v = version; v < kSchemaVersion; ++v) {
        if (!db.transaction()) {
            *why = db.lastError().text();
            return false;
        }
        bool ok = true;
        for (const QString &sql : steps.at(v)) {
            if (!q.exec(sql)) {
                *why = QStringLiteral("migration %1: %2").arg(v + 1).arg(q.lastError().text());
                ok = false;
                break;
            }
        }
        ok = ok && q.exec(QStringLiteral("PRAGMA user_version = %1").arg(v + 1));
        if (!ok || !db.commit()) {
            if (why->isEmpty())
                *why = db.lastError().text();
            db.rollback();
            return false;
        }
        qCInfo(lcStore) << "local store" << m_path << "migrated to version" << v + 1;
    }
    return true;
}

void LocalStore::close()
{
    m_open = false;
    if (QSqlDatabase::contains(m_connectionName)) {
        QSqlDatabase::database(m_connectionName, false).close();
        QSqlDatabase::removeDatabase(m_connectionName);
    }
}

bool LocalStore::exec(const QString &sql, const QVariantList &binds) const
{
    if (!m_open)
        return false;
    QSqlQuery q(QSqlDatabase::database(m_connectionName, false));
    q.prepare(sql);
    for (const QVariant &b : binds)
        q.addBindValue(b);
    if (!q.exec()) {
        qCWarning(lcStore) << "local store write failed:" << q.lastError().text();
        return false;
    }
    return true;
}

namespace {

// Runs `body` in one transaction on the store's connection (rolled back when it returns false).
bool inTransaction(const QString &connection, const std::function<bool(QSqlQuery &)> &body)
{
    QSqlDatabase db = QSqlDatabase::database(connection, false);
    if (!db.isOpen() || !db.transaction())
        return false;
    QSqlQuery q(db);
    if (!body(q)) {
        qCWarning(lcStore) << "local store write failed:" << q.lastError().text();
        db.rollback();
        return false;
    }
    return db.commit();
}

QSqlQuery select(const QString &connection, const QString &sql, const QVariantList &binds = {})
{
    QSqlQuery q(QSqlDatabase::database(connection, false));
    q.setForwardOnly(true);
    q.prepare(sql);
    for (const QVariant &b : binds)
        q.addBindValue(b);
    if (!q.exec())
        qCWarning(lcStore) << "local store read failed:" << q.lastError().text();
    return q;
}

template<typename T> bool replaceAll(const QString &connection, const QString &table, const QList<T> &values)
{
    return inTransaction(connection, [&](QSqlQuery &q) {
        if (!q.exec(QStringLiteral("DELETE FROM ") + table))
            return false;
        q.prepare(QStringLiteral("INSERT OR REPLACE INTO %1 (id, json) VALUES (?, ?)").arg(table));
        for (const T &v : values) {
            q.addBindValue(v.id);
            q.addBindValue(toJson(v));
            if (!q.exec())
                return false;
        }
        return true;
    });
}

} // namespace

void LocalStore::saveSelf(const User &user)
{
    exec(QStringLiteral("INSERT OR REPLACE INTO self (id, json) VALUES (1, ?)"), {toJson(user)});
}

std::optional<User> LocalStore::self() const
{
    if (!m_open)
        return std::nullopt;
    QSqlQuery q = select(m_connectionName, QStringLiteral("SELECT json FROM self WHERE id = 1"));
    const QList<User> users = decodeAll<User>(q);
    if (users.isEmpty())
        return std::nullopt;
    return users.constFirst();
}

void LocalStore::saveRooms(const QList<Room> &rooms)
{
    if (m_open)
        replaceAll(m_connectionName, QStringLiteral("rooms"), rooms);
}

QList<Room> LocalStore::rooms() const
{
    if (!m_open)
        return {};
    QSqlQuery q = select(m_connectionName, QStringLiteral("SELECT json FROM rooms ORDER BY id"));
    return decodeAll<Room>(q);
}

void LocalStore::saveMessages(Id roomId, const QList<Message> &messages)
{
    if (!m_open)
        return;
    inTransaction(m_connectionName, [&](QSqlQuery &q) {
        q.prepare(QStringLiteral("INSERT OR REPLACE INTO messages (room_id, seq, json) VALUES (?, ?, ?)"));
        for (const Message &m : messages) {
            if (m.seq <= 0 || m.roomId != roomId)
                continue;
            q.addBindValue(roomId);
            q.addBindValue(m.seq);
            q.addBindValue(toJson(m));
            if (!q.exec())
                return false;
        }
        q.prepare(QStringLiteral("DELETE FROM messages WHERE room_id = ? AND seq NOT IN "
                                 "(SELECT seq FROM messages WHERE room_id = ? ORDER BY seq DESC LIMIT ?)"));
        q.addBindValue(roomId);
        q.addBindValue(roomId);
        q.addBindValue(kMessagesPerRoom);
        return q.exec();
    });
}

QList<Message> LocalStore::messages(Id roomId) const
{
    if (!m_open)
        return {};
    QSqlQuery q = select(m_connectionName, QStringLiteral("SELECT json FROM messages WHERE room_id = ? ORDER BY seq"),
                         {roomId});
    return decodeAll<Message>(q);
}

QList<Message> LocalStore::lastMessages() const
{
    if (!m_open)
        return {};
    QSqlQuery q = select(m_connectionName,
                         QStringLiteral("SELECT m.json FROM messages m JOIN (SELECT room_id, MAX(seq) AS seq "
                                        "FROM messages GROUP BY room_id) n "
                                        "ON m.room_id = n.room_id AND m.seq = n.seq ORDER BY m.room_id"));
    return decodeAll<Message>(q);
}

void LocalStore::saveUsers(const QList<User> &users)
{
    if (!m_open)
        return;
    inTransaction(m_connectionName, [&](QSqlQuery &q) {
        q.prepare(QStringLiteral("INSERT OR REPLACE INTO users (id, json) VALUES (?, ?)"));
        for (const User &u : users) {
            q.addBindValue(u.id);
            q.addBindValue(toJson(u));
            if (!q.exec())
                return false;
        }
        return true;
    });
}

QList<User> LocalStore::users() const
{
    if (!m_open)
        return {};
    QSqlQuery q = select(m_connectionName, QStringLiteral("SELECT json FROM users ORDER BY id"));
    return decodeAll<User>(q);
}

void LocalStore::saveProjects(const QList<Project> &projects)
{
    if (m_open)
        replaceAll(m_connectionName, QStringLiteral("projects"), projects);
}

QList<Project> LocalStore::projects() const
{
    if (!m_open)
        return {};
    QSqlQuery q = select(m_connectionName, QStringLiteral("SELECT json FROM projects ORDER BY id"));
    return decodeAll<Project>(q);
}

void LocalStore::saveTasks(Id projectId, const QList<Task> &tasks)
{
    if (!m_open)
        return;
    inTransaction(m_connectionName, [&](QSqlQuery &q) {
        q.prepare(QStringLiteral("DELETE FROM tasks WHERE project_id = ?"));
        q.addBindValue(projectId);
        if (!q.exec())
            return false;
        q.prepare(QStringLiteral("INSERT OR REPLACE INTO tasks (project_id, id, json) VALUES (?, ?, ?)"));
        for (const Task &t : tasks) {
            q.addBindValue(projectId);
            q.addBindValue(t.id);
            q.addBindValue(toJson(t));
            if (!q.exec())
                return false;
        }
        return true;
    });
}

QList<Task> LocalStore::tasks(Id projectId) const
{
    if (!m_open)
        return {};
    QSqlQuery q = select(m_connectionName, QStringLiteral("SELECT json FROM tasks WHERE project_id = ? ORDER BY id"),
                         {projectId});
    return decodeAll<Task>(q);
}

void LocalStore::setChannelSeq(const QString &channel, Seq seq)
{
    exec(QStringLiteral("INSERT OR REPLACE INTO channels (channel, seq) VALUES (?, ?)"), {channel, seq});
}

QHash<QString, Seq> LocalStore::channelSeqs() const
{
    QHash<QString, Seq> out;
    if (!m_open)
        return out;
    QSqlQuery q = select(m_connectionName, QStringLiteral("SELECT channel, seq FROM channels"));
    while (q.next())
        out.insert(q.value(0).toString(), q.value(1).toLongLong());
    return out;
}

void LocalStore::saveOutbox(const QList<OutboxRow> &rows)
{
    if (!m_open)
        return;
    inTransaction(m_connectionName, [&](QSqlQuery &q) {
        if (!q.exec(QStringLiteral("DELETE FROM outbox")))
            return false;
        q.prepare(QStringLiteral("INSERT INTO outbox (client_id, room_id, body, failed) VALUES (?, ?, ?, ?)"));
        for (const OutboxRow &r : rows) {
            q.addBindValue(r.clientId);
            q.addBindValue(r.roomId);
            q.addBindValue(r.body);
            q.addBindValue(r.failed ? 1 : 0);
            if (!q.exec())
                return false;
        }
        return true;
    });
}

QList<LocalStore::OutboxRow> LocalStore::outbox() const
{
    QList<OutboxRow> out;
    if (!m_open)
        return out;
    QSqlQuery q = select(m_connectionName,
                         QStringLiteral("SELECT room_id, client_id, body, failed FROM outbox ORDER BY position"));
    while (q.next())
        out.append({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(), q.value(3).toInt() != 0});
    return out;
}

void LocalStore::saveTaskChanges(const QList<TaskChangeRow> &rows)
{
    if (!m_open)
        return;
    inTransaction(m_connectionName, [&](QSqlQuery &q) {
        if (!q.exec(QStringLiteral("DELETE FROM task_changes")))
            return false;
        q.prepare(QStringLiteral(
            "INSERT OR REPLACE INTO task_changes (task_id, project_id, base_version, patch) VALUES (?, ?, ?, ?)"));
        for (const TaskChangeRow &r : rows) {
            q.addBindValue(r.taskId);
            q.addBindValue(r.projectId);
            q.addBindValue(r.baseVersion);
            q.addBindValue(r.patch);
            if (!q.exec())
                return false;
        }
        return true;
    });
}

QList<LocalStore::TaskChangeRow> LocalStore::taskChanges() const
{
    QList<TaskChangeRow> out;
    if (!m_open)
        return out;
    QSqlQuery q = select(m_connectionName,
                         QStringLiteral("SELECT task_id, project_id, base_version, patch FROM "
                                        "task_changes ORDER BY task_id"));
    while (q.next())
        out.append(
            {q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toLongLong(), q.value(3).toByteArray()});
    return out;
}

void LocalStore::saveHttpAnswer(const QString &path, const HttpAnswer &answer)
{
    if (!m_open)
        return;
    inTransaction(m_connectionName, [&](QSqlQuery &q) {
        q.prepare(QStringLiteral("INSERT OR REPLACE INTO http_answers (path, etag, body, used) VALUES "
                                 "(?, ?, ?, (SELECT COALESCE(MAX(used), 0) + 1 FROM http_answers))"));
        q.addBindValue(path);
        q.addBindValue(answer.etag);
        q.addBindValue(answer.body);
        if (!q.exec())
            return false;
        // Beyond kHttpAnswerBytes, counted from the most recently used: dropped.
        q.prepare(QStringLiteral("DELETE FROM http_answers WHERE path IN (SELECT path FROM (SELECT path, "
                                 "SUM(length(body)) OVER (ORDER BY used DESC) AS total FROM http_answers) "
                                 "WHERE total > ?)"));
        q.addBindValue(kHttpAnswerBytes);
        return q.exec();
    });
}

std::optional<LocalStore::HttpAnswer> LocalStore::httpAnswer(const QString &path) const
{
    if (!m_open)
        return std::nullopt;
    QSqlQuery q
        = select(m_connectionName, QStringLiteral("SELECT etag, body FROM http_answers WHERE path = ?"), {path});
    if (!q.next())
        return std::nullopt;
    return HttpAnswer {q.value(0).toByteArray(), q.value(1).toByteArray()};
}

void LocalStore::touchHttpAnswer(const QString &path)
{
    exec(QStringLiteral("UPDATE http_answers SET used = (SELECT COALESCE(MAX(used), 0) + 1 FROM http_answers) "
                        "WHERE path = ?"),
         {path});
}

void LocalStore::removeHttpAnswer(const QString &path)
{
    exec(QStringLiteral("DELETE FROM http_answers WHERE path = ?"), {path});
}

void LocalStore::setValue(const QString &key, const QString &value)
{
    exec(QStringLiteral("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)"), {key, value});
}

QString LocalStore::value(const QString &key) const
{
    if (!m_open)
        return {};
    QSqlQuery q = select(m_connectionName, QStringLiteral("SELECT value FROM kv WHERE key = ?"), {key});
    return q.next() ? q.value(0).toString() : QString();
}

} // namespace taskmaster::client
