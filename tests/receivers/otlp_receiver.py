#!/usr/bin/python3
"""An OTLP logs receiver for meshlog's integration tests, independent of meshlog's C++ code.

Serves OTLP/gRPC (LogsService/Export, on Debian's python3-grpcio) or OTLP/HTTP (POST <path>,
application/x-protobuf, stdlib http.server). Message classes are generated at start-up from the
repository's proto/ with protoc --python_out (no grpc_tools needed).

Each request is decoded and checked against meshlog_netsink_driver's record scheme, then answered
according to --script, a comma-separated list used in turn (request i gets item i % len):
  ok                   success
  partial:K            success with partial_success.rejected_log_records = K (last K rejected)
  unavailable          gRPC UNAVAILABLE / HTTP 503
  unavailable-retry:MS gRPC UNAVAILABLE + google.rpc.RetryInfo(MS) / HTTP 503 + Retry-After (s)
  throttle[:MS]        HTTP 429 + Retry-After (s, default 1) / gRPC RESOURCE_EXHAUSTED + RetryInfo
  invalid              gRPC INVALID_ARGUMENT / HTTP 400 (not retryable)
One JSON line per request goes to --out (flushed before the answer is sent, so a record written
there as accepted was accepted before the client could see the answer).
"""
import argparse
import glob
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time

DRIVER_BASE_TIME = 1700000000000000000
RESOURCE = [["log_name", "MeshAccessLog"], ["zone_name", "zone-1"], ["cluster_name", "backend"],
            ["node_name", "backend-01"], ["kuma.mesh", "default"], ["kuma.zone", "zone-1"],
            ["kuma.workload", "kri_wl_default_zone-1_kuma-demo_backend_"]]


def generate(proto_dir, gen=None):
    if gen:
        os.makedirs(gen, exist_ok=True)
    else:
        gen = tempfile.mkdtemp(prefix="meshlog-otlp-py-")
    protos = [os.path.relpath(p, proto_dir) for p in glob.glob(os.path.join(proto_dir, "**/*.proto"), recursive=True)]
    subprocess.run(["protoc", "-I", proto_dir, "-I", "/usr/include", "--python_out", gen] + protos, check=True)
    sys.path.insert(0, gen)


def expected_text(seq, prefix="rec", size=200):
    s = f"{prefix} {seq:010d} "
    return s + "x" * max(0, size - 1 - len(s))


