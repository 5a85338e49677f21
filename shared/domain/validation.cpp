#include "shared/domain/validation.h"

#include <QRegularExpression>

namespace taskmaster {

namespace {

// Single-line text: no control characters at all. Multi-line text may hold \n, \r and \t.
enum class Lines { Single, Multi };

MaybeError checkText(const QString &s, const QString &field, int min, int max, Lines lines,
                     ErrorCode overMax = ErrorCode::ValidationFailed)
{
    if (!QStringView(s).isValidUtf16())
        return Error::validation(field, field + QStringLiteral(" is not valid Unicode"));
    for (QChar c : s) {
        const char16_t u = c.unicode();
        const bool control = u < 0x20 || u == 0x7f;
        if (control && !(lines == Lines::Multi && (u == u'\n' || u == u'\r' || u == u'\t')))
            return Error::validation(field, field + QStringLiteral(" must not contain control characters"));
    }
    const qsizetype n = codePointCount(s);
    if (n > max) {
        return Error {overMax, QStringLiteral("%1 must be %2..%3 characters").arg(field).arg(min).arg(max), field};
    }
    if (n < min || (min > 0 && s.trimmed().isEmpty()))
        return Error::validation(field, QStringLiteral("%1 must be %2..%3 characters").arg(field).arg(min).arg(max));
    return std::nullopt;
}

} // namespace

qsizetype codePointCount(QStringView s)
{
    qsizetype n = 0;
    for (qsizetype i = 0; i < s.size(); ++i) {
        if (!s[i].isLowSurrogate() || i == 0 || !s[i - 1].isHighSurrogate())
            ++n;
    }
    return n;
}

QString foldUsername(const QString &username)
{
    return username.toCaseFolded();
}

MaybeError validateUsername(const QString &folded, const QString &field)
{
    static const QRegularExpression re(QStringLiteral(R"(\A[a-z0-9_.-]{3,32}\z)"));
    if (!re.match(folded).hasMatch()) {
        return Error::validation(field, QStringLiteral("%1 must match [a-z0-9_.-]{3,32}").arg(field));
    }
    return std::nullopt;
}

MaybeError validatePassword(const QString &password, const QString &field)
{
    if (!QStringView(password).isValidUtf16())
        return Error::validation(field, field + QStringLiteral(" is not valid Unicode"));
    const qsizetype n = codePointCount(password);
    if (n < limits::kPasswordMin || n > limits::kPasswordMax) {
        return Error::validation(field,
                                 QStringLiteral("%1 must be %2..%3 characters")
                                     .arg(field)
                                     .arg(limits::kPasswordMin)
                                     .arg(limits::kPasswordMax));
    }
    return std::nullopt;
}

MaybeError validateDisplayName(const QString &name, const QString &field)
{
    return checkText(name, field, 1, limits::kDisplayNameMax, Lines::Single);
}

MaybeError validateProjectName(const QString &name, const QString &field)
{
    return checkText(name, field, 1, limits::kProjectNameMax, Lines::Single);
}

MaybeError validateDescription(const QString &text, const QString &field)
{
    return checkText(text, field, 0, limits::kDescriptionMax, Lines::Multi);
}

MaybeError validateTaskTitle(const QString &title, const QString &field)
{
    return checkText(title, field, 1, limits::kTaskTitleMax, Lines::Single);
}

MaybeError validateRoomName(const QString &name, const QString &field)
{
    return checkText(name, field, 1, limits::kRoomNameMax, Lines::Single);
}

MaybeError validateMessageBody(const QString &body, const QString &field)
{
    return checkText(body, field, 1, limits::kMessageBodyMax, Lines::Multi, ErrorCode::PayloadTooLarge);
}

MaybeError validateClientId(const QString &clientId, const QString &field)
{
    if (clientId.isEmpty() || clientId.size() > limits::kClientIdMax)
        return Error::validation(field,
                                 QStringLiteral("%1 must be 1..%2 characters").arg(field).arg(limits::kClientIdMax));
    for (QChar c : clientId) {
        if (c.unicode() < 0x21 || c.unicode() > 0x7e)
            return Error::validation(field, field + QStringLiteral(" must be printable ASCII without spaces"));
    }
    return std::nullopt;
}

MaybeError validateId(qint64 id, const QString &field)
{
    if (id <= 0)
        return Error::validation(field, field + QStringLiteral(" must be a positive integer"));
    return std::nullopt;
}

MaybeError validateSeq(qint64 seq, const QString &field)
{
    if (seq < 0)
        return Error::validation(field, field + QStringLiteral(" must be a non-negative integer"));
    return std::nullopt;
}

MaybeError validateSearchQuery(const QString &q, const QString &field)
{
    return checkText(q, field, 1, limits::kSearchQueryMax, Lines::Single);
}

MaybeError validate(const User &user)
{
    if (auto e = validateUsername(user.username))
        return e;
    return validateDisplayName(user.displayName);
}

MaybeError validate(const Project &project)
{
    if (auto e = validateProjectName(project.name))
        return e;
    if (auto e = validateDescription(project.description))
        return e;
    if (project.version < 1)
        return Error::validation(QStringLiteral("version"), QStringLiteral("version must be >= 1"));
    return std::nullopt;
}

MaybeError validate(const Task &task)
{
    if (auto e = validateTaskTitle(task.title))
        return e;
    if (auto e = validateDescription(task.description))
        return e;
    if (task.assigneeId) {
        if (auto e = validateId(*task.assigneeId, QStringLiteral("assigneeId")))
            return e;
    }
    if (task.dueDate && !task.dueDate->isValid())
        return Error::validation(QStringLiteral("dueDate"), QStringLiteral("dueDate must be a date YYYY-MM-DD"));
    if (task.version < 1)
        return Error::validation(QStringLiteral("version"), QStringLiteral("version must be >= 1"));
    return std::nullopt;
}

MaybeError validate(const Room &room)
{
    if (auto e = validateRoomName(room.name))
        return e;
    if (room.memberIds.size() > limits::kRoomMembersMax) {
        return Error::validation(QStringLiteral("memberIds"),
                                 QStringLiteral("memberIds holds at most %1 ids").arg(limits::kRoomMembersMax));
    }
    for (Id id : room.memberIds) {
        if (auto e = validateId(id, QStringLiteral("memberIds")))
            return e;
    }
    return std::nullopt;
}

MaybeError validate(const Message &message)
{
    if (message.clientId) {
        if (auto e = validateClientId(*message.clientId))
            return e;
    }
    if (message.deleted)
        return message.body.isEmpty()
            ? std::nullopt
            : MaybeError(
                Error::validation(QStringLiteral("body"), QStringLiteral("a deleted message has an empty body")));
    return validateMessageBody(message.body);
}

MaybeError validateAttachmentIds(const QList<Id> &ids)
{
    if (ids.size() > limits::kAttachmentsMax) {
        return Error::validation(QStringLiteral("attachmentIds"),
                                 QStringLiteral("attachmentIds holds at most %1 ids").arg(limits::kAttachmentsMax));
    }
    for (qsizetype i = 0; i < ids.size(); ++i) {
        if (ids.indexOf(ids[i]) != i)
            return Error::validation(QStringLiteral("attachmentIds"),
                                     QStringLiteral("attachmentIds names an id twice"));
    }
    return std::nullopt;
}

} // namespace taskmaster
