CREATE INDEX workers_college_idx ON workers (college_org_id);
CREATE INDEX workers_employer_idx ON workers (employer_institution_id);
DROP INDEX workers_employer_name_idx;
DROP INDEX workers_college_name_idx;
DROP INDEX workers_region_name_idx;
DROP INDEX workers_city_name_idx;
DROP INDEX workers_name_id_idx;
