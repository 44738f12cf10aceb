#!/usr/bin/env python3
"""Prints a free loopback TCP port from meshlog's netsink test range (25000-29999)."""
import random
import socket

for _ in range(200):
    port = random.randint(25000, 29999)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("no free port in 25000-29999")
