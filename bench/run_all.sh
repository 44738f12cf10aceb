#!/usr/bin/env bash
# Every benchmark of the project, one after the other, on the release build (`make bench` builds it
# first). Results and how to read them: docs/benchmarks.md. Each part prints a "== " header; a
# failing part is reported and the rest still run; the exit status is 1 if any part failed.
#
#   bash bench/run_all.sh                 # everything (~3 minutes on 2 cores)
#   BENCH_ONLY=otlp_vs_file bash bench/run_all.sh   # one part (names: see PARTS below)
#
# Loaded machines give lower, noisier numbers: the load average is printed before each part.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
R=build/release/src
export MESHLOG_BIN=${MESHLOG_BIN:-$ROOT/$R/cli/meshlog}
[ -x "$MESHLOG_BIN" ] || { echo "run_all: no release build at $MESHLOG_BIN (run: make release)" >&2; exit 2; }

gbench() {  # a Google Benchmark binary, short repetitions
  local bin=$1
  shift
  [ -x "$bin" ] || { echo "missing $bin (build the release preset)"; return 1; }
  "$bin" --benchmark_min_time=0.3 "$@"
}

PARTS=(format rules http_parser proxy sinks proxy_side_by_side floor otlp_vs_file tcp_bulk idle_connections)
run_part() {
  case $1 in
    format) gbench $R/format/format_benchmark ;;
    rules) gbench $R/rules/rules_engine_benchmark ;;
    http_parser) gbench $R/proxy/proxy_http_parser_benchmark ;;
    proxy) gbench $R/proxy/proxy_benchmark ;;
    sinks) SKIP_BUILD=1 bash bench/sinks/run.sh ;;
    proxy_side_by_side) bash bench/proxy_side_by_side.sh 5 ;;
    floor) bash bench/floor.sh 3 3 ;;
    otlp_vs_file) bash bench/otlp_vs_file.sh 5 50 2 ;;
    tcp_bulk) bash bench/tcp_bulk.sh 2 2 1 ;;
    idle_connections) bash bench/idle_connections.sh 10000 2 ;;
    *) echo "unknown part $1 (known: ${PARTS[*]})"; return 2 ;;
  esac
}

failed=()
for part in ${BENCH_ONLY:-${PARTS[@]}}; do
  echo "== $part ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
  if ! run_part "$part"; then
    echo "== $part FAILED"
    failed+=("$part")
  fi
  echo
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "run_all: failed: ${failed[*]}" >&2
  exit 1
fi
echo "run_all: all ${BENCH_ONLY:-${#PARTS[@]} parts} done"
