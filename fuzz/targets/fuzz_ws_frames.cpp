// WebSocket text frames on any bytes: decodeClientFrame (what the server reads from every client)
// and frameId (read even from frames that do not decode), and decodeServerFrame (what clients
// read, and what an instance reads from the cluster bus). A frame that decodes must encode to one
// that decodes to the same value.
#include "fuzz/fuzz_support.h"
#include "shared/codec/ws_frames.h"

using namespace taskmaster;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView json = fuzz::bytes(data, size);
    [[maybe_unused]] const ws::FrameId id = ws::frameId(json);
    if (const auto client = ws::decodeClientFrame(json)) {
        const QByteArray again = ws::encodeClientFrame(*client);
        const auto redecoded = ws::decodeClientFrame(again);
        fuzz::check(bool(redecoded), "an encoded client frame decodes");
        fuzz::check(*redecoded == *client, "client frame: decode(encode(x)) == x");
    } else {
        fuzz::check(!client.error().message.isEmpty(), "a refused client frame says why");
    }
    if (const auto server = ws::decodeServerFrame(json)) {
        const QByteArray again = ws::encodeServerFrame(*server);
        const auto redecoded = ws::decodeServerFrame(again);
        fuzz::check(bool(redecoded), "an encoded server frame decodes");
        fuzz::check(*redecoded == *server, "server frame: decode(encode(x)) == x");
    }
    return 0;
}
