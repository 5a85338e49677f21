// The HTTP front's request framing (server/http/request_framing: heads, Content-Length and
// chunked bodies, limits) on any bytes: never a crash, and the same verdict however the bytes
// arrive: in one read, split in two where the first byte says, or one byte at a time (the
// connection's reads fall anywhere).
#include "fuzz/fuzz_support.h"
#include "server/http/request_framing.h"

using namespace taskmaster;

namespace {

struct Verdict {
    bool ok = true;
    server::RequestFraming::Phase phase = server::RequestFraming::Phase::BetweenRequests;
    int status = 0;
    qint64 heads = 0;
    qint64 requests = 0;
};

Verdict verdictOf(const server::RequestFraming &f, bool ok)
{
    return Verdict {ok, f.phase(), f.error() ? f.error()->status : 0, f.headsSeen(), f.requestsSeen()};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView in = fuzz::bytes(data, size);
    // Small limits, so that inputs of a few hundred bytes reach them.
    const server::FramingLimits limits {256, 128, 8};

    server::RequestFraming whole(limits);
    const Verdict a = verdictOf(whole, whole.feed(in));

    const qsizetype cut = size > 0 ? qsizetype(data[0]) % (in.size() + 1) : 0;
    server::RequestFraming split(limits);
    bool ok = split.feed(in.first(cut));
    if (ok)
        ok = split.feed(in.sliced(cut));
    const Verdict b = verdictOf(split, ok);

    server::RequestFraming single(limits);
    ok = true;
    for (qsizetype i = 0; i < in.size() && ok; ++i)
        ok = single.feed(in.sliced(i, 1));
    const Verdict c = verdictOf(single, ok);

    for (const Verdict *v : {&b, &c}) {
        fuzz::check(v->ok == a.ok, "the same verdict however the bytes arrive");
        fuzz::check(v->phase == a.phase, "the same phase however the bytes arrive");
        fuzz::check(v->status == a.status, "the same error however the bytes arrive");
        fuzz::check(v->heads == a.heads && v->requests == a.requests, "the same requests however the bytes arrive");
    }
    fuzz::check(a.ok == (a.status == 0), "an error exactly when the framing failed");
    return 0;
}
