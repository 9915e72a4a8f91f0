#!/usr/bin/env bash
# Two builds of the mock under the same wrk command, interleaved (A, B, A, B, …): the before /
# after figure of a change, without nginx. A is the binary given as the first argument (e.g. a
# release build of the previous commit), B this tree's release build.
#   bench/mock-vs-mock.sh /tmp/base/target/release/aoai-mock [DEPLOYMENT]
# Env: REPS (5), SECONDS_PER_RUN (10), CONNECTIONS (64), SERVER_CPU (1), CLIENT_CPU (0).
source "$(dirname "$0")/lib.sh"
BASELINE="${1:?usage: bench/mock-vs-mock.sh BASELINE_BINARY [DEPLOYMENT]}"
DEPLOYMENT="${2:-chat-fast}"
need wrk taskset
build
machine_facts
path="/openai/deployments/$DEPLOYMENT/chat/completions?$CHAT_QUERY"
CURRENT="$MOCK"
# start_build BINARY: a fresh mock of that build; sets MOCK_PID, MOCK_URL.
start_build() {
  MOCK="$1" start_mock
  MOCK="$CURRENT"
  SECONDS_PER_RUN=2 wrk_run warmup "$MOCK_PID" "$MOCK_URL$path" >/dev/null
}
echo "# deployment=$DEPLOYMENT A=$BASELINE B=$CURRENT"
echo "# build rps p50_ms p99_ms server_cpu_us_per_req requests non_2xx  (wrk -t1 -c$CONNECTIONS -d${SECONDS_PER_RUN}s)"
for rep in $(seq "$REPS"); do
  for build in A B; do
    if [ "$build" = A ]; then start_build "$BASELINE"; else start_build "$CURRENT"; fi
    wrk_run "$build" "$MOCK_PID" "$MOCK_URL$path" | tee -a "$WORK/runs"
    stop "$MOCK_PID"
  done
done
for build in A B; do
  grep "^$build " "$WORK/runs" >"$WORK/runs.$build"
  printf '%s median: rps=%s p50_ms=%s p99_ms=%s cpu_us_per_req=%s\n' "$build" \
    "$(median 2 <"$WORK/runs.$build")" "$(median 3 <"$WORK/runs.$build")" "$(median 4 <"$WORK/runs.$build")" "$(median 5 <"$WORK/runs.$build")"
done
paste <(awk '{print $5}' "$WORK/runs.A") <(awk '{print $5}' "$WORK/runs.B") \
  | awk '{ printf "%.3f\n", $2 / $1 }' | median 1 | awk '{ printf "B/A server CPU per request (median of pairs): %.2f\n", $1 }'
