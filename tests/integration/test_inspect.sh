#!/usr/bin/env bash
# Golden tests of `meshlog inspect` (issue 4's contract): for each scenario in src/rules/testdata,
# run inspect on its resources and compare stdout (and the exit code, and stderr where it matters)
# with the golden file. UPDATE_GOLDENS=1 rewrites the goldens instead (review the diff!).
set -uo pipefail
ROOT=${MESHLOG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${MESHLOG_BIN:-$ROOT/build/release/src/cli/meshlog}
DATA=$ROOT/src/rules/testdata
failures=0
checks=0

# check NAME GOLDEN WANT_RC CMD... : runs CMD, compares stdout with GOLDEN and the exit code.
check() {
  local name=$1 golden=$2 want_rc=$3
  shift 3
  local out rc
  out=$("$@" 2>/tmp/inspect_stderr.$$)
  rc=$?
  # JSON goldens are stored pretty-printed (jq, key order kept) so that diffs are reviewable; the
  # output must be exactly one line of valid JSON.
  if [[ $golden == *.json && $rc == 0 ]]; then
    if [[ $(printf '%s\n' "$out" | wc -l) != 1 ]] || ! out=$(printf '%s\n' "$out" | jq .); then
      echo "FAIL $name: output is not one line of JSON"; failures=$((failures + 1)); return
    fi
  fi
  checks=$((checks + 1))
  if [[ -n ${UPDATE_GOLDENS:-} && -n $golden ]]; then
    printf '%s\n' "$out" >"$golden"
  fi
  if [[ $rc != "$want_rc" ]]; then
    echo "FAIL $name: exit code $rc, want $want_rc"; cat /tmp/inspect_stderr.$$
    failures=$((failures + 1))
    return
  fi
  if [[ -n $golden ]] && ! diff -u "$golden" <(printf '%s\n' "$out") >/tmp/inspect_diff.$$; then
    echo "FAIL $name: output differs from $golden"; cat /tmp/inspect_diff.$$
    failures=$((failures + 1))
    return
  fi
  echo "ok   $name"
}

# check_stderr NAME GOLDEN : compares the stderr of the last check with GOLDEN.
check_stderr() {
  local name=$1 golden=$2
  checks=$((checks + 1))
  [[ -n ${UPDATE_GOLDENS:-} ]] && cp /tmp/inspect_stderr.$$ "$golden"
  if ! diff -u "$golden" /tmp/inspect_stderr.$$; then
    echo "FAIL $name: stderr differs from $golden"; failures=$((failures + 1)); return
  fi
  echo "ok   $name"
}

inspect() { "$BIN" inspect "$@"; }

cd "$ROOT" || exit 1

# The seed's Universal examples: frontend-to-backend (both variants), multiple-backends (faithful
# seed body), all-incoming-traffic, all-outgoing-traffic.
S=src/rules/testdata/seed-universal
for dp in frontend-canary-1 frontend-stable-1 backend-1; do
  check "seed-universal/$dp" "$S/$dp.json" 0 inspect --resources $S/resources --dataplane $dp --output json
done
check "seed-universal/frontend-canary-1 (text)" "$S/frontend-canary-1.txt" 0 \
  inspect --resources $S/resources --dataplane frontend-canary-1 --output text

# The seed's Kubernetes examples (several PATHs, legacy and real MeshService outbounds).
K=src/rules/testdata/seed-kubernetes/resources
check "seed-kubernetes/frontend-canary-7d9c" "src/rules/testdata/seed-kubernetes/frontend-canary-7d9c.json" 0 \
  inspect --resources $K/world.yaml $K/frontend-to-backend.yaml $K/frontend-to-backend-section.yaml \
  $K/all-incoming-traffic.yaml $K/all-outgoing-traffic.yaml $K/multiple-backends-corrected.yaml \
  --dataplane frontend-canary-7d9c --mesh default --output json

# Builtin and delegated gateways.
G=src/rules/testdata/gateway
for dp in edge-gateway-1 kong-1; do
  check "gateway/$dp" "$G/$dp.json" 0 inspect --resources $G/resources/gateway.yaml --dataplane $dp --output json
done

# OpenTelemetry bodies, backendRef (oldest wins, dangling skipped with a warning), formats.
check "otel/web-1" "src/rules/testdata/otel/web-1.json" 0 \
  inspect --resources src/rules/testdata/otel/resources --dataplane web-1 --output json
check_stderr "otel/web-1 warning" src/rules/testdata/otel/web-1.stderr
check "formats/web-1" "src/rules/testdata/formats/web-1.json" 0 \
  inspect --resources src/rules/testdata/formats/resources --dataplane web-1 --output json

# Shadow policies: ignored by default, applied and marked with --shadow.
H=src/rules/testdata/shadow
check "shadow/web-1" "$H/web-1.json" 0 inspect --resources $H/resources --dataplane web-1 --output json
check "shadow/web-1 --shadow" "$H/web-1.shadow.json" 0 \
  inspect --resources $H/resources --dataplane web-1 --shadow --output json
check "shadow/web-1 --shadow (text)" "$H/web-1.shadow.txt" 0 \
  inspect --resources $H/resources --dataplane web-1 --shadow

# The demo mesh of examples/universal/mesh.
D=src/rules/testdata/demo-mesh
for dp in web-1 backend-1; do
  check "demo-mesh/$dp" "$D/$dp.json" 0 inspect --resources $D/resources --dataplane $dp --output json
done

# Exit codes: invalid resources -> 2 with validate's messages; unknown dataplane or mesh -> 1.
I=src/rules/testdata/invalid
check "invalid resources exit 2" "" 2 inspect --resources $I/resources --dataplane web-1 --output json
check_stderr "invalid resources messages" "$I/stderr.golden"
check "unreadable path exit 2" "" 2 inspect --resources $I/does-not-exist --dataplane web-1
check "unknown dataplane exit 1" "" 1 inspect --resources $S/resources --dataplane nope --output json
check_stderr "unknown dataplane message" src/rules/testdata/not-found.stderr
check "wrong mesh exit 1" "" 1 inspect --resources $S/resources --dataplane backend-1 --mesh other

rm -f /tmp/inspect_stderr.$$ /tmp/inspect_diff.$$
echo "$checks checks, $failures failures"
[[ $failures == 0 ]]
