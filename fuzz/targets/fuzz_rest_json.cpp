// The JSON reader and the REST codecs on any bytes: every request body the server reads and every
// response body a client reads, from one parse. A body that decodes must encode to a body that
// decodes to the same value.
#include "fuzz/fuzz_support.h"
#include "shared/codec/json_reader.h"
#include "shared/codec/json_writer.h"
#include "shared/codec/rest_json.h"

using namespace taskmaster;

namespace {
template<typename T> void roundTrip(const QJsonObject &object)
{
    const Result<T> decoded = fromJson<T>(object);
    if (!decoded) {
        fuzz::check(!decoded.error().message.isEmpty(), "a refused body says why");
        return;
    }
    const QByteArray again = toJson(*decoded);
    const Result<T> redecoded = fromJson<T>(QByteArrayView(again), qint64(again.size()) + 1);
    fuzz::check(bool(redecoded), "an encoded body decodes");
    if constexpr (requires(const T &a) { a == a; })
        fuzz::check(*redecoded == *decoded, "decode(encode(x)) == x");
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const Result<QJsonObject> object = parseObject(fuzz::bytes(data, size), limits::kBodyBytesMax);
    if (!object)
        return 0;
    roundTrip<RegisterRequest>(*object);
    roundTrip<LoginRequest>(*object);
    roundTrip<CreateProjectRequest>(*object);
    roundTrip<PatchProjectRequest>(*object);
    roundTrip<AddMemberRequest>(*object);
    roundTrip<CreateTaskRequest>(*object);
    roundTrip<PatchTaskRequest>(*object);
    roundTrip<CreateRoomRequest>(*object);
    roundTrip<SendMessageRequest>(*object);
    roundTrip<EditMessageRequest>(*object);
    roundTrip<ReadMarkerRequest>(*object);
    roundTrip<AuthResponse>(*object);
    roundTrip<ErrorBody>(*object);
    roundTrip<HistoryPage>(*object);
    roundTrip<SearchResult>(*object);
    roundTrip<HealthBody>(*object);
    roundTrip<Page<Project>>(*object);
    roundTrip<Page<Task>>(*object);
    roundTrip<Page<Room>>(*object);
    roundTrip<Page<User>>(*object);
    roundTrip<User>(*object);
    roundTrip<Message>(*object);
    roundTrip<ChannelEvent>(*object);
    return 0;
}
