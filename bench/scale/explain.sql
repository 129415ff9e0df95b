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
EXPLAIN (ANALYZE, BUFFERS) :sel WHERE left(w.region_code, 4) = '4201' AND w.name LIKE '王%' AND w.name >= '王' ORDER BY w.name, w.id LIMIT 21;
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
-- Classes, the class search, certificates, a college's graduates and an
-- inbox (issue 14 point 2, branch scale-lists).
SELECT (SELECT w.id FROM workers w JOIN users u ON u.worker_id = w.id WHERE u.username = 'worker1') AS worker1,
       (SELECT id FROM users WHERE username = 'provider1') AS provider1user,
       (SELECT id FROM organisations WHERE code = 'college1') AS college1 \gset
\set cls 'SELECT cl.*, pl.code AS plan_code, pl.name AS plan_name, o.name AS provider_name, r.name AS region_name FROM classes AS cl JOIN plans AS pl ON pl.id = cl.plan_id JOIN organisations AS o ON o.id = cl.provider_org_id JOIN regions AS r ON r.code = cl.region_code'
\echo '== classes, admin: first page'
EXPLAIN (ANALYZE, BUFFERS) :cls ORDER BY cl.starts_on DESC, cl.id DESC LIMIT 21;
\echo '== classes, admin: the page after a cursor'
EXPLAIN (ANALYZE, BUFFERS) :cls WHERE (cl.starts_on, cl.id) < ('2025-03-01'::date, 0) ORDER BY cl.starts_on DESC, cl.id DESC LIMIT 21;
\echo '== classes, hr_reviewer1 (420100): first page'
EXPLAIN (ANALYZE, BUFFERS) :cls WHERE left(cl.region_code, 4) = '4201' ORDER BY cl.starts_on DESC, cl.id DESC LIMIT 21;
\echo '== classes, hr_reviewer1 (420100): the total (capped count, index only)'
EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM (SELECT cl.id FROM classes AS cl WHERE left(cl.region_code, 4) = '4201' LIMIT 10001) AS capped;
\echo '== classes, a district (420102) with a state: first page'
EXPLAIN (ANALYZE, BUFFERS) :cls WHERE cl.region_code = '420102' AND cl.state = 'completed' ORDER BY cl.starts_on DESC, cl.id DESC LIMIT 21;
\echo '== classes, provider1: first page and total'
EXPLAIN (ANALYZE, BUFFERS) :cls WHERE cl.provider_org_id = :provider1 ORDER BY cl.starts_on DESC, cl.id DESC LIMIT 21;
EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM (SELECT cl.id FROM classes AS cl WHERE cl.provider_org_id = :provider1 LIMIT 10001) AS capped;
\echo '== classes, worker1 (open or theirs): first page and total'
EXPLAIN (ANALYZE, BUFFERS) :cls WHERE (cl.state = 'open' OR cl.id IN (SELECT class_id FROM enrolments WHERE worker_id = :worker1)) ORDER BY cl.starts_on DESC, cl.id DESC LIMIT 21;
EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM (SELECT cl.id FROM (SELECT id, state FROM classes WHERE state = 'open' UNION ALL SELECT id, state FROM classes WHERE state <> 'open' AND id IN (SELECT class_id FROM enrolments WHERE worker_id = :worker1)) AS cl LIMIT 10001) AS capped;
\echo '== class search (open today, soonest first): first page and total'
EXPLAIN (ANALYZE, BUFFERS) :cls WHERE cl.state = 'open' AND (cl.enrol_opens_on IS NULL OR cl.enrol_opens_on <= current_date) AND coalesce(cl.enrol_closes_on, cl.starts_on) >= current_date ORDER BY cl.starts_on, cl.id LIMIT 21;
EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM (SELECT cl.id FROM classes AS cl WHERE cl.state = 'open' AND (cl.enrol_opens_on IS NULL OR cl.enrol_opens_on <= current_date) AND coalesce(cl.enrol_closes_on, cl.starts_on) >= current_date LIMIT 10001) AS capped;
\echo '== worker1: my enrolments'
EXPLAIN (ANALYZE, BUFFERS) SELECT en.*, c.name, c.starts_on FROM enrolments AS en JOIN classes AS c ON c.id = en.class_id JOIN workers AS w ON w.id = en.worker_id WHERE en.worker_id = :worker1 ORDER BY c.starts_on DESC, en.id DESC LIMIT 200;
\echo '== certificates, admin: first page; hr_reviewer1: first page and total'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM certificates AS ce ORDER BY ce.issued_on DESC, ce.id DESC LIMIT 21;
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM certificates AS ce WHERE left(ce.region_code, 4) = '4201' ORDER BY ce.issued_on DESC, ce.id DESC LIMIT 21;
EXPLAIN (FORMAT JSON) SELECT ce.id FROM certificates AS ce WHERE left(ce.region_code, 4) = '4201';
\echo '== certificates, provider1: first page'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM certificates AS ce WHERE ce.provider_org_id = :provider1 ORDER BY ce.issued_on DESC, ce.id DESC LIMIT 21;
\echo '== graduates of college1: first page (name order from the college index)'
EXPLAIN (ANALYZE, BUFFERS) SELECT en.id, en.status, c.name, w.name FROM enrolments AS en JOIN classes AS c ON c.id = en.class_id JOIN workers AS w ON w.id = en.worker_id WHERE w.college_org_id = :college1 ORDER BY w.name, w.id, en.id DESC LIMIT 21;
\echo '== inbox of provider1 (a user): first page'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM notifications AS n WHERE n.user_id = :provider1user ORDER BY n.id DESC LIMIT 21;
