#!/usr/bin/env bash
# The main job (`make demo`). Until the sidecar lands, the demo validates the shipped examples:
# every MeshAccessLog of the seed document, in Universal and Kubernetes form, with Kuma's rules.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MESHLOG_BIN:-build/release/src/cli/meshlog}
echo "== meshlog validate examples/"
"$BIN" validate examples/
