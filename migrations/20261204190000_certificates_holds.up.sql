-- A certificate held back: the pass or completion stands, but the
-- certificate was refused for a reason its data must fix (a name the
-- certificate font cannot print, a provider without a site code). Recording
-- results or lessons no longer fails for the whole sheet because of one
-- person; the refusal is kept here, shown to the provider and the holder,
-- retried by the certificates.issue job and removed when the certificate
-- is issued. One row per enrolment.
CREATE TABLE certificate_holds (
    enrolment_id    bigint PRIMARY KEY REFERENCES enrolments (id) ON DELETE CASCADE,
    worker_id       bigint NOT NULL REFERENCES workers (id),
    class_id        bigint NOT NULL REFERENCES classes (id),
    provider_org_id bigint NOT NULL REFERENCES organisations (id),
    -- the name as it was refused: what the provider must have corrected
    holder_name     text NOT NULL,
    code            text NOT NULL CHECK (code ~ '^[a-z_]+$'),
    message         text NOT NULL CHECK (btrim(message) <> ''),
    held_at         timestamptz NOT NULL DEFAULT now(),
    tried_at        timestamptz NOT NULL DEFAULT now(),
    tries           integer NOT NULL DEFAULT 1 CHECK (tries > 0),
    CHECK (tried_at >= held_at)
);
CREATE INDEX certificate_holds_class_idx ON certificate_holds (class_id);
CREATE INDEX certificate_holds_worker_idx ON certificate_holds (worker_id);
-- the job's retry selection: holds not tried for a while
CREATE INDEX certificate_holds_tried_idx ON certificate_holds (tried_at);
