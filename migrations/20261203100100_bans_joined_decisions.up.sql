-- One person, one ban state: a decision recorded on a person already
-- banned (by another region, say) joins that ban instead of being refused,
-- so each regulator keeps its own decision and the person one state.
ALTER TABLE bans ADD COLUMN joins_ban_id bigint REFERENCES bans (id);
ALTER TABLE bans ADD CONSTRAINT bans_joins_other CHECK (joins_ban_id <> id);
DROP INDEX bans_active_idx;
CREATE UNIQUE INDEX bans_active_idx ON bans (id_number_idx) WHERE lifted_at IS NULL AND joins_ban_id IS NULL;
CREATE INDEX bans_joins_idx ON bans (joins_ban_id) WHERE joins_ban_id IS NOT NULL;
