#!/usr/bin/env python3
"""Checks what TCP receivers wrote against what meshlog_netsink_driver sent.

usage: tcp_check.py --count N --size S --prefix P --stats stats.json [--expect-reconnect] out.1 out.2 ...

Files are in receiver-instance order. Every complete line must be exactly one driver record
"<prefix> <10-digit seq> xxx..." of S-1 bytes. Only a file written by a receiver that was killed
(every file but the last) may end with an unterminated fragment (the receiver died mid-line; the
record is re-sent whole on the next connection). Every seq in [0, N) must be present (at-least-
once); duplicates are counted and reported, not failed. The sink's stats must show nothing
dropped.
"""
import argparse
import json
import re
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--size", type=int, default=200)
    ap.add_argument("--prefix", default="rec")
    ap.add_argument("--stats", required=True)
    ap.add_argument("--expect-reconnect", action="store_true")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()

    line_re = re.compile(re.escape(a.prefix).encode() + rb" (\d{10}) x+")
    seen = [0] * a.count
    truncated = 0
    errors = []
    for i, path in enumerate(a.files):
        data = open(path, "rb").read()
        lines = data.split(b"\n")
        tail = lines.pop()  # b"" when the file ends with "\n"
        if tail:
            if i == len(a.files) - 1:
                errors.append(f"{path}: unterminated last line from the last receiver: {tail[:60]!r}")
            truncated += 1
        for ln in lines:
            m = line_re.fullmatch(ln)
            if not m or len(ln) != a.size - 1:
                errors.append(f"{path}: garbled line {ln[:80]!r}")
                continue
            n = int(m.group(1))
            if n >= a.count:
                errors.append(f"{path}: unknown seq {n}")
                continue
            seen[n] += 1
    missing = [n for n, c in enumerate(seen) if c == 0]
    dups = sum(c - 1 for c in seen if c > 1)
    stats = json.loads(open(a.stats).read())
    print(f"records={a.count} missing={len(missing)} duplicates={dups} truncated_fragments={truncated} "
          f"sent={stats['records_sent']} retried={stats['records_retried']} "
          f"connection_errors={stats['connection_errors']} connects={stats['connects']}")
    if missing:
        errors.append(f"{len(missing)} records missing, first {missing[:10]}")
    for key in ("dropped_queue_full", "dropped_shutdown", "refused", "unconfirmed_at_shutdown"):
        if stats[key] != 0:
            errors.append(f"stats {key} = {stats[key]}")
    if stats["records_sent"] != a.count:
        errors.append(f"stats records_sent = {stats['records_sent']} != {a.count}")
    if a.expect_reconnect:
        if stats["connection_errors"] < 1 or stats["connects"] < 2:
            errors.append("expected the connection to break and be re-established")
        if stats["records_retried"] < 1:
            errors.append("expected records to be re-sent after the reconnect")
    for e in errors[:20]:
        print("FAIL:", e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
