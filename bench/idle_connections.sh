#!/usr/bin/env bash
# Memory of idle keep-alive connections (issue 5: 10,000 idle keep-alive connections cost at most
# 64 MiB more): one `meshlog run --workers 1` with an HTTP inbound (Kuma default format, File
# backend) to an NGINX origin; a Python client (bench/idle_conns_client.py) opens N connections,
# makes one request on each (so each had buffers and a request state), and keeps them open. The
# sidecar's RSS (VmRSS) is read after start + one request, and again once the connections have
# been idle for IDLE_SECONDS (long enough for the worker's sweep to park them). NGINX 1.22 as the
# same reverse proxy is measured the same way for reference.
#
#   bash bench/idle_connections.sh [N] [IDLE_SECONDS]     # defaults 10000 2
#
# Ports 22100-22199. Needs N + ~100 file descriptors per process (ulimit -n).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MESHLOG_BIN:-build/release/src/cli/meshlog}
N=${1:-10000}
IDLE_SECONDS=${2:-2}
ORIGIN=22101 MESHLOG_PORT=22110 NGINX_PORT=22120 ADMIN=22190
source bench/lib.sh
bench_init idle
[ "$(ulimit -n)" -gt $((N + 100)) ] || fail "ulimit -n is $(ulimit -n); need more than $((N + 100))"

start_origin $ORIGIN
mkdir -p "$work/mesh"
cat > "$work/mesh/dp.yaml" <<YAML
type: Dataplane
mesh: default
name: idle-1
networking:
  address: 127.0.0.1
  inbound:
  - port: $MESHLOG_PORT
    servicePort: $ORIGIN
    tags:
      kuma.io/service: idle
      kuma.io/protocol: http
---
type: MeshAccessLog
mesh: default
name: idle
spec:
  targetRef:
    kind: Mesh
  from:
  - targetRef:
      kind: Mesh
    default:
      backends:
      - type: File
        file:
          path: $work/meshlog.log
YAML
start_meshlog idle-1 "$work/mesh" $ADMIN

mkdir -p "$work/nginx"
cat > "$work/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $work/nginx.pid; error_log $work/nginx.err;
worker_rlimit_nofile $((N * 2 + 200));
events { worker_connections $((N * 2 + 100)); }
http {
  access_log $work/nginx.log combined buffer=64k flush=1s;
  keepalive_timeout 3600s; keepalive_requests 1000000;
  upstream origin { server 127.0.0.1:$ORIGIN; keepalive 64; }
  server { listen 127.0.0.1:$NGINX_PORT;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
nginx -c "$work/nginx.conf" -p "$work/nginx" &
pids+=($!)
NGINX_PID=$!
wait_http $ORIGIN $MESHLOG_PORT $NGINX_PORT

rss_kib() {  # pid: VmRSS of the process and its children (NGINX's worker), KiB
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

measure() {  # label port pid
  local before after fifo
  sleep 1
  before=$(rss_kib "$3")
  fifo="$work/hold.$2"
  mkfifo "$fifo"
  /usr/bin/python3 bench/idle_conns_client.py "$2" "$N" < "$fifo" > "$work/client.$2.out" 2>&1 &
  local client=$!
  exec 7>"$fifo"  # holds the client's stdin open
  for _ in $(seq 600); do grep -q "^ready" "$work/client.$2.out" 2>/dev/null && break; sleep 0.1; done
  grep -q "^ready $N" "$work/client.$2.out" || { exec 7>&-; fail "client on port $2: $(tail -3 "$work/client.$2.out")"; }
  sleep "$IDLE_SECONDS"
  after=$(rss_kib "$3")
  exec 7>&-  # the client closes its connections and exits
  wait "$client" || true
  awk -v l="$1" -v b="$before" -v a="$after" -v n="$N" \
    'BEGIN { printf "| %s | %.1f MiB | %.1f MiB | %.1f MiB | %.2f KiB |\n", l, b / 1024, a / 1024, (a - b) / 1024, (a - b) / n }'
}

echo "| proxy ($N keep-alive connections, one request each, then idle ${IDLE_SECONDS} s) | RSS before | RSS with the idle connections | difference | per connection |"
echo "|---|---|---|---|---|"
measure "meshlog run --workers 1, default format, File backend" $MESHLOG_PORT $MESHLOG_PID
measure "NGINX 1.22, worker_processes 1, access_log buffer=64k" $NGINX_PORT $NGINX_PID
sleep 1.5
echo
echo "meshlog records written: $(wc -l < "$work/meshlog.log") (expected at least $((N + 1)))"
[ "$(wc -l < "$work/meshlog.log")" -ge $((N + 1)) ] || fail "meshlog lost records"
