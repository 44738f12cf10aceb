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

# Target layout (why: the `meshlog` binary must not link gRPC/protobuf/OpenSSL, see otlp_plugin.h):
#   meshlog_netsink_base  io_thread, backoff (+ bounded_queue.h)  PIC, no gRPC: used by both sides
#   meshlog_netsink       TCP sink, registry, OTLP plugin loader   linked into `meshlog`
#   meshlog_otlp          OtlpSink, encoder, retry, gRPC + HTTP transports, protos (PIC, static):
#                         linked directly by the unit tests, benchmarks and meshlog_netsink_driver
#   meshlog-otlp          MODULE meshlog-otlp.so = meshlog_otlp + otlp_plugin.cc, written next to
#                         the `meshlog` binary (build/<preset>/src/cli/) and dlopen()ed by it
set_target_properties(meshlog_otlp_proto PROPERTIES POSITION_INDEPENDENT_CODE ON)

meshlog_library(NAME netsink_base SRCS backoff.cc io_thread.cc DEPS meshlog_sink_api Boost::headers Threads::Threads)
set_target_properties(meshlog_netsink_base PROPERTIES POSITION_INDEPENDENT_CODE ON)

# The plugin ABI string: project version + hash of every header whose types cross the boundary,
# of the compiler and of the build flavour. Re-configured whenever one of those headers changes.
set(meshlog_otlp_abi_headers
  ${PROJECT_SOURCE_DIR}/src/sink/otlp_plugin.h
  ${PROJECT_SOURCE_DIR}/src/sink/otlp_config.h
  ${PROJECT_SOURCE_DIR}/src/sink/backoff.h
  ${PROJECT_SOURCE_DIR}/src/sink/sink.h
  ${PROJECT_SOURCE_DIR}/src/common/stats.h
  ${PROJECT_SOURCE_DIR}/src/format/otel_value.h
  ${PROJECT_SOURCE_DIR}/src/format/stream_info.h)
set(abi_input "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION} ${CMAKE_BUILD_TYPE} ${CMAKE_CXX_FLAGS} sanitize=${MESHLOG_SANITIZE} fuzz=${MESHLOG_FUZZ}")
foreach(h ${meshlog_otlp_abi_headers})
  file(READ ${h} content)
  string(APPEND abi_input "\n${h}\n${content}")
endforeach()
string(SHA256 abi_hash "${abi_input}")
string(SUBSTRING ${abi_hash} 0 16 abi_hash)
set(MESHLOG_OTLP_PLUGIN_ABI "${PROJECT_VERSION}+${abi_hash}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${meshlog_otlp_abi_headers})
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/otlp_plugin_abi.h.in ${PROJECT_BINARY_DIR}/src/sink/otlp_plugin_abi.h @ONLY)

meshlog_library(NAME netsink
  SRCS tcp_sink.cc netsink_registry.cc otlp_plugin_loader.cc
  DEPS meshlog_netsink_base ${CMAKE_DL_LIBS})

meshlog_library(NAME otlp
  SRCS otlp_encoder.cc otlp_retry.cc otlp_sink.cc otlp_grpc_transport.cc otlp_http_transport.cc
  DEPS meshlog_netsink_base meshlog_otlp_proto)
set_target_properties(meshlog_otlp PROPERTIES POSITION_INDEPENDENT_CODE ON)
# -fPIC alone would let the compiler assume every global function may be interposed and stop it
# from inlining e.g. the encoder's helpers into OtlpSink::push(); the plugin exports nothing but
# its entry point, so nothing can be interposed: keep the same code as the (-fPIE) executables.
target_compile_options(meshlog_otlp PRIVATE -fno-semantic-interposition)

# The plugin. Only `meshlog_otlp_plugin` is exported (otlp_plugin.map; hidden visibility,
# --exclude-libs), so its copies of Asio's statics never bind to the binary's or vice versa.
add_library(meshlog-otlp MODULE otlp_plugin.cc)
target_link_libraries(meshlog-otlp PRIVATE meshlog_otlp)
target_link_options(meshlog-otlp PRIVATE -Wl,--exclude-libs,ALL
                    -Wl,--version-script=${CMAKE_CURRENT_SOURCE_DIR}/otlp_plugin.map)
