#!/usr/bin/env bash
# The OpenTelemetry backend is a plugin (meshlog-otlp.so, src/sink/otlp_plugin.h) that `meshlog`
# dlopen()s only when a configuration needs an OpenTelemetry backend. Asserted:
#   1. the `meshlog` binary has no gRPC/protobuf/OpenSSL in its NEEDED entries; the plugin beside
#      it does and exports exactly one symbol, meshlog_otlp_plugin;
#   2. a File-only `meshlog run` (one policy, --workers 1) is <= 10 MiB RSS when idle and never
#      maps the plugin or gRPC (issue 5: idle RSS <= 10 MiB);
#   3. a policy with OpenTelemetry backends (OTLP/gRPC inline endpoint and OTLP/HTTP through a
#      MeshOpenTelemetryBackend) loads the plugin and delivers a record to both receivers;
#   4. lookup order: MESHLOG_PLUGIN_DIR, then the binary's directory, then <bin>/../lib/meshlog/;
#   5. no plugin found: the initial configuration is refused (exit 1) with an error naming the
#      policy/backend, every path tried and dlerror(); on reload the running configuration stays.
# Ports: 24100-24139 (loopback).
set -euo pipefail
SRC=${MESHLOG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${MESHLOG_BIN:-$SRC/build/release/src/cli/meshlog}
PY=/usr/bin/python3
APP=24100 IN=24101 ADMIN=24102 OTLP_GRPC=24103 OTLP_HTTP=24104 ADMIN2=24105 IN2=24106 ADMIN3=24107
RSS_LIMIT_KB=10240

work=$(mktemp -d /tmp/meshlog-plugin-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/*.err; do [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done
  exit 1
}
wait_ready() {  # admin, pid
  for _ in $(seq 150); do
    curl -fsS "http://$1/ready" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

dataplane() {  # name inbound-port
  cat <<YAML
type: Dataplane
mesh: default
name: $1
networking:
  address: 127.0.0.1
  inbound:
  - port: $2
    servicePort: $APP
    tags:
      kuma.io/service: backend
      kuma.io/protocol: http
YAML
}
file_policy() {  # log path
  cat <<YAML
type: MeshAccessLog
name: file-logs
mesh: default
spec:
  rules:
  - default:
      backends:
      - type: File
        file:
          path: $1
YAML
}
otel_policy() {  # grpc-endpoint
  cat <<YAML
type: MeshOpenTelemetryBackend
name: http-collector
mesh: default
labels: {team: obs}
spec:
  endpoint: {address: 127.0.0.1, port: $OTLP_HTTP, path: /otel}
  protocol: http
---
type: MeshAccessLog
name: otel-logs
mesh: default
spec:
  rules:
  - default:
      backends:
      - type: OpenTelemetry
        openTelemetry:
          endpoint: $1
          body:
            stringValue: "%REQ(:PATH)%"
      - type: OpenTelemetry
        openTelemetry:
          backendRef: {kind: MeshOpenTelemetryBackend, labels: {team: obs}}
          body:
            stringValue: "%REQ(:PATH)%"
YAML
}

# --- 1. NEEDED entries and the plugin file ----------------------------------------------------
needed=$(readelf -d "$BIN" | awk '/\(NEEDED\)/ { gsub(/[][]/, "", $NF); print $NF }')
echo "meshlog NEEDED: $(echo $needed)"
if echo "$needed" | grep -Eq 'grpc|protobuf|libssl|libcrypto|libgpr|libupb|libcares|libre2|libaddress_sorting'; then
  fail "meshlog links gRPC/protobuf/OpenSSL: $(echo $needed)"
fi
plugin=$(dirname "$BIN")/meshlog-otlp.so
[ -f "$plugin" ] || fail "no plugin next to the binary: $plugin"
readelf -d "$plugin" | grep -q 'NEEDED.*libgrpc++' || fail "the plugin does not link gRPC++"
exported=$(nm -D --defined-only "$plugin" | awk '$2 ~ /^[TDBRVWiu]$/ { print $3 }')
[ "$exported" = meshlog_otlp_plugin ] || fail "the plugin must export only meshlog_otlp_plugin, exports: $(echo $exported)"

# --- 2. idle RSS of a File-only sidecar ----------------------------------------------------------
mkdir -p "$work/file-only"
{ dataplane backend-1 $IN; echo ---; file_policy "$work/access.log"; } >"$work/file-only/mesh.yaml"
"$BIN" demo-app --http "127.0.0.1:$APP" --name backend >"$work/app.err" 2>&1 & pids+=($!)
"$BIN" run --name backend-1 --resources "$work/file-only" --admin "127.0.0.1:$ADMIN" --workers 1 \
  >"$work/file-only.out" 2>"$work/file-only.err" & sidecar=$!; pids+=($sidecar)
wait_port $APP || fail "demo app did not start"
wait_ready "127.0.0.1:$ADMIN" $sidecar || fail "File-only sidecar not ready"
sleep 1
rss=$(awk '/^VmRSS:/ { print $2 }' /proc/$sidecar/status)
echo "File-only meshlog run: $(grep -E '^(VmRSS|RssAnon|RssFile):' /proc/$sidecar/status | tr -s ' \n' ' ')"
[ "$rss" -le $RSS_LIMIT_KB ] || fail "idle RSS ${rss} kB > ${RSS_LIMIT_KB} kB"
if grep -Eq 'meshlog-otlp|libgrpc|libprotobuf' /proc/$sidecar/maps; then fail "File-only sidecar mapped the plugin"; fi
body=$(curl -s -H 'x-request-id: r1' "http://127.0.0.1:$IN/idle")
[ "$body" = "backend GET /idle body=0 request-id=r1" ] || fail "request through the File-only sidecar: $body"
kill -TERM $sidecar; wait $sidecar || fail "File-only sidecar did not exit 0 on SIGTERM"
grep -q '"GET /idle HTTP/1.1"' "$work/access.log" || fail "File backend did not log the request"

# --- 3. OpenTelemetry backends load the plugin ---------------------------------------------------
"$PY" "$SRC/tests/receivers/otlp_dump_receiver.py" --port $OTLP_GRPC --out "$work/grpc.jsonl" \
  --proto-dir "$SRC/proto" --gen-dir "$work/gen" >"$work/grpc-rx.err" 2>&1 & pids+=($!)
"$PY" - "$OTLP_HTTP" "$work/http.log" >"$work/http-rx.err" 2>&1 <<'PYEOF' & pids+=($!)
import http.server, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(out, "a") as f:
            f.write(f"{self.path} {self.headers['Content-Type']} {b'/otel-test' in body}\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PYEOF
wait_port $OTLP_GRPC || fail "OTLP/gRPC receiver did not start"
wait_port $OTLP_HTTP || fail "OTLP/HTTP receiver did not start"
mkdir -p "$work/otel"
{ dataplane backend-1 $IN; echo ---; otel_policy "127.0.0.1:$OTLP_GRPC"; } >"$work/otel/mesh.yaml"
"$BIN" run --name backend-1 --resources "$work/otel" --admin "127.0.0.1:$ADMIN" --workers 1 \
  --drain-timeout 5 >"$work/otel.out" 2>"$work/otel.err" & sidecar=$!; pids+=($sidecar)
wait_ready "127.0.0.1:$ADMIN" $sidecar || fail "OpenTelemetry sidecar not ready"
grep -q 'meshlog-otlp.so' /proc/$sidecar/maps || fail "the plugin is not mapped although an OTel backend is configured"
curl -s "http://127.0.0.1:$IN/otel-test" >/dev/null
kill -TERM $sidecar; wait $sidecar || fail "OpenTelemetry sidecar did not exit 0 on SIGTERM"
grep -q '"/otel-test"' "$work/grpc.jsonl" 2>/dev/null || fail "OTLP/gRPC receiver got no record: $(cat "$work/grpc.jsonl" 2>/dev/null)"
grep -q '^/otel/v1/logs application/x-protobuf True$' "$work/http.log" 2>/dev/null ||
  fail "OTLP/HTTP receiver got no record: $(cat "$work/http.log" 2>/dev/null)"

# --- 4. lookup order ----------------------------------------------------------------------------
# A copy of the binary without a plugin beside it: only MESHLOG_PLUGIN_DIR can provide one.
mkdir -p "$work/alone/bin" "$work/plugins" "$work/empty" "$work/prefix/bin" "$work/prefix/lib/meshlog"
cp "$BIN" "$work/alone/bin/meshlog"
cp "$plugin" "$work/plugins/"
cp "$BIN" "$work/prefix/bin/meshlog"
cp "$plugin" "$work/prefix/lib/meshlog/"
starts_with_otel() {  # label binary expected-plugin-path [env...]
  local label=$1 bin=$2 want=$3; shift 3
  env "$@" "$bin" run --name backend-1 --resources "$work/otel" --admin "127.0.0.1:$ADMIN2" --workers 1 \
    >"$work/$label.out" 2>"$work/$label.err" & local p=$!; pids+=($p)
  wait_ready "127.0.0.1:$ADMIN2" $p || fail "$label: sidecar with an OTel backend did not start"
  grep -q " $want\$" /proc/$p/maps || fail "$label: $want not loaded: $(grep meshlog-otlp /proc/$p/maps | head -1)"
  kill -TERM $p; wait $p || fail "$label: exit status"
}
starts_with_otel env-dir "$work/alone/bin/meshlog" "$work/plugins/meshlog-otlp.so" MESHLOG_PLUGIN_DIR="$work/plugins"
starts_with_otel installed "$work/prefix/bin/meshlog" "$work/prefix/lib/meshlog/meshlog-otlp.so" MESHLOG_PLUGIN_DIR=
starts_with_otel env-first "$work/prefix/bin/meshlog" "$work/plugins/meshlog-otlp.so" MESHLOG_PLUGIN_DIR="$work/plugins"
starts_with_otel exe-dir-after-empty-env "$BIN" "$(readlink -f "$plugin")" MESHLOG_PLUGIN_DIR="$work/empty"

# --- 5. no plugin anywhere --------------------------------------------------------------------
set +e
MESHLOG_PLUGIN_DIR="$work/empty" timeout 20 "$work/alone/bin/meshlog" run --name backend-1 --resources "$work/otel" \
  --admin "127.0.0.1:$ADMIN2" --workers 1 >"$work/missing.out" 2>"$work/missing.err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "missing plugin: exit $rc, expected 1"
err=$(cat "$work/missing.err")
echo "missing plugin: $err"
for want in "otel-logs" "backend openTelemetry (endpoint 127.0.0.1:$OTLP_GRPC)" \
    "the OpenTelemetry backend needs the plugin meshlog-otlp.so" "MESHLOG_PLUGIN_DIR" \
    "$work/empty/meshlog-otlp.so: cannot open shared object file" \
    "$work/alone/bin/meshlog-otlp.so: " "$work/alone/lib/meshlog/meshlog-otlp.so: "; do
  [[ "$err" == *"$want"* ]] || fail "missing-plugin error lacks \"$want\""
done

# On reload: a File-only sidecar (copy without plugin) gets an OTel policy added: rejected, the
# running configuration stays and keeps logging.
mkdir -p "$work/reload"
{ dataplane backend-2 $IN2; echo ---; file_policy "$work/reload.log"; } >"$work/reload/mesh.yaml"
MESHLOG_PLUGIN_DIR="$work/empty" "$work/alone/bin/meshlog" run --name backend-2 --resources "$work/reload" \
  --admin "127.0.0.1:$ADMIN3" --workers 1 >"$work/reload.out" 2>"$work/reload.err" & sidecar=$!; pids+=($sidecar)
wait_ready "127.0.0.1:$ADMIN3" $sidecar || fail "reload sidecar not ready"
otel_policy "127.0.0.1:$OTLP_GRPC" >"$work/reload/otel.yaml"
for _ in $(seq 100); do grep -q 'change rejected' "$work/reload.err" && break; sleep 0.1; done
grep -q 'resources changed: change rejected, keeping the running configuration: .*otel-logs.*meshlog-otlp.so' "$work/reload.err" ||
  fail "reload with a missing plugin was not rejected with the plugin error"
kill -0 $sidecar || fail "sidecar died on a rejected reload"
body=$(curl -s -H 'x-request-id: r2' "http://127.0.0.1:$IN2/after-reload")
[ "$body" = "backend GET /after-reload body=0 request-id=r2" ] || fail "request after rejected reload: $body"
kill -TERM $sidecar; wait $sidecar || fail "reload sidecar exit status"
grep -q '"GET /after-reload HTTP/1.1"' "$work/reload.log" || fail "the last good configuration did not keep logging"
echo "PASS: OTLP plugin"
