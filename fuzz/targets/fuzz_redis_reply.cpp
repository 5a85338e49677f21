// Redis replies on any bytes: hiredis' RESP2 reader (the same library the server's connections
// use) feeds RedisReply::fromHiredis, and every reply is read the ways the server reads replies
// (toInteger, errorCode, describe for logs). The bytes come in two pieces, as from a socket.
#include "fuzz/fuzz_support.h"
#include "server/redis/hiredis_reply.h"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

using namespace taskmaster;

namespace {
// hiredis 0.14 (Debian 12) reads a multi-bulk count without checking its digits and callocs that
// many element pointers at once: "*3\xff\xff\xff" asks for 15 GB (found by this target). Redis is
// a trusted peer of the server, and hiredis 1.x bounds it (maxelements); such headers test
// hiredis, not our code, so inputs with a '*' not followed by at most 6 digits are skipped.
bool overAllocatesInHiredis(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; ++i) {
        if (data[i] != '*')
            continue;
        size_t j = i + 1;
        if (j < size && data[j] == '-')
            ++j;
        const size_t digitsFrom = j;
        while (j < size && data[j] != '\r') {
            if (data[j] < '0' || data[j] > '9' || j - digitsFrom >= 6)
                return true;
            ++j;
        }
    }
    return false;
}

void readAll(const server::RedisReply &reply, int depth)
{
    [[maybe_unused]] const auto integer = reply.toInteger();
    [[maybe_unused]] const QByteArray code = reply.errorCode();
    if (depth == 0) {
        // Empty for an empty status ("+\r\n", as redis-cli prints it); else it names the reply.
        const QString text = reply.describe();
        fuzz::check(!text.isEmpty() || (reply.isStatus() && reply.toByteArray().isEmpty()),
                    "every reply but an empty status describes itself");
    }
    fuzz::check(reply.isError() || code.isEmpty(), "only errors have a code");
    for (const server::RedisReply &element : reply.elements())
        readAll(element, depth + 1);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (overAllocatesInHiredis(data, size))
        return 0;
    redisReader *reader = redisReaderCreate();
    const size_t half = size / 2;
    bool broken = redisReaderFeed(reader, reinterpret_cast<const char *>(data), half) != REDIS_OK;
    if (!broken)
        broken = redisReaderFeed(reader, reinterpret_cast<const char *>(data) + half, size - half) != REDIS_OK;
    while (!broken) {
        void *reply = nullptr;
        if (redisReaderGetReply(reader, &reply) != REDIS_OK || !reply)
            break;
        const server::RedisReply copy = server::fromHiredis(static_cast<const redisReply *>(reply));
        freeReplyObject(reply);
        readAll(copy, 0);
    }
    redisReaderFree(reader);
    return 0;
}
