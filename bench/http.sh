#!/usr/bin/env bash
# HTTP throughput and tail latency of the app beside a bare fiber handler,
# in one run on one machine (issue 2 acceptance; docs/performance.md "HTTP").
#
#   bash bench/http.sh            # 10 s per target
#   BENCH_DURATION=30s bash bench/http.sh
#
# It builds the server and the bare baseline into a temporary directory,
# starts the server on the embedded database with demo data in a temporary
# data dir, logs in as hr_reviewer1 and runs wrk (2 threads, 50 connections,
# latency distribution) against:
#   bare     bench/http/bare, a fiber handler answering "ok"
#   healthz  GET /healthz: the app's whole middleware chain, no database
#   session  GET /api/v1/session as hr_reviewer1: the session look-up in
#            PostgreSQL on every request, and a small JSON answer
#   workers  GET /api/v1/workers?per_page=20 as hr_reviewer1: a scoped,
#            paginated list with masked personal data (skipped while the
#            route is not wired)
# Needs wrk and curl (make deps installs wrk) and the PostgreSQL binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${BENCH_DURATION:-10s}
threads=2
connections=50
app_port=${BENCH_APP_PORT:-18180}
bare_port=${BENCH_BARE_PORT:-18181}

for cmd in wrk curl go; do
	command -v "$cmd" >/dev/null || { echo "bench: $cmd is missing (make deps installs wrk)" >&2; exit 1; }
done

tmp=$(mktemp -d)
# The embedded cluster runs as the postgres user when we are root: it must
# be able to enter the data dir's parents.
chmod 755 "$tmp"
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "bench: building"
go build -o "$tmp/tuoyu" ./cmd/tuoyu
go build -o "$tmp/bare" ./bench/http/bare

wait_http() { # url
	for _ in $(seq 1 300); do
		curl -sf -o /dev/null "$1" && return 0
		sleep 0.2
	done
	echo "bench: $1 did not answer" >&2
	return 1
}

"$tmp/bare" -addr "127.0.0.1:$bare_port" 2>"$tmp/bare.log" &
pids+=($!)

echo "bench: starting the server with demo data"
TUOYU_ADDR="127.0.0.1:$app_port" TUOYU_DATA_DIR="$tmp/var" TUOYU_BASE_URL="http://127.0.0.1:$app_port" \
	DATABASE_URL= TUOYU_SECRET_KEY= "$tmp/tuoyu" serve --demo >"$tmp/tuoyu.log" 2>&1 &
pids+=($!)
if ! wait_http "http://127.0.0.1:$app_port/readyz"; then
	tail -n 20 "$tmp/tuoyu.log" >&2
	exit 1
fi
wait_http "http://127.0.0.1:$bare_port/"

base="http://127.0.0.1:$app_port"
session=$(curl -sf -D - -o /dev/null -H 'Content-Type: application/json' \
	-d '{"username":"hr_reviewer1","password":"Tuoyu@2026"}' "$base/api/v1/session" |
	tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(tuoyu_session=[^;]*\).*/\1/p' | head -n1)
if [ -z "$session" ]; then
	echo "bench: login as hr_reviewer1 gave no session cookie" >&2
	exit 1
fi
export TUOYU_COOKIE="$session"

status() { curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $session" "$base$1"; }
if [ "$(status /api/v1/session)" != 200 ]; then
	echo "bench: GET /api/v1/session does not answer 200 to hr_reviewer1" >&2
	exit 1
fi
workers_path='/api/v1/workers?per_page=20'
if [ "$(status "$workers_path")" != 200 ]; then
	echo "bench: $workers_path does not answer 200 (not wired yet?): measuring the session endpoint only"
	workers_path=
fi

# run NAME URL [wrk args…]: runs wrk, keeps its output, and records
# requests/s and p99 in ms.
declare -A rps p99
run() {
	local name=$1 url=$2
	shift 2
	echo "bench: wrk -t$threads -c$connections -d$duration --latency $* $url"
	wrk -t"$threads" -c"$connections" -d"$duration" --latency "$@" "$url" >"$tmp/$name.txt"
	sed 's/^/    /' "$tmp/$name.txt"
	if grep -q 'Non-2xx or 3xx responses' "$tmp/$name.txt"; then
		echo "bench: $name had error responses" >&2
		exit 1
	fi
	rps[$name]=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/$name.txt")
	p99[$name]=$(awk '$1 == "99%" {
		v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
		if (unit == "us") v /= 1000; else if (unit == "s") v *= 1000; else if (unit == "m") v *= 60000
		printf "%.2f", v }' "$tmp/$name.txt")
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
run bare "http://127.0.0.1:$bare_port/"
run healthz "$base/healthz"
run session "$base/api/v1/session" -s bench/http/cookie.lua
[ -n "$workers_path" ] && run workers "$base$workers_path" -s bench/http/cookie.lua

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
row() { # name label
	printf '%-44s %12.0f %10s %9s %11s\n' "$2" "${rps[$1]}" "${p99[$1]}" \
		"$(ratio "${rps[$1]}" "${rps[bare]}")" "$(ratio "${rps[$1]}" "${rps[healthz]}")"
}

echo
echo "HTTP, wrk -t$threads -c$connections -d$duration, $(nproc) cores, $(date -u +%Y-%m-%d), load average before: $load"
printf '%-44s %12s %10s %9s %11s\n' target 'requests/s' 'p99 ms' '÷ bare' '÷ healthz'
row bare "bare fiber handler"
row healthz "GET /healthz"
row session "GET /api/v1/session (hr_reviewer1)"
[ -n "$workers_path" ] && row workers "GET $workers_path (hr_reviewer1)"
exit 0
