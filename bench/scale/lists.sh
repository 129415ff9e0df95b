#!/usr/bin/env bash
# Every list endpoint and page, as every demo role that can see it, at the
# size of the database it runs on (issue 14; docs/performance.md "Lists at
# province size"): 20 sequential requests each after one warm-up, median and
# p95 in milliseconds, printed as a Markdown table, goals median < 30 ms and
# p95 < 50 ms.
#
#   bash bench/scale/lists.sh                       # a server already running
#   LISTS_BASE=http://127.0.0.1:8080 LISTS_N=20 bash bench/scale/lists.sh
#
# The server must hold the demo logins (tuoyu seed demo) and, for figures
# that mean anything, the scale world (tuoyu seed scale --workers 1000000);
# `make bench-scale` builds both and starts the server. Needs curl.
# Exits 1 when a request fails; a goal missed is shown in the table, not
# an error.
set -euo pipefail

base=${LISTS_BASE:-http://127.0.0.1:8080}
n=${LISTS_N:-20}
password=${LISTS_PASSWORD:-Tuoyu@2026}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

command -v curl >/dev/null || { echo "lists: curl is missing" >&2; exit 1; }

login() { # username → cookie header value
	curl -sf -D - -o /dev/null -H 'Content-Type: application/json' \
		-d "{\"username\":\"$1\",\"password\":\"$password\"}" "$base/api/v1/session" |
		tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(tuoyu_session=[^;]*\).*/\1/p' | head -n1
}

# The cursor of the first page of a list, to time the page after it.
cursor() { # cookie path
	curl -sf -H "Cookie: $1" "$base$2" | sed -n 's/.*"next_cursor":"\([^"]*\)".*/\1/p'
}

# measure ROLE COOKIE PATH: n timed requests; prints a table row.
measure() {
	local role=$1 cookie=$2 path=$3 code times
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base$path")
	if [ "$code" != 200 ]; then
		echo "lists: $role GET $path answered $code" >&2
		exit 1
	fi
	: >"$tmp/t"
	for _ in $(seq 1 "$n"); do
		curl -s -o /dev/null -w '%{time_total}\n' -H "Cookie: $cookie" "$base$path" >>"$tmp/t"
	done
	sort -g "$tmp/t" | awk -v role="$role" -v path="$path" '
		{ v[NR] = $1 * 1000 }
		END {
			med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			i = int(NR * 0.95 + 0.999); if (i > NR) i = NR; p95 = v[i]
			ok = (med < 30 && p95 < 50) ? "yes" : "**no**"
			if (length(path) > 60) path = substr(path, 1, 57) "…"
			printf "| %s | `%s` | %.1f | %.1f | %s |\n", role, path, med, p95, ok
		}'
}

echo "lists: $(date -u +%FT%TZ) on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $n requests each"
echo
echo "| role | request | median ms | p95 ms | goal |"
echo "|---|---|---|---|---|"

# role → the lists it may see (API and page)
declare -A lists=(
	[admin]="/api/v1/workers?per_page=20 /workers /api/v1/audit-events?per_page=50 /admin/audit /api/v1/classes?per_page=20 /classes /api/v1/rosters?per_page=20 /rosters /api/v1/notifications /api/v1/institutions?per_page=20 /api/v1/organisations?per_page=20"
	[hr_reviewer1]="/api/v1/workers?per_page=20 /workers /api/v1/workers?q=%E7%8E%8B&per_page=20 /api/v1/classes?per_page=20 /classes /api/v1/notifications /notifications"
	[regulator1]="/api/v1/workers?per_page=20 /workers /api/v1/classes?per_page=20 /classes /api/v1/bans?per_page=20 /bans /api/v1/institutions?per_page=20 /institutions"
	[provider1]="/api/v1/workers?per_page=20 /workers /api/v1/classes?per_page=20 /classes /classes/search /api/v1/notifications"
	[college1]="/api/v1/workers?per_page=20 /workers /api/v1/rosters?per_page=20 /rosters"
	[institution1]="/api/v1/workers?per_page=20 /workers"
	[worker1]="/api/v1/enrolments /me/classes /api/v1/classes?per_page=20 /classes/search /api/v1/notifications"
)
# The other lists and pages each role can see (classes, certificates,
# enrolments, lessons, sittings, waiting lists, notices, users, batches …).
# {class} is the first class of the role's own list, {sitting} its first
# sitting; a path whose placeholder finds nothing is left out.
declare -A more=(
	[admin]="/notifications /api/v1/classes/search?per_page=20 /classes/search /api/v1/certificates?per_page=20 /certificates /api/v1/users /admin/users /api/v1/tokens /admin/tokens /admin/orgs /institutions /api/v1/payout-batches?per_page=20 /payout-batches /api/v1/plan-waitlist /classes/waitlist /api/v1/notices /notices /api/v1/courses /api/v1/plans /catalog/plans /api/v1/jobs /admin/jobs /api/v1/classes/{class}/enrolments /classes/{class} /api/v1/classes/{class}/lessons /classes/{class}/lessons /api/v1/classes/{class}/assessments /classes/{class}/assessments /api/v1/assessments/{sitting}/candidates /assessments/{sitting}"
	[hr_reviewer1]="/api/v1/certificates?per_page=20 /certificates /api/v1/plan-waitlist /classes/waitlist /api/v1/notices /notices /api/v1/classes/{class}/enrolments /classes/{class} /api/v1/classes/{class}/assessments /api/v1/assessments/{sitting}/candidates"
	[hr_approver1]="/api/v1/workers?per_page=20 /workers /api/v1/classes?per_page=20 /classes /api/v1/certificates?per_page=20 /certificates /api/v1/payout-batches?per_page=20 /payout-batches /api/v1/notifications /notifications"
	[regulator1]="/api/v1/certificates?per_page=20 /certificates /api/v1/notifications /notifications /api/v1/classes/{class}/enrolments /classes/{class}"
	[provider1]="/notifications /api/v1/classes/search?per_page=20 /api/v1/certificates?per_page=20 /certificates /api/v1/plan-waitlist /classes/waitlist /api/v1/classes/{class}/enrolments /classes/{class} /api/v1/classes/{class}/lessons /classes/{class}/lessons /api/v1/classes/{class}/assessments /classes/{class}/assessments /api/v1/assessments/{sitting}/candidates /assessments/{sitting}"
	[college1]="/api/v1/graduates/progress /graduates /api/v1/notifications /notifications"
	[institution1]="/api/v1/institutions?per_page=20 /institutions /api/v1/notifications /notifications"
	[worker1]="/notifications /api/v1/classes/search?per_page=20 /api/v1/me/certificates /me/certificates /me/assessments /me/subsidies /api/v1/notices /notices"
)

# first_id COOKIE PATH: the first "id" of a list's answer (empty if none).
first_id() {
	curl -sf -H "Cookie: $1" "$base$2" | sed -n 's/^{"items":\[{"id":\([0-9]*\).*/\1/p'
}

for role in admin hr_reviewer1 hr_approver1 regulator1 provider1 college1 institution1 worker1; do
	cookie=$(login "$role")
	if [ -z "$cookie" ]; then
		echo "lists: cannot log in as $role (seed the demo first)" >&2
		exit 1
	fi
	for path in ${lists[$role]:-}; do
		measure "$role" "$cookie" "$path"
	done
	class=$(first_id "$cookie" "/api/v1/classes?per_page=1&state=completed" 2>/dev/null || true)
	sitting=""
	if [ -n "$class" ]; then
		sitting=$(first_id "$cookie" "/api/v1/classes/$class/assessments" 2>/dev/null || true)
	fi
	for path in ${more[$role]:-}; do
		case $path in *"{class}"*) [ -n "$class" ] || continue ;; esac
		case $path in *"{sitting}"*) [ -n "$sitting" ] || continue ;; esac
		path=${path//\{class\}/$class}
		path=${path//\{sitting\}/$sitting}
		measure "$role" "$cookie" "$path"
	done
	# The classes list by cursor and by a deep page number, like the workers.
	after=$(cursor "$cookie" "/api/v1/classes?per_page=20" 2>/dev/null || true)
	if [ -n "$after" ]; then
		measure "$role" "$cookie" "/api/v1/classes?per_page=20&after=$after"
		measure "$role" "$cookie" "/api/v1/classes?per_page=20&page=20"
	fi
	# The page after the first, by cursor, where the list hands one out;
	# and a deep page by number, which must stay within the OFFSET limit.
	after=$(cursor "$cookie" "/api/v1/workers?per_page=20" 2>/dev/null || true)
	if [ -n "$after" ]; then
		measure "$role" "$cookie" "/api/v1/workers?per_page=20&after=$after"
		measure "$role" "$cookie" "/api/v1/workers?per_page=20&page=20"
	fi
done
