-- rooms.member_epoch moves whenever a room's membership changes: every statement that inserts into
-- or deletes from room_members bumps it for the rooms it touched, in the same transaction and
-- under the room's row lock. The message write path (store::insertMessages) reads the memberships
-- without locks, then writes in one statement that locks the rooms and writes only if their
-- member_epoch is still what it read; otherwise it runs again in a transaction that locks first.
-- Statement-level triggers: one UPDATE per statement, whatever the number of rows (seeding, a room
-- created with its members). Written on one line each: the migrator splits statements at lines
-- ending with a semicolon.
ALTER TABLE rooms ADD COLUMN member_epoch bigint NOT NULL DEFAULT 0;
CREATE FUNCTION tm_room_members_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE rooms SET member_epoch = member_epoch + 1 WHERE id IN (SELECT DISTINCT room_id FROM changed); RETURN NULL; END $$;
CREATE OR REPLACE TRIGGER room_members_inserted AFTER INSERT ON room_members REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tm_room_members_changed();
CREATE OR REPLACE TRIGGER room_members_deleted AFTER DELETE ON room_members REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tm_room_members_changed();
