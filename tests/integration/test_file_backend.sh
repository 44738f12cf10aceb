#!/usr/bin/env bash
# File backend under a real sidecar: a full disk (/dev/full) and an unwritable path never break
# traffic; the lost records are counted (dropped, errors) in /metrics; logging resumes by itself
# when the directory appears.
. "$(dirname "$0")/lib.sh"
# Ports: this test owns 21500-21599.
APP=21590 IN=21510 ADMIN=21580
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
name: full-and-missing
spec:
  targetRef:
    kind: Mesh
  rules:
  - default:
      backends:
      - type: File
        file:
          path: /dev/full
      - type: File
        file:
          path: $work/later/access.log
YAML
"$BIN" demo-app --http 127.0.0.1:$APP > "$work/app.out" 2>&1 &
pids+=($!)
"$BIN" run --name app-1 --resources "$work/mesh" --admin 127.0.0.1:$ADMIN --workers 1 > "$work/sidecar.out" 2>&1 &
pids+=($!)
wait_ready $ADMIN
for i in 1 2 3 4 5; do
  code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$IN/r$i)
  [ "$code" = 200 ] || fail "request $i got $code"
done
sleep 1.6
metrics=$(curl -s http://127.0.0.1:$ADMIN/metrics)
full='{backend="file",destination="/dev/full"}'
missing="{backend=\"file\",destination=\"$work/later/access.log\"}"
grep -qF "meshlog_access_log_dropped_total$full 5" <<<"$metrics" || fail "/dev/full drops: $metrics"
grep -qF "meshlog_access_log_written_total$full 0" <<<"$metrics" || fail "/dev/full written: $metrics"
grep -qE "^meshlog_access_log_write_errors_total\{backend=\"file\",destination=\"/dev/full\"\} [1-9]" <<<"$metrics" ||
  fail "/dev/full write errors: $metrics"
grep -qF "meshlog_access_log_dropped_total$missing 5" <<<"$metrics" || fail "missing dir drops: $metrics"
grep -qE "^meshlog_access_log_open_errors_total\{backend=\"file\",destination=\"${work//\//\\/}/later/access.log\"\} [1-9]" <<<"$metrics" ||
  fail "missing dir open errors: $metrics"
grep -q "No space left on device" "$work/sidecar.out" || fail "disk full not reported on stderr"
grep -q "No such file or directory" "$work/sidecar.out" || fail "unwritable path not reported on stderr"

# The cause goes away: the directory appears; the next records are written.
mkdir -p "$work/later"
curl -s -o /dev/null http://127.0.0.1:$IN/after
sleep 1.6
[ "$(wc -l < "$work/later/access.log")" = 1 ] || fail "logging did not resume"
grep -q '"GET /after HTTP/1.1" 200' "$work/later/access.log" || fail "unexpected record: $(cat "$work/later/access.log")"
echo "PASS"
