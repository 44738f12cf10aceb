#!/usr/bin/env bash
# Proxy throughput with an OpenTelemetry backend vs the same run with a File backend (issue 6:
# target OTLP >= 90% of File). One `meshlog run` (--workers 1, pinned to PROXY_CPU) with two
# inbounds to the same NGINX origin (100-byte body): the first logged to a File backend, the
# second to an OpenTelemetry backend (OTLP/gRPC), both with the default format (the OTel body
# default = the default format string). The same wrk load (pinned to LOAD_CPU) alternates
# between them ROUNDS times; the OTLP receiver (tests/receivers/otlp_dump_receiver.py
# --count-only, Debian's python3-grpcio) also runs on LOAD_CPU, so it competes with wrk only in
# the OTLP runs (a bias against OTLP). At the end every record is checked: the receiver got at
# least as many records as wrk completed requests on the OTLP inbound, and /metrics shows no drop.
#
#   bash bench/otlp_vs_file.sh [SECONDS] [CONNECTIONS] [ROUNDS]     # defaults 5 50 2
#
# Ports 30500-30599 (loopback). Prints a Markdown table and the ratio of the best runs.
# FILE_DIR=/dev/shm puts the File backend's file on tmpfs (default: a directory under /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MESHLOG_BIN:-build/release/src/cli/meshlog}
SECONDS_PER_RUN=${1:-5}
CONNS=${2:-50}
ROUNDS=${3:-2}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
ORIGIN=30501 FILE_PORT=30510 OTLP_PORT=30511 NONE_PORT=30512 ADMIN=30590 OTLP_RX=30520
[ "$SECONDS_PER_RUN" -le 10 ] || { echo "bench: keep runs at 10 s or less" >&2; exit 2; }
source bench/lib.sh
bench_init otlp
filedir=$(mktemp -d "${FILE_DIR:-$work}/meshlog-bench-file.XXXXXX")
bench_on_exit 'rm -rf "$filedir"'

start_origin $ORIGIN

taskset -c "$LOAD_CPU" /usr/bin/python3 tests/receivers/otlp_dump_receiver.py --count-only --port "$OTLP_RX" \
  --out "$work/otlp.counts" --gen-dir "$work/gen" > "$work/otlp.out" 2>&1 &
pids+=($!)

mkdir -p "$work/mesh"
cat > "$work/mesh/dp.yaml" <<YAML
type: Dataplane
mesh: default
name: bench-1
networking:
  address: 127.0.0.1
  inbound:
  - port: $FILE_PORT
    name: to-file
    servicePort: $ORIGIN
    tags:
      kuma.io/service: bench-file
      kuma.io/protocol: http
  - port: $OTLP_PORT
    name: to-otlp
    servicePort: $ORIGIN
    tags:
      kuma.io/service: bench-otlp
      kuma.io/protocol: http
  - port: $NONE_PORT
    name: no-log
    servicePort: $ORIGIN
    tags:
      kuma.io/service: bench-none
      kuma.io/protocol: http
---
type: MeshAccessLog
mesh: default
name: file
spec:
  targetRef:
    kind: Dataplane
    sectionName: to-file
  rules:
  - default:
      backends:
      - type: File
        file:
          path: $filedir/file.log
---
type: MeshAccessLog
mesh: default
name: otlp
spec:
  targetRef:
    kind: Dataplane
    sectionName: to-otlp
  rules:
  - default:
      backends:
      - type: OpenTelemetry
        openTelemetry:
          endpoint: 127.0.0.1:$OTLP_RX
YAML
start_meshlog bench-1 "$work/mesh" $ADMIN

wait_tcp $OTLP_RX
wait_http $ORIGIN $FILE_PORT $OTLP_PORT $NONE_PORT

declare -A best=([file]=0 [otlp]=0 [none]=0) cpu_best=([file]=999999 [otlp]=999999 [none]=999999)
otlp_requests=1  # the readiness probe above
file_requests=1
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) on $(nproc) cores, $(date -u +%FT%TZ)"
echo
echo "| run (meshlog pinned to CPU $PROXY_CPU; wrk -t1 -c$CONNS -d${SECONDS_PER_RUN}s on CPU $LOAD_CPU) | requests/s | p99 latency | meshlog CPU µs/request | meshlog CPU use |"
echo "|---|---|---|---|---|"
for round in $(seq "$ROUNDS"); do
  for kind in file otlp none; do
    port=$FILE_PORT
    [ $kind = otlp ] && port=$OTLP_PORT
    [ $kind = none ] && port=$NONE_PORT
    run_wrk_cpu $port "$SECONDS_PER_RUN" "$CONNS" $MESHLOG_PID || fail "wrk failed: $WRK_OUT"
    rps=$WRK_RPS p99=$WRK_P99 n=$WRK_COMPLETED
    grep -q "Non-2xx\|Socket errors" <<<"$WRK_OUT" && fail "wrk saw errors: $WRK_OUT"
    [ $kind = otlp ] && otlp_requests=$((otlp_requests + n))
    [ $kind = file ] && file_requests=$((file_requests + n))
    us=$(printf '%.1f' "$WRK_CPU_US")
    use=$(awk -v u="$WRK_CPU_US" -v n="$n" -v s="$SECONDS_PER_RUN" 'BEGIN { printf "%.0f%%", 100 * u * n / (s * 1e6) }')
    label="$kind backend"
    [ $kind = none ] && label="no access log (reference)"
    printf '| round %s, %s | %s | %s | %s | %s |\n' "$round" "$label" "$rps" "$p99" "$us" "$use"
    best[$kind]=$(awk -v a="${best[$kind]}" -v b="$rps" 'BEGIN { print (b > a) ? b : a }')
    cpu_best[$kind]=$(awk -v a="${cpu_best[$kind]}" -v b="$us" 'BEGIN { print (b < a) ? b : a }')
  done
done
echo
awk -v f="${best[file]}" -v o="${best[otlp]}" \
  'BEGIN { printf "requests/s: best OTLP / best File = %.0f / %.0f = %.1f%% (target >= 90%%)\n", o, f, 100 * o / f }'
awk -v f="${cpu_best[file]}" -v o="${cpu_best[otlp]}" -v z="${cpu_best[none]}" \
  'BEGIN { printf "CPU per request (lowest): File %.1f us, OTLP %.1f us, no log %.1f us -> capacity OTLP / File = %.1f%%\n", f, o, z, 100 * f / o }'

# Nothing lost: wrk counts completed responses; in-flight ones at the end of a run are also logged.
sleep 2.5  # OTLP batches flush after 1 s; File after 1 s
received=$(awk '{ s += $1 } END { print s + 0 }' "$work/otlp.counts")
written=$(wc -l < "$filedir/file.log")
metrics=$(curl -s http://127.0.0.1:$ADMIN/metrics)
drops=$(grep -E '^meshlog_access_log_(dropped|records_rejected)' <<<"$metrics" | awk '{ s += $2 } END { print s + 0 }')
echo "records: OTLP receiver $received (wrk completed $otlp_requests on that inbound), File $written (wrk $file_requests); drops/rejects in /metrics: $drops"
[ "$received" -ge "$otlp_requests" ] || fail "OTLP receiver got $received records for $otlp_requests requests"
[ "$written" -ge "$file_requests" ] || fail "File backend wrote $written records for $file_requests requests"
[ "$drops" = 0 ] || fail "records dropped: $(grep -E '^meshlog_access_log_(dropped|records_rejected)' <<<"$metrics")"
