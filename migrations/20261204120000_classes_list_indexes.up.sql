-- Indexes that serve the classes lists (staff: newest first, ordered by
-- starts_on, id; workers' search: open classes soonest first) for each kind
-- of scope, so a page is read in order from one index and a cursor
-- (?after=) resumes where the last page ended: admin and the province walk
-- (starts_on, id); a city (prefix 4201) and a district start at their
-- region; a provider at its own classes; the search at the open ones. The
-- provider index (provider_org_id, starts_on DESC) becomes a prefix of the
-- new one and goes.
CREATE INDEX classes_starts_idx ON classes (starts_on, id);
CREATE INDEX classes_city_starts_idx ON classes ((left(region_code, 4)), starts_on, id);
CREATE INDEX classes_region_starts_idx ON classes (region_code, starts_on, id);
CREATE INDEX classes_provider_starts_idx ON classes (provider_org_id, starts_on, id);
CREATE INDEX classes_open_starts_idx ON classes (starts_on, id) WHERE state = 'open';
DROP INDEX classes_provider_idx;
