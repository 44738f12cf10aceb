#!/usr/bin/env bash
# Issue 5: "hot reload under load without a failed request". One `meshlog run` sidecar (web-1,
# 2 workers) carries two keep-alive wrk loads at once: one through its HTTP inbound (-> demo app),
# one through its HTTP outbound (-> round-robin over the inbounds of the `backend` dataplanes,
# which are demo apps). While wrk runs, the resources on disk change several times, each change
# altering what is logged or where traffic goes, and SIGHUP is sent:
#   1. both MeshAccessLogs: default format -> JSON          (file change)
#   2. a second `backend` Dataplane appears: a new endpoint  (file change)
#   3. a second File backend (extra.log) on both policies    (file change)
#   4. SIGHUP
#   5. an invalid policy appears: refused, reported on stderr, the last good config keeps logging
#   6. the invalid policy goes away                          (file change)
#   7. JSON -> default format, extra.log removed             (file change)
#   8. the second Dataplane goes away                        (file change)
#   9. SIGHUP
# Every step waits until the sidecar reports it applied (or refused) the change, so each one
# really happens under load. Asserts: wrk saw no socket error (connect/read/write/timeout) and no
# non-2xx response; every request wrk completed is in main.log once (records per request path
# >= wrk's completed count and <= completed + requests in flight when wrk stopped), both formats
# are present for each path in the right order (default first and last, JSON in between); no
# record carries an upstream failure flag; the new endpoint got traffic and no longer does after
# its removal; extra.log has exactly the records of its phase (marked in main.log's JSON), in the
# default format; /metrics counts 8 applied and
# 1 refused reload and no dropped record.
LIB_FAIL_LOGS="*.out wrk-*.txt" LIB_FAIL_TAIL=40
. "$(dirname "$0")/lib.sh"

# Ports: this test owns 25000-25099.
IN=25010 OUT=25011 APP_A=25020 APP_B=25021 ADMIN=25090
CONNS=10            # per wrk
WRK_SECONDS=12
mkdir -p "$work/mesh" "$work/stage"

# Writes a resource file atomically (staged outside --resources, then renamed into it), so the
# sidecar's poll never sees a half-written file.
put() {  # name (content on stdin)
  cat > "$work/stage/$1"
  mv "$work/stage/$1" "$work/mesh/$1"
}
dataplanes() {  # with_backend_b (0|1)
  cat <<YAML
type: Dataplane
mesh: default
name: web-1
networking:
  address: 127.0.0.1
  inbound:
  - port: $IN
    servicePort: $APP_A
    tags:
      kuma.io/service: web
      kuma.io/protocol: http
  outbound:
  - port: $OUT
    tags:
      kuma.io/service: backend
---
type: Dataplane
mesh: default
name: backend-a
networking:
  address: 127.0.0.1
  inbound:
  - port: $APP_A
    tags:
      kuma.io/service: backend
      kuma.io/protocol: http
YAML
  if [ "$1" = 1 ]; then
    cat <<YAML
---
type: Dataplane
mesh: default
name: backend-b
networking:
  address: 127.0.0.1
  inbound:
  - port: $APP_B
    tags:
      kuma.io/service: backend
      kuma.io/protocol: http
YAML
  fi
}
policies() {  # format (default|json) extra (0|1)
  local backends="      - type: File
        file:
          path: $work/main.log"
  if [ "$1" = json ]; then
    backends+="
          format:
            type: Json
            json:
            - key: path
              value: '%REQ(:PATH)%'
            - key: status
              value: '%RESPONSE_CODE%'
            - key: flags
              value: '%RESPONSE_FLAGS%'
            - key: upstream
              value: '%UPSTREAM_HOST%'"
  fi
  if [ "$2" = 1 ]; then
    # Marks main.log's records of this phase: they must equal extra.log's records one for one.
    backends+="
            - key: phase
              value: extra
      - type: File
        file:
          path: $work/extra.log"
  fi
  cat <<YAML
type: MeshAccessLog
mesh: default
name: incoming
spec:
  targetRef:
    kind: Mesh
  rules:
  - default:
      backends:
$backends
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
$(sed 's/^/  /' <<<"$backends")
YAML
}

dataplanes 0 | put dataplanes.yaml
policies default 0 | put policies.yaml
"$BIN" demo-app --http 127.0.0.1:$APP_A --name backend-a > "$work/app-a.out" 2>&1 &
pids+=($!)
"$BIN" demo-app --http 127.0.0.1:$APP_B --name backend-b > "$work/app-b.out" 2>&1 &
pids+=($!)
"$BIN" run --name web-1 --resources "$work/mesh" --admin 127.0.0.1:$ADMIN --workers 2 > "$work/web.out" 2>&1 &
WEB_PID=$!
pids+=($WEB_PID)
for _ in $(seq 100); do
  [ "$(curl -s http://127.0.0.1:$ADMIN/ready || true)" = "LIVE" ] &&
    curl -s -o /dev/null http://127.0.0.1:$APP_B/ && break
  sleep 0.1
