#!/usr/bin/env bash
# File backend details of issue 5 under a real sidecar:
# - `path: /dev/stdout` writes the records to the sidecar's standard output;
# - two policies writing to one path share one writer (one backend in /metrics, every record of
#   both policies in the file, whole lines only).
set -euo pipefail
BIN=${MESHLOG_BIN:-build/release/src/cli/meshlog}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/*.out; do echo "--- $f" >&2; tail -20 "$f" >&2; done
  exit 1
}
# Ports: this test owns 25600-25649.
APP=25640 IN=25610 ADMIN=25630
mkdir -p "$work/mesh"
cat > "$work/mesh/all.yaml" <<YAML
type: Dataplane
mesh: default
name: app-1
networking:
  address: 127.0.0.1
  inbound:
  - port: $IN
    servicePort: $APP
    tags:
      kuma.io/service: app
      kuma.io/protocol: http
---
type: MeshAccessLog
mesh: default
name: to-stdout
spec:
  targetRef:
    kind: Mesh
  rules:
  - default:
      backends:
      - type: File
        file:
          path: /dev/stdout
          format:
            type: Plain
            plain: 'STDOUT %REQ(:PATH)% %RESPONSE_CODE%'
---
type: MeshAccessLog
mesh: default
name: shared-a
spec:
  targetRef:
    kind: Mesh
  rules:
  - default:
      backends:
      - type: File
        file:
          path: $work/shared.log
          format:
            type: Plain
            plain: 'A %REQ(:PATH)%'
---
type: MeshAccessLog
mesh: default
name: shared-b
spec:
  targetRef:
    kind: Mesh
  rules:
  - default:
      backends:
      - type: File
        file:
          path: $work/./shared.log
          format:
            type: Json
            json:
            - key: b
              value: '%REQ(:PATH)%'
YAML
"$BIN" demo-app --http 127.0.0.1:$APP > "$work/app.out" 2>&1 &
pids+=($!)
"$BIN" run --name app-1 --resources "$work/mesh" --admin 127.0.0.1:$ADMIN --workers 2 > "$work/sidecar.out" 2> "$work/sidecar.err" &
pids+=($!)
sidecar=$!
for _ in $(seq 100); do
  [ "$(curl -s http://127.0.0.1:$ADMIN/ready || true)" = "LIVE" ] && break
  sleep 0.1
done
for i in $(seq 1 20); do
  code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$IN/r$i)
  [ "$code" = 200 ] || fail "request $i got $code"
done
# One writer for the shared path: one backend in /metrics, not two.
metrics=$(curl -s http://127.0.0.1:$ADMIN/metrics)
backends=$(grep -c "^meshlog_access_log_written_total{backend=\"file\",destination=\"[^\"]*shared.log\"}" <<<"$metrics" || true)
[ "$backends" = 1 ] || fail "expected one File backend for the shared path in /metrics, got $backends: $(grep shared.log <<<"$metrics")"
grep -q '^meshlog_access_log_written_total{backend="file",destination="/dev/stdout"}' <<<"$metrics" ||
  fail "/dev/stdout backend missing in /metrics"
# SIGTERM drains and flushes every backend: nothing of the 20 requests may be missing.
kill -TERM "$sidecar"
wait "$sidecar" || fail "sidecar exit status $?"

stdout_lines=$(grep -c '^STDOUT /r[0-9]* 200$' "$work/sidecar.out" || true)
[ "$stdout_lines" = 20 ] || fail "expected 20 records on stdout, got $stdout_lines"
for i in $(seq 1 20); do
  grep -qx "STDOUT /r$i 200" "$work/sidecar.out" || fail "request /r$i missing on stdout"
  grep -qx "A /r$i" "$work/shared.log" || fail "policy shared-a: /r$i missing in the shared file"
  grep -qx "{\"b\":\"/r$i\"}" "$work/shared.log" || fail "policy shared-b: /r$i missing in the shared file"
done
total=$(wc -l < "$work/shared.log")
[ "$total" = 40 ] || fail "shared file: expected 40 whole lines, got $total: $(head -5 "$work/shared.log")"
# Only the two formats, each line whole (no interleaving inside a line).
bad=$(grep -cvE '^(A /r[0-9]+|\{"b":"/r[0-9]+"\})$' "$work/shared.log" || true)
[ "$bad" = 0 ] || fail "shared file has $bad malformed lines"
echo "PASS: /dev/stdout and a path shared by two policies"
