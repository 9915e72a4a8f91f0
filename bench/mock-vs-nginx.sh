#!/usr/bin/env bash
# Figures 1 and 2 of BENCHMARKS.md: non-streaming chat completions against the mock and against
# nginx returning the same status, headers and body, under the same wrk command, interleaved.
#   bench/mock-vs-nginx.sh                 # chat-fast: zero latency, rate limits charged, never tripping
#   bench/mock-vs-nginx.sh chat-throttled  # every request answered 429 by the token window
# Env: REPS (5), SECONDS_PER_RUN (10), CONNECTIONS (64), SERVER_CPU (1), CLIENT_CPU (0).
source "$(dirname "$0")/lib.sh"
DEPLOYMENT="${1:-chat-fast}"
need wrk nginx curl taskset python3
build
machine_facts
start_mock
path="/openai/deployments/$DEPLOYMENT/chat/completions?$CHAT_QUERY"
capture "$MOCK_URL$path" "$CHAT_BODY"
echo "# deployment=$DEPLOYMENT mock answers $(cat "$WORK/captured.status"), $(wc -c <"$WORK/captured.body") body bytes; nginx returns the same"
start_nginx
SECONDS_PER_RUN=2 wrk_run warmup "$MOCK_PID" "$MOCK_URL$path" >/dev/null
SECONDS_PER_RUN=2 wrk_run warmup "$NGINX_PID" "$NGINX_URL$path" >/dev/null
echo "# server rps p50_ms p99_ms server_cpu_us_per_req requests non_2xx  (wrk -t1 -c$CONNECTIONS -d${SECONDS_PER_RUN}s)"
for rep in $(seq "$REPS"); do
  wrk_run mock "$MOCK_PID" "$MOCK_URL$path" | tee -a "$WORK/runs"
  wrk_run nginx "$NGINX_PID" "$NGINX_URL$path" | tee -a "$WORK/runs"
done
for server in mock nginx; do
  grep "^$server " "$WORK/runs" >"$WORK/runs.$server"
  printf '%s median: rps=%s p50_ms=%s p99_ms=%s cpu_us_per_req=%s\n' "$server" \
    "$(median 2 <"$WORK/runs.$server")" "$(median 3 <"$WORK/runs.$server")" "$(median 4 <"$WORK/runs.$server")" "$(median 5 <"$WORK/runs.$server")"
done
# Ratio per interleaved pair, then its median (robust to load drifting between pairs).
paste <(awk '{print $2}' "$WORK/runs.mock") <(awk '{print $2}' "$WORK/runs.nginx") \
  | awk '{ printf "%.3f\n", $1 / $2 }' | median 1 | awk '{ printf "mock/nginx rps ratio (median of pairs): %.2f\n", $1 }'
