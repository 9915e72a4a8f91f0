#!/usr/bin/env bash
# Figure 3 of BENCHMARKS.md: SSE events per second. `examples/sse_rate` keeps CONNECTIONS (64)
# streams going back to back against `chat-stream` (200 tokens, one content event per token,
# zero inter-token latency) and counts `data:` events at the client. Reference in the same run:
# nginx returning the captured event stream (the same bytes) as one body, which is a ceiling,
# not a like-for-like stream (one write instead of one per event).
# Env: REPS (5), SECONDS_PER_RUN (10), CONNECTIONS (64), SERVER_CPU (1), CLIENT_CPU (0).
source "$(dirname "$0")/lib.sh"
need nginx curl taskset python3
build
(cd "$ROOT" && cargo build --release --quiet -p aoai-mock --example sse_rate)
machine_facts
start_mock
path="/openai/deployments/chat-stream/chat/completions?$CHAT_QUERY"
capture "$MOCK_URL$path" '{"messages":[{"role":"user","content":"Count the streamed events."}],"max_tokens":4096,"stream":true}'
echo "# one stream = $(grep -c '^data: ' "$WORK/captured.body") events, $(wc -c <"$WORK/captured.body") bytes"
NGINX_CONTENT_TYPE=text/event-stream start_nginx

sse_run() { # LABEL PID URL
  local before after out
  before="$(cpu_ticks "$2")"
  out="$(taskset -c "$CLIENT_CPU" "$EXAMPLES/sse_rate" --addr "${3#http://}" --deployment chat-stream \
         --connections "$CONNECTIONS" --seconds "$SECONDS_PER_RUN")"
  after="$(cpu_ticks "$2")"
  echo "$out" | awk -v label="$1" -v ticks="$((after - before))" -v hz="$(getconf CLK_TCK)" '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    printf "%s %s %s %.2f %s\n", label, f["events_per_sec"], f["streams"], (ticks / hz) * 1e6 / f["events"], f["failed_connections"] }'
}
echo "# server events_per_sec streams server_cpu_us_per_event failed_connections"
for rep in $(seq "$REPS"); do
  sse_run mock "$MOCK_PID" "$MOCK_URL" | tee -a "$WORK/runs"
  sse_run nginx "$NGINX_PID" "$NGINX_URL" | tee -a "$WORK/runs"
done
for server in mock nginx; do
  grep "^$server " "$WORK/runs" >"$WORK/runs.$server"
  printf '%s median: events_per_sec=%s cpu_us_per_event=%s\n' "$server" \
    "$(median 2 <"$WORK/runs.$server")" "$(median 4 <"$WORK/runs.$server")"
done
paste <(awk '{print $2}' "$WORK/runs.mock") <(awk '{print $2}' "$WORK/runs.nginx") \
  | awk '{ printf "%.3f\n", $1 / $2 }' | median 1 | awk '{ printf "mock/nginx events ratio (median of pairs): %.2f\n", $1 }'
