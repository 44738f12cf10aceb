#!/usr/bin/python3
"""End-to-end OTLP backend test: meshlog_netsink_driver -> OtlpSink -> otlp_receiver.py.

The receiver answers success, UNAVAILABLE (with and without RetryInfo / Retry-After), throttling
and partial success in turn, and is killed (SIGKILL) mid-stream and restarted on the same port.
Asserts: every record was accepted or rejected by a receiver (at-least-once; duplicates counted),
every request was well formed (one ResourceLogs with the expected resource attributes in order,
one ScopeLogs, records with the right time, body, attributes, trace/span ids), server-requested
retry delays were honoured, and the sink's stats account for every record exactly
(records_sent + records_rejected == count, nothing dropped).

usage: otlp_test.py --protocol grpc|http   (env MESHLOG_BIN or MESHLOG_NETSINK_DRIVER)
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("MESHLOG_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..")))


def driver_path():
    if os.environ.get("MESHLOG_NETSINK_DRIVER"):
        return os.environ["MESHLOG_NETSINK_DRIVER"]
    return os.path.join(os.path.dirname(os.environ["MESHLOG_BIN"]), "..", "sink", "meshlog_netsink_driver")


def free_port():
    return int(subprocess.check_output([sys.executable, os.path.join(HERE, "free_port.py")]).decode())


def wait_port(port, timeout=20):
    import socket
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"receiver did not listen on {port}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--protocol", choices=["grpc", "http"], required=True)
    ap.add_argument("--count", type=int, default=30000)
    ap.add_argument("--rate", type=int, default=10000)
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix=f"meshlog-otlp-{a.protocol}-")
    port = free_port()
    path = "/otel/v1/logs"
    # gRPC delays in ms (RetryInfo); HTTP Retry-After has whole seconds.
    slow = "300" if a.protocol == "grpc" else "1000"
    script = f"ok,ok,unavailable,ok,partial:3,ok,unavailable-retry:{slow},ok,ok,throttle:{slow},ok,ok"
    procs = []

    def start_receiver(i):
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "otlp_receiver.py"), "--protocol", a.protocol,
                              "--port", str(port), "--path", path, "--out", f"{work}/events.{i}",
                              "--script", script, "--gen-dir", f"{work}/gen.{i}"])
        procs.append(p)
        wait_port(port)
        return p

    try:
        rx1 = start_receiver(1)
        cmd = [driver_path(), "otlp", "--protocol", a.protocol, "--endpoint", f"127.0.0.1:{port}",
               "--count", str(a.count), "--rate", str(a.rate), "--retry-initial-ms", "50",
               "--retry-max-ms", "500", "--max-in-flight", "8", "--drain-ms", "60000"]
        if a.protocol == "http":
            cmd += ["--path", path]
        drv = subprocess.Popen(cmd, stdout=subprocess.PIPE)
        procs.append(drv)
        time.sleep(1.2)
        rx1.send_signal(signal.SIGKILL)
        rx1.wait()
        print("killed receiver 1", flush=True)
        time.sleep(0.8)
        rx2 = start_receiver(2)
        out, _ = drv.communicate(timeout=180)
        stats = json.loads(out.decode())
        print(json.dumps(stats), flush=True)
        rx2.kill()
        rx2.wait()

        events = []
        for i in (1, 2):
            with open(f"{work}/events.{i}") as f:
                for line in f:
                    if line.endswith("\n"):
                        events.append(json.loads(line))
        errors = []
        seen = [0] * a.count
        rejected_total = 0
        for e in events:
            if e["errors"]:
                errors.append(f"request {e['idx']} (pid {e['pid']}): {e['errors']}")
            for s in e["accepted"] + e["rejected"]:
                seen[s] += 1
            rejected_total += len(e["rejected"])
        missing = [i for i, c in enumerate(seen) if c == 0]
        dups = sum(c - 1 for c in seen if c > 1)
        pids = {e["pid"] for e in events}
        # Server-requested delays: the next attempt of the same batch (same first record) must not
        # come earlier than RetryInfo / Retry-After asked.
        delays_checked = 0
        for i, e in enumerate(events):
            kind, _, arg = e["action"].partition(":")
            if kind not in ("unavailable-retry", "throttle") or e["first"] is None:
                continue
            want = int(arg) / 1000.0
            if a.protocol == "http":
                want = float(-(-int(arg) // 1000))  # Retry-After: whole seconds
            nxt = [x for x in events[i + 1:] if x["first"] == e["first"] and x["t"] > e["t"]]
            if not nxt:
                continue  # the receiver died before the retry reached it
            gap = min(x["t"] for x in nxt) - e["t"]
            delays_checked += 1
            if gap < want - 0.05:
                errors.append(f"retry after {gap:.3f}s, server asked {want}s ({e['action']})")
        print(f"protocol={a.protocol} records={a.count} requests={len(events)} receivers={len(pids)} "
              f"missing={len(missing)} duplicates={dups} rejected_by_receiver={rejected_total} "
              f"retry_delays_checked={delays_checked}", flush=True)
        if missing:
            errors.append(f"{len(missing)} records never reached a receiver, first {missing[:10]}")
        if len(pids) != 2:
            errors.append(f"expected requests at both receiver instances, got {len(pids)}")
        if delays_checked == 0:
            errors.append("no server-requested retry delay could be checked")
        for key in ("dropped_queue_full", "dropped_non_retryable", "dropped_retry_exhausted", "dropped_shutdown",
                    "refused"):
            if stats[key] != 0:
                errors.append(f"stats {key} = {stats[key]}")
        if stats["records_sent"] + stats["records_rejected"] != a.count:
            errors.append(f"stats sent {stats['records_sent']} + rejected {stats['records_rejected']} != {a.count}")
        if not (0 < stats["records_rejected"] <= rejected_total):
            errors.append(f"stats records_rejected {stats['records_rejected']} vs receiver {rejected_total}")
        if stats["records_retried"] == 0 or stats["requests_retried"] == 0:
            errors.append("nothing was retried")
        for e in errors[:20]:
            print("FAIL:", e, file=sys.stderr)
        return 1 if errors else 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
