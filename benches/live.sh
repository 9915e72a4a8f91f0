#!/usr/bin/env bash
# Live-shell benchmarks (figures go to BENCHMARKS.md): the open-loop engine's highest rate with
# send lag p99 under 1 ms, the gateway's added latency against direct-to-mock in the same run,
# and goose's closed-model throughput. Mock, gateway and load engine run as separate processes;
# every rate gets a fresh mock and gateway.
#
#   cargo build --release && benches/live.sh [RATE ...]
#
# Environment: BIN (default target/release/throttlebox), OUT (default /tmp/throttlebox-bench),
# DURATION (scenario seconds per rate, default 10s), USERS (goose users, default 64).
set -euo pipefail
BIN=${BIN:-target/release/throttlebox}
OUT=${OUT:-/tmp/throttlebox-bench}
DURATION=${DURATION:-10s}
USERS=${USERS:-64}
SCENARIO=benches/live-throughput.toml
RATES=("$@")
[ ${#RATES[@]} -eq 0 ] && RATES=(1000 2000 5000 10000)
mkdir -p "$OUT"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done' EXIT

. "$(dirname "$0")/common.sh"

# A fresh mock and gateway for every rate: an overloaded run leaves thousands of idle
# keep-alive connections (and their descriptors) behind for up to a minute, which would
# handicap the next measurement.
start_fleet() {
  start_mock; PIDS+=("$MOCK_PID")
  "$BIN" gateway "$SCENARIO" --strategy round-robin --backend "only=$MOCK" > "$OUT/gateway.out" 2>&1 & GATEWAY_PID=$!; PIDS+=($!)
  wait_for "$OUT/gateway.out" "^listening"
  GATEWAY=$(awk '/^listening/{print $2}' "$OUT/gateway.out")
}
stop_fleet() {
  kill -INT "$MOCK_PID" "$GATEWAY_PID" 2>/dev/null || true
  wait "$MOCK_PID" "$GATEWAY_PID" 2>/dev/null || true
}

load() { # run-name target rate
  "$BIN" load "$SCENARIO" --target "$2" --quiet --results "$OUT" --run "$1" --force \
    --set "workload.duration=$DURATION" --set "workload.apps[ping].arrivals.rate=$3" > /dev/null 2>&1
}
for rate in "${RATES[@]}"; do
  start_fleet
  load "direct-$rate" "$MOCK" "$rate"
  load "gateway-$rate" "$GATEWAY" "$rate"
  stop_fleet
done
start_fleet
"$BIN" load --engine goose "$SCENARIO" --target "$MOCK" --users "$USERS" --ramp-up 1s \
  --run-time 10s --results "$OUT" --run goose-direct --force > "$OUT/goose-direct.out" 2>&1
"$BIN" load --engine goose "$SCENARIO" --target "$GATEWAY" --users "$USERS" --ramp-up 1s \
  --run-time 10s --results "$OUT" --run goose-gateway --force > "$OUT/goose-gateway.out" 2>&1
stop_fleet

python3 - "$OUT" "${RATES[@]}" <<'PY'
import json, sys
out, rates = sys.argv[1], sys.argv[2:]
def row(run):
    s = json.load(open(f"{out}/{run}/summary.json"))["strategies"][0]
    e = json.load(open(f"{out}/{run}/engine.json"))[0]["engine"] if run[:5] != "goose" else {}
    ms = lambda v: "-" if v is None else f"{v*1000:.3f}"
    return (f"{run:16} requests {s['requests']:>7} ok {s['success_ratio']*100:6.2f}% "
            f"rps {s['throughput_rps']:>9.1f} e2e p50 {ms(s['e2e']['p50_s'])} ms p99 {ms(s['e2e']['p99_s'])} ms "
            f"send-lag (wall) p50 {e.get('send_lag_wall_us', {}).get('p50', '-')} us "
            f"p99 {e.get('send_lag_wall_us', {}).get('p99', '-')} us dropped {e.get('dropped', '-')}")
for rate in rates:
    print(row(f"direct-{rate}")); print(row(f"gateway-{rate}"))
print(row("goose-direct")); print(row("goose-gateway"))
PY
