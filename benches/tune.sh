#!/usr/bin/env bash
# tune against the grid it replaces (BENCHMARKS.md, "Tuning"): on the embedded default scenario,
# the trip duration and interval of `apim-pool trip 10s` (5s..120s each), min cost under
# success >= 99 %, five seeds. Runs, in order and REPS times:
#   grid  — the equivalent 10×10 grid over the same five seeds (`sweep --strategy`, 500 runs),
#   tune  — `tune` with its default budget (--budget-cpu 60s; it stops when it converges),
#   tune¼ — `tune` with a quarter of the grid's simulated requests.
# Prints wall and CPU time, simulated requests, and the cost each finds (the grid's best cell
# judged as tune judges: the 95 % t-interval of success over the seeds).
# Needs python3. REPS (default 3), JOBS (default 2) override.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
JOBS=${JOBS:-2}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cargo build --release --quiet
BIN=target/release/throttlebox
STRATEGY='apim-pool trip 10s'
# The grid's values: tune's own decoding of u = i/9 (log scale, the same rounding).
VALUES=5s,7.1s,10s,14s,21s,29s,42s,59s,84s,120s
timed() { # name, command…: run it, print "name wall user+sys"
  local name=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$OUT/time" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err"
  read -r wall user sys < "$OUT/time"
  echo "$name wall=${wall}s cpu=$(python3 -c "print(round($user+$sys, 2))")s"
}
uptime
for rep in $(seq "$REPS"); do
  echo "== repetition $rep"
  timed grid "$BIN" sweep --strategy "$STRATEGY" --set seed=42,43,44,45,46 \
    --set breaker.trip_duration=$VALUES --set breaker.interval=$VALUES \
    --jobs "$JOBS" --results "$OUT" --run grid --force
  grep -o "[0-9]* simulated requests" "$OUT/grid.err"
  GRID=$(grep -o "[0-9]* simulated requests" "$OUT/grid.err" | cut -d' ' -f1)
  python3 - "$OUT/grid/sweep.csv" <<'EOF'
import collections, csv, math, sys
T = {4: 2.776}
cells = collections.defaultdict(list)
for row in csv.DictReader(open(sys.argv[1])):
    cells[(row["breaker.trip_duration"], row["breaker.interval"])].append(row)
best = None
for cell, rows in cells.items():
    success = [float(r["success_ratio"]) for r in rows]
    n = len(success)
    mean = sum(success) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in success) / (n - 1))
    if mean - T[n - 1] * sd / math.sqrt(n) >= 0.99:
        cost = sum(float(r["cost"]) for r in rows) / n
        best = min(best or (cost, cell), (cost, cell))
print(f"grid best cell meeting the constraint: {best[1]} cost {best[0]:.4f}")
EOF
  for variant in tune "tune-quarter"; do
    budget=()
    [ "$variant" = tune-quarter ] && budget=(--budget-requests $((GRID / 4)))
    timed "$variant" "$BIN" tune --strategy "$STRATEGY" \
      --param breaker.trip_duration=5s..120s --param breaker.interval=5s..120s \
      --objective 'min cost' --constraint 'success>=99%' --seeds 5 "${budget[@]}" \
      --jobs "$JOBS" --results "$OUT" --run "$variant" --force
    grep -o "[0-9]* simulated requests)" "$OUT/$variant.err" | tail -1
    grep -m1 -A2 "^## Recommendation" "$OUT/$variant/tune.md" | tail -1
  done
done
uptime
