-- Indexes that serve the workers list (ordered by name, then id) for each
-- kind of scope, so a page is read in order from one index and a cursor
-- (?after=) resumes where the last page ended: the province and admin walk
-- (name, id); a city (prefix 4201) and a district (420102) start at their
-- region; a college and an institution at their own workers. The
-- single-column indexes on college and employer become prefixes of the new
-- ones and go, so a roster commit maintains no more indexes than before
-- plus the three that pay for the lists.
CREATE INDEX workers_name_id_idx ON workers (name, id);
CREATE INDEX workers_city_name_idx ON workers ((left(region_code, 4)), name, id);
CREATE INDEX workers_region_name_idx ON workers (region_code, name, id);
CREATE INDEX workers_college_name_idx ON workers (college_org_id, name, id);
CREATE INDEX workers_employer_name_idx ON workers (employer_institution_id, name, id);
DROP INDEX workers_college_idx;
DROP INDEX workers_employer_idx;
