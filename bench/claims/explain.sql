-- Plans of the claims list and the 免申即享 proposals at volume, as the
-- stores send them (psql "$DATABASE_URL" -f bench/claims/explain.sql on the
-- benchmark's database, CLAIMS_DB). Regions of the generated world: 武汉
-- (4201), 西陵区 (420502), 秭归 (420527, 1 % of the workers).
\echo == claims list, hr of 秭归 (420527), page 1
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT cl.*, w.name AS worker_name, ce.number AS certificate_number, ce.occupation, ce.level, ce.issued_on
FROM claims AS cl JOIN (SELECT id, name, id_mask FROM workers) AS w ON w.id = cl.worker_id
JOIN (SELECT id, number, occupation, level, issued_on FROM certificates) AS ce ON ce.id = cl.certificate_id
WHERE cl.region_code = '420527' ORDER BY cl.id DESC LIMIT 21;
\echo == its total (counted: under 20 000 planned)
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT count(*) FROM (SELECT cl.id FROM claims AS cl WHERE cl.region_code = '420527' LIMIT 10001) AS capped;
\echo == claims list, hr of 武汉 (4201), status submitted, after a cursor
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT cl.*, w.name AS worker_name, ce.number AS certificate_number, ce.occupation, ce.level, ce.issued_on
FROM claims AS cl JOIN (SELECT id, name, id_mask FROM workers) AS w ON w.id = cl.worker_id
JOIN (SELECT id, number, occupation, level, issued_on FROM certificates) AS ce ON ce.id = cl.certificate_id
WHERE left(cl.region_code, 4) = '4201' AND cl.status = 'submitted' AND cl.id < (SELECT max(id) - 5000 FROM claims) ORDER BY cl.id DESC LIMIT 21;
\echo == its total (planner estimate only, above 20 000)
EXPLAIN SELECT cl.id FROM claims AS cl WHERE left(cl.region_code, 4) = '4201' AND cl.status = 'submitted';
\echo == proposals, hr of 秭归 (420527), page 1
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT e.id, e.worker_id, e.certificate_id, e.subsidy, e.amount_yuan, e.window_ends_on, e.region_code, w.name AS worker_name
FROM claim_eligibility AS e JOIN (SELECT id, name, id_mask FROM workers) AS w ON w.id = e.worker_id
WHERE e.status = 'eligible' AND e.window_ends_on >= current_date
  AND NOT EXISTS (SELECT 1 FROM claims AS cl WHERE cl.worker_id = e.worker_id AND cl.certificate_id = e.certificate_id AND cl.subsidy = e.subsidy AND cl.status <> 'rejected' OFFSET 0)
  AND e.region_code = '420527' ORDER BY e.id LIMIT 21;
\echo == its total
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT count(*) FROM (SELECT e.id FROM claim_eligibility AS e
WHERE e.status = 'eligible' AND e.window_ends_on >= current_date
  AND NOT EXISTS (SELECT 1 FROM claims AS cl WHERE cl.worker_id = e.worker_id AND cl.certificate_id = e.certificate_id AND cl.subsidy = e.subsidy AND cl.status <> 'rejected' OFFSET 0)
  AND e.region_code = '420527' LIMIT 10001) AS capped;
\echo == proposals, hr of the province, after a cursor half-way
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT e.id, e.worker_id, e.certificate_id, e.subsidy, e.amount_yuan, e.window_ends_on, e.region_code, w.name AS worker_name
FROM claim_eligibility AS e JOIN (SELECT id, name, id_mask FROM workers) AS w ON w.id = e.worker_id
WHERE e.status = 'eligible' AND e.window_ends_on >= current_date
  AND NOT EXISTS (SELECT 1 FROM claims AS cl WHERE cl.worker_id = e.worker_id AND cl.certificate_id = e.certificate_id AND cl.subsidy = e.subsidy AND cl.status <> 'rejected' OFFSET 0)
  AND e.region_code LIKE '42%' AND e.id > (SELECT max(id) / 2 FROM claim_eligibility) ORDER BY e.id LIMIT 21;