class Receiver:
    def __init__(self, args):
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
        from google.rpc import status_pb2, error_details_pb2
        self.pb = logs_service_pb2
        self.status_pb2 = status_pb2
        self.error_details_pb2 = error_details_pb2
        self.script = args.script.split(",")
        self.out = open(args.out, "a", buffering=1)
        self.lock = threading.Lock()
        self.count = 0
        self.args = args

    def decide(self, req):
        """Returns (action, event) and writes the event."""
        with self.lock:
            idx = self.count
            self.count += 1
        action = self.script[idx % len(self.script)]
        errors, seqs = [], []
        if len(req.resource_logs) != 1:
            errors.append(f"resource_logs={len(req.resource_logs)}")
        for rl in req.resource_logs:
            res = [[kv.key, kv.value.string_value] for kv in rl.resource.attributes]
            if res != RESOURCE:
                errors.append(f"resource attributes {res}")
            if len(rl.scope_logs) != 1:
                errors.append(f"scope_logs={len(rl.scope_logs)}")
            for sl in rl.scope_logs:
                if sl.HasField("scope"):
                    errors.append("scope set")
                for lr in sl.log_records:
                    attrs = [[kv.key, kv.value.string_value] for kv in lr.attributes]
                    if len(attrs) != 2 or attrs[0][0] != "seq" or attrs[1] != ["mesh", "default"]:
                        errors.append(f"attributes {attrs}")
                        continue
                    seq = int(attrs[0][1])
                    seqs.append(seq)
                    if lr.time_unix_nano != DRIVER_BASE_TIME + seq:
                        errors.append(f"time {lr.time_unix_nano} for {seq}")
                    if lr.body.WhichOneof("value") != "string_value" or lr.body.string_value != expected_text(seq):
                        errors.append(f"body {lr.body!r:.80} for {seq}")
                    if seq % 2 == 0:
                        tid = bytes([1] + [0] * 7) + seq.to_bytes(8, "big")
                        if lr.trace_id != tid or lr.span_id != seq.to_bytes(8, "big"):
                            errors.append(f"trace/span for {seq}")
                    elif lr.trace_id or lr.span_id:
                        errors.append(f"unexpected trace/span for {seq}")
        kind, _, arg = action.partition(":")
        accepted, rejected = [], []
        if kind == "ok":
            accepted = seqs
        elif kind == "partial":
            k = min(int(arg), len(seqs))
            accepted, rejected = seqs[:len(seqs) - k], seqs[len(seqs) - k:]
        event = {"t": time.time(), "pid": os.getpid(), "idx": idx, "action": action, "n": len(seqs),
                 "first": seqs[0] if seqs else None, "accepted": accepted, "rejected": rejected,
                 "errors": errors[:5]}
        self.out.write(json.dumps(event) + "\n")
        self.out.flush()
        return kind, arg, len(rejected)

    def partial_response(self, rejected):
        resp = self.pb.ExportLogsServiceResponse()
        if rejected:
            resp.partial_success.rejected_log_records = rejected
            resp.partial_success.error_message = f"rejected {rejected} records (test)"
        return resp

    def rpc_status(self, code, message, retry_ms=None):
        st = self.status_pb2.Status(code=code, message=message)
        if retry_ms is not None:
            info = self.error_details_pb2.RetryInfo()
            info.retry_delay.seconds = retry_ms // 1000
            info.retry_delay.nanos = (retry_ms % 1000) * 1000000
            st.details.add().Pack(info)
        return st

    # ---- gRPC ----
    def serve_grpc(self, port):
        import grpc
        from concurrent import futures

        receiver = self

        class Status(grpc.Status):
            def __init__(self, code, details, trailing_metadata):
                self.code, self.details, self.trailing_metadata = code, details, trailing_metadata

        def export(request, context):
            kind, arg, rejected = receiver.decide(request)
            if kind in ("ok", "partial"):
                return receiver.partial_response(rejected)
            if kind == "unavailable":
                context.abort(grpc.StatusCode.UNAVAILABLE, "unavailable (test)")
            if kind in ("unavailable-retry", "throttle"):
                ms = int(arg) if arg else 1000
                code = grpc.StatusCode.UNAVAILABLE if kind == "unavailable-retry" else grpc.StatusCode.RESOURCE_EXHAUSTED
                st = receiver.rpc_status(code.value[0], "retry later (test)", ms)
                context.abort_with_status(Status(code, "retry later (test)",
                                                 (("grpc-status-details-bin", st.SerializeToString()),)))
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid (test)")

        handler = grpc.method_handlers_generic_handler(
            "opentelemetry.proto.collector.logs.v1.LogsService",
            {"Export": grpc.unary_unary_rpc_method_handler(
                export, request_deserializer=self.pb.ExportLogsServiceRequest.FromString,
                response_serializer=self.pb.ExportLogsServiceResponse.SerializeToString)})
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        server.add_generic_rpc_handlers((handler,))
        server.add_insecure_port(f"127.0.0.1:{port}")
        server.start()
        print(f"otlp_receiver: grpc on 127.0.0.1:{port}", flush=True)
        server.wait_for_termination()

    # ---- HTTP ----
    def serve_http(self, port, path):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def reply(self, code, body, headers=()):
                self.send_response(code)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path != path or self.headers.get("Content-Type") != "application/x-protobuf":
                    return self.reply(404 if self.path != path else 415,
                                      receiver.rpc_status(3, f"bad path/type {self.path}").SerializeToString())
                req = receiver.pb.ExportLogsServiceRequest()
                req.ParseFromString(body)
                kind, arg, rejected = receiver.decide(req)
                if kind in ("ok", "partial"):
                    return self.reply(200, receiver.partial_response(rejected).SerializeToString())
                if kind == "unavailable":
                    return self.reply(503, receiver.rpc_status(14, "unavailable (test)").SerializeToString())
                if kind == "unavailable-retry":
                    secs = math.ceil(int(arg) / 1000)
                    return self.reply(503, receiver.rpc_status(14, "retry later").SerializeToString(),
                                      [("Retry-After", str(secs))])
                if kind == "throttle":
                    secs = math.ceil(int(arg) / 1000) if arg else 1
                    return self.reply(429, receiver.rpc_status(8, "throttled").SerializeToString(),
                                      [("Retry-After", str(secs))])
                return self.reply(400, receiver.rpc_status(3, "invalid (test)").SerializeToString())

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        print(f"otlp_receiver: http on 127.0.0.1:{port}{path}", flush=True)
        server.serve_forever()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--protocol", choices=["grpc", "http"], required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/v1/logs")
    ap.add_argument("--out", required=True)
    ap.add_argument("--script", default="ok")
    ap.add_argument("--proto-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "proto"))
    ap.add_argument("--gen-dir", help="where to put the generated Python modules (default: a new temp dir)")
    args = ap.parse_args()
    generate(os.path.abspath(args.proto_dir), args.gen_dir)
    r = Receiver(args)
    if args.protocol == "grpc":
        r.serve_grpc(args.port)
    else:
        r.serve_http(args.port, args.path)


if __name__ == "__main__":
    main()
