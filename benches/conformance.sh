#!/usr/bin/env bash
# The conformance lab's long pass: every real system this machine can install (LiteLLM proxy and
# Router library 1.108.7, openai-priority-loadbalancer 1.1.1, the OpenAI SDK 3.57.0; see
# .ci/install-python-deps) in front of the mock on the full 5-minute seeded schedule of
# scenarios/conformance-lab.toml (conformance-sdk.toml for the SDK alone), compared with the
# simulated preset — as modelled now and as modelled before the lab (`--before-set`) — with
# bounds from 20 seeds of the simulator; plus the LiteLLM proxy under fast throttling
# (scenarios/conformance-fast-throttling.toml, one minute). One run at a time (latencies are
# compared): about 40 minutes, 28 for ONLY=litellm. Tables go to $OUT/*/conformance.md;
# docs/conformance.md quotes them. A run whose system died or stopped answering is reported
# (exit 3, "INVALID" in its table) and the pass goes on.
#
#   [ONLY=litellm] benches/conformance.sh [OUT]   (default OUT: results/conformance-<UTC time>)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-results/conformance-$(date -u +%Y%m%dT%H%M%SZ)}"
BIN="${THROTTLEBOX:-target/release/throttlebox}"
[ -x "$BIN" ] || cargo build --release --quiet
bash .ci/install-python-deps
mkdir -p "$OUT"
echo "machine: $(nproc) cores; load before: $(uptime)" | tee "$OUT/machine.txt"

lab=scenarios/conformance-lab.toml
run() { # name system scenario strategy [before-set…]
  local name=$1 system=$2 scenario=$3 strategy=$4; shift 4
  local before=()
  for set in "$@"; do before+=(--before-set "$set"); done
  case "$system" in litellm-*) ;; *) [ "${ONLY:-}" = litellm ] && return 0 ;; esac
  local rc=0
  "$BIN" conform "$scenario" --system "$system" --strategy "$strategy" --seeds 20 \
    --results "$OUT" --run "$name" "${before[@]}" > /dev/null || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 3 ] || exit "$rc"
  echo "== $name (exit $rc; $(uptime | sed 's/.*load/load/'))"; cat "$OUT/$name/conformance.md"
}
legacy() { echo "strategies[$1].litellm.version=legacy"; }
run proxy-shuffle     litellm-proxy  "$lab" litellm-shuffle    "$(legacy litellm-shuffle)"
run proxy-least-busy  litellm-proxy  "$lab" litellm-least-busy "$(legacy litellm-least-busy)"
run router-shuffle    litellm-router "$lab" litellm-shuffle    "$(legacy litellm-shuffle)"
run router-least-busy litellm-router "$lab" litellm-least-busy "$(legacy litellm-least-busy)"
run proxy-fast-least-busy litellm-proxy scenarios/conformance-fast-throttling.toml litellm-least-busy "$(legacy litellm-least-busy)"
run priority-lb       priority-lb    "$lab" client-priority    "strategies[client-priority].buffers_streams=false"
run openai-sdk        openai-sdk     scenarios/conformance-sdk.toml openai-sdk
echo "machine load after: $(uptime)" | tee -a "$OUT/machine.txt"
