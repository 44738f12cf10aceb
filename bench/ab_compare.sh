#!/usr/bin/env bash
# A/B comparison of two meshlog binaries on the same HTTP load, for judging a change to the data path
# on a machine whose speed drifts between runs (this 2-core VM: up to 50 %):
#
#   bash bench/ab_compare.sh OLD_BINARY NEW_BINARY [SECONDS] [ROUNDS]      # defaults 4 8
#
# Both binaries run at once, pinned to PROXY_CPU, each as a sidecar with one logged inbound (Kuma default
# format, File backend) in front of the same NGINX origin; wrk (-c50, on LOAD_CPU) loads them in turn,
# A then B, ROUNDS times. For every run it reports CPU µs per request (utime + stime of the process), and
# at the end the median over rounds of B/A from adjacent runs — drift between rounds cancels out.
# A ratio below 1 means the new binary needs less CPU per request. Ports 22200-22299.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 OLD_BINARY NEW_BINARY [SECONDS] [ROUNDS]" >&2; exit 2; }
BIN_A=$1 BIN_B=$2
SECONDS_PER_RUN=${3:-4}
ROUNDS=${4:-8}
ORIGIN=22201
source bench/lib.sh
bench_init ab
start_origin $ORIGIN

start_logged_sidecar a "$BIN_A" 22210 22290 $ORIGIN
PID_A=$MESHLOG_PID
start_logged_sidecar b "$BIN_B" 22211 22291 $ORIGIN
PID_B=$MESHLOG_PID
wait_http $ORIGIN 22210 22211
run_wrk 22210 1 50 >/dev/null || fail "warm-up of A failed"
run_wrk 22211 1 50 >/dev/null || fail "warm-up of B failed"

measure() {  # pid port: prints "rps cpu_us_per_request"
  run_wrk_cpu "$2" "$SECONDS_PER_RUN" 50 "$1" || fail "wrk against port $2 failed"
  printf '%s %.2f\n' "$WRK_RPS" "$WRK_CPU_US"
}

printf '| round | A req/s | A CPU µs/req | B req/s | B CPU µs/req | B/A |\n|---|---|---|---|---|---|\n'
ratios=()
for r in $(seq "$ROUNDS"); do
  read -r rps_a cpu_a < <(measure "$PID_A" 22210)
  read -r rps_b cpu_b < <(measure "$PID_B" 22211)
  ratio=$(awk -v a="$cpu_a" -v b="$cpu_b" 'BEGIN { printf "%.3f", b / a }')
  ratios+=("$ratio")
  printf '| %d | %s | %s | %s | %s | %s |\n' "$r" "$rps_a" "$cpu_a" "$rps_b" "$cpu_b" "$ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | median)
echo
echo "median B/A CPU per request: $median  (A = $BIN_A, B = $BIN_B)"
