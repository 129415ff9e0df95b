CREATE INDEX classes_provider_idx ON classes (provider_org_id, starts_on DESC);
DROP INDEX classes_open_starts_idx;
DROP INDEX classes_provider_starts_idx;
DROP INDEX classes_region_starts_idx;
DROP INDEX classes_city_starts_idx;
DROP INDEX classes_starts_idx;
