-- College roster imports (花名册, DESIGN §4.1, §5.4): one row per uploaded
-- file and one per data row of it. An import is validated first (rows checked,
-- compared with stored workers) and written to workers only on commit, once.
CREATE TABLE roster_imports (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    college_org_id       bigint NOT NULL REFERENCES organisations (id),
    -- a person, or an organisation API token (a college system pushing)
    uploaded_by_user_id  bigint REFERENCES users (id),
    uploaded_by_token_id bigint REFERENCES api_tokens (id),
    uploaded_by_label    text NOT NULL,
    file_name            text NOT NULL CHECK (file_name <> '' AND length(file_name) <= 255),
    file_sha256          bytea NOT NULL CHECK (length(file_sha256) = 32),
    file_size            bigint NOT NULL CHECK (file_size > 0),
    format               text NOT NULL CHECK (format IN ('csv', 'xlsx')),
    encoding             text NOT NULL CHECK (encoding IN ('utf-8', 'gbk', 'gb18030', 'xlsx')),
    mode                 text NOT NULL CHECK (mode IN ('upsert', 'add_only')),
    status               text NOT NULL CHECK (status IN ('validating', 'validated', 'committing', 'committed', 'failed')),
    -- why a background validation failed (the file broke a limit midway)
    error_code           text,
    error_message        text,
    -- the header cells as written, for errors.csv
    header               jsonb NOT NULL DEFAULT '[]',
    header_row           integer NOT NULL DEFAULT 1 CHECK (header_row > 0),
    rows_total           integer NOT NULL DEFAULT 0 CHECK (rows_total >= 0),
    rows_valid           integer NOT NULL DEFAULT 0 CHECK (rows_valid >= 0),
    rows_invalid         integer NOT NULL DEFAULT 0 CHECK (rows_invalid >= 0),
    rows_new             integer NOT NULL DEFAULT 0 CHECK (rows_new >= 0),
    rows_changed         integer NOT NULL DEFAULT 0 CHECK (rows_changed >= 0),
    rows_unchanged       integer NOT NULL DEFAULT 0 CHECK (rows_unchanged >= 0),
    rows_enrolled        integer NOT NULL DEFAULT 0 CHECK (rows_enrolled >= 0),
    rows_waitlisted      integer NOT NULL DEFAULT 0 CHECK (rows_waitlisted >= 0),
    progress             smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    created_at           timestamptz NOT NULL DEFAULT now(),
    validated_at         timestamptz,
    committed_at         timestamptz,
    committed_by_user_id bigint REFERENCES users (id),
    committed_by_label   text,
    CONSTRAINT roster_imports_uploader CHECK (uploaded_by_user_id IS NOT NULL OR uploaded_by_token_id IS NOT NULL),
    CONSTRAINT roster_imports_counts CHECK (rows_total = rows_valid + rows_invalid
        AND rows_valid = rows_new + rows_changed + rows_unchanged),
    CONSTRAINT roster_imports_committed CHECK ((status = 'committed') = (committed_at IS NOT NULL)),
    CONSTRAINT roster_imports_failed CHECK ((status = 'failed') = (error_code IS NOT NULL))
);
CREATE INDEX roster_imports_college_idx ON roster_imports (college_org_id, id DESC);
CREATE INDEX roster_imports_sha_idx ON roster_imports (college_org_id, file_sha256);

-- One data row of an import. Plaintext ID and phone numbers are never
-- stored: cells holds the row with those two cells masked, raw_enc the row
-- as it came (encrypted, for errors.csv), and the parsed ID and phone are
-- kept as ciphertext, blind index and mask like in workers.
CREATE TABLE roster_rows (
    import_id        bigint NOT NULL REFERENCES roster_imports (id) ON DELETE CASCADE,
    row_num          integer NOT NULL CHECK (row_num > 0),
    cells            jsonb NOT NULL,
    raw_enc          bytea NOT NULL,
    name             text NOT NULL DEFAULT '',
    id_number_enc    bytea,
    id_number_idx    bytea,
    id_mask          text NOT NULL DEFAULT '',
    sex              text CHECK (sex IN ('male', 'female')),
    birth_date       date,
    id_area_code     text,
    phone_enc        bytea,
    phone_idx        bytea,
    phone_mask       text NOT NULL DEFAULT '',
    education        text,
    major            text NOT NULL DEFAULT '',
    graduation_year  smallint,
    plan_code        text NOT NULL DEFAULT '',
    -- [{field, column, code, message}] for invalid rows
    errors           jsonb NOT NULL DEFAULT '[]',
    outcome          text NOT NULL CHECK (outcome IN ('new', 'changed', 'unchanged', 'invalid')),
    -- {field: {old, new}} against the stored worker (masked values only)
    diff             jsonb NOT NULL DEFAULT '{}',
    worker_id        bigint REFERENCES workers (id),
    enrolment_status text CHECK (enrolment_status IN ('enrolled', 'waitlisted')),
    PRIMARY KEY (import_id, row_num),
    CONSTRAINT roster_rows_valid_whole CHECK (outcome = 'invalid' OR (id_number_idx IS NOT NULL AND name <> ''))
);
CREATE INDEX roster_rows_outcome_idx ON roster_rows (import_id, outcome, row_num);
CREATE INDEX roster_rows_worker_idx ON roster_rows (worker_id);
