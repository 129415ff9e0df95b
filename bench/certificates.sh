#!/usr/bin/env bash
# Public certificate verification beside the one-query handler, in one run
# (issue 11: GET /api/v1/verify/{code} at ≥ 50 % of GET /api/v1/session),
# then the class ZIP benchmark (bench/certificates, 1 000 PDFs).
#
#   bash bench/certificates.sh          # 10 s per target
#   BENCH_DURATION=30s bash bench/certificates.sh
#
# Starts the server on the embedded database with demo data in a temporary
# data dir, rate limit off (TUOYU_VERIFY_RATE=0), takes worker1's verify
# code and runs wrk (2 threads, 50 connections) against:
#   session  GET /api/v1/session as worker1: one primary-key query
#   verify   GET /api/v1/verify/{code}, anonymous: one query by the unique
#            code, the masked answer with its stored signature
# Needs wrk, curl, the PostgreSQL binaries and the certificate font.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${BENCH_DURATION:-10s}
threads=2
connections=50
app_port=${BENCH_APP_PORT:-18190}

for cmd in wrk curl go; do
	command -v "$cmd" >/dev/null || { echo "bench: $cmd is missing (make deps installs wrk)" >&2; exit 1; }
done

tmp=$(mktemp -d)
chmod 755 "$tmp" # the embedded cluster runs as postgres when we are root
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "bench: building"
go build -o "$tmp/tuoyu" ./cmd/tuoyu

echo "bench: starting the server with demo data"
TUOYU_ADDR="127.0.0.1:$app_port" TUOYU_DATA_DIR="$tmp/var" TUOYU_BASE_URL="http://127.0.0.1:$app_port" \
	TUOYU_VERIFY_RATE=0 DATABASE_URL= TUOYU_SECRET_KEY= "$tmp/tuoyu" serve --demo >"$tmp/tuoyu.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$app_port"
for _ in $(seq 1 600); do
	curl -sf -o /dev/null "$base/readyz" && break
	sleep 0.2
done
curl -sf -o /dev/null "$base/readyz" || { tail -n 20 "$tmp/tuoyu.log" >&2; exit 1; }

session=$(curl -sf -D - -o /dev/null -H 'Content-Type: application/json' \
	-d '{"username":"worker1","password":"Tuoyu@2026"}' "$base/api/v1/session" |
	tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(tuoyu_session=[^;]*\).*/\1/p' | head -n1)
[ -n "$session" ] || { echo "bench: login as worker1 gave no session cookie" >&2; exit 1; }
export TUOYU_COOKIE="$session"
code=$(curl -sf -H "Cookie: $session" "$base/api/v1/me/certificates" | sed -n 's/.*"verify_code":"\([^"]*\)".*/\1/p' | head -n1)
[ -n "$code" ] || { echo "bench: worker1 has no certificate" >&2; exit 1; }

declare -A rps p99
run() { # name url [wrk args…]
	local name=$1 url=$2
	shift 2
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
run session "$base/api/v1/session" -s bench/http/cookie.lua
run verify "$base/api/v1/verify/$code"

echo
echo "verify, wrk -t$threads -c$connections -d$duration, $(nproc) cores, $(date -u +%Y-%m-%d), load average before: $load"
printf '%-40s %12s %10s %12s\n' target 'requests/s' 'p99 ms' '÷ session'
for n in session verify; do
	printf '%-40s %12.0f %10s %12s\n' "$n" "${rps[$n]}" "${p99[$n]}" "$(awk -v a="${rps[$n]}" -v b="${rps[session]}" 'BEGIN { printf "%.2f", a / b }')"
done

kill "$pid" && wait "$pid" 2>/dev/null || true
pid=
echo
echo "bench: class ZIP of 1 000 certificates"
go test ./bench/certificates/ -run '^$' -bench ClassZIP1000 -benchtime 3x
