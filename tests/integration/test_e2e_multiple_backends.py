#!/usr/bin/python3
"""End to end: one request through a real `meshlog run` sidecar is logged to File, TCP and
OpenTelemetry at once (the seed's "Logging to multiple backends" MeshAccessLog), and the three
records agree.

Receivers meshlog does not implement: socat (TCP, appending to a file) and a Python OTLP/gRPC
server on Debian's python3-grpcio (tests/receivers/otlp_dump_receiver.py, one JSON line per
decoded LogRecord). Asserted:
  - the File line is exactly "[START]\n", START an Envoy %START_TIME% (2026-11-27T13:21:20.123Z)
    inside the window in which curl ran;
  - the TCP receiver got exactly '{"start_time":"START"}\n';
  - the OTLP LogRecord: body kvlist {mesh: default}, attributes [start_time=START] (string),
    time_unix_nano = the same instant (START is its millisecond truncation), resource attributes
    as Kuma's Envoy sends them (log_name, zone_name, cluster_name, node_name = Envoy node id
    "<mesh>.<dataplane>", kuma.mesh);
  - /metrics: each backend written 1, dropped 0, nothing queued.
Then both network receivers are killed, more requests are sent, the receivers are restarted on the
same ports, and every record of the File backend (the local ground truth) must arrive at both
(at-least-once: every start time at least as often as in the file), with zero drops in /metrics.

The seed indents the OTel body as `kvlistValue:` with `values:` beside it (a typo that Kuma turns
into a string body); this test uses the intended nesting, so the body is a real kvlist.
Ports: 30400-30419 (loopback).
"""
import collections
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SRC = os.environ.get("MESHLOG_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("MESHLOG_BIN") or os.path.join(SRC, "build/release/src/cli/meshlog")
PY = "/usr/bin/python3"
APP_HTTP, INBOUND, ADMIN, TCP_RX, OTLP_RX = 30400, 30401, 30402, 30403, 30404
AFTER_OUTAGE = 25  # requests sent while both network receivers are down

work = tempfile.mkdtemp(prefix="meshlog-e2e-")
procs = {}


def start(name, argv, **kw):
    out = open(os.path.join(work, name + ".out"), "ab")
    # Own process group: socat forks a child per connection; killing the group kills both.
    procs[name] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kw)
    return procs[name]


def kill(name, sig=signal.SIGKILL):
    p = procs.pop(name, None)
    if p is None:
        return
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        pass
    p.wait(timeout=10)


def cleanup():
    for name in list(procs):
        kill(name)
    if not os.environ.get("DEBUG_KEEP"):
        shutil.rmtree(work, ignore_errors=True)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    for f in sorted(os.listdir(work)):
        p = os.path.join(work, f)
        if os.path.isfile(p) and (f.endswith(".out") or f.endswith(".log") or f.endswith(".jsonl")):
            with open(p, errors="replace") as fh:
                print(f"--- {f}\n{fh.read()[-4000:]}", file=sys.stderr)
    cleanup()
    sys.exit(1)


