-- PostgreSQL's 0005 adds rooms.member_epoch for its lock-free message read (see there). SQLite
-- serialises its writers (BEGIN IMMEDIATE) and needs none: this keeps the two schemas' versions
-- in step.
SELECT 1;