done
[ "$(curl -s http://127.0.0.1:$ADMIN/ready || true)" = "LIVE" ] || fail "sidecar not ready"
curl -s -o /dev/null http://127.0.0.1:$APP_B/ || fail "demo app b not up"

applied() { grep -c "configuration applied" "$work/web.out" || true; }
rejected() { grep -c "change rejected" "$work/web.out" || true; }
wait_count() {  # counter-function target what
  for _ in $(seq 60); do
    [ "$($1)" -ge "$2" ] && return 0
    sleep 0.1
  done
  fail "step '$3' not taken by the sidecar within 6 s ($1 = $($1), wanted $2)"
}

wrk_run() {  # name port path
  wrk -t1 -c$CONNS -d${WRK_SECONDS}s --timeout 5s "http://127.0.0.1:$2$3" > "$work/wrk-$1.txt" 2>&1
}
wrk_run in $IN /in &
WRK_IN=$!
wrk_run out $OUT /out &
WRK_OUT=$!
pids+=($WRK_IN $WRK_OUT)
sleep 1  # some records in the default format first

n=0
step() {  # what; the change was just made; waits until it was applied
  n=$((n + 1))
  wait_count applied $n "$1"
}
policies json 0 | put policies.yaml
step "default format -> JSON"
dataplanes 1 | put dataplanes.yaml
step "backend-b added"
sleep 0.5
policies json 1 | put policies.yaml
step "second File backend added"
sleep 0.5
kill -HUP $WEB_PID
step "SIGHUP"
printf 'type: MeshAccessLog\nmesh: default\nname: broken\nspec:\n  targetRef:\n    kind: Nope\n' | put broken.yaml
wait_count rejected 1 "invalid change refused"
sleep 0.5
rm "$work/mesh/broken.yaml"
step "invalid policy removed"
policies default 0 | put policies.yaml
step "JSON -> default format, extra.log removed"
dataplanes 0 | put dataplanes.yaml
step "backend-b removed"
kill -HUP $WEB_PID
step "SIGHUP again"
kill -0 $WRK_IN 2>/dev/null && kill -0 $WRK_OUT 2>/dev/null ||
  fail "wrk finished before the last change: the changes did not all happen under load"
wait $WRK_IN || fail "wrk (inbound) failed"
wait $WRK_OUT || fail "wrk (outbound) failed"

# --- wrk: nothing failed ---
completed() { awk '/requests in/ { print $1 }' "$work/wrk-$1.txt"; }
for w in in out; do
  grep -q "Socket errors" "$work/wrk-$w.txt" && fail "wrk ($w) saw socket errors: $(grep 'Socket errors' "$work/wrk-$w.txt")"
  grep -q "Non-2xx" "$work/wrk-$w.txt" &&
    fail "wrk ($w) saw non-2xx responses: $(grep 'Non-2xx' "$work/wrk-$w.txt"); records not 200: $(grep -v -e '" 200 ' -e '"status":200' "$work/main.log" | head -5)"
  [ "$(completed $w)" -ge 500 ] || fail "wrk ($w) completed only $(completed $w) requests: no real load"
done

