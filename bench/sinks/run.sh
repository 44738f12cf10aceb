#!/usr/bin/env bash
# Network-backend throughput (records/s from the sink to a local receiver, nothing lost).
# Results and the machine they came from: docs/benchmarks.md, "Network backends".
#
#   bench/sinks/run.sh            # builds the release targets it needs, then runs everything
#   SKIP_BUILD=1 bench/sinks/run.sh
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
"$B/netsink_tcp_sink_benchmark" --benchmark_min_time=2
"$B/netsink_otlp_sink_benchmark" --benchmark_min_time=2

echo "== 2. TCP sink -> socat (separate process) -> file, 2M records of 200 bytes, unpaced"
work=$(mktemp -d /tmp/meshlog-bench-sinks.XXXXXX)
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null || true' EXIT
port=$(/usr/bin/python3 "$ROOT/tests/receivers/free_port.py")
socat -u TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr OPEN:"$work/out",creat,trunc &
sleep 0.3
"$B/meshlog_netsink_driver" tcp --address "127.0.0.1:$port" --count 2000000 --rate 0 \
  --queue-records 2000000 --drain-ms 60000 | tee "$work/stats.json"
wait
lines=$(wc -l < "$work/out")
echo "socat wrote $lines lines (expected 2000000)"
[ "$lines" -eq 2000000 ]
