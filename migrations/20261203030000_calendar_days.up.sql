-- The working-day calendar (docs: policy calendar): the days that differ from
-- the weekday rule. A holiday is a day off even on a weekday; a workday is an
-- adjusted working day (调休) even on a weekend. Every other day follows the
-- weekdays, so a year nobody entered still works.
CREATE TABLE calendar_days (
    day    date PRIMARY KEY,
    kind   text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name   text NOT NULL CHECK (btrim(name) <> '' AND char_length(name) <= 40),
    -- NULL for the calendars shipped with the system.
    set_by bigint REFERENCES users (id),
    set_at timestamptz NOT NULL DEFAULT now()
);

-- One row, bumped in the transaction of every change: each app instance keeps
-- the calendar in memory and compares this number (one primary-key read)
-- to know when to load it again.
CREATE TABLE calendar_version (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    version bigint NOT NULL DEFAULT 1 CHECK (version > 0)
);
INSERT INTO calendar_version (id, version) VALUES (true, 1);

-- The State Council's published calendars for 2025 (国办发明电〔2024〕12号)
-- and 2026 (通知 of 2025-11-04), shipped as data of this migration: they
-- are facts that do not change, reviewed once against the notices, and an
-- admin's later edits must never be overwritten by a restart.
INSERT INTO calendar_days (day, kind, name)
SELECT d::date, 'holiday', n FROM (VALUES
    ('2025-01-01', '2025-01-01', '元旦'),
    ('2025-01-28', '2025-02-04', '春节'),
    ('2025-04-04', '2025-04-06', '清明节'),
    ('2025-05-01', '2025-05-05', '劳动节'),
    ('2025-05-31', '2025-06-02', '端午节'),
    ('2025-10-01', '2025-10-08', '国庆节、中秋节'),
    ('2026-01-01', '2026-01-03', '元旦'),
    ('2026-02-15', '2026-02-23', '春节'),
    ('2026-04-04', '2026-04-06', '清明节'),
    ('2026-05-01', '2026-05-05', '劳动节'),
    ('2026-06-19', '2026-06-21', '端午节'),
    ('2026-09-25', '2026-09-27', '中秋节'),
    ('2026-10-01', '2026-10-07', '国庆节')
) AS h (first, last, n), generate_series(first::date, last::date, interval '1 day') AS d;

INSERT INTO calendar_days (day, kind, name) VALUES
    ('2025-01-26', 'workday', '春节'),
    ('2025-02-08', 'workday', '春节'),
    ('2025-04-27', 'workday', '劳动节'),
    ('2025-09-28', 'workday', '国庆节、中秋节'),
    ('2025-10-11', 'workday', '国庆节、中秋节'),
    ('2026-01-04', 'workday', '元旦'),
    ('2026-02-14', 'workday', '春节'),
    ('2026-02-28', 'workday', '春节'),
    ('2026-05-09', 'workday', '劳动节'),
    ('2026-09-20', 'workday', '国庆节'),
    ('2026-10-10', 'workday', '国庆节');
