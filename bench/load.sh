#!/usr/bin/env bash
# Load test of issue 14: two app instances on one database behind the
# script's own round-robin (bench/load, a reverse proxy that records every
# answer per endpoint), wrk with a weighted Lua mix of reads and writes for
# each role (bench/load/mix.lua: list, view, enrol, record a lesson,
# calculate, verify, claim), every scheduled job due every minute. Reports per
# endpoint rate, p50 and p99, and checks after the run:
#   - no answer other than 2xx or 4xx (a 3xx, 5xx or proxy error fails);
#   - rows written equal writes acknowledged (201) for enrolments, lessons
#     and claims: fewer rows is a lost write (fails); more rows are writes
#     that committed after the client gave up (wrk's timeout), reported;
#   - each cron slot of each job inside the run has exactly one job_runs row
#     across both instances, none failed;
#   - each instance's RSS stays under 300 MB (sampled every 2 s).
# Not part of `make test`; `make bench-scale` runs it after the lists.
#
#   DATABASE_URL=postgres://…/scale_copy TUOYU_SECRET_KEY=… bash bench/load.sh
#   LOAD_DURATION=60s bash bench/load.sh      # the embedded world of world.sh
#
# It WRITES to the database (enrolments, lessons, claims, job runs): point
# it at a copy of the world. Without DATABASE_URL it uses the embedded
# database in $TUOYU_DATA_DIR (default ./var/bench-scale, world.sh's).
# LOAD_OUT=dir keeps the proxy's report and both instances' logs there.
# Needs wrk, curl, psql and go.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${LOAD_DURATION:-5m}
threads=${LOAD_THREADS:-2}
connections=${LOAD_CONNECTIONS:-50}
port=${LOAD_PORT:-18400} # the proxy; the instances take the next two
rss_limit_kb=$((300 * 1024))
export TUOYU_DATA_DIR=${TUOYU_DATA_DIR:-./var/bench-scale}
for cmd in wrk curl psql go; do
	command -v "$cmd" >/dev/null || { echo "load: $cmd is missing" >&2; exit 1; }
done
if [ -n "${DATABASE_URL:-}" ]; then
	psql_url=$DATABASE_URL
else
	psql_url="host=$(cd "$TUOYU_DATA_DIR" && pwd)/pg user=postgres dbname=tuoyu"
fi
q() { psql "$psql_url" -X -A -t -v ON_ERROR_STOP=1 -c "$1"; }

