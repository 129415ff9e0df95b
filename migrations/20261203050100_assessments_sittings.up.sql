-- Assessments (考核): sittings of one part of a class's assessment, their
-- candidates fixed when the sitting opens, examiners, results and the
-- history of corrections, and the workers' calendar-feed tokens.
CREATE TABLE assessment_sittings (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    class_id        bigint NOT NULL REFERENCES classes (id),
    -- copied from the class so that scope filters need no other table
    provider_org_id bigint NOT NULL REFERENCES organisations (id),
    region_code     text NOT NULL REFERENCES regions (code),
    kind            text NOT NULL CHECK (kind IN ('theory', 'practical')),
    attempt         smallint NOT NULL CHECK (attempt BETWEEN 1 AND 9),
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    place           text NOT NULL DEFAULT '' CHECK (length(place) <= 200),
    capacity        integer NOT NULL CHECK (capacity BETWEEN 1 AND 5000),
    rooms           smallint NOT NULL DEFAULT 1 CHECK (rooms BETWEEN 1 AND 100),
    state           text NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'closed', 'cancelled')),
    -- a sitting is made by the assessments.schedule job or by a user
    created_by_job  boolean NOT NULL DEFAULT false,
    created_by      bigint REFERENCES users (id),
    cancel_reason   text,
    cancelled_at    timestamptz,
    closed_at       timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- the job never creates a part and attempt twice, on any instance
    CONSTRAINT assessment_sittings_once UNIQUE (class_id, kind, attempt),
    CONSTRAINT assessment_sittings_times CHECK (ends_at > starts_at),
    CONSTRAINT assessment_sittings_creator CHECK (created_by_job OR created_by IS NOT NULL),
    CONSTRAINT assessment_sittings_cancelled CHECK ((state = 'cancelled') = (cancelled_at IS NOT NULL)),
    CONSTRAINT assessment_sittings_closed CHECK ((state = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX assessment_sittings_state_idx ON assessment_sittings (state, ends_at);
CREATE INDEX assessment_sittings_starts_idx ON assessment_sittings (starts_at) WHERE state = 'scheduled';
CREATE INDEX assessment_sittings_provider_idx ON assessment_sittings (provider_org_id, starts_at);

-- Candidates are fixed when the sitting opens; a late completion joins the
-- next sitting. The sitting's time is copied so that one exclusion
-- constraint keeps a worker out of two overlapping sittings.
CREATE TABLE assessment_candidates (
    sitting_id   bigint NOT NULL REFERENCES assessment_sittings (id),
    enrolment_id bigint NOT NULL REFERENCES enrolments (id),
    -- the enrolment's worker, copied for the exclusion constraint (the
    -- enrolment's foreign key already vouches for it; a second one would
    -- only slow the job's bulk inserts)
    worker_id    bigint NOT NULL,
    during       tstzrange NOT NULL,
    active       boolean NOT NULL DEFAULT true,
    PRIMARY KEY (sitting_id, enrolment_id),
    CONSTRAINT assessment_candidates_no_overlap EXCLUDE USING gist (worker_id WITH =, during WITH &&) WHERE (active)
);
CREATE INDEX assessment_candidates_enrolment_idx ON assessment_candidates (enrolment_id);
-- a worker's sittings are found through the exclusion constraint's index

CREATE TABLE assessment_examiners (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sitting_id bigint NOT NULL REFERENCES assessment_sittings (id) ON DELETE CASCADE,
    -- a user of the provider, or only a name for an outside examiner
    user_id    bigint REFERENCES users (id),
    name       text NOT NULL CHECK (name <> '' AND length(name) <= 50),
    role       text NOT NULL CHECK (role IN ('proctor', 'examiner')),
    CONSTRAINT assessment_examiners_once UNIQUE (sitting_id, name)
);

CREATE TABLE assessment_results (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sitting_id   bigint NOT NULL,
    enrolment_id bigint NOT NULL,
    worker_id    bigint NOT NULL REFERENCES workers (id),
    score        numeric(4,1) CHECK (score BETWEEN 0 AND 100),
    absent       boolean NOT NULL DEFAULT false,
    -- score ≥ the pass mark of the enrolment's plan version, judged when written
    passed       boolean NOT NULL,
    recorded_by  bigint REFERENCES users (id),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT assessment_results_candidate FOREIGN KEY (sitting_id, enrolment_id)
        REFERENCES assessment_candidates (sitting_id, enrolment_id),
    CONSTRAINT assessment_results_once UNIQUE (sitting_id, enrolment_id),
    CONSTRAINT assessment_results_absent CHECK (absent = (score IS NULL)),
    CONSTRAINT assessment_results_absent_fails CHECK (NOT (absent AND passed))
);
CREATE INDEX assessment_results_enrolment_idx ON assessment_results (enrolment_id);
CREATE INDEX assessment_results_worker_idx ON assessment_results (worker_id);

-- A correction keeps the old value, who changed it, when and why.
CREATE TABLE assessment_result_changes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    result_id  bigint NOT NULL REFERENCES assessment_results (id),
    old_score  numeric(4,1),
    old_absent boolean NOT NULL,
    new_score  numeric(4,1),
    new_absent boolean NOT NULL,
    reason     text NOT NULL CHECK (reason <> '' AND length(reason) <= 500),
    changed_by bigint REFERENCES users (id),
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assessment_result_changes_result_idx ON assessment_result_changes (result_id);

-- A worker's private calendar feed: only the SHA-256 of the token is kept.
CREATE TABLE calendar_feed_tokens (
    worker_id  bigint PRIMARY KEY REFERENCES workers (id),
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
