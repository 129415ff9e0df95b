-- EXPLAIN (ANALYZE, BUFFERS) of the hot list queries as the app sends them
-- (docs/performance.md "Lists at province size"), for the demo logins on a
-- scale world:  psql "$DATABASE_URL" -f bench/scale/explain.sql
\pset pager off
-- The app sends ids as literals, so the planner sees their statistics:
-- read them first rather than planning sub-queries it cannot estimate.
SELECT (SELECT id FROM organisations WHERE code = 'provider1') AS provider1,
       (SELECT id FROM organisations WHERE code = 'scale-provider-420100-1') AS sprovider,
       (SELECT id FROM organisations WHERE code = 'scale-college-420100-1') AS scollege,
       (SELECT i.id FROM institutions i JOIN organisations o ON o.id = i.organisation_id WHERE o.code = 'institution1') AS inst1 \gset
\set sel 'SELECT w.*, coalesce(i.name, \'\') AS employer_name, coalesce(co.name, \'\') AS college_name FROM workers AS w LEFT JOIN institutions AS i ON i.id = w.employer_institution_id LEFT JOIN organisations AS co ON co.id = w.college_org_id'
\echo '== admin: first page'
EXPLAIN (ANALYZE, BUFFERS) :sel ORDER BY w.name, w.id LIMIT 21;
\echo '== admin: the page after a cursor'
EXPLAIN (ANALYZE, BUFFERS) :sel WHERE (w.name, w.id) > ('张', 0) ORDER BY w.name, w.id LIMIT 21;
\echo '== regulator1 (420000): first page'
EXPLAIN (ANALYZE, BUFFERS) :sel WHERE w.region_code LIKE '42%' ORDER BY w.name, w.id LIMIT 21;
\echo '== hr_reviewer1 (420100): first page'
EXPLAIN (ANALYZE, BUFFERS) :sel WHERE left(w.region_code, 4) = '4201' ORDER BY w.name, w.id LIMIT 21;
\echo '== hr_reviewer1 (420100): name search 王'
EXPLAIN (ANALYZE, BUFFERS) :sel WHERE left(w.region_code, 4) = '4201' AND w.name LIKE '王%' ORDER BY w.name, w.id LIMIT 21;
\echo '== hr_reviewer1 (420100): page 20 by OFFSET (the deepest kind web.MaxOffset allows)'
EXPLAIN (ANALYZE, BUFFERS) :sel WHERE left(w.region_code, 4) = '4201' ORDER BY w.name, w.id LIMIT 21 OFFSET 380;
\echo '== provider1: first page (its links in provider_workers)'
EXPLAIN (ANALYZE, BUFFERS) :sel WHERE w.id IN (SELECT pw.worker_id FROM provider_workers AS pw WHERE pw.organisation_id = :provider1) ORDER BY w.name, w.id LIMIT 21;
\echo '== a scale provider of Wuhan: first page'
EXPLAIN (ANALYZE, BUFFERS) :sel WHERE w.id IN (SELECT pw.worker_id FROM provider_workers AS pw WHERE pw.organisation_id = :sprovider) ORDER BY w.name, w.id LIMIT 21;
\echo '== a scale college of Wuhan: first page'
EXPLAIN (ANALYZE, BUFFERS) :sel WHERE w.college_org_id = :scollege ORDER BY w.name, w.id LIMIT 21;
\echo '== institution1: first page'
EXPLAIN (ANALYZE, BUFFERS) :sel WHERE w.employer_institution_id = :inst1 ORDER BY w.name, w.id LIMIT 21;
\echo '== the total of hr_reviewer1: the plan only (above 20 000 rows nothing is counted)'
EXPLAIN (FORMAT JSON) SELECT w.id FROM workers AS w WHERE left(w.region_code, 4) = '4201';
\echo '== the total of a scale provider: capped count'
EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM (SELECT pw.worker_id FROM provider_workers AS pw WHERE pw.organisation_id = :sprovider LIMIT 10001) AS capped;
\echo '== audit events: first page'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM audit_events ORDER BY id DESC LIMIT 51;
