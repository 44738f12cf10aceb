#!/usr/bin/python3
"""Both ends of the TCP bulk benchmark (bench/tcp_bulk.sh), kept minimal so the load side costs little.

  tcp_bulk_peer.py sink PORT COUNTS_FILE        # accepts; reads every connection to EOF into a
                                                # reused 256 KiB buffer; appends its byte count
  tcp_bulk_peer.py source PORT BYTES            # accepts; sends BYTES zero bytes, then closes
  tcp_bulk_peer.py upload PORT BYTES STREAMS    # STREAMS parallel connections, each sends BYTES,
                                                # half-closes and waits for the proxy's close
  tcp_bulk_peer.py download PORT BYTES STREAMS  # STREAMS parallel connections, each reads to EOF
                                                # and must get exactly BYTES

The clients print the wall-clock seconds from the first connect to the last connection's end, and
exit 1 when a stream moved a different number of bytes.
"""
import socket
import sys
import threading
import time

CHUNK = 256 * 1024


def serve(port, handler):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(128)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def read_all(conn):
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    total = 0
    while True:
        n = conn.recv_into(view)
        if n == 0:
            return total
        total += n


def send_all(conn, nbytes):
    data = memoryview(bytes(CHUNK))
    left = nbytes
    while left > 0:
        n = min(left, CHUNK)
        conn.sendall(data[:n])
        left -= n


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "sink":
        counts_file = sys.argv[3]
        lock = threading.Lock()

        def sink(conn):
            total = read_all(conn)
            conn.close()
            with lock, open(counts_file, "a") as f:
                f.write(f"{total}\n")

        serve(port, sink)
    elif mode == "source":
        nbytes = int(sys.argv[3])

        def source(conn):
            try:
                send_all(conn, nbytes)
                conn.shutdown(socket.SHUT_WR)
                read_all(conn)  # until the peer closes too
            except OSError:
                pass
            conn.close()

        serve(port, source)
    elif mode in ("upload", "download"):
        nbytes, streams = int(sys.argv[3]), int(sys.argv[4])
        errors = []

        def client():
            try:
                c = socket.create_connection(("127.0.0.1", port))
                if mode == "upload":
                    send_all(c, nbytes)
                    c.shutdown(socket.SHUT_WR)
                    if read_all(c) != 0:
                        errors.append("upload: the proxy sent bytes back")
                else:
                    got = read_all(c)
                    if got != nbytes:
                        errors.append(f"download: got {got} bytes, want {nbytes}")
                c.close()
            except OSError as e:
                errors.append(f"{mode}: {e}")

        threads = [threading.Thread(target=client) for _ in range(streams)]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        if errors:
            print("\n".join(errors), file=sys.stderr)
            sys.exit(1)
        print(f"{elapsed:.4f}")
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
