#!/usr/bin/env bash
# Figure 4 of BENCHMARKS.md: resident memory of the mock holding STREAMS (10,000) concurrent slow
# streams (`chat-slow`: one token every 2 s). `examples/hold_streams` opens them over loopback,
# waits until each has its first SSE event, reads VmRSS / VmHWM from /proc/<mock pid>/status,
# prints them and exits, closing every stream. Needs 2 × STREAMS file descriptors in total.
# Env: STREAMS (10000), REPS (3), SERVER_CPU (1), CLIENT_CPU (0).
STREAMS="${STREAMS:-10000}"
REPS="${REPS:-3}"
source "$(dirname "$0")/lib.sh"
need taskset
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt "$((STREAMS + 100))" ] || { echo "ulimit -n $(ulimit -n) is too low for $STREAMS streams" >&2; exit 2; }
build
(cd "$ROOT" && cargo build --release --quiet -p aoai-mock --example hold_streams)
machine_facts
echo "# fresh mock per repetition; ulimit -n $(ulimit -n)"
for rep in $(seq "$REPS"); do
  start_mock
  taskset -c "$CLIENT_CPU" "$EXAMPLES/hold_streams" --addr "${MOCK_URL#http://}" --pid "$MOCK_PID" \
    --streams "$STREAMS" --timeout 120 | tee -a "$WORK/runs"
  stop "$MOCK_PID"
done
awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "rss_mb") print kv[2] } }' "$WORK/runs" \
  | median 1 | awk -v n="$STREAMS" '{ printf "median VmRSS with %d streams open: %.1f MB\n", n, $1 }'
