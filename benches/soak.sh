#!/usr/bin/env bash
# Bounded soak (figures go to BENCHMARKS.md): the mock (benches/soak.toml's two deployments)
# and a gateway over it, as separate processes, for DURATION_S seconds at ten times the fleet's
# capacity (the open-loop engine through the gateway), while abusive clients
# (benches/soak_abusers.py: half-sent bodies and heads, 20 MiB chunked bodies, 1 GiB declared
# ones, bodies just under the limit several at once, random bytes) hit both the gateway and a
# mock listener directly. Every 10 s it samples both servers' RSS; at the end it prints how
# flat it stayed after the first minute, how the normal requests fared (the admitted ones must
# still take the model's own 0.58 s), and what each kind of abuse got back.
#
#   cargo build --release && benches/soak.sh
#
# Environment: BIN (default target/release/throttlebox), OUT (default /tmp/throttlebox-soak),
# DURATION_S (default 600), BUDGET (both servers' --body-budget, default 16MiB: small enough
# that the bodies just under the limit reach it).
set -euo pipefail
BIN=${BIN:-target/release/throttlebox}
OUT=${OUT:-/tmp/throttlebox-soak}
DURATION_S=${DURATION_S:-600}
BUDGET=${BUDGET:-16MiB}
SCENARIO=benches/soak.toml
mkdir -p "$OUT"
rm -rf "$OUT/soak"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done' EXIT

. "$(dirname "$0")/common.sh"

"$BIN" mock "$SCENARIO" --body-budget "$BUDGET" > "$OUT/mock.out" 2>&1 & MOCK_PID=$!; PIDS+=($!)
wait_for "$OUT/mock.out" "^admin"
EAST=$(awk '/^listening east/{print $3}' "$OUT/mock.out")
WEST=$(awk '/^listening west/{print $3}' "$OUT/mock.out")
ADMIN=$(awk '/^admin/{print $2}' "$OUT/mock.out")
"$BIN" gateway --scenario "$SCENARIO" --strategy round-robin --backend "east=$EAST" \
  --backend "west=$WEST" --body-budget "$BUDGET" > "$OUT/gateway.out" 2>&1 & GATEWAY_PID=$!; PIDS+=($!)
wait_for "$OUT/gateway.out" "^listening"
GATEWAY=$(awk '/^listening/{print $2}' "$OUT/gateway.out")

rss() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
(
  echo "t_s,mock_rss_kb,gateway_rss_kb"
  t=0
  while [ "$t" -le "$DURATION_S" ]; do
    echo "$t,$(rss "$MOCK_PID"),$(rss "$GATEWAY_PID")"
    sleep 10; t=$((t + 10))
  done
) > "$OUT/rss.csv" & SAMPLER_PID=$!; PIDS+=($!)

python3 "$(dirname "$0")/soak_abusers.py" "$DURATION_S" "${GATEWAY#http://}" "${EAST#http://}" \
  > "$OUT/abusers.json" & ABUSERS_PID=$!; PIDS+=($!)
echo "load: $(uptime)" > "$OUT/machine.txt"
"$BIN" load --scenario "$SCENARIO" --target "$GATEWAY" --quiet --results "$OUT" --run soak \
  --set "workload.duration=${DURATION_S}s" > "$OUT/load.out" 2>&1
echo "load at the end: $(uptime)" >> "$OUT/machine.txt"
wait "$ABUSERS_PID" "$SAMPLER_PID" || true
curl -s "$ADMIN/metrics" > "$OUT/metrics.txt"
kill -INT "$MOCK_PID" "$GATEWAY_PID"
wait "$MOCK_PID" "$GATEWAY_PID" || true

python3 - "$OUT" <<'PY'
import csv, json, sys
out = sys.argv[1]
rows = list(csv.DictReader(open(f"{out}/rss.csv")))
def flat(column):
    values = [int(r[column]) for r in rows if int(r["t_s"]) >= 60 and r[column]]
    low, high = min(values), max(values)
    return (f"{column[:-7]:8} RSS after 1 min: min {low / 1024:.1f} MiB, max {high / 1024:.1f} MiB, "
            f"spread {(high - low) / low * 100:.1f}%, last/first {values[-1] / values[0]:.3f}")
print(flat("mock_rss_kb")); print(flat("gateway_rss_kb"))
by_status = {}
for r in csv.DictReader(open(f"{out}/soak/requests.csv")):
    by_status.setdefault(r["status"], []).append(float(r["e2e_s"]) if r["e2e_s"] else None)
def pct(values, q):
    values = sorted(v for v in values if v is not None)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")
total = sum(len(v) for v in by_status.values())
for status, values in sorted(by_status.items()):
    print(f"status {status:>3}: {len(values):>7} requests ({len(values) / total * 100:5.1f}%), "
          f"e2e p50 {pct(values, .5):.3f} s p99 {pct(values, .99):.3f} s max {pct(values, 1):.3f} s")
abusers = json.load(open(f"{out}/abusers.json"))
for kind, counts in abusers.items():
    print(f"{kind:9} " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
print(open(f"{out}/machine.txt").read().strip())
PY