# After the last change backend-b is no endpoint any more: every new request goes to backend-a.
for i in 1 2 3 4; do
  body=$(curl -s http://127.0.0.1:$OUT/after-$i)
  [ "${body%% *}" = backend-a ] || fail "request after backend-b's removal answered by: $body"
done
sleep 1.6  # File backends flush every second

# --- every completed request logged exactly once in main.log, both formats in order ---
# Per line: format (plain|json), path, status, flags, upstream host, phase marker (extra|-).
parse() {
  awk -F'"' '
    /^\{/ { p = s = f = u = "";
            if (match($0, /"path":"[^"]*"/)) p = substr($0, RSTART + 8, RLENGTH - 9);
            if (match($0, /"status":[0-9]+/)) s = substr($0, RSTART + 9, RLENGTH - 9);
            if (match($0, /"flags":"[^"]*"/)) f = substr($0, RSTART + 9, RLENGTH - 10);
            if (match($0, /"upstream":"[^"]*"/)) u = substr($0, RSTART + 12, RLENGTH - 13);
            print "json", p, s, f, u, (index($0, "\"phase\":\"extra\"") ? "extra" : "-"); next }
    { split($2, req, " "); split($3, rc, " "); print "plain", req[2], rc[1], rc[2], $(NF - 1), "-" }' "$1"
}
parse "$work/main.log" > "$work/main.parsed"
[ "$(grep -vc '^\(plain\|json\) /' "$work/main.parsed" || true)" = 0 ] ||
  fail "unparsable records: $(grep -v '^\(plain\|json\) /' "$work/main.parsed" | head -3)"
for w in in out; do
  c=$(completed $w)
  logged=$(awk -v p=/$w '$2 == p' "$work/main.parsed" | wc -l)
  [ "$logged" -ge "$c" ] || fail "/$w: wrk completed $c requests, main.log has $logged records"
  # At most the requests in flight when wrk stopped come on top (never a duplicate per request).
  [ "$logged" -le $((c + CONNS)) ] || fail "/$w: $logged records for $c completed requests: duplicates"
  # Default format first and last, JSON in between. (Around a switch records of both formats can
  # interleave: a request uses the configuration it started with, and requests on the two workers
  # finish in any order.)
  formats=$(awk -v p=/$w '$2 == p { print $1 }' "$work/main.parsed" | uniq | tr '\n' ' ')
  [[ "$formats" == "plain json "*"plain " ]] || fail "/$w: format sequence in main.log is '$formats', want 'plain json ... plain'"
  echo "/$w: wrk completed $c, main.log records $logged (format runs: $formats; $(awk -v p=/$w '$2 == p { n[$1]++ } END { printf "%d plain, %d json", n["plain"], n["json"] }' "$work/main.parsed"))"
done
bad=$(awk '$4 ~ /U[FHCT]|URX|UO/' "$work/main.parsed" | head -3)
[ -z "$bad" ] || fail "records with upstream failure flags: $bad"
for host in 127.0.0.1:$APP_A 127.0.0.1:$APP_B; do
  awk -v h="$host" '$2 == "/out" && $5 == h { found = 1 } END { exit !found }' "$work/main.parsed" ||
    fail "no outbound request went to $host (endpoint change not applied?)"
done

# --- extra.log: exactly the requests of the phase it existed in (also when its sink is closed by
# the reload that removed it), in the default format ---
[ -s "$work/extra.log" ] || fail "the added File backend wrote nothing"
parse "$work/extra.log" > "$work/extra.parsed"
[ "$(awk '$1 != "plain"' "$work/extra.parsed" | wc -l)" = 0 ] || fail "extra.log has non-default records"
extra=$(wc -l < "$work/extra.log")
marked=$(awk '$6 == "extra"' "$work/main.parsed" | wc -l)
[ "$extra" = "$marked" ] || fail "extra.log has $extra records, main.log $marked records of the same phase"
for w in in out; do
  a=$(awk -v p=/$w '$2 == p' "$work/extra.parsed" | wc -l)
  b=$(awk -v p=/$w '$2 == p && $6 == "extra"' "$work/main.parsed" | wc -l)
  [ "$a" = "$b" ] && [ "$a" -gt 0 ] || fail "/$w: extra.log $a records, main.log $b in the same phase"
done

# --- the invalid change was reported, with its reason ---
grep -q "change rejected, keeping the running configuration: the resources are invalid" "$work/web.out" ||
  fail "invalid change not reported"
grep -q "broken.yaml" "$work/web.out" || fail "the report does not name the invalid file"

# --- /metrics: 8 applied reloads, 1 refused, nothing dropped, records match the file ---
metrics=$(curl -s http://127.0.0.1:$ADMIN/metrics)
grep -qx "meshlog_config_reloads_total 8" <<<"$metrics" ||
  fail "reloads: $(grep meshlog_config_ <<<"$metrics"), stderr says $(applied) applied"
grep -qx "meshlog_config_reloads_rejected_total 1" <<<"$metrics" || fail "rejected: $(grep meshlog_config_ <<<"$metrics")"
drops=$(grep -E '^meshlog_access_log_(dropped|errors|write_errors|open_errors)_total' <<<"$metrics" |
        awk '{ s += $2 } END { print s + 0 }')
[ "$drops" = 0 ] || fail "drops/errors in /metrics: $(grep -E '^meshlog_access_log_(dropped|errors)' <<<"$metrics")"
written=$(awk -v d="destination=\"$work/main.log\"" 'index($0, "meshlog_access_log_written_total{") == 1 && index($0, d) { print $2 }' <<<"$metrics")
[ "$written" = "$(wc -l < "$work/main.log")" ] || fail "main.log: /metrics written=$written, lines $(wc -l < "$work/main.log")"
echo "extra.log records $extra; reloads applied 8, refused 1; 0 drops"
echo "PASS"
