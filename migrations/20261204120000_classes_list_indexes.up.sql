-- Indexes that serve the classes lists (staff: newest first, ordered by
-- starts_on, id; workers' search: open classes soonest first) for each kind
-- of scope, so a page is read in order from one index and a cursor
-- (?after=) resumes where the last page ended: admin and the province walk
-- (starts_on, id); a city (prefix 4201) and a district start at their
-- region; a provider at its own classes; the search at the open ones. The
-- columns the filters read (state, plan, the enrolment window) ride along
-- so that a total up to 10 000 is counted from the index alone (an
-- expression index needs the column it is computed from for that). The
-- provider index (provider_org_id, starts_on DESC) becomes a prefix of the
-- new one and goes.
CREATE INDEX classes_starts_idx ON classes (starts_on, id) INCLUDE (state, plan_id);
CREATE INDEX classes_city_starts_idx ON classes ((left(region_code, 4)), starts_on, id) INCLUDE (state, plan_id, region_code);
CREATE INDEX classes_region_starts_idx ON classes (region_code, starts_on, id) INCLUDE (state, plan_id);
CREATE INDEX classes_provider_starts_idx ON classes (provider_org_id, starts_on, id) INCLUDE (state, plan_id);
CREATE INDEX classes_open_starts_idx ON classes (starts_on, id) INCLUDE (state, enrol_opens_on, enrol_closes_on, region_code, plan_id)
    WHERE state = 'open';
DROP INDEX classes_provider_idx;
