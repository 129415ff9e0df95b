-- Every index of workers is written by every insert: a roster commit of
-- 100 000 graduates pays for each one. These did not pay for themselves:
-- - workers_phone_idx: no query looks a worker up by phone index;
-- - workers_name_idx (text_pattern_ops): the name search bounds the prefix
--   below (name >= prefix), so workers_name_id_idx serves it, in list order.
-- The employer index keeps only workers with an employer: graduates from a
-- roster have none, and a list by employer names one. workers_region_idx
-- stays although the district list reads workers_region_name_idx: the
-- district's capped count plans a sequential scan without the narrow index
-- (the plan guard in modules/workers/scale_test.go showed it).
DROP INDEX workers_phone_idx;
DROP INDEX workers_name_idx;
DROP INDEX workers_employer_name_idx;
CREATE INDEX workers_employer_name_idx ON workers (employer_institution_id, name, id)
    WHERE employer_institution_id IS NOT NULL;
