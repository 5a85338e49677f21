// Sample values and table helpers shared by the codec tests.
#pragma once

#include "shared/codec/json_reader.h"
#include "shared/codec/json_writer.h"
#include "shared/core/error.h"
#include "shared/domain/types.h"

#include <QMetaType>
#include <QTest>

#include <functional>

namespace taskmaster::fixtures {

inline QDateTime at(int day, int hour, int minute, int second, int ms)
{
    return QDateTime(QDate(2026, 11, day), QTime(hour, minute, second, ms), Qt::UTC);
}

inline User alice()
{
    return User {5, QStringLiteral("alice"), QStringLiteral("Alice \u00c5berg"), Role::Admin, at(23, 12, 0, 0, 0)};
}

inline Project project()
{
    return Project {3, QStringLiteral("Launch"), QStringLiteral("Line one\nline \"two\"\ttabbed"),
                    5, at(1, 8, 30, 0, 1),       at(2, 9, 0, 59, 999),
                    4};
}

inline Task task()
{
    Task t;
    t.id = 77;
    t.projectId = 3;
    t.title = QStringLiteral("Write the codecs \U0001F680");
    t.description = QStringLiteral("Strict \\ careful");
    t.status = TaskStatus::InProgress;
    t.priority = TaskPriority::Urgent;
    t.assigneeId = 5;
    t.dueDate = QDate(2026, 12, 31);
    t.createdBy = 6;
    t.createdAt = at(20, 10, 0, 0, 5);
    t.updatedAt = at(21, 10, 0, 0, 50);
    t.version = 2;
    return t;
}

inline Task bareTask() // every nullable field null, defaults elsewhere
{
    Task t;
    t.id = 78;
    t.projectId = 3;
    t.title = QStringLiteral("t");
    t.createdBy = 5;
    t.createdAt = at(20, 10, 0, 0, 0);
    t.updatedAt = at(20, 10, 0, 0, 0);
    return t;
}

inline Room room()
{
    Room r;
    r.id = 12;
    r.name = QStringLiteral("general");
    r.kind = RoomKind::Group;
    r.createdAt = at(1, 0, 0, 0, 0);
    r.lastSeq = 345;
    r.unread = 3;
    r.memberIds = {5, 6, 9007199254740993};
    return r; // readSeq unknown, as from a server before it was added
}

inline Message message()
{
    Message m;
    m.id = 1001;
    m.roomId = 12;
    m.seq = 345;
    m.authorId = 5;
    m.body = QStringLiteral("h\u00e9llo \U0001F600 </script> \"quoted\" back\\slash\nnew line");
    m.clientId = QStringLiteral("c-42");
    m.createdAt = at(23, 12, 0, 0, 0);
    m.editedAt = at(23, 12, 5, 0, 7);
    return m;
}

inline Message tombstone()
{
    Message m;
    m.id = 1002;
    m.roomId = 12;
    m.seq = 346;
    m.authorId = 6;
    m.createdAt = at(23, 12, 1, 0, 0);
    m.editedAt = at(23, 12, 2, 0, 0);
    m.deleted = true;
    return m;
}

inline ChannelEvent messageEvent(EventType type = EventType::MessageCreated, const Message &m = message())
{
    ChannelEvent e;
    e.type = type;
    e.channel = Channel::room(m.roomId);
    e.seq = m.seq;
    e.message = m;
    return e;
}

inline ChannelEvent taskEvent(EventType type, const Task &t = task())
{
    ChannelEvent e;
    e.type = type;
    e.channel = Channel::project(t.projectId);
    e.seq = 17;
    e.task = t;
    return e;
}

inline ChannelEvent memberEvent(EventType type, Channel channel, Id userId)
{
    ChannelEvent e;
    e.type = type;
    e.channel = channel;
    e.seq = 18;
    e.userId = userId;
    return e;
}

// A row of a round-trip table: runs encode -> decode -> compare for one value of any type and
// answers a description of the difference (empty when equal).
struct RoundTrip {
    std::function<QString()> run;
};

template<typename T, typename Encode, typename Decode> RoundTrip roundTrip(const T &value, Encode encode, Decode decode)
{
    return RoundTrip {[value, encode, decode]() -> QString {
        const QByteArray bytes = encode(value);
        const auto decoded = decode(bytes);
        if (!decoded.ok()) {
            return QStringLiteral("%1 does not decode: %2 (%3) field '%4'")
                .arg(QString::fromUtf8(bytes), decoded.error().message, errorCodeName(decoded.error().code),
                     decoded.error().field);
        }
        const QByteArray again = encode(*decoded);
        if (again != bytes)
            return QStringLiteral("re-encoded differently:\n%1\n%2")
                .arg(QString::fromUtf8(bytes), QString::fromUtf8(again));
        if (!(*decoded == value))
            return QStringLiteral("decoded value differs from the original: %1").arg(QString::fromUtf8(bytes));
        return {};
    }};
}

// The round trip of any type with writeJson/readJson overloads.
template<typename T> RoundTrip jsonRoundTrip(const T &value)
{
    return roundTrip(
        value, [](const T &v) { return toJson(v); }, [](const QByteArray &b) { return fromJson<T>(b); });
}

// A decoder under test for a malformed-input row: answers the error (or nullopt on success).
using DecodeCheck = std::function<MaybeError(const QByteArray &)>;

template<typename T> DecodeCheck decoderOf()
{
    return [](const QByteArray &bytes) -> MaybeError {
        const auto r = fromJson<T>(bytes);
        return r.ok() ? MaybeError() : MaybeError(r.error());
    };
}

// Runs one malformed row: the decoder must fail with `code` and `field`.
inline void expectError(const MaybeError &error, const QString &code, const QString &field)
{
    QVERIFY2(error.has_value(), "decoded, but an error was expected");
    QVERIFY2(!error->message.isEmpty(), "the error has no message");
    QCOMPARE(errorCodeName(error->code), code);
    QCOMPARE(error->field, field);
}

inline QString bad()
{
    return errorCodeName(ErrorCode::BadRequest);
}
inline QString invalid()
{
    return errorCodeName(ErrorCode::ValidationFailed);
}
inline QString tooLarge()
{
    return errorCodeName(ErrorCode::PayloadTooLarge);
}

// JSON text helpers for building rows.
inline QByteArray utf8(const QString &s)
{
    return s.toUtf8();
}
// `json` with every `from` replaced by `to`; stops the test program if `from` is not there.
inline QByteArray replaced(QByteArray json, const char *from, const char *to)
{
    if (!json.contains(from))
        qFatal("test fixture: \"%s\" is not in %s", from, json.constData());
    return json.replace(from, to);
}
inline QByteArray repeat(char c, qsizetype n)
{
    return QByteArray(n, c);
}

} // namespace taskmaster::fixtures

Q_DECLARE_METATYPE(taskmaster::fixtures::RoundTrip)
Q_DECLARE_METATYPE(taskmaster::fixtures::DecodeCheck)
