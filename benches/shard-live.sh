#!/usr/bin/env bash
# Live shards on one machine (BENCHMARKS.md, "Sharded runs"): the aggregate send rate of
# 2 `load --shard K/2 --start-at T` processes against 1 `load` process, both driving one mock
# fleet (benches/live-throughput.toml: no 429s, ~1 ms model latency) with the same schedule at
# each offered rate; then the cost of `merge` on the 2 shards of the largest rate.
#
#   cargo build --release && benches/shard-live.sh [RATE ...]
#
# Per rate and setup: a fresh mock; requests sent, never sent (in-flight cap), the achieved
# send rate (requests sent ÷ the span of their actual send times, from requests.csv), send lag
# p50/p99 (the worst shard's) and the engines' CPU. Environment: BIN (default
# target/release/throttlebox), OUT (default /tmp/throttlebox-shard-live), DURATION (scenario
# seconds per rate, default 20s), REPS (merges, default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/target/release/throttlebox}
OUT=${OUT:-/tmp/throttlebox-shard-live}
DURATION=${DURATION:-20s}
REPS=${REPS:-3}
SCENARIO=benches/live-throughput.toml
RATES=("$@")
[ ${#RATES[@]} -eq 0 ] && RATES=(5000 10000 15000 20000)
rm -rf "$OUT" && mkdir -p "$OUT"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done' EXIT
. benches/common.sh
TIME=(/usr/bin/time -f "user %U sys %S wall %e maxrss %MKB")

load() { # run-name rate [flags…]
  local run=$1 rate=$2; shift 2
  "$BIN" load "$SCENARIO" --target "$MOCK" --quiet --results "$OUT" --run "$run" --force \
    --set "workload.duration=$DURATION" --set "workload.apps[ping].arrivals.rate=$rate" "$@" \
    > /dev/null 2> "$OUT/$run.err"
}

echo "== load before: $(uptime)"
for rate in "${RATES[@]}"; do
  start_mock; PIDS+=("$MOCK_PID")
  load "single-$rate" "$rate"
  kill -INT "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
  start_mock; PIDS+=("$MOCK_PID")
  T=$(date -u -d '+3 sec' +%FT%T.%3NZ)
  load "shard0-$rate" "$rate" --shard 0/2 --start-at "$T" &
  S0=$!
  load "shard1-$rate" "$rate" --shard 1/2 --start-at "$T" &
  S1=$!
  wait "$S0" "$S1"
  kill -INT "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
done
echo "== load after runs: $(uptime)"

python3 - "$OUT" "${RATES[@]}" <<'PY'
import csv, json, sys
out, rates = sys.argv[1], sys.argv[2:]
def engine(run):
    return json.load(open(f"{out}/{run}/engine.json"))[0]["engine"]
def starts(run):
    with open(f"{out}/{run}/requests.csv") as f:
        return [float(r["actual_start_s"]) for r in csv.DictReader(f)]
print("| offered req/s | processes | sent | never sent | achieved send rate req/s | send lag p50 / p99 µs (worst) | engine CPU busy (each) |")
print("|---:|---:|---:|---:|---:|---|---|")
for rate in rates:
    for label, runs in (("1", [f"single-{rate}"]), ("2 shards", [f"shard0-{rate}", f"shard1-{rate}"])):
        engines = [engine(r) for r in runs]
        times = [t for r in runs for t in starts(r)]
        span = (max(times) - min(times)) if len(times) > 1 else 0
        sent = sum(e["sent"] for e in engines)
        print(f"| {rate} | {label} | {sent} | {sum(e['dropped'] for e in engines)} | "
              f"{sent / span if span else 0:,.0f} | "
              f"{max(e['send_lag_wall_us']['p50'] for e in engines)} / {max(e['send_lag_wall_us']['p99'] for e in engines)} | "
              f"{' / '.join('%.0f%%' % ((e.get('cpu_saturation') or 0) * 100) for e in engines)} |")
PY

# The merge of the largest rate's shards: rows, CPU, memory.
LAST=${RATES[-1]}
du -sh "$OUT/shard0-$LAST" "$OUT/shard1-$LAST"
for rep in $(seq "$REPS"); do
  rm -rf "$OUT/merged"
  "${TIME[@]}" "$BIN" merge "$OUT/shard0-$LAST" "$OUT/shard1-$LAST" --out "$OUT/merged" > /dev/null 2> "$OUT/merge.err" || true
  echo "merge $rep ($(($(wc -l < "$OUT/merged/requests.csv") - 1)) request rows, $(($(wc -l < "$OUT/merged/attempts.csv") - 1)) attempt rows): $(tail -n1 "$OUT/merge.err")"
done
echo "== load after merges: $(uptime)"
