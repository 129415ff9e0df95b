#!/usr/bin/env bash
# Benchmark of the subsidy engine: the Go benchmark (evaluations per second
# on one core) and wrk on POST /api/v1/subsidies/calculate beside GET /healthz
# in the same server run. Figures go to docs/performance.md ("Subsidy engine").
#
# Usage: bench/subsidies.sh            (embedded database in a temporary data dir)
#        DATABASE_URL=... TUOYU_SECRET_KEY=... bench/subsidies.sh
# Tunables: DURATION (10s), THREADS (2), CONNECTIONS (50), PORT (18089).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-50}
PORT=${PORT:-18089}

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

echo "== Go benchmark (one core)"
go test -run '^$' -bench 'EvaluateOneCertificate|DecodeAndEvaluate' -benchmem -cpu 1 -benchtime 2s ./modules/subsidies/ | grep -E '^(Benchmark|cpu:)'

echo "== HTTP (wrk -t$THREADS -c$CONNECTIONS -d$DURATION)"
go build -o bin/tuoyu ./cmd/tuoyu
datadir=$(mktemp -d)
# The rate limit per IP would turn most of wrk's requests into 429s.
TUOYU_DATA_DIR="$datadir" TUOYU_ADDR="127.0.0.1:$PORT" TUOYU_CALC_RATE=0 ./bin/tuoyu serve >"$datadir/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$datadir"
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "server did not become ready:" >&2; cat "$datadir/server.log" >&2; exit 1; }
# One request first: it loads the default parameters into the database.
curl -fsS -X POST -H 'Content-Type: application/json' --data @<(sed -n '/^wrk.body = \[\[/,/\]\]$/p' bench/subsidies_calculate.lua | sed 's/^wrk.body = \[\[//; s/\]\]$//') \
  "http://127.0.0.1:$PORT/api/v1/subsidies/calculate" >/dev/null

summary() { grep -E 'Requests/sec|99%|Socket errors|Non-2xx|non-200'; }
echo "-- GET /healthz"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$PORT/healthz" | summary
echo "-- POST /api/v1/subsidies/calculate"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/subsidies_calculate.lua \
  "http://127.0.0.1:$PORT/api/v1/subsidies/calculate" | summary
