#!/usr/bin/env bash
# Integration test of `meshlog validate`: runs the real binary on the shipped examples and on
# invalid inputs, asserting exact stdout, exit codes and the JSON shape of issue 2's contract.
set -euo pipefail

BIN=${MESHLOG_BIN:?MESHLOG_BIN must point at the meshlog binary}
SRC=${MESHLOG_SOURCE_DIR:?MESHLOG_SOURCE_DIR must point at the repository root}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# run NAME EXPECTED_RC ARGS... : runs meshlog, keeps stdout/stderr in $NAME.out/$NAME.err.
run() {
  local name=$1 want=$2
  shift 2
  local rc=0
  "$BIN" "$@" >"$name.out" 2>"$name.err" || rc=$?
  if [ "$rc" -ne "$want" ]; then
    fail "$name: exit code $rc, want $want"
    sed 's/^/  stdout: /' "$name.out" >&2
    sed 's/^/  stderr: /' "$name.err" >&2
  fi
}

# expect_stdout NAME <<EOF ... : exact stdout comparison.
expect_stdout() {
  local name=$1
  if ! diff -u - "$name.out" >"$name.diff"; then
    fail "$name: unexpected stdout"
    cat "$name.diff" >&2
  fi
}

# ---------------------------------------------------------------------------------------------
# 1. Every shipped example is valid (text: no violation lines; json: every resource valid).
run examples 0 validate "$SRC/examples"
expect_stdout examples </dev/null
grep -q "0 invalid" examples.err || fail "examples: summary missing on stderr"

run examples_json 0 validate --output json "$SRC/examples"
n_docs=$(jq '.resources | length' examples_json.out)
n_valid=$(jq '[.resources[] | select(.valid and (.violations | length == 0))] | length' examples_json.out)
[ "$n_docs" -ge 20 ] || fail "examples_json: only $n_docs resources"
[ "$n_docs" = "$n_valid" ] || fail "examples_json: $n_valid of $n_docs valid"
jq -e '.resources[] | select(.name == "backend-inbound") | .index == 1 and .type == "MeshAccessLog" and .mesh == "default"' \
  examples_json.out >/dev/null || fail "examples_json: backend-inbound is not document 1 of its file"
jq -e '[.resources[] | select(.name == "multiple-backends")][0].warnings ==
  ["openTelemetry.endpoint is deprecated, use openTelemetry.backendRef with a MeshOpenTelemetryBackend resource instead"]' \
  examples_json.out >/dev/null || fail "examples_json: deprecation warning missing"
jq -e 'has("errors") | not' examples_json.out >/dev/null || fail "examples_json: unexpected errors key"

# ---------------------------------------------------------------------------------------------
# 2. An invalid Universal policy: exact violations, Kuma's order and messages.
cat >invalid.yaml <<'EOF'
type: MeshAccessLog
name: broken
mesh: demo
spec:
  targetRef:
    kind: Mesh
    name: everything
  to:
  - targetRef:
      kind: MeshService
    default:
      backends:
      - type: File
        file:
          path: logs.txt
      - type: Tcp
        tcp:
          address: logstash
          format:
            type: Json
            json:
            - key: 'a"b'
              value: x
      - type: OpenTelemetry
        openTelemetry: {}
  - targetRef:
      kind: Mesh
    default: {}
EOF
run invalid 1 validate invalid.yaml
expect_stdout invalid <<'EOF'
invalid.yaml: MeshAccessLog/broken: spec.targetRef.name: using name with kind Mesh is not yet supported
invalid.yaml: MeshAccessLog/broken: spec.to[0].targetRef: name or labels must be set when kind is MeshService
invalid.yaml: MeshAccessLog/broken: spec.to[0].default.backends[0].file.path: file backend requires a valid path
invalid.yaml: MeshAccessLog/broken: spec.to[0].default.backends[1].tcp.format.json[0]: is not a valid JSON object
invalid.yaml: MeshAccessLog/broken: spec.to[0].default.backends[1].tcp.address: tcp backend requires valid address
invalid.yaml: MeshAccessLog/broken: spec.to[0].default.backends[2].openTelemetry: openTelemetry must have exactly one defined: endpoint, backendRef
invalid.yaml: MeshAccessLog/broken: spec.to[1].default.backends: must be defined
EOF

