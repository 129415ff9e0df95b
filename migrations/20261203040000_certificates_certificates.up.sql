-- Certificates (DESIGN §7): templates in versions, the certificates issued
-- here or recorded from elsewhere, the serial counters behind their
-- numbers, the public keys that signed them, and background ZIP exports.

-- A template version is never changed: a certificate keeps the version it
-- was issued with, so its PDF renders to the same bytes for ever.
CREATE TABLE certificate_templates (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version     integer NOT NULL UNIQUE CHECK (version > 0),
    layout      text NOT NULL CHECK (layout IN ('classic', 'plain')),
    title       text NOT NULL CHECK (btrim(title) <> ''),
    issuer_name text NOT NULL CHECK (btrim(issuer_name) <> ''),
    signatory   text NOT NULL CHECK (btrim(signatory) <> ''),
    seal_png    bytea CHECK (seal_png IS NULL OR length(seal_png) <= 1048576),
    note        text NOT NULL DEFAULT '',
    created_by  bigint REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION certificate_templates_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'certificate_templates rows are never changed: upload a new version';
END;
$$;
CREATE TRIGGER certificate_templates_frozen
    BEFORE UPDATE OR DELETE ON certificate_templates
    FOR EACH ROW EXECUTE FUNCTION certificate_templates_frozen();

-- One counter per number prefix, bumped inside the issuing transaction: a
-- number is taken only when its certificate is stored, and never again.
CREATE TABLE certificate_serials (
    prefix     text PRIMARY KEY CHECK (prefix ~ '^[A-Z0-9]+$'),
    last_value bigint NOT NULL CHECK (last_value > 0)
);

-- Public keys of every signing key ever used, so signatures made before a
-- rotation stay checkable by key id.
CREATE TABLE certificate_signing_keys (
    key_id     text PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{16}$'),
    public_key bytea NOT NULL UNIQUE CHECK (length(public_key) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE certificates (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('training', 'skill')),
    source          text NOT NULL CHECK (source IN ('issued', 'external')),
    number          text NOT NULL CHECK (btrim(number) <> ''),
    verify_code     text NOT NULL CHECK (verify_code ~ '^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$'),
    worker_id       bigint NOT NULL REFERENCES workers (id),
    enrolment_id    bigint REFERENCES enrolments (id),
    class_id        bigint REFERENCES classes (id),
    provider_org_id bigint REFERENCES organisations (id),
    -- the worker's region when the certificate was issued or recorded: HR scope
    region_code     text NOT NULL REFERENCES regions (code),
    plan_code       text NOT NULL DEFAULT '',
    plan_name       text NOT NULL DEFAULT '',
    occupation      text NOT NULL DEFAULT '',
    level           smallint CHECK (level BETWEEN 1 AND 5),
    hours           numeric(6,1) CHECK (hours >= 0),
    holder_name     text NOT NULL CHECK (btrim(holder_name) <> ''),
    holder_id_mask  text NOT NULL,
    issuer_name     text NOT NULL CHECK (btrim(issuer_name) <> ''),
    issued_on       date NOT NULL,
    issued_at       timestamptz NOT NULL,
    expires_on      date CHECK (expires_on IS NULL OR expires_on > issued_on),
    verify_url      text NOT NULL DEFAULT '',
    template_id     bigint REFERENCES certificate_templates (id),
    pdf_sha256      bytea CHECK (pdf_sha256 IS NULL OR length(pdf_sha256) = 32),
    signature       bytea NOT NULL CHECK (length(signature) = 64),
    key_id          text NOT NULL REFERENCES certificate_signing_keys (key_id),
    status          text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked', 'expired')),
    revoked_on      date,
    revoke_reason   text CHECK (revoke_reason IN ('banned', 'fraud', 'issued_in_error')),
    revoke_note     text NOT NULL DEFAULT '',
    revoked_by      bigint REFERENCES users (id),
    recorded_by     bigint REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT certificates_number_key UNIQUE (number),
    CONSTRAINT certificates_verify_code_key UNIQUE (verify_code),
    -- one certificate per enrolment: issuing twice returns the first
    CONSTRAINT certificates_enrolment_key UNIQUE (enrolment_id),
    CONSTRAINT certificates_revocation CHECK ((status = 'revoked') = (revoked_on IS NOT NULL AND revoke_reason IS NOT NULL)),
    -- issued here: a PDF, a template and an enrolment; recorded: none of them
    CONSTRAINT certificates_source_shape CHECK (
        (source = 'issued' AND pdf_sha256 IS NOT NULL AND template_id IS NOT NULL AND enrolment_id IS NOT NULL
            AND class_id IS NOT NULL AND provider_org_id IS NOT NULL)
        OR (source = 'external' AND pdf_sha256 IS NULL AND template_id IS NULL AND enrolment_id IS NULL)),
    CONSTRAINT certificates_skill_level CHECK (kind <> 'skill' OR level IS NOT NULL)
);
CREATE INDEX certificates_worker ON certificates (worker_id);
CREATE INDEX certificates_class ON certificates (class_id) WHERE class_id IS NOT NULL;
CREATE INDEX certificates_provider ON certificates (provider_org_id, id);
CREATE INDEX certificates_region ON certificates (region_code text_pattern_ops);
CREATE INDEX certificates_pdf_sha256 ON certificates (pdf_sha256) WHERE pdf_sha256 IS NOT NULL;
CREATE INDEX certificates_expiring ON certificates (expires_on) WHERE status = 'valid' AND expires_on IS NOT NULL;

-- A ZIP of a class's certificates, built in the background; the file lives
-- in the data dir until expires_at, then a job removes it and the row.
CREATE TABLE certificate_exports (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    class_id     bigint NOT NULL REFERENCES classes (id),
    requested_by bigint NOT NULL REFERENCES users (id),
    status       text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    progress     integer NOT NULL DEFAULT 0 CHECK (progress >= 0),
    total        integer NOT NULL DEFAULT 0 CHECK (total >= 0 AND progress <= total),
    file_name    text NOT NULL DEFAULT '',
    error        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    expires_at   timestamptz NOT NULL,
    CHECK (status <> 'done' OR (finished_at IS NOT NULL AND file_name <> ''))
);
CREATE INDEX certificate_exports_expires ON certificate_exports (expires_at);
