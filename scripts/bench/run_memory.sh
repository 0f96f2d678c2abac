#!/usr/bin/env bash
# Memory of `pipec run` against the size of its input (BENCHMARKS.md, "Memory of `pipec
# run`"): the whole iGOT pipeline on 1 M and 5 M generated events (scripts/bench/
# gen_ingestion.py: batches of 50 of Sunbird's extractor fixture events, every mid fresh),
# read from a file and from stdin, with the stores in Redis (as deployed: dedup state lives
# in Redis, not in the process) and, for comparison, in memory (the state then grows with
# the events). Prints one line per run: wall time and peak resident memory (`time -v`).
#
#     scripts/bench/run_memory.sh [WORK_DIR]      (default /tmp/pipec-run-memory)
#
# Needs a release build (`cargo build --release`), `redis-server` (a server of its own is
# started on 127.0.0.1:6390 and flushed before each run) and ~12 GB free under WORK_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/pipec-run-memory}
mkdir -p "$work"
pipec=target/release/pipec
[ -x "$pipec" ] || { echo "build first: cargo build --release" >&2; exit 1; }
export REDIS_URL=redis://127.0.0.1:6390 REDIS_META_URL=redis://127.0.0.1:6390
redis-server --bind 127.0.0.1 --port 6390 --save '' --appendonly no --daemonize yes \
    --pidfile "$work/redis.pid" >/dev/null
trap 'kill "$(cat "$work/redis.pid")" 2>/dev/null || true' EXIT
for _ in $(seq 50); do redis-cli -p 6390 ping >/dev/null 2>&1 && break; sleep 0.1; done

for n in 1000000 5000000; do
    f=$work/ingestion-$n.ndjson
    [ -s "$f" ] || python3 scripts/bench/gen_ingestion.py "$f" --events "$n"
done

measure() {
    local label=$1; shift
    redis-cli -p 6390 flushall >/dev/null
    rm -rf "$work/out"
    local log=$work/time.log
    /usr/bin/time -v -o "$log" "$@" >"$work/run.log" 2>&1 || { cat "$work/run.log" >&2; exit 1; }
    local rss wall
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
    printf '%-34s wall %-9s peak RSS %6s MiB\n' "$label" "$wall" "$rss"
}

for n in 1000000 5000000; do
    f=$work/ingestion-$n.ndjson
    size=$(( $(stat -L -c %s "$f") / 1048576 ))
    echo "== $n events ($size MiB)"
    measure "file, stores in Redis" "$pipec" run pipelines/igot --input "$f" --out "$work/out" --no-backups
    measure "stdin, stores in Redis" sh -c "exec \"$pipec\" run pipelines/igot --input - --out '$work/out' --no-backups < '$f'"
    measure "file, stores in memory" "$pipec" run pipelines/igot --input "$f" --out "$work/out" --no-backups --stores memory
done