set_property(TARGET meshlog-otlp APPEND PROPERTY LINK_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/otlp_plugin.map)
set_target_properties(meshlog-otlp PROPERTIES
  PREFIX "" OUTPUT_NAME meshlog-otlp SUFFIX ".so"
  CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
  LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/src/cli)
install(TARGETS meshlog-otlp LIBRARY DESTINATION lib/meshlog)

meshlog_test(NAME netsink_bounded_queue_test SRCS bounded_queue_test.cc DEPS meshlog_netsink_base)
meshlog_test(NAME netsink_backoff_test SRCS backoff_test.cc DEPS meshlog_netsink_base)
meshlog_test(NAME netsink_tcp_sink_test SRCS tcp_sink_test.cc DEPS meshlog_netsink)
meshlog_test(NAME netsink_otlp_encoder_test SRCS otlp_encoder_test.cc DEPS meshlog_otlp)
meshlog_test(NAME netsink_otlp_retry_test SRCS otlp_retry_test.cc DEPS meshlog_otlp)
meshlog_test(NAME netsink_otlp_sink_test SRCS otlp_sink_test.cc DEPS meshlog_otlp)
meshlog_test(NAME netsink_registry_test SRCS netsink_registry_test.cc DEPS meshlog_netsink meshlog_otlp)
meshlog_test(NAME netsink_otlp_http_transport_test SRCS otlp_http_transport_test.cc DEPS meshlog_otlp)
meshlog_test(NAME netsink_otlp_grpc_transport_test SRCS otlp_grpc_transport_test.cc DEPS meshlog_otlp)

# The loader against the real plugin, a plugin of another ABI and an empty directory.
if(MESHLOG_TESTS)
  add_library(meshlog_otlp_test_wrong_abi MODULE otlp_plugin_loader_test_plugin.cc)
  set_target_properties(meshlog_otlp_test_wrong_abi PROPERTIES
    PREFIX "" OUTPUT_NAME meshlog-otlp SUFFIX ".so"
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/plugin_wrong_abi)
  target_include_directories(meshlog_otlp_test_wrong_abi PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(meshlog_otlp_test_wrong_abi PRIVATE Boost::headers)
endif()
meshlog_test(NAME netsink_otlp_plugin_loader_test SRCS otlp_plugin_loader_test.cc DEPS meshlog_netsink)
if(TARGET netsink_otlp_plugin_loader_test)
  add_dependencies(netsink_otlp_plugin_loader_test meshlog-otlp meshlog_otlp_test_wrong_abi)
  target_compile_definitions(netsink_otlp_plugin_loader_test PRIVATE
    MESHLOG_TEST_PROJECT_VERSION="${PROJECT_VERSION}"
    MESHLOG_TEST_PLUGIN_DIR="$<TARGET_FILE_DIR:meshlog-otlp>"
    MESHLOG_TEST_WRONG_ABI_PLUGIN_DIR="$<TARGET_FILE_DIR:meshlog_otlp_test_wrong_abi>")
endif()

# Drives a sink from the command line; used by tests/integration/test_tcp_sink* / test_otlp*
# and by bench/sinks/.
add_executable(meshlog_netsink_driver netsink_driver.cc)
target_link_libraries(meshlog_netsink_driver PRIVATE meshlog_netsink meshlog_otlp CLI11::CLI11)

meshlog_benchmark(NAME netsink_tcp_sink_benchmark SRCS tcp_sink_benchmark.cc DEPS meshlog_netsink)
meshlog_benchmark(NAME netsink_otlp_sink_benchmark SRCS otlp_sink_benchmark.cc DEPS meshlog_otlp)

# OtelSink::push() linked in vs through the plugin (otlp_push_benchmark.cc).
meshlog_benchmark(NAME netsink_otlp_push_linked_benchmark SRCS otlp_push_benchmark.cc DEPS meshlog_otlp)
meshlog_benchmark(NAME netsink_otlp_push_plugin_benchmark SRCS otlp_push_benchmark.cc DEPS meshlog_netsink)
if(TARGET netsink_otlp_push_plugin_benchmark)
  target_compile_definitions(netsink_otlp_push_linked_benchmark PRIVATE MESHLOG_PUSH_LINKED)
  target_compile_definitions(netsink_otlp_push_plugin_benchmark PRIVATE
    MESHLOG_BENCH_PLUGIN_DIR="$<TARGET_FILE_DIR:meshlog-otlp>")
  add_dependencies(netsink_otlp_push_plugin_benchmark meshlog-otlp)
endif()
