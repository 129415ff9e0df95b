#!/usr/bin/env bash
# Prints the Lua data bench/load/mix.lua reads: a session (cookie and CSRF
# token) for each demo login, and from the database the ids each role works
# on. Used by bench/load.sh.
#   bash bench/load/data.sh BASE_URL PSQL_CONNINFO THREADS
set -euo pipefail
base=$1 conn=$2 threads=$3
q() { psql "$conn" -X -A -t -v ON_ERROR_STOP=1 -c "$1"; }
table() { paste -sd, | sed 's/.*/{&}/'; } # lines of Lua values → one Lua table
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

login() { # user → a Lua entry with the session cookie and its CSRF token
	curl -sf -D "$tmp/h" -o "$tmp/b" -H 'Content-Type: application/json' \
		-d "{\"username\":\"$1\",\"password\":\"Tuoyu@2026\"}" "$base/api/v1/session" ||
		{ echo "load: login as $1 failed" >&2; exit 1; }
	local cookie csrf
	cookie=$(tr -d '\r' <"$tmp/h" | sed -n 's/^[Ss]et-[Cc]ookie: \(tuoyu_session=[^;]*\).*/\1/p' | head -n1)
	csrf=$(sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p' "$tmp/b")
	echo "$1 = {cookie = \"$cookie\", csrf = \"$csrf\"}"
}

org() { q "SELECT organisation_id FROM users WHERE username = '$1'"; }
provider=$(org provider1)
today=$(q "SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date")

echo "return {"
echo "threads = $threads,"
echo "sessions = {"
for u in hr_reviewer1 admin provider1 college1 institution1 worker1; do login "$u"; done | paste -sd,
echo "},"
# Name prefixes to search (the commonest surnames), URL-encoded.
echo 'names = {"%E7%8E%8B", "%E6%9D%8E", "%E5%BC%A0", "%E5%88%98", "%E9%99%88"},'
echo "hr_workers = $(q "SELECT id FROM workers WHERE left(region_code, 4) = '4201' AND id % 97 = 0 LIMIT 2000" | table),"
# Provider1's open classes × the workers in its scope not yet in them, in
# a shuffled order: each pair is sent once (then 409 already_enrolled).
echo "enrol = $(q "SELECT '{' || c.id || ',' || pw.worker_id || '}' FROM classes c
	JOIN provider_workers pw ON pw.organisation_id = c.provider_org_id
	WHERE c.provider_org_id = $provider AND c.state = 'open'
	  AND NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.class_id = c.id AND e.worker_id = pw.worker_id)
	ORDER BY md5(c.id || '/' || pw.worker_id) LIMIT 20000" | table),"
# Free lesson slots of provider1's running classes: each day of the class up
# to today × each course of its plan version, not recorded yet, with up to
# five enrolled people present for half an hour.
echo "lessons = $(q "SELECT '{' || c.id || ',\"' || co.code || '\",\"' || d::date || '\",\"' ||
	(SELECT string_agg(e.id::text, ',') FROM (SELECT id FROM enrolments e WHERE e.class_id = c.id AND e.status = 'enrolled' ORDER BY id LIMIT 5) e) || '\"}'
	FROM classes c
	CROSS JOIN LATERAL generate_series(c.starts_on, least(c.ends_on, DATE '$today'), interval '1 day') AS d
	JOIN plan_version_courses pvc ON pvc.plan_version_id = (SELECT max(plan_version_id) FROM enrolments e WHERE e.class_id = c.id)
	JOIN courses co ON co.id = pvc.course_id
	WHERE c.provider_org_id = $provider AND c.state = 'running'
	  AND EXISTS (SELECT 1 FROM enrolments e WHERE e.class_id = c.id AND e.status = 'enrolled')
	  AND NOT EXISTS (SELECT 1 FROM lessons l WHERE l.class_id = c.id AND l.course_id = co.id AND l.held_on = d::date AND NOT l.carried_over)
	ORDER BY md5(c.id || co.code || d::text) LIMIT 15000" | table),"
echo "codes = $(q "SELECT '\"' || verify_code || '\"' FROM certificates ORDER BY id LIMIT 1000" | table),"
# Claims: hr_reviewer1 on behalf of workers of Wuhan, worker1 for their own
# certificates, each subsidy; most answer 4xx (not eligible, a duplicate).
# Bounded: a Lua chunk holds at most 65 536 constants, and Wuhan alone holds
# hundreds of thousands of certificates at province size.
echo "claims = $(q "(SELECT '{\"hr_reviewer1\",' || c.id || ',\"' || s || '\"}' FROM certificates c,
	unnest(ARRAY['skill_upgrade', 'training', 'appraisal']) AS s WHERE left(c.region_code, 4) = '4201'
	ORDER BY md5(c.id::text || s) LIMIT 15000)
	UNION ALL SELECT '{\"worker1\",' || c.id || ',\"' || s || '\"}' FROM certificates c
	JOIN users u ON u.worker_id = c.worker_id AND u.username = 'worker1',
	unnest(ARRAY['skill_upgrade', 'training', 'appraisal']) AS s" | table),"
cat <<'LUA'
situation = [[{"as_of":"2025-06-30","region":"420100","person":{"employment":"enterprise_employee","insured_months":14,"groups":["graduate_of_year"],"banned":false},"certificates":[{"id":"c1","kind":"skill_level","occupation":"4-10-01-03","level":4,"issued_on":"2025-03-01","first_evaluation":true}],"paid":[{"subsidy":"skill_upgrade","certificate_id":"c0","occupation":"4-10-01-03","level":5,"paid_on":"2024-05-01"}]}]],
}
LUA
