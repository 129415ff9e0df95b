DROP INDEX workers_employer_name_idx;
CREATE INDEX workers_employer_name_idx ON workers (employer_institution_id, name, id);
CREATE INDEX workers_name_idx ON workers (name text_pattern_ops);
CREATE INDEX workers_phone_idx ON workers (phone_idx);
