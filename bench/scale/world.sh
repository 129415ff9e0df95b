#!/usr/bin/env bash
# Builds the province-size world and measures it (issue 14; `make
# bench-scale`, not part of `make test`):
#   1. tuoyu seed demo, then tuoyu seed scale --workers $BENCH_WORKERS
#      (resumable: run it again after an interruption);
#   2. starts the server on that database;
#   3. bench/scale/lists.sh: every list endpoint and page as every demo role.
#
#   BENCH_WORKERS=1000000 bash bench/scale/world.sh
#
# The world lives in $TUOYU_DATA_DIR (default ./var/bench-scale) on the
# embedded database, or on DATABASE_URL (with TUOYU_SECRET_KEY) when set;
# it is kept between runs, so a second run only measures. The seed's bulk
# loads switch triggers off, so the owning role (DATABASE_URL, or
# TUOYU_MIGRATE_DATABASE_URL when set) must be a superuser, as the embedded
# cluster's is. The certificates are signed with the data dir's key (or
# TUOYU_CERT_SIGNING_KEY): keep it with the world. Needs the PostgreSQL
# binaries, curl and go.
set -euo pipefail
cd "$(dirname "$0")/../.."

workers=${BENCH_WORKERS:-1000000}
port=${BENCH_APP_PORT:-18190}
export TUOYU_DATA_DIR=${TUOYU_DATA_DIR:-./var/bench-scale}
mkdir -p "$TUOYU_DATA_DIR"
bin=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$bin"
}
trap cleanup EXIT

go build -o "$bin/tuoyu" ./cmd/tuoyu
echo "scale: seeding the demo and $workers workers into $TUOYU_DATA_DIR${DATABASE_URL:+ (DATABASE_URL)}"
"$bin/tuoyu" seed demo
start=$(date +%s)
"$bin/tuoyu" seed scale --workers "$workers"
echo "scale: world built in $(( $(date +%s) - start )) s"

TUOYU_ADDR="127.0.0.1:$port" TUOYU_BASE_URL="http://127.0.0.1:$port" "$bin/tuoyu" serve >"$bin/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
	curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break
	sleep 0.2
done
curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" || { tail -n 20 "$bin/serve.log" >&2; exit 1; }

LISTS_BASE="http://127.0.0.1:$port" bash bench/scale/lists.sh
