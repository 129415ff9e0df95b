-- Names compare byte-wise (the "C" collation: code-point order for UTF-8,
-- the order the embedded cluster and C.UTF-8 servers gave anyway):
-- - a prefix search LIKE '王%' becomes an index range (name >= '王' AND
--   name < '玌'); under a linguistic collation only the lower bound was
--   usable, and a city's search for 王 read every later name of the city;
-- - every insert into the four (…, name, id) list indexes compares names
--   with memcmp instead of a collation call (a roster commit of 100 000
--   graduates writes each of them).
-- The city index carries region_code, so the city's capped counts are
-- index-only scans (an expression alone does not allow one).
DROP INDEX workers_city_name_idx;
ALTER TABLE workers ALTER COLUMN name TYPE text COLLATE "C";
CREATE INDEX workers_city_name_idx ON workers ((left(region_code, 4)), name, id) INCLUDE (region_code);
