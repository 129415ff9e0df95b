#!/usr/bin/env bash
# The HR overview through a running server (issue 13; docs/performance.md
# "Payouts"): GET /api/v1/stats and /hr/dashboard for the province and one
# city as regulator1, 20 sequential requests each after one warm-up, median
# and p95 in milliseconds, goal < 300 ms per page.
#
#   DASH_BASE=http://127.0.0.1:8080 DASH_N=20 bash bench/payouts/dashboard.sh
#
# The server must hold the demo logins (tuoyu seed demo) and, for figures
# that mean anything, a world of a million workers with claims. Needs curl.
set -euo pipefail

base=${DASH_BASE:-http://127.0.0.1:8080}
n=${DASH_N:-20}
password=${DASH_PASSWORD:-Tuoyu@2026}
year=${DASH_YEAR:-$(TZ=Asia/Shanghai date +%Y)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cookie=$(curl -sf -D - -o /dev/null -H 'Content-Type: application/json' \
	-d "{\"username\":\"regulator1\",\"password\":\"$password\"}" "$base/api/v1/session" |
	tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(tuoyu_session=[^;]*\).*/\1/p' | head -n1)
[ -n "$cookie" ] || { echo "dashboard: login failed" >&2; exit 1; }

measure() { # PATH
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base$1")
	[ "$code" = 200 ] || { echo "dashboard: GET $1 answered $code" >&2; exit 1; }
	: >"$tmp/t"
	for _ in $(seq 1 "$n"); do
		curl -s -o /dev/null -w '%{time_total}\n' -H "Cookie: $cookie" "$base$1" >>"$tmp/t"
	done
	sort -g "$tmp/t" | awk -v path="$1" '
		{ v[NR] = $1 * 1000 }
		END {
			med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			i = int(NR * 0.95 + 0.999); if (i > NR) i = NR
			printf "| `%s` | %.1f | %.1f | %s |\n", path, med, v[i], (v[i] < 300) ? "yes" : "**no**"
		}'
}

echo "dashboard: $(date -u +%FT%TZ) on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $n requests each"
echo "| request (regulator1) | median ms | p95 ms | < 300 ms |"
echo "|---|---:|---:|---|"
for path in "/api/v1/stats?region=420000&year=$year" "/hr/dashboard?region=420000&year=$year" \
	"/api/v1/stats?region=420100&year=$year" "/hr/dashboard?region=420100&year=$year"; do
	measure "$path"
done
echo "dashboard: load after $(cut -d' ' -f1-3 /proc/loadavg)"
