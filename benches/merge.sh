#!/usr/bin/env bash
# The cost of `throttlebox merge` on a 1-hour, 1,000 req/s run (BENCHMARKS.md, "Sharded runs"):
# benches/scenarios/sim-16-backends.toml with a second strategy, simulated as 2 shards
# (`sim --shard K/2`, one strategy and 3.6 M requests each), then merged; the unsharded sim is
# timed too, and the merged folder compared with it byte for byte.
# Usage: benches/merge.sh [OUT_DIR]   (needs ~3 GB free; REPS=3 merges by default)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/throttlebox-merge-bench}
REPS=${REPS:-3}
cargo build --release --quiet
BIN=$PWD/target/release/throttlebox
rm -rf "$OUT" && mkdir -p "$OUT"
SCENARIO=$OUT/merge-1h.toml
{ cat benches/scenarios/sim-16-backends.toml
  printf '\n[[strategies]]\nname = "round-robin"\npreset = "round-robin"\n'; } > "$SCENARIO"
TIME=(/usr/bin/time -f "user %U sys %S wall %e maxrss %MKB")
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
