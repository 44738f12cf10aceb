# Network backends: TCP and OpenTelemetry (OTLP/gRPC, OTLP/HTTP). Kept in its own file so the
# file-backend targets in CMakeLists.txt and these never touch the same lines.
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)

# The project's own OTLP .proto files (proto/), compiled with Debian's protoc + grpc_cpp_plugin.
set(meshlog_proto_dir ${PROJECT_SOURCE_DIR}/proto)
set(meshlog_proto_gen ${PROJECT_BINARY_DIR}/proto_gen)
set(meshlog_protos
  opentelemetry/proto/common/v1/common.proto
  opentelemetry/proto/resource/v1/resource.proto
  opentelemetry/proto/logs/v1/logs.proto
  opentelemetry/proto/collector/logs/v1/logs_service.proto
  google/rpc/status.proto
  google/rpc/error_details.proto)
set(meshlog_proto_srcs "")
set(meshlog_proto_inputs "")
foreach(p ${meshlog_protos})
  string(REGEX REPLACE "\\.proto$" "" base ${p})
  list(APPEND meshlog_proto_srcs ${meshlog_proto_gen}/${base}.pb.cc ${meshlog_proto_gen}/${base}.pb.h)
  list(APPEND meshlog_proto_inputs ${meshlog_proto_dir}/${p})
endforeach()
set(meshlog_grpc_srcs
  ${meshlog_proto_gen}/opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.cc
  ${meshlog_proto_gen}/opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h)
add_custom_command(
  OUTPUT ${meshlog_proto_srcs} ${meshlog_grpc_srcs}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${meshlog_proto_gen}
  COMMAND protobuf::protoc -I${meshlog_proto_dir} -I${Protobuf_INCLUDE_DIRS} --cpp_out=${meshlog_proto_gen} ${meshlog_protos}
  COMMAND protobuf::protoc -I${meshlog_proto_dir} -I${Protobuf_INCLUDE_DIRS} --grpc_out=${meshlog_proto_gen}
          --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>
          opentelemetry/proto/collector/logs/v1/logs_service.proto
  DEPENDS ${meshlog_proto_inputs}
  WORKING_DIRECTORY ${meshlog_proto_dir}
  COMMENT "protoc: meshlog OTLP protos")
add_library(meshlog_otlp_proto STATIC ${meshlog_proto_srcs} ${meshlog_grpc_srcs})
target_include_directories(meshlog_otlp_proto SYSTEM PUBLIC ${meshlog_proto_gen})
target_link_libraries(meshlog_otlp_proto PUBLIC protobuf::libprotobuf gRPC::grpc++)
target_compile_options(meshlog_otlp_proto PRIVATE -w)  # generated code

meshlog_library(NAME netsink
  SRCS backoff.cc io_thread.cc tcp_sink.cc otlp_encoder.cc otlp_retry.cc otlp_sink.cc otlp_grpc_transport.cc otlp_http_transport.cc netsink_registry.cc
  DEPS meshlog_sink_api meshlog_otlp_proto Boost::headers Threads::Threads)

meshlog_test(NAME netsink_bounded_queue_test SRCS bounded_queue_test.cc DEPS meshlog_netsink)
meshlog_test(NAME netsink_backoff_test SRCS backoff_test.cc DEPS meshlog_netsink)
meshlog_test(NAME netsink_tcp_sink_test SRCS tcp_sink_test.cc DEPS meshlog_netsink)
meshlog_test(NAME netsink_otlp_encoder_test SRCS otlp_encoder_test.cc DEPS meshlog_netsink)
meshlog_test(NAME netsink_otlp_retry_test SRCS otlp_retry_test.cc DEPS meshlog_netsink)
meshlog_test(NAME netsink_otlp_sink_test SRCS otlp_sink_test.cc DEPS meshlog_netsink)
meshlog_test(NAME netsink_registry_test SRCS netsink_registry_test.cc DEPS meshlog_netsink)
meshlog_test(NAME netsink_otlp_http_transport_test SRCS otlp_http_transport_test.cc DEPS meshlog_netsink)
meshlog_test(NAME netsink_otlp_grpc_transport_test SRCS otlp_grpc_transport_test.cc DEPS meshlog_netsink)

# Drives a sink from the command line; used by tests/integration/test_tcp_sink* / test_otlp*
# and by bench/sinks/.
add_executable(meshlog_netsink_driver netsink_driver.cc)
target_link_libraries(meshlog_netsink_driver PRIVATE meshlog_netsink CLI11::CLI11)

meshlog_benchmark(NAME netsink_tcp_sink_benchmark SRCS tcp_sink_benchmark.cc DEPS meshlog_netsink)
meshlog_benchmark(NAME netsink_otlp_sink_benchmark SRCS otlp_sink_benchmark.cc DEPS meshlog_netsink)
