#include "shared/domain/types.h"

#include <QRegularExpression>
#include <QTimeZone>

#include <array>
#include <utility>

namespace taskmaster {

namespace {
template<typename E, std::size_t N> QString nameOf(const std::array<std::pair<E, const char *>, N> &table, E v)
{
    for (const auto &[e, name] : table) {
        if (e == v)
            return QString::fromLatin1(name);
    }
    return {};
}
template<typename E, std::size_t N>
std::optional<E> valueOf(const std::array<std::pair<E, const char *>, N> &table, const QString &s)
{
    for (const auto &[e, name] : table) {
        if (s == QLatin1String(name))
            return e;
    }
    return std::nullopt;
}

constexpr std::array<std::pair<Role, const char *>, 2> kRoles {{{Role::Member, "member"}, {Role::Admin, "admin"}}};
constexpr std::array<std::pair<TaskStatus, const char *>, 4> kStatuses {{{TaskStatus::Todo, "todo"},
                                                                         {TaskStatus::InProgress, "in_progress"},
                                                                         {TaskStatus::Review, "review"},
                                                                         {TaskStatus::Done, "done"}}};
constexpr std::array<std::pair<TaskPriority, const char *>, 4> kPriorities {{{TaskPriority::Low, "low"},
                                                                             {TaskPriority::Medium, "medium"},
                                                                             {TaskPriority::High, "high"},
                                                                             {TaskPriority::Urgent, "urgent"}}};
constexpr std::array<std::pair<RoomKind, const char *>, 2> kRoomKinds {
    {{RoomKind::Group, "group"}, {RoomKind::Direct, "direct"}}};
constexpr std::array<std::pair<ChannelKind, const char *>, 2> kChannelKinds {
    {{ChannelKind::Room, "room"}, {ChannelKind::Project, "project"}}};
constexpr std::array<std::pair<EventType, const char *>, 7> kEventTypes {
    {{EventType::MessageCreated, "message"},
     {EventType::MessageUpdated, "message_updated"},
     {EventType::TaskCreated, "task_created"},
     {EventType::TaskUpdated, "task_updated"},
     {EventType::TaskDeleted, "task_deleted"},
     {EventType::MemberJoined, "member_joined"},
     {EventType::MemberLeft, "member_left"}}};
} // namespace

QString toWire(Role v)
{
    return nameOf(kRoles, v);
}
QString toWire(TaskStatus v)
{
    return nameOf(kStatuses, v);
}
QString toWire(TaskPriority v)
{
    return nameOf(kPriorities, v);
}
QString toWire(RoomKind v)
{
    return nameOf(kRoomKinds, v);
}
QString toWire(ChannelKind v)
{
    return nameOf(kChannelKinds, v);
}
QString toWire(EventType v)
{
    return nameOf(kEventTypes, v);
}
std::optional<Role> roleFromWire(const QString &s)
{
    return valueOf(kRoles, s);
}
std::optional<TaskStatus> taskStatusFromWire(const QString &s)
{
    return valueOf(kStatuses, s);
}
std::optional<TaskPriority> taskPriorityFromWire(const QString &s)
{
    return valueOf(kPriorities, s);
}
std::optional<RoomKind> roomKindFromWire(const QString &s)
{
    return valueOf(kRoomKinds, s);
}
std::optional<EventType> eventTypeFromWire(const QString &s)
{
    return valueOf(kEventTypes, s);
}

QString Channel::toString() const
{
    return toWire(kind) + QLatin1Char(':') + QString::number(id);
}

std::optional<Channel> Channel::parse(const QString &s)
{
    const qsizetype colon = s.indexOf(QLatin1Char(':'));
    if (colon <= 0)
        return std::nullopt;
    const auto kind = valueOf(kChannelKinds, s.left(colon));
    if (!kind)
        return std::nullopt;
    const auto id = parseId(QStringView(s).mid(colon + 1));
    if (!id)
        return std::nullopt;
    return Channel {*kind, *id};
}

std::optional<Id> parseId(QStringView digits)
{
    if (digits.isEmpty() || digits.size() > 19 || digits.front() == QLatin1Char('0'))
        return std::nullopt;
    for (QChar c : digits) {
        if (c < QLatin1Char('0') || c > QLatin1Char('9'))
            return std::nullopt;
    }
    bool ok = false;
    const qint64 id = digits.toLongLong(&ok);
    if (!ok || id <= 0)
        return std::nullopt;
    return id;
}

QString formatTimestamp(const QDateTime &t)
{
    return t.toUTC().toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss.zzz")) + QLatin1Char('Z');
}

std::optional<QDateTime> parseTimestamp(const QString &s)
{
    static const QRegularExpression re(QStringLiteral(
        R"(\A(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))\z)"));
    const auto m = re.match(s);
    if (!m.hasMatch())
        return std::nullopt;
    const QDate date(m.captured(1).toInt(), m.captured(2).toInt(), m.captured(3).toInt());
    QString frac = m.captured(7);
    const int ms = frac.isEmpty() ? 0 : frac.leftJustified(3, QLatin1Char('0')).left(3).toInt();
    const QTime time(m.captured(4).toInt(), m.captured(5).toInt(), m.captured(6).toInt(), ms);
    if (!date.isValid() || !time.isValid())
        return std::nullopt;
    int offsetSeconds = 0;
    if (m.captured(8).isEmpty()) {
        const int hh = m.captured(10).toInt();
        const int mm = m.captured(11).toInt();
        if (hh > 23 || mm > 59)
            return std::nullopt;
        offsetSeconds = (hh * 3600 + mm * 60) * (m.captured(9) == QLatin1String("-") ? -1 : 1);
    }
    QDateTime t(date, time, QTimeZone(offsetSeconds));
    if (!t.isValid())
        return std::nullopt;
    return t.toUTC();
}

QString formatDate(const QDate &d)
{
    return d.toString(QStringLiteral("yyyy-MM-dd"));
}

std::optional<QDate> parseDate(const QString &s)
{
    static const QRegularExpression re(QStringLiteral(R"(\A(\d{4})-(\d{2})-(\d{2})\z)"));
    const auto m = re.match(s);
    if (!m.hasMatch())
        return std::nullopt;
    const QDate d(m.captured(1).toInt(), m.captured(2).toInt(), m.captured(3).toInt());
    if (!d.isValid())
        return std::nullopt;
    return d;
}

bool isInlineImage(const QString &contentType)
{
    return contentType == QLatin1String("image/png") || contentType == QLatin1String("image/jpeg")
        || contentType == QLatin1String("image/gif") || contentType == QLatin1String("image/webp")
        || contentType == QLatin1String("image/bmp");
}

} // namespace taskmaster
