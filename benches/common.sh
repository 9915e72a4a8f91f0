# Shared by the live benchmark scripts (sourced, not run): wait for a server's "listening" line,
# and start the mock on the benchmark scenario.

wait_for() { # file pattern
  for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for $2 in $1" >&2; exit 1
}

start_mock() { # sets MOCK (its URL) and MOCK_PID; needs BIN, SCENARIO, OUT
  "$BIN" mock "$SCENARIO" > "$OUT/mock.out" 2>&1 & MOCK_PID=$!
  wait_for "$OUT/mock.out" "^listening only"
  MOCK=$(awk '/^listening only/{print $3}' "$OUT/mock.out")
}
