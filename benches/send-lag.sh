#!/usr/bin/env bash
# The open-loop engine's send lag against the mock (separate processes), with the machine's own
# wake-up jitter measured in the same run as the reference: cyclictest (rt-tests) runs beside
# every load run, one ordinary (SCHED_OTHER) thread waking every millisecond, and its p99/max
# say how late this machine wakes any sleeping thread while the run loads it. (`--laptop`: it
# leaves /dev/cpu_dma_latency alone; pinning it to 0 keeps idle vCPUs polling, which on this VM
# starved the very processes being measured.)
#
#   cargo build --release && benches/send-lag.sh [RATE ...]
#
# Environment: BIN (default target/release/throttlebox), OUT (default /tmp/throttlebox-lag),
# DURATION (seconds per run, default 10), REPEAT (runs per rate, default 3), REFERENCE=0 to run
# without cyclictest, LOAD_FLAGS (extra `throttlebox load` flags, e.g. "--max-connections 256"),
# STALL_MS (freeze the mock with SIGSTOP for that long halfway through every measured run — a
# backend pause, to see how the engine and the mock recover from the backlog), COUNT_CONNECTIONS=1
# (sample the mock's established connections with `ss` every 100 ms; the peak is printed).
# Needs cyclictest (`apt-get install rt-tests`) for the reference column. Under the reproduced
# disturbance of issue #10: `benches/disturbed.sh benches/send-lag.sh RATE ...`. Columns after
# issue #10: the scheduler's own lag (decision max µs), records lost, and the engine's CPU
# saturation / CPU wait (shares of the run's wall time).
set -euo pipefail
BIN=${BIN:-target/release/throttlebox}
OUT=${OUT:-/tmp/throttlebox-lag}
DURATION=${DURATION:-10}
REPEAT=${REPEAT:-3}
SCENARIO=benches/live-throughput.toml
RATES=("$@")
[ ${#RATES[@]} -eq 0 ] && RATES=(8000 10000 12000)
mkdir -p "$OUT"
MOCK_PID=
trap '[ -n "$MOCK_PID" ] && kill -INT "$MOCK_PID" 2>/dev/null || true' EXIT

. "$(dirname "$0")/common.sh"

start_mock
load() { # run-name rate seconds
  # shellcheck disable=SC2086 # LOAD_FLAGS is a list of flags
  "$BIN" load "$SCENARIO" --target "$MOCK" --quiet --results "$OUT" --run "$1" --force ${LOAD_FLAGS:-} \
    --set "workload.duration=${3}s" --set "workload.apps[ping].arrivals.rate=$2" > /dev/null 2>&1
}
# One long-lived mock, as `throttlebox mock` is used, warmed by 5 s of traffic at the first rate:
# a mock's first seconds under load (connections opened, buffers and allocator arenas grown)
# are not the engine's steady state.
load warm-up "${RATES[0]}" 5

echo "$(date -u +%FT%TZ) load average: $(cut -d' ' -f1-3 /proc/loadavg); $BIN"
printf "%-7s %-4s %9s %8s %9s %9s %9s %13s %8s %11s %10s %6s %10s | %s\n" rate run sent dropped "p50 µs" "p99 µs" "max µs" "decision max" "e2e p99" "peak flight" "peak conns" lost "cpu busy/wait" "cyclictest p99 / max µs"
for rate in "${RATES[@]}"; do
  for run in $(seq "$REPEAT"); do
    reference="-"
    CYCLIC=
    if [ "${REFERENCE:-1}" = 1 ] && command -v cyclictest > /dev/null; then
      cyclictest --laptop -t1 -p0 --policy=other -i 1000 -D "$DURATION" -q -h 100000 > "$OUT/cyclictest-$rate-$run.txt" 2>/dev/null &
      CYCLIC=$!
    fi
    if [ "${STALL_MS:-0}" -gt 0 ]; then
      ( sleep "$(awk "BEGIN{print $DURATION / 2}")"; kill -STOP "$MOCK_PID"
        sleep "$(awk "BEGIN{print $STALL_MS / 1000}")"; kill -CONT "$MOCK_PID" ) &
    fi
    SAMPLER=
    if [ "${COUNT_CONNECTIONS:-0}" = 1 ]; then
      ( port=${MOCK##*:}; peak=0
        for _ in $(seq $((DURATION * 10))); do
          n=$(ss -Htn state established "( sport = :$port )" | wc -l)
          [ "$n" -gt "$peak" ] && peak=$n
          sleep 0.1
        done
        echo "$peak" > "$OUT/connections-$rate-$run.txt" ) &
      SAMPLER=$!
    fi
    load "lag-$rate-$run" "$rate" "$DURATION"
    connections="-"
    if [ -n "$SAMPLER" ]; then
      wait "$SAMPLER" || true
      connections=$(cat "$OUT/connections-$rate-$run.txt")
    fi
    if [ -n "$CYCLIC" ]; then
      wait "$CYCLIC" || true
      p99=$(awk '/^[0-9]/{n[$1+0]+=$2; total+=$2} END{s=0; for(l=0;l<100000;l++){s+=n[l]; if(s>=0.99*total){print l; exit}}}' "$OUT/cyclictest-$rate-$run.txt")
      max=$(awk '/^# Max Latencies/{print $4+0}' "$OUT/cyclictest-$rate-$run.txt")
      reference="$p99 / $max"
    fi
    python3 - "$OUT/lag-$rate-$run" "$rate" "$run" "$reference" "$connections" <<'PY'
import json, sys
e = json.load(open(sys.argv[1] + "/engine.json"))[0]["engine"]
e2e = json.load(open(sys.argv[1] + "/summary.json"))["strategies"][0]["e2e"]["p99_s"]
lag = e["send_lag_wall_us"]
e2e_ms = f"{e2e * 1000:.0f} ms" if e2e is not None else "-"
# Reported by builds after issue #10 only ("-" before).
decision = e.get("decision_lag_wall_us", {}).get("max", "-")
share = lambda v: "-" if v is None else f"{v:.2f}"
cpu = f"{share(e.get('cpu_saturation'))}/{share(e.get('cpu_wait'))}"
print(f"{sys.argv[2]:<7} {sys.argv[3]:<4} {e['sent']:>9} {e['dropped']:>8} {lag['p50']:>9} {lag['p99']:>9} {lag['max']:>9} {decision:>13} {e2e_ms:>8} {e['peak_in_flight']:>11} {sys.argv[5]:>10} {e.get('records_lost', '-'):>6} {cpu:>13} | {sys.argv[4]}")
PY
  done
done
