// Field rules of docs/protocol.md, one function per rule and one per resource. Each returns the first
// broken rule as an Error naming the field (ValidationFailed, or PayloadTooLarge for a message
// body over its limit), or std::nullopt when the value is acceptable. Thread: any.
#pragma once

#include "shared/core/error.h"
#include "shared/domain/types.h"

namespace taskmaster::limits {
inline constexpr int kUsernameMin = 3;
inline constexpr int kUsernameMax = 32;
inline constexpr int kPasswordMin = 8;
inline constexpr int kPasswordMax = 256;
inline constexpr int kDisplayNameMax = 64;
inline constexpr int kProjectNameMax = 100;
inline constexpr int kDescriptionMax = 10000;
inline constexpr int kTaskTitleMax = 200;
inline constexpr int kRoomNameMax = 100;
inline constexpr int kMessageBodyMax = 8192; // characters (code points); over it: 413
inline constexpr int kClientIdMax = 64;
inline constexpr int kSearchQueryMax = 200;
inline constexpr int kRoomMembersMax = 1000; // memberIds in one create request
inline constexpr int kAttachmentsMax = 10; // attachmentIds of one message or task
inline constexpr int kPageDefault = 50;
inline constexpr int kPageMax = 200;
inline constexpr qint64 kBodyBytesMax = 1024 * 1024; // REST request body
inline constexpr qint64 kFrameBytesMax = 64 * 1024; // WebSocket frame
} // namespace taskmaster::limits

namespace taskmaster {

// Number of Unicode code points (a surrogate pair counts once).
[[nodiscard]] qsizetype codePointCount(QStringView s);

// Username is case-folded first; the returned value is what gets stored.
[[nodiscard]] QString foldUsername(const QString &username);

[[nodiscard]] MaybeError validateUsername(const QString &folded, const QString &field = QStringLiteral("username"));
[[nodiscard]] MaybeError validatePassword(const QString &password, const QString &field = QStringLiteral("password"));
[[nodiscard]] MaybeError validateDisplayName(const QString &name, const QString &field = QStringLiteral("displayName"));
[[nodiscard]] MaybeError validateProjectName(const QString &name, const QString &field = QStringLiteral("name"));
[[nodiscard]] MaybeError validateDescription(const QString &text, const QString &field = QStringLiteral("description"));
[[nodiscard]] MaybeError validateTaskTitle(const QString &title, const QString &field = QStringLiteral("title"));
[[nodiscard]] MaybeError validateRoomName(const QString &name, const QString &field = QStringLiteral("name"));
[[nodiscard]] MaybeError validateMessageBody(const QString &body, const QString &field = QStringLiteral("body"));
[[nodiscard]] MaybeError validateClientId(const QString &clientId, const QString &field = QStringLiteral("clientId"));
[[nodiscard]] MaybeError validateId(qint64 id, const QString &field);
[[nodiscard]] MaybeError validateSeq(qint64 seq, const QString &field); // >= 0
[[nodiscard]] MaybeError validateSearchQuery(const QString &q, const QString &field = QStringLiteral("q"));

// Whole resources, as they would be stored (ids may be 0 for not-yet-stored values).
[[nodiscard]] MaybeError validate(const User &user);
[[nodiscard]] MaybeError validate(const Project &project);
[[nodiscard]] MaybeError validate(const Task &task);
[[nodiscard]] MaybeError validate(const Room &room);
// attachmentIds of a message or task: at most limits::kAttachmentsMax, each once.
[[nodiscard]] MaybeError validateAttachmentIds(const QList<Id> &ids);
[[nodiscard]] MaybeError validate(const Message &message);

} // namespace taskmaster
