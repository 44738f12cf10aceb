#!/usr/bin/env python3
"""Opens N keep-alive HTTP/1.1 connections, sends one GET on each, reads each response whole, and
then holds every connection open and idle until stdin closes (used by bench/idle_connections.sh).

    idle_conns_client.py PORT N    # prints "ready N" on stdout once all N responses were read
"""
import socket
import sys


def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed before the response head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed in the body")
        body += chunk
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError("unexpected response: %r" % head[:60])


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    conns = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET / HTTP/1.1\r\nHost: idle\r\n\r\n")
        read_response(s)
        conns.append(s)
    print("ready %d" % len(conns), flush=True)
    sys.stdin.read()  # hold until the caller closes our stdin
    for s in conns:
        s.close()


if __name__ == "__main__":
    main()
