#!/usr/bin/env bash
# Run a command under the reproduced disturbance of issue #10 (benches/disturb.py: held
# loopback connections, TIME_WAIT churn, a full accept queue being flooded, busy loops and a
# large writer, all at once), inside a private network namespace: the held ports, the
# narrowed ephemeral port range and the flood touch no other process on the machine. Needs
# root (unshare -n) and python3. The disturbance starts first, is given DISTURB_WARMUP seconds
# to build up, and is stopped and cleaned up (its file removed) when the command ends; it
# never outlives DISTURB_SECONDS.
#
#   benches/disturbed.sh target/release/throttlebox run --time-scale 20
#   benches/disturbed.sh benches/send-lag.sh 5000 10000
#
# Environment (defaults in brackets): HOLD [3000] held connections, CHURN [1000] TIME_WAIT
# connections a second, FLOOD [300] connection attempts a second at the full accept queue,
# CPU [4] busy loops, DD_MB [2048] size of the file rewritten (in DD_DIR [/tmp]), PORTS
# ["32768 36863"] the namespace's ephemeral port range, DISTURB_SECONDS [900],
# DISTURB_WARMUP [3], SHARED_SESSION [0] (1: the disturbance in the command's own session,
# below). QUIET_DISTURBANCE=1 keeps its per-second lines out of stderr (they go to
# $DISTURB_LOG [/tmp/disturb.log]).
set -euo pipefail
if [ -z "${DISTURBED_NETNS:-}" ]; then
  exec unshare --net env DISTURBED_NETNS=1 "$0" "$@"
fi
HERE=$(dirname "$0")
ip link set lo up
echo "${PORTS:-32768 36863}" > /proc/sys/net/ipv4/ip_local_port_range
LOG=${DISTURB_LOG:-/tmp/disturb.log}
# Its own session (so its own autogroup, as a program started elsewhere on the machine has),
# unless SHARED_SESSION=1 puts it in the measured command's scheduling group: a harsher case,
# where the busy loops take their CPU from the measured process's own share.
SESSION=setsid
[ "${SHARED_SESSION:-0}" = 1 ] && SESSION=
$SESSION python3 "$HERE/disturb.py" --seconds "${DISTURB_SECONDS:-900}" --hold "${HOLD:-3000}" \
  --churn "${CHURN:-1000}" --flood "${FLOOD:-300}" --cpu "${CPU:-4}" --dd "${DD_MB:-2048}" \
  --dir "${DD_DIR:-/tmp}" 2> "$LOG" &
DISTURB=$!
# At the end, the namespace's TCP counters (it started at zero, so these are this run's): accept
# queue overflows (SYNs dropped), SYN retransmissions, retransmission timeouts. The flood's
# own listener overflows by design; run with FLOOD=0 to see whether other listeners did.
report() {
  kill -TERM "$DISTURB" 2>/dev/null; wait "$DISTURB" 2>/dev/null || true
  tail -n 2 "$LOG" >&2
  nstat -asz TcpExtListenOverflows TcpExtTCPSynRetrans TcpExtTCPTimeouts 2>/dev/null | tail -n +2 | awk '{printf "disturbed.sh: %s %s\n", $1, $2}' >&2 || true
}
trap report EXIT
[ "${QUIET_DISTURBANCE:-0}" = 1 ] || tail -f "$LOG" --pid "$DISTURB" >&2 &
sleep "${DISTURB_WARMUP:-3}"
"$@"
