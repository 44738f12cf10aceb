# Shared start-up code of the benchmark scripts (source it; it defines functions and nothing runs):
#
#   source "$(dirname "$0")/lib.sh"
#   bench_init otlp                       # $work (mktemp -d /tmp/meshlog-bench-otlp.XXXXXX), pids=(),
#                                         # EXIT trap: TERM every pid in pids, wait, rm -rf $work
#   bench_on_exit 'rm -rf "$filedir"'     # more to do at exit (after the processes are gone)
#   start_origin 22001                    # NGINX on LOAD_CPU answering 200 with a 100-byte body
#   wait_http 22001 22010                 # each port answers an HTTP GET within 10 s, else fail
#   wait_tcp 25201                        # each port accepts a TCP connection within 10 s, else fail
#   wait_ready 127.0.0.1:22090            # meshlog's admin /ready says LIVE within 10 s, else fail
#   start_meshlog bench-1 "$work/mesh" 22090 [BINARY]   # `meshlog run --workers 1` of dataplane
#                                         # bench-1 on PROXY_CPU, admin on 127.0.0.1:22090, output in
#                                         # $work/bench-1.out; sets MESHLOG_PID (BINARY: default $BIN)
#   start_nginx_proxy 22020 22001         # NGINX on PROXY_CPU as the reverse proxy of the side-by-side
#                                         # runs (keep-alive upstream pool, Kuma-like log_format,
#                                         # access_log buffer=64k flush=1s); sets NGINX_PID
#   start_logged_sidecar a BINARY 22210 22290 22001   # meshlog sidecar "a": one inbound on 22210 to
#                                         # the origin, logged in Kuma's default format to
#                                         # $work/a.log (File backend); admin 22290; sets MESHLOG_PID
#   run_wrk 22010 5 50                    # wrk -t1 -cCONNS -dSECONDS --latency on LOAD_CPU; sets
#                                         # WRK_OUT, WRK_RPS, WRK_P99, WRK_COMPLETED (returns wrk's status)
#   run_wrk_cpu 22010 5 50 $pid           # run_wrk while reading the CPU time of pid's process tree;
#                                         # also sets WRK_CPU_US (CPU µs per completed request)
#   printf '%s\n' 1 3 2 | median         # the median of numbers on stdin, one per line (here 2)
#   t0=$(proc_cpu_ticks $pid)             # CPU ticks (1/CLK_TCK s) of a process, its threads and all
#                                         # its descendants (an NGINX master's workers), incl. reaped ones
#   fail "message"                        # prints it and the tails of $work/*.out, *.err and
#                                         # BENCH_FAIL_FILES, exits 1
#
# PROXY_CPU / LOAD_CPU (defaults 0 and 1) are set here if the caller has not set them.

PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
CLK_TCK=$(getconf CLK_TCK)
BENCH_FAIL_FILES=()
_bench_exit_hooks=()

bench_init() {  # name
  work=$(mktemp -d "/tmp/meshlog-bench-$1.XXXXXX")
  pids=()
  trap _bench_cleanup EXIT
}

bench_on_exit() {  # shell command, run at exit after the processes are stopped
  _bench_exit_hooks+=("$1")
}

_bench_cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for p in "${_bench_exit_hooks[@]}"; do eval "$p" || true; done
  rm -rf "$work"
}

