-- One row per run of a scheduled job. The unique (job, slot) decides which
-- instance runs a slot: the first INSERT wins, every other one conflicts.
CREATE TABLE job_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job         text NOT NULL CHECK (job ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'),
    slot        timestamptz NOT NULL,
    manual      boolean NOT NULL DEFAULT false,
    instance    text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    status      text NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'skipped')),
    error       text,
    CONSTRAINT job_runs_job_slot_key UNIQUE (job, slot),
    -- Only a run still going has no finish time.
    CONSTRAINT job_runs_finished_check CHECK ((status = 'running') = (finished_at IS NULL)),
    CONSTRAINT job_runs_error_check CHECK (status IN ('failed', 'skipped') OR error IS NULL)
);

-- The admin page shows each job's most recent run.
CREATE INDEX job_runs_job_started_at_idx ON job_runs (job, started_at DESC);
