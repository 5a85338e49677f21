#include "shared/codec/rest_json.h"

#include <algorithm>
#include <limits>

namespace taskmaster {

namespace {

void writeNullableId(JsonWriter &w, const char *key, const std::optional<Id> &id)
{
    w.key(key);
    if (id)
        w.integer(*id);
    else
        w.null();
}

void writeNullableDate(JsonWriter &w, const char *key, const std::optional<QDate> &date)
{
    w.key(key);
    if (date)
        w.string(formatDate(*date));
    else
        w.null();
}

template<typename T> void writeArray(JsonWriter &w, const char *key, const QList<T> &items)
{
    w.key(key).beginArray();
    for (const T &item : items)
        writeJson(w, item);
    w.endArray();
}

void writeIds(JsonWriter &w, const char *key, const QList<Id> &ids)
{
    w.key(key).beginArray();
    for (Id id : ids)
        w.integer(id);
    w.endArray();
}

void requireSomeField(JsonReader &r, bool any)
{
    if (!any)
        r.record(Error::validation(QString(), QStringLiteral("the request changes no field")));
}

} // namespace

// ---- Requests ------------------------------------------------------------------------------

void writeJson(JsonWriter &w, const RegisterRequest &v)
{
    w.beginObject();
    w.key("username").string(v.username);
    w.key("password").string(v.password);
    w.key("displayName").string(v.displayName);
    w.endObject();
}

void readJson(JsonReader &r, RegisterRequest &v)
{
    v.username = foldUsername(r.required<json::String>("username"));
    r.check(validateUsername(v.username));
    v.password = r.required<json::String>("password");
    r.check(validatePassword(v.password));
    v.displayName = r.required<json::String>("displayName");
    r.check(validateDisplayName(v.displayName));
}

void writeJson(JsonWriter &w, const LoginRequest &v)
{
    w.beginObject();
    w.key("username").string(v.username);
    w.key("password").string(v.password);
    w.endObject();
}

void readJson(JsonReader &r, LoginRequest &v)
{
    v.username = foldUsername(r.required<json::String>("username"));
    v.password = r.required<json::String>("password");
}

void writeJson(JsonWriter &w, const CreateProjectRequest &v)
{
    w.beginObject();
    w.key("name").string(v.name);
    w.key("description").string(v.description);
    w.endObject();
}

void readJson(JsonReader &r, CreateProjectRequest &v)
{
    v.name = r.required<json::String>("name");
    r.check(validateProjectName(v.name));
    v.description = r.optional<json::String>("description").value_or(QString());
    r.check(validateDescription(v.description));
}

void writeJson(JsonWriter &w, const PatchProjectRequest &v)
{
    w.beginObject();
    if (v.name)
        w.key("name").string(*v.name);
    if (v.description)
        w.key("description").string(*v.description);
    w.endObject();
}

void readJson(JsonReader &r, PatchProjectRequest &v)
{
    v.name = r.optional<json::String>("name");
    if (v.name)
        r.check(validateProjectName(*v.name));
    v.description = r.optional<json::String>("description");
    if (v.description)
        r.check(validateDescription(*v.description));
    requireSomeField(r, v.name || v.description);
}

void writeJson(JsonWriter &w, const AddMemberRequest &v)
{
    w.beginObject();
    w.key("userId").integer(v.userId);
    w.endObject();
}

void readJson(JsonReader &r, AddMemberRequest &v)
{
    v.userId = r.required<json::Id>("userId");
}

void writeJson(JsonWriter &w, const CreateTaskRequest &v)
{
    w.beginObject();
    w.key("title").string(v.title);
    w.key("description").string(v.description);
    w.key("status").string(toWire(v.status));
    w.key("priority").string(toWire(v.priority));
    writeNullableId(w, "assigneeId", v.assigneeId);
    writeNullableDate(w, "dueDate", v.dueDate);
    if (!v.attachmentIds.isEmpty())
        writeIds(w, "attachmentIds", v.attachmentIds);
    w.endObject();
}

void readJson(JsonReader &r, CreateTaskRequest &v)
{
    v.title = r.required<json::String>("title");
    r.check(validateTaskTitle(v.title));
    v.description = r.optional<json::String>("description").value_or(QString());
    r.check(validateDescription(v.description));
    v.status = r.optional<json::TaskStatusEnum>("status").value_or(TaskStatus::Todo);
    v.priority = r.optional<json::TaskPriorityEnum>("priority").value_or(TaskPriority::Medium);
    v.assigneeId = r.nullable<json::Id>("assigneeId");
    v.dueDate = r.nullable<json::Date>("dueDate");
    v.attachmentIds = r.optional<json::IdArray>("attachmentIds").value_or(QList<Id>());
    r.check(validateAttachmentIds(v.attachmentIds));
}

void writeJson(JsonWriter &w, const PatchTaskRequest &v)
{
    w.beginObject();
    if (v.title)
        w.key("title").string(*v.title);
    if (v.description)
        w.key("description").string(*v.description);
    if (v.status)
        w.key("status").string(toWire(*v.status));
    if (v.priority)
        w.key("priority").string(toWire(*v.priority));
    if (v.assigneeId)
        writeNullableId(w, "assigneeId", *v.assigneeId);
    if (v.dueDate)
        writeNullableDate(w, "dueDate", *v.dueDate);
    if (v.attachmentIds)
        writeIds(w, "attachmentIds", *v.attachmentIds);
    w.endObject();
}

void readJson(JsonReader &r, PatchTaskRequest &v)
{
    v.title = r.optional<json::String>("title");
    if (v.title)
        r.check(validateTaskTitle(*v.title));
    v.description = r.optional<json::String>("description");
    if (v.description)
        r.check(validateDescription(*v.description));
    v.status = r.optional<json::TaskStatusEnum>("status");
    v.priority = r.optional<json::TaskPriorityEnum>("priority");
    v.assigneeId = r.patch<json::Id>("assigneeId");
    v.dueDate = r.patch<json::Date>("dueDate");
    v.attachmentIds = r.optional<json::IdArray>("attachmentIds");
    if (v.attachmentIds)
        r.check(validateAttachmentIds(*v.attachmentIds));
    requireSomeField(
        r, v.title || v.description || v.status || v.priority || v.assigneeId || v.dueDate || v.attachmentIds);
}

void writeJson(JsonWriter &w, const CreateRoomRequest &v)
{
    w.beginObject();
    w.key("name").string(v.name);
    w.key("memberIds").beginArray();
    for (Id id : v.memberIds)
        w.integer(id);
    w.endArray();
    w.endObject();
}

void readJson(JsonReader &r, CreateRoomRequest &v)
{
    v.name = r.required<json::String>("name");
    v.memberIds = r.optional<json::IdArray>("memberIds").value_or(QList<Id>());
    // The rules of a room: its name, and how many members one request may name.
    Room room;
    room.name = v.name;
    room.memberIds = v.memberIds;
    r.check(validate(room));
}

void writeJson(JsonWriter &w, const SendMessageRequest &v)
{
    w.beginObject();
    w.key("body").string(v.body);
    if (v.clientId)
        w.key("clientId").string(*v.clientId);
    if (!v.attachmentIds.isEmpty())
        writeIds(w, "attachmentIds", v.attachmentIds);
    w.endObject();
}

void readJson(JsonReader &r, SendMessageRequest &v)
{
    v.body = r.required<json::String>("body");
    r.check(validateMessageBody(v.body));
    v.clientId = r.nullable<json::String>("clientId");
    if (v.clientId)
        r.check(validateClientId(*v.clientId));
    v.attachmentIds = r.optional<json::IdArray>("attachmentIds").value_or(QList<Id>());
    r.check(validateAttachmentIds(v.attachmentIds));
}

void writeJson(JsonWriter &w, const EditMessageRequest &v)
{
    w.beginObject();
    w.key("body").string(v.body);
    w.endObject();
}

void readJson(JsonReader &r, EditMessageRequest &v)
{
    v.body = r.required<json::String>("body");
    r.check(validateMessageBody(v.body));
}

void writeJson(JsonWriter &w, const ReadMarkerRequest &v)
{
    w.beginObject();
    w.key("seq").integer(v.seq);
    w.endObject();
}

void readJson(JsonReader &r, ReadMarkerRequest &v)
{
    v.seq = r.required<json::NonNegative>("seq");
}

// ---- Responses -----------------------------------------------------------------------------

void writeJson(JsonWriter &w, const AuthResponse &v)
{
    w.beginObject();
    w.key("user");
    writeJson(w, v.user);
    w.key("token").string(v.token);
    w.endObject();
}

void readJson(JsonReader &r, AuthResponse &v)
{
    v.user = r.nested<User>("user");
    v.token = r.required<json::String>("token");
}

void writeJson(JsonWriter &w, const ErrorBody &v)
{
    w.beginObject();
    w.key("error").beginObject();
    writeErrorFields(w, v.error);
    w.endObject();
    w.endObject();
}

void readJson(JsonReader &r, ErrorBody &v)
{
    const QJsonObject error = r.required<json::Object>("error");
    if (!r.ok())
        return;
    JsonReader child(r, error, QStringLiteral("error"));
    readErrorFields(child, v.error);
}

void writeJson(JsonWriter &w, const HistoryPage &v)
{
    w.beginObject();
    writeArray(w, "items", v.items);
    w.key("hasMore").boolean(v.hasMore);
    w.endObject();
}

void readJson(JsonReader &r, HistoryPage &v)
{
    v.items = r.list<Message>("items");
    v.hasMore = r.required<json::Bool>("hasMore");
}

void writeJson(JsonWriter &w, const SearchResult &v)
{
    w.beginObject();
    writeArray(w, "messages", v.messages);
    writeArray(w, "tasks", v.tasks);
    w.endObject();
}

void readJson(JsonReader &r, SearchResult &v)
{
    v.messages = r.list<Message>("messages");
    v.tasks = r.list<Task>("tasks");
}

void writeJson(JsonWriter &w, const HealthBody &v)
{
    w.beginObject();
    w.key("status").string(v.status);
    if (!v.checks.isEmpty()) {
        w.key("checks").beginObject();
        for (auto it = v.checks.cbegin(); it != v.checks.cend(); ++it)
            w.key(it.key()).string(it.value());
        w.endObject();
    }
    w.endObject();
}

void readJson(JsonReader &r, HealthBody &v)
{
    v.status = r.required<json::String>("status");
    const QJsonObject checks = r.optional<json::Object>("checks").value_or(QJsonObject());
    for (auto it = checks.constBegin(); it != checks.constEnd() && r.ok(); ++it) {
        if (!it.value().isString()) {
            const QString field = QStringLiteral("checks.") + it.key();
            r.record(Error::validation(field, field + QStringLiteral(" must be a string")));
            break;
        }
        v.checks.insert(it.key(), it.value().toString());
    }
}

// ---- Query parameters ----------------------------------------------------------------------

namespace {

// A decimal integer made of ASCII digits only (no sign, space, point or exponent) that fits in
// qint64; nullopt otherwise.
std::optional<qint64> parseDigits(QStringView s)
{
    if (s.isEmpty() || s.size() > 19)
        return std::nullopt;
    qint64 n = 0;
    for (QChar c : s) {
        if (c < QLatin1Char('0') || c > QLatin1Char('9'))
            return std::nullopt;
        const int digit = c.unicode() - u'0';
        if (n > (std::numeric_limits<qint64>::max() - digit) / 10)
            return std::nullopt;
        n = n * 10 + digit;
    }
    return n;
}

bool allDigits(QStringView s)
{
    return !s.isEmpty()
        && std::all_of(s.begin(), s.end(), [](QChar c) { return c >= QLatin1Char('0') && c <= QLatin1Char('9'); });
}

// The one value of parameter `name`, nullopt when absent or empty.
Result<std::optional<QString>> queryValue(const QUrlQuery &query, const QString &name)
{
    const QStringList values = query.allQueryItemValues(name, QUrl::FullyDecoded);
    if (values.size() > 1)
        return Error::badRequest(name + QStringLiteral(" is given more than once"), name);
    if (values.isEmpty() || values.front().isEmpty())
        return std::optional<QString>();
    return std::optional<QString>(values.front());
}

const QString kLimit = QStringLiteral("limit");
const QString kCursor = QStringLiteral("cursor");
const QString kStatus = QStringLiteral("status");
const QString kAssigneeId = QStringLiteral("assigneeId");
const QString kBefore = QStringLiteral("before");
const QString kAfter = QStringLiteral("after");
const QString kQ = QStringLiteral("q");

// Stops the enclosing function with the error of a Result, else binds its value.
#define TM_TRY_ASSIGN(target, expr)                                                                                    \
    do {                                                                                                               \
        auto tmResult_ = (expr);                                                                                       \
        if (!tmResult_)                                                                                                \
            return tmResult_.error();                                                                                  \
        (target) = std::move(*tmResult_);                                                                              \
    } while (false)

} // namespace

QString encodeCursor(const PageCursor &cursor)
{
    const QByteArray raw
        = QByteArray::number(cursor.createdAt.toMSecsSinceEpoch()) + '|' + QByteArray::number(cursor.id);
    return QString::fromLatin1(raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

Result<PageCursor> decodeCursor(QStringView text)
{
    const Error bad = Error::badRequest(QStringLiteral("cursor is not a cursor of this list"), kCursor);
    if (text.size() > 64)
        return bad;
    const auto decoded = QByteArray::fromBase64Encoding(text.toLatin1(),
                                                        QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals
                                                            | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return bad;
    const QString raw = QString::fromLatin1(*decoded);
    const qsizetype bar = raw.indexOf(QLatin1Char('|'));
    if (bar < 0)
        return bad;
    const std::optional<qint64> ms = parseDigits(QStringView(raw).left(bar));
    const std::optional<qint64> id = parseDigits(QStringView(raw).mid(bar + 1));
    constexpr qint64 kYear9999 = 253402300799999;
    if (!ms || *ms > kYear9999 || !id || *id <= 0)
        return bad;
    return PageCursor {QDateTime::fromMSecsSinceEpoch(*ms, Qt::UTC), *id};
}

Result<int> limitParam(const QUrlQuery &query)
{
    std::optional<QString> value;
    TM_TRY_ASSIGN(value, queryValue(query, kLimit));
    if (!value)
        return limits::kPageDefault;
    if (const std::optional<qint64> n = parseDigits(*value); n && *n > 0)
        return static_cast<int>(std::min<qint64>(*n, limits::kPageMax));
    if (allDigits(*value) && value->front() != QLatin1Char('0'))
        return limits::kPageMax; // too large even for qint64: clamped like any large limit
    return Error::badRequest(QStringLiteral("limit must be a positive integer"), kLimit);
}

Result<std::optional<Seq>> seqParam(const QUrlQuery &query, const QString &name)
{
    std::optional<QString> value;
    TM_TRY_ASSIGN(value, queryValue(query, name));
    if (!value)
        return std::optional<Seq>();
    const std::optional<qint64> n = parseDigits(*value);
    if (!n)
        return Error::badRequest(name + QStringLiteral(" must be a non-negative integer"), name);
    return std::optional<Seq>(*n);
}

Result<std::optional<Id>> idParam(const QUrlQuery &query, const QString &name)
{
    std::optional<QString> value;
    TM_TRY_ASSIGN(value, queryValue(query, name));
    if (!value)
        return std::optional<Id>();
    const std::optional<qint64> n = parseDigits(*value);
    if (!n || *n <= 0)
        return Error::badRequest(name + QStringLiteral(" must be a positive integer"), name);
    return std::optional<Id>(*n);
}

Result<std::optional<TaskStatus>> taskStatusParam(const QUrlQuery &query)
{
    std::optional<QString> value;
    TM_TRY_ASSIGN(value, queryValue(query, kStatus));
    if (!value)
        return std::optional<TaskStatus>();
    const std::optional<TaskStatus> status = taskStatusFromWire(*value);
    if (!status)
        return Error::badRequest(QStringLiteral("status must be ") + json::TaskStatusEnum::expected(), kStatus);
    return status;
}

Result<std::optional<PageCursor>> cursorParam(const QUrlQuery &query)
{
    std::optional<QString> value;
    TM_TRY_ASSIGN(value, queryValue(query, kCursor));
    if (!value)
        return std::optional<PageCursor>();
    PageCursor cursor;
    TM_TRY_ASSIGN(cursor, decodeCursor(*value));
    return std::optional<PageCursor>(cursor);
}

Result<TaskListQuery> parseTaskListQuery(const QUrlQuery &query)
{
    TaskListQuery q;
    TM_TRY_ASSIGN(q.status, taskStatusParam(query));
    TM_TRY_ASSIGN(q.assigneeId, idParam(query, kAssigneeId));
    TM_TRY_ASSIGN(q.cursor, cursorParam(query));
    TM_TRY_ASSIGN(q.limit, limitParam(query));
    return q;
}

QUrlQuery toQuery(const TaskListQuery &q)
{
    QUrlQuery query;
    if (q.status)
        query.addQueryItem(kStatus, toWire(*q.status));
    if (q.assigneeId)
        query.addQueryItem(kAssigneeId, QString::number(*q.assigneeId));
    if (q.cursor)
        query.addQueryItem(kCursor, encodeCursor(*q.cursor));
    query.addQueryItem(kLimit, QString::number(q.limit));
    return query;
}

Result<HistoryQuery> parseHistoryQuery(const QUrlQuery &query)
{
    HistoryQuery q;
    TM_TRY_ASSIGN(q.before, seqParam(query, kBefore));
    TM_TRY_ASSIGN(q.after, seqParam(query, kAfter));
    if (q.before && q.after)
        return Error::badRequest(QStringLiteral("before and after cannot be combined"), kAfter);
    TM_TRY_ASSIGN(q.limit, limitParam(query));
    return q;
}

QUrlQuery toQuery(const HistoryQuery &q)
{
    QUrlQuery query;
    if (q.before)
        query.addQueryItem(kBefore, QString::number(*q.before));
    if (q.after)
        query.addQueryItem(kAfter, QString::number(*q.after));
    query.addQueryItem(kLimit, QString::number(q.limit));
    return query;
}

Result<SearchQuery> parseSearchQuery(const QUrlQuery &query)
{
    SearchQuery q;
    std::optional<QString> text;
    TM_TRY_ASSIGN(text, queryValue(query, kQ));
    if (text) {
        if (MaybeError broken = validateSearchQuery(*text, kQ))
            return Error::badRequest(broken->message, kQ);
        q.q = *text;
    }
    TM_TRY_ASSIGN(q.limit, limitParam(query));
    return q;
}

QUrlQuery toQuery(const SearchQuery &q)
{
    QUrlQuery query;
    // addQueryItem() takes '%' as the start of an escape: a search for "50%25" must arrive as
    // typed, not as "50%" (found by fuzz_query).
    if (!q.q.isEmpty())
        query.addQueryItem(kQ, QString(q.q).replace(QLatin1Char('%'), QLatin1String("%25")));
    query.addQueryItem(kLimit, QString::number(q.limit));
    return query;
}

#undef TM_TRY_ASSIGN

} // namespace taskmaster
