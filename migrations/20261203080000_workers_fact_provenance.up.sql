-- Stored facts for the subsidy rules are tri-state (DESIGN §6.5): never
-- asked (NULL), none / zero, or a value, each with when and by whom it was
-- last set. An empty target_groups default turned "never asked" into "none of
-- the six groups" and so into a refusal; only rows someone actually set keep
-- their value.
ALTER TABLE workers ALTER COLUMN target_groups DROP NOT NULL,
    ALTER COLUMN target_groups DROP DEFAULT;

UPDATE workers AS w SET target_groups = NULL
WHERE w.target_groups = '{}'
  AND NOT EXISTS (
    SELECT 1 FROM audit_events AS e
    WHERE e.action = 'workers.update' AND e.target_type = 'worker' AND e.target_id = w.id::text
      AND e.summary::jsonb -> 'fields' ? 'target_groups');

ALTER TABLE workers
    ADD COLUMN employment_set_at     timestamptz,
    ADD COLUMN employment_set_by     text CHECK (employment_set_by IN ('worker', 'hr_import', 'hr_reviewer')),
    ADD COLUMN insured_months_set_at timestamptz,
    ADD COLUMN insured_months_set_by text CHECK (insured_months_set_by IN ('worker', 'hr_import', 'hr_reviewer')),
    ADD COLUMN target_groups_set_at  timestamptz,
    ADD COLUMN target_groups_set_by  text CHECK (target_groups_set_by IN ('worker', 'hr_import', 'hr_reviewer'));

-- Until now only HR staff (and the demo) could write these facts.
UPDATE workers SET employment_set_at = updated_at, employment_set_by = 'hr_reviewer' WHERE employment IS NOT NULL;
UPDATE workers SET insured_months_set_at = updated_at, insured_months_set_by = 'hr_reviewer' WHERE insured_months IS NOT NULL;
UPDATE workers SET target_groups_set_at = updated_at, target_groups_set_by = 'hr_reviewer' WHERE target_groups IS NOT NULL;

-- A value always says who vouches for it.
ALTER TABLE workers
    ADD CONSTRAINT workers_employment_provenance CHECK (employment IS NULL OR (employment_set_at IS NOT NULL AND employment_set_by IS NOT NULL)),
    ADD CONSTRAINT workers_insured_months_provenance CHECK (insured_months IS NULL OR (insured_months_set_at IS NOT NULL AND insured_months_set_by IS NOT NULL)),
    ADD CONSTRAINT workers_target_groups_provenance CHECK (target_groups IS NULL OR (target_groups_set_at IS NOT NULL AND target_groups_set_by IS NOT NULL));
