-- Joined decisions cannot stand without the column: they are removed
-- (their bans.record audit events remain).
DELETE FROM bans WHERE joins_ban_id IS NOT NULL;
DROP INDEX bans_joins_idx;
DROP INDEX bans_active_idx;
CREATE UNIQUE INDEX bans_active_idx ON bans (id_number_idx) WHERE lifted_at IS NULL;
ALTER TABLE bans DROP CONSTRAINT bans_joins_other;
ALTER TABLE bans DROP COLUMN joins_ban_id;
