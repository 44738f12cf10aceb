#!/usr/bin/env bash
# `meshlog run` end to end on loopback: two sidecars (web, backend) in front of `meshlog demo-app`,
# curl and socat as clients. Asserts the access-log lines byte for byte (time-dependent fields
# masked) for inbound HTTP (Kuma default format), inbound TCP (default TCP format) and outbound
# (JSON), a smuggling attempt answered 400 and logged with DPE, a destination without endpoints
# (a MeshService selecting nothing: 503 UH), an outbound to a MeshMultiZoneService, rotation (rename + SIGUSR1), and a SIGTERM drain that loses no record.
. "$(dirname "$0")/lib.sh"

# Ports: this test owns 21400-21499.
APP_HTTP=21490 APP_TCP=21491 BE_HTTP=21410 BE_TCP=21411 WEB_IN=21420
OUT_BACKEND=21401 OUT_ECHO=21402 OUT_NOWHERE=21403 OUT_MZ=21404 ADMIN_BE=21480 ADMIN_WEB=21481 TCP_COLLECTOR=21450
mkdir -p "$work/mesh"
cat > "$work/mesh/dataplanes.yaml" <<YAML
type: Dataplane
mesh: default
name: backend-1
networking:
  address: 127.0.0.1
  inbound:
  - port: $BE_HTTP
    servicePort: $APP_HTTP
    tags:
      kuma.io/service: backend
      kuma.io/protocol: http
  - port: $BE_TCP
    servicePort: $APP_TCP
    tags:
      kuma.io/service: echo
      kuma.io/protocol: tcp
---
type: Dataplane
mesh: default
name: web-1
networking:
  address: 127.0.0.1
  inbound:
  - port: $WEB_IN
    servicePort: 21499
    tags:
      kuma.io/service: web
      kuma.io/protocol: http
  outbound:
  - port: $OUT_BACKEND
    tags:
      kuma.io/service: backend
  - port: $OUT_ECHO
    tags:
      kuma.io/service: echo
  - port: $OUT_NOWHERE
    backendRef:
      kind: MeshService
      name: ghost
      port: 80
  - port: $OUT_MZ
    backendRef:
      kind: MeshMultiZoneService
      name: backend-everywhere
      port: 80
---
type: MeshService
mesh: default
name: ghost
labels:
  kuma.io/display-name: ghost
spec:
  selector:
    dataplaneTags:
      kuma.io/service: ghost
  ports:
  - name: http
    port: 80
    targetPort: 8080
    appProtocol: http
---
# A MeshMultiZoneService over the MeshServices labelled team=core: here only backend-svc, whose
# port 80 targets backend-1's HTTP inbound.
type: MeshService
mesh: default
name: backend-svc
labels:
  kuma.io/display-name: backend-svc
  team: core
spec:
  selector:
    dataplaneTags:
      kuma.io/service: backend
  ports:
  - name: http
    port: 80
    targetPort: $BE_HTTP
    appProtocol: http
---
type: MeshMultiZoneService
mesh: default
name: backend-everywhere
spec:
  selector:
    meshService:
      matchLabels:
        team: core
  ports:
  - port: 80
    appProtocol: http
YAML
cat > "$work/mesh/policies.yaml" <<YAML
type: MeshAccessLog
mesh: default
name: incoming
spec:
  targetRef:
    kind: Mesh
  rules:
  - default:
      backends:
      - type: File
        file:
          path: $work/inbound.log
---
type: MeshAccessLog
mesh: default
name: outgoing
spec:
  targetRef:
    kind: Mesh
  to:
  - targetRef:
      kind: Mesh
    default:
      backends:
      - type: File
        file:
          path: $work/outbound.json
          format:
            type: Json
            json:
            - key: method
              value: '%REQ(:METHOD)%'
            - key: path
              value: '%REQ(:PATH)%'
            - key: status
              value: '%RESPONSE_CODE%'
            - key: flags
              value: '%RESPONSE_FLAGS%'
            - key: src
              value: '%KUMA_SOURCE_SERVICE%'
            - key: dst
              value: '%KUMA_DESTINATION_SERVICE%'
            - key: upstream
              value: '%UPSTREAM_HOST%'
      - type: Tcp
        tcp:
          address: 127.0.0.1:$TCP_COLLECTOR
          format:
            type: Plain
            plain: '%KUMA_SOURCE_SERVICE%->%KUMA_DESTINATION_SERVICE% %RESPONSE_CODE%'