run invalid_json 1 validate --output json invalid.yaml
jq -c . invalid_json.out >invalid_json.compact
cat >invalid_json.want <<'EOF'
{"resources":[{"source":"invalid.yaml","index":0,"type":"MeshAccessLog","mesh":"demo","name":"broken","valid":false,"violations":[{"field":"spec.targetRef.name","message":"using name with kind Mesh is not yet supported"},{"field":"spec.to[0].targetRef","message":"name or labels must be set when kind is MeshService"},{"field":"spec.to[0].default.backends[0].file.path","message":"file backend requires a valid path"},{"field":"spec.to[0].default.backends[1].tcp.format.json[0]","message":"is not a valid JSON object"},{"field":"spec.to[0].default.backends[1].tcp.address","message":"tcp backend requires valid address"},{"field":"spec.to[0].default.backends[2].openTelemetry","message":"openTelemetry must have exactly one defined: endpoint, backendRef"},{"field":"spec.to[1].default.backends","message":"must be defined"}],"warnings":[]}]}
EOF
diff -u invalid_json.want invalid_json.compact >&2 || fail "invalid_json: unexpected JSON"

# ---------------------------------------------------------------------------------------------
# 3. Kubernetes form, several documents, rules/matches, deprecations as warnings (stderr only).
cat >k8s.yaml <<'EOF'
apiVersion: kuma.io/v1alpha1
kind: MeshAccessLog
metadata:
  name: inbound
  namespace: kuma-demo
  labels:
    kuma.io/mesh: payments
spec:
  targetRef:
    kind: MeshSubset
    tags:
      kuma.io/service: web
  rules:
  - matches:
    - spiffeID:
        type: Prefix
        value: spiffe://payments/ns/
    - sni:
        type: Exact
        value: Web.Example.com
    default:
      backends:
      - type: OpenTelemetry
        openTelemetry:
          backendRef:
            kind: MeshOpenTelemetryBackend
          attributes:
          - key: http.method
            value: "%REQ(:METHOD)%"
---
apiVersion: kuma.io/v1alpha1
kind: MeshAccessLog
metadata:
  name: fine
spec:
  from:
  - targetRef:
      kind: Mesh
    default:
      backends: []
EOF
run k8s 1 validate k8s.yaml
expect_stdout k8s <<'EOF'
k8s.yaml: MeshAccessLog/inbound: spec.rules[0].matches[0].spiffeID: must be a valid Spiffe ID: path cannot have a trailing slash
k8s.yaml: MeshAccessLog/inbound: spec.rules[0].matches[1].sni.value: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')
k8s.yaml: MeshAccessLog/inbound: spec.rules[0].default.backends[0].openTelemetry.backendRef: backendRef must have exactly one defined: labels
EOF
grep -qx "k8s.yaml: MeshAccessLog/inbound: warning: MeshSubset value for 'targetRef.kind' is deprecated, use Dataplane with labels instead" k8s.err ||
  fail "k8s: MeshSubset deprecation warning missing"
grep -qx "k8s.yaml: MeshAccessLog/fine: warning: 'from' field is deprecated, use 'rules' instead" k8s.err ||
  fail "k8s: from deprecation warning missing"

run k8s_json 1 validate -o json k8s.yaml
jq -e '.resources | length == 2' k8s_json.out >/dev/null || fail "k8s_json: want 2 resources"
jq -e '.resources[0].mesh == "payments" and .resources[1].mesh == "default" and .resources[1].index == 1 and .resources[1].valid and (.resources[1].violations == [])' \
  k8s_json.out >/dev/null || fail "k8s_json: wrong mesh/index/validity"

