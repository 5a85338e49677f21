-- Direct (one-to-one) rooms (docs/protocol.md section 6.4, "Direct rooms"): one row per pair of
-- users, the lower id first. The primary key makes opening a DM race-safe: of two concurrent
-- opens of the same pair one inserts, the other finds the row (server/storage/direct_room_store).
CREATE TABLE direct_rooms (
    user_low   bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_high  bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    room_id    bigint NOT NULL UNIQUE REFERENCES rooms(id) ON DELETE CASCADE,
    PRIMARY KEY (user_low, user_high),
    CHECK (user_low < user_high)
);
