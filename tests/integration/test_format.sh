#!/usr/bin/env bash
# `meshlog format` contract (issue 3): exact output bytes and exit codes for a few events.
set -euo pipefail

BIN="${MESHLOG_BIN:?MESHLOG_BIN must point to the meshlog binary}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
fails=0

# expect NAME EXPECTED_RC EXPECTED_STDOUT_FILE [EXPECTED_STDERR_FILE] -- ARGS...
expect() {
  local name="$1" want_rc="$2" want_out="$3" want_err="$4"
  shift 5
  local rc=0
  "$BIN" format "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  if [ "$rc" != "$want_rc" ]; then
    echo "FAIL $name: exit $rc, want $want_rc"; cat "$WORK/err"; fails=$((fails + 1)); return
  fi
  if ! cmp -s "$WORK/out" "$want_out"; then
    echo "FAIL $name: stdout differs"; diff <(od -c "$want_out") <(od -c "$WORK/out") | head -20; fails=$((fails + 1)); return
  fi
  if [ -n "$want_err" ] && ! cmp -s "$WORK/err" "$want_err"; then
    echo "FAIL $name: stderr differs"; diff "$want_err" "$WORK/err" | head; fails=$((fails + 1)); return
  fi
  echo "ok   $name"
}

cat >"$WORK/http.json" <<'JSON'
{"start_time": "2018-04-03T23:06:09.123456Z", "protocol": "HTTP/1.1",
 "request_headers": [[":method","GET"],[":path","/bar?x=1"],[":authority","example.com"],["user-agent","curl/8.0"],
                     ["x-request-id","req-1"],["x-evil",{"base64":"YQ1iCmM="}],["x-bin",{"base64":"/wA="}]],
 "response_headers": [["x-envoy-upstream-service-time","7"]], "response_trailers": [],
 "response_code": 200, "response_code_details": "via upstream", "response_flags": ["UT","DI"],
 "bytes_received": 1, "bytes_sent": 2, "duration_ns": 15000000,
 "timing_ns": {"DS_RX_END": 5000000, "US_TX_END": 15000000, "US_RX_BEG": 10000000, "DS_TX_END": 25000000},
 "downstream_remote_address": "127.0.0.1:0", "downstream_direct_remote_address": "127.0.0.3:63443",
 "downstream_local_address": "127.0.0.2:0", "upstream_host": "10.0.0.1:443",
 "upstream_remote_address": "10.0.0.1:443", "upstream_local_address": "127.1.2.3:18443",
 "upstream_cluster": "backend", "upstream_transport_failure_reason": "SSL error",
 "requested_server_name": "example.com", "connection_id": 123, "upstream_request_attempt_count": 3,
 "route_name": "r",
 "kuma": {"mesh": "default", "source_service": "web", "destination_service": "backend",
          "source_address": "127.0.0.1", "direction": "OUTBOUND", "zone": "", "workload": ""}}
JSON

cat >"$WORK/tcp.json" <<'JSON'
{"start_time": "2018-04-03T23:06:09.999Z", "bytes_received": 10, "bytes_sent": 20, "duration_ns": 1500000000,
 "upstream_host": "10.0.0.1:443", "response_flags": ["UF"],
 "kuma": {"mesh": "default", "source_service": "web", "destination_service": "db", "source_address": "10.1.0.5",
          "direction": "OUTBOUND"}}
JSON

printf '%s\n' '[2018-04-03T23:06:09.123Z] default "GET /bar?x=1 HTTP/1.1" 200 UT,DI 1 2 15 7 "-" "curl/8.0" "req-1" "example.com" "web" "backend" "127.0.0.1" "10.0.0.1:443"' >"$WORK/want"
expect default-http 0 "$WORK/want" "" -- --event "$WORK/http.json" --default http

printf '%s\n' '[2018-04-03T23:06:09.999Z] UF default 10.1.0.5(web)->10.0.0.1:443(db) took 1500ms, sent 20 bytes, received: 10 bytes' >"$WORK/want"
expect default-tcp 0 "$WORK/want" "" -- --event "$WORK/tcp.json" --default tcp