# ---------------------------------------------------------------------------------------------
# 4. Schema-level errors (reported before, and instead of, the Go validator) never crash.
cat >schema.yaml <<'EOF'
type: MeshAccessLog
name: schema
spec:
  to:
  - targetRef:
      kind: Mesh
    default:
      backends:
      - type: Syslog
      - type: File
        file:
          path: 42
          colour: red
EOF
run schema 1 validate schema.yaml
expect_stdout schema <<'EOF'
schema.yaml: MeshAccessLog/schema: spec.to[0].default.backends[0].type: in body should be one of [Tcp File OpenTelemetry]
schema.yaml: MeshAccessLog/schema: spec.to[0].default.backends[1].file.path: in body must be of type string: "number"
schema.yaml: MeshAccessLog/schema: spec.to[0].default.backends[1].file.colour: unknown field "colour"
EOF

# The seed's HTTP JSON "default fields" format, copied verbatim, is rejected by Kuma (stray quotes).
cat >seed_http_json.yaml <<'EOF'
type: MeshAccessLog
name: seed-http-json
mesh: default
spec:
  to:
  - targetRef:
      kind: Mesh
    default:
      backends:
      - type: File
        file:
          path: /dev/stdout
          format:
            type: Json
            json:
              - key: "start_time"
                value: "%START_TIME%"
              - key: 'method'
                value: '"%REQ(:METHOD)%'
              - key: 'x_forwarded_for'
                value: '"%REQ(X-FORWARDED-FOR)%"'
EOF
run seed_http_json 1 validate seed_http_json.yaml
expect_stdout seed_http_json <<'EOF'
seed_http_json.yaml: MeshAccessLog/seed-http-json: spec.to[0].default.backends[0].file.format.json[1]: is not a valid JSON object
seed_http_json.yaml: MeshAccessLog/seed-http-json: spec.to[0].default.backends[0].file.format.json[2]: is not a valid JSON object
EOF

# ---------------------------------------------------------------------------------------------
# 5. stdin, directories and exit code 2.
run stdin 1 validate - <invalid.yaml
head -1 stdin.out | grep -qx -- "-: MeshAccessLog/broken: spec.targetRef.name: using name with kind Mesh is not yet supported" ||
  fail "stdin: first line wrong"

printf 'type: MeshAccessLog\nname: x\nspec:\n  to: [a, b\n' >syntax.yaml
run syntax 2 validate syntax.yaml
grep -Eq '^syntax\.yaml:[0-9]+:[0-9]+: YAML syntax error: ' syntax.err || fail "syntax: no file:line:column message"

run missing 2 validate does-not-exist.yaml
grep -q "^does-not-exist.yaml: cannot read" missing.err || fail "missing: no cannot-read message"

# A syntax error wins over violations (exit 2), and the valid documents are still reported.
mkdir tree
cp invalid.yaml tree/a.yaml
cp syntax.yaml tree/b.yml
printf 'not yaml at all: [' >tree/ignored.txt
run tree 2 validate --output json tree
jq -e '.resources | length == 1' tree.out >/dev/null || fail "tree: want exactly the one decodable resource"
jq -e '.errors | length == 1 and .[0].source == "tree/b.yml" and .[0].line > 0 and .[0].column > 0' tree.out >/dev/null ||
  fail "tree: error entry missing or without position"

# Usage errors are exit 2 as well.
run no_path 2 validate
run bad_output 2 validate --output yaml invalid.yaml

# Empty input is valid.
: >empty.yaml
run empty 0 validate empty.yaml
expect_stdout empty </dev/null

if [ "$failures" -ne 0 ]; then
  echo "test_validate: $failures failure(s)" >&2
  exit 1
fi
echo "test_validate: all checks passed"