fail() {
  echo "bench: $*" >&2
  local f
  for f in "$work"/*.out "$work"/*.err "${BENCH_FAIL_FILES[@]}"; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }
  done
  exit 1
}

start_origin() {  # port: NGINX on LOAD_CPU, 200 with a 100-byte body ("x" * 99 + "\n"), no access log
  mkdir -p "$work/origin"
  cat > "$work/origin.conf" <<CONF
daemon off; worker_processes 1; pid $work/origin.pid; error_log $work/origin.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$1 reuseport; location / { return 200 "$(printf 'x%.0s' $(seq 99))\n"; } } }
CONF
  taskset -c "$LOAD_CPU" nginx -c "$work/origin.conf" -p "$work/origin" &
  pids+=($!)
}

wait_http() {  # port...
  local port
  for port in "$@"; do
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
    curl -s -o /dev/null "http://127.0.0.1:$port/" || fail "nothing answers on port $port"
  done
}

wait_tcp() {  # port...
  local port
  for port in "$@"; do
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || fail "nothing listens on port $port"
  done
}

wait_ready() {  # admin host:port of a meshlog run
  for _ in $(seq 100); do [ "$(curl -s "http://$1/ready" || true)" = LIVE ] && return 0; sleep 0.1; done
  fail "meshlog (admin $1) not ready"
}

start_meshlog() {  # name resources-dir admin-port [binary]: sets MESHLOG_PID
  taskset -c "$PROXY_CPU" "${4:-$BIN}" run --name "$1" --resources "$2" --admin "127.0.0.1:$3" --workers 1 \
    > "$work/$1.out" 2>&1 &
  pids+=($!)
  MESHLOG_PID=$!
}

start_nginx_proxy() {  # port origin-port: sets NGINX_PID
  mkdir -p "$work/nginx"
  cat > "$work/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $work/nginx.pid; error_log $work/nginx.err;
events { worker_connections 4096; }
http {
  log_format kuma '[\$time_iso8601] default "\$request_method \$request_uri \$server_protocol" \$status - '
                  '\$request_length \$body_bytes_sent \$request_time \$upstream_response_time "\$http_x_forwarded_for" '
                  '"\$http_user_agent" "\$http_x_request_id" "\$host" "unknown" "bench" "127.0.0.1" "\$upstream_addr"';
  access_log $work/nginx.log kuma buffer=64k flush=1s;
  upstream origin { server 127.0.0.1:$2; keepalive 64; }
  server { listen 127.0.0.1:$1;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
  taskset -c "$PROXY_CPU" nginx -c "$work/nginx.conf" -p "$work/nginx" &
  pids+=($!)
  NGINX_PID=$!
}

start_logged_sidecar() {  # name binary port admin-port origin-port: sets MESHLOG_PID
  mkdir -p "$work/$1"
  cat > "$work/$1/dp.yaml" <<YAML
type: Dataplane
mesh: default
name: $1
networking:
  address: 127.0.0.1
  inbound:
  - port: $3
    servicePort: $5
    tags:
      kuma.io/service: $1
      kuma.io/protocol: http
---
type: MeshAccessLog
mesh: default
name: $1
spec:
  targetRef:
    kind: Dataplane
  rules:
  - default:
      backends:
      - type: File
        file:
          path: $work/$1.log
YAML
  start_meshlog "$1" "$work/$1" "$4" "$2"
}

median() {  # numbers on stdin, one per line: prints their median (the mean of the middle two if even)
  sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

run_wrk_cpu() {  # port seconds connections pid: run_wrk, and WRK_CPU_US = pid tree's CPU µs per request
  local t0 t1 rc=0
  t0=$(proc_cpu_ticks "$4")
  run_wrk "$1" "$2" "$3" || rc=$?
  t1=$(proc_cpu_ticks "$4")
  WRK_CPU_US=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$WRK_COMPLETED" 'BEGIN { printf "%.4f", t / hz * 1e6 / n }')
  return $rc
}

run_wrk() {  # port seconds connections [path]: sets WRK_OUT WRK_RPS WRK_P99 WRK_COMPLETED
  local rc=0
  WRK_OUT=$(taskset -c "$LOAD_CPU" timeout $(($2 + 10)) wrk -t1 -c"$3" -d"$2s" --latency "http://127.0.0.1:$1${4:-/}" 2>&1) ||
    rc=$?
  WRK_RPS=$(awk '/Requests\/sec/ { print $2 }' <<<"$WRK_OUT")
  WRK_P99=$(awk '$1 == "99%" { print $2 }' <<<"$WRK_OUT")
  WRK_COMPLETED=$(awk '/requests in/ { print $1 }' <<<"$WRK_OUT")
  return $rc
}

proc_cpu_ticks() {  # pid: utime + stime (+ reaped children's) of the process tree rooted at pid
  local p
  for p in $(ps -e -o pid=,ppid= | awk -v root="$1" '
      { parent[$1] = $2 }
      END {
        tree[root] = 1
        do { changed = 0; for (p in parent) if (!(p in tree) && (parent[p] in tree)) { tree[p] = 1; changed = 1 } } while (changed)
        for (p in tree) print p
      }'); do
    # After "(comm) " the fields start at field 3 (state): utime stime cutime cstime are 14-17.
    awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$p/stat" 2>/dev/null || true
  done | awk '{ s += $1 } END { print s + 0 }'
}
