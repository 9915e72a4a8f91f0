# Shared by bench/*.sh: build, start and stop the mock and the nginx reference, run wrk pinned,
# read CPU time, take medians. Source it; it sets `set -euo pipefail`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FLEET="$ROOT/bench/fleet.toml"
MOCK="$ROOT/target/release/aoai-mock"
EXAMPLES="$ROOT/target/release/examples"
SERVER_CPU="${SERVER_CPU:-1}"   # the server under test (mock or nginx) runs here
CLIENT_CPU="${CLIENT_CPU:-0}"   # the load generator runs here
REPS="${REPS:-5}"               # interleaved repetitions (mock, nginx, mock, nginx, …)
SECONDS_PER_RUN="${SECONDS_PER_RUN:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
CHAT_QUERY="api-version=2024-10-21"
CHAT_BODY='{"messages":[{"role":"user","content":"Say hello to the benchmark."}],"max_tokens":16}'
WORK="$(mktemp -d /tmp/throttlebox-bench.XXXXXX)"
STARTED_PIDS=()

cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install wrk nginx)" >&2; exit 2; }
  done
}

build() {
  (cd "$ROOT" && cargo build --release --quiet -p aoai-mock --bin aoai-mock "$@")
}

machine_facts() {
  echo "# $(date -u +%FT%TZ) nproc=$(nproc) cpu=\"$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)\" kernel=$(uname -r) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\" server_cpu=$SERVER_CPU client_cpu=$CLIENT_CPU"
}

# start_mock: sets MOCK_PID and MOCK_URL (from the `listening` line).
start_mock() {
  local out="$WORK/mock.out"
  : >"$out"
  taskset -c "$SERVER_CPU" "$MOCK" --config "$FLEET" >"$out" 2>"$WORK/mock.err" &
  MOCK_PID=$!
  STARTED_PIDS+=("$MOCK_PID")
  local i
  for i in $(seq 300); do
    MOCK_URL="$(awk '/^listening/{print $3; exit}' "$out")"
    [ -n "$MOCK_URL" ] && return 0
    kill -0 "$MOCK_PID" 2>/dev/null || { cat "$WORK/mock.err" >&2; exit 1; }
    sleep 0.1
  done
  echo "the mock did not print its listening line" >&2; exit 1
}

stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# capture URL BODY: writes the mock's response to $WORK/captured.{status,headers,body}.
capture() {
  curl -s -o "$WORK/captured.body" -D "$WORK/captured.headers" -w '%{http_code}' \
    -X POST "$1" -H 'api-key: bench' -H 'content-type: application/json' -d "$2" >"$WORK/captured.status"
}

# start_nginx: one worker on SERVER_CPU answering every request with the captured status,
# headers and body (same bytes on the wire as the mock). Sets NGINX_PID, NGINX_URL.
start_nginx() {
  local port conf="$WORK/nginx.conf" body status headers
  port="$(free_port)"
  status="$(cat "$WORK/captured.status")"
  body="$(cat "$WORK/captured.body")"
  mkdir -p "$WORK/nginx/root"
  if [ "$(wc -c <"$WORK/captured.body")" -lt 3000 ]; then
    case "$body" in *'$'*) echo "captured body contains \$; nginx would expand it" >&2; exit 1 ;; esac
    body="${body//\\/\\\\}"; body="${body//\'/\\\'}"
    answer="      return $status '$body';"
  else # too long for a config string: a file, POST turned into a GET of it by error_page
    cp "$WORK/captured.body" "$WORK/nginx/root/body"
    answer="      root $WORK/nginx/root; try_files /body =404; error_page 405 =$status /body;"
  fi
  headers="$(tr -d '\r' <"$WORK/captured.headers" | awk -F': ' 'NR>1 && NF>=2 && tolower($1)!~/^(date|content-length|content-type|connection|transfer-encoding)$/ {
      v=substr($0, length($1)+3); gsub(/"/, "\\\"", v); printf "      add_header %s \"%s\" always;\n", $1, v }')"
  cat >"$conf" <<CONF
worker_processes 1;
master_process off;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $WORK/nginx/body;
  server {
    listen 127.0.0.1:$port;
    location / {
      default_type ${NGINX_CONTENT_TYPE:-application/json};
$headers
$answer
    }
  }
}
CONF
  taskset -c "$SERVER_CPU" nginx -p "$WORK/nginx" -c "$conf" 2>"$WORK/nginx.err" &
  NGINX_PID=$!
  STARTED_PIDS+=("$NGINX_PID")
  NGINX_URL="http://127.0.0.1:$port"
  local i
  for i in $(seq 100); do
    curl -s -o /dev/null "$NGINX_URL/" && return 0
    kill -0 "$NGINX_PID" 2>/dev/null || { cat "$WORK/nginx.err" >&2; exit 1; }
    sleep 0.1
  done
  echo "nginx did not start" >&2; exit 1
}

# cpu_ticks PID: user + system CPU time of PID (all threads) in clock ticks.
cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$1/stat"
}

# wrk_run LABEL PID URL: one wrk run; prints `LABEL rps p50_ms p99_ms cpu_us_per_req`.
wrk_run() {
  local label="$1" pid="$2" url="$3" before after out
  before="$(cpu_ticks "$pid")"
  out="$(BENCH_BODY="$CHAT_BODY" taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" \
         --latency -s "$ROOT/bench/wrk/post.lua" "$url")"
  after="$(cpu_ticks "$pid")"
  echo "$out" | awk -v label="$label" -v ticks="$((after - before))" -v hz="$(getconf CLK_TCK)" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
    /requests in/ { n = $1 }
    /Non-2xx or 3xx responses/ { bad = $NF }
    /^Requests\/sec/ { rps = $2 }
    END { printf "%s %.0f %.2f %.2f %.1f %d %d\n", label, rps, p50, p99, (ticks / hz) * 1e6 / n, n, bad }'
}

# median COLUMN: median of column COLUMN of stdin.
median() {
  sort -g -k"$1","$1" | awk -v c="$1" '{ v[NR] = $c } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
