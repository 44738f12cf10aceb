# Shared start-up of the shell integration tests (not a test itself: ctest registers test_* only).
# Source it right after the header comment:
#
#   . "$(dirname "$0")/lib.sh"
#
# It sets `set -euo pipefail`; BIN (MESHLOG_BIN, else the release build's meshlog), SRC
# (MESHLOG_SOURCE_DIR, else the repository root) and PY (/usr/bin/python3); creates the scratch
# directory $work and the array pids=(); and traps EXIT to send every pid the signal
# LIB_KILL_SIGNAL, then remove $work. Knobs, set before sourcing:
#   LIB_WORK_TEMPLATE  mktemp template for $work (default: mktemp's own)
#   LIB_KILL_SIGNAL    TERM (default: then waits for all children) or KILL (no wait)
#   LIB_FAIL_LOGS      globs under $work that fail() prints (default: *.out)
#   LIB_FAIL_TAIL      how much of each fail() prints, as `tail -n` takes it (default +1: all)
# DEBUG_KEEP=1 in the environment keeps $work and the processes after the test.
# shellcheck disable=SC2034  # BIN, SRC and PY are for the sourcing test
set -euo pipefail
BIN=${MESHLOG_BIN:-build/release/src/cli/meshlog}
SRC=${MESHLOG_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PY=/usr/bin/python3
if [ -n "${LIB_WORK_TEMPLATE:-}" ]; then
  work=$(mktemp -d "$LIB_WORK_TEMPLATE")
else
  work=$(mktemp -d)
fi
pids=()

cleanup() {
  local p
  for p in "${pids[@]}"; do kill "-${LIB_KILL_SIGNAL:-TERM}" "$p" 2>/dev/null || true; done
  if [ "${LIB_KILL_SIGNAL:-TERM}" = TERM ]; then wait 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
[ -n "${DEBUG_KEEP:-}" ] && trap - EXIT

# fail MESSAGE...: prints "FAIL: MESSAGE" and the LIB_FAIL_LOGS files to stderr, exits 1.
fail() {
  echo "FAIL: $*" >&2
  local g f globs
  read -r -a globs <<<"${LIB_FAIL_LOGS:-*.out}"  # split on spaces; no globbing against the cwd
  for g in "${globs[@]}"; do
    for f in "$work"/$g; do
      [ -f "$f" ] && { echo "--- $f" >&2; tail -n "${LIB_FAIL_TAIL:-+1}" "$f" >&2; }
    done
  done
  exit 1
}

# wait_ready ADMIN_PORT: waits up to 10 s until the admin /ready of a `meshlog run` says LIVE;
# fails the test otherwise.
wait_ready() {
  local _
  for _ in $(seq 100); do
    [ "$(curl -s "http://127.0.0.1:$1/ready" || true)" = "LIVE" ] && return 0
    sleep 0.1
  done
  fail "sidecar with admin port $1 not ready"
}
