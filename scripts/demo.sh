#!/usr/bin/env bash
# The main job (`make demo`): validates the shipped examples, then runs the demo mesh of
# examples/universal/mesh on loopback — two `meshlog demo-app` services (web, backend), each
# behind its own `meshlog run` sidecar — sends traffic through the mesh and shows the access logs
# the MeshAccessLog policies asked for (web -> backend as JSON in a file, backend's inbound in
# Kuma's default format on the sidecar's stdout). On a terminal it keeps running and follows the
# logs until Ctrl-C; otherwise it stops after the first round. Everything stops cleanly.
#
# MESHLOG_DEMO_MESH=DIR runs another copy of the demo mesh (same file names, other ports/paths).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MESHLOG_BIN:-build/release/src/cli/meshlog}
MESH=${MESHLOG_DEMO_MESH:-examples/universal/mesh}

echo "== meshlog validate examples/"
"$BIN" validate examples/

# Ports and paths come from the resources themselves.
field() { awk -v k="$2:" '$1 == k || $2 == k { print $NF; exit }' "$1"; }
outbound_ports() { awk '/outbound:/ { o = 1 } o && $1 == "-" && $2 == "port:" { print $3 }' "$1"; }
WEB_APP=$(field "$MESH/dataplane-web.yaml" servicePort)
WEB_IN=$(field "$MESH/dataplane-web.yaml" port)
BACKEND_APP=$(field "$MESH/dataplane-backend.yaml" servicePort)
read -r -a OUTBOUNDS <<<"$(outbound_ports "$MESH/dataplane-web.yaml" | tr '\n' ' ')"
JSON_LOG=$(awk '$1 == "path:" && $2 ~ /^\// && $2 != "/dev/stdout" { print $2; exit }' "$MESH/meshaccesslog-web-to-backend.yaml")
ADMIN_WEB=${MESHLOG_DEMO_ADMIN_WEB:-127.0.0.1:9901}
ADMIN_BACKEND=${MESHLOG_DEMO_ADMIN_BACKEND:-127.0.0.1:9902}

work=$(mktemp -d)
pids=()
cleanup() {
  trap - EXIT INT TERM
  echo
  echo "== stopping (SIGTERM: sidecars drain in-flight requests and flush their logs)"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 0' INT TERM
rm -f "$JSON_LOG"

echo "== starting the apps (web on $WEB_APP, backend on $BACKEND_APP) and their sidecars"
"$BIN" demo-app --http "127.0.0.1:$WEB_APP" --name web > "$work/web-app.out" 2>&1 &
pids+=($!)
"$BIN" demo-app --http "127.0.0.1:$BACKEND_APP" --name backend > "$work/backend-app.out" 2>&1 &
pids+=($!)
"$BIN" run --name backend-1 --resources "$MESH" --admin "$ADMIN_BACKEND" --workers 1 \
  > "$work/backend-sidecar.stdout" 2> "$work/backend-sidecar.stderr" &
pids+=($!)
"$BIN" run --name web-1 --resources "$MESH" --admin "$ADMIN_WEB" --workers 1 \
  > "$work/web-sidecar.stdout" 2> "$work/web-sidecar.stderr" &
pids+=($!)
for admin in "$ADMIN_WEB" "$ADMIN_BACKEND"; do
  for _ in $(seq 100); do
    [ "$(curl -s "http://$admin/ready" || true)" = "LIVE" ] && break
    sleep 0.1
  done
  if [ "$(curl -s "http://$admin/ready" || true)" != "LIVE" ]; then
    cat "$work"/*.stderr >&2
    echo "demo: a sidecar did not start" >&2
    exit 1
  fi
done
sed 's/^/   /' "$work/web-sidecar.stderr" "$work/backend-sidecar.stderr"

round() {
  echo "== traffic: web's app calls backend through web's sidecar (outbounds ${OUTBOUNDS[*]})"
  for port in "${OUTBOUNDS[@]}"; do
    for path in /orders/1 /orders/2; do
      printf '   curl 127.0.0.1:%s%s -> ' "$port" "$path"
      curl -s "http://127.0.0.1:$port$path"
    done
  done
  printf '   curl 127.0.0.1:%s/ (web inbound) -> ' "$WEB_IN"
  curl -s "http://127.0.0.1:$WEB_IN/"
  sleep 1.5  # File backends flush every second
}
round
echo "== $JSON_LOG (web -> backend, JSON)"
sed 's/^/   /' "$JSON_LOG"
echo "== backend sidecar stdout (backend inbound, Kuma's default format)"
sed 's/^/   /' "$work/backend-sidecar.stdout"
echo "== metrics of web's sidecar (http://$ADMIN_WEB/metrics), excerpt"
curl -s "http://$ADMIN_WEB/metrics" | grep -E '^meshlog_(listener_requests|access_log_written)_total' | sed 's/^/   /'

if [ -t 1 ]; then
  echo "== following the logs; press Ctrl-C to stop"
  tail -n 0 -f "$JSON_LOG" "$work/backend-sidecar.stdout" &
  pids+=($!)
  while true; do
    sleep 5
    for port in "${OUTBOUNDS[@]}"; do curl -s -o /dev/null "http://127.0.0.1:$port/tick"; done
  done
fi
