-- Append-only audit trail. Each row carries the SHA-256 of the previous row's
-- hash and its own content, so a changed or deleted row breaks the chain.
CREATE TABLE audit_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at   timestamptz NOT NULL,
    actor_user_id bigint,
    actor_org_id  bigint,
    actor_label   text NOT NULL DEFAULT '',
    action        text NOT NULL CHECK (action <> ''),
    target_type   text NOT NULL DEFAULT '',
    target_id     text NOT NULL DEFAULT '',
    summary       text NOT NULL DEFAULT '{}' CHECK (summary::jsonb IS NOT NULL),
    ip            text NOT NULL DEFAULT '',
    request_id    text NOT NULL DEFAULT '',
    prev_hash     bytea NOT NULL,
    hash          bytea NOT NULL UNIQUE
);

CREATE INDEX audit_events_action_idx ON audit_events (action, occurred_at DESC);
CREATE INDEX audit_events_target_idx ON audit_events (target_type, target_id);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_user_id, occurred_at DESC);

-- The application may only append. The trigger holds even for the table's
-- owner; only a superuser who deliberately disables triggers can change a
-- row, and the hash chain then shows it.
CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC;
