#include "server/storage/project_store.h"

#include "server/storage/event_store.h"
#include "server/storage/sql.h"
#include "server/storage/user_store.h"
#include "shared/domain/validation.h"

namespace taskmaster::server::store {

namespace {
// Selected through the alias p; written rows are returned unqualified (RETURNING on SQLite only
// names the modified table's columns).
const QString kProjectColumns
    = QStringLiteral("p.id, p.name, p.description, p.owner_id, p.created_at, p.updated_at, p.version");
const QString kProjectReturning
    = QStringLiteral(" RETURNING id, name, description, owner_id, created_at, updated_at, version");

Project readProject(const QSqlQuery &q, int first = 0)
{
    Project p;
    p.id = q.value(first).toLongLong();
    p.name = q.value(first + 1).toString();
    p.description = q.value(first + 2).toString();
    p.ownerId = q.value(first + 3).toLongLong();
    p.createdAt = fromMs(q.value(first + 4).toLongLong());
    p.updatedAt = fromMs(q.value(first + 5).toLongLong());
    p.version = q.value(first + 6).toLongLong();
    return p;
}

// A null QString binds as SQL NULL; the text columns are NOT NULL, so an empty value is bound as ''.
QVariant textBind(const QString &s)
{
    return s.isNull() ? QVariant(QStringLiteral("")) : QVariant(s);
}

Error projectNotFound()
{
    return Error {ErrorCode::NotFound, QStringLiteral("project not found"), {}};
}

Result<QList<Id>> memberIdsOf(QSqlDatabase &db, Id projectId)
{
    return sql::idColumn(
        sql::run(db, "project_members.of_project",
                 QStringLiteral("SELECT m.user_id FROM project_members m JOIN projects p ON p.id = m.project_id "
                                "WHERE m.project_id = ? AND NOT p.deleted ORDER BY m.user_id"),
                 {projectId}));
}
} // namespace

Result<Project> lockProjectForMember(QSqlDatabase &db, Id projectId, Id userId)
{
    // Lock first, then look at the membership in a later statement: membership changes take the
    // same lock, so the second statement sees them all (READ COMMITTED takes a snapshot per
    // statement; SQLite's writers are serialised already).
    const QString lockClause
        = sql::dialectOf(db) == sql::Dialect::Postgres ? QStringLiteral(" FOR NO KEY UPDATE") : QString();
    auto q = sql::run(db, "projects.lock",
                      QStringLiteral("SELECT ") + kProjectColumns
                          + QStringLiteral(" FROM projects p WHERE p.id = ? AND NOT p.deleted") + lockClause,
                      {projectId});
    if (!q)
        return q.error();
    if (!q->next())
        return projectNotFound();
    Project project = readProject(*q);
    q->finish();
    auto member = isProjectMember(db, projectId, userId);
    if (!member)
        return member.error();
    if (!*member)
        return projectNotFound();
    return project;
}

Result<Project> createProject(QSqlDatabase &db, Id ownerId, const QString &name, const QString &description,
                              qint64 nowMs)
{
    if (auto e = validateProjectName(name))
        return *e;
    if (auto e = validateDescription(description))
        return *e;
    sql::Transaction tx(db);
    if (!tx.began())
        return tx.beginError();
    auto q = sql::run(db, "projects.insert",
                      QStringLiteral("INSERT INTO projects (name, description, owner_id, created_at, updated_at) "
                                     "VALUES (?, ?, ?, ?, ?)")
                          + kProjectReturning,
                      {textBind(name), textBind(description), ownerId, nowMs, nowMs});
    if (!q)
        return q.error();
    q->next();
    Project project = readProject(*q);
    q->finish();
    auto m = sql::run(db, "project_members.insert",
                      QStringLiteral("INSERT INTO project_members (project_id, user_id, joined_at) VALUES (?, ?, ?)"),
                      {project.id, ownerId, nowMs});
    if (!m)
        return m.error();
    if (auto e = tx.commit())
        return *e;
    return project;
}

Result<QList<Project>> projectsForUser(QSqlDatabase &db, Id userId)
{
    auto q = sql::run(db, "projects.for_user",
                      QStringLiteral("SELECT ") + kProjectColumns
                          + QStringLiteral(" FROM project_members m JOIN projects p ON p.id = m.project_id "
                                           "WHERE m.user_id = ? AND NOT p.deleted ORDER BY p.id"),
                      {userId});
    if (!q)
        return q.error();
    QList<Project> projects;
    while (q->next())
        projects.append(readProject(*q));
    return projects;
}

Result<std::optional<Project>> projectForMember(QSqlDatabase &db, Id projectId, Id userId)
{
    auto q = sql::run(db, "projects.for_member",
                      QStringLiteral("SELECT ") + kProjectColumns
                          + QStringLiteral(" FROM projects p JOIN project_members m ON m.project_id = p.id AND "
                                           "m.user_id = ? WHERE p.id = ? AND NOT p.deleted"),
                      {userId, projectId});
    if (!q)
        return q.error();
    if (!q->next())
        return std::optional<Project>();
    return std::optional<Project>(readProject(*q));
}

Result<Project> updateProject(QSqlDatabase &db, Id projectId, Id callerId, const std::optional<QString> &name,
                              const std::optional<QString> &description, std::optional<qint64> expectedVersion,
                              qint64 nowMs)
{
    if (name) {
        if (auto e = validateProjectName(*name))
            return *e;
    }
    if (description) {
        if (auto e = validateDescription(*description))
            return *e;
    }
    sql::Transaction tx(db);
    if (!tx.began())
        return tx.beginError();
    auto current = lockProjectForMember(db, projectId, callerId);
    if (!current)
        return current.error();
    if (expectedVersion && *expectedVersion != current->version)
        return Error {
            ErrorCode::PreconditionFailed, QStringLiteral("project is at version %1").arg(current->version), {}};
    const QString newName = name.value_or(current->name);
    const QString newDescription = description.value_or(current->description);
    if (newName == current->name && newDescription == current->description)
        return *current; // nothing changes: no new version (the transaction only read)
    auto q = sql::run(db, "projects.update",
                      QStringLiteral("UPDATE projects SET name = ?, description = ?, updated_at = ?, "
                                     "version = version + 1 WHERE id = ?")
                          + kProjectReturning,
                      {textBind(newName), textBind(newDescription), nowMs, projectId});
    if (!q)
        return q.error();
    if (!q->next())
        return projectNotFound();
    Project project = readProject(*q);
    q->finish();
    if (auto e = tx.commit())
        return *e;
    return project;
}

Result<ProjectDeletion> deleteProject(QSqlDatabase &db, Id projectId, Id callerId, qint64 nowMs)
{
    sql::Transaction tx(db);
    if (!tx.began())
        return tx.beginError();
    auto current = lockProjectForMember(db, projectId, callerId);
    if (!current)
        return current.error();
    if (current->ownerId != callerId)
        return Error {ErrorCode::Forbidden, QStringLiteral("only the owner may delete the project"), {}};
    auto members = memberIdsOf(db, projectId);
    if (!members)
        return members.error();
    auto q = sql::run(db, "projects.delete",
                      QStringLiteral("UPDATE projects SET deleted = TRUE, updated_at = ?, version = version + 1 "
                                     "WHERE id = ?")
                          + kProjectReturning,
                      {nowMs, projectId});
    if (!q)
        return q.error();
    if (!q->next())
        return projectNotFound();
    ProjectDeletion deletion {readProject(*q), *members};
    q->finish();
    if (auto e = tx.commit())
        return *e;
    return deletion;
}

Result<MemberChange> addProjectMember(QSqlDatabase &db, Id projectId, Id callerId, Id userId, qint64 nowMs)
{
    sql::Transaction tx(db);
    if (!tx.began())
        return tx.beginError();
    auto project = lockProjectForMember(db, projectId, callerId);
    if (!project)
        return project.error();
    auto check = sql::run(db, "project_members.check",
                          QStringLiteral("SELECT EXISTS (SELECT 1 FROM users WHERE id = ?), EXISTS (SELECT 1 FROM "
                                         "project_members WHERE project_id = ? AND user_id = ?)"),
                          {userId, projectId, userId});
    if (!check)
        return check.error();
    check->next();
    const bool userExists = check->value(0).toBool();
    const bool alreadyMember = check->value(1).toBool();
    check->finish();
    if (!userExists)
        return Error::validation(QStringLiteral("userId"), QStringLiteral("no such user"));
    if (alreadyMember)
        return Error {ErrorCode::Conflict, QStringLiteral("already a member"), QStringLiteral("userId")};
    auto q = sql::run(db, "project_members.insert",
                      QStringLiteral("INSERT INTO project_members (project_id, user_id, joined_at) VALUES (?, ?, ?)"),
                      {projectId, userId, nowMs});
    if (!q) {
        if (q.error().code == ErrorCode::Conflict)
            return Error {ErrorCode::Conflict, QStringLiteral("already a member"), QStringLiteral("userId")};
        return q.error();
    }
    auto seq = appendEvents(db, Channel::project(projectId), {EventRow {EventType::MemberJoined, userId}}, nowMs);
    if (!seq)
        return seq.error();
    if (auto e = tx.commit())
        return *e;
    return MemberChange {projectId, userId, *seq};
}

Result<MemberChange> removeProjectMember(QSqlDatabase &db, Id projectId, Id callerId, Id userId, qint64 nowMs)
{
    sql::Transaction tx(db);
    if (!tx.began())
        return tx.beginError();
    auto project = lockProjectForMember(db, projectId, callerId);
    if (!project)
        return project.error();
    if (userId == project->ownerId)
        return Error {ErrorCode::Forbidden, QStringLiteral("the owner cannot leave the project"), {}};
    if (userId != callerId && callerId != project->ownerId)
        return Error {ErrorCode::Forbidden, QStringLiteral("only the owner may remove other members"), {}};
    auto q
        = sql::run(db, "project_members.delete",
                   QStringLiteral("DELETE FROM project_members WHERE project_id = ? AND user_id = ? RETURNING user_id"),
                   {projectId, userId});
    if (!q)
        return q.error();
    const bool removed = q->next();
    q->finish();
    if (!removed)
        return Error {ErrorCode::NotFound, QStringLiteral("not a member"), QStringLiteral("userId")};
    auto seq = appendEvents(db, Channel::project(projectId), {EventRow {EventType::MemberLeft, userId}}, nowMs);
    if (!seq)
        return seq.error();
    if (auto e = tx.commit())
        return *e;
    return MemberChange {projectId, userId, *seq};
}

Result<QList<Id>> recentlyActiveProjects(QSqlDatabase &db, int limit)
{
    return sql::idColumn(sql::run(db, "projects.recently_active",
                                  QStringLiteral("SELECT DISTINCT r.project_id FROM "
                                                 "(SELECT project_id FROM tasks ORDER BY id DESC LIMIT 5000) AS r "
                                                 "JOIN projects p ON p.id = r.project_id WHERE NOT p.deleted LIMIT ?"),
                                  {limit}));
}

Result<QList<Id>> projectMemberIds(QSqlDatabase &db, Id projectId)
{
    return memberIdsOf(db, projectId);
}

Result<bool> isProjectMember(QSqlDatabase &db, Id projectId, Id userId)
{
    auto q = sql::run(db, "project_members.is_member",
                      QStringLiteral("SELECT EXISTS (SELECT 1 FROM project_members m JOIN projects p ON p.id = "
                                     "m.project_id WHERE m.project_id = ? AND m.user_id = ? AND NOT p.deleted)"),
                      {projectId, userId});
    if (!q)
        return q.error();
    q->next();
    return q->value(0).toBool();
}

} // namespace taskmaster::server::store
