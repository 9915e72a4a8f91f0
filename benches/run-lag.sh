#!/usr/bin/env bash
# The live head-to-head's send lag (issue #10): `throttlebox run` with its in-process fleet and
# gateway, per strategy the engine's send lag (when each request's task started), the
# scheduler's own lag (when it decided to send), peak in flight, records lost, and the engine's
# CPU saturation and CPU wait (shares of the run's wall time: busy, and ready but waiting for a
# CPU). Fields a build does not report print as "-".
#
#   cargo build --release && benches/run-lag.sh                       # quiet
#   benches/disturbed.sh benches/run-lag.sh                           # under the disturbance
#
# Environment: BIN (default target/release/throttlebox), OUT (default /tmp/throttlebox-run-lag),
# SCENARIO (default: the embedded ptu-payg-pool), TIME_SCALE (default 20), DURATION (scenario
# duration, default the scenario's: 10m), RUN (run name, default run-<pid>).
set -euo pipefail
BIN=${BIN:-target/release/throttlebox}
OUT=${OUT:-/tmp/throttlebox-run-lag}
TIME_SCALE=${TIME_SCALE:-20}
RUN=${RUN:-run-$$}
mkdir -p "$OUT"
args=(run ${SCENARIO:+"$SCENARIO"} --time-scale "$TIME_SCALE" --quiet --results "$OUT" --run "$RUN")
[ -n "${DURATION:-}" ] && args+=(--set "workload.duration=$DURATION")
echo "$(date -u +%FT%TZ) load average: $(cut -d' ' -f1-3 /proc/loadavg); $BIN ${args[*]}"
"$BIN" "${args[@]}" > "$OUT/$RUN.out" 2>&1 || { tail -5 "$OUT/$RUN.out"; exit 1; }
python3 - "$OUT/$RUN/engine.json" <<'PY'
import json, sys
def ms(us): return f"{us / 1000:.1f}"
def share(v): return "-" if v is None else f"{v:.2f}"
print(f"{'strategy':<24} {'sent':>6} {'send lag p50 / p99 / max ms':>30} {'decision lag p99 / max ms':>26} {'peak flight':>11} {'lost':>5} {'cpu busy':>8} {'cpu wait':>8}")
for entry in json.load(open(sys.argv[1])):
    e = entry["engine"]
    lag = e["send_lag_wall_us"]
    decision = e.get("decision_lag_wall_us")
    d = f"{ms(decision['p99'])} / {ms(decision['max'])}" if decision else "-"
    print(f"{entry['strategy']:<24} {e['sent']:>6} {ms(lag['p50']) + ' / ' + ms(lag['p99']) + ' / ' + ms(lag['max']):>30} {d:>26} {e['peak_in_flight']:>11} {e.get('records_lost', '-'):>5} {share(e.get('cpu_saturation')):>8} {share(e.get('cpu_wait')):>8}")
PY
echo "$(date -u +%FT%TZ) load average: $(cut -d' ' -f1-3 /proc/loadavg)"
