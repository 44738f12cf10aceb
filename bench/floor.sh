#!/usr/bin/env bash
# How much of a proxy's CPU per request is the kernel's on this machine, and what capacity is left to
# win: runs NGINX (the side-by-side reverse proxy), meshlog (Kuma default format, File backend) and
# bench/floor/floor_proxy — a proxy that does no HTTP work at all, only the four system calls per
# request every proxy makes, with epoll, with io_uring and with Boost.Asio coroutines (the event
# library meshlog uses) — under the same wrk load, each
# pinned to PROXY_CPU, in alternating rounds. Prints CPU µs per request per run and, at the end, the
# median over rounds of each one's capacity relative to NGINX (NGINX's CPU per request / its own).
#
#   bash bench/floor.sh [SECONDS] [ROUNDS]        # defaults 4 5; needs liburing-dev, the release build
#
# floor_proxy epoll's capacity is the most any readiness-based proxy can reach here, io_uring's the
# most a completion-based one can; floor_proxy Asio shows what the event library alone costs, and
# what separates meshlog from it is meshlog's own work per request (HTTP, logging). Ports 22500-22599.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-4}
ROUNDS=${2:-5}
BIN=${MESHLOG_BIN:-build/release/src/cli/meshlog}
FLOOR=build/release/bench/floor_proxy
ORIGIN=22501 NGINX_PORT=22520 MESHLOG_PORT=22510 EPOLL_PORT=22530 URING_PORT=22540 ASIO_PORT=22550
source bench/lib.sh

mkdir -p "$(dirname "$FLOOR")"
if [ ! "$FLOOR" -nt bench/floor/floor_proxy.cc ]; then  # built once, again only when the source changed
  g++ -O2 -std=c++20 -Wall -Wextra -o "$FLOOR" bench/floor/floor_proxy.cc -luring -pthread ||
    { echo "floor.sh: cannot build floor_proxy (apt-get install liburing-dev)" >&2; exit 2; }
fi

bench_init floor
start_origin $ORIGIN
start_nginx_proxy $NGINX_PORT $ORIGIN
start_logged_sidecar floor-meshlog "$BIN" $MESHLOG_PORT 22590 $ORIGIN
taskset -c "$PROXY_CPU" "$FLOOR" epoll $EPOLL_PORT $ORIGIN 2> "$work/epoll.err" &
pids+=($!)
EPOLL_PID=$!
taskset -c "$PROXY_CPU" "$FLOOR" uring $URING_PORT $ORIGIN 2> "$work/uring.err" &
pids+=($!)
URING_PID=$!
taskset -c "$PROXY_CPU" "$FLOOR" asio $ASIO_PORT $ORIGIN 2> "$work/asio.err" &
pids+=($!)
ASIO_PID=$!
PROXIES=("nginx:NGINX 1.22:$NGINX_PORT:$NGINX_PID" "meshlog:meshlog:$MESHLOG_PORT:$MESHLOG_PID"
  "epoll:floor_proxy epoll:$EPOLL_PORT:$EPOLL_PID" "asio:floor_proxy Asio:$ASIO_PORT:$ASIO_PID")
sleep 0.5
have_uring=false
if kill -0 $URING_PID 2>/dev/null; then
  have_uring=true
  PROXIES+=("uring:floor_proxy io_uring:$URING_PORT:$URING_PID")
  wait_http $URING_PORT
else  # e.g. a container whose seccomp profile refuses io_uring_setup
  echo "floor.sh: no io_uring here ($(tr '\n' ' ' < "$work/uring.err")); that variant is left out"
fi
wait_http $ORIGIN $NGINX_PORT $MESHLOG_PORT $EPOLL_PORT $ASIO_PORT
for spec in "${PROXIES[@]}"; do
  IFS=: read -r _ _ port _ <<<"$spec"
  run_wrk "$port" 1 50 >/dev/null || fail "warm-up of port $port failed"
done

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) on $(nproc) cores, $(date -u +%FT%TZ)"
echo
echo "| round | proxy (CPU $PROXY_CPU; wrk -t1 -c50 -d${SECONDS_PER_RUN}s on CPU $LOAD_CPU) | requests/s | CPU µs/request |"
echo "|---|---|---|---|"
declare -A us
for round in $(seq "$ROUNDS"); do
  for spec in "${PROXIES[@]}"; do
    IFS=: read -r key label port pid <<<"$spec"
    run_wrk_cpu "$port" "$SECONDS_PER_RUN" 50 "$pid" || fail "wrk through $label failed"
    grep -q "Non-2xx\|Socket errors" <<<"$WRK_OUT" && fail "wrk saw errors through $label: $WRK_OUT"
    us[$key,$round]=$WRK_CPU_US
    printf '| %d | %s | %s | %.1f |\n' "$round" "$label" "$WRK_RPS" "$WRK_CPU_US"
  done
done

median_capacity() {  # key: median over rounds of NGINX's CPU per request / key's
  local r
  for r in $(seq "$ROUNDS"); do awk -v n="${us[nginx,$r]}" -v x="${us[$1,$r]}" 'BEGIN { printf "%.3f\n", n / x }'; done |
    median
}
echo
summary="median capacity relative to NGINX: meshlog $(median_capacity meshlog), floor_proxy epoll $(median_capacity epoll)"
$have_uring && summary+=", floor_proxy io_uring $(median_capacity uring)"
echo "$summary, floor_proxy Asio $(median_capacity asio)"