# Control bytes from traffic are neutralised; the plain format gets one "\n".
printf 'a\\x0Db\\x0Ac|\xff\\x00|via_upstream|SSL_error|%%|15|1522796769.123456\n' >"$WORK/want"
expect plain-escaping 0 "$WORK/want" "" -- --event "$WORK/http.json" \
  --plain '%REQ(x-evil)%|%REQ(x-bin)%|%RESPONSE_CODE_DETAILS%|%UPSTREAM_TRANSPORT_FAILURE_REASON%|%%|%RESPONSE_TX_DURATION%|%START_TIME(%s.%6f)%'

# Missing values: "-" or nothing with --omit-empty-values.
printf -- '-|-|0\n' >"$WORK/want"
expect tcp-missing 0 "$WORK/want" "" -- --event "$WORK/tcp.json" --plain '%REQ(:path)%|%PROTOCOL%|%RESPONSE_CODE%'
printf -- '||0\n' >"$WORK/want"
expect tcp-missing-omit 0 "$WORK/want" "" -- --event "$WORK/tcp.json" --plain '%REQ(:path)%|%PROTOCOL%|%RESPONSE_CODE%' --omit-empty-values

cat >"$WORK/fmt.yaml" <<'YAML'
- key: start_time
  value: '%START_TIME%'
- key: protocol
  value: '%PROTOCOL%'
- key: mesh
  value: '%KUMA_MESH%'
- key: duration
  value: '%DURATION%ms'
- key: bytes_sent
  value: '%BYTES_SENT%'
- key: bin
  value: '%REQ(x-bin)%'
YAML
printf '%s\n' '{"bin":null,"bytes_sent":20,"duration":"1500ms","mesh":"default","protocol":null,"start_time":"2018-04-03T23:06:09.999Z"}' >"$WORK/want"
expect json-tcp 0 "$WORK/want" "" -- --event "$WORK/tcp.json" --json "$WORK/fmt.yaml"
printf '%s\n' '{"bytes_sent":20,"duration":"1500ms","mesh":"default","start_time":"2018-04-03T23:06:09.999Z"}' >"$WORK/want"
expect json-tcp-omit 0 "$WORK/want" "" -- --event "$WORK/tcp.json" --json "$WORK/fmt.yaml" --omit-empty-values
printf '%s\n' '{"bin":"\u00ff\u0000","bytes_sent":2,"duration":"15ms","mesh":"default","protocol":"HTTP/1.1","start_time":"2018-04-03T23:06:09.123Z"}' >"$WORK/want"
expect json-http 0 "$WORK/want" "" -- --event "$WORK/http.json" --json "$WORK/fmt.yaml"

# A format that does not parse: exit 2, Envoy's message, nothing on stdout.
: >"$WORK/empty"
printf '%s\n' "Incorrect configuration: %protocol%. Couldn't find valid command at position 0" >"$WORK/want_err"
expect bad-plain 2 "$WORK/empty" "$WORK/want_err" -- --event "$WORK/tcp.json" --plain '%protocol%'
printf '%s\n' 'PROTOCOL does not take any parameters or length' >"$WORK/want_err"
expect bad-syntax 2 "$WORK/empty" "$WORK/want_err" -- --event "$WORK/tcp.json" --plain '%PROTOCOL(x)%'
printf -- "- key: a\n  value: '%%REQ(X?Y?Z)%%'\n" >"$WORK/bad.yaml"
printf '%s\n' 'More than 1 alternative header specified in token: X?Y?Z' >"$WORK/want_err"
expect bad-json 2 "$WORK/empty" "$WORK/want_err" -- --event "$WORK/tcp.json" --json "$WORK/bad.yaml"

# Unusable inputs also exit 2.
echo '{"bogus": 1}' >"$WORK/bogus.json"
expect bad-event 2 "$WORK/empty" "" -- --event "$WORK/bogus.json" --default tcp
expect two-formats 2 "$WORK/empty" "" -- --event "$WORK/tcp.json" --default tcp --plain x

if [ "$fails" -ne 0 ]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "all format checks passed"