YAML

# A TCP log collector: appends what it receives.
socat -u TCP-LISTEN:$TCP_COLLECTOR,reuseaddr,fork "OPEN:$work/tcp-collector.log,creat,append" &
pids+=($!)
"$BIN" demo-app --http 127.0.0.1:$APP_HTTP --tcp 127.0.0.1:$APP_TCP --name backend > "$work/app.out" 2>&1 &
pids+=($!)
"$BIN" run --name backend-1 --resources "$work/mesh" --admin 127.0.0.1:$ADMIN_BE --workers 2 > "$work/backend.out" 2>&1 &
BE_PID=$!
pids+=($BE_PID)
"$BIN" run --name web-1 --resources "$work/mesh" --admin 127.0.0.1:$ADMIN_WEB --workers 2 --drain-timeout 5 > "$work/web.out" 2>&1 &
WEB_PID=$!
pids+=($WEB_PID)
for admin in $ADMIN_BE $ADMIN_WEB; do
  wait_ready "$admin"
done

# --- traffic ---
body=$(curl -s -A test-agent -H 'x-request-id: rid-1' http://127.0.0.1:$OUT_BACKEND/hello)
[ "$body" = "backend GET /hello body=0 request-id=rid-1" ] || fail "unexpected body: $body"
echo=$(printf 'ping' | socat -t 2 - TCP:127.0.0.1:$OUT_ECHO)
[ "$echo" = "ping" ] || fail "TCP echo through two sidecars: '$echo'"
bad=$(printf 'POST /smuggle HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' |
      socat -t 2 - TCP:127.0.0.1:$OUT_BACKEND | head -1 | tr -d '\r')
[ "$bad" = "HTTP/1.1 400 Bad Request" ] || fail "smuggling attempt got '$bad'"
code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$OUT_NOWHERE/x)
[ "$code" = "503" ] || fail "no endpoint got $code"
body=$(curl -s -A test-agent -H 'x-request-id: rid-2' http://127.0.0.1:$OUT_MZ/multizone)
[ "$body" = "backend GET /multizone body=0 request-id=rid-2" ] || fail "through the MeshMultiZoneService: $body"
sleep 1.6  # File backends flush every second

mask() {
  sed -E -e 's/^\[[0-9T:.Z-]+\]/[TIME]/' \
         -e 's/" ([0-9]{3}) ([A-Z,-]+) ([0-9]+) ([0-9]+) [0-9]+ [0-9-]+ "/" \1 \2 \3 \4 DUR UST "/' \
         -e 's/took [0-9]+ms/took Nms/'
}
cat > "$work/expected_inbound" <<EXPECTED
[TIME] default "GET /hello HTTP/1.1" 200 - 0 43 DUR UST "-" "test-agent" "rid-1" "127.0.0.1:$OUT_BACKEND" "unknown" "backend" "127.0.0.1" "127.0.0.1:$APP_HTTP"
[TIME] - default 127.0.0.1(unknown)->127.0.0.1:$APP_TCP(backend) took Nms, sent 4 bytes, received: 4 bytes
[TIME] default "GET /multizone HTTP/1.1" 200 - 0 47 DUR UST "-" "test-agent" "rid-2" "127.0.0.1:$OUT_MZ" "unknown" "backend" "127.0.0.1" "127.0.0.1:$APP_HTTP"
EXPECTED
mask < "$work/inbound.log" > "$work/got_inbound"
diff -u "$work/expected_inbound" "$work/got_inbound" || fail "inbound log differs"

cat > "$work/expected_outbound" <<EXPECTED
{"dst":"backend","flags":"-","method":"GET","path":"/hello","src":"web","status":200,"upstream":"127.0.0.1:$BE_HTTP"}
{"dst":"echo","flags":"-","method":null,"path":null,"src":"web","status":0,"upstream":"127.0.0.1:$BE_TCP"}
{"dst":"backend","flags":"DPE","method":null,"path":null,"src":"web","status":400,"upstream":null}
{"dst":"ghost","flags":"UH","method":"GET","path":"/x","src":"web","status":503,"upstream":null}
{"dst":"backend-everywhere","flags":"-","method":"GET","path":"/multizone","src":"web","status":200,"upstream":"127.0.0.1:$BE_HTTP"}
EXPECTED
diff -u "$work/expected_outbound" "$work/outbound.json" || fail "outbound log differs"
printf 'web->backend 200\nweb->echo 0\nweb->backend 400\nweb->ghost 503\nweb->backend-everywhere 200\n' > "$work/expected_tcp"
diff -u "$work/expected_tcp" "$work/tcp-collector.log" || fail "TCP backend received something else"

# --- metrics ---
metrics=$(curl -s http://127.0.0.1:$ADMIN_WEB/metrics)
grep -q "^meshlog_listener_requests_total{listener=\"outbound:127.0.0.1:$OUT_BACKEND\"} 2$" <<<"$metrics" ||
  fail "metrics: $metrics"
grep -q "^meshlog_access_log_written_total{backend=\"file\",destination=\"$work/outbound.json\"} 5$" <<<"$metrics" ||
  fail "metrics: $metrics"

# --- rotation: rename, then SIGUSR1 ---
mv "$work/inbound.log" "$work/inbound.log.1"
kill -USR1 "$BE_PID"
curl -s -o /dev/null http://127.0.0.1:$OUT_BACKEND/after-rotation
sleep 1.6
[ "$(wc -l < "$work/inbound.log.1")" = 3 ] || fail "rotated file changed"
grep -q '"GET /after-rotation HTTP/1.1" 200' "$work/inbound.log" || fail "no record in the reopened file"

# --- hot reload: a policy change on disk applies without restarting; an invalid one is refused ---
sed -i "s|path: $work/inbound.log|path: $work/inbound-v2.log|" "$work/mesh/policies.yaml"
for _ in $(seq 50); do
  grep -q "resources changed: configuration applied" "$work/backend.out" && break
  sleep 0.1
done
grep -q "resources changed: configuration applied" "$work/backend.out" || fail "reload not applied"
curl -s -o /dev/null http://127.0.0.1:$OUT_BACKEND/after-reload
printf 'type: MeshAccessLog\nmesh: default\nname: broken\nspec:\n  targetRef:\n    kind: Nope\n' > "$work/mesh/broken.yaml"
for _ in $(seq 50); do
  grep -q "change rejected, keeping the running configuration" "$work/backend.out" && break
  sleep 0.1
done
grep -q "change rejected, keeping the running configuration" "$work/backend.out" || fail "invalid change not reported"
curl -s -o /dev/null http://127.0.0.1:$OUT_BACKEND/after-invalid-change
rm "$work/mesh/broken.yaml"
sleep 1.6
grep -q '"GET /after-reload HTTP/1.1" 200' "$work/inbound-v2.log" || fail "no record in the new file after reload"
grep -q '"GET /after-invalid-change HTTP/1.1" 200' "$work/inbound-v2.log" || fail "invalid change broke logging"
[ "$(grep -c after-reload "$work/inbound.log" || true)" = 0 ] || fail "old file still written after reload"

# --- SIGTERM drain: the in-flight request finishes and is logged ---
curl -s -o "$work/slow.body" -w '%{http_code}' http://127.0.0.1:$OUT_BACKEND/delay/700 > "$work/slow.code" &
CURL_PID=$!
sleep 0.3
kill -TERM "$WEB_PID"
wait "$CURL_PID"
[ "$(cat "$work/slow.code")" = 200 ] || fail "in-flight request during drain got $(cat "$work/slow.code")"
set +e
wait "$WEB_PID"
rc=$?
set -e
[ $rc = 0 ] || fail "web sidecar exit code $rc after SIGTERM"
tail -1 "$work/outbound.json" | grep -q '"path":"/delay/700","src":"web","status":200' || fail "drained request not logged"
echo "PASS"
