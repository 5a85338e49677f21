// Query strings and cursors on any bytes: the list, history and search queries of the REST
// routes (QUrlQuery from the request's query string, as QtHttpServer hands it over), the opaque
// page cursor and ids from a path. What parses must print back to the same value.
#include "fuzz/fuzz_support.h"
#include "shared/codec/rest_json.h"
#include "shared/domain/types.h"

#include <QUrlQuery>

using namespace taskmaster;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString input = fuzz::text(data, size);
    const QUrlQuery query(input);
    if (const auto tasks = parseTaskListQuery(query)) {
        const auto again = parseTaskListQuery(toQuery(*tasks));
        fuzz::check(again && *again == *tasks, "task list query: parse(print(q)) == q");
    }
    if (const auto history = parseHistoryQuery(query)) {
        const auto again = parseHistoryQuery(toQuery(*history));
        fuzz::check(again && *again == *history, "history query: parse(print(q)) == q");
    }
    if (const auto search = parseSearchQuery(query)) {
        const auto again = parseSearchQuery(toQuery(*search));
        fuzz::check(again && *again == *search, "search query: parse(print(q)) == q");
    }
    if (const auto cursor = decodeCursor(input)) {
        const auto again = decodeCursor(encodeCursor(*cursor));
        fuzz::check(again && *again == *cursor, "cursor: decode(encode(c)) == c");
    }
    if (const auto id = parseId(input)) {
        fuzz::check(*id > 0, "an id is positive");
        fuzz::check(parseId(QString::number(*id)) == id, "id: parse(print(id)) == id");
    }
    if (const auto channel = Channel::parse(input))
        fuzz::check(Channel::parse(channel->toString()) == channel, "channel: parse(print(c)) == c");
    if (const auto timestamp = parseTimestamp(input))
        fuzz::check(parseTimestamp(formatTimestamp(*timestamp)) == timestamp, "timestamp: parse(print(t)) == t");
    if (const auto date = parseDate(input))
        fuzz::check(parseDate(formatDate(*date)) == date, "date: parse(print(d)) == d");
    return 0;
}
