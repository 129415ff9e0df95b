-- Lifetime bans (终身禁入, DESIGN §4.6), by ID number: the person need not be
-- a worker. Managers named in the same decision get a ban each, linked to
-- the main one by primary_ban_id. Lifting takes two different regulators.
CREATE TABLE bans (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id_number_enc     bytea NOT NULL,
    id_number_idx     bytea NOT NULL,
    id_mask           text NOT NULL,
    name              text NOT NULL CHECK (name <> '' AND length(name) <= 50),
    reason            text NOT NULL CHECK (reason <> ''),
    decision_no       text NOT NULL CHECK (decision_no <> ''),
    decided_on        date NOT NULL,
    region_code       text NOT NULL REFERENCES regions (code),
    primary_ban_id    bigint REFERENCES bans (id),
    recorded_by       bigint NOT NULL REFERENCES users (id),
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    lift_requested_by bigint REFERENCES users (id),
    lift_requested_at timestamptz,
    lift_document     text,
    lift_reason       text,
    lifted_by         bigint REFERENCES users (id),
    lifted_at         timestamptz,
    -- four eyes: whoever confirms a lift is not who asked for it
    CONSTRAINT bans_lift_four_eyes CHECK (lifted_by <> lift_requested_by),
    CONSTRAINT bans_lift_request_whole CHECK (
        (lift_requested_by IS NULL) = (lift_requested_at IS NULL) AND
        (lift_requested_by IS NULL) = (lift_document IS NULL) AND
        (lift_document IS NULL OR lift_document <> '')),
    CONSTRAINT bans_lifted_whole CHECK (
        (lifted_by IS NULL) = (lifted_at IS NULL) AND
        (lifted_by IS NULL OR lift_requested_by IS NOT NULL))
);
-- one active ban per person
CREATE UNIQUE INDEX bans_active_idx ON bans (id_number_idx) WHERE lifted_at IS NULL;
CREATE INDEX bans_idx_idx ON bans (id_number_idx);
CREATE INDEX bans_region_idx ON bans (region_code text_pattern_ops);
CREATE INDEX bans_primary_idx ON bans (primary_ban_id);

-- A worker created while a ban on their ID number is active starts banned,
-- whichever path creates them (forms or roster bulk upserts).
CREATE FUNCTION workers_banned_on_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.banned := EXISTS (SELECT 1 FROM bans b WHERE b.id_number_idx = NEW.id_number_idx AND b.lifted_at IS NULL);
    RETURN NEW;
END;
$$;
CREATE TRIGGER workers_banned_on_insert BEFORE INSERT ON workers
    FOR EACH ROW EXECUTE FUNCTION workers_banned_on_insert();
