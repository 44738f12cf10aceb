#!/usr/bin/env bash
# OTLP/http backend against a Python receiver (Debian's python3-grpcio / stdlib http.server)
# that answers UNAVAILABLE, throttling and partial success in turn and is killed and restarted
# mid-stream. See tests/receivers/otlp_test.py for what is asserted.
set -euo pipefail
SRC=${MESHLOG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
exec /usr/bin/python3 "$SRC/tests/receivers/otlp_test.py" --protocol http
