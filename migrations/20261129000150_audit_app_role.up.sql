-- The application connects as tuoyu_app, a role that owns nothing and is no
-- superuser: it reads and writes rows but cannot change the schema, disable
-- triggers or switch session_replication_role. The role that runs the
-- migrations owns the tables. On audit_events and audit_checkpoints tuoyu_app
-- may only SELECT and INSERT; the append-only triggers stay as a second line.
--
-- Roles belong to the whole server, not to one database: create the role only
-- when it is missing, and never drop it in the down migration (other databases
-- on the server may use it). Creating it needs CREATEROLE; where the migrating
-- role lacks that, a DBA creates tuoyu_app beforehand (docs/operations.md).
-- Parallel migrations of several databases may race to create it, hence the
-- exception handler.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tuoyu_app') THEN
        BEGIN
            CREATE ROLE tuoyu_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- another migration created it a moment ago
        END;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO tuoyu_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO tuoyu_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO tuoyu_app;
-- Tables and sequences that later migrations create (run by this same
-- owning role) are granted the same way.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO tuoyu_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO tuoyu_app;

-- The audit trail: append only, for the application as for everyone.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM tuoyu_app;

-- bun's bookkeeping: the application reads it (/readyz), only the migrating
-- role writes it.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON bun_migrations, bun_migration_locks FROM tuoyu_app;

-- Checkpoints of the nightly audit verification. Deleting the newest audit
-- rows leaves a chain that is intact at its new end; the checkpoint remembers
-- the last row verified (and its hash) and how many rows there were, so the
-- next verification notices the loss.
CREATE TABLE audit_checkpoints (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- No foreign key: the point is to notice when that event has gone.
    event_id       bigint NOT NULL CHECK (event_id > 0),
    event_hash     bytea NOT NULL,
    events_checked bigint NOT NULL CHECK (events_checked > 0),
    verified_at    timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_checkpoints is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_checkpoints FROM PUBLIC, tuoyu_app;
