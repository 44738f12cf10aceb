#!/usr/bin/python3
"""An OTLP/gRPC logs receiver that writes every decoded LogRecord as one JSON line (for the
end-to-end test; independent of meshlog's C++ code, on Debian's python3-grpcio).

Each line (appended to --out, flushed before the Export call is answered OK):
  {"resource": [[key, value], ...], "time_unix_nano": N, "body": <AnyValue as protobuf JSON>,
   "attributes": [[key, <AnyValue as protobuf JSON>], ...], "trace_id": hex, "span_id": hex}
Resource attribute values are the string values (meshlog sends only strings there).
With --count-only (for benchmarks) each Export call appends only its number of LogRecords.

  /usr/bin/python3 otlp_dump_receiver.py --port 30401 --out /tmp/otlp.jsonl --gen-dir /tmp/gen
"""
import argparse
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otlp_receiver import generate  # noqa: E402  (same proto/ -> Python modules step)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--proto-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "proto"))
    ap.add_argument("--gen-dir", help="where to put the generated Python modules (default: a new temp dir)")
    ap.add_argument("--count-only", action="store_true", help="append one record count per Export call")
    args = ap.parse_args()
    generate(os.path.abspath(args.proto_dir), args.gen_dir)

    import grpc
    from concurrent import futures
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as pb

    out = open(args.out, "a", buffering=1)
    lock = threading.Lock()

    def export(request, context):
        if args.count_only:
            n = sum(len(sl.log_records) for rl in request.resource_logs for sl in rl.scope_logs)
            with lock:
                out.write(f"{n}\n")
            return pb.ExportLogsServiceResponse()
        lines = []
        for rl in request.resource_logs:
            res = [[kv.key, kv.value.string_value] for kv in rl.resource.attributes]
            for sl in rl.scope_logs:
                for lr in sl.log_records:
                    lines.append(json.dumps({
                        "resource": res,
                        "time_unix_nano": lr.time_unix_nano,
                        "body": MessageToDict(lr.body),
                        "attributes": [[kv.key, MessageToDict(kv.value)] for kv in lr.attributes],
                        "trace_id": lr.trace_id.hex(),
                        "span_id": lr.span_id.hex(),
                    }, sort_keys=True))
        with lock:
            for line in lines:
                out.write(line + "\n")
            out.flush()
        return pb.ExportLogsServiceResponse()

    handler = grpc.method_handlers_generic_handler(
        "opentelemetry.proto.collector.logs.v1.LogsService",
        {"Export": grpc.unary_unary_rpc_method_handler(
            export, request_deserializer=pb.ExportLogsServiceRequest.FromString,
            response_serializer=pb.ExportLogsServiceResponse.SerializeToString)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    if server.add_insecure_port(f"127.0.0.1:{args.port}") == 0:
        sys.exit(f"otlp_dump_receiver: cannot bind 127.0.0.1:{args.port}")
    server.start()
    print(f"otlp_dump_receiver: grpc on 127.0.0.1:{args.port}", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
