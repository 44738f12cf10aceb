#!/usr/bin/env bash
# File backend details of issue 5 under a real sidecar:
# - `path: /dev/stdout` writes the records to the sidecar's standard output;
# - two policies writing to one path share one writer (one backend in /metrics, every record of
#   both policies in the file, whole lines only).
LIB_FAIL_LOGS="*.out *.err" LIB_FAIL_TAIL=20
. "$(dirname "$0")/lib.sh"
# Ports: this test owns 25600-25649.
APP=25640 IN=25610 ADMIN=25630
access_log() {  # name path format-yaml (indented for file.format)
  cat <<YAML
---
type: MeshAccessLog
mesh: default
name: $1
spec:
  targetRef:
    kind: Mesh
  rules:
  - default:
      backends:
      - type: File
        file:
          path: $2
          format:
$3
YAML
}
mkdir -p "$work/mesh"
{
  cat <<YAML
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
YAML
  access_log to-stdout /dev/stdout "            type: Plain
            plain: 'STDOUT %REQ(:PATH)% %RESPONSE_CODE%'"
  access_log shared-a "$work/shared.log" "            type: Plain
            plain: 'A %REQ(:PATH)%'"
  access_log shared-b "$work/./shared.log" "            type: Json
            json:
            - key: b
              value: '%REQ(:PATH)%'"
} > "$work/mesh/all.yaml"
"$BIN" demo-app --http 127.0.0.1:$APP > "$work/app.out" 2>&1 &
pids+=($!)
"$BIN" run --name app-1 --resources "$work/mesh" --admin 127.0.0.1:$ADMIN --workers 2 > "$work/sidecar.out" 2> "$work/sidecar.err" &
pids+=($!)
sidecar=$!
wait_ready $ADMIN
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
