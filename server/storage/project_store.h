// ProjectStore: projects and their members in SQL. Blocking functions that take the worker's
// connection; callers run them through DbPool. Thread: a database worker.
//
// Visibility: a project exists for a caller only while it is not deleted and the caller is one
// of its members; otherwise every function answers NotFound (docs/protocol.md: never reveal a project
// the caller may not see), or nullopt / false / an empty list for the lookups.
// Authorization among members:
//   - any member reads and updates the project (name, description) and adds members;
//   - only the owner deletes the project (Forbidden for the other members);
//   - a member may remove themselves (leave); only the owner removes someone else (Forbidden
//     otherwise); the owner cannot be removed, not even by themselves (Forbidden: delete the
//     project instead).
// Writes run in one transaction that first locks the project row (FOR NO KEY UPDATE on
// PostgreSQL, BEGIN IMMEDIATE on SQLite), so every write of a project, task writes included, is
// serialised per project and its durable event takes the channel's next seq in commit order.
// Membership changes append MemberJoined / MemberLeft (entity = the user) to channel
// project:<id>; creating, updating and deleting a project append no event (there is no event
// type for them; the creator's membership is implied by the project, so a new project's channel
// starts at seq 0 and its first task is seq 1).
#pragma once

#include "shared/core/error.h"
#include "shared/domain/types.h"

#include <QList>
#include <QSqlDatabase>

#include <optional>

namespace taskmaster::server::store {

// A membership change with the seq of its durable event in channel project:<projectId>.
struct MemberChange {
    Id projectId = 0;
    Id userId = 0;
    Seq seq = 0;
    friend bool operator==(const MemberChange &, const MemberChange &) = default;
};

// A deleted project (its last state: deleted, version bumped) and who were its members, so the
// caller can invalidate their caches and unsubscribe their connections.
struct ProjectDeletion {
    Project project;
    QList<Id> memberIds; // ascending
    friend bool operator==(const ProjectDeletion &, const ProjectDeletion &) = default;
};

// The owner becomes the project's first member. ValidationFailed (field name / description) when
// a field breaks its rule (validation.h).
[[nodiscard]] Result<Project> createProject(QSqlDatabase &db, Id ownerId, const QString &name,
                                            const QString &description, qint64 nowMs);
// Projects the user is a member of, not deleted, by id.
[[nodiscard]] Result<QList<Project>> projectsForUser(QSqlDatabase &db, Id userId);
// nullopt when the project does not exist, is deleted, or the user is not a member.
[[nodiscard]] Result<std::optional<Project>> projectForMember(QSqlDatabase &db, Id projectId, Id userId);

// Changes the given fields; version + 1 and updated_at = nowMs when something changes. Nothing
// to change (both absent, or the same values): the project as it is, version unchanged.
// Errors, in this order: ValidationFailed (field), NotFound, PreconditionFailed when
// expectedVersion is given and is not the current version.
[[nodiscard]] Result<Project> updateProject(QSqlDatabase &db, Id projectId, Id callerId,
                                            const std::optional<QString> &name,
                                            const std::optional<QString> &description,
                                            std::optional<qint64> expectedVersion, qint64 nowMs);
// Soft delete (owner only): the project, its tasks and its channel disappear for everyone.
[[nodiscard]] Result<ProjectDeletion> deleteProject(QSqlDatabase &db, Id projectId, Id callerId, qint64 nowMs);

// Any member adds userId. NotFound (project not visible to the caller); ValidationFailed field
// "userId" when no such user exists; Conflict field "userId" when already a member.
[[nodiscard]] Result<MemberChange> addProjectMember(QSqlDatabase &db, Id projectId, Id callerId, Id userId,
                                                    qint64 nowMs);
// Removes userId (rules above). NotFound without field when the project is not visible to the
// caller; Forbidden; NotFound field "userId" when userId is not a member.
[[nodiscard]] Result<MemberChange> removeProjectMember(QSqlDatabase &db, Id projectId, Id callerId, Id userId,
                                                       qint64 nowMs);

// Members of a live project, ascending; empty when the project does not exist or is deleted.
// No caller check: for the real-time layer and caches, which already know who asks.
[[nodiscard]] Result<QList<Id>> projectMemberIds(QSqlDatabase &db, Id projectId);
// Up to `limit` live projects with the most recently created tasks, for warming.
[[nodiscard]] Result<QList<Id>> recentlyActiveProjects(QSqlDatabase &db, int limit);
// False when the project does not exist or is deleted.
[[nodiscard]] Result<bool> isProjectMember(QSqlDatabase &db, Id projectId, Id userId);

// ---- For the task store (same file set, same rules) ------------------------------------------

// Inside a write transaction: locks the project row and answers it when it is live and userId is
// a member, NotFound otherwise. Every write of a project starts with it (lock order: project,
// then its tasks).
[[nodiscard]] Result<Project> lockProjectForMember(QSqlDatabase &db, Id projectId, Id userId);

} // namespace taskmaster::server::store
