// fromHiredis: a RedisReply copied out of a reply that hiredis parsed from the wire (RESP2; an
// unknown type reads as nil). Used by RedisClient's callbacks and by the Redis reply fuzz target.
// Thread: any (plain values).
#pragma once

#include "server/redis/redis_reply.h"

#include <hiredis/hiredis.h>

namespace taskmaster::server {

[[nodiscard]] RedisReply fromHiredis(const redisReply *reply);

} // namespace taskmaster::server
