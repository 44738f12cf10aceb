#!/usr/bin/env bash
# TCP bulk throughput (issue 5: meshlog >= HAProxy's tcp mode), each proxy pinned to PROXY_CPU,
# every load process (clients, sink, source: bench/tcp_bulk_peer.py) on LOAD_CPU:
#   meshlog run --workers 1: two TCP inbounds (kuma.io/protocol tcp), one to a sink that reads and
#     discards (upload), one to a source that sends zeros (download); a MeshAccessLog writes Kuma's
#     default TCP format to a File backend.
#   HAProxy 2.6, mode tcp, option tcplog to stdout redirected to a file, nbthread 1, its defaults
#   (HAPROXY_BUFSIZE=131072 sets tune.bufsize, e.g. to match meshlog's 128 KiB bulk buffers)
#     otherwise (16 KiB buffers, no splicing).
# Each run moves GIB GiB over STREAMS parallel connections. Prints a Markdown table: MB/s (10^6
# bytes per wall-clock second, first connect to last close) and the proxy's CPU time (utime +
# stime of all its threads, /proc/PID/stat) per GiB moved. Then checks meshlog's log: one record
# per connection with the right %BYTES_RECEIVED% / %BYTES_SENT%; and the sink got every byte.
#
#   bash bench/tcp_bulk.sh [GIB] [STREAMS] [ROUNDS]      # defaults 2 2 1
#
# Ports 25200-25299 (loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MESHLOG_BIN:-build/release/src/cli/meshlog}
GIB=${1:-2}
STREAMS=${2:-2}
ROUNDS=${3:-1}
SINK=25201 SOURCE=25202 ML_UP=25210 ML_DOWN=25211 HA_UP=25220 HA_DOWN=25221 ADMIN=25290
PEER="/usr/bin/python3 bench/tcp_bulk_peer.py"
BYTES_PER_STREAM=$(awk -v g="$GIB" -v s="$STREAMS" 'BEGIN { printf "%d", g * 1073741824 / s }')  # GIB may be 0.1
source bench/lib.sh
bench_init tcp

# --- upstreams on the load core ---
taskset -c "$LOAD_CPU" $PEER sink $SINK "$work/sink.counts" > "$work/sink.out" 2>&1 &
pids+=($!)
taskset -c "$LOAD_CPU" $PEER source $SOURCE $BYTES_PER_STREAM > "$work/source.out" 2>&1 &
pids+=($!)

# --- meshlog ---
mkdir -p "$work/mesh"
cat > "$work/mesh/dp.yaml" <<YAML
type: Dataplane
mesh: default
name: bulk-1
networking:
  address: 127.0.0.1
  inbound:
  - port: $ML_UP
    servicePort: $SINK
    tags:
      kuma.io/service: bulk-sink
      kuma.io/protocol: tcp
  - port: $ML_DOWN
    servicePort: $SOURCE
    tags:
      kuma.io/service: bulk-source
      kuma.io/protocol: tcp
---
type: MeshAccessLog
mesh: default
name: bulk
spec:
  targetRef:
    kind: Mesh
  rules:
  - default:
      backends:
      - type: File
        file:
          path: $work/meshlog.log
YAML
start_meshlog bulk-1 "$work/mesh" $ADMIN

# --- HAProxy ---
cat > "$work/haproxy.cfg" <<CONF
global
  log stdout format raw local0
  maxconn 4096
  nbthread 1
  ${HAPROXY_BUFSIZE:+tune.bufsize $HAPROXY_BUFSIZE}
defaults
  mode tcp
  log global
  option tcplog
  timeout connect 5s
  timeout client 60s
  timeout server 60s
listen up
  bind 127.0.0.1:$HA_UP
  server sink 127.0.0.1:$SINK
listen down
  bind 127.0.0.1:$HA_DOWN
  server source 127.0.0.1:$SOURCE
CONF
taskset -c "$PROXY_CPU" haproxy -db -f "$work/haproxy.cfg" > "$work/haproxy.log" 2> "$work/haproxy.err" &
pids+=($!)
HAPROXY_PID=$!

# Ready: meshlog's admin says LIVE (its listeners are bound before); the others accept. Only the
# upstreams and HAProxy are probed with a connection (a probe through meshlog would be logged).
wait_ready 127.0.0.1:$ADMIN
wait_tcp $SINK $SOURCE $HA_UP $HA_DOWN
sleep 0.5
: > "$work/sink.counts"  # forget the probes

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) on $(nproc) cores, $(date -u +%FT%TZ)"
echo
echo "| proxy (pinned to CPU $PROXY_CPU; $STREAMS stream(s), $GIB GiB per run, load on CPU $LOAD_CPU) | direction | MB/s | proxy CPU s/GiB |"
echo "|---|---|---|---|"
run() {  # label pid port direction
  local t0 t1 secs
  t0=$(proc_cpu_ticks "$2")
  secs=$(taskset -c "$LOAD_CPU" timeout 300 $PEER "$4" "$3" $BYTES_PER_STREAM "$STREAMS" 2> "$work/client.err") ||
    fail "$1 $4: client failed: $(cat "$work/client.err")"
  t1=$(proc_cpu_ticks "$2")
  awk -v l="$1" -v d="$4" -v b=$((BYTES_PER_STREAM * STREAMS)) -v s="$secs" -v t=$((t1 - t0)) -v hz="$CLK_TCK" \
    'BEGIN { printf "| %s | %s | %.0f | %.3f |\n", l, d, b / s / 1e6, t / hz / (b / 1073741824) }'
}
for _ in $(seq "$ROUNDS"); do
  run "meshlog, default TCP format, File backend" "$MESHLOG_PID" $ML_UP upload
  run "meshlog, default TCP format, File backend" "$MESHLOG_PID" $ML_DOWN download
  run "HAProxy 2.6, mode tcp, tcplog" "$HAPROXY_PID" $HA_UP upload
  run "HAProxy 2.6, mode tcp, tcplog" "$HAPROXY_PID" $HA_DOWN download
done

# --- checks: every byte arrived; one meshlog record per connection with the right byte counts ---
sleep 1.6  # File backend flushes every second
runs=$((ROUNDS * STREAMS))
[ "$(grep -cx "$BYTES_PER_STREAM" "$work/sink.counts")" = $((2 * runs)) ] ||
  fail "sink byte counts (want $((2 * runs)) x $BYTES_PER_STREAM): $(sort | uniq -c < "$work/sink.counts")"
# Default TCP format: "...->UPSTREAM_HOST(DESTINATION_SERVICE) took Nms, sent BYTES_SENT bytes,
# received: BYTES_RECEIVED bytes" (on an inbound the destination service is the dataplane's
# identifying service, as in Kuma, so the upstream port tells the two inbounds apart).
up=$(grep -c ":$SINK([^)]*) took [0-9]*ms, sent 0 bytes, received: $BYTES_PER_STREAM bytes$" "$work/meshlog.log" || true)
down=$(grep -c ":$SOURCE([^)]*) took [0-9]*ms, sent $BYTES_PER_STREAM bytes, received: 0 bytes$" "$work/meshlog.log" || true)
total=$(wc -l < "$work/meshlog.log")
[ "$up" = $runs ] && [ "$down" = $runs ] && [ "$total" = $((2 * runs)) ] ||
  fail "meshlog log: $up upload and $down download records with the right byte counts, $total records, want $runs + $runs: $(head -3 "$work/meshlog.log")"
echo
echo "meshlog log: $total records, one per connection, byte counts right ($(head -1 "$work/meshlog.log" | sed 's/^\[[^]]*\] //'))"
