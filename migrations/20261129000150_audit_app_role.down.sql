-- Takes back what the up migration granted in this database. The role itself
-- stays: it belongs to the server and other databases may use it.
DROP TABLE IF EXISTS audit_checkpoints;
DROP FUNCTION IF EXISTS audit_checkpoints_append_only();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tuoyu_app') THEN
        ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM tuoyu_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM tuoyu_app;
        REVOKE ALL ON ALL TABLES IN SCHEMA public FROM tuoyu_app;
        REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM tuoyu_app;
        REVOKE ALL ON SCHEMA public FROM tuoyu_app;
    END IF;
END
$$;
