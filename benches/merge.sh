#!/usr/bin/env bash
# The cost of `throttlebox merge` on a 1-hour, 1,000 req/s run (BENCHMARKS.md, "Sharded runs"):
# benches/scenarios/sim-16-backends.toml with a second strategy, simulated as 2 shards
# (`sim --shard K/2`, one strategy and 3.6 M requests each), then merged; the unsharded sim is
# timed too, and the merged folder compared with it byte for byte.
# Usage: benches/merge.sh [OUT_DIR]   (needs ~3 GB free; REPS=3 merges by default)
#
# MODE=live benches/merge.sh [OUT_DIR]: the same for a live run — 2 `load --shard K/2
# --start-at T` processes send benches/live-throughput.toml at 1,000 req/s for an hour to one
# mock, played TIME_SCALE times faster (default 10: 6 minutes of wall time, 10,000 req/s
# together), then `merge` of the two live shard folders (3.6 M request rows in schedule order,
# interval logs, totals) is timed.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/throttlebox-merge-bench}
REPS=${REPS:-3}
cargo build --release --quiet
BIN=$PWD/target/release/throttlebox
rm -rf "$OUT" && mkdir -p "$OUT"
TIME=(/usr/bin/time -f "user %U sys %S wall %e maxrss %MKB")
if [ "${MODE:-sim}" = live ]; then
  TIME_SCALE=${TIME_SCALE:-10}
  SCENARIO=benches/live-throughput.toml
  echo "== load: $(uptime)"
  "$BIN" mock "$SCENARIO" --time-scale "$TIME_SCALE" > "$OUT/mock.out" 2>&1 & MOCK_PID=$!
  trap 'kill -INT "$MOCK_PID" 2>/dev/null || true' EXIT
  . benches/common.sh
  wait_for "$OUT/mock.out" "^listening only"
  MOCK=$(awk '/^listening only/{print $3}' "$OUT/mock.out")
  T=$(date -u -d '+5 sec' +%FT%T.%3NZ)
  SHARDS=()
  for k in 0 1; do
    "${TIME[@]}" "$BIN" load "$SCENARIO" --target "$MOCK" --quiet --results "$OUT" --run "shard$k" \
      --set workload.duration=1h --set "workload.apps[ping].arrivals.rate=1000" \
      --time-scale "$TIME_SCALE" --shard "$k/2" --start-at "$T" > /dev/null 2> "$OUT/shard$k.err" & SHARDS+=($!)
  done
  wait "${SHARDS[@]}" || true
  for k in 0 1; do echo "shard $k/2 load: $(tail -n1 "$OUT/shard$k.err")"; done
  du -sh "$OUT/shard0" "$OUT/shard1" "$OUT/shard0/shard.json" "$OUT/shard0/requests.csv" "$OUT/shard0/attempts.csv"
  for rep in $(seq "$REPS"); do
    rm -rf "$OUT/merged"
    "${TIME[@]}" "$BIN" merge "$OUT/shard0" "$OUT/shard1" --out "$OUT/merged" > /dev/null 2> "$OUT/merge.err" || true
    echo "merge $rep ($(($(wc -l < "$OUT/merged/requests.csv") - 1)) request rows): $(tail -n1 "$OUT/merge.err")"
  done
  echo "== load: $(uptime)"
  exit 0
fi
SCENARIO=$OUT/merge-1h.toml
{ cat benches/scenarios/sim-16-backends.toml
  printf '\n[[strategies]]\nname = "round-robin"\npreset = "round-robin"\n'; } > "$SCENARIO"
echo "== load: $(uptime)"
for k in 0 1; do
  mkdir -p "$OUT/shard$k"
  (cd "$OUT/shard$k" && "${TIME[@]}" "$BIN" sim "$SCENARIO" --jobs 1 --results out --run r --shard "$k/2" > /dev/null 2> sim.err)
  echo "shard $k/2 sim: $(tail -n1 "$OUT/shard$k/sim.err")"
done
mkdir -p "$OUT/whole"
(cd "$OUT/whole" && "${TIME[@]}" "$BIN" sim "$SCENARIO" --jobs 1 --results out --run r > /dev/null 2> sim.err)
echo "unsharded sim: $(tail -n1 "$OUT/whole/sim.err")"
du -sh "$OUT/shard0/out/r" "$OUT/shard1/out/r" "$OUT/shard0/out/r/shard.json" "$OUT/shard0/out/r/requests.csv" "$OUT/shard0/out/r/attempts.csv"
for rep in $(seq "$REPS"); do
  rm -rf "$OUT/merged"
  "${TIME[@]}" "$BIN" merge "$OUT/shard0/out/r" "$OUT/shard1/out/r" --out "$OUT/merged" > /dev/null 2> "$OUT/merge.err"
  echo "merge $rep: $(tail -n1 "$OUT/merge.err")"
done
diff -r "$OUT/whole/out/r" "$OUT/merged" > /dev/null && echo "merged folder identical to the unsharded run"
echo "== load: $(uptime)"
