ALTER TABLE workers
    DROP CONSTRAINT workers_employment_provenance,
    DROP CONSTRAINT workers_insured_months_provenance,
    DROP CONSTRAINT workers_target_groups_provenance,
    DROP COLUMN employment_set_at, DROP COLUMN employment_set_by,
    DROP COLUMN insured_months_set_at, DROP COLUMN insured_months_set_by,
    DROP COLUMN target_groups_set_at, DROP COLUMN target_groups_set_by;
UPDATE workers SET target_groups = '{}' WHERE target_groups IS NULL;
ALTER TABLE workers ALTER COLUMN target_groups SET DEFAULT '{}', ALTER COLUMN target_groups SET NOT NULL;