def wait_port(port, what, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    fail(f"{what} not listening on {port}")


def http_get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, r.read().decode()


def read_lines(name):
    path = os.path.join(work, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        data = f.read()
    return data.splitlines()


def wait_for(pred, what, timeout=40):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    fail(f"timed out waiting for {what}")


def metrics():
    return http_get(f"http://127.0.0.1:{ADMIN}/metrics")[1]


def metric(text, family, backend, destination):
    pat = re.compile(r'^' + re.escape(f'{family}{{backend="{backend}",destination="{destination}"}}') + r' (\S+)$', re.M)
    m = pat.findall(text)
    if len(m) != 1:
        fail(f"metric {family} for {backend} {destination}: {m}\n{text}")
    return float(m[0])


def dropped(text, backend, destination):
    """Sum of every meshlog_access_log_*dropped* sample of one backend."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("meshlog_access_log_") and "dropped" in line.split("{")[0] and \
                f'backend="{backend}",destination="{destination}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def start_tcp_rx():
    start("socat", ["socat", "-u", f"TCP-LISTEN:{TCP_RX},bind=127.0.0.1,reuseaddr,fork",
                    f"OPEN:{work}/tcp-rx.log,creat,append"])
    wait_port(TCP_RX, "socat")


def start_otlp_rx():
    start("otlp", [PY, os.path.join(SRC, "tests/receivers/otlp_dump_receiver.py"), "--port", str(OTLP_RX),
                   "--out", f"{work}/otlp.jsonl", "--proto-dir", os.path.join(SRC, "proto"),
                   "--gen-dir", f"{work}/gen"])
    wait_port(OTLP_RX, "OTLP receiver")


START_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z$")


def start_ms(s):
    """Milliseconds since the epoch of an Envoy %START_TIME% rendering, or fail."""
    import calendar
    m = START_RE.match(s)
    if not m:
        fail(f"not an Envoy START_TIME: {s!r}")
    y, mo, d, h, mi, sec, ms = map(int, m.groups())
    return calendar.timegm((y, mo, d, h, mi, sec)) * 1000 + ms


def main():
    os.makedirs(f"{work}/mesh")
    with open(f"{work}/mesh/mesh.yaml", "w") as f:
        f.write(f"""type: Dataplane
mesh: default
name: backend-1
networking:
  address: 127.0.0.1
  inbound:
  - port: {INBOUND}
    servicePort: {APP_HTTP}
    tags:
      kuma.io/service: backend
      kuma.io/protocol: http
---
type: MeshAccessLog
name: multiple-backends
mesh: default
spec:
  rules:
  - default:
      backends:
      - type: Tcp
        tcp:
          address: 127.0.0.1:{TCP_RX}
          format:
            type: Json
            json:
            - key: start_time
              value: "%START_TIME%"
      - type: File
        file:
          path: "{work}/file.log"
          format:
            type: Plain
            plain: "[%START_TIME%]"
      - type: OpenTelemetry
        openTelemetry:
          endpoint: 127.0.0.1:{OTLP_RX}
          body:
            kvlistValue:
              values:
              - key: mesh
                value:
                  stringValue: "%KUMA_MESH%"
          attributes:
          - key: start_time
            value: "%START_TIME%"
""")
    start_tcp_rx()
    start_otlp_rx()
    start("app", [BIN, "demo-app", "--http", f"127.0.0.1:{APP_HTTP}", "--name", "backend"])
    start("sidecar", [BIN, "run", "--name", "backend-1", "--resources", f"{work}/mesh",
                      "--admin", f"127.0.0.1:{ADMIN}", "--workers", "2", "--drain-timeout", "5"])
    wait_port(APP_HTTP, "demo app")
    wait_for(lambda: _ready(), "sidecar /ready", timeout=15)

    # --- one request, three records ---
    t0_ms = time.time_ns() // 1_000_000
    status, body = http_get(f"http://127.0.0.1:{INBOUND}/e2e", {"x-request-id": "e2e-1"})
    t1_ms = time.time_ns() // 1_000_000 + 1
    if status != 200 or body != "backend GET /e2e body=0 request-id=e2e-1\n":
        fail(f"request through the sidecar: {status} {body!r}")
    wait_for(lambda: read_lines("file.log") and read_lines("tcp-rx.log") and read_lines("otlp.jsonl"),
             "one record at each backend", timeout=15)
    time.sleep(1.2)  # anything extra (a duplicate, a second record) would show up by now

    file_lines = read_lines("file.log")
    if len(file_lines) != 1 or not re.fullmatch(r"\[[^]]+\]", file_lines[0]):
        fail(f"File backend: {file_lines}")
    start_time = file_lines[0][1:-1]
    ms = start_ms(start_time)
    if not t0_ms <= ms <= t1_ms:
        fail(f"START_TIME {start_time} ({ms}) outside the request window [{t0_ms}, {t1_ms}]")
    with open(f"{work}/file.log") as f:
        if f.read() != f"[{start_time}]\n":
            fail("File backend line is not exactly [START_TIME] + newline")

    with open(f"{work}/tcp-rx.log") as f:
        tcp = f.read()
    if tcp != '{"start_time":"' + start_time + '"}\n':
        fail(f"TCP backend: {tcp!r}, expected the JSON line for {start_time}")

    otlp = [json.loads(l) for l in read_lines("otlp.jsonl")]
    if len(otlp) != 1:
        fail(f"OTLP records: {otlp}")
    rec = otlp[0]
    want_resource = [["log_name", "MeshAccessLog"], ["zone_name", ""], ["cluster_name", "backend"],
                     ["node_name", "default.backend-1"], ["kuma.mesh", "default"]]
    if rec["resource"] != want_resource:
        fail(f"OTLP resource attributes {rec['resource']} != {want_resource}")
    if rec["body"] != {"kvlistValue": {"values": [{"key": "mesh", "value": {"stringValue": "default"}}]}}:
        fail(f"OTLP body {rec['body']}")
    if rec["attributes"] != [["start_time", {"stringValue": start_time}]]:
        fail(f"OTLP attributes {rec['attributes']} (start time {start_time})")
    tun = int(rec["time_unix_nano"])
    if tun // 1_000_000 != ms:
        fail(f"OTLP time_unix_nano {tun} is not the start time {start_time} ({ms} ms)")
    if rec["trace_id"] or rec["span_id"]:
        fail(f"trace/span set without trace headers: {rec}")

    m = metrics()
    otlp_dest = re.findall(r'^meshlog_access_log_records_sent_total\{backend="otlp",destination="([^"]+)"\}', m, re.M)
    if len(otlp_dest) != 1:
        fail(f"expected one OpenTelemetry backend in /metrics, got {otlp_dest}:\n{m}")
    if otlp_dest[0] != f"127.0.0.1:{OTLP_RX}":
        fail(f"OpenTelemetry backend destination {otlp_dest[0]}")
    backends = [("file", f"{work}/file.log"), ("tcp", f"127.0.0.1:{TCP_RX}"), ("otlp", otlp_dest[0])]
    check_metrics(m, backends, 1)

    # --- outage: both network receivers die, requests keep coming, receivers come back ---
    kill("socat")
    kill("otlp")
    for i in range(AFTER_OUTAGE):
        status, _ = http_get(f"http://127.0.0.1:{INBOUND}/outage/{i}")
        if status != 200:
            fail(f"request {i} during the receiver outage got {status}")
        time.sleep(0.02)
    time.sleep(1.5)  # batches flush and fail against the dead receivers
    start_tcp_rx()
    start_otlp_rx()
    total = 1 + AFTER_OUTAGE
    wait_for(lambda: len(read_lines("file.log")) >= total and len(read_lines("tcp-rx.log")) >= total
             and len(read_lines("otlp.jsonl")) >= total, f"{total} records at each backend", timeout=60)
    time.sleep(1.2)

    file_times = collections.Counter(l[1:-1] for l in read_lines("file.log"))
    if sum(file_times.values()) != total:
        fail(f"File backend has {sum(file_times.values())} lines, expected {total}")
    tcp_times = collections.Counter()
    for l in read_lines("tcp-rx.log"):
        try:
            obj = json.loads(l)
        except ValueError:
            fail(f"garbled TCP line {l!r}")
        if list(obj) != ["start_time"]:
            fail(f"unexpected TCP record {l!r}")
        tcp_times[obj["start_time"]] += 1
    otlp_times = collections.Counter()
    for l in read_lines("otlp.jsonl"):
        r = json.loads(l)
        st = dict((k, v.get("stringValue")) for k, v in r["attributes"]).get("start_time")
        if int(r["time_unix_nano"]) // 1_000_000 != start_ms(st) or r["resource"] != want_resource:
            fail(f"OTLP record after the outage disagrees: {r}")
        otlp_times[st] += 1
    for st, n in file_times.items():
        if tcp_times[st] < n:
            fail(f"TCP lost the record(s) started at {st}: file {n}, TCP {tcp_times[st]}")
        if otlp_times[st] < n:
            fail(f"OTLP lost the record(s) started at {st}: file {n}, OTLP {otlp_times[st]}")
    if set(tcp_times) - set(file_times) or set(otlp_times) - set(file_times):
        fail("a network backend received a start time the File backend never wrote")
    m = metrics()
    check_metrics(m, backends, total)
    # The outage really was one: the TCP sink saw its connection break or connects fail, and the
    # OTLP sink had Export calls fail.
    tcp_dest, otlp_d = backends[1][1], backends[2][1]
    if metric(m, "meshlog_access_log_connection_errors_total", "tcp", tcp_dest) + \
            metric(m, "meshlog_access_log_connect_failures_total", "tcp", tcp_dest) == 0:
        fail(f"TCP sink never noticed the receiver outage\n{m}")
    if metric(m, "meshlog_access_log_requests_failed_total", "otlp", otlp_d) == 0:
        fail(f"OTLP sink never noticed the receiver outage\n{m}")

    # --- SIGTERM: clean exit ---
    p = procs.pop("sidecar")
    p.send_signal(signal.SIGTERM)
    if p.wait(timeout=15) != 0:
        fail(f"sidecar exit code {p.returncode} after SIGTERM")
    print(f"PASS (start_time {start_time}; {total} records at File, TCP and OpenTelemetry; "
          f"duplicates after the outage: TCP {sum(tcp_times.values()) - total}, OTLP {sum(otlp_times.values()) - total})")
    cleanup()


def check_metrics(m, backends, n):
    """Every backend wrote/sent n records (network backends: at least n, retries aside), and
    nothing was dropped, rejected or left queued."""
    for backend, dest in backends:
        if backend == "file":
            written = metric(m, "meshlog_access_log_written_total", backend, dest)
            if written != n:
                fail(f"/metrics: file {dest} written {written} != {n}\n{m}")
        else:
            pushed = metric(m, "meshlog_access_log_records_pushed_total", backend, dest)
            sent = metric(m, "meshlog_access_log_records_sent_total", backend, dest)
            if pushed != n or sent < n:
                fail(f"/metrics: {backend} {dest} pushed {pushed}, sent {sent}, expected {n}\n{m}")
        if backend == "otlp" and metric(m, "meshlog_access_log_records_rejected_total", backend, dest) != 0:
            fail(f"/metrics: otlp records rejected\n{m}")
        d = dropped(m, backend, dest)
        if d != 0:
            fail(f"/metrics: {backend} {dest} dropped {d}\n{m}")
        q = metric(m, "meshlog_access_log_queued", backend, dest)
        if q != 0:
            fail(f"/metrics: {backend} {dest} still queued {q}\n{m}")


def _ready():
    try:
        return http_get(f"http://127.0.0.1:{ADMIN}/ready")[1].strip() == "LIVE"
    except OSError:
        return False


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - report with the logs, then clean up
        fail(f"{type(e).__name__}: {e}")
