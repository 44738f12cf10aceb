#!/usr/bin/env bash
# Network-backend throughput (records/s from the sink to a local receiver, nothing lost).
# Results and the machine they came from: docs/benchmarks.md, "Network backends".
#
#   bench/sinks/run.sh            # builds the release targets it needs, then runs everything
#   SKIP_BUILD=1 bench/sinks/run.sh
#   ONLY_SOCAT=1 SKIP_BUILD=1 bench/sinks/run.sh   # only the socat runs (2, 3)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/build/release/src/sink
cd "$ROOT"
if [ -z "${SKIP_BUILD:-}" ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release -j2 --target netsink_tcp_sink_benchmark netsink_otlp_sink_benchmark meshlog_netsink_driver
fi
echo "== $(date -u +%FT%TZ) $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== 1. In-process receivers (Google Benchmark)"
[ -n "${ONLY_SOCAT:-}" ] || "$B/netsink_tcp_sink_benchmark" --benchmark_min_time=2
[ -n "${ONLY_SOCAT:-}" ] || "$B/netsink_otlp_sink_benchmark" --benchmark_min_time=2

work=$(mktemp -d /tmp/meshlog-bench-sinks.XXXXXX)
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null || true' EXIT
socat_run() {  # $1 = title, rest = driver args
  echo "== $1"
  shift
  local port
  port=$(/usr/bin/python3 "$ROOT/tests/receivers/free_port.py")
  socat -u -b 1048576 TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr,rcvbuf=4194304 OPEN:"$work/out",creat,trunc &
  sleep 0.3
  "$B/meshlog_netsink_driver" tcp --address "127.0.0.1:$port" --count 2000000 --drain-ms 60000 "$@"
  wait
  echo "socat wrote $(wc -l < "$work/out") lines (expected 2000000)"
}
socat_run "2. TCP sink -> socat (separate process) -> file: 2M x 200 B, unpaced, queue big enough for the burst" \
  --rate 0 --queue-records 2000000 --queue-mb 1024
socat_run "3. Same, paced at 1,000,000 records/s with the default queue (100k records / 64 MiB)" \
  --rate 1000000
