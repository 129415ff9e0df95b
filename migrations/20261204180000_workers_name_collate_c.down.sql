DROP INDEX workers_city_name_idx;
ALTER TABLE workers ALTER COLUMN name TYPE text COLLATE "default";
CREATE INDEX workers_city_name_idx ON workers ((left(region_code, 4)), name, id);