tmp=$(mktemp -d)
pids=()
cleanup() {
	if [ -n "${LOAD_OUT:-}" ]; then mkdir -p "$LOAD_OUT" && cp "$tmp"/*.txt "$tmp"/*.log "$LOAD_OUT"/ 2>/dev/null || true; fi
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "load: building"
go build -o "$tmp/tuoyu" ./cmd/tuoyu
go build -o "$tmp/proxy" ./bench/load

# Every job every minute, so a run of minutes has slots of each to check.
jobs=$(grep -o 'scheduler.Job{Name: "[a-z_.]*"' app/app.go | sed 's/.*"\(.*\)"/\1/' | sort -u)
cron_env=()
for j in $jobs; do
	cron_env+=("TUOYU_CRON_$(echo "$j" | tr 'a-z.' 'A-Z_')=0 * * * * *")
done

wait_http() {
	for _ in $(seq 1 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.5; done
	echo "load: $1 did not answer" >&2
	return 1
}
instance() { # n: starts instance n (1 or 2) on port+n
	local p=$((port + $1))
	env "${cron_env[@]}" TUOYU_ADDR="127.0.0.1:$p" TUOYU_BASE_URL="http://127.0.0.1:$port" \
		TUOYU_CALC_RATE=0 TUOYU_VERIFY_RATE=0 TUOYU_BANCHECK_RATE=0 \
		"$tmp/tuoyu" serve >"$tmp/instance$1.log" 2>&1 &
	pids+=($!)
	eval "instance$1=$!"
	wait_http "http://127.0.0.1:$p/readyz" || { tail -n 20 "$tmp/instance$1.log" >&2; exit 1; }
}
echo "load: starting two instances"
instance 1 # the first migrates (and starts the embedded cluster)
instance 2
"$tmp/proxy" -listen "127.0.0.1:$port" -backends "http://127.0.0.1:$((port + 1)),http://127.0.0.1:$((port + 2))" \
	-report "$tmp/report.txt" 2>"$tmp/proxy.log" &
proxy=$!
pids+=($proxy)
base="http://127.0.0.1:$port"
wait_http "$base/readyz"

echo "load: logging in and reading the ids each role works on"
bash bench/load/data.sh "$base" "$psql_url" "$threads" >"$tmp/data.lua"
export LOAD_DATA="$tmp/data.lua"

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
(
	max1=0 max2=0
	while :; do
		r1=$(rss "$instance1") r2=$(rss "$instance2")
		[ "$r1" -gt "$max1" ] && max1=$r1
		[ "$r2" -gt "$max2" ] && max2=$r2
		echo "$max1 $max2" >"$tmp/rss"
		sleep 2
	done
) &
sampler=$!
pids+=($sampler)

t0=$(q "SELECT now()")
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load: wrk -t$threads -c$connections -d$duration through the round-robin, from $t0"
wrk -t"$threads" -c"$connections" -d"$duration" --timeout 30s -s bench/load/mix.lua "$base/" | sed 's/^/    /'
t1=$(q "SELECT now()")
loadafter=$(cut -d' ' -f1-3 /proc/loadavg)
kill "$proxy" && wait "$proxy" || true
kill "$sampler" 2>/dev/null || true
read -r max1 max2 <"$tmp/rss"

echo
echo "Load test, $(nproc) cores, $(date -u +%Y-%m-%d), $(q "SELECT count(*) FROM workers") workers, wrk -t$threads -c$connections -d$duration, load average before $load, after $loadafter"
echo
grep '^|' "$tmp/report.txt"
fail=0
acked() { awk -v k="$1" '$1 == "status" && $2 " " $3 == k && $4 == 201 {n += $5} END {print n + 0}' "$tmp/report.txt"; }
failures=$(awk '$1 == "status" && !($4 >= 200 && $4 < 300) && !($4 >= 400 && $4 < 500) {n += $5} END {print n + 0}' "$tmp/report.txt")
gone=$(awk '$1 == "status" && $4 == 499 {n += $5} END {print n + 0}' "$tmp/report.txt")
app5xx=$(cat "$tmp/instance1.log" "$tmp/instance2.log" | grep -c '"msg":"request".*"status":5' || true)
echo
echo "failures (answers other than 2xx/4xx): $failures; 5xx logged by the instances: $app5xx"
echo "requests wrk left unanswered when its time was up (499, not failures): $gone"
[ "$failures" -eq 0 ] && [ "$app5xx" -eq 0 ] || fail=1

echo
echo "| writes | acknowledged (201) | rows written | |"
echo "|---|---:|---:|---|"
check_writes() { # label endpoint sql
	local a w
	a=$(acked "$2")
	w=$(q "$3")
	local verdict=ok
	[ "$w" -gt "$a" ] && verdict="$((w - a)) committed after the client gave up"
	[ "$w" -lt "$a" ] && { verdict="$((a - w)) LOST"; fail=1; }
	echo "| $1 | $a | $w | $verdict |"
}
check_writes enrolments "POST /api/v1/classes/{id}/enrolments" "SELECT count(*) FROM enrolments WHERE created_at >= '$t0'"
check_writes lessons "POST /api/v1/classes/{id}/lessons" "SELECT count(*) FROM lessons WHERE created_at >= '$t0' AND source = 'form'"
check_writes claims "POST /api/v1/claims" "SELECT count(*) FROM claims WHERE submitted_at >= '$t0'"

# The slots on the minute grid inside the run, leaving one slot at each
# end (a start's catch-up, a run still going at the end).
echo
echo "| job | slots | ran once | ok | skipped | failed | missing | instances |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
job_list=$(echo "$jobs" | sed "s/.*/'&'/" | paste -sd,)
cron=$(q "WITH slots AS (
	SELECT j.job, s.slot FROM unnest(ARRAY[$job_list]) AS j(job),
	generate_series(date_trunc('minute', '$t0'::timestamptz) + interval '1 min', '$t1'::timestamptz - interval '1 min', interval '1 min') AS s(slot))
	SELECT s.job, count(*), count(*) FILTER (WHERE n = 1),
	       sum(ok), sum(skipped), sum(failed), count(*) FILTER (WHERE n = 0), max(instances)
	FROM slots s
	CROSS JOIN LATERAL (SELECT count(r.id) AS n, count(*) FILTER (WHERE r.status = 'ok') AS ok,
	       count(*) FILTER (WHERE r.status = 'skipped') AS skipped, count(*) FILTER (WHERE r.status = 'failed') AS failed,
	       (SELECT count(DISTINCT instance) FROM job_runs WHERE job = s.job AND slot BETWEEN '$t0' AND '$t1' AND NOT manual) AS instances
	       FROM job_runs r WHERE r.job = s.job AND r.slot = s.slot AND NOT r.manual) AS r
	GROUP BY s.job ORDER BY s.job")
if [ -z "$cron" ]; then
	echo "load: the run is too short to hold a whole minute slot: cron not checked (LOAD_DURATION ≥ 3m)" >&2
else
	echo "$cron" | awk -F'|' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8}'
	bad=$(echo "$cron" | awk -F'|' '$2 != $3 || $6 != 0 {n++} END {print n + 0}')
	[ "$bad" -eq 0 ] || { echo "load: $bad jobs have a slot that did not run exactly once, or failed" >&2; fail=1; }
fi

echo
echo "RSS peak: instance 1 $((max1 / 1024)) MB, instance 2 $((max2 / 1024)) MB (limit 300 MB)"
[ "$max1" -lt "$rss_limit_kb" ] && [ "$max2" -lt "$rss_limit_kb" ] || fail=1
grep -h '"level":"ERROR"' "$tmp/instance1.log" "$tmp/instance2.log" | head -n 5 | cut -c1-300 || true
[ "$fail" -eq 0 ] && echo "load: passed" || echo "load: FAILED" >&2
exit "$fail"
